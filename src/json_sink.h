/* JSON sink: raw changes as JSON lines on stdout or a file, for development. */
#ifndef TABLECAST_SRC_JSON_SINK_H
#define TABLECAST_SRC_JSON_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pgoutput.h"
#include "relcache.h"
#include "translator.h"

/*
 * One line per change:
 *   {"lsn":"0/16B3748","xid":741,"commit_time":"2026-11-21T05:30:00.000001Z",
 *    "relation":"public.orders","op":"update","key":{...},"old":{...},
 *    "new":{...},"unchanged_toast":["body"]}
 * Integers and booleans are JSON numbers and booleans, json/jsonb values are
 * embedded as JSON, everything else (numeric included) is a string, exactly
 * as PostgreSQL printed it. Unchanged TOASTed columns carry no value in the
 * stream; they are listed in "unchanged_toast" and left out of "new".
 *
 * Writing is synchronous: a line counts as delivered once jsink_flush has
 * returned 0 after it.
 */
typedef struct JsonSink JsonSink;

/* Where the change sits in the stream. */
struct ChangeOrigin {
	uint64_t lsn;
	uint32_t xid; /* 0 outside a transaction */
	int64_t commit_time; /* µs since 2000-01-01; 0 when unknown */
};

JsonSink *jsink_open(const struct Config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void jsink_close(JsonSink *sink);

/* An I, U or D message of rel. */
int jsink_write_change(JsonSink *sink, const struct ChangeOrigin *origin,
		       const struct Relation *rel, const struct PgoMessage *msg) __attribute__((warn_unused_result));

/* A TRUNCATE of one relation. */
int jsink_write_truncate(JsonSink *sink, const struct ChangeOrigin *origin,
			 const struct Relation *rel, uint8_t options)
	__attribute__((warn_unused_result));

/* A logical decoding message (pg_logical_emit_message). */
int jsink_write_message(JsonSink *sink, const struct ChangeOrigin *origin,
			const struct PgoMessage *msg) __attribute__((warn_unused_result));

/*
 * A translated event: {"topic":..,"key":..,"ce":{id, source, type, time,
 * subject, dataschema},"payload":"<the protobuf bytes, base64>","data":{the
 * payload in the protobuf JSON mapping}}. A dead letter (a
 * tablecast.v1.DeadLetter payload) carries "event" and "error" instead of
 * "data".
 */
int jsink_write_event(JsonSink *sink, const struct Event *ev) __attribute__((warn_unused_result));

/* Push everything written so far to the file; 0, or -1 with err. */
int jsink_flush(JsonSink *sink, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
