/* Unit tests for src/numeric.c: numeric text in, exact decimal arithmetic, numeric text out. */
#include "autoconf.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
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

/* ---- a reference for the 64-bit paths ------------------------------------ */

/*
 * The same rules written in 128 bits throughout, as numeric.c had them
 * before its 64-bit paths for small values: the oracle test_fast_paths
 * holds those paths to, result for result and message for message.
 */

static int ref_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ref_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

typedef unsigned __int128 u128;

#define NUM_MIN_SIG_DIGITS 16 /* NUMERIC_MIN_SIG_DIGITS */

static u128 pow10_u128(int n)
{
	u128 r = 1;
	while (n-- > 0)
		r *= 10;
	return r;
}

static u128 ref_limit(void)
{
	return pow10_u128(NUM_MAX_DIGITS);
}

static int ndigits(u128 v)
{
	int n = 0;
	while (v > 0) {
		v /= 10;
		n++;
	}
	return n;
}

static void ref_normalize(struct NumDec *d)
{
	while (d->scale > 0 && d->mag % 10 == 0 && d->mag != 0) {
		d->mag /= 10;
		d->scale--;
	}
	if (d->mag == 0) {
		d->scale = 0;
		d->neg = false;
	}
}

static void ref_from_int(int64_t i, struct NumDec *d)
{
	*d = (struct NumDec){.neg = i < 0, .mag = i < 0 ? (u128)(-(i + 1)) + 1 : (u128)i};
}

/* Read numeric text ("-12.50", "NaN", "1e3"): 0, -1 bad syntax, -2 over 38 significant digits. */
static int ref_parse(const char *s, size_t len, struct NumDec *d)
{
	*d = (struct NumDec){0};
	if (len == 3 && memcmp(s, "NaN", 3) == 0) {
		d->special = NUM_NAN;
		return 0;
	}
	if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
		d->special = NUM_PINF;
		return 0;
	}
	if (len == 9 && memcmp(s, "-Infinity", 9) == 0) {
		d->special = NUM_NINF;
		return 0;
	}
	struct NumSyntax t;
	if (num_scan(s, len, &t) < 0)
		return -1;
	d->neg = t.neg;
	long exp = t.exp;
	/* Trailing fraction zeros only widen the display scale. */
	size_t flast = t.flen;
	while (flast > 0 && t.fp[flast - 1] == '0')
		flast--;
	u128 limit = ref_limit();
	for (size_t k = 0; k < t.ilen + flast; k++) {
		unsigned dig = (unsigned)((k < t.ilen ? t.ip[k] : t.fp[k - t.ilen]) - '0');
		if (d->mag == 0 && dig == 0)
			continue;
		if (d->mag >= limit / 10)
			return -2;
		d->mag = d->mag * 10 + dig;
	}
	long scale = (long)flast - exp;
	long dscale = (long)t.flen - exp;
	if (scale < 0) {
		if (d->mag != 0) {
			if (-scale > NUM_MAX_DIGITS || d->mag >= limit / pow10_u128((int)-scale))
				return -2;
			d->mag *= pow10_u128((int)-scale);
		}
		scale = 0;
	}
	if (scale > 16383 || dscale > 16383)
		return -2;
	d->scale = (int)scale;
	d->dscale = dscale < 0 ? 0 : (int)dscale;
	ref_normalize(d);
	return 0;
}

/* Round to s digits after the point (s < 0 rounds to tens, hundreds, ...), half away from zero. */
static int ref_round(struct NumDec *d, int s, char *err, size_t errlen)
{
	if (d->special != NUM_FINITE)
		return 0;
	if (d->scale > s) {
		int diff = d->scale - s;
		if (diff > NUM_MAX_DIGITS) {
			d->mag = 0; /* below half of the last kept digit */
		} else {
			u128 p = pow10_u128(diff);
			u128 q = d->mag / p, r = d->mag % p;
			if (r >= p - r)
				q++;
			d->mag = q;
		}
		d->scale = s;
		if (s < 0) {
			if (d->mag != 0 &&
			    (-s > NUM_MAX_DIGITS || d->mag >= ref_limit() / pow10_u128(-s)))
				return ref_fail(err, errlen, "%s", num_range_msg);
			d->mag *= pow10_u128(-s);
			d->scale = 0;
		}
		if (d->mag >= ref_limit())
			return ref_fail(err, errlen, "%s", num_range_msg);
	}
	d->dscale = s < 0 ? 0 : s;
	ref_normalize(d);
	return 0;
}

/* Bring a and b to the same scale (exactly). */
static int ref_align(struct NumDec *a, struct NumDec *b, char *err, size_t errlen)
{
	struct NumDec *lo = a->scale < b->scale ? a : b;
	int diff = (a->scale < b->scale ? b->scale : a->scale) - lo->scale;
	if (diff == 0)
		return 0;
	if (lo->mag != 0) {
		if (diff > NUM_MAX_DIGITS || lo->mag >= ref_limit() / pow10_u128(diff))
			return ref_fail(err, errlen, "%s", num_range_msg);
		lo->mag *= pow10_u128(diff);
	}
	lo->scale += diff;
	return 0;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static int ref_add(struct NumDec a, struct NumDec b, bool subtract, struct NumDec *out, char *err,
                   size_t errlen)
{
	if (subtract) {
		b.neg = !b.neg;
		if (b.special == NUM_PINF)
			b.special = NUM_NINF;
		else if (b.special == NUM_NINF)
			b.special = NUM_PINF;
	}
	if (a.special != NUM_FINITE || b.special != NUM_FINITE) {
		*out = (struct NumDec){0};
		if (a.special == NUM_NAN || b.special == NUM_NAN ||
		    (a.special != NUM_FINITE && b.special != NUM_FINITE && a.special != b.special))
			out->special = NUM_NAN;
		else
			out->special = a.special != NUM_FINITE ? a.special : b.special;
		return 0;
	}
	if (ref_align(&a, &b, err, errlen) < 0)
		return -1;
	*out = (struct NumDec){.scale = a.scale, .dscale = max_int(a.dscale, b.dscale)};
	if (a.neg == b.neg) {
		out->mag = a.mag + b.mag;
		out->neg = a.neg;
	} else if (a.mag >= b.mag) {
		out->mag = a.mag - b.mag;
		out->neg = a.neg;
	} else {
		out->mag = b.mag - a.mag;
		out->neg = b.neg;
	}
	if (out->mag >= ref_limit())
		return ref_fail(err, errlen, "%s", num_range_msg);
	ref_normalize(out);
	return 0;
}

static bool ref_is_neg(const struct NumDec *d)
{
	return d->special == NUM_NINF || (d->special == NUM_FINITE && d->neg);
}

static bool ref_is_zero(const struct NumDec *d)
{
	return d->special == NUM_FINITE && d->mag == 0;
}

static int ref_mul(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
                   size_t errlen)
{
	*out = (struct NumDec){0};
	if (a->special == NUM_NAN || b->special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (a->special != NUM_FINITE || b->special != NUM_FINITE) {
		if (ref_is_zero(a) || ref_is_zero(b))
			out->special = NUM_NAN;
		else
			out->special = ref_is_neg(a) != ref_is_neg(b) ? NUM_NINF : NUM_PINF;
		return 0;
	}
	if (a->mag != 0 && b->mag > (ref_limit() - 1) / a->mag)
		return ref_fail(err, errlen, "%s", num_range_msg);
	out->mag = a->mag * b->mag;
	out->neg = a->neg != b->neg;
	out->scale = a->scale + b->scale;
	out->dscale = a->dscale + b->dscale;
	if (out->dscale > 16383)
		return ref_fail(err, errlen, "%s", num_range_msg);
	ref_normalize(out);
	return 0;
}

/*
 * PostgreSQL's weight (in base-10000 digits) and first base-10000 digit of
 * a nonzero value, which select_div_scale uses to size a quotient.
 */
static void ref_weight(const struct NumDec *d, int *weight, int *first)
{
	if (d->mag == 0) {
		*weight = 0;
		*first = 0;
		return;
	}
	int e = ndigits(d->mag) - 1 - d->scale; /* decimal exponent of the leading digit */
	int w = e >= 0 ? e / 4 : -((-e + 3) / 4);
	int shift = 4 * w + d->scale; /* the group's lowest digit, counted in mag's digits */
	u128 g;
	if (shift >= 0)
		g = shift > NUM_MAX_DIGITS ? 0 : d->mag / pow10_u128(shift);
	else
		g = d->mag * pow10_u128(-shift); /* -shift <= 3 and the group is < 10^4 */
	*weight = w;
	*first = (int)(g % 10000);
}

/* floor(10 r / b) and the new remainder, for r < b < 10^38, without overflowing 128 bits. */
static unsigned div_step(u128 *r, u128 b)
{
	if (*r <= ~(u128)0 / 10) {
		u128 t = *r * 10;
		*r = t % b;
		return (unsigned)(t / b);
	}
	u128 nr = 0;
	unsigned d = 0;
	for (int i = 0; i < 10; i++) {
		if (nr >= b - *r) {
			nr -= b - *r;
			d++;
		} else {
			nr += *r;
		}
	}
	*r = nr;
	return d;
}

static int ref_div(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
                   size_t errlen)
{
	*out = (struct NumDec){0};
	if (a->special == NUM_NAN || b->special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (ref_is_zero(b))
		return ref_fail(err, errlen, "division by zero");
	if (a->special != NUM_FINITE) {
		if (b->special != NUM_FINITE)
			out->special = NUM_NAN;
		else
			out->special = ref_is_neg(a) != ref_is_neg(b) ? NUM_NINF : NUM_PINF;
		return 0;
	}
	if (b->special != NUM_FINITE)
		return 0; /* finite / infinity is zero */

	/* select_div_scale: at least 16 significant digits, never less scale than the inputs. */
	int w1, f1, w2, f2;
	ref_weight(a, &w1, &f1);
	ref_weight(b, &w2, &f2);
	int qweight = w1 - w2;
	if (f1 <= f2)
		qweight--;
	int rscale = NUM_MIN_SIG_DIGITS - qweight * 4;
	rscale = max_int(rscale, a->dscale);
	rscale = max_int(rscale, b->dscale);
	rscale = max_int(rscale, 0);
	if (rscale > NUM_MAX_DSCALE)
		rscale = NUM_MAX_DSCALE;

	/* q = a.mag * 10^k / b.mag with k = b.scale + rscale - a.scale, by long division. */
	u128 bm = b->mag;
	int k = b->scale + rscale - a->scale;
	if (k < 0) {
		if (-k > NUM_MAX_DIGITS || bm >= ref_limit() / pow10_u128(-k))
			return ref_fail(err, errlen, "%s", num_range_msg);
		bm *= pow10_u128(-k);
		k = 0;
	}
	u128 limit = ref_limit();
	u128 q = a->mag / bm, r = a->mag % bm;
	for (int i = 0; i < k; i++) {
		unsigned dig = div_step(&r, bm);
		if (q > (limit - 1 - dig) / 10)
			return ref_fail(err, errlen, "%s", num_range_msg);
		q = q * 10 + dig;
	}
	if (r >= bm - r)
		q++;
	if (q >= limit)
		return ref_fail(err, errlen, "%s", num_range_msg);
	out->mag = q;
	out->neg = a->neg != b->neg;
	out->scale = rscale;
	out->dscale = rscale;
	ref_normalize(out);
	return 0;
}

/* PostgreSQL's numeric %: a - trunc(a / b) * b, with the larger display scale. */
static int ref_mod(struct NumDec a, struct NumDec b, struct NumDec *out, char *err, size_t errlen)
{
	*out = (struct NumDec){0};
	if (a.special == NUM_NAN || b.special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (ref_is_zero(&b))
		return ref_fail(err, errlen, "division by zero");
	if (a.special != NUM_FINITE) {
		out->special = NUM_NAN;
		return 0;
	}
	if (b.special != NUM_FINITE) {
		*out = a;
		return 0;
	}
	if (ref_align(&a, &b, err, errlen) < 0)
		return -1;
	out->mag = a.mag % b.mag;
	out->neg = a.neg;
	out->scale = a.scale;
	out->dscale = max_int(a.dscale, b.dscale);
	ref_normalize(out);
	return 0;
}

/* numeric -> int8 rounds half away from zero. */
static int ref_to_int(struct NumDec d, int64_t *out, const char *range_msg, char *err,
                      size_t errlen)
{
	if (d.special != NUM_FINITE)
		return ref_fail(err, errlen, "cannot convert %s to %s",
		                d.special == NUM_NAN ? "NaN" : "infinity",
		                strstr(range_msg, "smallint") ? "smallint"
		                : strstr(range_msg, "bigint") ? "bigint"
		                                              : "integer");
	if (ref_round(&d, 0, err, errlen) < 0)
		return -1;
	if (d.mag > (u128)INT64_MAX + (d.neg ? 1 : 0))
		return ref_fail(err, errlen, "%s", range_msg);
	*out = d.neg ? (int64_t)(-(d.mag - 1)) - 1 : (int64_t)d.mag;
	return 0;
}

/* Print as numeric_out does, with exactly dscale fraction digits. */
static int ref_to_text(const struct NumDec *d, Arena *arena, const char **text, size_t *len,
                       char *err, size_t errlen)
{
	if (d->special != NUM_FINITE) {
		*text = d->special == NUM_NAN    ? "NaN"
		        : d->special == NUM_PINF ? "Infinity"
		                                 : "-Infinity";
		*len = strlen(*text);
		return 0;
	}
	struct NumDec v = *d;
	if (v.scale > v.dscale && ref_round(&v, v.dscale, err, errlen) < 0)
		return -1;
	char digits[48];
	int nd = 0;
	for (u128 m = v.mag; m > 0; m /= 10)
		digits[nd++] = (char)('0' + (int)(m % 10));
	/* digits[] is little-endian: digits[i] has weight 10^(i - scale). */
	int intdigits = nd - v.scale;
	char *buf = arena_alloc(arena, (size_t)(4 + (intdigits > 0 ? intdigits : 1) + v.dscale));
	if (!buf)
		return ref_fail(err, errlen, "out of memory");
	size_t n = 0;
	if (v.neg && v.mag != 0)
		buf[n++] = '-';
	if (intdigits <= 0)
		buf[n++] = '0';
	for (int i = nd - 1; i >= v.scale; i--)
		buf[n++] = digits[i];
	if (v.dscale > 0) {
		buf[n++] = '.';
		for (int i = v.scale - 1; i >= v.scale - v.dscale; i--)
			buf[n++] = i >= 0 && i < nd ? digits[i] : '0';
	}
	*text = buf;
	*len = n;
	return 0;
}

/* ---- the 64-bit paths against the reference ----------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Numeric text with n integer and f fraction digits, zeros frequent (leading, trailing, all). */
static void random_decimal(char *buf, int n, int f)
{
	size_t k = 0;
	uint64_t r = next_random();
	if (r & 1)
		buf[k++] = '-';
	int zeros = (int)(r >> 1 & 3); /* 0: any digits, 1: mostly zeros, 2: trailing zeros */
	for (int i = 0; i < n + f; i++) {
		if (i == n)
			buf[k++] = '.';
		uint64_t d = next_random() % 10;
		if ((zeros == 1 && next_random() % 4) || (zeros == 2 && i >= n + f / 2))
			d = 0;
		buf[k++] = (char)('0' + d);
	}
	if (n == 0 && f == 0)
		buf[k++] = '0';
	buf[k] = '\0';
}

static const char *const edges[] = {
    "0",
    "-0",
    "0.00",
    "-0.000",
    "1",
    "-1",
    "0.1",
    "-0.01",
    "1.10",
    "10",
    "100.000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-18446744073709551615",
    "999999999999999999",
    "9999999999999999999",
    "99999999999999999999",
    "100000000000000000",
    "1000000000000000000",
    "10000000000000000000",
    "0.999999999999999999",
    "0.9999999999999999999",
    "0.00000000000000000001",
    "1844674407370955161.5",
    "1844674407370955161.6",
    "184467440737095516.15",
    "99999999999999999999999999999999999999",
    "9999999999999999999.9999999999999999999",
    "0.00000000000000000000000000000000000001",
    "12345678901234567890123456789012345678",
    "1e19",
    "1e-20",
    "-5e18",
    "1.5e37",
    "42e-3",
    "0e5",
    "12.50",
    "1234.56",
    "-0.5",
    "5",
    "0.5",
    "-0.5",
    "2.5",
    "0.05",
    "NaN",
    "Infinity",
    "-Infinity",
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))
#define NRANDOM 100

static bool same_dec(const struct NumDec *a, const struct NumDec *b)
{
	return a->special == b->special && a->neg == b->neg && a->mag == b->mag &&
	       a->scale == b->scale && a->dscale == b->dscale;
}

/* One operation's two answers agree: return code, message on error, value and its text. */
static void agree(const char *what, const char *a, const char *b, int rc, int ref_rc,
                  const struct NumDec *got, const struct NumDec *want, const char *err,
                  const char *ref_err, Arena *arena)
{
	ck_assert_msg(rc == ref_rc, "%s(%s, %s): rc %d, reference %d", what, a, b, rc, ref_rc);
	if (rc < 0) {
		ck_assert_msg(strcmp(err, ref_err) == 0, "%s(%s, %s): \"%s\", reference \"%s\"",
		              what, a, b, err, ref_err);
		return;
	}
	ck_assert_msg(same_dec(got, want), "%s(%s, %s): values differ", what, a, b);
	const char *t1 = "", *t2 = "";
	size_t l1 = 0, l2 = 0;
	char e1[128] = "", e2[128] = "";
	int r1 = num_to_text(got, arena, &t1, &l1, e1, sizeof(e1));
	int r2 = ref_to_text(want, arena, &t2, &l2, e2, sizeof(e2));
	ck_assert_msg(r1 == r2 && (r1 < 0 ? strcmp(e1, e2) == 0 : l1 == l2 && !memcmp(t1, t2, l1)),
	              "%s(%s, %s): text \"%.*s\", reference \"%.*s\"", what, a, b,
	              r1 < 0 ? 0 : (int)l1, r1 < 0 ? "" : t1, r2 < 0 ? 0 : (int)l2,
	              r2 < 0 ? "" : t2);
}

/*
 * Parsing, every operator, rounding and int8 conversion on pairs of edge
 * values and random decimals of 0..20 integer and 0..20 fraction digits,
 * against the 128-bit reference: any difference fails.
 */
START_TEST(test_fast_paths)
{
	/* int8 operands first, as new.qty reaches the arithmetic. */
	static const int64_t ints[] = {0, 1, -1, 7, 100, INT64_MAX, INT64_MIN, 999999999999999999};
#define NINTS (sizeof(ints) / sizeof(ints[0]))
	static char texts[NINTS + NEDGES + NRANDOM][64];
	static struct NumDec decs[NINTS + NEDGES + NRANDOM];
	size_t n = 0;
	for (size_t i = 0; i < NINTS; i++) {
		struct NumDec want;
		snprintf(texts[n], sizeof(texts[0]), "%lld", (long long)ints[i]);
		num_from_int(ints[i], &decs[n]);
		ref_from_int(ints[i], &want);
		ck_assert_msg(same_dec(&decs[n], &want), "from_int(%s)", texts[n]);
		n++;
	}
	for (size_t i = 0; i < NEDGES + NRANDOM; i++) {
		if (i < NEDGES)
			snprintf(texts[n], sizeof(texts[0]), "%s", edges[i]);
		else
			random_decimal(texts[n], (int)(next_random() % 21),
			               (int)(next_random() % 21));
		struct NumDec want;
		int rc = num_parse(texts[n], strlen(texts[n]), &decs[n]);
		int ref_rc = ref_parse(texts[n], strlen(texts[n]), &want);
		ck_assert_msg(rc == ref_rc && (rc < 0 || same_dec(&decs[n], &want)), "parse(%s)",
		              texts[n]);
		ck_assert_msg(rc == 0 || rc == -2, "parse(%s): %d", texts[n], rc);
		if (rc == 0) /* beyond 38 digits it is no operand */
			n++;
	}

	Arena *arena = arena_new();
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			const struct NumDec *a = &decs[i], *b = &decs[j];
			struct NumDec got, want;
			char e1[128], e2[128];
			int rc, ref_rc;
#define PAIR(name, call, ref_call)                                                                 \
	do {                                                                                       \
		e1[0] = e2[0] = '\0';                                                              \
		rc = call;                                                                         \
		ref_rc = ref_call;                                                                 \
		agree(name, texts[i], texts[j], rc, ref_rc, &got, &want, e1, e2, arena);           \
	} while (0)
			PAIR("add", num_add(*a, *b, false, &got, e1, sizeof(e1)),
			     ref_add(*a, *b, false, &want, e2, sizeof(e2)));
			PAIR("sub", num_add(*a, *b, true, &got, e1, sizeof(e1)),
			     ref_add(*a, *b, true, &want, e2, sizeof(e2)));
			PAIR("mul", num_mul(a, b, &got, e1, sizeof(e1)),
			     ref_mul(a, b, &want, e2, sizeof(e2)));
			PAIR("div", num_div(a, b, &got, e1, sizeof(e1)),
			     ref_div(a, b, &want, e2, sizeof(e2)));
			PAIR("mod", num_mod(*a, *b, &got, e1, sizeof(e1)),
			     ref_mod(*a, *b, &want, e2, sizeof(e2)));
#undef PAIR
			arena_reset(arena);
		}
		for (int s = -20; s <= 20; s++) {
			struct NumDec got = decs[i], want = decs[i];
			char e1[128] = "", e2[128] = "";
			int rc = num_round(&got, s, e1, sizeof(e1));
			int ref_rc = ref_round(&want, s, e2, sizeof(e2));
			agree("round", texts[i], "", rc, ref_rc, &got, &want, e1, e2, arena);
		}
		int64_t x = 0, y = 0;
		char e1[128] = "", e2[128] = "";
		int rc = num_to_int(decs[i], &x, "bigint out of range", e1, sizeof(e1));
		int ref_rc = ref_to_int(decs[i], &y, "bigint out of range", e2, sizeof(e2));
		ck_assert_msg(rc == ref_rc && x == y && strcmp(e1, e2) == 0, "to_int(%s)",
		              texts[i]);
		arena_reset(arena);
	}
	arena_free(arena);
}
END_TEST

/* The general path's text for a op b: num_add or num_mul, then num_to_text. */
static const char *general_text(char op, const struct NumDec *a, const struct NumDec *b,
                                Arena *arena)
{
	static char out[128];
	struct NumDec r;
	char err[128];
	int rc = op == '*' ? num_mul(a, b, &r, err, sizeof(err))
	                   : num_add(*a, *b, op == '-', &r, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	const char *p;
	size_t len;
	ck_assert_int_eq(num_to_text(&r, arena, &p, &len, err, sizeof(err)), 0);
	snprintf(out, sizeof(out), "%.*s", (int)len, p);
	return out;
}

START_TEST(test_small_parse)
{
	static const struct {
		const char *s;
		bool small;
		int64_t v;
		int dscale;
	} cases[] = {
	    {"1234.56", true, 123456, 2},
	    {"-0.00", true, 0, 2},
	    {"007", true, 7, 0},
	    {"-999999999999999999", true, -999999999999999999, 0},
	    {"0.00000000000000001", true, 1, 17},
	    {"0.000000000000000001", false, 0, 0}, /* the leading zero counts */
	    {"99999999999.9999999", true, 999999999999999999, 7},
	    {"1000000000000000000", false, 0, 0}, /* 19 digits */
	    {"0.0000000000000000001", false, 0, 0},
	    {"1e3", false, 0, 0},
	    {".5", false, 0, 0},
	    {"5.", false, 0, 0},
	    {"+5", false, 0, 0},
	    {"-", false, 0, 0},
	    {"", false, 0, 0},
	    {"1.2.3", false, 0, 0},
	    {"NaN", false, 0, 0},
	    {"-Infinity", false, 0, 0},
	    {"1 ", false, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct NumSmall x = {0};
		bool small = num_small_parse(cases[i].s, strlen(cases[i].s), &x);
		ck_assert_msg(small == cases[i].small, "%s", cases[i].s);
		if (small)
			ck_assert_msg(x.v == cases[i].v && x.dscale == cases[i].dscale, "%s",
			              cases[i].s);
	}
	struct NumSmall x;
	ck_assert(num_small_from_int(-999999999999999999, &x) && x.v == -999999999999999999);
	ck_assert(!num_small_from_int(1000000000000000000, &x));
	ck_assert(!num_small_from_int(INT64_MIN, &x));
}
END_TEST

/*
 * num_small_arith against num_add/num_mul and num_to_text over pairs of
 * edge values and random decimals: the same text for every pair it takes.
 */
START_TEST(test_small_arith)
{
	static const int64_t ints[] = {0, 1, -1, 7, 999999999999999999, -999999999999999999};
	static char texts[sizeof(ints) / sizeof(ints[0]) + NEDGES + NRANDOM][64];
	static struct NumSmall small[sizeof(texts) / sizeof(texts[0])];
	static struct NumDec decs[sizeof(texts) / sizeof(texts[0])];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		snprintf(texts[n], sizeof(texts[0]), "%lld", (long long)ints[i]);
		ck_assert(num_small_from_int(ints[i], &small[n]));
		num_from_int(ints[i], &decs[n]);
		n++;
	}
	for (size_t i = 0; i < NEDGES + NRANDOM; i++) {
		if (i < NEDGES)
			snprintf(texts[n], sizeof(texts[0]), "%s", edges[i]);
		else
			random_decimal(texts[n], (int)(next_random() % 12),
			               (int)(next_random() % 12));
		size_t len = strlen(texts[n]);
		if (num_small_parse(texts[n], len, &small[n])) {
			ck_assert_int_eq(num_parse(texts[n], len, &decs[n]), 0);
			n++;
		}
	}
	ck_assert_uint_gt(n, NRANDOM / 2);
	Arena *arena = arena_new();
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			for (const char *op = "+-*"; *op; op++) {
				const char *p;
				size_t len;
				char err[128];
				ck_assert_int_eq(num_small_arith(*op, &small[i], &small[j], arena,
				                                 &p, &len, err, sizeof(err)),
				                 0);
				const char *want = general_text(*op, &decs[i], &decs[j], arena);
				ck_assert_msg(strlen(want) == len && memcmp(p, want, len) == 0,
				              "%s %c %s: \"%.*s\", general path \"%s\"", texts[i],
				              *op, texts[j], (int)len, p, want);
			}
			arena_reset(arena);
		}
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

	/* Tens of thousands of operand pairs: a few seconds under the sanitizers. */
	tc = tcase_create("paths");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fast_paths);
	tcase_add_test(tc, test_small_parse);
	tcase_add_test(tc, test_small_arith);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
