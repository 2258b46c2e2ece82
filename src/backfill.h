/* Backfill: a table's current rows again while streaming, chunk by chunk between watermarks. */
#ifndef TABLECAST_SRC_BACKFILL_H
#define TABLECAST_SRC_BACKFILL_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pgoutput.h"
#include "relcache.h"
#include "translator.h"

/*
 * A row inserted into source.signal_table with kind 'backfill' asks for a
 * table's rows (optionally those matching a condition) as snapshot events
 * while the stream goes on. They are read in key order, one chunk at a
 * time, between two watermark rows tablecast inserts into the same table
 * (the DBLog technique):
 *
 *   insert low watermark; read the chunk; insert high watermark
 *
 * In the stream, every change of the table between the two watermarks is
 * newer than (or as new as) what the read saw, so the chunk's rows with
 * those keys are dropped and the rest are emitted where the high
 * watermark is. For every key the last event is therefore the row's latest
 * committed state. Requests and the key reached (confirmed to PostgreSQL)
 * are kept in <state_dir>/<slot>.backfill, so a restart resumes.
 */
typedef struct Backfill Backfill;

/* Events go into the transaction being read (the pipeline's current ring entry). */
typedef int (*bf_produce_fn)(void *ctx, const struct Event *ev, char *err, size_t errlen);

struct BackfillStats {
	uint64_t rows; /* emitted */
	uint64_t skipped; /* dropped: the stream had a newer change inside the window */
	uint64_t chunks;
	uint64_t completed; /* requests */
	uint64_t failed; /* requests refused or failed: logged once, never retried */
	size_t pending; /* requests waiting or running */
};

/* NULL with err when the state file cannot be read. */
Backfill *bf_new(const struct Config *cfg, bf_produce_fn produce, void *ctx, char *err,
		 size_t errlen);
void bf_free(Backfill *bf);

/*
 * Check the signal table on conn: it exists and is in the publication, or
 * source.create_publication allows making it so and the role may; the role
 * may SELECT, INSERT and DELETE its rows and use its id sequence. create
 * and publish say what bf_prepare would do. Returns 0, or -1 with err
 * saying what to grant or create.
 */
struct pg_conn; /* libpq's PGconn, which main.c does not include */
int bf_check(struct pg_conn *conn, const struct Config *cfg, bool *create, bool *publish, char *err,
	     size_t errlen) __attribute__((warn_unused_result));

/*
 * Check the signal table (bf_check) and, with create_objects, create it
 * and add it to the publication as needed. Run without before anything is
 * created on the server, with it once the publication exists. Returns 0,
 * or -1 with err.
 */
int bf_prepare(Backfill *bf, bool create_objects, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Is rel the signal table? Its rows are never translated. */
bool bf_is_signal(const Backfill *bf, const struct Relation *rel);

/*
 * An insert into the signal table: a request (kept), or one of our
 * watermarks (opens or closes a window; a high one emits the chunk).
 * Returns 0, or -1 with err when emitting failed.
 */
int bf_signal(Backfill *bf, const struct Relation *rel, const struct PgoMessage *msg, char *err,
	      size_t errlen) __attribute__((warn_unused_result));

/* Any other change: inside an open window, its keys make the chunk's rows stale. */
void bf_change(Backfill *bf, const struct Relation *rel, const struct PgoMessage *msg);

/* COMMIT of the transaction just read, ending at end_lsn. */
void bf_commit(Backfill *bf, uint64_t end_lsn);

/* The stream restarts from the confirmed position: chunks not confirmed are read again. */
void bf_reset(Backfill *bf);

/* The socket to poll (-1 when nothing is asked of the server). */
int bf_socket(const Backfill *bf);

/*
 * Drive the backfill connection; confirmed is the LSN PostgreSQL has been
 * told, up to which progress is kept. Returns 0, or -1 with err (fatal).
 */
int bf_work(Backfill *bf, uint64_t confirmed, char *err, size_t errlen)
	__attribute__((warn_unused_result));

const struct BackfillStats *bf_stats(const Backfill *bf);

/*
 * tablecast backfill: check the request (table, condition) and insert its
 * row. Returns the signal id (> 0), -2 with err for a request that cannot
 * be made (exit 2), or -1 with err when the database said no.
 */
long long bf_request(const struct Config *cfg, const char *table, const char *condition,
		     char *err, size_t errlen);

/*
 * tablecast backfill --status: print the requests in the signal table
 * (request id, or all with id 0) with their status, row counts, times and
 * reason. With wait_s > 0 and an id, first wait up to wait_s seconds for
 * the request to end. Returns 0 (when waiting: it is done), 1 (when
 * waiting: refused, failed or still running), -2 with err for a request
 * that does not exist or no signal table, -1 with err on a database error.
 */
int bf_status(const struct Config *cfg, long long id, int wait_s, FILE *out, char *err,
	      size_t errlen) __attribute__((warn_unused_result));

#endif
