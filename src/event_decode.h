/* Event payloads back to values: protobuf wire bytes decoded with the configuration's schema. */
#ifndef TABLECAST_SRC_EVENT_DECODE_H
#define TABLECAST_SRC_EVENT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "value.h"

/*
 * Decode an event payload (the protobuf message enc_protobuf writes) into
 * one Value per field of def: VAL_NULL when absent, VAL_ARRAY for repeated
 * fields. Strings point into data; anything else needed comes from arena.
 * False when the bytes do not match def's schema (unknown field number,
 * wrong wire type, truncated).
 */
bool evd_decode(const struct EventDef *def, const uint8_t *data, size_t len, Arena *arena,
		struct Value *values) __attribute__((warn_unused_result));

/* The event whose ce_type ("<name>.v<version>", len bytes) this is; NULL when none. */
const struct EventDef *evd_event_for_type(const struct Config *cfg, const char *type, size_t len);

/*
 * The event message inside a structured-mode record (an
 * io.cloudevents.v1.CloudEvent): its binary_data field (6). False when
 * there is none or the bytes are no CloudEvent.
 */
bool evd_cloudevent_data(const uint8_t *record, size_t len, const uint8_t **data, size_t *datalen)
	__attribute__((warn_unused_result));

#endif
