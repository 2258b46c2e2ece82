/* Verify: the latest event per key on Kafka against the table's rows at one consistent point. */
#ifndef TABLECAST_SRC_VERIFY_H
#define TABLECAST_SRC_VERIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/*
 * An event declared on = ["snapshot"] carries a row's whole state, so the
 * latest such event of every key on Kafka must equal the table's row
 * translated through the same definition now; a key whose latest event is
 * one of the table's delete events (or a tombstone) must have no row.
 * Both sides are read at one point X of the WAL: the table under a
 * snapshot that sees exactly the transactions committed before X, the
 * topic up to its end once the running tablecast has confirmed X, counting
 * only the events of transactions committed before X.
 */
struct VerifyOptions {
	const struct Config *cfg;
	const char *event; /* only this event name (any version); NULL: every snapshot event */
	int sample; /* keys of each kind shown with their field differences */
	int timeout_ms; /* for the slot to confirm X */
	volatile sig_atomic_t *stop;
	FILE *out; /* the report */
};

/* Per verified event: keys by outcome. */
struct VerifyCounts {
	uint64_t equal; /* latest event equals the row's */
	uint64_t missing; /* a row whose event is not the latest of its key (or is deleted) */
	uint64_t extra; /* a key whose latest event is a state, without a row */
	uint64_t different; /* both, with different payloads */
	uint64_t deleted; /* latest event a delete, no row: as it should be */
	uint64_t untranslatable; /* rows that cannot become the event */
	uint64_t table_duplicates; /* rows whose key another row already had */
};

/*
 * Verify, writing the report to opts->out. Returns 1 when every verified
 * event is equal, 0 when a difference was found, -1 with err when the
 * verification could not run, -2 with err for a usage error (no such
 * snapshot event, an event without a key).
 */
int verify_run(const struct VerifyOptions *opts, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
