/* Pipeline: the one poll loop that moves changes from the source through the sink. */
#ifndef TABLECAST_SRC_PIPELINE_H
#define TABLECAST_SRC_PIPELINE_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"

struct RunOptions {
	const struct Config *cfg;
	bool recreate_slot;
	/* Set by the signal handler: stop reading, flush, confirm, return. */
	volatile sig_atomic_t *stop;
	/*
	 * Set by SIGHUP: load config_path again at the next transaction
	 * boundary; events, CloudEvents settings, the dead-letter topic and
	 * the log level change live, a broken file keeps the running one.
	 */
	volatile sig_atomic_t *reload;
	const char *config_path;
	/*
	 * run --resync-table: tables whose re-creation or publication gap the
	 * operator accepts; each is backfilled when source.signal_table is set.
	 */
	char **resync_tables;
	size_t nresync_tables;
	/* tablecast snapshot: take a snapshot (even of an existing slot), then stop. */
	bool snapshot_only;
};

/*
 * Stream until stopped. Returns 0 after a clean stop, 1 when a fatal error
 * (already logged) ended the run.
 */
int pipe_run(const struct RunOptions *opts) __attribute__((warn_unused_result));

#endif
