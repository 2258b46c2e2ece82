/* Unit tests for src/value.c. */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "pgoutput.h"
#include "value.h"
#include "run_suite.h"

#define US_PER_DAY INT64_C(86400000000)

static Arena *arena;
static char err[256];

static void setup(void)
{
	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
	err[0] = '\0';
}

static void teardown(void)
{
	arena_free(arena);
}

/* value_parse of a C string; the assertions name the caller's line. */
#define PARSE(text, oid) parse_ok(text, oid, __LINE__)
#define PARSE_FAILS(text, oid, msg) parse_fails(text, oid, msg, __LINE__)
#define TEXT_OF(v) text_of(v, __LINE__)
#define PARSED_TEXT(text, oid) parsed_text(text, oid, __LINE__)

static struct Value parse_ok(const char *text, uint32_t typoid, int line)
{
	struct Value v;
	int rc = value_parse(text, strlen(text), typoid, arena, &v, err, sizeof(err));
	ck_assert_msg(rc == 0, "line %d: parsing \"%s\" as %u failed: %s", line, text, typoid, err);
	ck_assert_msg(v.typoid == typoid, "line %d: typoid %u, want %u", line, v.typoid, typoid);
	return v;
}

static void parse_fails(const char *text, uint32_t typoid, const char *msg, int line)
{
	struct Value v;
	err[0] = '\0';
	int rc = value_parse(text, strlen(text), typoid, arena, &v, err, sizeof(err));
	ck_assert_msg(rc == -1, "line %d: parsing \"%s\" as %u did not fail", line, text, typoid);
	ck_assert_msg(strcmp(err, msg) == 0, "line %d: \"%s\": error \"%s\", want \"%s\"", line,
	              text, err, msg);
}

/* value_to_text as a NUL-terminated string (NULL for SQL NULL). */
static const char *text_of(const struct Value *v, int line)
{
	const char *t;
	size_t n;
	ck_assert_msg(value_to_text(v, arena, &t, &n) == 0, "line %d: value_to_text failed", line);
	if (!t)
		return NULL;
	char *s = arena_alloc(arena, n + 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, t, n);
	s[n] = '\0';
	ck_assert_msg(strlen(s) == n, "line %d: NUL inside value text", line);
	return s;
}

/* value_to_text of value_parse. */
static const char *parsed_text(const char *text, uint32_t typoid, int line)
{
	struct Value v = parse_ok(text, typoid, line);
	return text_of(&v, line);
}

static struct PgoValue column(char kind, const char *text)
{
	return (struct PgoValue){
	    .kind = kind, .len = text ? (uint32_t)strlen(text) : 0, .data = (const uint8_t *)text};
}

/* ---- types ---------------------------------------------------------------- */

START_TEST(test_kind_of_type)
{
	ck_assert_int_eq(value_kind_of_type(0), VAL_NULL);
	ck_assert_int_eq(value_kind_of_type(OID_BOOL), VAL_BOOL);
	ck_assert_int_eq(value_kind_of_type(OID_INT2), VAL_INT);
	ck_assert_int_eq(value_kind_of_type(OID_INT4), VAL_INT);
	ck_assert_int_eq(value_kind_of_type(OID_INT8), VAL_INT);
	ck_assert_int_eq(value_kind_of_type(OID_OID), VAL_INT);
	ck_assert_int_eq(value_kind_of_type(OID_NUMERIC), VAL_NUMERIC);
	ck_assert_int_eq(value_kind_of_type(OID_FLOAT4), VAL_FLOAT);
	ck_assert_int_eq(value_kind_of_type(OID_FLOAT8), VAL_FLOAT);
	ck_assert_int_eq(value_kind_of_type(OID_BYTEA), VAL_BYTEA);
	ck_assert_int_eq(value_kind_of_type(OID_DATE), VAL_DATE);
	ck_assert_int_eq(value_kind_of_type(OID_TIMESTAMP), VAL_TIMESTAMP);
	ck_assert_int_eq(value_kind_of_type(OID_TIMESTAMPTZ), VAL_TIMESTAMP);
	ck_assert_int_eq(value_kind_of_type(OID_TEXT), VAL_TEXT);
	ck_assert_int_eq(value_kind_of_type(OID_UUID), VAL_TEXT);
	ck_assert_int_eq(value_kind_of_type(OID_JSONB), VAL_TEXT);
	ck_assert_int_eq(value_kind_of_type(16500), VAL_TEXT); /* an enum */
	ck_assert_int_eq(value_kind_of_type(1007), VAL_ARRAY);
	/* An enum's array type is unknown too: text. */
	ck_assert_int_eq(value_kind_of_type(16499), VAL_TEXT);
}
END_TEST

START_TEST(test_array_element_types)
{
	static const uint32_t pairs[][2] = {
	    {199, OID_JSON},     {1000, OID_BOOL},      {1001, OID_BYTEA},  {1003, OID_NAME},
	    {1005, OID_INT2},    {1007, OID_INT4},      {1009, OID_TEXT},   {1014, OID_BPCHAR},
	    {1015, OID_VARCHAR}, {1016, OID_INT8},      {1021, OID_FLOAT4}, {1022, OID_FLOAT8},
	    {1028, OID_OID},     {1115, OID_TIMESTAMP}, {1182, OID_DATE},   {1185, OID_TIMESTAMPTZ},
	    {1231, OID_NUMERIC}, {2951, OID_UUID},      {3807, OID_JSONB},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		ck_assert_uint_eq(value_array_element_type(pairs[i][0]), pairs[i][1]);
		/* Every array type and its element type have names that match. */
		const char *an = value_type_name(pairs[i][0]), *en = value_type_name(pairs[i][1]);
		ck_assert_ptr_nonnull(an);
		ck_assert_ptr_nonnull(en);
		ck_assert_uint_eq(strlen(an), strlen(en) + 2);
		ck_assert_int_eq(strncmp(an, en, strlen(en)), 0);
		ck_assert_str_eq(an + strlen(en), "[]");
	}
	ck_assert_uint_eq(value_array_element_type(0), 0);
	ck_assert_uint_eq(value_array_element_type(OID_INT4), 0);
	ck_assert_uint_eq(value_array_element_type(16500), 0);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(value_kind_name(VAL_NULL), "null");
	ck_assert_str_eq(value_kind_name(VAL_BOOL), "boolean");
	ck_assert_str_eq(value_kind_name(VAL_INT), "integer");
	ck_assert_str_eq(value_kind_name(VAL_NUMERIC), "numeric");
	ck_assert_str_eq(value_kind_name(VAL_FLOAT), "floating-point");
	ck_assert_str_eq(value_kind_name(VAL_TEXT), "text");
	ck_assert_str_eq(value_kind_name(VAL_BYTEA), "bytea");
	ck_assert_str_eq(value_kind_name(VAL_TIMESTAMP), "timestamp");
	ck_assert_str_eq(value_kind_name(VAL_DATE), "date");
	ck_assert_str_eq(value_kind_name(VAL_ARRAY), "array");
	ck_assert_str_eq(value_kind_name((enum value_kind)99), "unknown");

	/* format_type's names. */
	ck_assert_str_eq(value_type_name(OID_BOOL), "boolean");
	ck_assert_str_eq(value_type_name(OID_INT2), "smallint");
	ck_assert_str_eq(value_type_name(OID_INT4), "integer");
	ck_assert_str_eq(value_type_name(OID_INT8), "bigint");
	ck_assert_str_eq(value_type_name(OID_OID), "oid");
	ck_assert_str_eq(value_type_name(OID_FLOAT4), "real");
	ck_assert_str_eq(value_type_name(OID_FLOAT8), "double precision");
	ck_assert_str_eq(value_type_name(OID_BPCHAR), "character");
	ck_assert_str_eq(value_type_name(OID_VARCHAR), "character varying");
	ck_assert_str_eq(value_type_name(OID_TIMESTAMP), "timestamp without time zone");
	ck_assert_str_eq(value_type_name(OID_TIMESTAMPTZ), "timestamp with time zone");
	ck_assert_str_eq(value_type_name(1185), "timestamp with time zone[]");
	ck_assert_str_eq(value_type_name(OID_UUID), "uuid");
	ck_assert_str_eq(value_type_name(OID_JSONB), "jsonb");
	ck_assert_ptr_null(value_type_name(0));
	ck_assert_ptr_null(value_type_name(16500));
}
END_TEST

/* ---- value_from_column ------------------------------------------------------ */

START_TEST(test_column_kinds)
{
	struct Value v;
	struct PgoValue c;

	/* 'n': NULL keeps the column's type. */
	c = column('n', NULL);
	ck_assert_int_eq(value_from_column(&c, OID_INT8, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_NULL);
	ck_assert_uint_eq(v.typoid, OID_INT8);
	ck_assert_ptr_null(TEXT_OF(&v));

	/* 't': text, not NUL-terminated; the value points into the message. */
	static const char msg[] = "4242xyz";
	c = (struct PgoValue){.kind = 't', .len = 4, .data = (const uint8_t *)msg};
	ck_assert_int_eq(value_from_column(&c, OID_INT4, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_INT);
	ck_assert_int_eq(v.i, 4242);
	ck_assert_int_eq(value_from_column(&c, OID_TEXT, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_TEXT);
	ck_assert_ptr_eq(v.s.p, msg);
	ck_assert_uint_eq(v.s.len, 4);

	/* An empty text column is an empty string, not NULL. */
	c = column('t', "");
	ck_assert_int_eq(value_from_column(&c, OID_TEXT, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_TEXT);
	ck_assert_uint_eq(v.s.len, 0);
	ck_assert_str_eq(TEXT_OF(&v), "");

	/* Types tablecast does not know (an enum) stay text. */
	c = column('t', "shipped");
	ck_assert_int_eq(value_from_column(&c, 16500, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_TEXT);
	ck_assert_uint_eq(v.typoid, 16500);
	ck_assert_str_eq(TEXT_OF(&v), "shipped");

	/* Errors from the input function come through. */
	c = column('t', "12x");
	ck_assert_int_eq(value_from_column(&c, OID_INT8, arena, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid input syntax for type bigint: \"12x\"");

	c = column('b', "\x00\x00\x00\x01");
	ck_assert_int_eq(value_from_column(&c, OID_INT4, arena, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "binary format not supported");

	c = column('u', NULL);
	ck_assert_int_eq(value_from_column(&c, OID_TEXT, arena, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unchanged TOAST value has no data to convert");

	c = column('x', NULL);
	ck_assert_int_eq(value_from_column(&c, OID_TEXT, arena, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown column value kind 0x78");

	/* No room for a message, or none wanted: still just -1. */
	c = column('t', "nope");
	ck_assert_int_eq(value_from_column(&c, OID_BOOL, arena, &v, NULL, 0), -1);
	ck_assert_int_eq(value_from_column(&c, OID_BOOL, arena, &v, err, 0), -1);
	char small[8];
	ck_assert_int_eq(value_from_column(&c, OID_BOOL, arena, &v, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "invalid");
}
END_TEST

/* ---- scalars ------------------------------------------------------------------ */

START_TEST(test_bool)
{
	struct Value v = PARSE("t", OID_BOOL);
	ck_assert_int_eq(v.kind, VAL_BOOL);
	ck_assert(v.b);
	ck_assert_str_eq(TEXT_OF(&v), "t");
	v = PARSE("f", OID_BOOL);
	ck_assert(!v.b);
	ck_assert_str_eq(TEXT_OF(&v), "f");
	static const char *const yes[] = {"true", "TRUE", "tRuE", "t", "tr",  "yes",
	                                  "y",    "on",   "ON",   "1", " t\n"};
	static const char *const no[] = {"false", "f",  "fa", "no",      "n",
	                                 "off",   "of", "0",  "\tFalse "};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert(PARSE(yes[i], OID_BOOL).b);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert(!PARSE(no[i], OID_BOOL).b);
	PARSE_FAILS("o", OID_BOOL, "invalid input syntax for type boolean: \"o\"");
	PARSE_FAILS("truex", OID_BOOL, "invalid input syntax for type boolean: \"truex\"");
	PARSE_FAILS("yess", OID_BOOL, "invalid input syntax for type boolean: \"yess\"");
	PARSE_FAILS("", OID_BOOL, "invalid input syntax for type boolean: \"\"");
}
END_TEST

START_TEST(test_integers)
{
	struct Value v = PARSE("-9223372036854775808", OID_INT8);
	ck_assert_int_eq(v.kind, VAL_INT);
	ck_assert(v.i == INT64_MIN);
	ck_assert_str_eq(TEXT_OF(&v), "-9223372036854775808");
	v = PARSE("9223372036854775807", OID_INT8);
	ck_assert(v.i == INT64_MAX);
	ck_assert_str_eq(TEXT_OF(&v), "9223372036854775807");
	ck_assert(PARSE("-32768", OID_INT2).i == INT16_MIN);
	ck_assert(PARSE("32767", OID_INT2).i == INT16_MAX);
	ck_assert(PARSE("-2147483648", OID_INT4).i == INT32_MIN);
	ck_assert(PARSE("2147483647", OID_INT4).i == INT32_MAX);
	ck_assert(PARSE(" \t+0042\n", OID_INT4).i == 42);
	ck_assert(PARSE("-0", OID_INT8).i == 0);

	PARSE_FAILS("9223372036854775808", OID_INT8,
	            "value \"9223372036854775808\" is out of range for type bigint");
	PARSE_FAILS("-9223372036854775809", OID_INT8,
	            "value \"-9223372036854775809\" is out of range for type bigint");
	PARSE_FAILS("32768", OID_INT2, "value \"32768\" is out of range for type smallint");
	PARSE_FAILS("-2147483649", OID_INT4,
	            "value \"-2147483649\" is out of range for type integer");
	PARSE_FAILS("12x", OID_INT8, "invalid input syntax for type bigint: \"12x\"");
	PARSE_FAILS("1e3", OID_INT4, "invalid input syntax for type integer: \"1e3\"");
	PARSE_FAILS("-", OID_INT4, "invalid input syntax for type integer: \"-\"");
	/* The overflow is seen before the garbage, as in PostgreSQL 15. */
	PARSE_FAILS("100000000000000000000000000000000000000000abc", OID_INT8,
	            "value \"100000000000000000000000000000000000000000abc\" is out of range for "
	            "type bigint");
	/* The message quotes at most 64 bytes, cut on a character boundary. */
	char longtext[80], want[160];
	memset(longtext, 'x', 63);
	strcpy(longtext + 63, "\xc3\xa9zzz"); /* the 64th byte starts an "é" */
	snprintf(want, sizeof(want), "invalid input syntax for type integer: \"%.63s...\"",
	         longtext);
	PARSE_FAILS(longtext, OID_INT4, want);
	/* Every digit string of int4 width reads back. */
	for (int64_t i = INT32_MIN; i <= INT32_MAX; i += 65537 * 3) {
		char buf[24];
		snprintf(buf, sizeof(buf), "%" PRId64, i);
		v = PARSE(buf, OID_INT4);
		ck_assert(v.i == i);
		ck_assert_str_eq(TEXT_OF(&v), buf);
	}
}
END_TEST

START_TEST(test_oid)
{
	struct Value v = PARSE("4294967295", OID_OID);
	ck_assert_int_eq(v.kind, VAL_INT);
	ck_assert(v.i == 4294967295);
	ck_assert_str_eq(TEXT_OF(&v), "4294967295");
	/* oidin takes "negative" OIDs as their unsigned 32-bit pattern. */
	ck_assert(PARSE("-1", OID_OID).i == 4294967295);
	ck_assert(PARSE("-2147483648", OID_OID).i == 2147483648);
	ck_assert(PARSE("16500", OID_OID).i == 16500);
	PARSE_FAILS("4294967296", OID_OID, "value \"4294967296\" is out of range for type oid");
	PARSE_FAILS("-2147483649", OID_OID, "value \"-2147483649\" is out of range for type oid");
	PARSE_FAILS("oid", OID_OID, "invalid input syntax for type oid: \"oid\"");
}
END_TEST

START_TEST(test_numeric)
{
	/* pgoutput's text is kept as is, pointing into the message. */
	static const char big[] = "-123456789012345678901234567890.123456789";
	struct Value v = PARSE(big, OID_NUMERIC);
	ck_assert_int_eq(v.kind, VAL_NUMERIC);
	ck_assert_ptr_eq(v.s.p, big);
	ck_assert_uint_eq(v.s.len, strlen(big));
	ck_assert_str_eq(TEXT_OF(&v), big);
	ck_assert_str_eq(PARSED_TEXT("0", OID_NUMERIC), "0");
	ck_assert_str_eq(PARSED_TEXT("NaN", OID_NUMERIC), "NaN");
	ck_assert_str_eq(PARSED_TEXT("Infinity", OID_NUMERIC), "Infinity");
	ck_assert_str_eq(PARSED_TEXT("-Infinity", OID_NUMERIC), "-Infinity");
	/* numeric_out never writes an exponent; casts from text take one: '1e5'::numeric. */
	ck_assert_str_eq(PARSED_TEXT("1e5", OID_NUMERIC), "100000");
	ck_assert_str_eq(PARSED_TEXT("1.5e-3", OID_NUMERIC), "0.0015");
	ck_assert_str_eq(PARSED_TEXT("-0.0", OID_NUMERIC), "0.0");

	/* The limits: 131072 digits before the point, 16383 after. */
	v = PARSE("1e131071", OID_NUMERIC);
	ck_assert_uint_eq(v.s.len, 131072);
	ck_assert_int_eq(v.s.p[0], '1');
	ck_assert_int_eq(v.s.p[131071], '0');
	v = PARSE("-1e-16383", OID_NUMERIC);
	ck_assert_uint_eq(v.s.len, 3 + 16383);
	ck_assert_int_eq(strncmp(v.s.p, "-0.000", 6), 0);
	ck_assert_int_eq(v.s.p[v.s.len - 1], '1');
	v = PARSE("0.5e131072", OID_NUMERIC);
	ck_assert_uint_eq(v.s.len, 131072);
	ck_assert_int_eq(v.s.p[0], '5');
	PARSE_FAILS("5e131072", OID_NUMERIC, "value overflows numeric format");
	PARSE_FAILS("1e99999999999999999999", OID_NUMERIC, "value overflows numeric format");
	ck_assert_str_eq(PARSED_TEXT("0e1073741822", OID_NUMERIC), "0");
	PARSE_FAILS("0e1073741823", OID_NUMERIC, "value overflows numeric format");
}
END_TEST

START_TEST(test_float_values)
{
	struct Value v = PARSE("1.5", OID_FLOAT8);
	ck_assert_int_eq(v.kind, VAL_FLOAT);
	ck_assert(v.f == 1.5);
	v = PARSE("-0", OID_FLOAT8);
	ck_assert(v.f == 0 && signbit(v.f));
	ck_assert_str_eq(TEXT_OF(&v), "-0");
	ck_assert(isnan(PARSE("NaN", OID_FLOAT8).f));
	ck_assert(isnan(PARSE("-NaN", OID_FLOAT4).f));
	ck_assert(isinf(PARSE("Infinity", OID_FLOAT8).f) && PARSE("Infinity", OID_FLOAT8).f > 0);
	ck_assert(isinf(PARSE("-Infinity", OID_FLOAT4).f) && PARSE("-Infinity", OID_FLOAT4).f < 0);
	ck_assert(PARSE("1e+30", OID_FLOAT8).f == 1e30);
	ck_assert(PARSE("5e-324", OID_FLOAT8).f ==
	          4.9406564584124654e-324); /* the smallest denormal */
	ck_assert(PARSE("2.225073858507201e-308", OID_FLOAT8).f ==
	          2.2250738585072009e-308); /* the largest */
	ck_assert(PARSE("1.7976931348623157e+308", OID_FLOAT8).f == 1.7976931348623157e308);
	/* float4 values are rounded to float, then kept as a double. */
	v = PARSE("3.4028235e+38", OID_FLOAT4);
	ck_assert(v.f == (double)3.4028235e38f);
	ck_assert_str_eq(TEXT_OF(&v), "3.4028235e+38");
	v = PARSE("0.1", OID_FLOAT4);
	ck_assert(v.f == (double)0.1f);
	ck_assert(v.f != 0.1);
	ck_assert_str_eq(TEXT_OF(&v), "0.1");
	ck_assert(PARSE("1e-45", OID_FLOAT4).f == (double)1e-45f);
	/* Long input takes the arena path. */
	char longnum[300];
	memset(longnum, '0', sizeof(longnum) - 1);
	longnum[0] = '1';
	longnum[1] = '.';
	longnum[sizeof(longnum) - 1] = '\0';
	ck_assert(PARSE(longnum, OID_FLOAT8).f == 1.0);
	longnum[2] = 'x';
	char want[128];
	snprintf(want, sizeof(want), "invalid input syntax for type double precision: \"%.64s...\"",
	         longnum);
	PARSE_FAILS(longnum, OID_FLOAT8, want);
}
END_TEST

START_TEST(test_float_format)
{
	/* The formatter directly: PostgreSQL 12+ (Ryu), each text checked against PostgreSQL 15. */
	static const struct {
		double f;
		bool f4;
		const char *text;
	} cases[] = {
	    {1.5, false, "1.5"},
	    {-0.0, false, "-0"},
	    {0.0, false, "0"},
	    {NAN, false, "NaN"},
	    {-NAN, true, "NaN"},
	    {INFINITY, false, "Infinity"},
	    {-INFINITY, true, "-Infinity"},
	    {1e30, false, "1e+30"},
	    {1e15, false, "1e+15"},
	    {123456789012345.0, false, "123456789012345"},
	    {1234567890123456.0, false, "1.234567890123456e+15"},
	    {1e-4, false, "0.0001"},
	    {1.5e-5, false, "1.5e-05"},
	    {4.9406564584124654e-324, false, "5e-324"},
	    {2.2250738585072009e-308, false, "2.225073858507201e-308"},
	    {1.7976931348623157e308, false, "1.7976931348623157e+308"},
	    {-1.7976931348623157e308, false, "-1.7976931348623157e+308"},
	    {0.1 + 0.2, false, "0.30000000000000004"},
	    /* 1e23 lies exactly halfway between two doubles: the one it reads as prints longer. */
	    {1e23, false, "9.999999999999999e+22"},
	    {9007199254740992.0, false, "9.007199254740992e+15"},
	    {100.0, false, "100"},
	    /*
	     * At a power of two the interval below is half as wide: the
	     * correctly rounded 16 digits (...044e-307) read back as the
	     * float below, yet ...045e-307 is inside. PostgreSQL prints it.
	     */
	    {0x1p-1017, false, "7.120236347223045e-307"},
	    {0x1p-510, false, "2.983336292480083e-154"},
	    {0x1p-140, false, "7.174648137343064e-43"},
	    /* float4 */
	    {(double)1.5f, true, "1.5"},
	    {(double)0.1f, true, "0.1"},
	    {(double)3.4028235e38f, true, "3.4028235e+38"},
	    {(double)1e-45f, true, "1e-45"},
	    {(double)1.17549435e-38f, true, "1.1754944e-38"},
	    {123456.0, true, "123456"},
	    {1234567.0, true, "1.234567e+06"},
	    {1e6, true, "1e+06"},
	    {16777216.0, true, "1.6777216e+07"},
	    /*
	     * -1.177607e+08 is exactly halfway between -117760704 and the
	     * float below: it reads back by round-to-even, but PostgreSQL
	     * never prints a midpoint (ryu_common.h, STRICTLY_SHORTEST 0).
	     */
	    {-117760704.0, true, "-1.17760704e+08"},
	    {(double)0x1p-100f, true, "7.888609e-31"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[VALUE_FLOAT_BUFSIZE];
		size_t n = value_format_float(cases[i].f, cases[i].f4, buf);
		ck_assert_msg(strcmp(buf, cases[i].text) == 0, "case %zu: %s, want %s", i, buf,
		              cases[i].text);
		ck_assert_uint_eq(n, strlen(buf));
	}
}
END_TEST

/*
 * Whether s reads back as d without lying exactly halfway to a neighbour
 * (PostgreSQL never prints such a tie). A long double holds the halfway
 * points exactly.
 */
static bool reads_back_off_midpoint(const char *s, double d)
{
	if (strtod(s, NULL) != d)
		return false;
	long double x = strtold(s, NULL);
	return x != ((long double)d + nextafter(d, -INFINITY)) / 2 &&
	       x != ((long double)d + nextafter(d, INFINITY)) / 2;
}

/* Significant digits of a formatted float: no sign, point, exponent, leading or trailing zeros. */
static int significant_digits(const char *s)
{
	char digits[40];
	int n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0'))
			digits[n++] = *s;
	while (n > 0 && digits[n - 1] == '0')
		n--;
	return n;
}

/* Shortest text that reads back, for many doubles and floats spread over every exponent. */
START_TEST(test_float_round_trip)
{
	uint64_t x = 0x9E3779B97F4A7C15u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		memcpy(&d, &x, sizeof(d));
		float f;
		uint32_t x32 = (uint32_t)(x >> 17);
		memcpy(&f, &x32, sizeof(f));
		char buf[VALUE_FLOAT_BUFSIZE], tmp[40];
		if (isfinite(d)) {
			size_t n = value_format_float(d, false, buf);
			ck_assert_uint_eq(n, strlen(buf));
			ck_assert_msg(strtod(buf, NULL) == d, "%.17g printed as %s", d, buf);
			int digits = significant_digits(buf);
			ck_assert_int_ge(digits, 1);
			ck_assert_int_le(digits, 17);
			/* One digit fewer, correctly rounded, would not do. */
			if (digits >= 2) {
				snprintf(tmp, sizeof(tmp), "%.*e", digits - 2, d);
				ck_assert_msg(!reads_back_off_midpoint(tmp, d),
				              "%.17g printed as %s, but %s reads back", d, buf,
				              tmp);
			}
		}
		if (isfinite(f)) {
			size_t n = value_format_float(f, true, buf);
			ck_assert_uint_eq(n, strlen(buf));
			ck_assert_msg(strtof(buf, NULL) == f, "%.9g printed as %s", (double)f, buf);
			ck_assert_int_le(significant_digits(buf), 9);
		}
	}
}
END_TEST

START_TEST(test_strings)
{
	/* Text of any kind is the bytes as sent, pointing into them. */
	static const char uni[] = "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80";
	static const uint32_t types[] = {OID_TEXT, OID_VARCHAR, OID_BPCHAR, OID_NAME,
	                                 OID_JSON, OID_JSONB,   16500};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct Value v = PARSE(uni, types[i]);
		ck_assert_int_eq(v.kind, VAL_TEXT);
		ck_assert_ptr_eq(v.s.p, uni);
		ck_assert_uint_eq(v.s.len, strlen(uni));
		ck_assert_str_eq(TEXT_OF(&v), uni);
		v = PARSE("", types[i]);
		ck_assert_int_eq(v.kind, VAL_TEXT);
		ck_assert_uint_eq(v.s.len, 0);
	}
	/* char(n) keeps its padding, json its layout (pgoutput's jsonb is already normalized). */
	ck_assert_str_eq(PARSED_TEXT("ab   ", OID_BPCHAR), "ab   ");
	ck_assert_str_eq(PARSED_TEXT(" {\"a\" : [1, 2.50]} ", OID_JSON), " {\"a\" : [1, 2.50]} ");
	ck_assert_str_eq(PARSED_TEXT("{\"a\": [1, 2.50, \"x\"]}", OID_JSONB),
	                 "{\"a\": [1, 2.50, \"x\"]}");
}
END_TEST

START_TEST(test_bytea)
{
	struct Value v = PARSE("\\x00ff10", OID_BYTEA);
	ck_assert_int_eq(v.kind, VAL_BYTEA);
	ck_assert_uint_eq(v.s.len, 3);
	ck_assert_int_eq(memcmp(v.s.p, "\x00\xff\x10", 3), 0);
	ck_assert_str_eq(TEXT_OF(&v), "\\x00ff10");
	v = PARSE("\\x", OID_BYTEA);
	ck_assert_int_eq(v.kind, VAL_BYTEA);
	ck_assert_uint_eq(v.s.len, 0);
	ck_assert_str_eq(TEXT_OF(&v), "\\x");
	v = PARSE("\\xDEADbeef", OID_BYTEA);
	ck_assert_int_eq(memcmp(v.s.p, "\xde\xad\xbe\xef", 4), 0);
	/* The escape format: octal and doubled backslashes. */
	v = PARSE("a\\000b\\\\c\\377", OID_BYTEA);
	ck_assert_uint_eq(v.s.len, 6);
	ck_assert_int_eq(memcmp(v.s.p, "a\0b\\c\xff", 6), 0);
	PARSE_FAILS("\\x001", OID_BYTEA, "invalid hexadecimal data: odd number of digits");
	PARSE_FAILS("\\x0", OID_BYTEA, "invalid hexadecimal data: odd number of digits");
	PARSE_FAILS("\\x0g", OID_BYTEA, "invalid hexadecimal digit: \"g\"");
	PARSE_FAILS("\\x00\v01", OID_BYTEA, "invalid hexadecimal digit: \"\v\"");
	PARSE_FAILS("a\\", OID_BYTEA, "invalid input syntax for type bytea");
	PARSE_FAILS("\\8", OID_BYTEA, "invalid input syntax for type bytea");

	/* All 256 byte values out and back. */
	char raw[256], hex[2 + 512 + 1] = "\\x";
	for (int i = 0; i < 256; i++) {
		raw[i] = (char)i;
		snprintf(hex + 2 + 2 * i, 3, "%02x", i);
	}
	struct Value b = {.kind = VAL_BYTEA, .typoid = OID_BYTEA, .s = {raw, sizeof(raw)}};
	ck_assert_str_eq(TEXT_OF(&b), hex);
	v = PARSE(hex, OID_BYTEA);
	ck_assert_uint_eq(v.s.len, 256);
	ck_assert_int_eq(memcmp(v.s.p, raw, 256), 0);
}
END_TEST

START_TEST(test_uuid)
{
	static const char canon[] = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
	struct Value v = PARSE(canon, OID_UUID);
	ck_assert_int_eq(v.kind, VAL_TEXT);
	ck_assert_ptr_eq(v.s.p, canon); /* already canonical: not copied */
	ck_assert_str_eq(TEXT_OF(&v), canon);
	/* Upper case, braces and other hyphenation are accepted and printed canonically. */
	ck_assert_str_eq(PARSED_TEXT("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", OID_UUID), canon);
	ck_assert_str_eq(PARSED_TEXT("{a0eebc999c0b4ef8bb6d6bb9bd380a11}", OID_UUID), canon);
	ck_assert_str_eq(PARSED_TEXT("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", OID_UUID), canon);
	PARSE_FAILS("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", OID_UUID,
	            "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g\"");
	PARSE_FAILS(
	    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", OID_UUID,
	    "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}\"");
	PARSE_FAILS(
	    "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", OID_UUID,
	    "invalid input syntax for type uuid: \"-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
}
END_TEST

/* ---- dates and timestamps ------------------------------------------------------ */

START_TEST(test_civil_anchors)
{
	ck_assert_int_eq(value_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(value_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(value_days_from_civil(2000, 1, 1), 10957);
	ck_assert_int_eq(value_days_from_civil(2026, 11, 21), 20778);
	ck_assert_int_eq(value_days_from_civil(2024, 2, 29), 19782);
	ck_assert_int_eq(value_days_from_civil(9999, 12, 31), 2932896);
	ck_assert_int_eq(value_days_from_civil(1, 1, 1), -719162);
	ck_assert_int_eq(value_days_from_civil(0, 3, 1),
	                 -719468); /* 1 BC, the start of Hinnant's era 0 */
	ck_assert_int_eq(value_days_from_civil(-43, 3, 15), -735160); /* the Ides of March, 44 BC */
	ck_assert_int_eq(value_days_from_civil(-4713, 11, 24), -2440588); /* Julian day 0 */
	int64_t y;
	unsigned m, d;
	value_civil_from_days(-2440588, &y, &m, &d);
	ck_assert(y == -4713 && m == 11 && d == 24);
	value_civil_from_days(2147483493 - 2440588, &y, &m, &d); /* PostgreSQL's last date */
	ck_assert(y == 5874897 && m == 12 && d == 31);
}
END_TEST

START_TEST(test_civil_round_trip)
{
	int64_t first = value_days_from_civil(-4712, 1, 1),
	        last = value_days_from_civil(9999, 12, 31);
	for (int64_t days = first; days <= last; days += 97) {
		int64_t y;
		unsigned m, d;
		value_civil_from_days(days, &y, &m, &d);
		ck_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
		ck_assert_msg(value_days_from_civil(y, m, d) == days, "day %" PRId64, days);
	}
	/* Every day, against a calendar that just counts: proleptic Gregorian leap years. */
	int64_t y = -4712;
	unsigned m = 1, d = 1;
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (int64_t days = first; days <= last; days++) {
		int64_t cy;
		unsigned cm, cd;
		value_civil_from_days(days, &cy, &cm, &cd);
		if (cy != y || cm != m || cd != d)
			ck_abort_msg("day %" PRId64 ": %" PRId64 "-%u-%u, want %" PRId64 "-%u-%u",
			             days, cy, cm, cd, y, m, d);
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (++d > dim[m - 1] + (m == 2 && leap)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	ck_assert(y == 10000 && m == 1 && d == 1);
}
END_TEST

START_TEST(test_date_values)
{
	struct Value v = PARSE("2026-11-21", OID_DATE);
	ck_assert_int_eq(v.kind, VAL_DATE);
	ck_assert_int_eq(v.date, 20778);
	ck_assert_str_eq(TEXT_OF(&v), "2026-11-21");
	ck_assert_int_eq(PARSE("1969-07-20", OID_DATE).date, -165);
	ck_assert_int_eq(PARSE("1970-01-01", OID_DATE).date, 0);
	ck_assert_int_eq(PARSE("epoch", OID_DATE).date, 0);
	ck_assert_int_eq(PARSE("2000-01-01", OID_DATE).date, 10957);
	ck_assert_int_eq(PARSE("9999-12-31", OID_DATE).date, 2932896);
	v = PARSE("0044-03-15 BC", OID_DATE);
	ck_assert_int_eq(v.date, -735160);
	ck_assert_str_eq(TEXT_OF(&v), "0044-03-15 BC");
	ck_assert_int_eq(PARSE("infinity", OID_DATE).date, VAL_DATE_INFINITY);
	ck_assert_int_eq(PARSE("-infinity", OID_DATE).date, VAL_DATE_NEG_INFINITY);
	ck_assert_int_eq(PARSE("4714-11-24 BC", OID_DATE).date, -2440588);
	ck_assert_int_eq(PARSE("5874897-12-31", OID_DATE).date, 2147483493 - 2440588);
	PARSE_FAILS("2026-02-30", OID_DATE, "date/time field value out of range: \"2026-02-30\"");
	PARSE_FAILS("4714-11-23 BC", OID_DATE, "date out of range: \"4714-11-23 BC\"");

	/* The formatter on its own. */
	char buf[VALUE_TS_BUFSIZE];
	ck_assert_uint_eq(value_format_date(0, buf), 10);
	ck_assert_str_eq(buf, "1970-01-01");
	value_format_date(VAL_DATE_INFINITY, buf);
	ck_assert_str_eq(buf, "infinity");
	value_format_date(VAL_DATE_NEG_INFINITY, buf);
	ck_assert_str_eq(buf, "-infinity");
	value_format_date(-719163, buf);
	ck_assert_str_eq(buf, "0001-12-31 BC");
	value_format_date(2147483493 - 2440588, buf);
	ck_assert_str_eq(buf, "5874897-12-31");
	value_format_date(-2440588, buf);
	ck_assert_str_eq(buf, "4714-11-24 BC");
}
END_TEST

START_TEST(test_timestamp_values)
{
	struct Value v = PARSE("2026-11-21 05:41:41.240664", OID_TIMESTAMP);
	ck_assert_int_eq(v.kind, VAL_TIMESTAMP);
	ck_assert(v.ts == INT64_C(1795239701240664));
	ck_assert_str_eq(TEXT_OF(&v), "2026-11-21 05:41:41.240664");
	/* The same instant as timestamptz prints "+00". */
	v.typoid = OID_TIMESTAMPTZ;
	ck_assert_str_eq(TEXT_OF(&v), "2026-11-21 05:41:41.240664+00");
	/* One µs after the 32-bit time_t minimum, and the last µs of 64-bit nanoseconds. */
	ck_assert(PARSE("1901-12-13 20:45:52.000001", OID_TIMESTAMP).ts ==
	          INT64_C(-2147483647999999));
	ck_assert(PARSE("2262-04-11 23:47:16.854775", OID_TIMESTAMP).ts ==
	          INT64_C(9223372036854775));
	ck_assert(PARSE("1969-12-31 23:59:59.999999", OID_TIMESTAMP).ts == -1);
	ck_assert(PARSE("epoch", OID_TIMESTAMPTZ).ts == 0);
	ck_assert(PARSE("infinity", OID_TIMESTAMP).ts == VAL_TS_INFINITY);
	ck_assert(PARSE("-infinity", OID_TIMESTAMPTZ).ts == VAL_TS_NEG_INFINITY);
	v = PARSE("0044-03-15 12:00:00 BC", OID_TIMESTAMP);
	ck_assert(v.ts == INT64_C(-735160) * US_PER_DAY + INT64_C(43200000000));
	ck_assert_str_eq(TEXT_OF(&v), "0044-03-15 12:00:00 BC");
	/* timestamp ignores a written zone; timestamptz applies it. */
	ck_assert(PARSE("2026-11-21 05:41:41+05:30", OID_TIMESTAMP).ts ==
	          INT64_C(1795239701000000));
	ck_assert(PARSE("2026-11-21 05:41:41+00", OID_TIMESTAMPTZ).ts == INT64_C(1795239701000000));
	ck_assert(PARSE("2026-11-21 05:41:41+05:30", OID_TIMESTAMPTZ).ts ==
	          INT64_C(1795219901000000));
	ck_assert(PARSE("2026-11-21 05:41:41-08", OID_TIMESTAMPTZ).ts == INT64_C(1795268501000000));
	ck_assert(PARSE("2026-11-21 05:41:41+05:30:15", OID_TIMESTAMPTZ).ts ==
	          INT64_C(1795219886000000));
	/* PostgreSQL's first instant; the last one an int64 of µs since 1970 holds. */
	ck_assert(PARSE("4714-11-24 00:00:00 BC", OID_TIMESTAMP).ts ==
	          INT64_C(-2440588) * US_PER_DAY);
	v = PARSE("294247-01-10 04:00:54.775806", OID_TIMESTAMP);
	ck_assert(v.ts == INT64_MAX - 1);
	ck_assert_str_eq(TEXT_OF(&v), "294247-01-10 04:00:54.775806");
	/* That would be 'infinity': out of range here, though PostgreSQL goes on to 294276 AD. */
	PARSE_FAILS("294247-01-10 04:00:54.775807", OID_TIMESTAMP,
	            "timestamp out of range: \"294247-01-10 04:00:54.775807\"");
	PARSE_FAILS("294276-12-31 23:59:59", OID_TIMESTAMPTZ,
	            "timestamp out of range: \"294276-12-31 23:59:59\"");
}
END_TEST

START_TEST(test_timestamp_format)
{
	static const struct {
		int64_t ts;
		bool tz;
		const char *text;
	} cases[] = {
	    {0, false, "1970-01-01 00:00:00"},
	    {0, true, "1970-01-01 00:00:00+00"},
	    {-1, false, "1969-12-31 23:59:59.999999"},
	    {500000, false, "1970-01-01 00:00:00.5"},
	    {120000, true, "1970-01-01 00:00:00.12+00"},
	    {1, false, "1970-01-01 00:00:00.000001"},
	    {-US_PER_DAY, false, "1969-12-31 00:00:00"},
	    {INT64_C(1795239701240664), false, "2026-11-21 05:41:41.240664"},
	    {INT64_C(-735160) * US_PER_DAY + 1, true, "0044-03-15 00:00:00.000001+00 BC"},
	    {INT64_C(-719162) * US_PER_DAY - 1, false, "0001-12-31 23:59:59.999999 BC"},
	    {INT64_C(-2440588) * US_PER_DAY, true, "4714-11-24 00:00:00+00 BC"},
	    {VAL_TS_INFINITY, true, "infinity"},
	    {VAL_TS_NEG_INFINITY, false, "-infinity"},
	    {INT64_MAX - 1, true, "294247-01-10 04:00:54.775806+00"},
	    {INT64_MIN + 1, true, "290309-12-21 19:59:05.224193+00 BC"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[VALUE_TS_BUFSIZE];
		size_t n = value_format_timestamp(cases[i].ts, cases[i].tz, buf);
		ck_assert_msg(strcmp(buf, cases[i].text) == 0, "case %zu: %s, want %s", i, buf,
		              cases[i].text);
		ck_assert_uint_eq(n, strlen(buf));
	}
	/* Instants from PostgreSQL's first to the last one held read back, with or without zone. */
	const int64_t step = INT64_C(777777777777777);
	for (int64_t ts = INT64_C(-2440588) * US_PER_DAY;; ts += step + ts / 7 % 1000003) {
		char buf[VALUE_TS_BUFSIZE];
		value_format_timestamp(ts, true, buf);
		ck_assert_msg(PARSE(buf, OID_TIMESTAMPTZ).ts == ts, "%s", buf);
		value_format_timestamp(ts, false, buf);
		ck_assert_msg(PARSE(buf, OID_TIMESTAMP).ts == ts, "%s", buf);
		if (ts > INT64_MAX - 2 * step)
			break;
	}
}
END_TEST

START_TEST(test_unsupported_datetime_forms)
{
	/*
	 * PostgreSQL reads a first field of one or two digits by DateStyle
	 * ("5-01-01" is 2001-05-01 with MDY); tablecast wants the ISO year.
	 */
	PARSE_FAILS("5-01-01", OID_DATE, "invalid input syntax for type date: \"5-01-01\"");
	PARSE_FAILS("26-01-01", OID_TIMESTAMP,
	            "invalid input syntax for type timestamp: \"26-01-01\"");
	/* Other DateStyle forms are not read either: pgoutput always writes ISO. */
	PARSE_FAILS("Nov 21 2026", OID_DATE, "invalid input syntax for type date: \"Nov 21 2026\"");
	PARSE_FAILS("11/21/2026", OID_DATE, "invalid input syntax for type date: \"11/21/2026\"");
	PARSE_FAILS("2026-11-21 05:41:41 Europe/Paris", OID_TIMESTAMPTZ,
	            "invalid input syntax for type timestamp with time zone: \"2026-11-21 05:41:41 "
	            "Europe/Paris\"");
}
END_TEST

/* ---- arrays ------------------------------------------------------------------------ */

START_TEST(test_array_values)
{
	struct Value v = PARSE("{1,NULL,3}", 1007);
	ck_assert_int_eq(v.kind, VAL_ARRAY);
	ck_assert_uint_eq(v.typoid, 1007);
	ck_assert_uint_eq(v.arr.n, 3);
	ck_assert_int_eq(v.arr.elems[0].kind, VAL_INT);
	ck_assert_uint_eq(v.arr.elems[0].typoid, OID_INT4);
	ck_assert(v.arr.elems[0].i == 1);
	ck_assert_int_eq(v.arr.elems[1].kind, VAL_NULL);
	ck_assert_uint_eq(v.arr.elems[1].typoid, OID_INT4);
	ck_assert(v.arr.elems[2].i == 3);
	ck_assert_str_eq(TEXT_OF(&v), "{1,NULL,3}");

	v = PARSE("{\"a b\",\"c\\\"d\",\"\",NULL}", 1009);
	ck_assert_uint_eq(v.arr.n, 4);
	ck_assert_int_eq(v.arr.elems[0].kind, VAL_TEXT);
	ck_assert_uint_eq(v.arr.elems[0].s.len, 3);
	ck_assert_int_eq(memcmp(v.arr.elems[0].s.p, "a b", 3), 0);
	ck_assert_uint_eq(v.arr.elems[1].s.len, 3);
	ck_assert_int_eq(memcmp(v.arr.elems[1].s.p, "c\"d", 3), 0);
	ck_assert_int_eq(v.arr.elems[2].kind, VAL_TEXT);
	ck_assert_uint_eq(v.arr.elems[2].s.len, 0);
	ck_assert_int_eq(v.arr.elems[3].kind, VAL_NULL);
	ck_assert_str_eq(TEXT_OF(&v), "{\"a b\",\"c\\\"d\",\"\",NULL}");

	v = PARSE("{}", 1009);
	ck_assert_int_eq(v.kind, VAL_ARRAY);
	ck_assert_uint_eq(v.arr.n, 0);
	ck_assert_str_eq(TEXT_OF(&v), "{}");

	/* Elements are parsed by their own type. */
	v = PARSE("{\"2026-11-21 05:41:41.240664+00\",infinity}", 1185);
	ck_assert_int_eq(v.arr.elems[0].kind, VAL_TIMESTAMP);
	ck_assert(v.arr.elems[0].ts == INT64_C(1795239701240664));
	ck_assert(v.arr.elems[1].ts == VAL_TS_INFINITY);
	v = PARSE("{\"\\\\x0102\"}", 1001);
	ck_assert_int_eq(v.arr.elems[0].kind, VAL_BYTEA);
	ck_assert_uint_eq(v.arr.elems[0].s.len, 2);
	ck_assert_str_eq(TEXT_OF(&v), "{\"\\\\x0102\"}");

	/* Arrays of types tablecast does not know are text, like the types. */
	v = PARSE("{a,b}", 16499);
	ck_assert_int_eq(v.kind, VAL_TEXT);

	/* A lower bound other than 1 is dropped: tablecast's arrays are lists. */
	v = PARSE("[0:2]={1,2,3}", 1007);
	ck_assert_uint_eq(v.arr.n, 3);
	ck_assert_str_eq(TEXT_OF(&v), "{1,2,3}");

	/* Multidimensional arrays are refused, saying so. */
	PARSE_FAILS("{{1,2},{3,4}}", 1007,
	            "multidimensional arrays are not supported: \"{{1,2},{3,4}}\"");
	PARSE_FAILS("[1:2][1:1]={{1},{2}}", 1007,
	            "multidimensional arrays are not supported: \"[1:2][1:1]={{1},{2}}\"");
	/* An element's own error names the element. */
	PARSE_FAILS("{1,x}", 1007, "invalid input syntax for type integer: \"x\"");
}
END_TEST

START_TEST(test_array_output_quoting)
{
	/* array_out quotes empty strings, NULL look-alikes, blanks and {}",\ */
	static const char *const texts[] = {"plain", "",     "NULL", "null",      "a b",     "a,b",
	                                    "{x}",   "q\"q", "b\\s", "tab\there", "\xc3\xa9"};
	struct Value elems[sizeof(texts) / sizeof(texts[0]) + 1];
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		elems[i] = (struct Value){
		    .kind = VAL_TEXT, .typoid = OID_TEXT, .s = {texts[i], strlen(texts[i])}};
	elems[sizeof(texts) / sizeof(texts[0])] =
	    (struct Value){.kind = VAL_NULL, .typoid = OID_TEXT};
	struct Value arr = {
	    .kind = VAL_ARRAY, .typoid = 1009, .arr = {elems, sizeof(elems) / sizeof(elems[0])}};
	const char *want =
	    "{plain,\"\",\"NULL\",\"null\",\"a b\",\"a,b\",\"{x}\",\"q\\\"q\",\"b\\\\s\","
	    "\"tab\there\",\xc3\xa9,NULL}";
	ck_assert_str_eq(TEXT_OF(&arr), want);
	/* And it reads back to the same elements. */
	struct Value back = PARSE(want, 1009);
	ck_assert_uint_eq(back.arr.n, arr.arr.n);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_int_eq(back.arr.elems[i].kind, VAL_TEXT);
		ck_assert_uint_eq(back.arr.elems[i].s.len, strlen(texts[i]));
		ck_assert_int_eq(memcmp(back.arr.elems[i].s.p, texts[i], strlen(texts[i])), 0);
	}
	ck_assert_int_eq(back.arr.elems[arr.arr.n - 1].kind, VAL_NULL);

	/* Non-text elements print by their type: float4 shortest, dates, bools, bytea. */
	struct Value mixed[] = {
	    {.kind = VAL_FLOAT, .typoid = OID_FLOAT4, .f = (double)0.1f},
	    {.kind = VAL_FLOAT, .typoid = OID_FLOAT8, .f = 0.1},
	    {.kind = VAL_FLOAT, .typoid = 0, .f = -0.0},
	    {.kind = VAL_DATE, .typoid = OID_DATE, .date = -735160},
	    {.kind = VAL_TIMESTAMP, .typoid = OID_TIMESTAMPTZ, .ts = 0},
	    {.kind = VAL_BOOL, .typoid = OID_BOOL, .b = true},
	    {.kind = VAL_BYTEA, .typoid = OID_BYTEA, .s = {"\x01", 1}},
	    {.kind = VAL_INT, .typoid = OID_INT8, .i = INT64_MIN},
	    {.kind = VAL_NUMERIC, .typoid = OID_NUMERIC, .s = {"NaN", 3}},
	};
	arr = (struct Value){.kind = VAL_ARRAY, .arr = {mixed, sizeof(mixed) / sizeof(mixed[0])}};
	ck_assert_str_eq(TEXT_OF(&arr),
	                 "{0.1,0.1,-0,\"0044-03-15 BC\",\"1970-01-01 00:00:00+00\",t,\"\\\\x01\","
	                 "-9223372036854775808,NaN}");
}
END_TEST

/* ---- the table: PostgreSQL 15's verdict on each input ------------------------------ */

/*
 * Each input was cast in PostgreSQL 15.20 with DateStyle ISO, TimeZone UTC,
 * extra_float_digits 3 and bytea_output hex: out is what it printed, err
 * its message (without the position). value_parse then value_to_text must
 * give the same. Array types by OID: 1007 int4[], 1009 text[], ...
 */
static const struct {
	uint32_t typoid;
	const char *in;
	const char *out;
	const char *err;
} pg_cases[] = {
    /* bool */
    {OID_BOOL, "t", "t", NULL},
    {OID_BOOL, "f", "f", NULL},
    {OID_BOOL, "TRUE", "t", NULL},
    {OID_BOOL, " yes ", "t", NULL},
    {OID_BOOL, "of", "f", NULL},
    {OID_BOOL, "on", "t", NULL},
    {OID_BOOL, "0", "f", NULL},
    {OID_BOOL, "1", "t", NULL},
    {OID_BOOL, "o", NULL, "invalid input syntax for type boolean: \"o\""},
    {OID_BOOL, "maybe", NULL, "invalid input syntax for type boolean: \"maybe\""},
    {OID_BOOL, "", NULL, "invalid input syntax for type boolean: \"\""},
    {OID_BOOL, "10", NULL, "invalid input syntax for type boolean: \"10\""},
    {OID_BOOL, "tr", "t", NULL},
    /* int2 */
    {OID_INT2, "32767", "32767", NULL},
    {OID_INT2, "-32768", "-32768", NULL},
    {OID_INT2, " 12 ", "12", NULL},
    {OID_INT2, "+7", "7", NULL},
    {OID_INT2, "32768", NULL, "value \"32768\" is out of range for type smallint"},
    {OID_INT2, "-32769", NULL, "value \"-32769\" is out of range for type smallint"},
    {OID_INT2, "99999x", NULL, "value \"99999x\" is out of range for type smallint"},
    {OID_INT2, "32768x", NULL, "invalid input syntax for type smallint: \"32768x\""},
    {OID_INT2, "12x", NULL, "invalid input syntax for type smallint: \"12x\""},
    {OID_INT2, "", NULL, "invalid input syntax for type smallint: \"\""},
    {OID_INT2, " ", NULL, "invalid input syntax for type smallint: \" \""},
    {OID_INT2, "1 2", NULL, "invalid input syntax for type smallint: \"1 2\""},
    {OID_INT2, "+-1", NULL, "invalid input syntax for type smallint: \"+-1\""},
    {OID_INT2, "0x10", NULL, "invalid input syntax for type smallint: \"0x10\""},
    {OID_INT2, "1_000", NULL, "invalid input syntax for type smallint: \"1_000\""},
    {OID_INT2, "12.5", NULL, "invalid input syntax for type smallint: \"12.5\""},
    {OID_INT2, "- 1", NULL, "invalid input syntax for type smallint: \"- 1\""},
    /* int4 */
    {OID_INT4, "2147483647", "2147483647", NULL},
    {OID_INT4, "-2147483648", "-2147483648", NULL},
    {OID_INT4, "2147483648", NULL, "value \"2147483648\" is out of range for type integer"},
    {OID_INT4, "2147483648x", NULL, "invalid input syntax for type integer: \"2147483648x\""},
    {OID_INT4, "2147483649x", NULL, "value \"2147483649x\" is out of range for type integer"},
    {OID_INT4, "-0", "0", NULL},
    {OID_INT4, "\t42\n", "42", NULL},
    /* int8 */
    {OID_INT8, "-9223372036854775808", "-9223372036854775808", NULL},
    {OID_INT8, "9223372036854775807", "9223372036854775807", NULL},
    {OID_INT8, "0", "0", NULL},
    {OID_INT8, "9223372036854775808", NULL,
     "value \"9223372036854775808\" is out of range for type bigint"},
    {OID_INT8, "-9223372036854775809", NULL,
     "value \"-9223372036854775809\" is out of range for type bigint"},
    {OID_INT8, "9223372036854775808x", NULL,
     "invalid input syntax for type bigint: \"9223372036854775808x\""},
    {OID_INT8, "99999999999999999999x", NULL,
     "value \"99999999999999999999x\" is out of range for type bigint"},
    {OID_INT8, "12x", NULL, "invalid input syntax for type bigint: \"12x\""},
    {OID_INT8, "", NULL, "invalid input syntax for type bigint: \"\""},
    {OID_INT8, "٣", NULL, "invalid input syntax for type bigint: \"٣\""},
    /* oid */
    {OID_OID, "0", "0", NULL},
    {OID_OID, "4294967295", "4294967295", NULL},
    {OID_OID, "-1", "4294967295", NULL},
    {OID_OID, "-2147483648", "2147483648", NULL},
    {OID_OID, " 5 ", "5", NULL},
    {OID_OID, "+5", "5", NULL},
    {OID_OID, "-0", "0", NULL},
    {OID_OID, "4294967296", NULL, "value \"4294967296\" is out of range for type oid"},
    {OID_OID, "-2147483649", NULL, "value \"-2147483649\" is out of range for type oid"},
    {OID_OID, "-4294967295", NULL, "value \"-4294967295\" is out of range for type oid"},
    {OID_OID, "4294967296x", NULL, "invalid input syntax for type oid: \"4294967296x\""},
    {OID_OID, "99999999999999999999999x", NULL,
     "value \"99999999999999999999999x\" is out of range for type oid"},
    {OID_OID, "99999999999999999999999", NULL,
     "value \"99999999999999999999999\" is out of range for type oid"},
    {OID_OID, "", NULL, "invalid input syntax for type oid: \"\""},
    {OID_OID, " ", NULL, "invalid input syntax for type oid: \" \""},
    {OID_OID, "- 5", NULL, "invalid input syntax for type oid: \"- 5\""},
    {OID_OID, "12x", NULL, "invalid input syntax for type oid: \"12x\""},
    /* numeric */
    {OID_NUMERIC, "-123456789012345678901234567890.123456789",
     "-123456789012345678901234567890.123456789", NULL},
    {OID_NUMERIC, "0", "0", NULL},
    {OID_NUMERIC, "NaN", "NaN", NULL},
    {OID_NUMERIC, "nan", "NaN", NULL},
    {OID_NUMERIC, " NaN ", "NaN", NULL},
    {OID_NUMERIC, "Infinity", "Infinity", NULL},
    {OID_NUMERIC, "-Infinity", "-Infinity", NULL},
    {OID_NUMERIC, "inf", "Infinity", NULL},
    {OID_NUMERIC, "+inf", "Infinity", NULL},
    {OID_NUMERIC, "+Infinity", "Infinity", NULL},
    {OID_NUMERIC, "-inf", "-Infinity", NULL},
    {OID_NUMERIC, "1e5", "100000", NULL},
    {OID_NUMERIC, "1E+5", "100000", NULL},
    {OID_NUMERIC, "-1.5e-3", "-0.0015", NULL},
    {OID_NUMERIC, "12e-1", "1.2", NULL},
    {OID_NUMERIC, "+1.50e1", "15.0", NULL},
    {OID_NUMERIC, "-0", "0", NULL},
    {OID_NUMERIC, "-0.00", "0.00", NULL},
    {OID_NUMERIC, "007", "7", NULL},
    {OID_NUMERIC, "5.", "5", NULL},
    {OID_NUMERIC, ".5", "0.5", NULL},
    {OID_NUMERIC, " 12.50 ", "12.50", NULL},
    {OID_NUMERIC, "0e100000000", "0", NULL},
    {OID_NUMERIC, "00.000e2", "0.0", NULL},
    {OID_NUMERIC, "-0e5", "0", NULL},
    {OID_NUMERIC, "0.000", "0.000", NULL},
    {OID_NUMERIC, "1e-3", "0.001", NULL},
    {OID_NUMERIC, "0e-5", "0.00000", NULL},
    {OID_NUMERIC, "-.5e1", "-5", NULL},
    {OID_NUMERIC, ".", NULL, "invalid input syntax for type numeric: \".\""},
    {OID_NUMERIC, "1e", NULL, "invalid input syntax for type numeric: \"1e\""},
    {OID_NUMERIC, "e5", NULL, "invalid input syntax for type numeric: \"e5\""},
    {OID_NUMERIC, "1.2.3", NULL, "invalid input syntax for type numeric: \"1.2.3\""},
    {OID_NUMERIC, "abc", NULL, "invalid input syntax for type numeric: \"abc\""},
    {OID_NUMERIC, "-nan", NULL, "invalid input syntax for type numeric: \"-nan\""},
    {OID_NUMERIC, "1_000", NULL, "invalid input syntax for type numeric: \"1_000\""},
    {OID_NUMERIC, "0x10", NULL, "invalid input syntax for type numeric: \"0x10\""},
    {OID_NUMERIC, "", NULL, "invalid input syntax for type numeric: \"\""},
    {OID_NUMERIC, "+", NULL, "invalid input syntax for type numeric: \"+\""},
    {OID_NUMERIC, "1e+", NULL, "invalid input syntax for type numeric: \"1e+\""},
    {OID_NUMERIC, "1e131072", NULL, "value overflows numeric format"},
    {OID_NUMERIC, "1e-16384", NULL, "value overflows numeric format"},
    {OID_NUMERIC, "0e-16384", NULL, "value overflows numeric format"},
    {OID_NUMERIC, "1e100000000", NULL, "value overflows numeric format"},
    {OID_NUMERIC, "1e-20000", NULL, "value overflows numeric format"},
    /* float8 */
    {OID_FLOAT8, "1.5", "1.5", NULL},
    {OID_FLOAT8, "-0", "-0", NULL},
    {OID_FLOAT8, "0", "0", NULL},
    {OID_FLOAT8, "NaN", "NaN", NULL},
    {OID_FLOAT8, "nan", "NaN", NULL},
    {OID_FLOAT8, "-nan", "NaN", NULL},
    {OID_FLOAT8, " NaN ", "NaN", NULL},
    {OID_FLOAT8, "Infinity", "Infinity", NULL},
    {OID_FLOAT8, "-Infinity", "-Infinity", NULL},
    {OID_FLOAT8, "inf", "Infinity", NULL},
    {OID_FLOAT8, "infinity", "Infinity", NULL},
    {OID_FLOAT8, "+inf", "Infinity", NULL},
    {OID_FLOAT8, "1e30", "1e+30", NULL},
    {OID_FLOAT8, "1e+30", "1e+30", NULL},
    {OID_FLOAT8, "5e-324", "5e-324", NULL},
    {OID_FLOAT8, "4.9406564584124654e-324", "5e-324", NULL},
    {OID_FLOAT8, "2.2250738585072009e-308", "2.225073858507201e-308", NULL},
    {OID_FLOAT8, "2.2250738585072014e-308", "2.2250738585072014e-308", NULL},
    {OID_FLOAT8, "1.7976931348623157e308", "1.7976931348623157e+308", NULL},
    {OID_FLOAT8, "0.1", "0.1", NULL},
    {OID_FLOAT8, "100", "100", NULL},
    {OID_FLOAT8, "1e15", "1e+15", NULL},
    {OID_FLOAT8, "123456789012345", "123456789012345", NULL},
    {OID_FLOAT8, "1e-4", "0.0001", NULL},
    {OID_FLOAT8, "1e-5", "1e-05", NULL},
    {OID_FLOAT8, "0x1p3", "8", NULL},
    {OID_FLOAT8, " 1.5 ", "1.5", NULL},
    {OID_FLOAT8, "9007199254740993", "9.007199254740992e+15", NULL},
    {OID_FLOAT8, "7.120236347223045e-307", "7.120236347223045e-307", NULL},
    {OID_FLOAT8, "0.30000000000000004", "0.30000000000000004", NULL},
    {OID_FLOAT8, "1e22", "1e+22", NULL},
    {OID_FLOAT8, "1e23", "9.999999999999999e+22", NULL},
    {OID_FLOAT8, "-1.5e-10", "-1.5e-10", NULL},
    {OID_FLOAT8, "123456.789", "123456.789", NULL},
    {OID_FLOAT8, "1e400", NULL, "\"1e400\" is out of range for type double precision"},
    {OID_FLOAT8, " 1e400 ", NULL, "\"1e400\" is out of range for type double precision"},
    {OID_FLOAT8, "-1e400", NULL, "\"-1e400\" is out of range for type double precision"},
    {OID_FLOAT8, "1e-400", NULL, "\"1e-400\" is out of range for type double precision"},
    {OID_FLOAT8, "abc", NULL, "invalid input syntax for type double precision: \"abc\""},
    {OID_FLOAT8, "", NULL, "invalid input syntax for type double precision: \"\""},
    {OID_FLOAT8, "1.5x", NULL, "invalid input syntax for type double precision: \"1.5x\""},
    {OID_FLOAT8, "1.5 x", NULL, "invalid input syntax for type double precision: \"1.5 x\""},
    {OID_FLOAT8, "nan(1)", "NaN", NULL},
    {OID_FLOAT8, "--1", NULL, "invalid input syntax for type double precision: \"--1\""},
    /* float4 */
    {OID_FLOAT4, "1.5", "1.5", NULL},
    {OID_FLOAT4, "-0", "-0", NULL},
    {OID_FLOAT4, "NaN", "NaN", NULL},
    {OID_FLOAT4, "-INF", "-Infinity", NULL},
    {OID_FLOAT4, "3.4028235e+38", "3.4028235e+38", NULL},
    {OID_FLOAT4, "3.4028235e38", "3.4028235e+38", NULL},
    {OID_FLOAT4, "1e-45", "1e-45", NULL},
    {OID_FLOAT4, "1.17549435e-38", "1.1754944e-38", NULL},
    {OID_FLOAT4, "0.1", "0.1", NULL},
    {OID_FLOAT4, "-117760704", "-1.17760704e+08", NULL},
    {OID_FLOAT4, "16777216", "1.6777216e+07", NULL},
    {OID_FLOAT4, "16777217", "1.6777216e+07", NULL},
    {OID_FLOAT4, "123456", "123456", NULL},
    {OID_FLOAT4, "1234567", "1.234567e+06", NULL},
    {OID_FLOAT4, "1e6", "1e+06", NULL},
    {OID_FLOAT4, "0.0001", "0.0001", NULL},
    {OID_FLOAT4, "0.00001", "1e-05", NULL},
    {OID_FLOAT4, "1.1", "1.1", NULL},
    {OID_FLOAT4, "1e39", NULL, "\"1e39\" is out of range for type real"},
    {OID_FLOAT4, "3.4028236e38", NULL, "\"3.4028236e38\" is out of range for type real"},
    {OID_FLOAT4, "1e-46", NULL, "\"1e-46\" is out of range for type real"},
    {OID_FLOAT4, "-1e39", NULL, "\"-1e39\" is out of range for type real"},
    {OID_FLOAT4, "abc", NULL, "invalid input syntax for type real: \"abc\""},
    {OID_FLOAT4, "", NULL, "invalid input syntax for type real: \"\""},
    /* text */
    {OID_TEXT, "héllo wörld ☃ 😀", "héllo wörld ☃ 😀", NULL},
    {OID_TEXT, "", "", NULL},
    {OID_TEXT, " padded ", " padded ", NULL},
    /* varchar */
    {OID_VARCHAR, "abc", "abc", NULL},
    {OID_VARCHAR, "", "", NULL},
    /* bpchar */
    {OID_BPCHAR, "ab   ", "ab   ", NULL},
    /* name */
    {OID_NAME, "pg_catalog", "pg_catalog", NULL},
    /* json */
    {OID_JSON, "{\"a\": [1, 2.50, \"x\"]}", "{\"a\": [1, 2.50, \"x\"]}", NULL},
    {OID_JSON, " [1,2] ", " [1,2] ", NULL},
    /* jsonb */
    {OID_JSONB, "{\"a\": [1, 2.50, \"x\"]}", "{\"a\": [1, 2.50, \"x\"]}", NULL},
    /* bytea */
    {OID_BYTEA, "\\x00ff10", "\\x00ff10", NULL},
    {OID_BYTEA, "\\x", "\\x", NULL},
    {OID_BYTEA, "\\x00\n01", "\\x0001", NULL},
    {OID_BYTEA, "\\xDEADbeef", "\\xdeadbeef", NULL},
    {OID_BYTEA, "\\x 00 ff ", "\\x00ff", NULL},
    {OID_BYTEA, "a\\000b\\\\c", "\\x6100625c63", NULL},
    {OID_BYTEA, "abc", "\\x616263", NULL},
    {OID_BYTEA, "", "\\x", NULL},
    {OID_BYTEA, "\\\\x00", "\\x5c783030", NULL},
    {OID_BYTEA, "é", "\\xc3a9", NULL},
    {OID_BYTEA, "\\x001", NULL, "invalid hexadecimal data: odd number of digits"},
    {OID_BYTEA, "\\x0g", NULL, "invalid hexadecimal digit: \"g\""},
    {OID_BYTEA, "\\xg0", NULL, "invalid hexadecimal digit: \"g\""},
    {OID_BYTEA, "\\x00\f01", NULL, "invalid hexadecimal digit: \"\f\""},
    {OID_BYTEA, "\\x0 1", NULL, "invalid hexadecimal digit: \" \""},
    {OID_BYTEA, "a\\", NULL, "invalid input syntax for type bytea"},
    {OID_BYTEA, "\\400", NULL, "invalid input syntax for type bytea"},
    {OID_BYTEA, "\\X00", NULL, "invalid input syntax for type bytea"},
    {OID_BYTEA, "\\x0", NULL, "invalid hexadecimal data: odd number of digits"},
    /* uuid */
    {OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     NULL},
    {OID_UUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     NULL},
    {OID_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     NULL},
    {OID_UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", NULL},
    {OID_UUID, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     NULL},
    {OID_UUID, " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", NULL,
     "invalid input syntax for type uuid: \" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
    {OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ", NULL,
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 \""},
    {OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", NULL,
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\""},
    {OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", NULL,
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-\""},
    {OID_UUID, "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11", NULL,
     "invalid input syntax for type uuid: \"a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
    {OID_UUID, "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", NULL,
     "invalid input syntax for type uuid: \"a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11\""},
    {OID_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", NULL,
     "invalid input syntax for type uuid: \"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
    {OID_UUID, "zzz", NULL, "invalid input syntax for type uuid: \"zzz\""},
    {OID_UUID, "", NULL, "invalid input syntax for type uuid: \"\""},
    {OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1100", NULL,
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1100\""},
    /* date */
    {OID_DATE, "2026-11-21", "2026-11-21", NULL},
    {OID_DATE, "1969-07-20", "1969-07-20", NULL},
    {OID_DATE, "0044-03-15 BC", "0044-03-15 BC", NULL},
    {OID_DATE, "9999-12-31", "9999-12-31", NULL},
    {OID_DATE, "infinity", "infinity", NULL},
    {OID_DATE, "-infinity", "-infinity", NULL},
    {OID_DATE, "Infinity", "infinity", NULL},
    {OID_DATE, "epoch", "1970-01-01", NULL},
    {OID_DATE, "EPOCH", "1970-01-01", NULL},
    {OID_DATE, "2026-1-1", "2026-01-01", NULL},
    {OID_DATE, "2024-02-29", "2024-02-29", NULL},
    {OID_DATE, "2000-02-29", "2000-02-29", NULL},
    {OID_DATE, "0005-02-29 BC", "0005-02-29 BC", NULL},
    {OID_DATE, "5874897-12-31", "5874897-12-31", NULL},
    {OID_DATE, "4714-11-24 BC", "4714-11-24 BC", NULL},
    {OID_DATE, "2026-11-21 05:41:41", "2026-11-21", NULL},
    {OID_DATE, "2026-11-21 05:41:41+05", "2026-11-21", NULL},
    {OID_DATE, "10000-01-01", "10000-01-01", NULL},
    {OID_DATE, " 2026-01-01 ", "2026-01-01", NULL},
    {OID_DATE, "2026-01-01 AD", "2026-01-01", NULL},
    {OID_DATE, "0001-01-01 BC", "0001-01-01 BC", NULL},
    {OID_DATE, "1970-01-01", "1970-01-01", NULL},
    {OID_DATE, "2000-01-01", "2000-01-01", NULL},
    {OID_DATE, "026-01-01", "0026-01-01", NULL},
    {OID_DATE, "2026-02-30", NULL, "date/time field value out of range: \"2026-02-30\""},
    {OID_DATE, "2026-13-01", NULL, "date/time field value out of range: \"2026-13-01\""},
    {OID_DATE, "0000-01-01", NULL, "date/time field value out of range: \"0000-01-01\""},
    {OID_DATE, "1900-02-29", NULL, "date/time field value out of range: \"1900-02-29\""},
    {OID_DATE, "0004-02-29 BC", NULL, "date/time field value out of range: \"0004-02-29 BC\""},
    {OID_DATE, "2026-01-01 25:00:00", NULL,
     "date/time field value out of range: \"2026-01-01 25:00:00\""},
    {OID_DATE, "2026-01-01 24:00:01", NULL,
     "date/time field value out of range: \"2026-01-01 24:00:01\""},
    {OID_DATE, "2026-02-30 12:00:00", NULL,
     "date/time field value out of range: \"2026-02-30 12:00:00\""},
    {OID_DATE, "5874898-01-01", NULL, "date out of range: \"5874898-01-01\""},
    {OID_DATE, "4714-11-23 BC", NULL, "date out of range: \"4714-11-23 BC\""},
    {OID_DATE, "garbage", NULL, "invalid input syntax for type date: \"garbage\""},
    {OID_DATE, "+infinity", NULL, "invalid input syntax for type date: \"+infinity\""},
    {OID_DATE, "2026-01-01 BC BC", NULL,
     "invalid input syntax for type date: \"2026-01-01 BC BC\""},
    {OID_DATE, "2026-01-01T", NULL, "invalid input syntax for type date: \"2026-01-01T\""},
    {OID_DATE, "", NULL, "invalid input syntax for type date: \"\""},
    {OID_DATE, "2026-01-01x", NULL, "invalid input syntax for type date: \"2026-01-01x\""},
    /* timestamp */
    {OID_TIMESTAMP, "2026-11-21 05:41:41.240664", "2026-11-21 05:41:41.240664", NULL},
    {OID_TIMESTAMP, "1901-12-13 20:45:52.000001", "1901-12-13 20:45:52.000001", NULL},
    {OID_TIMESTAMP, "2262-04-11 23:47:16.854775", "2262-04-11 23:47:16.854775", NULL},
    {OID_TIMESTAMP, "0044-03-15 12:00:00 BC", "0044-03-15 12:00:00 BC", NULL},
    {OID_TIMESTAMP, "infinity", "infinity", NULL},
    {OID_TIMESTAMP, "-infinity", "-infinity", NULL},
    {OID_TIMESTAMP, "epoch", "1970-01-01 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 24:00:00", "2026-01-02 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 23:59:60", "2026-01-02 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:60.5", "2026-01-01 12:01:00.5", NULL},
    {OID_TIMESTAMP, "2026-01-01 00:00:00.0000005", "2026-01-01 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 00:00:00.0000015", "2026-01-01 00:00:00.000002", NULL},
    {OID_TIMESTAMP, "2026-01-01 00:00:00.0000025", "2026-01-01 00:00:00.000002", NULL},
    {OID_TIMESTAMP, "2026-01-01 00:00:00.9999995", "2026-01-01 00:00:01", NULL},
    {OID_TIMESTAMP, "2026-01-01 23:59:59.9999995", "2026-01-02 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 24:00:00.0000005", "2026-01-02 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01T12:00", "2026-01-01 12:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:00+05", "2026-01-01 12:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01", "2026-01-01 00:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:00.", "2026-01-01 12:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 1:2:3", "2026-01-01 01:02:03", NULL},
    {OID_TIMESTAMP, "294247-01-10 04:00:54.775806", "294247-01-10 04:00:54.775806", NULL},
    {OID_TIMESTAMP, "4714-11-24 00:00:00 BC", "4714-11-24 00:00:00 BC", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:00 bc", "2026-01-01 12:00:00 BC", NULL},
    {OID_TIMESTAMP, "1970-01-01 00:00:00.5", "1970-01-01 00:00:00.5", NULL},
    {OID_TIMESTAMP, "1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:00.100", "2026-01-01 12:00:00.1", NULL},
    {OID_TIMESTAMP, "2026-01-01 12:00:00.120000", "2026-01-01 12:00:00.12", NULL},
    {OID_TIMESTAMP, "2026-01-01   12:00:00", "2026-01-01 12:00:00", NULL},
    {OID_TIMESTAMP, "2026-01-01 23:59:60.5", NULL,
     "date/time field value out of range: \"2026-01-01 23:59:60.5\""},
    {OID_TIMESTAMP, "2026-01-01 12:60:00", NULL,
     "date/time field value out of range: \"2026-01-01 12:60:00\""},
    {OID_TIMESTAMP, "2026-01-01 25:00:00", NULL,
     "date/time field value out of range: \"2026-01-01 25:00:00\""},
    {OID_TIMESTAMP, "2026-01-01 24:00:00.5", NULL,
     "date/time field value out of range: \"2026-01-01 24:00:00.5\""},
    {OID_TIMESTAMP, "2026-01-01 12", NULL,
     "invalid input syntax for type timestamp: \"2026-01-01 12\""},
    {OID_TIMESTAMP, "294277-01-01", NULL, "timestamp out of range: \"294277-01-01\""},
    {OID_TIMESTAMP, "4714-11-23 23:59:59 BC", NULL,
     "timestamp out of range: \"4714-11-23 23:59:59 BC\""},
    {OID_TIMESTAMP, "+infinity", NULL, "invalid input syntax for type timestamp: \"+infinity\""},
    {OID_TIMESTAMP, "2026-01-01 12:00:00 xyz", NULL,
     "invalid input syntax for type timestamp: \"2026-01-01 12:00:00 xyz\""},
    {OID_TIMESTAMP, "2026-01-01T", NULL,
     "invalid input syntax for type timestamp: \"2026-01-01T\""},
    {OID_TIMESTAMP, "2026-01-01 12:00:00+16", NULL,
     "time zone displacement out of range: \"2026-01-01 12:00:00+16\""},
    {OID_TIMESTAMP, "garbage", NULL, "invalid input syntax for type timestamp: \"garbage\""},
    /* timestamptz */
    {OID_TIMESTAMPTZ, "2026-11-21 05:41:41.240664+00", "2026-11-21 05:41:41.240664+00", NULL},
    {OID_TIMESTAMPTZ, "2026-11-21 05:41:41+05:30", "2026-11-21 00:11:41+00", NULL},
    {OID_TIMESTAMPTZ, "2026-11-21 05:41:41-08", "2026-11-21 13:41:41+00", NULL},
    {OID_TIMESTAMPTZ, "2026-11-21 05:41:41+05:30:15", "2026-11-21 00:11:26+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+0530", "2026-01-01 06:30:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+530", "2026-01-01 06:30:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+5", "2026-01-01 07:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+5:3", "2026-01-01 06:57:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+05:", "2026-01-01 07:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+1530", "2025-12-31 20:30:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+15:59:59", "2025-12-31 20:00:01+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00Z", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00z", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01T12:00:00Z", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00 UTC", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00 gmt", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 -05", "2026-01-01 05:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01+05", "2025-12-31 19:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "0044-03-15 12:00:00+00 BC", "0044-03-15 12:00:00+00 BC", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00 +05 BC", "2026-01-01 07:00:00+00 BC", NULL},
    {OID_TIMESTAMPTZ, "4714-11-23 23:00:00-02 BC", "4714-11-24 01:00:00+00 BC", NULL},
    {OID_TIMESTAMPTZ, "epoch", "1970-01-01 00:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "Infinity", "infinity", NULL},
    {OID_TIMESTAMPTZ, "-infinity", "-infinity", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00.123456789", "2026-01-01 12:00:00.123457+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 24:00:00+05", "2026-01-01 19:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00", "2026-01-01 12:00:00+00", NULL},
    {OID_TIMESTAMPTZ, "1901-12-13 20:45:52.000001+00", "1901-12-13 20:45:52.000001+00", NULL},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+16", NULL,
     "time zone displacement out of range: \"2026-01-01 12:00:00+16\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+05:60", NULL,
     "time zone displacement out of range: \"2026-01-01 12:00:00+05:60\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+1600", NULL,
     "time zone displacement out of range: \"2026-01-01 12:00:00+1600\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+053015", NULL,
     "time zone displacement out of range: \"2026-01-01 12:00:00+053015\""},
    {OID_TIMESTAMPTZ, "2026-01-01-05", NULL,
     "invalid input syntax for type timestamp with time zone: \"2026-01-01-05\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+", NULL,
     "invalid input syntax for type timestamp with time zone: \"2026-01-01 12:00:00+\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00+05:30:15.5", NULL,
     "invalid input syntax for type timestamp with time zone: \"2026-01-01 12:00:00+05:30:15.5\""},
    {OID_TIMESTAMPTZ, "garbage", NULL,
     "invalid input syntax for type timestamp with time zone: \"garbage\""},
    {OID_TIMESTAMPTZ, "+infinity", NULL,
     "invalid input syntax for type timestamp with time zone: \"+infinity\""},
    {OID_TIMESTAMPTZ, "294277-01-01 00:00:00+00", NULL,
     "timestamp out of range: \"294277-01-01 00:00:00+00\""},
    {OID_TIMESTAMPTZ, "2026-01-01 12:00:00 UTCx", NULL,
     "invalid input syntax for type timestamp with time zone: \"2026-01-01 12:00:00 UTCx\""},
    /* int4[] */
    {1007, "{1,NULL,3}", "{1,NULL,3}", NULL},
    {1007, "{}", "{}", NULL},
    {1007, "{ }", "{}", NULL},
    {1007, " {1,2} ", "{1,2}", NULL},
    {1007, "{ 1 , 2 }", "{1,2}", NULL},
    {1007, "{null,NULL,Null}", "{NULL,NULL,NULL}", NULL},
    {1007, "{1,,2}", NULL, "malformed array literal: \"{1,,2}\""},
    {1007, "{1,}", NULL, "malformed array literal: \"{1,}\""},
    {1007, "{,}", NULL, "malformed array literal: \"{,}\""},
    {1007, "{1", NULL, "malformed array literal: \"{1\""},
    {1007, "1,2", NULL, "malformed array literal: \"1,2\""},
    {1007, "{1,x}", NULL, "invalid input syntax for type integer: \"x\""},
    {1007, "{\"1\"}", "{1}", NULL},
    {1007, "{\"1\",2}", "{1,2}", NULL},
    {1007, "{\"a\"b}", NULL, "malformed array literal: \"{\"a\"b}\""},
    {1007, "{a\"b\"}", NULL, "malformed array literal: \"{a\"b\"}\""},
    {1007, "{1}x", NULL, "malformed array literal: \"{1}x\""},
    {1007, "{2147483648}", NULL, "value \"2147483648\" is out of range for type integer"},
    {1007, "{1 2}", NULL, "invalid input syntax for type integer: \"1 2\""},
    /* text[] */
    {1009, "{\"a b\",\"c\\\"d\",\"\",NULL}", "{\"a b\",\"c\\\"d\",\"\",NULL}", NULL},
    {1009, "{\"NULL\",null, \"null\"}", "{\"NULL\",NULL,\"null\"}", NULL},
    {1009, "{a b,  c  }", "{\"a b\",c}", NULL},
    {1009, "{\"{a}\",\"a,b\"}", "{\"{a}\",\"a,b\"}", NULL},
    {1009, "{\"a\\\\b\"}", "{\"a\\\\b\"}", NULL},
    {1009, "{\"tab\there\"}", "{\"tab\there\"}", NULL},
    {1009, "{a\\ }", "{\"a \"}", NULL},
    {1009, "{\\NULL}", "{\"NULL\"}", NULL},
    {1009, "{\"\\x\"}", "{x}", NULL},
    {1009, "{é,\"ü ö\"}", "{é,\"ü ö\"}", NULL},
    {1009, "{\"\"}", "{\"\"}", NULL},
    {1009, "{\"a\"  ,  b}", "{a,b}", NULL},
    {1009, "{\\\"}", "{\"\\\"\"}", NULL},
    {1009, "{ \"x\" }", "{x}", NULL},
    {1009, "{\"a}", NULL, "malformed array literal: \"{\"a}\""},
    {1009, "{a\\}", NULL, "malformed array literal: \"{a\\}\""},
    {1009, "{\"a\"b}", NULL, "malformed array literal: \"{\"a\"b}\""},
    {1009, "{a\"b\"}", NULL, "malformed array literal: \"{a\"b\"}\""},
    {1009, "{\"a\" \"b\"}", NULL, "malformed array literal: \"{\"a\" \"b\"}\""},
    /* bytea[] */
    {1001, "{\"\\\\x0102\",NULL,\"\\\\x\"}", "{\"\\\\x0102\",NULL,\"\\\\x\"}", NULL},
    /* timestamptz[] */
    {1185, "{\"2026-11-21 05:41:41.240664+00\",infinity,NULL}",
     "{\"2026-11-21 05:41:41.240664+00\",infinity,NULL}", NULL},
    /* timestamp[] */
    {1115, "{\"2026-11-21 05:41:41.5\",\"0044-03-15 12:00:00 BC\"}",
     "{\"2026-11-21 05:41:41.5\",\"0044-03-15 12:00:00 BC\"}", NULL},
    /* float8[] */
    {1022, "{1.5,NaN,-Infinity,-0,1e+30}", "{1.5,NaN,-Infinity,-0,1e+30}", NULL},
    /* float4[] */
    {1021, "{1.5,-117760704,0.1}", "{1.5,-1.17760704e+08,0.1}", NULL},
    /* numeric[] */
    {1231, "{1.50,NaN,1e5}", "{1.50,NaN,100000}", NULL},
    /* bool[] */
    {1000, "{t,f,NULL,yes}", "{t,f,NULL,t}", NULL},
    /* date[] */
    {1182, "{2026-11-21,infinity,\"0044-03-15 BC\"}", "{2026-11-21,infinity,\"0044-03-15 BC\"}",
     NULL},
    /* uuid[] */
    {2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,A0EEBC999C0B4EF8BB6D6BB9BD380A12}",
     "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12}", NULL},
    /* jsonb[] */
    {3807, "{\"{\\\"a\\\": 1}\",NULL}", "{\"{\\\"a\\\": 1}\",NULL}", NULL},
    /* int8[] */
    {1016, "{-9223372036854775808,9223372036854775807}",
     "{-9223372036854775808,9223372036854775807}", NULL},
    /* varchar[] */
    {1015, "{abc,\"d e\"}", "{abc,\"d e\"}", NULL},
    /* bpchar[] */
    {1014, "{\"a  \",b}", "{\"a  \",b}", NULL},
    /* oid[] */
    {1028, "{-1,0}", "{4294967295,0}", NULL},
    /* name[] */
    {1003, "{pg_catalog}", "{pg_catalog}", NULL},
    /* int2[] */
    {1005, "{1,99999}", NULL, "value \"99999\" is out of range for type smallint"},
};

START_TEST(test_postgres_cases)
{
	for (size_t i = 0; i < sizeof(pg_cases) / sizeof(pg_cases[0]); i++) {
		struct Value v;
		err[0] = '\0';
		int rc = value_parse(pg_cases[i].in, strlen(pg_cases[i].in), pg_cases[i].typoid,
		                     arena, &v, err, sizeof(err));
		if (pg_cases[i].err) {
			ck_assert_msg(rc == -1, "case %zu (%u \"%s\"): accepted, want \"%s\"", i,
			              pg_cases[i].typoid, pg_cases[i].in, pg_cases[i].err);
			ck_assert_msg(strcmp(err, pg_cases[i].err) == 0,
			              "case %zu (%u \"%s\"): \"%s\", want \"%s\"", i,
			              pg_cases[i].typoid, pg_cases[i].in, err, pg_cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu (%u \"%s\"): %s", i, pg_cases[i].typoid,
		              pg_cases[i].in, err);
		ck_assert_int_eq(v.kind, value_kind_of_type(pg_cases[i].typoid));
		const char *text = TEXT_OF(&v);
		ck_assert_msg(strcmp(text, pg_cases[i].out) == 0,
		              "case %zu (%u \"%s\"): \"%s\", want \"%s\"", i, pg_cases[i].typoid,
		              pg_cases[i].in, text, pg_cases[i].out);
		/* PostgreSQL's output is itself valid input, and prints the same again. */
		struct Value again;
		ck_assert_msg(value_parse(text, strlen(text), pg_cases[i].typoid, arena, &again,
		                          err, sizeof(err)) == 0,
		              "case %zu: output \"%s\" does not read back: %s", i, text, err);
		ck_assert_str_eq(TEXT_OF(&again), text);
	}
}
END_TEST

/* A test case of the suite, with a fresh arena for each test. */
static TCase *add_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60); /* the day-by-day calendar walk, under the sanitizers */
	suite_add_tcase(s, tc);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("value");
	TCase *tc = add_tcase(s, "types");
	tcase_add_test(tc, test_kind_of_type);
	tcase_add_test(tc, test_array_element_types);
	tcase_add_test(tc, test_names);
	tc = add_tcase(s, "columns");
	tcase_add_test(tc, test_column_kinds);
	tc = add_tcase(s, "scalars");
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_oid);
	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_float_values);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_bytea);
	tcase_add_test(tc, test_uuid);
	tc = add_tcase(s, "floats");
	tcase_add_test(tc, test_float_format);
	tcase_add_test(tc, test_float_round_trip);
	tc = add_tcase(s, "datetime");
	tcase_add_test(tc, test_civil_anchors);
	tcase_add_test(tc, test_civil_round_trip);
	tcase_add_test(tc, test_date_values);
	tcase_add_test(tc, test_timestamp_values);
	tcase_add_test(tc, test_timestamp_format);
	tcase_add_test(tc, test_unsupported_datetime_forms);
	tc = add_tcase(s, "arrays");
	tcase_add_test(tc, test_array_values);
	tcase_add_test(tc, test_array_output_quoting);
	tc = add_tcase(s, "postgres");
	tcase_add_test(tc, test_postgres_cases);
	return run_suite(s);
}
