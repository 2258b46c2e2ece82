/* Unit tests for src/expr_infer.c: static typing. */
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
	Suite *s = suite_create("expr_infer");
	TCase *tc = tcase_create("infer");
	tcase_add_test(tc, test_infer);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
