/* pgoutput decoder: replication CopyData frames and pgoutput messages, bytes to structs. */
#ifndef TABLECAST_SRC_PGOUTPUT_H
#define TABLECAST_SRC_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/*
 * Everything here is pure: no I/O, and the only memory used is the caller's
 * arena. Strings and column values point into the input buffer, so a decoded
 * message is valid only as long as that buffer (and the arena) are.
 */

/* Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch. */
#define PGO_EPOCH_OFFSET_US INT64_C(946684800000000)

/* A CopyData frame on a START_REPLICATION stream. */
struct PgoFrame {
	char kind; /* 'w' XLogData or 'k' primary keepalive */
	uint64_t wal_start; /* 'w': LSN where the payload starts */
	uint64_t wal_end; /* server's current end of WAL */
	int64_t send_time; /* µs since 2000-01-01 */
	bool reply_requested; /* 'k': answer at once or be timed out */
	const uint8_t *data; /* 'w': the pgoutput message */
	size_t len;
};

/* One column value inside a TupleData. */
struct PgoValue {
	char kind; /* 'n' null, 'u' unchanged TOAST (no data), 't' text, 'b' binary */
	uint32_t len;
	const uint8_t *data; /* not NUL-terminated */
};

struct PgoTuple {
	uint16_t ncols;
	struct PgoValue *cols;
};

/* Column flag in a Relation message: part of the replica identity key. */
#define PGO_ATT_KEY 1

struct PgoColumn {
	uint8_t flags;
	const char *name;
	uint32_t typoid;
	int32_t typmod;
};

/* Truncate options */
#define PGO_TRUNCATE_CASCADE 1
#define PGO_TRUNCATE_RESTART_IDENTITY 2

/* Logical decoding message flag */
#define PGO_MESSAGE_TRANSACTIONAL 1

struct PgoMessage {
	char kind; /* B C O R Y I U D T M */
	union {
		struct {
			uint64_t final_lsn;
			int64_t commit_time;
			uint32_t xid;
		} begin;
		struct {
			uint8_t flags;
			uint64_t commit_lsn;
			uint64_t end_lsn;
			int64_t commit_time;
		} commit;
		struct {
			uint64_t commit_lsn;
			const char *name;
		} origin;
		struct {
			uint32_t relid;
			const char *nspname;
			const char *relname;
			char replident; /* d default, n nothing, f full, i index */
			uint16_t natts;
			struct PgoColumn *atts;
		} relation;
		struct {
			uint32_t typoid;
			const char *nspname;
			const char *typname;
		} type;
		/* I, U and D */
		struct {
			uint32_t relid;
			char old_kind; /* 0 none, 'K' key columns only, 'O' whole old row */
			bool has_new; /* I and U */
			struct PgoTuple old_tuple;
			struct PgoTuple new_tuple;
		} change;
		struct {
			uint32_t nrels;
			uint8_t options;
			uint32_t *relids;
		} truncate;
		struct {
			uint8_t flags;
			uint64_t lsn;
			const char *prefix;
			uint32_t len;
			const uint8_t *content;
		} message;
	};
};

/*
 * Decode one CopyData frame of the replication stream. Returns 0, or -1 with
 * a one-line reason in err (message type and byte offset).
 */
int pgo_decode_frame(const uint8_t *buf, size_t len, struct PgoFrame *out, char *err,
		     size_t errlen) __attribute__((warn_unused_result));

/*
 * Decode one pgoutput message (protocol version 1, no streaming). Column and
 * relid arrays come from arena. Returns 0, or -1 with a one-line reason in
 * err naming the message type and the byte offset of the problem.
 */
int pgo_decode(const uint8_t *buf, size_t len, Arena *arena, struct PgoMessage *out, char *err,
	       size_t errlen) __attribute__((warn_unused_result));

/* Build a standby status update ('r'): 34 bytes into out. */
#define PGO_STATUS_LEN 34
void pgo_encode_status(uint8_t out[PGO_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
		       uint64_t apply_lsn, int64_t now, bool reply_requested);

/* Format an LSN the way PostgreSQL prints it (X/X); buf needs 18 bytes. */
#define PGO_LSN_BUFSIZE 18
const char *pgo_lsn_format(uint64_t lsn, char buf[PGO_LSN_BUFSIZE]);

/* Parse "X/X"; false on anything else. */
bool pgo_lsn_parse(const char *text, uint64_t *out);

#endif
