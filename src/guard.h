/* Guard: the tables events read are still the same relations, and still in the publication. */
#ifndef TABLECAST_SRC_GUARD_H
#define TABLECAST_SRC_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "contract.h"

/*
 * pgoutput says nothing when a table leaves the publication: DROP TABLE +
 * CREATE TABLE of the same name drops it from a FOR TABLE publication, and
 * ALTER PUBLICATION ... DROP TABLE does so directly. Its rows then simply
 * never arrive, and a client that goes on confirming the slot loses them
 * for good. Only the catalog shows it, so the guard asks, on an ordinary
 * connection, at start, on every reconnect and every
 * source.guard_interval: for every table an event reads, its OID (compared
 * with the one in the contract record) and whether the publication has it.
 *
 * Slot safety: each check first reads pg_current_wal_lsn(), then the
 * catalog. A change that breaks membership is committed at some LSN D; a
 * check that reads L and then finds the catalog fine shows D >= L, except
 * for a commit whose record is written but not yet visible (microseconds
 * to a WAL flush). So checks come in pairs: L becomes the confirm limit
 * only once a second check, at least 300 ms later, finds the catalog fine
 * as well; until then the previous limit stays. The slot's position
 * therefore lags by up to one interval and a pair. The slot is never confirmed past the
 * limit, so when a check does find a problem, every row that may be
 * missing lies after what PostgreSQL was told, and the gap (its first
 * LSN, the limit) is kept in the record until the operator resyncs.
 */
typedef struct Guard Guard;

/*
 * A guard for the tables cfg's events read, recording in ctr (owned by the
 * caller). resync: tables whose new OID or publication gap the operator
 * accepts (run --resync-table), each queued for a backfill when
 * source.signal_table is set.
 */
Guard *grd_new(const struct Config *cfg, Contract *ctr, char **resync, size_t nresync);
void grd_free(Guard *g);

enum grd_status {
	GRD_OK = 0,
	GRD_UNKNOWN = 1, /* the catalog could not be read: the limit stays, try again later */
	/*
	 * The server cannot be reached (no connection, or it was closed): the
	 * limit stays, so the replication connection must go too. A walsender
	 * that is shutting down waits for its client to confirm everything it
	 * sent, and held at the limit it would block the server's stop.
	 */
	GRD_UNREACHABLE = 2,
	GRD_HALT = -1,  /* a table left the publication or was re-created: err says which and how to
	                   fix it */
	GRD_FATAL = -2, /* the record cannot be written */
};

/* Check now (a short blocking query). The message of a halt or failure goes to err. */
enum grd_status grd_check(Guard *g, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Check twice, at least a moment apart, so that everything before the
 * first check's WAL position may be confirmed: before a clean stop and
 * before a halt for another reason.
 */
enum grd_status grd_fence(Guard *g, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Milliseconds until the next check: soon when a pair is half done, else interval_ms. */
int grd_next_check_ms(const Guard *g, int interval_ms);

/* The highest LSN that may be confirmed; UINT64_MAX when no table is guarded. */
uint64_t grd_limit(const Guard *g);

/* Raise the limit to lsn (the slot's position at start: confirmed before, nothing to guard). */
void grd_start_at(Guard *g, uint64_t lsn);

#endif
