/* Snapshot: every existing row of the snapshot tables as events, before streaming starts. */
#ifndef TABLECAST_SRC_SNAPSHOT_H
#define TABLECAST_SRC_SNAPSHOT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "translator.h"

/*
 * The tables with events declared on = ["snapshot"] are read with COPY by
 * source.snapshot_workers connections that share one snapshot, in chunks
 * of pages (ctid ranges), and every row goes through those events. The
 * slot is not read meanwhile: streaming starts at its consistent point
 * afterwards, so for every key the last event is the row's latest state.
 *
 * <state_dir>/<slot>.snapshot says a snapshot is owed. It is written
 * before the slot is created and removed when every chunk is acknowledged
 * by the sink; each acknowledged chunk appends a line. After a crash the
 * snapshot resumes: acknowledged chunks are skipped, the rest is read
 * under a new snapshot. That is still exact, because the slot's position
 * did not move, so every change since the first snapshot streams after it
 * (a chunk of a table rewritten since, by VACUUM FULL or CLUSTER, is read
 * again).
 */
typedef struct Snapshot Snapshot;

/* How the snapshot reaches the sink; the pipeline owns the checkpoint ring. */
struct SnapshotIo {
	void *ctx;
	bool (*full)(void *ctx); /* no room for another chunk in flight */
	uint64_t (*begin)(void *ctx); /* a chunk starts: its ring sequence number */
	int (*produce)(void *ctx, const struct Event *ev, uint64_t seq, char *err, size_t errlen);
	int (*end)(void *ctx, uint64_t seq, char *err, size_t errlen); /* the chunk is read */
	uint64_t (*oldest)(void *ctx); /* every sequence number below it is acknowledged */
	/*
	 * produce needs no more of an event than its record (not def or
	 * values): the workers copy events into batches and the main thread
	 * produces them. Otherwise each worker produces its events itself,
	 * under the snapshot's lock.
	 */
	bool batch;
};

struct SnapshotOptions {
	const struct Config *cfg;
	const char *exported; /* the new slot's exported snapshot; NULL: take a fresh one */
	struct SnapshotIo io;
};

struct SnapshotStats {
	uint64_t rows; /* read and translated */
	double rows_estimate; /* from the planner's statistics; 0 when unknown */
	size_t chunks, chunks_done; /* done: acknowledged, including earlier runs */
	size_t tables;
};

/* Is a snapshot owed for cfg's slot? */
bool snap_pending(const struct Config *cfg);

/* Owe one: write the marker (kept if present). Returns 0, or -1 with err. */
int snap_mark_pending(const struct Config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * May the role read every table a snapshot reads? Checked before the slot
 * is created, so a refused snapshot leaves nothing behind. Returns 0, or -1
 * with err naming the table and the GRANT.
 */
int snap_check(const struct Config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Connect the workers, import or take the snapshot, plan the chunks and
 * skip those an earlier run finished. NULL with err on failure (retry
 * later: nothing was emitted).
 */
Snapshot *snap_open(const struct SnapshotOptions *opts, char *err, size_t errlen);
void snap_close(Snapshot *snap);

/*
 * Each connection has a thread that reads, translates and encodes its
 * chunks; they hand events to opts.io under a lock that the caller holds
 * from snap_open until snap_close, except between snap_release and
 * snap_acquire. Release it only around the poll loop's wait, and reach the
 * sink, the checkpoint ring or anything else opts.io touches only while
 * holding it.
 */
void snap_release(Snapshot *snap);
void snap_acquire(Snapshot *snap);

/* What to poll for reading (a worker finished a chunk); at most max. */
int snap_pollfds(const Snapshot *snap, struct pollfd *pfd, int max);

/*
 * End the chunks workers finished, start new ones, record acknowledged ones.
 * Returns 1 when every chunk is acknowledged (the marker is gone), 0 when
 * there is more, -1 with err (the run stops; the next start resumes).
 */
int snap_work(Snapshot *snap, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The run stops: produce nothing more (what was produced and not
 * acknowledged is about to be forgotten by the ring), and record the chunks
 * the sink acknowledged so far. Returns 0, or -1 with err.
 */
int snap_finish(Snapshot *snap, char *err, size_t errlen) __attribute__((warn_unused_result));

const struct SnapshotStats *snap_stats(const Snapshot *snap);

#endif
