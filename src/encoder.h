/* Encoder: event field values to protobuf wire bytes, proto3 JSON and CloudEvents records. */
#ifndef TABLECAST_SRC_ENCODER_H
#define TABLECAST_SRC_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "strbuf.h"
#include "value.h"

/*
 * Everything here is pure: no I/O, and nothing is allocated except the
 * caller's StrBuf growing (reuse it with sb_reset and steady state does not
 * call malloc). Writers append to out; an append that runs out of memory
 * marks out broken (see strbuf.h), which the int-returning functions report.
 */

/* ---- protobuf wire writers, shared with dead-letter and CloudEvent records ---- */

/* The low three bits of a tag. */
enum enc_wire_type {
	ENC_WT_VARINT = 0,  /* int32, int64, uint32, uint64, sint32, sint64, bool, enum */
	ENC_WT_FIXED64 = 1, /* double: 8 bytes little-endian */
	ENC_WT_LEN = 2,     /* varint length, then the bytes: string, bytes, messages, packed */
	ENC_WT_FIXED32 = 5, /* float: 4 bytes little-endian */
};

/* Largest field number protobuf allows (2^29 - 1). */
#define ENC_MAX_FIELD_NUMBER 536870911u

/* Base-128 varint: 7 bits a byte, least significant group first, high bit = more follows. */
void enc_varint(struct StrBuf *out, uint64_t v);
/* Bytes enc_varint writes for v (1..10). */
size_t enc_varint_size(uint64_t v);
/* ZigZag maps signed to unsigned so small magnitudes stay short: 0→0, -1→1, 1→2, -2→3. */
uint32_t enc_zigzag32(int32_t v);
uint64_t enc_zigzag64(int64_t v);
/* Little-endian fixed-width values (float and double bit patterns). */
void enc_fixed32(struct StrBuf *out, uint32_t v);
void enc_fixed64(struct StrBuf *out, uint64_t v);

/* A tag: varint of (number << 3 | wire type). */
void enc_tag(struct StrBuf *out, uint32_t number, enum enc_wire_type wt);
/* Tag (wire type 0), then v as a varint. */
void enc_varint_field(struct StrBuf *out, uint32_t number, uint64_t v);
/* Tag (wire type 2), varint len, then the len bytes of data. */
void enc_len_field(struct StrBuf *out, uint32_t number, const void *data, size_t len);
/* enc_len_field of a NUL-terminated string. */
void enc_string_field(struct StrBuf *out, uint32_t number, const char *s);

/*
 * A nested message (or packed run) whose length is not known up front: write
 * the tag, then the payload, then enc_message_end inserts the length varint
 * in front of the payload. Begin/end pairs nest.
 *	size_t m = enc_message_begin(out, 5);  ...payload...  enc_message_end(out, m);
 */
size_t enc_message_begin(struct StrBuf *out, uint32_t number);
void enc_message_end(struct StrBuf *out, size_t mark);

/*
 * A google.protobuf.Timestamp field: tag, length, then field 1 seconds
 * (int64 varint) and field 2 nanos (int32 varint, 0..999999999), each left
 * out when zero as proto3 serializers do.
 */
void enc_timestamp_field(struct StrBuf *out, uint32_t number, int64_t seconds, int32_t nanos);

/* ---- event messages ---- */

/*
 * Append the event message's protobuf wire encoding; values[i] is
 * ev->fields[i]'s value. Fields go in ascending field-number order; VAL_NULL
 * leaves a field out; a present zero or empty value is written (fields are
 * proto3 optional). Each value is converted to its field's declared type and
 * checked: a value that does not fit is an error naming the field, e.g.
 * field "quantity" (int32): 3000000000 out of range
 * Returns 0, or -1 with the reason in err and out back at its old length.
 */
int enc_protobuf(const struct EventDef *ev, const struct Value *values, struct StrBuf *out,
                 char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The same message in the proto3 JSON mapping, as one compact JSON object:
 * lowerCamelCase names (protoc's json_name), int64/uint64/sint64 as strings,
 * float/double as numbers or "NaN"/"Infinity"/"-Infinity", bytes as base64,
 * timestamps as RFC 3339 UTC with 0, 3, 6 or 9 fractional digits, enums by
 * value name, NULL fields left out, repeated fields as arrays (empty ones
 * left out). Conversions and errors are exactly enc_protobuf's.
 */
int enc_json(const struct EventDef *ev, const struct Value *values, struct StrBuf *out, char *err,
             size_t errlen) __attribute__((warn_unused_result));

/*
 * Whether a value of this kind can be written to such a field at all (what
 * `tablecast check` asks of an expression's inferred kind); a value of an
 * accepted kind may still not fit (range, exactness, syntax). VAL_NULL fits
 * everything; a repeated field takes VAL_ARRAY only.
 */
bool enc_kind_fits(enum field_type type, bool repeated, enum value_kind kind);

/*
 * A timestamp (µs since 1970) as the proto3 JSON mapping writes it: RFC 3339
 * in UTC with 0, 3, 6 or 9 fractional digits, "2026-11-21T05:41:41.250Z".
 * Returns the length written.
 */
#define ENC_TS_BUFSIZE 48
size_t enc_format_timestamp(int64_t unix_us, char buf[ENC_TS_BUFSIZE]);

/*
 * Names the generated .proto and the JSON mapping must agree on (schema.c
 * writes them, the encoder emits them):
 * enc_json_name: protoc's json_name, "order_id" → "orderId" (drop each '_',
 * upper-case the letter after it).
 * enc_enum_value_name: "<FIELD>_<LABEL>" upper-cased, every byte outside
 * [A-Z0-9_] becoming '_': ("status", "in transit") → "STATUS_IN_TRANSIT".
 */
void enc_json_name(struct StrBuf *out, const char *field_name);
void enc_enum_value_name(struct StrBuf *out, const char *field_name, const char *label);

/* ---- CloudEvents structured mode ---- */

/* Context attributes of one event; NULL or "" leaves an optional one out. */
struct CloudEventAttrs {
	const char *id, *source, *type;
	const char *subject;         /* optional: ce_string */
	const char *dataschema;      /* optional: ce_uri */
	const char *datacontenttype; /* NULL = "application/protobuf" */
	int64_t time_us;             /* µs since Unix epoch */
	/*
	 * Extension tablecastsnapshot: "initial" or "backfill" on a row read by
	 * a snapshot (it already existed), NULL on a change from the stream.
	 */
	const char *snapshot;
};

/*
 * Append an io.cloudevents.v1.CloudEvent message (proto/io/cloudevents/v1/cloudevents.proto):
 * id=1, source=2, spec_version=3 "1.0", type=4, attributes=5 (map entries
 * sorted by key: datacontenttype, dataschema, subject, tablecastsnapshot, time),
 * then the data: with a type_url ("type.googleapis.com/shop.orders.v2.OrderShipped")
 * data is that protobuf message and goes in proto_data=8 (google.protobuf.Any
 * {type_url=1, value=2}); without one, in binary_data=6. No data when data is NULL.
 * Returns 0, or -1 when id/source/type is missing or out ran out of memory.
 */
int enc_cloudevent(const struct CloudEventAttrs *attrs, const char *type_url, const void *data,
                   size_t len, struct StrBuf *out) __attribute__((warn_unused_result));

/* The prefix of a google.protobuf.Any type URL, as protobuf's own Any.pack writes it. */
#define ENC_TYPE_URL_PREFIX "type.googleapis.com/"

/*
 * The full protobuf message name of an event version, as schema generate
 * writes it: "shop.orders.OrderShipped" v2 → "shop.orders.v2.OrderShipped".
 * Truncated to fit len like snprintf.
 */
void enc_message_full_name(const struct EventDef *ev, char *buf, size_t len);

#endif
