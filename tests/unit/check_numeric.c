/* Unit tests for src/numeric.c: numeric text in, exact decimal arithmetic, numeric text out. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "numeric.h"
#include "run_suite.h"

static struct NumDec dec(const char *s)
{
	struct NumDec d;
	ck_assert_msg(num_parse(s, strlen(s), &d) == 0, "num_parse(%s)", s);
	return d;
}

/* d as numeric_out prints it, in a static buffer. */
static const char *text(const struct NumDec *d)
{
	static char out[256];
	Arena *arena = arena_new();
	const char *p;
	size_t len;
	char err[128];
	ck_assert_int_eq(num_to_text(d, arena, &p, &len, err, sizeof(err)), 0);
	snprintf(out, sizeof(out), "%.*s", (int)len, p);
	arena_free(arena);
	return out;
}

/* The canonical text of s, or "rc <n>" when num_canonical refuses it. */
static const char *canonical(const char *s)
{
	static char out[256];
	Arena *arena = arena_new();
	const char *p;
	size_t len;
	int rc = num_canonical(s, strlen(s), arena, &p, &len);
	if (rc < 0)
		snprintf(out, sizeof(out), "rc %d", rc);
	else
		snprintf(out, sizeof(out), "%.*s", (int)len, p);
	arena_free(arena);
	return out;
}

START_TEST(test_scan)
{
	struct NumSyntax t;
	ck_assert_int_eq(num_scan("-12.50e-3", 9, &t), 0);
	ck_assert(t.neg && !t.plus && t.point && t.has_exp);
	ck_assert_uint_eq(t.ilen, 2);
	ck_assert_int_eq(memcmp(t.ip, "12", 2), 0);
	ck_assert_uint_eq(t.flen, 2);
	ck_assert_int_eq(memcmp(t.fp, "50", 2), 0);
	ck_assert_int_eq(t.exp, -3);

	ck_assert_int_eq(num_scan("+.5", 3, &t), 0);
	ck_assert(t.plus && t.point && t.ilen == 0 && t.flen == 1);
	ck_assert_int_eq(num_scan("7.", 2, &t), 0);
	ck_assert(t.point && t.ilen == 1 && t.flen == 0);

	/* The exponent saturates instead of overflowing. */
	ck_assert_int_eq(num_scan("1e99999999999999999999", 22, &t), 0);
	ck_assert(t.exp >= NUM_MAX_EXP);

	const char *bad[] = {"",      "-",  ".",  "e5", "1e",  "1e+",
	                     "1.2.3", "1x", " 1", "1 ", "--1", "0x10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(num_scan(bad[i], strlen(bad[i]), &t) == -1, "accepted \"%s\"",
		              bad[i]);
}
END_TEST

START_TEST(test_canonical)
{
	/* Already as numeric_out prints it: the caller's own bytes come back. */
	const char *s = "-12.50";
	Arena *arena = arena_new();
	const char *p;
	size_t len;
	ck_assert_int_eq(num_canonical(s, strlen(s), arena, &p, &len), 0);
	ck_assert_ptr_eq(p, s);
	arena_free(arena);

	ck_assert_str_eq(canonical("+1.50e1"), "15.0");
	ck_assert_str_eq(canonical(".5"), "0.5");
	ck_assert_str_eq(canonical("007"), "7");
	ck_assert_str_eq(canonical("-0"), "0");
	ck_assert_str_eq(canonical("-0.00"), "0.00");
	ck_assert_str_eq(canonical("1."), "1");
	ck_assert_str_eq(canonical("1e-3"), "0.001");
	ck_assert_str_eq(canonical("12e2"), "1200");
	ck_assert_str_eq(canonical("0e1000000"), "0");
	ck_assert_str_eq(canonical("abc"), "rc -1");
	ck_assert_str_eq(canonical("1e2000000000"), "rc -2");
	ck_assert_str_eq(canonical("1e-16384"), "rc -2");
}
END_TEST

START_TEST(test_parse)
{
	struct NumDec d;
	ck_assert_int_eq(num_parse("NaN", 3, &d), 0);
	ck_assert_int_eq(d.special, NUM_NAN);
	ck_assert_int_eq(num_parse("-Infinity", 9, &d), 0);
	ck_assert_int_eq(d.special, NUM_NINF);

	d = dec("-12.500");
	ck_assert(d.neg);
	ck_assert(d.mag == 125);
	ck_assert_int_eq(d.scale, 1);  /* trailing zeros dropped from the magnitude */
	ck_assert_int_eq(d.dscale, 3); /* but kept for printing */
	ck_assert_str_eq(text(&d), "-12.500");

	d = dec("1.5e3");
	ck_assert(d.mag == 1500 && d.scale == 0 && d.dscale == 0);

	/* 38 significant digits fit, 39 do not; leading zeros do not count. */
	const char *max38 = "99999999999999999999999999999999999999";
	ck_assert_int_eq(num_parse(max38, strlen(max38), &d), 0);
	ck_assert_str_eq(text(&d), max38);
	ck_assert_int_eq(num_parse("0000123", 7, &d), 0);
	ck_assert_int_eq(num_parse("999999999999999999999999999999999999999", 39, &d), -2);
	ck_assert_int_eq(num_parse("1e38", 4, &d), -2);
	ck_assert_int_eq(num_parse("1..2", 4, &d), -1);
	ck_assert_int_eq(num_parse("nan", 3, &d), -1); /* canonical text only */
}
END_TEST

START_TEST(test_arithmetic)
{
	char err[128];
	struct NumDec r;
	ck_assert_int_eq(num_add(dec("1.10"), dec("2.205"), false, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&r), "3.305");
	ck_assert_int_eq(num_add(dec("1.10"), dec("1.1"), true, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&r), "0.00");

	struct NumDec a = dec("1.5"), b = dec("-2.25");
	ck_assert_int_eq(num_mul(&a, &b, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&r), "-3.375");

	/* numeric division prints at least 16 significant digits, as PostgreSQL's select_div_scale.
	 */
	a = dec("1");
	b = dec("3");
	ck_assert_int_eq(num_div(&a, &b, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&r), "0.33333333333333333333");

	b = dec("0");
	ck_assert_int_eq(num_div(&a, &b, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "division by zero");
	ck_assert_int_eq(num_mod(dec("5.5"), dec("0"), &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "division by zero");
	ck_assert_int_eq(num_mod(dec("-7.5"), dec("2"), &r, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&r), "-1.5");

	a = dec("99999999999999999999999999999999999999");
	b = dec("10");
	ck_assert_int_eq(num_mul(&a, &b, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, num_range_msg);
}
END_TEST

START_TEST(test_round_and_int)
{
	char err[128];
	struct NumDec d = dec("2.5");
	ck_assert_int_eq(num_round(&d, 0, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&d), "3"); /* half away from zero */
	d = dec("-2.45");
	ck_assert_int_eq(num_round(&d, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&d), "-2.5");
	d = dec("1234.5");
	ck_assert_int_eq(num_round(&d, -2, err, sizeof(err)), 0);
	ck_assert_str_eq(text(&d), "1200");
	ck_assert_int_eq(num_int_digits(&d), 4);

	int64_t i;
	ck_assert_int_eq(num_to_int(dec("-9223372036854775808"), &i, "bigint out of range", err,
	                            sizeof(err)),
	                 0);
	ck_assert(i == INT64_MIN);
	ck_assert_int_eq(num_to_int(dec("9223372036854775807.5"), &i, "bigint out of range", err,
	                            sizeof(err)),
	                 -1);
	ck_assert_str_eq(err, "bigint out of range");
	ck_assert_int_eq(num_to_int(dec("NaN"), &i, "bigint out of range", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "cannot convert NaN to bigint");

	num_from_int(INT64_MIN, &d);
	ck_assert_str_eq(text(&d), "-9223372036854775808");
}
END_TEST

START_TEST(test_text_compare_and_negate)
{
	ck_assert_int_eq(num_text_cmp("10.50", 5, "10.5", 4), 0);
	ck_assert_int_eq(num_text_cmp("9.99", 4, "10", 2), -1);
	ck_assert_int_eq(num_text_cmp("-1", 2, "-0.5", 4), -1);
	ck_assert_int_eq(num_text_cmp("0.1", 3, "0.09", 4), 1);
	ck_assert_int_eq(num_text_cmp("-0.00", 5, "0", 1), 0);
	ck_assert_int_eq(num_text_cmp("NaN", 3, "Infinity", 8), 1); /* NaN sorts above everything */
	ck_assert_int_eq(num_text_cmp("-Infinity", 9, "-99999", 6), -1);
	ck_assert_int_eq(num_text_cmp("1e3", 3, "1", 1), -2); /* not numeric_out's text */

	/* Longer than 38 digits still compares exactly. */
	const char *a = "123456789012345678901234567890123456789012345678901";
	const char *b = "123456789012345678901234567890123456789012345678902";
	ck_assert_int_eq(num_text_cmp(a, strlen(a), b, strlen(b)), -1);

	Arena *arena = arena_new();
	const char *p;
	size_t len;
	ck_assert_int_eq(num_text_negate("12.5", 4, arena, &p, &len), 0);
	ck_assert_int_eq((int)len, 5);
	ck_assert_int_eq(memcmp(p, "-12.5", 5), 0);
	ck_assert_int_eq(num_text_negate("-Infinity", 9, arena, &p, &len), 0);
	ck_assert_int_eq(memcmp(p, "Infinity", len), 0);
	ck_assert_int_eq(num_text_negate("0.00", 4, arena, &p, &len), 0);
	ck_assert_int_eq(memcmp(p, "0.00", len), 0); /* no "-0.00" */
	ck_assert_int_eq(num_text_negate("NaN", 3, arena, &p, &len), 0);
	ck_assert_int_eq(memcmp(p, "NaN", len), 0);
	ck_assert_int_eq(num_text_negate("x", 1, arena, &p, &len), -1);
	arena_free(arena);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("numeric");
	TCase *tc = tcase_create("text");
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_canonical);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_text_compare_and_negate);
	suite_add_tcase(s, tc);

	tc = tcase_create("arithmetic");
	tcase_add_test(tc, test_arithmetic);
	tcase_add_test(tc, test_round_and_int);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
