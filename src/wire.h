/* Wire reader: protobuf bytes tablecast produced, back to event field values. */
#ifndef TABLECAST_SRC_WIRE_H
#define TABLECAST_SRC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "value.h"

/*
 * Decode an event message of ev's schema into one Value per field of ev
 * (VAL_NULL when absent, VAL_ARRAY for repeated fields): integers as
 * VAL_INT (uint64 as exact VAL_NUMERIC text), enums as their label,
 * timestamps as VAL_TIMESTAMP, decimal as VAL_NUMERIC, bytes as VAL_BYTEA,
 * other strings as VAL_TEXT pointing into data. False on malformed bytes or
 * a field number ev does not declare.
 */
bool wire_decode_event(const struct EventDef *ev, const uint8_t *data, size_t len, Arena *arena,
                       struct Value *values) __attribute__((warn_unused_result));

/* What a structured-mode record carries. */
struct WireCloudEvent {
	const char *id, *source, *spec_version, *type; /* NUL-terminated copies in the arena */
	const char *type_url; /* proto_data's Any type URL; NULL when the data is not proto_data */
	const uint8_t *data;  /* proto_data's value or binary_data; NULL when absent */
	size_t data_len;
};

/*
 * Read an io.cloudevents.v1.CloudEvent (proto/io/cloudevents/v1/cloudevents.proto):
 * the required attributes and the data, skipping the attributes map.
 * False on malformed bytes or when the arena is exhausted. With a NULL
 * arena only the data is read (the text attributes stay NULL).
 */
bool wire_decode_cloudevent(const uint8_t *data, size_t len, Arena *arena,
                            struct WireCloudEvent *out) __attribute__((warn_unused_result));

/* The event whose ce_type ("<name>.v<version>", len bytes) this is; NULL when none. */
const struct EventDef *wire_event_for_type(const struct Config *cfg, const char *type, size_t len);

#endif
