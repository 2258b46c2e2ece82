/* Unit tests for compiling and evaluating expressions: src/expr_compile.c, src/expr_eval.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
#include "expr_fixture.h"
#include "run_suite.h"
#include "value.h"

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

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_nesting_limit);
	tcase_add_test(tc, test_columns_order_and_dedup);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_add_test(tc, test_eval_against_row);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
