/* Value: one typed SQL value, as column text becomes and expressions compute. */
#ifndef TABLECAST_SRC_VALUE_H
#define TABLECAST_SRC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "pgoutput.h"

enum value_kind {
	VAL_NULL,
	VAL_BOOL, /* b */
	VAL_INT, /* i: int2, int4, int8, oid */
	VAL_NUMERIC, /* s: exact decimal text as PostgreSQL prints it ("-12.50", "NaN") */
	VAL_FLOAT, /* f: float4, float8 */
	VAL_TEXT, /* s: text, varchar, char, name, enum labels, uuid, json, jsonb */
	VAL_BYTEA, /* s: the raw bytes */
	VAL_TIMESTAMP, /* ts: µs since 1970-01-01 UTC; timestamp without time zone is read as UTC */
	VAL_DATE, /* date: days since 1970-01-01 */
	VAL_ARRAY, /* arr: one-dimensional array, elements of one kind (or NULL) */
};

/* ±infinity for timestamps and dates, as PostgreSQL's 'infinity' / '-infinity'. */
#define VAL_TS_INFINITY INT64_MAX
#define VAL_TS_NEG_INFINITY INT64_MIN
#define VAL_DATE_INFINITY INT32_MAX
#define VAL_DATE_NEG_INFINITY INT32_MIN

struct Value {
	enum value_kind kind;
	/* The PostgreSQL type it came from or was cast to (e.g. 2950 uuid for a
	 * VAL_TEXT), 0 for literals whose type is only their kind. */
	uint32_t typoid;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			const char *p; /* not NUL-terminated; lives in the message buffer or an arena */
			size_t len;
		} s;
		int64_t ts;
		int32_t date;
		struct {
			struct Value *elems;
			size_t n;
		} arr;
	};
};

/* Type OIDs from PostgreSQL's pg_type.dat; stable across versions. */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_NAME 19
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_OID 26
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_BPCHAR 1042
#define OID_VARCHAR 1043
#define OID_DATE 1082
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700
#define OID_UUID 2950
#define OID_JSONB 3802

/*
 * Convert one column as pgoutput sent it (text format; the connection uses
 * DateStyle ISO, TimeZone UTC, extra_float_digits 3, bytea_output hex) into a
 * Value of the column's type. Types tablecast does not know (enums, domains
 * over unknown types, ...) become VAL_TEXT. Arrays of known element types
 * ("{1,2,NULL}") become VAL_ARRAY. Strings may point into data; anything
 * built (array elements, decoded bytea) comes from arena.
 * 'n' gives VAL_NULL (typoid kept); 'u' (unchanged TOAST) must be handled by the caller.
 * Returns 0, or -1 with a one-line reason in err.
 */
int value_from_column(const struct PgoValue *col, uint32_t typoid, Arena *arena, struct Value *out,
		      char *err, size_t errlen) __attribute__((warn_unused_result));

/* The array element type of an array type OID, or 0 when typoid is not a known array type. */
uint32_t value_array_element_type(uint32_t typoid);

/*
 * The kind a value of this type becomes: VAL_ARRAY for known array types,
 * VAL_TEXT for types tablecast does not know, VAL_NULL for typoid 0.
 * value_from_column gives a SQL NULL as VAL_NULL with typoid set, so the
 * type of a NULL column is still known.
 */
enum value_kind value_kind_of_type(uint32_t typoid);

/* A short name for messages: "boolean", "integer", "numeric", "text", ... */
const char *value_kind_name(enum value_kind kind);

/* The SQL name of a type for messages ("bigint", "timestamp with time zone"), or NULL if unknown. */
const char *value_type_name(uint32_t typoid);

/*
 * Parse text the way PostgreSQL's input function for typoid does (also
 * used for casts from text): value_from_column for a text column. Unknown
 * types become VAL_TEXT. Text values point into text; anything built comes
 * from arena. Returns 0, or -1 with e.g. `invalid input syntax for type
 * bigint: "12x"` in err.
 */
int value_parse(const char *text, size_t len, uint32_t typoid, Arena *arena, struct Value *out,
		char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The text PostgreSQL's output function prints for v (bool "t"/"f", bytea
 * "\x0a0b", arrays "{1,NULL,\"a b\"}", timestamptz with "+00"). NULL has no
 * text: *text is NULL. Returns 0, or -1 when the arena is exhausted.
 */
int value_to_text(const struct Value *v, Arena *arena, const char **text, size_t *len)
	__attribute__((warn_unused_result));

/* Buffer sizes for the formatters below, terminating NUL included. */
#define VALUE_TS_BUFSIZE 48
#define VALUE_FLOAT_BUFSIZE 32

/*
 * µs since 1970-01-01 UTC as PostgreSQL prints it with DateStyle ISO and
 * TimeZone UTC: "2026-11-21 05:41:41.240664" (fraction without trailing
 * zeros, none when whole), "+00" appended when with_tz, " BC" for years
 * before 1, "infinity"/"-infinity". Returns the length written.
 */
size_t value_format_timestamp(int64_t ts, bool with_tz, char buf[VALUE_TS_BUFSIZE]);

/* Days since 1970-01-01 as "2026-11-21", "0044-03-15 BC", "infinity". Returns the length. */
size_t value_format_date(int32_t days, char buf[VALUE_TS_BUFSIZE]);

/*
 * A float8 (or a float4 when is_float4) the way PostgreSQL 12+ prints it:
 * the shortest text that reads back exactly, "1.5", "1e+30", "NaN",
 * "Infinity", "-Infinity". Returns the length.
 */
size_t value_format_float(double f, bool is_float4, char buf[VALUE_FLOAT_BUFSIZE]);

/* Room for any int64 in decimal, with its sign and a NUL. */
#define VALUE_INT_BUFSIZE 21

/*
 * i in decimal, as "%" PRId64 prints it, NUL-terminated; returns the length.
 * For the hot paths (keys, subjects, text casts), where printf costs more
 * than the rest of the conversion.
 */
size_t value_format_int(int64_t i, char buf[VALUE_INT_BUFSIZE]);

/* Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0). */
int64_t value_days_from_civil(int64_t year, unsigned month, unsigned day);

/* The inverse of value_days_from_civil. */
void value_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* The value of one hexadecimal digit, or -1. */
int value_hex_digit(char c);

#endif
