/* Unit tests for src/lock.c: the lock format, hostile lock files, and which changes break a lock. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "run_suite.h"

/* Fields out of number order, reserved entries too: the text is sorted. */
static const char base[] = "tablecast-lock 1\n"
			   "\n"
			   "event shop.orders.OrderShipped v2\n"
			   "  package shop.orders.v2\n"
			   "  field 1 order_id int64\n"
			   "  field 2 carrier enum\n"
			   "    value 1 \"DHL\"\n"
			   "    value 2 \"UPS\"\n"
			   "  field 3 quantity int32\n"
			   "  field 4 tags string repeated\n"
			   "  field 6 note string\n"
			   "  reserved 5\n"
			   "  reserved \"total\"\n"
			   "\n"
			   "event shop.orders.OrderPaid v1\n"
			   "  package shop.orders.v1\n"
			   "  field 1 order_id int64\n"
			   "  field 2 amount decimal\n";

static Lock *parse(const char *text, const char *path)
{
	char err[512] = "";
	Lock *lock = lock_parse(text, strlen(text), path, err, sizeof(err));
	ck_assert_msg(lock != NULL, "parse failed: %s", err);
	return lock;
}

/* base with its first `from` replaced by `to` ("" deletes); from must occur. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	ck_assert_msg(at != NULL, "\"%s\" is not in the base lock", from);
	size_t len = strlen(base) - strlen(from) + strlen(to) + 1;
	char *out = malloc(len);
	ck_assert_ptr_nonnull(out);
	snprintf(out, len, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return out;
}

/* ---- the table: one kind of change per row -------------------------------- */

struct Change {
	const char *what;
	const char *from, *to; /* edit of the base lock; from NULL: append to */
	size_t refusals;       /* 0: compatible */
	const char *expect;    /* in the output when refused */
};

static const struct Change changes[] = {
	/* breaking: every rule */
	{"field number reused", "field 3 quantity int32", "field 3 weight double", 1,
	 "next.lock:9: event shop.orders.OrderShipped v2: field 3 was \"quantity\" (int32), now "
	 "\"weight\" (double) (FIELD_NUMBER_REUSED); declare version 3 instead\n"},
	{"field renamed", "field 3 quantity int32", "field 3 qty int32", 1,
	 "field 3 \"quantity\" renamed to \"qty\", which changes its JSON name (FIELD_SAME_NAME)"},
	{"int32 widened to int64 (JSON: number to string)", "field 3 quantity int32",
	 "field 3 quantity int64", 1,
	 "field 3 \"quantity\" changed type from int32 to int64 (FIELD_WIRE_JSON_COMPATIBLE_TYPE)"},
	{"string becomes decimal", "field 6 note string", "field 6 note decimal", 1,
	 "changed type from string to decimal (FIELD_WIRE_JSON_COMPATIBLE_TYPE)"},
	{"enum becomes int32", "field 2 carrier enum\n    value 1 \"DHL\"\n    value 2 \"UPS\"",
	 "field 2 carrier int32", 1, "changed type from enum to int32"},
	{"repeated becomes optional", "field 4 tags string repeated", "field 4 tags string", 1,
	 "field 4 \"tags\" changed from repeated to optional (FIELD_SAME_CARDINALITY)"},
	{"field removed, nothing reserved", "  field 6 note string\n", "", 1,
	 "next.lock:3: event shop.orders.OrderShipped v2: field 6 \"note\" removed without "
	 "reserving its number 6 and name \"note\""},
	{"field removed, only its number reserved", "  field 6 note string\n", "  reserved 6\n", 1,
	 "removed without reserving its name \"note\" (FIELD_NO_DELETE_UNLESS_RESERVED); add "
	 "reserved = (6, \"note\"), or declare version 3 instead\n"},
	{"field removed, only its name reserved", "  field 6 note string\n", "  reserved \"note\"\n",
	 1, "removed without reserving its number 6 "},
	{"enum value removed", "    value 2 \"UPS\"\n", "", 1,
	 "field 2 \"carrier\": enum value 2 \"UPS\" removed (ENUM_VALUE_NO_DELETE)"},
	{"enum values reordered", "value 1 \"DHL\"\n    value 2 \"UPS\"",
	 "value 1 \"UPS\"\n    value 2 \"DHL\"", 2,
	 "enum value \"DHL\" renumbered from 1 to 2 (ENUM_VALUE_SAME_NUMBER)"},
	{"enum value removed from the middle", "    value 1 \"DHL\"\n    value 2 \"UPS\"\n",
	 "    value 1 \"UPS\"\n", 2,
	 "field 2 \"carrier\": enum value 1 \"DHL\" removed (ENUM_VALUE_NO_DELETE)"},
	{"enum value renamed", "value 2 \"UPS\"", "value 2 \"FEDEX\"", 1,
	 "enum value 2 renamed from \"UPS\" to \"FEDEX\" (ENUM_VALUE_SAME_NAME)"},
	{"message renamed", "event shop.orders.OrderPaid v1", "event shop.orders.OrderSettled v1", 1,
	 "event shop.orders.OrderPaid v1: message renamed to shop.orders.OrderSettled "
	 "(MESSAGE_SAME_NAME); declare version 2 instead"},
	{"package renamed", "event shop.orders.OrderPaid v1\n  package shop.orders.v1",
	 "event shop.billing.OrderPaid v1\n  package shop.billing.v1", 1,
	 "package renamed from shop.orders.v1 to shop.billing.v1 (PACKAGE_SAME_NAME)"},
	{"package changed", "package shop.orders.v2", "package shop.orders.v2beta", 1,
	 "package changed from shop.orders.v2 to shop.orders.v2beta (PACKAGE_SAME)"},
	{"version removed",
	 "\nevent shop.orders.OrderPaid v1\n  package shop.orders.v1\n  field 1 order_id int64\n"
	 "  field 2 amount decimal\n",
	 "", 1,
	 "locked.lock:15: event shop.orders.OrderPaid v1: the lock lists this version but the "
	 "configuration no longer declares it"},
	{"reserved number given up", "  reserved 5\n", "", 1,
	 "number 5 is no longer reserved (RESERVED_NO_DELETE)"},
	{"reserved name given up", "  reserved \"total\"\n", "", 1,
	 "name \"total\" is no longer reserved (RESERVED_NO_DELETE)"},
	{"two breaking changes in one field", "field 4 tags string repeated",
	 "field 4 tags bytes", 2, "(FIELD_SAME_CARDINALITY)"},

	/* compatible */
	{"nothing changed", "event", "event", 0, NULL},
	{"field added", "  field 6 note string\n", "  field 6 note string\n  field 7 gift bool\n", 0,
	 NULL},
	{"enum value appended", "    value 2 \"UPS\"\n", "    value 2 \"UPS\"\n    value 3 \"GLS\"\n",
	 0, NULL},
	{"field removed with number and name reserved", "  field 6 note string\n",
	 "  reserved 6\n  reserved \"note\"\n", 0, NULL},
	{"int32 to uint32 (same JSON and wire)", "field 3 quantity int32", "field 3 quantity uint32",
	 0, NULL},
	{"int64 to uint64 (same JSON and wire)", "field 1 order_id int64", "field 1 order_id uint64",
	 0, NULL},
	{"number reserved in advance", "  reserved 5\n", "  reserved 5\n  reserved 9\n", 0, NULL},
	{"version added", NULL,
	 "\nevent shop.orders.OrderPaid v2\n  package shop.orders.v2\n  field 1 order_id int64\n", 0,
	 NULL},
	{"event added", NULL,
	 "\nevent shop.billing.InvoiceSent v1\n  package shop.billing.v1\n  field 1 id int64\n", 0,
	 NULL},
};

START_TEST(test_change)
{
	const struct Change *c = &changes[_i];
	char *text;
	if (c->from) {
		text = edit(c->from, c->to);
	} else {
		size_t len = strlen(base) + strlen(c->to) + 1;
		text = malloc(len);
		snprintf(text, len, "%s%s", base, c->to);
	}
	Lock *locked = parse(base, "locked.lock"), *next = parse(text, "next.lock");
	struct StrBuf out = {0};
	size_t n = lock_compare(locked, next, &out);
	ck_assert(sb_ok(&out));
	const char *got = out.data ? out.data : "";
	ck_assert_msg(n == c->refusals, "%s: %zu refusals, expected %zu:\n%s", c->what, n,
		      c->refusals, got);
	if (c->expect)
		ck_assert_msg(strstr(got, c->expect), "%s: expected\n  %s\nin\n  %s", c->what,
			      c->expect, got);
	/* One line per refusal, each naming its rule and ending with the version to declare. */
	size_t lines = 0;
	for (const char *p = got; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_uint_eq(lines, n);
	for (const char *p = got; *p;) {
		const char *nl = strchr(p, '\n');
		const char *rule = strstr(p, "_"), *end = strstr(p, "declare version ");
		ck_assert_msg(rule && end && rule < end && end < nl && strncmp(nl - 8, " instead", 8) == 0,
			      "%s: %.*s", c->what, (int)(nl - p), p);
		p = nl + 1;
	}
	sb_free(&out);
	lock_free(locked);
	lock_free(next);
	free(text);
}
END_TEST

/* ---- the format ------------------------------------------------------------ */

static const char base_sorted[] =
	"tablecast-lock 1\n"
	"\n"
	"event shop.orders.OrderPaid v1\n"
	"  package shop.orders.v1\n"
	"  field 1 order_id int64\n"
	"  field 2 amount decimal\n"
	"\n"
	"event shop.orders.OrderShipped v2\n"
	"  package shop.orders.v2\n"
	"  field 1 order_id int64\n"
	"  field 2 carrier enum\n"
	"    value 1 \"DHL\"\n"
	"    value 2 \"UPS\"\n"
	"  field 3 quantity int32\n"
	"  field 4 tags string repeated\n"
	"  field 6 note string\n"
	"  reserved 5\n"
	"  reserved \"total\"\n";

/* The text after the leading comment lines. */
static const char *body(const struct StrBuf *sb)
{
	const char *p = sb->data;
	while (p && *p == '#')
		p = strchr(p, '\n') + 1;
	return p;
}

START_TEST(test_format_sorted_and_stable)
{
	/* Shuffle: fields, reserved entries and events out of order. */
	const char shuffled[] = "# hand-edited\n"
				"tablecast-lock 1\n"
				"event shop.orders.OrderShipped v2\n"
				"\treserved \"total\"\n"
				"  field 6 note string\n"
				"  field 2 carrier enum\n"
				"    value 1 \"DHL\"\n"
				"    value 2 \"UPS\"\r\n"
				"  reserved 5\n"
				"  field 4 tags string repeated\n"
				"  package shop.orders.v2\n"
				"  field 3 quantity int32\n"
				"  field 1 order_id int64\n"
				"event shop.orders.OrderPaid v1\n"
				"  field 2 amount decimal\n"
				"  package shop.orders.v1\n"
				"  field 1 order_id int64";
	Lock *a = parse(base, "a"), *b = parse(shuffled, "b");
	struct StrBuf ta = {0}, tb = {0};
	lock_format(a, &ta);
	lock_format(b, &tb);
	ck_assert(sb_ok(&ta) && sb_ok(&tb));
	ck_assert_str_eq(body(&ta), base_sorted);
	ck_assert_str_eq(ta.data, tb.data);
	/* Written text reads back to the same text. */
	Lock *c = parse(ta.data, "c");
	struct StrBuf tc = {0};
	lock_format(c, &tc);
	ck_assert_str_eq(tc.data, ta.data);
	struct StrBuf none = {0};
	ck_assert_uint_eq(lock_compare(a, b, &none), 0);
	ck_assert_uint_eq(lock_compare(b, c, &none), 0);
	sb_free(&ta);
	sb_free(&tb);
	sb_free(&tc);
	sb_free(&none);
	lock_free(a);
	lock_free(b);
	lock_free(c);
}
END_TEST

START_TEST(test_labels_escaped)
{
	static char *labels[] = {(char *)"say \"hi\"", (char *)"back\\slash", (char *)"tab\there",
				 (char *)"caf\xc3\xa9"};
	struct EventField f = {.name = (char *)"mood", .number = 1, .type = FT_ENUM,
			       .enum_values = labels, .n_enum_values = 4, .line = 7};
	struct EventDef ev = {.name = (char *)"a.b.Felt", .version = 3, .fields = &f,
			      .nfields = 1, .line = 5};
	Lock *lock = lock_from_events(&ev, 1, "x.cfg");
	ck_assert_ptr_nonnull(lock);
	struct StrBuf t = {0};
	lock_format(lock, &t);
	ck_assert_str_eq(body(&t), "tablecast-lock 1\n"
				   "\n"
				   "event a.b.Felt v3\n"
				   "  package a.b.v3\n"
				   "  field 1 mood enum\n"
				   "    value 1 \"say \\\"hi\\\"\"\n"
				   "    value 2 \"back\\\\slash\"\n"
				   "    value 3 \"tab\\x09here\"\n"
				   "    value 4 \"caf\xc3\xa9\"\n");
	Lock *back = parse(t.data, "y");
	struct StrBuf out = {0};
	ck_assert_uint_eq(lock_compare(back, lock, &out), 0);
	/* A label changed in one byte is caught, and the line is the configuration's. */
	labels[2] = (char *)"tab here";
	Lock *changed = lock_from_events(&ev, 1, "x.cfg");
	ck_assert_uint_eq(lock_compare(back, changed, &out), 1);
	ck_assert_msg(strstr(out.data, "x.cfg:7: event a.b.Felt v3: field 1 \"mood\": enum value 3 "
				       "renamed from \"tab?here\" to \"tab here\""),
		      "%s", out.data);
	labels[2] = (char *)"tab\there";
	sb_free(&t);
	sb_free(&out);
	lock_free(lock);
	lock_free(back);
	lock_free(changed);
}
END_TEST

START_TEST(test_from_events_reserved)
{
	uint32_t nums[] = {9, 4};
	char *names[] = {(char *)"zeta", (char *)"alpha"};
	struct EventField f[] = {
		{.name = (char *)"b", .number = 2, .type = FT_TIMESTAMP, .line = 3},
		{.name = (char *)"a", .number = 1, .type = FT_UUID, .repeated = true, .line = 2},
	};
	struct EventDef ev = {.name = (char *)"p.M", .version = 1, .fields = f, .nfields = 2,
			      .reserved_numbers = nums, .n_reserved_numbers = 2,
			      .reserved_names = names, .n_reserved_names = 2, .line = 1};
	Lock *lock = lock_from_events(&ev, 1, "c.cfg");
	struct StrBuf t = {0};
	lock_format(lock, &t);
	ck_assert_str_eq(body(&t), "tablecast-lock 1\n\nevent p.M v1\n  package p.v1\n"
				   "  field 1 a uuid repeated\n  field 2 b timestamp\n"
				   "  reserved 4\n  reserved 9\n  reserved \"alpha\"\n"
				   "  reserved \"zeta\"\n");
	sb_free(&t);
	lock_free(lock);
}
END_TEST

/* ---- hostile lock files: refused whole, with file:line ---------------------- */

static const struct {
	const char *text;
	const char *error;
} bad[] = {
	{"", "bad.lock: empty: not a tablecast lock file"},
	{"# only a comment\n", "empty: not a tablecast lock file"},
	{"event a.B v1\n", "bad.lock:1: not a tablecast lock file"},
	{"tablecast-lock 2\n", "bad.lock:1: lock format 2 is not supported (this tablecast reads 1)"},
	{"tablecast-lock 1\nfield 1 a int32\n", "bad.lock:2: \"field\" before the first event line"},
	{"tablecast-lock 1\nevent a.B v1\n  package a.v1\n  colour red\n",
	 "bad.lock:4: unknown line \"colour\""},
	{"tablecast-lock 1\nevent B v1\n", "bad.lock:2: \"B\" is not a full protobuf name"},
	{"tablecast-lock 1\nevent a.B 1\n", "bad.lock:2: \"1\" is not a version like v1"},
	{"tablecast-lock 1\nevent a.B v0\n", "\"v0\" is not a version"},
	{"tablecast-lock 1\nevent a.B v01\n", "\"v01\" is not a version"},
	{"tablecast-lock 1\nevent a.B v1\n", "bad.lock:2: event a.B v1 has no package line"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n package a.v1\n", "two package lines"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\nevent a.B v1\n package a.v1\n",
	 "bad.lock:4: event a.B v1 is listed twice (line 2)"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 0 a int32\n",
	 "bad.lock:4: \"0\" is not a protobuf field number"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 19000 a int32\n",
	 "\"19000\" is not a protobuf field number"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 99999999999 a int32\n",
	 "is not a protobuf field number"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int33\n",
	 "unknown field type \"int33\""},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 1a int32\n",
	 "field name \"1a\" is not an identifier"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32 optional\n",
	 "expected: field NUMBER NAME TYPE [repeated]"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32\n field 1 b int32\n",
	 "bad.lock:5: event a.B v1: field number 1 is listed twice"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32\n field 2 a int32\n",
	 "field \"a\" is listed twice"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32\n value 1 \"X\"\n",
	 "bad.lock:5: a value line belongs under a field of type enum"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 2 \"X\"\n",
	 "expected value 1 (enum values are numbered 1, 2, 3... in order)"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n field 2 b int32\n",
	 "bad.lock:5: field 1 \"a\" is an enum without values"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n",
	 "bad.lock:4: field 1 \"a\" is an enum without values"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"X\n",
	 "bad.lock:5: a quoted string is not closed"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"\\n\"\n",
	 "unknown escape in a quoted string"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"\\x00\"\n",
	 "\\x00 in a quoted string"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"a\"b\n",
	 "a quoted string must be followed by a space"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"a\tb\"\n",
	 "a control character in a quoted string (write \\x09)"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 X\n",
	 "expected: value NUMBER \"LABEL\""},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n reserved 1\n reserved 1\n",
	 "bad.lock:2: event a.B v1: reserved number 1 is listed twice"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n reserved \"x\"\n reserved \"x\"\n",
	 "bad.lock:2: event a.B v1: reserved name \"x\" is listed twice"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a enum\n value 1 \"X\"\n"
	 " value 2 \"Y\"\n value 3 \"X\"\n",
	 "bad.lock:4: event a.B v1: field 1 \"a\": enum value \"X\" is listed twice"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32\n reserved 1\n",
	 "number 1 is both a field and reserved"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a int32\n reserved \"a\"\n",
	 "name \"a\" is both a field and reserved"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n reserved \"a-b\"\n",
	 "reserved name \"a-b\" is not an identifier"},
	{"tablecast-lock 1\nevent a.B v1\n package a.v1\n reserved a b c d e f g h i\n",
	 "too many words on one line"},
	{"tablecast-lock 1\nevent a.B v1\n package a\"b\n", "a quote inside a word"},
	{"tablecast-lock 1\nevent a.B v1\n package a..b\n", "\"a..b\" is not a protobuf package"},
	{"tablecast-lock 1\n\"event\" a.B v1\n", "a line starts with a keyword"},
};

START_TEST(test_bad_lock)
{
	char err[512] = "";
	Lock *lock = lock_parse(bad[_i].text, strlen(bad[_i].text), "bad.lock", err, sizeof(err));
	ck_assert_msg(lock == NULL, "accepted: %s", bad[_i].text);
	ck_assert_msg(strstr(err, bad[_i].error), "for %s\nexpected: %s\ngot:      %s",
		      bad[_i].text, bad[_i].error, err);
	ck_assert_msg(strncmp(err, "bad.lock:", 9) == 0, "no file:line: %s", err);
	ck_assert(!strchr(err, '\n'));
}
END_TEST

/*
 * The largest lock a file may hold, compared with itself and with a
 * configuration's lock that has nothing in common: n log n, not n squared,
 * or this test times out.
 */
START_TEST(test_large)
{
	struct StrBuf t = {0};
	sb_puts(&t, "tablecast-lock 1\n");
	for (int i = 0; i < 99999; i++)
		sb_printf(&t, "event q%d.M v1\n package q%d.v1\n field 1 a int32\n", i, i);
	/* One event version with as many fields and labels as allowed. */
	sb_puts(&t, "event big.M v1\n package big.v1\n");
	for (int i = 1; i <= 9999; i++)
		sb_printf(&t, " field %d f%d int32\n", i, i);
	sb_puts(&t, " field 10000 e enum\n");
	for (int i = 1; i <= 10000; i++)
		sb_printf(&t, "  value %d \"l%d\"\n", i, i);
	ck_assert(sb_ok(&t));
	char err[256] = "";
	Lock *a = lock_parse(t.data, t.len, "a", err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	sb_free(&t);
	sb_puts(&t, "tablecast-lock 1\n");
	for (int i = 0; i < 99999; i++)
		sb_printf(&t, "event p%d.M v1\n package p%d.v1\n field 1 a int32\n", i, i);
	sb_puts(&t, "event big.M v1\n package big.v1\n field 10000 e enum\n");
	for (int i = 10000; i >= 1; i--)
		sb_printf(&t, "  value %d \"l%d\"\n", 10001 - i, i);
	Lock *b = lock_parse(t.data, t.len, "b", err, sizeof(err));
	ck_assert_msg(b != NULL, "%s", err);
	struct StrBuf out = {0};
	ck_assert_uint_eq(lock_compare(b, b, &out), 0);
	size_t n = lock_compare(a, b, &out);
	ck_assert(sb_ok(&out));
	/* 9999 fields removed, 10000 labels renumbered, every q event gone. */
	ck_assert_uint_eq(n, 9999 + 10000 + 99999);
	sb_free(&t);
	sb_free(&out);
	lock_free(a);
	lock_free(b);
}
END_TEST

START_TEST(test_limits)
{
	struct StrBuf t = {0};
	char err[256] = "";
	sb_puts(&t, "tablecast-lock 1\nevent a.B v1\n package a.v1\n");
	for (int i = 1; i <= 10001; i++)
		sb_printf(&t, " reserved %d\n", i);
	ck_assert_ptr_null(lock_parse(t.data, t.len, "r", err, sizeof(err)));
	ck_assert_str_eq(err, "r:10004: event a.B v1: more than 10000 reserved entries");
	sb_free(&t);
}
END_TEST

START_TEST(test_bad_bytes)
{
	char err[512] = "";
	/* A NUL byte inside the text (len covers it). */
	static const char nul[] = "tablecast-lock 1\nevent a.B v1\0\n";
	ck_assert_ptr_null(lock_parse(nul, sizeof(nul) - 1, "n.lock", err, sizeof(err)));
	ck_assert_str_eq(err, "n.lock:2: a NUL byte");
	/* A line over the limit. */
	size_t len = 80 * 1024;
	char *big = malloc(len + 32);
	int off = snprintf(big, 32, "tablecast-lock 1\n# ");
	memset(big + off, 'x', len);
	ck_assert_ptr_null(lock_parse(big, (size_t)off + len, "b.lock", err, sizeof(err)));
	ck_assert_str_eq(err, "b.lock:2: line longer than 65536 bytes");
	/* A file over the limit. */
	ck_assert_ptr_null(lock_parse(big, LOCK_MAX_BYTES + 1, "h.lock", err, sizeof(err)));
	ck_assert_msg(strstr(err, "h.lock: larger than"), "%s", err);
	free(big);
	/* Control bytes in what is quoted back are made visible, the message stays one line. */
	static const char ctl[] = "tablecast-lock 1\nevent a.B v1\n package a.v1\n field 1 a\x1b int32\n";
	ck_assert_ptr_null(lock_parse(ctl, sizeof(ctl) - 1, "c.lock", err, sizeof(err)));
	ck_assert_str_eq(err, "c.lock:4: field name \"a?\" is not an identifier");
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");
	tcase_add_loop_test(tc, test_change, 0, (int)(sizeof(changes) / sizeof(changes[0])));
	tcase_add_test(tc, test_format_sorted_and_stable);
	tcase_add_test(tc, test_labels_escaped);
	tcase_add_test(tc, test_from_events_reserved);
	tcase_add_loop_test(tc, test_bad_lock, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_bad_bytes);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	/* Seconds with sanitizers on a loaded machine; n squared would take hours. */
	TCase *large = tcase_create("large");
	tcase_set_timeout(large, 120);
	tcase_add_test(large, test_large);
	suite_add_tcase(s, large);
	return s;
}

int main(void)
{
	return run_suite(lock_suite());
}
