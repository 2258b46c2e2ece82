/* Unit tests for src/expr.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
#include "value.h"
#include "run_suite.h"

/* ---- fixtures ------------------------------------------------------------ */

/* The row every table case runs against; an expression's columns are looked up here by name. */
struct FixtureColumn {
	bool old;
	const char *name;
	struct Value v;
};

static struct Value text_value(const char *s, uint32_t typoid)
{
	return (struct Value){.kind = VAL_TEXT, .typoid = typoid, .s = {s, strlen(s)}};
}

static struct Value numeric_value(const char *s)
{
	return (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC, .s = {s, strlen(s)}};
}

static struct Value int_value(int64_t i, uint32_t typoid)
{
	return (struct Value){.kind = VAL_INT, .typoid = typoid, .i = i};
}

static int32_t days(int64_t y, unsigned m, unsigned d)
{
	return (int32_t)value_days_from_civil(y, m, d);
}

static struct FixtureColumn fixture[16];
static size_t nfixture;

static void add_fixture(bool old, const char *name, struct Value v)
{
	fixture[nfixture++] = (struct FixtureColumn){.old = old, .name = name, .v = v};
}

static void setup_fixture(void)
{
	nfixture = 0;
	add_fixture(false, "a", int_value(7, OID_INT4));
	add_fixture(true, "a", int_value(5, OID_INT4));
	add_fixture(false, "big", int_value(3000000000, OID_INT8));
	add_fixture(false, "s", text_value("Hello", OID_TEXT));
	add_fixture(false, "n", numeric_value("10.00"));
	add_fixture(false, "f", (struct Value){.kind = VAL_FLOAT, .typoid = OID_FLOAT8, .f = 2.5});
	add_fixture(false, "b", (struct Value){.kind = VAL_BOOL, .typoid = OID_BOOL, .b = true});
	add_fixture(false, "z", (struct Value){.kind = VAL_NULL, .typoid = OID_INT4});
	add_fixture(
	    false, "d",
	    (struct Value){.kind = VAL_DATE, .typoid = OID_DATE, .date = days(2026, 1, 15)});
	/* 2026-01-15 10:30:45.123456 */
	int64_t ts = (int64_t)days(2026, 1, 15) * 86400000000 + INT64_C(37845123456);
	add_fixture(false, "ts",
	            (struct Value){.kind = VAL_TIMESTAMP, .typoid = OID_TIMESTAMP, .ts = ts});
	add_fixture(false, "bs",
	            (struct Value){.kind = VAL_BYTEA, .typoid = OID_BYTEA, .s = {"abc", 3}});
	add_fixture(false, "u", text_value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", OID_UUID));
	add_fixture(false, "status", text_value("shipped", OID_TEXT));
	add_fixture(true, "status", text_value("paid", OID_TEXT));
}

static const struct Value *fixture_value(const struct ExprColumn *col)
{
	for (size_t i = 0; i < nfixture; i++)
		if (fixture[i].old == col->old && strcmp(fixture[i].name, col->name) == 0)
			return &fixture[i].v;
	return NULL;
}

/*
 * Parse and evaluate text against the fixture row. The result is what
 * PostgreSQL would print ("t", "11.9000"), "NULL", "error: <message>" for
 * evaluation errors, or "parse error: <message> @<position>".
 */
static const char *run(const char *text)
{
	static char out[512];
	struct ExprError perr;
	Expr *e = expr_parse(text, &perr);
	if (!e) {
		snprintf(out, sizeof(out), "parse error: %s @%d", perr.message, perr.position);
		return out;
	}
	const struct ExprColumn *cols;
	size_t n = expr_columns(e, &cols);
	struct Value row[16];
	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++) {
		const struct Value *v = fixture_value(&cols[i]);
		ck_assert_msg(v != NULL, "no fixture column %s.%s", cols[i].old ? "old" : "new",
		              cols[i].name);
		row[i] = *v;
	}
	struct ExprRow r = {.cols = row, .ncols = n};
	Arena *arena = arena_new();
	struct Value v;
	char err[256];
	if (expr_eval(e, &r, arena, &v, err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "error: %s", err);
	} else if (v.kind == VAL_NULL) {
		snprintf(out, sizeof(out), "NULL");
	} else {
		const char *t;
		size_t len;
		ck_assert_int_eq(value_to_text(&v, arena, &t, &len), 0);
		snprintf(out, sizeof(out), "%.*s", (int)len, t);
	}
	arena_free(arena);
	expr_free(e);
	return out;
}

struct Case {
	const char *expr;
	const char *want;
};

/* Run every case, report each mismatch, then fail if there was any. */
static void run_cases(const struct Case *cases, size_t n)
{
	setup_fixture();
	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		const char *got = run(cases[i].expr);
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "  %s\n    want: %s\n    got:  %s\n", cases[i].expr,
			        cases[i].want, got);
			failures++;
		}
	}
	ck_assert_int_eq(failures, 0);
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- constants and comparisons ------------------------------------------- */

START_TEST(test_constants)
{
	static const struct Case cases[] = {
	    {"1", "1"},
	    {"-1", "-1"},
	    {"1.19", "1.19"},
	    {"1e3", "1000"},
	    {"1.50", "1.50"},
	    {"9223372036854775807", "9223372036854775807"},
	    {"-9223372036854775808", "-9223372036854775808"},
	    {"9223372036854775808", "9223372036854775808"}, /* too big for bigint: numeric */
	    {"'abc'", "abc"},
	    {"'it''s'", "it's"},
	    {"true", "t"},
	    {"FALSE", "f"},
	    {"NULL", "NULL"},
	    {"date '2026-01-01'", "2026-01-01"},
	    {"timestamp '2026-01-01 12:30'", "2026-01-01 12:30:00"},
	    {"timestamptz '2026-01-01 12:30:00+00'", "2026-01-01 12:30:00+00"},
	    {"numeric '1.500'", "1.500"},
	    {"new.a", "7"},
	    {"old.a", "5"},
	    {"new.s", "Hello"},
	    {"new.z", "NULL"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_comparisons)
{
	static const struct Case cases[] = {
	    {"1 = 1", "t"},
	    {"1 <> 1", "f"},
	    {"1 != 2", "t"},
	    {"1 < 2", "t"},
	    {"2 <= 2", "t"},
	    {"3 > 2", "t"},
	    {"2 >= 3", "f"},
	    /* int, numeric and float compare as numbers; int vs numeric exactly. */
	    {"1 = 1.0", "t"},
	    {"1.10 = 1.1", "t"},
	    {"2 > 1.5", "t"},
	    {"9223372036854775807 < 9223372036854775808", "t"},
	    {"-0.5 < 0", "t"},
	    {"-1.5 < -1.25", "t"},
	    {"1.5 < 2.5::float8", "t"},
	    {"0.1::float8 = 0.1", "t"},
	    {"'NaN'::numeric > 1e30", "t"},
	    {"'NaN'::numeric = 'NaN'::numeric", "t"},
	    /* text is bytewise (C collation) */
	    {"'abc' < 'abd'", "t"},
	    {"'B' < 'a'", "t"},
	    {"'ab' < 'abc'", "t"},
	    {"'x' = 'x'", "t"},
	    {"'x '::char(3) = 'x'::char(1)", "t"},
	    {"true > false", "t"},
	    {"date '2026-01-01' < timestamp '2026-01-01 00:00:01'", "t"},
	    {"date '2026-01-01' = timestamp '2026-01-01'", "t"},
	    {"'\\x01'::bytea < '\\x02'::bytea", "t"},
	    /* untyped literals take the other side's type */
	    {"new.d = '2026-01-15'", "t"},
	    {"new.d > '2026-01-01'", "t"},
	    {"new.ts > '2026-01-15 10:30'", "t"},
	    {"new.a = '7'", "t"},
	    {"new.n = '10'", "t"},
	    {"new.b = 'yes'", "t"},
	    {"new.u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "t"},
	    {"new.a != 8", "t"},
	    {"new.n = 10", "t"},
	    {"new.n = 10.000", "t"},
	    {"new.f = 2.5", "t"},
	    {"new.status = 'shipped'", "t"},
	    {"NULL = NULL", "NULL"},
	    {"new.z = 1", "NULL"},
	    {"1 < NULL", "NULL"},
	    {"new.d = 'soon'", "error: invalid input syntax for type date: \"soon\""},
	    {"new.a = 'x'", "error: invalid input syntax for type integer: \"x\""},
	    {"new.s = 1", "error: operator does not exist: text = integer"},
	    {"new.b < 1", "error: operator does not exist: boolean < integer"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_null_tests)
{
	static const struct Case cases[] = {
	    {"NULL IS DISTINCT FROM NULL", "f"},
	    {"NULL IS NOT DISTINCT FROM NULL", "t"},
	    {"1 IS DISTINCT FROM NULL", "t"},
	    {"NULL IS DISTINCT FROM 1", "t"},
	    {"1 IS NOT DISTINCT FROM NULL", "f"},
	    {"1 IS DISTINCT FROM 1", "f"},
	    {"1 IS DISTINCT FROM 2", "t"},
	    {"1 IS NOT DISTINCT FROM 1.0", "t"},
	    {"old.a IS DISTINCT FROM new.a", "t"},
	    {"old.status IS DISTINCT FROM new.status", "t"},
	    {"new.z IS NOT DISTINCT FROM NULL", "t"},
	    {"new.d IS NOT DISTINCT FROM '2026-01-15'", "t"},
	    {"new.z IS NULL", "t"},
	    {"new.z IS NOT NULL", "f"},
	    {"new.a IS NULL", "f"},
	    {"new.a IS NOT NULL", "t"},
	    {"NULL IS NULL", "t"},
	    {"true IS TRUE", "t"},
	    {"false IS TRUE", "f"},
	    {"NULL::boolean IS TRUE", "f"},
	    {"true IS NOT TRUE", "f"},
	    {"NULL::boolean IS NOT TRUE", "t"},
	    {"false IS FALSE", "t"},
	    {"NULL::boolean IS FALSE", "f"},
	    {"false IS NOT FALSE", "f"},
	    {"NULL::boolean IS NOT FALSE", "t"},
	    {"NULL::boolean IS UNKNOWN", "t"},
	    {"true IS UNKNOWN", "f"},
	    {"true IS NOT UNKNOWN", "t"},
	    {"new.b IS TRUE", "t"},
	    {"(new.z > 1) IS UNKNOWN", "t"},
	    {"new.a IS TRUE", "error: argument of IS TRUE must be type boolean, not type integer"},
	};
	RUN(cases);
}
END_TEST

/* ---- three-valued logic --------------------------------------------------- */

START_TEST(test_logic_truth_tables)
{
	static const struct Case cases[] = {
	    {"true AND true", "t"},
	    {"true AND false", "f"},
	    {"true AND NULL", "NULL"},
	    {"false AND true", "f"},
	    {"false AND false", "f"},
	    {"false AND NULL", "f"},
	    {"NULL AND true", "NULL"},
	    {"NULL AND false", "f"},
	    {"NULL AND NULL", "NULL"},
	    {"true OR true", "t"},
	    {"true OR false", "t"},
	    {"true OR NULL", "t"},
	    {"false OR true", "t"},
	    {"false OR false", "f"},
	    {"false OR NULL", "NULL"},
	    {"NULL OR true", "t"},
	    {"NULL OR false", "NULL"},
	    {"NULL OR NULL", "NULL"},
	    {"NOT true", "f"},
	    {"NOT false", "t"},
	    {"NOT NULL::boolean", "NULL"},
	    {"NOT (new.z = 1)", "NULL"},
	    {"true AND true AND NULL", "NULL"},
	    {"NULL AND true AND false", "f"},
	    {"new.status = 'shipped' AND old.status IS DISTINCT FROM new.status", "t"},
	    {"new.a > 5 OR new.z = 1", "t"},
	    {"new.a < 5 OR new.z = 1", "NULL"},
	    {"true AND 't'", "t"},
	    {"new.a AND true", "error: argument of AND must be type boolean, not type integer"},
	    {"NOT new.s", "error: argument of NOT must be type boolean, not type text"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_in_between)
{
	static const struct Case cases[] = {
	    {"1 IN (1, 2)", "t"},
	    {"3 IN (1, 2)", "f"},
	    {"3 IN (1, NULL)", "NULL"},
	    {"1 IN (NULL, 1)", "t"},
	    {"NULL IN (1, 2)", "NULL"},
	    {"3 NOT IN (1, 2)", "t"},
	    {"1 NOT IN (1, 2)", "f"},
	    {"3 NOT IN (1, NULL)", "NULL"},
	    {"1 NOT IN (1, NULL)", "f"},
	    {"NULL NOT IN (1)", "NULL"},
	    {"new.a IN (5, 7.0)", "t"},
	    {"new.status IN ('paid', 'shipped')", "t"},
	    {"new.d IN ('2026-01-14', '2026-01-15')", "t"},
	    {"new.s IN (1, 2)", "error: operator does not exist: text = integer"},
	    {"5 BETWEEN 1 AND 10", "t"},
	    {"10 BETWEEN 1 AND 10", "t"},
	    {"11 BETWEEN 1 AND 10", "f"},
	    {"5 NOT BETWEEN 1 AND 10", "f"},
	    {"0 NOT BETWEEN 1 AND 10", "t"},
	    {"NULL BETWEEN 1 AND 10", "NULL"},
	    {"new.d BETWEEN '2026-01-01' AND '2026-01-31'", "t"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_conditionals)
{
	static const struct Case cases[] = {
	    {"CASE WHEN new.a > 5 THEN 'big' ELSE 'small' END", "big"},
	    {"CASE WHEN new.a > 50 THEN 'big' ELSE 'small' END", "small"},
	    {"CASE WHEN false THEN 1 END", "NULL"},
	    {"CASE WHEN NULL THEN 1 ELSE 2 END", "2"},
	    {"CASE WHEN new.z = 1 THEN 1 WHEN new.a = 7 THEN 2 END", "2"},
	    {"CASE new.a WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", "seven"},
	    {"CASE new.a WHEN 1 THEN 'one' END", "NULL"},
	    {"CASE new.z WHEN 1 THEN 'one' ELSE 'other' END", "other"},
	    {"CASE new.d WHEN '2026-01-15' THEN 'today' END", "today"},
	    {"CASE WHEN 1 THEN 1 END",
	     "error: argument of CASE/WHEN must be type boolean, not type integer"},
	    {"COALESCE(new.z, new.a, 3)", "7"},
	    {"COALESCE(NULL, NULL)", "NULL"},
	    {"COALESCE(new.z, 1 / 1)", "1"},
	    {"COALESCE(new.a, 1 / 0)", "7"}, /* later arguments are not evaluated */
	    {"NULLIF(1, 1)", "NULL"},
	    {"NULLIF(1, 2)", "1"},
	    {"NULLIF(new.s, '')", "Hello"},
	    {"NULLIF(NULL, 1)", "NULL"},
	    {"NULLIF(1, NULL)", "1"},
	    {"GREATEST(1, 5, 3)", "5"},
	    {"LEAST(1.5, 0.5, NULL)", "0.5"},
	    {"GREATEST(NULL, NULL)", "NULL"},
	    {"GREATEST(new.d, '2027-01-01')", "2027-01-01"},
	    {"LEAST(new.d, '2027-01-01')", "2026-01-15"},
	    {"GREATEST('a', 'b')", "b"},
	};
	RUN(cases);
}
END_TEST

/* ---- arithmetic ------------------------------------------------------------ */

START_TEST(test_integer_arithmetic)
{
	static const struct Case cases[] = {
	    {"1 + 2", "3"},
	    {"2 * 3 - 1", "5"},
	    {"7 / 2", "3"},
	    {"-7 / 2", "-3"}, /* truncates toward zero */
	    {"7 % 3", "1"},
	    {"-7 % 3", "-1"},
	    {"new.a * 2", "14"},
	    {"new.a - old.a", "2"},
	    {"-new.a", "-7"},
	    {"+new.a", "7"},
	    {"new.a + new.z", "NULL"},
	    {"new.a + '1'", "8"},
	    {"9223372036854775807 + 1", "error: bigint out of range"},
	    {"-9223372036854775808 - 1", "error: bigint out of range"},
	    {"9223372036854775807 * 2", "error: bigint out of range"},
	    {"-9223372036854775808 / -1", "error: bigint out of range"},
	    {"-(-9223372036854775807 - 1)", "error: bigint out of range"},
	    /* The minus folds into the literal, which is then numeric. */
	    {"-(-9223372036854775808)", "9223372036854775808"},
	    {"-9223372036854775808 % -1", "0"},
	    {"1 / 0", "error: division by zero"},
	    {"1 % 0", "error: division by zero"},
	    {"new.s + 1", "error: operator does not exist: text + integer"},
	    {"'a' + 'b'", "error: operator is not unique: unknown + unknown"},
	    {"-new.s", "error: operator does not exist: - text"},
	    {"date '2026-01-31' + 1", "2026-02-01"},
	    {"1 + date '2026-12-31'", "2027-01-01"},
	    {"new.d - 15", "2025-12-31"},
	    {"date '2026-03-01' - date '2026-02-01'", "28"},
	    {"new.ts - new.ts",
	     "error: timestamp subtraction yields an interval, which expressions do not support"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_numeric_arithmetic)
{
	static const struct Case cases[] = {
	    {"10.00 * 1.19", "11.9000"},
	    {"1 / 3::numeric", "0.33333333333333333333"},
	    {"0.1 + 0.2", "0.3"},
	    {"1.10 + 2.205", "3.305"},
	    {"10.00 - 0.5", "9.50"},
	    {"0.5 - 10.00", "-9.50"},
	    {"2.50 * 4", "10.00"},
	    {"10 / 4.0", "2.5000000000000000"},
	    {"1 / 7::numeric", "0.14285714285714285714"},
	    {"100000 / 3.0", "33333.333333333333"},
	    {"2 / 3.0", "0.66666666666666666667"}, /* rounds half away from zero */
	    {"-2 / 3.0", "-0.66666666666666666667"},
	    {"1.000 / 8", "0.12500000000000000000"},
	    {"0.001 / 1000", "0.000001000000000000000000"},
	    {"new.n * 1.19", "11.9000"},
	    {"new.n / 3", "3.3333333333333333"},
	    {"new.n + new.a", "17.00"},
	    {"new.n - 0.001", "9.999"},
	    {"7.5 % 2", "1.5"},
	    {"-7.5 % 2", "-1.5"},
	    {"-new.n", "-10.00"},
	    {"-(-1.5)", "1.5"},
	    {"-0.0", "0.0"},
	    {"1.5 - 1.5", "0.0"},
	    {"'NaN'::numeric + 1", "NaN"},
	    {"'NaN'::numeric / 0", "NaN"},
	    {"'Infinity'::numeric + 1", "Infinity"},
	    {"1.5 / 0", "error: division by zero"},
	    {"1.5 % 0.0", "error: division by zero"},
	    {"99999999999999999999999999999999999999 + 1",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"12345678901234567890.5 * 12345678901234567890.5",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"9999999999999999999999999999999999999.9 + 0.1",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"1234567890123456789012345678901234567.8 - 1234567890123456789012345678901234567.7",
	     "0.1"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_float_arithmetic)
{
	static const struct Case cases[] = {
	    {"1.5::float8 + 1", "2.5"},
	    {"new.f * 2", "5"},
	    {"new.f + new.n", "12.5"},
	    {"1 / 2::float8", "0.5"},
	    {"0.1::float8 + 0.2::float8", "0.30000000000000004"},
	    {"-new.f", "-2.5"},
	    {"1 / 0::float8", "error: division by zero"},
	    {"1e308::float8 * 10", "error: value out of range: overflow"},
	    {"new.f % 2", "error: operator does not exist: double precision % integer"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_concat)
{
	static const struct Case cases[] = {
	    {"'a' || 'b'", "ab"},
	    {"new.s || '!'", "Hello!"},
	    {"'n=' || new.a", "n=7"},
	    {"new.n || ' EUR'", "10.00 EUR"},
	    {"'x' || NULL", "NULL"},
	    {"new.z || 'x'", "NULL"},
	    {"'x' || true", "xtrue"},
	    {"'on ' || new.d", "on 2026-01-15"},
	    {"'x'::char(3) || '|'", "x|"},
	    {"'\\x01'::bytea || '\\x02'::bytea", "\\x0102"},
	    {"1 || 2", "error: operator does not exist: integer || integer"},
	};
	RUN(cases);
}
END_TEST

/* ---- casts ----------------------------------------------------------------- */

START_TEST(test_casts)
{
	static const struct Case cases[] = {
	    {"'12'::int8", "12"},
	    {"' 12 '::integer", "12"},
	    {"CAST(new.a AS text)", "7"},
	    {"new.a::text || ''", "7"},
	    {"new.a::bigint", "7"},
	    {"new.s::int", "error: invalid input syntax for type integer: \"Hello\""},
	    {"new.big::int4", "error: integer out of range"},
	    {"new.big::int2", "error: smallint out of range"},
	    {"new.big::int8", "3000000000"},
	    {"1.5::int", "2"},
	    {"2.5::int", "3"},
	    {"(-2.5)::int", "-3"},
	    {"2.5::float8::int", "2"}, /* rint: half to even */
	    {"3.5::float8::int", "4"},
	    {"(new.f * 1e20)::int8", "error: bigint out of range"},
	    {"99999999999.5::int8", "100000000000"},
	    {"(new.n * 1000000000)::int4", "error: integer out of range"},
	    {"12.345::numeric(5,2)", "12.35"},
	    {"-12.345::numeric(5,2)", "-12.35"},
	    {"new.n::numeric(4,1)", "10.0"},
	    {"new.n::numeric(3)", "10"},
	    {"new.a::numeric(3,2)", "7.00"},
	    {"new.a::numeric(2,2)", "error: numeric field overflow"},
	    {"new.n::decimal(10,4)", "10.0000"},
	    {"new.a::numeric", "7"},
	    {"new.a::float8", "7"},
	    {"new.n::float8", "10"},
	    {"new.n::real", "10"},
	    {"0.1::float8::numeric", "0.1"},
	    {"new.f::numeric", "2.5"},
	    {"(1.0::float8 / 3)::numeric", "0.333333333333333"},
	    {"new.ts::date", "2026-01-15"},
	    {"new.d::timestamp", "2026-01-15 00:00:00"},
	    {"new.d::timestamptz", "2026-01-15 00:00:00+00"},
	    {"new.ts::timestamp(0)", "2026-01-15 10:30:45"},
	    {"new.ts::timestamp(3)", "2026-01-15 10:30:45.123"},
	    {"new.s::varchar(3)", "Hel"},
	    {"new.s::character varying", "Hello"},
	    {"new.s::char(7) || '|'", "Hello|"},
	    {"length(new.s::char(7))", "5"},
	    {"octet_length(new.s::char(7))", "7"},
	    {"'héllo'::varchar(2)", "hé"},
	    {"new.b::text", "true"},
	    {"new.b::int", "1"},
	    {"1::boolean", "t"},
	    {"0::bool", "f"},
	    {"'yes'::boolean", "t"},
	    {"'2026-01-01 12:00'::timestamp", "2026-01-01 12:00:00"},
	    {"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid",
	     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	    {"'{\"a\": 1}'::jsonb", "{\"a\": 1}"},
	    {"'\\x4142'::bytea", "\\x4142"},
	    {"new.s::bytea", "\\x48656c6c6f"},
	    {"new.bs::text", "\\x616263"},
	    {"new.u::text", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	    {"NULL::int", "NULL"},
	    {"new.z::text", "NULL"},
	    {"new.d::int", "error: cannot cast type date to integer"},
	    {"new.a::uuid", "error: cannot cast type integer to uuid"},
	    {"new.s::date", "error: invalid input syntax for type date: \"Hello\""},
	};
	RUN(cases);
}
END_TEST

/* ---- functions ------------------------------------------------------------- */

START_TEST(test_functions)
{
	static const struct Case cases[] = {
	    {"lower('ABC')", "abc"},
	    {"upper(new.s)", "HELLO"},
	    /* ASCII letters only: PostgreSQL in a UTF-8 locale gives "äb". */
	    {"lower('ÄB')", "Äb"},
	    {"pg_catalog.upper('x')", "X"},
	    {"btrim('  x  ')", "x"},
	    {"btrim('xxaxx', 'x')", "a"},
	    {"trim('  z ')", "z"},
	    {"trim(both 'x' from 'xxaxx')", "a"},
	    {"trim(leading 'x' from 'xxaxx')", "axx"},
	    {"trim(trailing 'x' from 'xxaxx')", "xxa"},
	    {"trim(both from '  a  ')", "a"},
	    {"ltrim('  a ')", "a "},
	    {"rtrim('xay', 'y')", "xa"},
	    {"rtrim('aéé', 'é')", "a"},
	    {"length('héllo')", "5"},
	    {"char_length(new.s)", "5"},
	    {"character_length('')", "0"},
	    {"length(new.bs)", "3"},
	    {"length('\\x0102'::bytea)", "2"},
	    {"octet_length('é')", "2"},
	    {"length(new.z::text)", "NULL"},
	    {"lower(new.a)", "error: function lower(integer) does not exist"},
	    {"concat('a', NULL, 1, true, 1.50)", "a1t1.50"},
	    {"concat(NULL)", ""},
	    {"abs(-5)", "5"},
	    {"abs(5)", "5"},
	    {"abs(-1.50)", "1.50"},
	    {"abs(-2.5::float8)", "2.5"},
	    {"abs(-9223372036854775808)", "error: bigint out of range"},
	    {"round(2.5)", "3"},
	    {"round(-2.5)", "-3"},
	    {"round(1.2345, 2)", "1.23"},
	    {"round(-1.235, 2)", "-1.24"},
	    {"round(1234.5, -2)", "1200"},
	    {"round(2.5::float8)", "2"},
	    {"round(new.n / 3, 2)", "3.33"},
	    {"round(new.a, 1)", "7.0"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_date_trunc)
{
	static const struct Case cases[] = {
	    {"date_trunc('microseconds', new.ts)", "2026-01-15 10:30:45.123456"},
	    {"date_trunc('milliseconds', new.ts)", "2026-01-15 10:30:45.123"},
	    {"date_trunc('second', new.ts)", "2026-01-15 10:30:45"},
	    {"date_trunc('minute', new.ts)", "2026-01-15 10:30:00"},
	    {"date_trunc('hour', new.ts)", "2026-01-15 10:00:00"},
	    {"date_trunc('day', new.ts)", "2026-01-15 00:00:00"},
	    /* A Thursday: back to Monday. */
	    {"date_trunc('week', new.ts)", "2026-01-12 00:00:00"},
	    {"date_trunc('week', timestamp '2026-01-12 00:00')", "2026-01-12 00:00:00"},
	    {"date_trunc('week', timestamp '2026-01-11 23:59')", "2026-01-05 00:00:00"},
	    {"date_trunc('month', new.ts)", "2026-01-01 00:00:00"},
	    {"date_trunc('quarter', timestamp '2026-05-20 01:02:03')", "2026-04-01 00:00:00"},
	    {"date_trunc('year', timestamp '2026-12-31 23:59:59.999999')", "2026-01-01 00:00:00"},
	    {"date_trunc('MONTH', new.ts)", "2026-01-01 00:00:00"},
	    {"date_trunc('minute', timestamp '1969-12-31 23:59:59.5')", "1969-12-31 23:59:00"},
	    {"date_trunc('week', timestamp '1969-12-31 12:00')", "1969-12-29 00:00:00"},
	    {"date_trunc('day', new.d)", "2026-01-15 00:00:00+00"},
	    {"date_trunc('hour', timestamptz '2026-01-15 10:30:00+00')", "2026-01-15 10:00:00+00"},
	    {"date_trunc('day', timestamp 'infinity')", "infinity"},
	    {"date_trunc('day', NULL::timestamp)", "NULL"},
	    {"date_trunc('fortnight', new.ts)",
	     "error: unit \"fortnight\" not recognized for type timestamp without time zone"},
	    {"date_trunc('day', new.a)",
	     "error: function date_trunc(unknown, integer) does not exist"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_digests)
{
	static const struct Case cases[] = {
	    /* Hex text, where PostgreSQL's sha256() returns bytea ("\\xe3b0..."). */
	    {"sha256('')", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"sha256(new.bs)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"sha256(NULL::text)", "NULL"},
	    {"md5('')", "d41d8cd98f00b204e9800998ecf8427e"},
	    {"md5('abc')", "900150983cd24fb0d6963f7d28e17f72"},
	    {"md5('message digest')", "f96b697d7cb7938d525a2f31aaf161d0"},
	    {"md5('"
	     "12345678901234567890123456789012345678901234567890123456789012345678901234567890')",
	     "57edf4a22be3c955ac49da2e2107b67a"},
	    {"md5(new.a)", "error: function md5(integer) does not exist"},
	};
	RUN(cases);
}
END_TEST

/* ---- parse errors ----------------------------------------------------------- */

START_TEST(test_parse_errors)
{
	static const struct Case cases[] = {
	    {"status = 1",
	     "parse error: column references must be old.<column> or new.<column> @1"},
	    {"orders.status",
	     "parse error: column references must be old.<column> or new.<column> @1"},
	    {"new.a + old.*",
	     "parse error: column references must be old.<column> or new.<column> @9"},
	    {"public.orders.status",
	     "parse error: column references must be old.<column> or new.<column> @1"},
	    {"new.a = now()", "parse error: function now() is not supported @9"},
	    {"(SELECT 1)", "parse error: subqueries are not supported @1"},
	    {"new.a IN (SELECT 1)", "parse error: subqueries are not supported @7"},
	    {"count(new.a)", "parse error: aggregate functions are not supported: count() @1"},
	    {"count(*)", "parse error: aggregate functions are not supported @1"},
	    {"sum(new.a) OVER ()", "parse error: window functions are not supported @1"},
	    {"1, 2", "parse error: expected one expression, not a list @4"},
	    {"new.a FROM t", "parse error: expression must not have a FROM clause @12"},
	    {"new.a WHERE true", "parse error: expression must not have a WHERE clause @13"},
	    {"new.a AS x", "parse error: expression must not have an alias @1"},
	    {"new.a = = 1", "parse error: syntax error at or near \"=\" @9"},
	    {"new.a = (1", "parse error: syntax error at end of input @11"},
	    {"$1", "parse error: parameters ($n) are not supported @1"},
	    {"", "parse error: empty expression @0"},
	    {"1; SELECT 2", "parse error: expected one expression, not several statements @3"},
	    {"new.a::foo", "parse error: type foo is not supported @8"},
	    {"new.a::int[]", "parse error: casts to array types are not supported @8"},
	    {"new.a::numeric(2000)",
	     "parse error: numeric precision 2000 must be between 1 and 1000 @8"},
	    {"new.a::text(3)", "parse error: type modifier is not allowed for type text @8"},
	    {"'12x'::int8", "parse error: invalid input syntax for type bigint: \"12x\" @1"},
	    {"3000000000::int4", "parse error: integer out of range @1"},
	    {"new.s LIKE 'x%'", "parse error: LIKE, ILIKE and SIMILAR TO are not supported @7"},
	    {"new.a = ANY('{1}')", "parse error: ANY and ALL are not supported @7"},
	    {"new.a ^ 2", "parse error: operator ^ is not supported @7"},
	    {"current_date", "parse error: SQL value functions (CURRENT_DATE, CURRENT_USER, ...) "
	                     "are not supported @1"},
	    {"new.s COLLATE \"C\"",
	     "parse error: COLLATE is not supported (text compares bytewise) @7"},
	    {"lower(new.s, 1)", "parse error: function lower() does not take 2 arguments @1"},
	    {"ARRAY[1]", "parse error: ARRAY constructors are not supported @1"},
	    {"B'101'", "parse error: bit string constants are not supported @1"},
	    {"1 UNION SELECT 2",
	     "parse error: expected one expression, not UNION, INTERSECT or EXCEPT @0"},
	    {"\"OLD\".a", "parse error: column references must be old.<column> or new.<column> @1"},
	    {"'é' || status",
	     "parse error: column references must be old.<column> or new.<column> @8"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_nesting_limit)
{
	char text[4096];
	size_t n = 0;
	for (int i = 0; i < 600; i++)
		text[n++] = '(';
	text[n++] = '1';
	for (int i = 0; i < 600; i++)
		text[n++] = ')';
	text[n] = '\0';
	/* Parentheses do not nest in the tree; unary minus does. */
	struct ExprError err;
	Expr *e = expr_parse(text, &err);
	ck_assert_ptr_nonnull(e);
	expr_free(e);
	n = 0;
	for (int i = 0; i < 300; i++) {
		text[n++] = '-';
		text[n++] = ' ';
	}
	snprintf(text + n, sizeof(text) - n, "new.a");
	e = expr_parse(text, &err);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err.message, "expression is nested too deeply (more than 256 levels)");
}
END_TEST

/*
 * Trees deep enough to overflow the stack in libpg_query's own recursion
 * (before compile() counts levels) are refused from their tokens.
 */
START_TEST(test_stack_exhaustion_refused)
{
	static const char *const unit[] = {"new.a+", "NOT ", "(", "abs(", "- "};
	static char text[80000];
	struct ExprError err;
	for (size_t u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		size_t n = 0;
		for (int i = 0; i < 8000 && n + 16 < sizeof(text); i++, n += strlen(unit[u]))
			memcpy(text + n, unit[u], strlen(unit[u]));
		snprintf(text + n, sizeof(text) - n, "1");
		Expr *e = expr_parse(text, &err);
		ck_assert_ptr_null(e);
		ck_assert_msg(strstr(err.message, "expression is too complex (more than 1000"),
			      "%s: %s", unit[u], err.message);
		ck_assert_int_gt(err.position, 0);
	}
	/* Flat lists cost nothing: a long IN list is fine. */
	size_t n = (size_t)snprintf(text, sizeof(text), "new.a IN (0");
	for (int i = 1; i < 5000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",%d", i);
	snprintf(text + n, sizeof(text) - n, ")");
	Expr *e = expr_parse(text, &err);
	ck_assert_msg(e != NULL, "%s", err.message);
	expr_free(e);
	/* Beyond 64 KiB, an expression is refused before it is scanned. */
	memset(text, ' ', sizeof(text) - 1);
	text[0] = '1';
	text[sizeof(text) - 1] = '\0';
	ck_assert_ptr_null(expr_parse(text, &err));
	ck_assert_str_eq(err.message, "expression is longer than 65536 bytes");
}
END_TEST

/* ---- columns, rows, inference ---------------------------------------------- */

START_TEST(test_columns_order_and_dedup)
{
	struct ExprError err;
	Expr *e = expr_parse("new.a + old.a + new.a + new.b + coalesce(old.a, new.c)", &err);
	ck_assert_ptr_nonnull(e);
	const struct ExprColumn *cols;
	ck_assert_uint_eq(expr_columns(e, &cols), 4);
	ck_assert(!cols[0].old);
	ck_assert_str_eq(cols[0].name, "a");
	ck_assert(cols[1].old);
	ck_assert_str_eq(cols[1].name, "a");
	ck_assert(!cols[2].old);
	ck_assert_str_eq(cols[2].name, "b");
	ck_assert(!cols[3].old);
	ck_assert_str_eq(cols[3].name, "c");
	expr_free(e);

	/* Quoted names keep their case; unquoted ones are folded like PostgreSQL does. */
	e = expr_parse("new.\"Total\" > NEW.Other", &err);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(expr_columns(e, &cols), 2);
	ck_assert_str_eq(cols[0].name, "Total");
	ck_assert_str_eq(cols[1].name, "other");
	expr_free(e);

	e = expr_parse("1 + 1", &err);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(expr_columns(e, &cols), 0);
	expr_free(e);
}
END_TEST

START_TEST(test_eval_against_row)
{
	struct ExprError perr;
	Expr *e = expr_parse(
	    "CASE WHEN new.status = 'shipped' AND old.status IS DISTINCT FROM new.status "
	    "THEN new.total * 1.19 END",
	    &perr);
	ck_assert_ptr_nonnull(e);
	const struct ExprColumn *cols;
	ck_assert_uint_eq(expr_columns(e, &cols), 3);
	ck_assert_str_eq(cols[0].name, "status");
	ck_assert(!cols[0].old);
	ck_assert(cols[1].old);
	ck_assert_str_eq(cols[2].name, "total");

	Arena *arena = arena_new();
	struct Value row[3] = {text_value("shipped", OID_TEXT), text_value("paid", OID_TEXT),
	                       numeric_value("10.00")};
	struct ExprRow r = {.cols = row, .ncols = 3};
	struct Value v;
	char err[256];
	ck_assert_int_eq(expr_eval(e, &r, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_NUMERIC);
	ck_assert_int_eq((int)v.s.len, 7);
	ck_assert(memcmp(v.s.p, "11.9000", 7) == 0);

	/* Same row again after a reset: no state carried between evaluations. */
	arena_reset(arena);
	row[1] = text_value("shipped", OID_TEXT);
	ck_assert_int_eq(expr_eval(e, &r, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_NULL);

	/* A NULL old row value (INSERT): IS DISTINCT FROM is true. */
	row[1] = (struct Value){.kind = VAL_NULL, .typoid = OID_TEXT};
	ck_assert_int_eq(expr_eval(e, &r, arena, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.kind, VAL_NUMERIC);

	/* Too few columns is an error, not a crash. */
	r.ncols = 1;
	ck_assert_int_eq(expr_eval(e, &r, arena, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "row has no value for column old.status");
	arena_free(arena);
	expr_free(e);
}
END_TEST

/* Infer text's result kind with the given column types, or "error: ..." */
static const char *infer(const char *text, const uint32_t *types)
{
	static char out[256];
	struct ExprError perr;
	Expr *e = expr_parse(text, &perr);
	ck_assert_msg(e != NULL, "%s: %s", text, perr.message);
	enum value_kind k;
	char err[200];
	if (expr_infer(e, types, &k, err, sizeof(err)) < 0)
		snprintf(out, sizeof(out), "error: %s", err);
	else
		snprintf(out, sizeof(out), "%s", value_kind_name(k));
	expr_free(e);
	return out;
}

START_TEST(test_infer)
{
	const uint32_t int4[] = {OID_INT4, OID_INT4};
	const uint32_t num[] = {OID_NUMERIC};
	const uint32_t text[] = {OID_TEXT, OID_TEXT};
	const uint32_t boolean[] = {OID_BOOL};
	const uint32_t date[] = {OID_DATE};
	const uint32_t ts[] = {OID_TIMESTAMP};
	const uint32_t int_text[] = {OID_INT4, OID_TEXT};
	const uint32_t flt[] = {OID_FLOAT8};

	ck_assert_str_eq(infer("new.a + 1", int4), "integer");
	ck_assert_str_eq(infer("new.a / old.a", int4), "integer");
	ck_assert_str_eq(infer("new.a + 1.5", int4), "numeric");
	ck_assert_str_eq(infer("new.n * 1.19", num), "numeric");
	ck_assert_str_eq(infer("new.f * 2", flt), "floating-point");
	ck_assert_str_eq(infer("new.a > 1", int4), "boolean");
	ck_assert_str_eq(infer("new.s = 'x' AND new.t IS NULL", text), "boolean");
	ck_assert_str_eq(infer("new.s || 1", text), "text");
	ck_assert_str_eq(infer("new.a::text", int4), "text");
	ck_assert_str_eq(infer("new.s::date", text), "date");
	ck_assert_str_eq(infer("new.d + 1", date), "date");
	ck_assert_str_eq(infer("new.d - new.d", date), "integer");
	ck_assert_str_eq(infer("new.d = '2026-01-01'", date), "boolean");
	ck_assert_str_eq(infer("date_trunc('day', new.t)", ts), "timestamp");
	ck_assert_str_eq(infer("sha256(new.s)", text), "text");
	ck_assert_str_eq(infer("length(new.s)", text), "integer");
	ck_assert_str_eq(infer("CASE WHEN true THEN 1 ELSE 1.5 END", NULL), "numeric");
	ck_assert_str_eq(infer("CASE WHEN true THEN 'a' END", NULL), "text");
	ck_assert_str_eq(infer("COALESCE(new.a, 0)", int4), "integer");
	ck_assert_str_eq(infer("COALESCE(NULL, new.d, '2026-01-01')", date), "date");
	ck_assert_str_eq(infer("NULL", NULL), "null");
	ck_assert_str_eq(infer("new.a", (const uint32_t[]){0}), "null");
	ck_assert_str_eq(infer("new.a + NULL", int4), "integer");
	ck_assert_str_eq(infer("NULL::boolean", NULL), "boolean");

	ck_assert_str_eq(infer("new.s + 1", text),
	                 "error: operator does not exist: text + integer");
	ck_assert_str_eq(infer("new.a + new.s", int_text),
	                 "error: operator does not exist: integer + text");
	ck_assert_str_eq(infer("new.b = 1", boolean),
	                 "error: operator does not exist: boolean = integer");
	ck_assert_str_eq(infer("new.a = new.s", int_text),
	                 "error: operator does not exist: integer = text");
	ck_assert_str_eq(infer("new.d = 'garbage'", date),
	                 "error: invalid input syntax for type date: \"garbage\"");
	ck_assert_str_eq(infer("new.a AND true", int4),
	                 "error: argument of AND must be type boolean, not type integer");
	ck_assert_str_eq(infer("lower(new.a)", int4),
	                 "error: function lower(integer) does not exist");
	ck_assert_str_eq(infer("COALESCE(new.a, new.s)", int_text),
	                 "error: COALESCE types integer and text cannot be matched");
	ck_assert_str_eq(infer("new.d::int", date), "error: cannot cast type date to integer");
	ck_assert_str_eq(infer("1 || 2", NULL),
	                 "error: operator does not exist: integer || integer");
	ck_assert_str_eq(
	    infer("new.t - new.t", ts),
	    "error: timestamp subtraction yields an interval, which expressions do not support");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("values");
	tcase_add_test(tc, test_constants);
	tcase_add_test(tc, test_stack_exhaustion_refused);
	tcase_add_test(tc, test_comparisons);
	tcase_add_test(tc, test_null_tests);
	tcase_add_test(tc, test_logic_truth_tables);
	tcase_add_test(tc, test_in_between);
	tcase_add_test(tc, test_conditionals);
	suite_add_tcase(s, tc);

	tc = tcase_create("arithmetic");
	tcase_add_test(tc, test_integer_arithmetic);
	tcase_add_test(tc, test_numeric_arithmetic);
	tcase_add_test(tc, test_float_arithmetic);
	tcase_add_test(tc, test_concat);
	tcase_add_test(tc, test_casts);
	suite_add_tcase(s, tc);

	tc = tcase_create("functions");
	tcase_add_test(tc, test_functions);
	tcase_add_test(tc, test_date_trunc);
	tcase_add_test(tc, test_digests);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_nesting_limit);
	tcase_add_test(tc, test_columns_order_and_dedup);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_add_test(tc, test_eval_against_row);
	tcase_add_test(tc, test_infer);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
