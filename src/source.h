/* Replication source: a libpq walsender connection streaming pgoutput from a slot. */
#ifndef TABLECAST_SRC_SOURCE_H
#define TABLECAST_SRC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct Source Source;

/* What went wrong, and whether trying again later can help. */
enum src_status {
	SRC_OK = 0,
	SRC_RETRY = -1, /* connection lost, server restarting: reconnect with backoff */
	SRC_FATAL = -2, /* needs a person: bad credentials, missing slot, invalidated slot */
	SRC_BUSY = -3, /* another process holds the slot or its start-up lock: wait as a standby */
};

struct SourceOptions {
	const struct Config *cfg;
	bool recreate_slot; /* accept a gap: replace a lost or invalidated slot */
	/* A slot created now exports its snapshot, and a snapshot is marked as owed first. */
	bool export_snapshot;
};

/*
 * Connect and check the server (IDENTIFY_SYSTEM, wal_level). Nothing is
 * taken or created: a standby keeps this connection to poll src_acquire.
 * On failure returns SRC_RETRY or SRC_FATAL with one line in err.
 */
enum src_status src_connect(const struct SourceOptions *opts, Source **out, char *err,
			    size_t errlen) __attribute__((warn_unused_result));

/*
 * Active/standby: take the slot's start-up lock (a session advisory lock,
 * held until the connection closes), then check the publication and the
 * slot and create what config allows; nothing is created unless every
 * check passed. Returns SRC_BUSY when another process holds the lock or
 * streams the slot: no change was made on the server, and the caller may
 * ask again later on the same connection. holder, unless NULL, then names
 * that process (a query of pg_locks, which a standby's every poll need not
 * repeat).
 */
enum src_status src_acquire(Source *src, char *holder, size_t holderlen, char *err,
			    size_t errlen) __attribute__((warn_unused_result));

/*
 * The snapshot the slot exported when src_open created it (valid until
 * src_start), or NULL.
 */
const char *src_exported_snapshot(const Source *src);

/*
 * START_REPLICATION from the slot's confirmed position. SRC_BUSY when
 * another connection streams the slot (SQLSTATE 55006), the server's line
 * in err.
 */
enum src_status src_start(Source *src, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void src_close(Source *src);

/* The socket to poll. */
int src_socket(const Source *src);

/* The slot's confirmed_flush_lsn when streaming started. */
uint64_t src_start_lsn(const Source *src);

/* IDENTIFY_SYSTEM's system identifier, timeline and WAL flush position, at connect. */
uint64_t src_system_id(const Source *src);
uint32_t src_timeline(const Source *src);
uint64_t src_server_lsn(const Source *src);

/* True when src_open created the slot: nothing before its consistent point is owed. */
bool src_created_slot(const Source *src);

/* Read what the socket has; call when it is readable. */
enum src_status src_consume(Source *src, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The next complete CopyData frame, valid until the next call. Returns 1
 * with a frame, 0 when none is buffered, or a negative enum src_status when
 * the stream ended.
 */
int src_next(Source *src, const uint8_t **data, size_t *len, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Send a standby status update; queued if the socket is full. */
enum src_status src_send_status(Source *src, uint64_t write_lsn, uint64_t flush_lsn,
				char *err, size_t errlen) __attribute__((warn_unused_result));

/* Push queued output; true when some is still waiting for the socket to drain. */
bool src_flush(Source *src);

#endif
