/* Unit tests for src/encoder.c: exact wire bytes, JSON text and errors for every field type. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encoder.h"
#include "json_valid.h"
#include "run_suite.h"

/* ---- building events and values -------------------------------------------- */

static struct EventField field(const char *name, uint32_t number, enum field_type type)
{
	return (struct EventField){.name = (char *)name, .number = number, .type = type};
}

static struct EventField repeated(const char *name, uint32_t number, enum field_type type)
{
	struct EventField f = field(name, number, type);
	f.repeated = true;
	return f;
}

static char *status_labels[] = {(char *)"pending", (char *)"shipped", (char *)"in transit"};

static struct EventField status_field(uint32_t number)
{
	struct EventField f = field("status", number, FT_ENUM);
	f.enum_values = status_labels;
	f.n_enum_values = 3;
	return f;
}

static struct Value v_null(void)
{
	return (struct Value){.kind = VAL_NULL};
}

static struct Value v_int(int64_t i)
{
	return (struct Value){.kind = VAL_INT, .i = i};
}

static struct Value v_bool(bool b)
{
	return (struct Value){.kind = VAL_BOOL, .b = b};
}

static struct Value v_float(double f)
{
	return (struct Value){.kind = VAL_FLOAT, .f = f};
}

static struct Value v_str(enum value_kind kind, const char *s, size_t len)
{
	struct Value v = {.kind = kind};
	v.s.p = s;
	v.s.len = len;
	return v;
}

static struct Value v_num(const char *s)
{
	return v_str(VAL_NUMERIC, s, strlen(s));
}

static struct Value v_text(const char *s)
{
	return v_str(VAL_TEXT, s, strlen(s));
}

static struct Value v_ts(int64_t us)
{
	return (struct Value){.kind = VAL_TIMESTAMP, .ts = us};
}

static struct Value v_date(int32_t days)
{
	return (struct Value){.kind = VAL_DATE, .date = days};
}

static struct Value v_array(struct Value *elems, size_t n)
{
	struct Value v = {.kind = VAL_ARRAY};
	v.arr.elems = elems;
	v.arr.n = n;
	return v;
}

static struct StrBuf out;
static char err[256];

static void setup(void)
{
	sb_reset(&out);
	err[0] = '\0';
}

static void teardown(void)
{
	sb_free(&out);
}

static struct EventDef event_of(struct EventField *fields, size_t n)
{
	return (struct EventDef){
	    .name = (char *)"test.v.Event", .version = 1, .fields = fields, .nfields = n};
}

/* Encode a one-field event holding v; returns enc_protobuf's result. */
static int pb1(struct EventField f, struct Value v)
{
	struct EventDef ev = event_of(&f, 1);
	sb_reset(&out);
	err[0] = '\0';
	return enc_protobuf(&ev, &v, &out, err, sizeof(err));
}

static int json1(struct EventField f, struct Value v)
{
	struct EventDef ev = event_of(&f, 1);
	sb_reset(&out);
	err[0] = '\0';
	return enc_json(&ev, &v, &out, err, sizeof(err));
}

static void assert_bytes(const void *want, size_t len, int line)
{
	const uint8_t *w = want, *g = (const uint8_t *)out.data;
	if (out.len == len && (len == 0 || memcmp(g, w, len) == 0))
		return;
	char got_hex[1024] = "", want_hex[1024] = "";
	for (size_t i = 0; i < out.len && i < 300; i++)
		snprintf(got_hex + strlen(got_hex), sizeof(got_hex) - strlen(got_hex), "%02x ",
		         g[i]);
	for (size_t i = 0; i < len && i < 300; i++)
		snprintf(want_hex + strlen(want_hex), sizeof(want_hex) - strlen(want_hex), "%02x ",
		         w[i]);
	ck_abort_msg("line %d: bytes differ\n got:  %s\n want: %s", line, got_hex, want_hex);
}

/* The last encoding is exactly these bytes. */
#define BYTES(...)                                                                                 \
	do {                                                                                       \
		static const uint8_t want_[] = {__VA_ARGS__};                                      \
		assert_bytes(want_, sizeof(want_), __LINE__);                                      \
	} while (0)

/* Encoding f = v succeeds with exactly these bytes. */
#define PB_OK(f, v, ...)                                                                           \
	do {                                                                                       \
		ck_assert_msg(pb1(f, v) == 0, "line %d: %s", __LINE__, err);                       \
		BYTES(__VA_ARGS__);                                                                \
	} while (0)

/* Encoding f = v fails with exactly this message, leaving nothing behind; JSON agrees. */
#define PB_ERR(f, v, msg)                                                                          \
	do {                                                                                       \
		ck_assert_int_eq(pb1(f, v), -1);                                                   \
		ck_assert_str_eq(err, msg);                                                        \
		ck_assert_uint_eq(out.len, 0);                                                     \
		ck_assert_int_eq(json1(f, v), -1);                                                 \
		ck_assert_str_eq(err, msg);                                                        \
		ck_assert_uint_eq(out.len, 0);                                                     \
	} while (0)

/* The JSON mapping of f = v is exactly text. */
#define JSON_OK(f, v, text)                                                                        \
	do {                                                                                       \
		ck_assert_msg(json1(f, v) == 0, "line %d: %s", __LINE__, err);                     \
		ck_assert_str_eq(out.data, text);                                                  \
	} while (0)

/* ---- wire writers ------------------------------------------------------------- */

START_TEST(test_varint_and_zigzag)
{
	enc_varint(&out, 0);
	enc_varint(&out, 1);
	enc_varint(&out, 127);
	enc_varint(&out, 128);
	enc_varint(&out, 300);
	enc_varint(&out, UINT64_MAX);
	/* 300 = 0b10_0101100: low group 0x2c with the more bit, then 0x02. */
	BYTES(0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0x01);
	ck_assert_uint_eq(enc_varint_size(0), 1);
	ck_assert_uint_eq(enc_varint_size(127), 1);
	ck_assert_uint_eq(enc_varint_size(128), 2);
	ck_assert_uint_eq(enc_varint_size(UINT64_MAX), 10);
	ck_assert_uint_eq(enc_zigzag32(0), 0);
	ck_assert_uint_eq(enc_zigzag32(-1), 1);
	ck_assert_uint_eq(enc_zigzag32(1), 2);
	ck_assert_uint_eq(enc_zigzag32(-2), 3);
	ck_assert_uint_eq(enc_zigzag32(INT32_MAX), UINT32_MAX - 1);
	ck_assert_uint_eq(enc_zigzag32(INT32_MIN), UINT32_MAX);
	ck_assert_uint_eq(enc_zigzag64(-1), 1);
	ck_assert_uint_eq(enc_zigzag64(INT64_MIN), UINT64_MAX);
	ck_assert_uint_eq(enc_zigzag64(INT64_MAX), UINT64_MAX - 1);
}
END_TEST

START_TEST(test_field_writers)
{
	enc_varint_field(&out, 1, 150); /* the protobuf docs' example: 08 96 01 */
	enc_string_field(&out, 2, "testing");
	enc_tag(&out, 16, ENC_WT_VARINT); /* (16 << 3) = 128: a two-byte tag */
	enc_varint(&out, 0);
	enc_tag(&out, 3, ENC_WT_FIXED32);
	enc_fixed32(&out, 0x3fc00000); /* 1.5f, little-endian */
	enc_tag(&out, 4, ENC_WT_FIXED64);
	enc_fixed64(&out, UINT64_C(0x3ff8000000000000)); /* 1.5 */
	enc_len_field(&out, 5, "", 0);
	BYTES(0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g', 0x80, 0x01, 0x00,
	      0x1d, 0x00, 0x00, 0xc0, 0x3f, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f,
	      0x2a, 0x00);
}
END_TEST

START_TEST(test_nested_messages)
{
	size_t outer = enc_message_begin(&out, 1);
	enc_varint_field(&out, 1, 1);
	size_t inner = enc_message_begin(&out, 2);
	enc_string_field(&out, 1, "x");
	enc_message_end(&out, inner);
	enc_message_end(&out, outer);
	size_t empty = enc_message_begin(&out, 3);
	enc_message_end(&out, empty);
	BYTES(0x0a, 0x07, 0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, 'x', 0x1a, 0x00);

	/* A payload of 200 bytes needs a two-byte length: c8 01. */
	sb_reset(&out);
	size_t m = enc_message_begin(&out, 1);
	char big[200];
	memset(big, 'a', sizeof(big));
	sb_append(&out, big, sizeof(big));
	enc_message_end(&out, m);
	ck_assert_uint_eq(out.len, 203);
	ck_assert_int_eq((uint8_t)out.data[0], 0x0a);
	ck_assert_int_eq((uint8_t)out.data[1], 0xc8);
	ck_assert_int_eq((uint8_t)out.data[2], 0x01);
	ck_assert_int_eq(out.data[3], 'a');
	ck_assert_int_eq(out.data[202], 'a');
}
END_TEST

START_TEST(test_timestamp_writer)
{
	enc_timestamp_field(&out, 1, 0, 0); /* the epoch: both fields zero, left out */
	enc_timestamp_field(&out, 2, 1, 0);
	enc_timestamp_field(&out, 3, 0, 13);
	BYTES(0x0a, 0x00, 0x12, 0x02, 0x08, 0x01, 0x1a, 0x02, 0x10, 0x0d);
}
END_TEST

/* ---- integers ----------------------------------------------------------------- */

START_TEST(test_int32_int64)
{
	PB_OK(field("id", 1, FT_INT64), v_int(150), 0x08, 0x96, 0x01);
	PB_OK(field("n", 1, FT_INT32), v_int(0), 0x08, 0x00); /* present zero is written */
	/* A negative int32 is sign-extended to 64 bits: always ten bytes. */
	PB_OK(field("n", 2, FT_INT32), v_int(-1), 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0x01);
	PB_OK(field("n", 1, FT_INT32), v_int(INT32_MIN), 0x08, 0x80, 0x80, 0x80, 0x80, 0xf8, 0xff,
	      0xff, 0xff, 0xff, 0x01);
	PB_OK(field("n", 1, FT_INT32), v_int(INT32_MAX), 0x08, 0xff, 0xff, 0xff, 0xff, 0x07);
	PB_OK(field("n", 1, FT_INT64), v_int(INT64_MIN), 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	      0x80, 0x80, 0x80, 0x01);
	PB_OK(field("n", 1, FT_INT64), v_int(INT64_MAX), 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0x7f);
	PB_ERR(field("quantity", 1, FT_INT32), v_int(3000000000),
	       "field \"quantity\" (int32): 3000000000 out of range");
	PB_ERR(field("quantity", 1, FT_INT32), v_int((int64_t)INT32_MIN - 1),
	       "field \"quantity\" (int32): -2147483649 out of range");
}
END_TEST

START_TEST(test_unsigned)
{
	PB_OK(field("n", 1, FT_UINT32), v_int(UINT32_MAX), 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f);
	PB_OK(field("n", 1, FT_UINT64), v_int(INT64_MAX), 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0x7f);
	PB_OK(field("n", 1, FT_UINT64), v_num("18446744073709551615"), 0x08, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	PB_OK(field("n", 1, FT_UINT32), v_num("-0"), 0x08, 0x00);
	PB_ERR(field("n", 1, FT_UINT32), v_int(-1), "field \"n\" (uint32): -1 out of range");
	PB_ERR(field("n", 1, FT_UINT32), v_int((int64_t)UINT32_MAX + 1),
	       "field \"n\" (uint32): 4294967296 out of range");
	PB_ERR(field("n", 1, FT_UINT64), v_int(-5), "field \"n\" (uint64): -5 out of range");
	PB_ERR(field("n", 1, FT_UINT64), v_num("18446744073709551616"),
	       "field \"n\" (uint64): \"18446744073709551616\" out of range");
}
END_TEST

START_TEST(test_zigzag_fields)
{
	PB_OK(field("n", 1, FT_SINT64), v_int(-1), 0x08, 0x01);
	PB_OK(field("n", 1, FT_SINT64), v_int(1), 0x08, 0x02);
	PB_OK(field("n", 1, FT_SINT32), v_int(-64), 0x08, 0x7f);
	PB_OK(field("n", 1, FT_SINT32), v_int(64), 0x08, 0x80, 0x01);
	PB_OK(field("n", 1, FT_SINT32), v_int(INT32_MIN), 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f);
	PB_OK(field("n", 1, FT_SINT64), v_int(INT64_MIN), 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0x01);
	PB_OK(field("n", 1, FT_SINT32), v_int(0), 0x08, 0x00);
	PB_ERR(field("n", 1, FT_SINT32), v_int(2147483648),
	       "field \"n\" (sint32): 2147483648 out of range");
}
END_TEST

START_TEST(test_numeric_to_integer)
{
	PB_OK(field("n", 1, FT_INT32), v_num("42"), 0x08, 0x2a);
	PB_OK(field("n", 1, FT_INT32), v_num("42.000"), 0x08, 0x2a);
	PB_OK(field("n", 1, FT_INT32), v_num("-0042"), 0x08, 0xd6, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0x01);
	PB_OK(field("n", 1, FT_INT64), v_num("-9223372036854775808"), 0x08, 0x80, 0x80, 0x80, 0x80,
	      0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
	PB_OK(field("n", 1, FT_SINT64), v_num("-1.0"), 0x08, 0x01);
	PB_ERR(field("n", 1, FT_INT64), v_num("-9223372036854775809"),
	       "field \"n\" (int64): \"-9223372036854775809\" out of range");
	PB_ERR(field("n", 1, FT_INT64), v_num("99999999999999999999999"),
	       "field \"n\" (int64): \"99999999999999999999999\" out of range");
	PB_ERR(field("n", 1, FT_INT32), v_num("42.5"),
	       "field \"n\" (int32): \"42.5\" is not an integer");
	PB_ERR(field("n", 1, FT_INT32), v_num("NaN"),
	       "field \"n\" (int32): \"NaN\" is not an integer");
	PB_ERR(field("n", 1, FT_INT32), v_num("-Infinity"),
	       "field \"n\" (int32): \"-Infinity\" is not an integer");
	PB_ERR(field("n", 1, FT_INT32), v_num("1e3"),
	       "field \"n\" (int32): \"1e3\" is not a number");
	PB_ERR(field("n", 1, FT_INT32), v_num("1."), "field \"n\" (int32): \"1.\" is not a number");
}
END_TEST

START_TEST(test_integer_wrong_kinds)
{
	PB_ERR(field("n", 1, FT_INT32), v_float(1.0),
	       "field \"n\" (int32): cannot hold a float value; cast it in the field's expression");
	PB_ERR(field("n", 1, FT_INT64), v_text("1"),
	       "field \"n\" (int64): cannot hold a text value; cast it in the field's expression");
	PB_ERR(
	    field("n", 1, FT_UINT32), v_bool(true),
	    "field \"n\" (uint32): cannot hold a boolean value; cast it in the field's expression");
	PB_ERR(field("n", 1, FT_SINT32), v_ts(0),
	       "field \"n\" (sint32): cannot hold a timestamp value; cast it in the field's "
	       "expression");
}
END_TEST

/* ---- bool, float, double --------------------------------------------------------- */

START_TEST(test_bool)
{
	PB_OK(field("b", 1, FT_BOOL), v_bool(true), 0x08, 0x01);
	PB_OK(field("b", 1, FT_BOOL), v_bool(false), 0x08, 0x00);
	PB_ERR(
	    field("b", 1, FT_BOOL), v_int(1),
	    "field \"b\" (bool): cannot hold an integer value; cast it in the field's expression");
}
END_TEST

START_TEST(test_float_double)
{
	/* Tag 0d = field 1, wire type 5; 1.5f = 0x3fc00000 little-endian. */
	PB_OK(field("f", 1, FT_FLOAT), v_float(1.5), 0x0d, 0x00, 0x00, 0xc0, 0x3f);
	/* Tag 09 = field 1, wire type 1; 0.1 = 0x3fb999999999999a. */
	PB_OK(field("d", 1, FT_DOUBLE), v_float(0.1), 0x09, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99,
	      0xb9, 0x3f);
	PB_OK(field("f", 1, FT_FLOAT), v_float(0.1), 0x0d, 0xcd, 0xcc, 0xcc, 0x3d);
	PB_OK(field("d", 1, FT_DOUBLE), v_float(0.0), 0x09, 0, 0, 0, 0, 0, 0, 0, 0);
	PB_OK(field("f", 1, FT_FLOAT), v_float(NAN), 0x0d, 0x00, 0x00, 0xc0, 0x7f);
	PB_OK(field("f", 1, FT_FLOAT), v_float(-INFINITY), 0x0d, 0x00, 0x00, 0x80, 0xff);
	PB_OK(field("d", 1, FT_DOUBLE), v_float(-1e300), 0x09, 0x9c, 0x75, 0x00, 0x88, 0x3c, 0xe4,
	      0x37, 0xfe);
	PB_ERR(field("f", 1, FT_FLOAT), v_float(1e39), "field \"f\" (float): 1e+39 out of range");
	PB_ERR(field("f", 1, FT_FLOAT), v_num("Infinityx"),
	       "field \"f\" (float): \"Infinityx\" is not a number");
	PB_ERR(field("d", 1, FT_DOUBLE), v_text("1.5"),
	       "field \"d\" (double): cannot hold a text value; cast it in the field's expression");
}
END_TEST

START_TEST(test_int_to_floating_exactly)
{
	PB_OK(field("f", 1, FT_FLOAT), v_int(16777216), 0x0d, 0x00, 0x00, 0x80, 0x4b);
	PB_ERR(field("f", 1, FT_FLOAT), v_int(16777217),
	       "field \"f\" (float): 16777217 is not exactly representable");
	PB_OK(field("d", 1, FT_DOUBLE), v_int(-2), 0x09, 0, 0, 0, 0, 0, 0, 0x00, 0xc0);
	PB_OK(field("d", 1, FT_DOUBLE), v_int(INT64_MIN), 0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0xc3);
	PB_ERR(field("d", 1, FT_DOUBLE), v_int(9007199254740993),
	       "field \"d\" (double): 9007199254740993 is not exactly representable");
	/* INT64_MAX rounds up to 2^63, which is not the same number. */
	PB_ERR(field("d", 1, FT_DOUBLE), v_int(INT64_MAX),
	       "field \"d\" (double): 9223372036854775807 is not exactly representable");
}
END_TEST

START_TEST(test_numeric_to_floating)
{
	PB_OK(field("d", 1, FT_DOUBLE), v_num("0.1"), 0x09, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99,
	      0xb9, 0x3f);
	PB_OK(field("f", 1, FT_FLOAT), v_num("0.1"), 0x0d, 0xcd, 0xcc, 0xcc, 0x3d);
	PB_OK(field("d", 1, FT_DOUBLE), v_num("NaN"), 0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f);
	PB_OK(field("d", 1, FT_DOUBLE), v_num("Infinity"), 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f);
	PB_OK(field("d", 1, FT_DOUBLE), v_num("-Infinity"), 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0xff);
	PB_OK(field("f", 1, FT_FLOAT), v_num("-Infinity"), 0x0d, 0x00, 0x00, 0x80, 0xff);
	PB_ERR(field("f", 1, FT_FLOAT), v_num("1000000000000000000000000000000000000000"),
	       "field \"f\" (float): \"1000000000000000000000000000000000000000\" out of range");

	/* Longer than the conversion buffer: 1 followed by 2000 zeros overflows a double... */
	static char huge[2002];
	huge[0] = '1';
	memset(huge + 1, '0', 2000);
	struct Value v = v_str(VAL_NUMERIC, huge, 2001);
	ck_assert_int_eq(pb1(field("d", 1, FT_DOUBLE), v), -1);
	ck_assert_str_eq(err, "field \"d\" (double): \"1000000000000000000000000000000000000000"
	                      "00000000000000000...\" out of range"); /* the first 57 bytes */
	/* ...while 0.000...0001 (1500 zeros) underflows to 0, as any rounding would. */
	static char tiny[1600];
	memcpy(tiny, "0.", 2);
	memset(tiny + 2, '0', 1500);
	tiny[1502] = '1';
	v = v_str(VAL_NUMERIC, tiny, 1503);
	PB_OK(field("d", 1, FT_DOUBLE), v, 0x09, 0, 0, 0, 0, 0, 0, 0, 0);
	/* 1.5 with 1500 trailing zeros and a 1: the dropped digits do not change the value. */
	memcpy(tiny, "1.5", 3);
	memset(tiny + 3, '0', 1500);
	tiny[1503] = '1';
	v = v_str(VAL_NUMERIC, tiny, 1504);
	PB_OK(field("d", 1, FT_DOUBLE), v, 0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f);
	/* Leading zeros do not count as integer digits: -000...0002.25 is -2.25, 000...0002 is 2.
	 */
	tiny[0] = '-';
	memset(tiny + 1, '0', 1500);
	memcpy(tiny + 1501, "2.25", 4);
	v = v_str(VAL_NUMERIC, tiny, 1505);
	PB_OK(field("d", 1, FT_DOUBLE), v, 0x09, 0, 0, 0, 0, 0, 0, 0x02, 0xc0);
	v = v_str(VAL_NUMERIC, tiny + 1, 1501);
	PB_OK(field("d", 1, FT_DOUBLE), v, 0x09, 0, 0, 0, 0, 0, 0, 0x00, 0x40);
}
END_TEST

/* ---- strings ------------------------------------------------------------------- */

START_TEST(test_string)
{
	PB_OK(field("s", 1, FT_STRING), v_text("hi"), 0x0a, 0x02, 'h', 'i');
	PB_OK(field("s", 1, FT_STRING), v_text(""), 0x0a, 0x00); /* present empty is written */
	PB_OK(field("s", 1, FT_STRING), v_text("\xc3\xa9"), 0x0a, 0x02, 0xc3, 0xa9);
	PB_OK(field("s", 1, FT_STRING), v_int(-42), 0x0a, 0x03, '-', '4', '2');
	PB_OK(field("s", 1, FT_STRING), v_num("12.50"), 0x0a, 0x05, '1', '2', '.', '5', '0');
	PB_OK(field("s", 1, FT_STRING), v_float(0.1), 0x0a, 0x03, '0', '.', '1');
	PB_OK(field("s", 1, FT_STRING), v_float(-INFINITY), 0x0a, 0x09, '-', 'I', 'n', 'f', 'i',
	      'n', 'i', 't', 'y');
	PB_OK(field("s", 1, FT_STRING), v_bool(false), 0x0a, 0x05, 'f', 'a', 'l', 's', 'e');
	PB_OK(field("s", 1, FT_STRING), v_ts(1795239701240664), 0x0a, 27, '2', '0', '2', '6', '-',
	      '1', '1', '-', '2', '1', 'T', '0', '5', ':', '4', '1', ':', '4', '1', '.', '2', '4',
	      '0', '6', '6', '4', 'Z');
	PB_OK(field("s", 1, FT_STRING), v_ts(0), 0x0a, 27, '1', '9', '7', '0', '-', '0', '1', '-',
	      '0', '1', 'T', '0', '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', '0', '0',
	      '0', 'Z');
	PB_OK(field("s", 1, FT_STRING), v_date(19782), 0x0a, 10, '2', '0', '2', '4', '-', '0', '2',
	      '-', '2', '9');
	PB_ERR(field("s", 1, FT_STRING), v_text("\xc3("),
	       "field \"s\" (string): text is not valid UTF-8");
	PB_ERR(field("s", 1, FT_STRING), v_text("\xed\xa0\x80"),
	       "field \"s\" (string): text is not valid UTF-8"); /* a surrogate */
	PB_ERR(field("s", 1, FT_STRING), v_text("\xc0\xaf"),
	       "field \"s\" (string): text is not valid UTF-8"); /* overlong '/' */
	PB_ERR(
	    field("s", 1, FT_STRING), v_str(VAL_BYTEA, "x", 1),
	    "field \"s\" (string): cannot hold a bytea value; cast it in the field's expression");
	PB_ERR(field("s", 1, FT_STRING), v_ts(VAL_TS_INFINITY),
	       "field \"s\" (string): timestamp 'infinity' cannot be represented");
}
END_TEST

START_TEST(test_bytes)
{
	PB_OK(field("b", 1, FT_BYTES), v_str(VAL_BYTEA, "\x00\xff", 2), 0x0a, 0x02, 0x00, 0xff);
	PB_OK(field("b", 1, FT_BYTES), v_str(VAL_BYTEA, "", 0), 0x0a, 0x00);
	PB_OK(field("b", 1, FT_BYTES), v_text("ab"), 0x0a, 0x02, 'a', 'b');
	PB_ERR(
	    field("b", 1, FT_BYTES), v_int(1),
	    "field \"b\" (bytes): cannot hold an integer value; cast it in the field's expression");
}
END_TEST

START_TEST(test_decimal)
{
	PB_OK(field("amount", 1, FT_DECIMAL), v_num("-12.50"), 0x0a, 0x06, '-', '1', '2', '.', '5',
	      '0');
	PB_OK(field("amount", 1, FT_DECIMAL), v_num("NaN"), 0x0a, 0x03, 'N', 'a', 'N');
	PB_OK(field("amount", 1, FT_DECIMAL), v_int(7), 0x0a, 0x01, '7');
	PB_OK(field("amount", 1, FT_DECIMAL), v_text("0.001"), 0x0a, 0x05, '0', '.', '0', '0', '1');
	PB_ERR(field("amount", 1, FT_DECIMAL), v_text("1e5"),
	       "field \"amount\" (decimal): \"1e5\" is not a valid decimal");
	PB_ERR(field("amount", 1, FT_DECIMAL), v_text(" 1"),
	       "field \"amount\" (decimal): \" 1\" is not a valid decimal");
	PB_ERR(field("amount", 1, FT_DECIMAL), v_text("nan"),
	       "field \"amount\" (decimal): \"nan\" is not a valid decimal");
	PB_ERR(field("amount", 1, FT_DECIMAL), v_float(1.5),
	       "field \"amount\" (decimal): cannot hold a float value; cast it in the field's "
	       "expression");
}
END_TEST

START_TEST(test_json_and_uuid)
{
	PB_OK(field("doc", 1, FT_JSON), v_text("{}"), 0x0a, 0x02, '{', '}');
	PB_ERR(field("doc", 1, FT_JSON), v_int(1),
	       "field \"doc\" (json): cannot hold an integer value; cast it in the field's "
	       "expression");
	/* Text from a text column must be one JSON value: the field promises JSON. */
	ck_assert_msg(pb1(field("doc", 1, FT_JSON),
			  v_text(" [1, -2.5e3, 0, \"a\\u00e9\\n\", {\"b\": null, \"c\": {}}, [], true] ")) == 0,
		      "%s", err);
	PB_ERR(field("doc", 1, FT_JSON), v_text("{\"a\": 1"),
	       "field \"doc\" (json): \"{\"a\": 1\" is not JSON: unexpected end at byte 7");
	PB_ERR(field("doc", 1, FT_JSON), v_text("not json"),
	       "field \"doc\" (json): \"not json\" is not JSON: invalid literal at byte 1");
	PB_ERR(field("doc", 1, FT_JSON), v_text("{} x"),
	       "field \"doc\" (json): \"{} x\" is not JSON: text after the value at byte 3");
	char deep[JSON_VALID_MAX_DEPTH + 2];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	ck_assert_int_eq(pb1(field("doc", 1, FT_JSON), v_text(deep)), -1);
	ck_assert_msg(strstr(err, "is not JSON: nested too deeply at byte 256"), "%s", err);
	PB_ERR(field("doc", 1, FT_JSON), v_text("01"),
	       "field \"doc\" (json): \"01\" is not JSON: text after the value at byte 1");
	PB_OK(field("id", 1, FT_UUID), v_text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), 0x0a, 36,
	      'a', '0', 'e', 'e', 'b', 'c', '9', '9', '-', '9', 'c', '0', 'b', '-', '4', 'e', 'f',
	      '8', '-', 'b', 'b', '6', 'd', '-', '6', 'b', 'b', '9', 'b', 'd', '3', '8', '0', 'a',
	      '1', '1');
	PB_ERR(field("id", 1, FT_UUID), v_text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"),
	       "field \"id\" (uuid): \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\" is not a uuid "
	       "(8-4-4-4-12 hex digits)");
	PB_ERR(field("id", 1, FT_UUID), v_text("a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11"),
	       "field \"id\" (uuid): \"a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11\" is not a uuid "
	       "(8-4-4-4-12 hex digits)");
	PB_ERR(field("id", 1, FT_UUID), v_text("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
	       "field \"id\" (uuid): \"g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\" is not a uuid "
	       "(8-4-4-4-12 hex digits)");
}
END_TEST

START_TEST(test_enum)
{
	PB_OK(status_field(1), v_text("pending"), 0x08, 0x01); /* number = index + 1 */
	PB_OK(status_field(1), v_text("in transit"), 0x08, 0x03);
	PB_ERR(status_field(1), v_text("lost"),
	       "field \"status\" (enum): \"lost\" is not one of its values (pending, shipped, in "
	       "transit)");
	PB_ERR(
	    status_field(1), v_text("Pending"),
	    "field \"status\" (enum): \"Pending\" is not one of its values (pending, shipped, in "
	    "transit)");
	PB_ERR(status_field(1), v_int(1),
	       "field \"status\" (enum): cannot hold an integer value; cast it in the field's "
	       "expression");
}
END_TEST

/* ---- timestamps and dates ----------------------------------------------------- */

START_TEST(test_timestamp)
{
	/* 1.5 s after the epoch: Timestamp{seconds: 1, nanos: 500000000}. */
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(1500000), 0x0a, 0x08, 0x08, 0x01, 0x10, 0x80, 0xca,
	      0xb5, 0xee, 0x01);
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(0), 0x0a, 0x00); /* present, all fields zero */
	/* 1 µs before the epoch is -1 s + 999999000 ns: nanos stay positive. */
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(-1), 0x0a, 0x11, 0x08, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x98, 0x8c, 0xeb, 0xdc, 0x03);
	/* Apollo 11 landing, 1969-07-20T20:17:40Z: whole seconds, no nanos. */
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(-14182940000000), 0x0a, 0x0b, 0x08, 0xe4, 0xab,
	      0x9e, 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(1795239701240664), 0x0a, 0x0b, 0x08, 0x95, 0xde,
	      0x84, 0xd8, 0x06, 0x10, 0xc0, 0xfb, 0xe0, 0x72);
	/* The range ends: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(INT64_C(-62135596800000000)), 0x0a, 0x0b, 0x08,
	      0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x01);
	PB_OK(field("at", 1, FT_TIMESTAMP), v_ts(INT64_C(253402300799999999)), 0x0a, 0x0d, 0x08,
	      0xff, 0x82, 0xd1, 0xff, 0xaf, 0x07, 0x10, 0x98, 0x8c, 0xeb, 0xdc, 0x03);
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_ts(INT64_C(253402300800000000)),
	       "field \"at\" (timestamp): timestamp 10000-01-01T00:00:00.000000Z out of range "
	       "(years 0001 to 9999)");
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_ts(INT64_C(-62135596800000001)),
	       "field \"at\" (timestamp): timestamp 0000-12-31T23:59:59.999999Z out of range "
	       "(years 0001 to 9999)");
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_ts(VAL_TS_INFINITY),
	       "field \"at\" (timestamp): timestamp 'infinity' cannot be represented");
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_ts(VAL_TS_NEG_INFINITY),
	       "field \"at\" (timestamp): timestamp '-infinity' cannot be represented");
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_text("2024-01-01"),
	       "field \"at\" (timestamp): cannot hold a text value; cast it in the field's "
	       "expression");
	/* A date is midnight UTC: 2024-02-29 = 19782 days = 1709164800 s. */
	PB_OK(field("at", 1, FT_TIMESTAMP), v_date(19782), 0x0a, 0x06, 0x08, 0x80, 0x92, 0xff, 0xae,
	      0x06);
	PB_ERR(field("at", 1, FT_TIMESTAMP), v_date(VAL_DATE_NEG_INFINITY),
	       "field \"at\" (timestamp): date '-infinity' cannot be represented");
}
END_TEST

START_TEST(test_date)
{
	PB_OK(field("day", 1, FT_DATE), v_date(19782), 0x0a, 10, '2', '0', '2', '4', '-', '0', '2',
	      '-', '2', '9');
	PB_OK(field("day", 1, FT_DATE), v_date(-1), 0x0a, 10, '1', '9', '6', '9', '-', '1', '2',
	      '-', '3', '1');
	PB_OK(field("day", 1, FT_DATE), v_date(-719162), 0x0a, 10, '0', '0', '0', '1', '-', '0',
	      '1', '-', '0', '1');
	PB_OK(field("day", 1, FT_DATE), v_date(2932896), 0x0a, 10, '9', '9', '9', '9', '-', '1',
	      '2', '-', '3', '1');
	PB_ERR(field("day", 1, FT_DATE), v_date(2932897),
	       "field \"day\" (date): date 10000-01-01 out of range (years 0001 to 9999)");
	PB_ERR(field("day", 1, FT_DATE), v_date(-719163),
	       "field \"day\" (date): date 0000-12-31 out of range (years 0001 to 9999)");
	PB_ERR(field("day", 1, FT_DATE), v_date(VAL_DATE_INFINITY),
	       "field \"day\" (date): date 'infinity' cannot be represented");
	PB_ERR(field("day", 1, FT_DATE), v_ts(0),
	       "field \"day\" (date): cannot hold a timestamp value; cast it in the field's "
	       "expression");
}
END_TEST

/* ---- repeated fields ------------------------------------------------------------ */

START_TEST(test_repeated_packed)
{
	struct Value ints[] = {v_int(1), v_int(-1), v_int(150)};
	/* One length-delimited run (tag 22 = field 4, wire type 2) of varints. */
	PB_OK(repeated("n", 4, FT_INT32), v_array(ints, 3), 0x22, 0x0d, 0x01, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x96, 0x01);
	PB_OK(repeated("n", 1, FT_SINT64), v_array(ints, 3), 0x0a, 0x04, 0x02, 0x01, 0xac, 0x02);
	struct Value dbl[] = {v_float(1.5), v_int(-2)};
	PB_OK(repeated("d", 1, FT_DOUBLE), v_array(dbl, 2), 0x0a, 0x10, 0, 0, 0, 0, 0, 0, 0xf8,
	      0x3f, 0, 0, 0, 0, 0, 0, 0x00, 0xc0);
	struct Value flags[] = {v_bool(true), v_bool(false)};
	PB_OK(repeated("b", 1, FT_BOOL), v_array(flags, 2), 0x0a, 0x02, 0x01, 0x00);
	struct EventField f = status_field(2);
	f.repeated = true;
	struct Value labels[] = {v_text("shipped"), v_text("pending")};
	PB_OK(f, v_array(labels, 2), 0x12, 0x02, 0x02, 0x01);
	/* An empty array writes nothing: repeated fields have no presence. */
	PB_OK(repeated("n", 1, FT_INT32), v_array(NULL, 0));
}
END_TEST

START_TEST(test_repeated_unpacked)
{
	struct Value tags[] = {v_text("a"), v_text("bc")};
	PB_OK(repeated("tags", 5, FT_STRING), v_array(tags, 2), 0x2a, 0x01, 'a', 0x2a, 0x02, 'b',
	      'c');
	struct Value times[] = {v_ts(1000000), v_ts(0)};
	PB_OK(repeated("at", 1, FT_TIMESTAMP), v_array(times, 2), 0x0a, 0x02, 0x08, 0x01, 0x0a,
	      0x00);
}
END_TEST

START_TEST(test_repeated_errors)
{
	struct Value with_null[] = {v_int(1), v_null()};
	PB_ERR(repeated("n", 1, FT_INT32), v_array(with_null, 2),
	       "field \"n\" (repeated int32) element 2: NULL element in repeated field");
	struct Value big[] = {v_int(3000000000)};
	PB_ERR(repeated("n", 1, FT_INT32), v_array(big, 1),
	       "field \"n\" (repeated int32) element 1: 3000000000 out of range");
	PB_ERR(repeated("n", 1, FT_INT32), v_int(1),
	       "field \"n\" (repeated int32): needs an array, got an integer value");
	PB_ERR(field("n", 1, FT_INT32), v_array(big, 1),
	       "field \"n\" (int32): an array needs a repeated field");
	struct Value inner[] = {v_int(1)};
	struct Value nested[] = {v_array(inner, 1)};
	PB_ERR(repeated("n", 1, FT_INT32), v_array(nested, 1),
	       "field \"n\" (repeated int32) element 1: nested arrays cannot be written");
}
END_TEST

/* ---- whole messages ----------------------------------------------------------- */

START_TEST(test_field_order_and_nulls)
{
	/* Declared out of order: written in ascending number order. NULL is absent. */
	struct EventField fields[] = {field("c", 3, FT_INT32), field("a", 1, FT_STRING),
	                              field("skip", 2, FT_INT64), field("b", 20, FT_BOOL)};
	struct Value values[] = {v_int(3), v_text("x"), v_null(), v_bool(false)};
	struct EventDef ev = event_of(fields, 4);
	ck_assert_int_eq(enc_protobuf(&ev, values, &out, err, sizeof(err)), 0);
	/* Field 20 with wire type 0: (20 << 3) = 160 = a0 01. */
	BYTES(0x0a, 0x01, 'x', 0x18, 0x03, 0xa0, 0x01, 0x00);

	/* Appends after what the buffer already holds; an error leaves that untouched. */
	values[0] = v_int(-3000000000);
	ck_assert_int_eq(enc_protobuf(&ev, values, &out, err, sizeof(err)), -1);
	BYTES(0x0a, 0x01, 'x', 0x18, 0x03, 0xa0, 0x01, 0x00);
	ck_assert_str_eq(err, "field \"c\" (int32): -3000000000 out of range");

	/* All NULL: the empty message. */
	struct Value nulls[] = {v_null(), v_null(), v_null(), v_null()};
	sb_reset(&out);
	ck_assert_int_eq(enc_protobuf(&ev, nulls, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(enc_json(&ev, nulls, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "{}");
}
END_TEST

START_TEST(test_bad_field_numbers)
{
	struct EventField fields[] = {field("a", 1, FT_INT32), field("b", 1, FT_INT32)};
	struct Value values[] = {v_int(1), v_int(2)};
	struct EventDef ev = event_of(fields, 2);
	ck_assert_int_eq(enc_protobuf(&ev, values, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "fields \"a\" and \"b\" share number 1");
	fields[1].number = 0;
	ck_assert_int_eq(enc_json(&ev, values, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field \"b\": number 0 out of range (1 to 536870911)");
	ck_assert_uint_eq(out.len, 0);
}
END_TEST

START_TEST(test_small_error_buffer)
{
	char small[8];
	struct EventField f = field("quantity", 1, FT_INT32);
	struct Value v = v_int(3000000000);
	struct EventDef ev = event_of(&f, 1);
	ck_assert_int_eq(enc_protobuf(&ev, &v, &out, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "field \"");
	ck_assert_int_eq(enc_protobuf(&ev, &v, &out, NULL, 0), -1);
}
END_TEST

/* ---- the JSON mapping ------------------------------------------------------------ */

START_TEST(test_json_names)
{
	enc_json_name(&out, "order_id");
	sb_putc(&out, ' ');
	enc_json_name(&out, "a__b_c1_2");
	sb_putc(&out, ' ');
	enc_json_name(&out, "_x");
	sb_putc(&out, ' ');
	enc_json_name(&out, "plain");
	ck_assert_str_eq(out.data, "orderId aBC12 X plain");
	sb_reset(&out);
	enc_enum_value_name(&out, "order_status", "in transit");
	sb_putc(&out, ' ');
	enc_enum_value_name(&out, "s", "Ünïcode-1");
	ck_assert_str_eq(out.data, "ORDER_STATUS_IN_TRANSIT S___N__CODE_1");
}
END_TEST

START_TEST(test_json_scalars)
{
	JSON_OK(field("order_id", 1, FT_INT64), v_int(150), "{\"orderId\":\"150\"}");
	JSON_OK(field("n", 1, FT_INT32), v_int(-1), "{\"n\":-1}");
	JSON_OK(field("n", 1, FT_SINT32), v_int(0), "{\"n\":0}");
	JSON_OK(field("n", 1, FT_SINT64), v_int(INT64_MIN), "{\"n\":\"-9223372036854775808\"}");
	JSON_OK(field("n", 1, FT_UINT32), v_int(UINT32_MAX), "{\"n\":4294967295}");
	JSON_OK(field("n", 1, FT_UINT64), v_num("18446744073709551615"),
	        "{\"n\":\"18446744073709551615\"}");
	JSON_OK(field("is_paid", 1, FT_BOOL), v_bool(false), "{\"isPaid\":false}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_float(0.1), "{\"d\":0.1}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_float(1.0 / 3), "{\"d\":0.3333333333333333}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_float(1e21), "{\"d\":1e+21}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_int(-2), "{\"d\":-2}");
	JSON_OK(field("f", 1, FT_FLOAT), v_float(0.1), "{\"f\":0.1}");
	JSON_OK(field("f", 1, FT_FLOAT), v_num("340282346638528859811704183484516925440"),
	        "{\"f\":3.4028235e+38}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_float(NAN), "{\"d\":\"NaN\"}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_num("Infinity"), "{\"d\":\"Infinity\"}");
	JSON_OK(field("f", 1, FT_FLOAT), v_float(-INFINITY), "{\"f\":\"-Infinity\"}");
	JSON_OK(field("s", 1, FT_STRING), v_text("a\"b\n\xc3\xa9"),
	        "{\"s\":\"a\\\"b\\n\xc3\xa9\"}");
	JSON_OK(field("b", 1, FT_BYTES), v_str(VAL_BYTEA, "\x00\xff", 2), "{\"b\":\"AP8=\"}");
	JSON_OK(field("total", 1, FT_DECIMAL), v_num("-12.50"), "{\"total\":\"-12.50\"}");
	JSON_OK(field("day", 1, FT_DATE), v_date(19782), "{\"day\":\"2024-02-29\"}");
	JSON_OK(field("doc", 1, FT_JSON), v_text("{\"a\":1}"), "{\"doc\":\"{\\\"a\\\":1}\"}");
	JSON_OK(field("id", 1, FT_UUID), v_text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
	        "{\"id\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}");
	JSON_OK(status_field(1), v_text("in transit"), "{\"status\":\"STATUS_IN_TRANSIT\"}");
}
END_TEST

START_TEST(test_json_float_shortest)
{
	/* A float field prints the float's shortest text, not the double it widens to. */
	JSON_OK(field("f", 1, FT_FLOAT), v_float(16777216.0), "{\"f\":16777216}");
	JSON_OK(field("f", 1, FT_FLOAT), v_float(1.1), "{\"f\":1.1}");
	JSON_OK(field("f", 1, FT_FLOAT), v_float(3.4028234663852886e38), "{\"f\":3.4028235e+38}");
	JSON_OK(field("d", 1, FT_DOUBLE), v_float(5e-324), "{\"d\":4.94065645841247e-324}");
}
END_TEST

START_TEST(test_json_timestamps)
{
	/* 0, 3, 6 or 9 fractional digits: the fewest that show the value. */
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(0), "{\"at\":\"1970-01-01T00:00:00Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(1500000),
	        "{\"at\":\"1970-01-01T00:00:01.500Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(1795239701240664),
	        "{\"at\":\"2026-11-21T05:41:41.240664Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(1795239701240000),
	        "{\"at\":\"2026-11-21T05:41:41.240Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(-1), "{\"at\":\"1969-12-31T23:59:59.999999Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_ts(INT64_C(-62135596800000000)),
	        "{\"at\":\"0001-01-01T00:00:00Z\"}");
	JSON_OK(field("at", 1, FT_TIMESTAMP), v_date(-1), "{\"at\":\"1969-12-31T00:00:00Z\"}");
}
END_TEST

START_TEST(test_json_repeated_and_message)
{
	struct Value ints[] = {v_int(1), v_int(-1), v_int(150)};
	struct Value tags[] = {v_text("a"), v_text("bc")};
	struct Value labels[] = {v_text("shipped"), v_text("pending")};
	struct EventField fields[] = {
	    repeated("line_ids", 4, FT_INT64), status_field(2),
	    repeated("tags", 5, FT_STRING),    field("order_id", 1, FT_INT64),
	    field("note", 3, FT_STRING),       repeated("empty_list", 6, FT_INT32)};
	fields[1].repeated = true;
	struct Value values[] = {v_array(ints, 3), v_array(labels, 2), v_array(tags, 2),
	                         v_int(42),        v_null(),           v_array(NULL, 0)};
	struct EventDef ev = event_of(fields, 6);
	ck_assert_int_eq(enc_json(&ev, values, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data,
	                 "{\"orderId\":\"42\",\"status\":[\"STATUS_SHIPPED\",\"STATUS_PENDING\"],"
	                 "\"lineIds\":[\"1\",\"-1\",\"150\"],\"tags\":[\"a\",\"bc\"]}");

	/* The same message in protobuf, for comparison: 08 2a | 12 02 02 01 | 22 .. | 2a .. 2a ..
	 */
	sb_reset(&out);
	ck_assert_int_eq(enc_protobuf(&ev, values, &out, err, sizeof(err)), 0);
	BYTES(0x08, 0x2a, 0x12, 0x02, 0x02, 0x01, 0x22, 0x0d, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0xff, 0x01, 0x96, 0x01, 0x2a, 0x01, 'a', 0x2a, 0x02, 'b', 'c');

	/* An error inside an array leaves the buffer as it was. */
	sb_reset(&out);
	sb_puts(&out, "keep");
	tags[1] = v_null();
	ck_assert_int_eq(enc_json(&ev, values, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(out.data, "keep");
	ck_assert_str_eq(err,
	                 "field \"tags\" (repeated string) element 2: NULL element in repeated "
	                 "field");
}
END_TEST

/* ---- kinds (what `tablecast check` asks) --------------------------------------- */

START_TEST(test_kind_fits)
{
	ck_assert(enc_kind_fits(FT_INT32, false, VAL_INT));
	ck_assert(enc_kind_fits(FT_INT32, false, VAL_NUMERIC));
	ck_assert(!enc_kind_fits(FT_INT32, false, VAL_FLOAT));
	ck_assert(!enc_kind_fits(FT_INT32, false, VAL_ARRAY));
	ck_assert(enc_kind_fits(FT_INT32, true, VAL_ARRAY));
	ck_assert(!enc_kind_fits(FT_INT32, true, VAL_INT));
	ck_assert(enc_kind_fits(FT_ENUM, false, VAL_NULL));
	ck_assert(enc_kind_fits(FT_ENUM, false, VAL_TEXT));
	ck_assert(enc_kind_fits(FT_TIMESTAMP, false, VAL_DATE));
	ck_assert(!enc_kind_fits(FT_DATE, false, VAL_TIMESTAMP));
	ck_assert(enc_kind_fits(FT_BYTES, false, VAL_BYTEA));
	ck_assert(!enc_kind_fits(FT_DECIMAL, false, VAL_FLOAT));
	ck_assert(enc_kind_fits(FT_STRING, false, VAL_DATE));
	ck_assert(!enc_kind_fits(FT_STRING, false, VAL_BYTEA));
	ck_assert_str_eq(field_type_name(FT_SINT64), "sint64");
	ck_assert_str_eq(field_type_name(FT_UUID), "uuid");
}
END_TEST

/* ---- CloudEvents ---------------------------------------------------------------- */

/* The record test_cloudevent expects, each part documented. */
/* clang-format off */
static const char cloudevent_bytes[] =
	"\x0a\x01" "1"                          /* id */
	"\x12\x02" "/s"                         /* source */
	"\x1a\x03" "1.0"                        /* spec_version */
	"\x22\x04" "t.v1"                       /* type */
	"\x2a\x29"                              /* attributes entry, 41 bytes */
	"\x0a\x0f" "datacontenttype"            /*   key */
	"\x12\x16" "\x1a\x14" "application/protobuf" /* value: ce_string */
	"\x2a\x11"                              /* attributes entry, 17 bytes */
	"\x0a\x0a" "dataschema"                 /*   key */
	"\x12\x03" "\x2a\x01" "u"               /*   value: ce_uri */
	"\x2a\x0e"                              /* attributes entry, 14 bytes */
	"\x0a\x07" "subject"                    /*   key */
	"\x12\x03" "\x1a\x01" "k"               /*   value: ce_string */
	"\x2a\x12"                              /* attributes entry, 18 bytes */
	"\x0a\x04" "time"                       /*   key */
	"\x12\x0a" "\x3a\x08"                   /*   value: ce_timestamp, 8 bytes */
	"\x08\x01\x10\x80\xca\xb5\xee\x01"      /*     seconds 1, nanos 500000000 */
	"\x32\x02" "\x08\x01";                  /* binary_data */
/* clang-format on */

START_TEST(test_cloudevent)
{
	struct CloudEventAttrs a = {.id = "1",
	                            .source = "/s",
	                            .type = "t.v1",
	                            .subject = "k",
	                            .dataschema = "u",
	                            .time_us = 1500000};
	ck_assert_int_eq(enc_cloudevent(&a, NULL, "\x08\x01", 2, &out), 0);
	assert_bytes(cloudevent_bytes, sizeof(cloudevent_bytes) - 1, __LINE__);

	/* No subject, no dataschema, no data, a time before 1970. */
	sb_reset(&out);
	a.subject = NULL;
	a.dataschema = "";
	a.datacontenttype = "application/x";
	a.time_us = -1;
	ck_assert_int_eq(enc_cloudevent(&a, NULL, NULL, 0, &out), 0);
	static const char want[] = "\x0a\x01"
	                           "1"
	                           "\x12\x02"
	                           "/s"
	                           "\x1a\x03"
	                           "1.0"
	                           "\x22\x04"
	                           "t.v1"
	                           "\x2a\x22"
	                           "\x0a\x0f"
	                           "datacontenttype"
	                           "\x12\x0f"
	                           "\x1a\x0d"
	                           "application/x"
	                           "\x2a\x1b"
	                           "\x0a\x04"
	                           "time"
	                           "\x12\x13"
	                           "\x3a\x11"
	                           "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
	                           "\x10\x98\x8c\xeb\xdc\x03";
	assert_bytes(want, sizeof(want) - 1, __LINE__);

	/* Required attributes missing. */
	a.id = "";
	ck_assert_int_eq(enc_cloudevent(&a, NULL, NULL, 0, &out), -1);
	a.id = "1";
	a.type = NULL;
	ck_assert_int_eq(enc_cloudevent(&a, NULL, NULL, 0, &out), -1);
}
END_TEST

/* A protobuf message goes in proto_data, a google.protobuf.Any with its type URL. */
START_TEST(test_cloudevent_proto_data)
{
	struct CloudEventAttrs a = {.id = "1", .source = "/s", .type = "t.v1", .time_us = 0};
	ck_assert_int_eq(enc_cloudevent(&a, "type.googleapis.com/p.v1.M", "\x08\x01", 2, &out), 0);
	/* clang-format off */
	static const char tail[] =
		"\x42\x20"                              /* proto_data, 32 bytes */
		"\x0a\x1a" "type.googleapis.com/p.v1.M" /*   type_url */
		"\x12\x02" "\x08\x01";                 /*   value */
	/* clang-format on */
	ck_assert_uint_ge(out.len, sizeof(tail) - 1);
	ck_assert_mem_eq(out.data + out.len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	ck_assert_ptr_null(memmem(out.data, out.len, "\x32\x02\x08\x01", 4)); /* no binary_data */
}
END_TEST

START_TEST(test_message_full_name)
{
	char name[] = "shop.orders.OrderShipped";
	struct EventDef ev = {.name = name, .version = 2};
	char buf[64];
	enc_message_full_name(&ev, buf, sizeof(buf));
	ck_assert_str_eq(buf, "shop.orders.v2.OrderShipped");
}
END_TEST

/* protoc decodes the record with the official schema to the same attributes. */
START_TEST(test_cloudevent_decodes_with_protoc)
{
	if (system("protoc --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "check_encoder: protoc not installed, decode check skipped\n");
		return;
	}
	const char *dir = suite_tmpdir();
	char in[256], outp[256], cmd[1024];
	snprintf(in, sizeof(in), "%s/ce.bin", dir);
	snprintf(outp, sizeof(outp), "%s/ce.txt", dir);
	FILE *f = fopen(in, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(cloudevent_bytes, 1, sizeof(cloudevent_bytes) - 1, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
	         "protoc --proto_path=%s/../../proto --proto_path=/usr/include "
	         "--decode=io.cloudevents.v1.CloudEvent io/cloudevents/v1/cloudevents.proto "
	         "<%s >%s",
	         FIXTURES, in, outp);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(outp, "r");
	ck_assert_ptr_nonnull(f);
	char text[1024];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_str_eq(text, "id: \"1\"\n"
	                       "source: \"/s\"\n"
	                       "spec_version: \"1.0\"\n"
	                       "type: \"t.v1\"\n"
	                       "attributes {\n"
	                       "  key: \"datacontenttype\"\n"
	                       "  value {\n"
	                       "    ce_string: \"application/protobuf\"\n"
	                       "  }\n"
	                       "}\n"
	                       "attributes {\n"
	                       "  key: \"dataschema\"\n"
	                       "  value {\n"
	                       "    ce_uri: \"u\"\n"
	                       "  }\n"
	                       "}\n"
	                       "attributes {\n"
	                       "  key: \"subject\"\n"
	                       "  value {\n"
	                       "    ce_string: \"k\"\n"
	                       "  }\n"
	                       "}\n"
	                       "attributes {\n"
	                       "  key: \"time\"\n"
	                       "  value {\n"
	                       "    ce_timestamp {\n"
	                       "      seconds: 1\n"
	                       "      nanos: 500000000\n"
	                       "    }\n"
	                       "  }\n"
	                       "}\n"
	                       "binary_data: \"\\010\\001\"\n");
	unlink(in);
	unlink(outp);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("encoder");
	TCase *tc = tcase_create("wire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_varint_and_zigzag);
	tcase_add_test(tc, test_field_writers);
	tcase_add_test(tc, test_nested_messages);
	tcase_add_test(tc, test_timestamp_writer);
	suite_add_tcase(s, tc);

	tc = tcase_create("types");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_int32_int64);
	tcase_add_test(tc, test_unsigned);
	tcase_add_test(tc, test_zigzag_fields);
	tcase_add_test(tc, test_numeric_to_integer);
	tcase_add_test(tc, test_integer_wrong_kinds);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_float_double);
	tcase_add_test(tc, test_int_to_floating_exactly);
	tcase_add_test(tc, test_numeric_to_floating);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_decimal);
	tcase_add_test(tc, test_json_and_uuid);
	tcase_add_test(tc, test_enum);
	tcase_add_test(tc, test_timestamp);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_repeated_packed);
	tcase_add_test(tc, test_repeated_unpacked);
	tcase_add_test(tc, test_repeated_errors);
	tcase_add_test(tc, test_kind_fits);
	suite_add_tcase(s, tc);

	tc = tcase_create("message");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_field_order_and_nulls);
	tcase_add_test(tc, test_bad_field_numbers);
	tcase_add_test(tc, test_small_error_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_json_names);
	tcase_add_test(tc, test_json_scalars);
	tcase_add_test(tc, test_json_float_shortest);
	tcase_add_test(tc, test_json_timestamps);
	tcase_add_test(tc, test_json_repeated_and_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("cloudevents");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cloudevent);
	tcase_add_test(tc, test_cloudevent_decodes_with_protoc);
	tcase_add_test(tc, test_cloudevent_proto_data);
	tcase_add_test(tc, test_message_full_name);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
