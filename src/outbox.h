/* The transactional outbox: outbox rows and logical messages as records, payloads checked against their events. */
#ifndef TABLECAST_SRC_OUTBOX_H
#define TABLECAST_SRC_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "pgoutput.h"
#include "relcache.h"

/* pg_logical_emit_message(true, 'tablecast', ...) carries a tablecast.v1.OutboxMessage. */
#define OBX_MESSAGE_PREFIX "tablecast"

/*
 * One outbox record, from a row of an outbox table or from a logical
 * decoding message. Strings are NUL-terminated; everything lives in the
 * arena it was read into.
 */
struct OutboxRecord {
	const char *event; /* full protobuf name */
	int version;
	const char *key; /* NULL: no key */
	size_t key_len;
	const char *subject; /* NULL: no ce_subject */
	const uint8_t *payload; /* the event's protobuf message, as the service encoded it */
	size_t payload_len;
	const char **headers; /* extra Kafka headers: name, value, name, value... */
	size_t nheaders; /* pairs */
};

/*
 * An outbox table row (the new tuple of an insert, text format): the
 * columns event text, version integer, key text NULL, subject text NULL,
 * payload bytea, and optionally headers jsonb NULL (a flat object of
 * strings), found by name; others (id, created_at...) are ignored.
 * Returns 0, or -1 with the reason in err.
 */
int obx_from_row(const struct Relation *rel, const struct PgoTuple *tuple, Arena *arena,
		 struct OutboxRecord *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The content of a logical decoding message: a tablecast.v1.OutboxMessage. As obx_from_row. */
int obx_from_message(const uint8_t *data, size_t len, Arena *arena, struct OutboxRecord *out,
		     char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Whether payload is a message of def as declared: every field number is
 * declared, with its type's wire type (packed allowed for repeated
 * numbers), strings are UTF-8, timestamps are google.protobuf.Timestamp,
 * and every required field is present. Returns 0, or -1 with the first
 * problem in err.
 */
int obx_validate(const struct EventDef *def, const uint8_t *payload, size_t len, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

#endif
