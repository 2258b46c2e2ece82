/* Configuration: load and validate a libconfig file into plain settings. */
#ifndef TABLECAST_SRC_CONFIG_H
#define TABLECAST_SRC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

enum sink_type { SINK_STDOUT, SINK_FILE };

struct Config {
	char *path; /* the file it came from */
	enum log_level log_level;
	char *state_dir; /* where slot identity is remembered */

	struct {
		char *conninfo;
		char *slot;
		char *publication;
		bool create_slot; /* create the slot when it has never existed */
		bool create_publication; /* create the publication when missing */
		char **tables; /* for a created publication; NULL = FOR ALL TABLES */
		size_t ntables;
		int status_interval_ms;
		int max_in_flight; /* transactions waiting for acknowledgement */
	} source;

	struct {
		enum sink_type type;
		char *path; /* SINK_FILE */
	} sink;
};

/*
 * Load and validate path. On error returns NULL with "file:line: reason" in
 * err; the caller exits 2.
 */
struct Config *cfg_load(const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void cfg_free(struct Config *cfg);

#endif
