/* Unit tests for src/outbox.c. */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "outbox.h"
#include "run_suite.h"
#include "tablecast/v1/outbox.pb-c.h"

static struct EventField fields[] = {
	{.name = (char *)"id", .number = 1, .type = FT_INT64, .required = true},
	{.name = (char *)"label", .number = 2, .type = FT_STRING},
	{.name = (char *)"codes", .number = 3, .type = FT_INT32, .repeated = true},
	{.name = (char *)"at", .number = 4, .type = FT_TIMESTAMP},
	{.name = (char *)"ratio", .number = 5, .type = FT_DOUBLE},
	{.name = (char *)"blob", .number = 6, .type = FT_BYTES},
};
static const struct EventDef ev = {.name = (char *)"t.Item", .version = 1, .fields = fields,
				   .nfields = 6};

static int validate(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	return obx_validate(&ev, p, len, err, errlen);
}

START_TEST(test_validate_good)
{
	char err[256];
	/* id=1: 7; label=2: "hé"; codes=3 packed [1, 300]; codes=3 unpacked 5; at=4 {1: 10, 2: 5};
	 * ratio=5 double; blob=6 not UTF-8 (bytes may be anything). */
	const uint8_t good[] = {0x08, 0x07, 0x12, 0x03, 'h', 0xc3, 0xa9, 0x1a, 0x03, 0x01, 0xac,
				0x02, 0x18, 0x05, 0x22, 0x04, 0x08, 0x0a, 0x10, 0x05, 0x29, 0,
				0,    0,    0,    0,    0,    0xf0, 0x3f, 0x32, 0x01, 0xff};
	ck_assert_msg(validate(good, sizeof(good), err, sizeof(err)) == 0, "%s", err);
	const uint8_t only_id[] = {0x08, 0x00};
	ck_assert_msg(validate(only_id, sizeof(only_id), err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(test_validate_bad)
{
	char err[256];
	const uint8_t empty[] = {0};
	ck_assert_int_eq(validate(empty, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "required field \"id\""));
	const uint8_t unknown[] = {0x08, 0x01, 0x38, 0x01}; /* field 7 */
	ck_assert_int_eq(validate(unknown, sizeof(unknown), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "field number 7 is not declared"));
	const uint8_t wire[] = {0x0a, 0x01, 'x'}; /* id as a string */
	ck_assert_int_eq(validate(wire, sizeof(wire), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "wire type 2, expected 0"));
	const uint8_t utf8[] = {0x08, 0x01, 0x12, 0x02, 0xc3, 0x28};
	ck_assert_int_eq(validate(utf8, sizeof(utf8), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not UTF-8"));
	const uint8_t overlong[] = {0x08, 0x01, 0x12, 0x02, 0xc0, 0x80};
	ck_assert_int_eq(validate(overlong, sizeof(overlong), err, sizeof(err)), -1);
	const uint8_t truncated[] = {0x08, 0x01, 0x12, 0x05, 'a'};
	ck_assert_int_eq(validate(truncated, sizeof(truncated), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "runs past the end"));
	const uint8_t ts[] = {0x08, 0x01, 0x22, 0x02, 0x18, 0x01}; /* Timestamp field 3 */
	ck_assert_int_eq(validate(ts, sizeof(ts), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Timestamp"));
	const uint8_t group[] = {0x08, 0x01, 0x13}; /* field 2, start group */
	ck_assert_int_eq(validate(group, sizeof(group), err, sizeof(err)), -1);
	const uint8_t varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	ck_assert_int_eq(validate(varint, sizeof(varint), err, sizeof(err)), -1);
	const uint8_t packed[] = {0x08, 0x01, 0x1a, 0x01, 0x80}; /* packed varint cut short */
	ck_assert_int_eq(validate(packed, sizeof(packed), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "packed"));
}
END_TEST

START_TEST(test_message)
{
	Tablecast__V1__OutboxMessage m = TABLECAST__V1__OUTBOX_MESSAGE__INIT;
	Tablecast__V1__OutboxMessage__HeadersEntry h = TABLECAST__V1__OUTBOX_MESSAGE__HEADERS_ENTRY__INIT;
	Tablecast__V1__OutboxMessage__HeadersEntry *hs[] = {&h};
	uint8_t payload[] = {0x08, 0x07}, buf[256];
	struct OutboxRecord rec;
	char err[256];
	Arena *arena = arena_new();

	m.event = (char *)"t.Item";
	m.version = 1;
	m.key_present_case = TABLECAST__V1__OUTBOX_MESSAGE__KEY_PRESENT_KEY;
	m.key = (char *)"42";
	m.payload.data = payload;
	m.payload.len = sizeof(payload);
	h.key = (char *)"traceparent";
	h.value = (char *)"00-1";
	m.headers = hs;
	m.n_headers = 1;
	size_t len = tablecast__v1__outbox_message__pack(&m, buf);
	ck_assert_int_eq(obx_from_message(buf, len, arena, &rec, err, sizeof(err)), 0);
	ck_assert_str_eq(rec.event, "t.Item");
	ck_assert_int_eq(rec.version, 1);
	ck_assert_str_eq(rec.key, "42");
	ck_assert_uint_eq(rec.key_len, 2);
	ck_assert_ptr_null(rec.subject);
	ck_assert_uint_eq(rec.payload_len, 2);
	ck_assert_int_eq(memcmp(rec.payload, payload, 2), 0);
	ck_assert_uint_eq(rec.nheaders, 1);
	ck_assert_str_eq(rec.headers[1], "00-1");

	/* An empty key is a key; no key is none. */
	m.key = (char *)"";
	len = tablecast__v1__outbox_message__pack(&m, buf);
	ck_assert_int_eq(obx_from_message(buf, len, arena, &rec, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(rec.key);
	m.key_present_case = TABLECAST__V1__OUTBOX_MESSAGE__KEY_PRESENT__NOT_SET;
	len = tablecast__v1__outbox_message__pack(&m, buf);
	ck_assert_int_eq(obx_from_message(buf, len, arena, &rec, err, sizeof(err)), 0);
	ck_assert_ptr_null(rec.key);

	/* tablecast's own headers cannot be replaced. */
	h.key = (char *)"ce_type";
	len = tablecast__v1__outbox_message__pack(&m, buf);
	ck_assert_int_eq(obx_from_message(buf, len, arena, &rec, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ce_type"));
	m.n_headers = 0;
	m.version = 0;
	len = tablecast__v1__outbox_message__pack(&m, buf);
	ck_assert_int_eq(obx_from_message(buf, len, arena, &rec, err, sizeof(err)), -1);
	const uint8_t junk[] = {0xff, 0xff};
	ck_assert_int_eq(obx_from_message(junk, sizeof(junk), arena, &rec, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "OutboxMessage"));
	arena_free(arena);
}
END_TEST

/* A row of the outbox table as pgoutput sends it: text format, columns by name. */
static int from_row(const char *const *values, struct OutboxRecord *rec, Arena *arena, char *err)
{
	static struct RelColumn atts[] = {{.name = (char *)"id"},	{.name = (char *)"event"},
					  {.name = (char *)"version"},	{.name = (char *)"key"},
					  {.name = (char *)"subject"},	{.name = (char *)"payload"},
					  {.name = (char *)"headers"}};
	struct Relation rel = {.qualname = (char *)"public.outbox", .natts = 7, .atts = atts};
	struct PgoValue cols[7];
	for (int i = 0; i < 7; i++)
		cols[i] = values[i] ? (struct PgoValue){'t', (uint32_t)strlen(values[i]),
							(const uint8_t *)values[i]}
				    : (struct PgoValue){.kind = 'n'};
	struct PgoTuple tuple = {7, cols};
	return obx_from_row(&rel, &tuple, arena, rec, err, 256);
}

START_TEST(test_row)
{
	struct OutboxRecord rec;
	char err[256];
	Arena *arena = arena_new();
	const char *row[] = {"1", "t.Item", "2", "k", NULL, "\\x0807",
			     "{\"a\": \"b\\\"c\", \"e\\u00e9\": \"\\ud83c\\udf89\", \"empty\": \"\"}"};
	ck_assert_msg(from_row(row, &rec, arena, err) == 0, "%s", err);
	ck_assert_str_eq(rec.event, "t.Item");
	ck_assert_int_eq(rec.version, 2);
	ck_assert_str_eq(rec.key, "k");
	ck_assert_ptr_null(rec.subject);
	ck_assert_uint_eq(rec.payload_len, 2);
	ck_assert_int_eq(rec.payload[0], 0x08);
	ck_assert_uint_eq(rec.nheaders, 3);
	ck_assert_str_eq(rec.headers[1], "b\"c");
	ck_assert_str_eq(rec.headers[2], "e\xc3\xa9");
	ck_assert_str_eq(rec.headers[3], "\xf0\x9f\x8e\x89");
	ck_assert_str_eq(rec.headers[5], "");

	const char *no_headers[] = {"1", "t.Item", "1", NULL, "s", "\\x", NULL};
	ck_assert_msg(from_row(no_headers, &rec, arena, err) == 0, "%s", err);
	ck_assert_ptr_null(rec.key);
	ck_assert_str_eq(rec.subject, "s");
	ck_assert_uint_eq(rec.payload_len, 0);
	ck_assert_uint_eq(rec.nheaders, 0);

	const char *bad[][7] = {
		{"1", NULL, "1", NULL, NULL, "\\x08", NULL},
		{"1", "t.Item", "x", NULL, NULL, "\\x08", NULL},
		{"1", "t.Item", "1", NULL, NULL, "\\x0", NULL},
		{"1", "t.Item", "1", NULL, NULL, "\\xzz", NULL},
		{"1", "t.Item", "1", NULL, NULL, "\\x08", "[1]"},
		{"1", "t.Item", "1", NULL, NULL, "\\x08", "{\"a\": 1}"},
		{"1", "t.Item", "1", NULL, NULL, "\\x08", "{\"ce_id\": \"x\"}"},
		{"1", "t.Item", "1", NULL, NULL, "\\x08", "{\"a\": \"\\u0000\"}"},
		{"1", "t.Item", "1", NULL, NULL, "\\x08", "{\"a\": \"b\"} x"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(from_row(bad[i], &rec, arena, err) == -1, "bad row %zu accepted", i);
	arena_free(arena);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_validate_good);
	tcase_add_test(tc, test_validate_bad);
	tcase_add_test(tc, test_message);
	tcase_add_test(tc, test_row);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
