/* Field types and identifiers, as the configuration, the lock file and the .proto files spell them. */
#ifndef TABLECAST_SRC_FIELD_H
#define TABLECAST_SRC_FIELD_H

#include <stdbool.h>
#include <stddef.h>

/* Protobuf field types an event field can declare. */
enum field_type {
	FT_INT32,
	FT_INT64,
	FT_UINT32,
	FT_UINT64,
	FT_SINT32,
	FT_SINT64,
	FT_BOOL,
	FT_FLOAT,
	FT_DOUBLE,
	FT_STRING,
	FT_BYTES,
	FT_TIMESTAMP, /* google.protobuf.Timestamp */
	FT_DATE, /* string "YYYY-MM-DD" */
	FT_DECIMAL, /* string: exact numeric text, never through a double */
	FT_JSON, /* string holding the JSON text */
	FT_UUID, /* string, canonical 8-4-4-4-12 form */
	FT_ENUM, /* proto enum: enum_values[i] is number i + 1; 0 is UNSPECIFIED */
};

/* The configuration's name of a field type ("int32", "timestamp", "enum", ...). */
const char *field_type_name(enum field_type type);

/* The field type a name stands for (a name field_type_name gives); false when none. */
bool field_type_parse(const char *name, enum field_type *out) __attribute__((warn_unused_result));

/* A protobuf identifier, [A-Za-z_][A-Za-z0-9_]*: the len bytes at s. */
bool field_is_identifier(const char *s, size_t len);

#endif
