/* The last halt: why a run stopped for a person, kept in <state_dir>/<slot>.halt. */
#ifndef TABLECAST_SRC_HALT_H
#define TABLECAST_SRC_HALT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct Config;

/* What stopped the run: the runbook (docs/OPERATIONS.md) has a section for each. */
enum halt_kind {
	HALT_OTHER = 0,   /* the slot, the server's settings, credentials, the sink... */
	HALT_TRANSLATION, /* a row that cannot become its event, with on_error = "halt" */
	HALT_PUBLICATION, /* the publication guard: a table re-created or no longer published */
};

struct HaltRecord {
	int64_t time;            /* Unix seconds of the halt */
	enum halt_kind kind;
	uint64_t confirmed_lsn;  /* confirmed to PostgreSQL when it halted */
	char message[1024];      /* the error line, as logged */
};

/* "translation", "publication" or "other". */
const char *halt_kind_name(enum halt_kind kind);

/*
 * Record a halt, replacing the previous record. A process that halts is
 * gone before a scrape or `tablecast status` can ask it why; the record
 * tells the next start (tablecast_halted) and status. Returns 0, or -1 with
 * err set.
 */
int halt_save(const struct Config *cfg, const struct HaltRecord *rec, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Read the record: 1 with rec filled, 0 when there is none, -1 with err set
 * when it exists but cannot be read.
 */
int halt_load(const struct Config *cfg, struct HaltRecord *rec, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Forget the halt: a run got past it. Returns 0, or -1 with err set. */
int halt_clear(const struct Config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
