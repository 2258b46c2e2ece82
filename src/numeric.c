/* Exact decimals: the one reader of numeric text, and numeric arithmetic within 38 significant digits. */
#include "autoconf.h"

#include "ascii.h"
#include "numeric.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int num_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int num_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- numeric text --------------------------------------------------------- */

int num_scan(const char *s, size_t len, struct NumSyntax *t)
{
	*t = (struct NumSyntax){0};
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		t->neg = s[i] == '-';
		t->plus = s[i] == '+';
		i++;
	}
	t->ip = s + i;
	while (i < len && ascii_digit(s[i]))
		i++;
	t->ilen = (size_t)(s + i - t->ip);
	if (i < len && s[i] == '.') {
		t->point = true;
		t->fp = s + ++i;
		while (i < len && ascii_digit(s[i]))
			i++;
		t->flen = (size_t)(s + i - t->fp);
	}
	if (t->ilen + t->flen == 0)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		t->has_exp = true;
		i++;
		bool eneg = false;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i >= len || !ascii_digit(s[i]))
			return -1;
		while (i < len && ascii_digit(s[i])) {
			if (t->exp < NUM_MAX_EXP)
				t->exp = t->exp * 10 + (s[i] - '0');
			i++;
		}
		if (eneg)
			t->exp = -t->exp;
	}
	return i == len ? 0 : -1;
}

/* The largest numeric PostgreSQL stores: 131072 digits before the point, 16383 after. */
#define NUMERIC_MAX_INT_DIGITS 131072
#define NUMERIC_MAX_DSCALE 16383

int num_canonical(const char *s, size_t len, Arena *arena, const char **out, size_t *outlen)
{
	struct NumSyntax t;
	if (num_scan(s, len, &t) < 0)
		return -1;
	const char *ip = t.ip, *fp = t.fp;
	size_t ilen = t.ilen, flen = t.flen;
	long exp = t.exp;
	bool neg = t.neg;

	bool zero = true;
	for (size_t k = 0; k < ilen && zero; k++)
		zero = ip[k] == '0';
	for (size_t k = 0; k < flen && zero; k++)
		zero = fp[k] == '0';

	/* Already as numeric_out prints it? Then keep the caller's bytes. */
	if (!t.has_exp && !t.plus && ilen > 0 && (ilen == 1 || ip[0] != '0') &&
	    (!t.point || flen > 0) && !(neg && zero)) {
		*out = s;
		*outlen = len;
		return 0;
	}

	/* set_var_from_str's limit; within it zero takes any exponent ("0e1000000" is 0). */
	if (exp >= NUM_MAX_EXP || exp <= -NUM_MAX_EXP)
		return -2;
	/* All digits D = int ++ frac with the point after P digits; the display scale follows. */
	long ndig = (long)(ilen + flen);
	long point_at = (long)ilen + exp;
	long dscale = (long)flen - exp;
	if (dscale < 0)
		dscale = 0;
	if (dscale > NUMERIC_MAX_DSCALE)
		return -2;
	/* Skip leading zeros of the integer part. */
	long first = 0;
	while (first < point_at && first < ndig &&
	       (first < (long)ilen ? ip[first] : fp[first - ilen]) == '0')
		first++;
	if (first == ndig)
		first = point_at; /* only zeros up to the point */
	long intdigits = point_at > first ? point_at - first : 0;
	if (intdigits > NUMERIC_MAX_INT_DIGITS)
		return -2;

	size_t size = 1 + (size_t)(intdigits ? intdigits : 1) + 1 + (size_t)dscale;
	char *buf = arena_alloc(arena, size);
	if (!buf)
		return -3;
	size_t n = 0;
	if (neg && !zero)
		buf[n++] = '-';
	if (intdigits == 0)
		buf[n++] = '0';
	for (long k = first; k < point_at; k++)
		buf[n++] = k < ndig ? (k < (long)ilen ? ip[k] : fp[k - ilen]) : '0';
	if (dscale > 0) {
		buf[n++] = '.';
		for (long k = point_at; k < point_at + dscale; k++)
			buf[n++] =
			    k >= 0 && k < ndig ? (k < (long)ilen ? ip[k] : fp[k - ilen]) : '0';
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* ---- exact decimals ------------------------------------------------------ */

typedef unsigned __int128 u128;

#define NUM_MIN_SIG_DIGITS 16 /* NUMERIC_MIN_SIG_DIGITS */

const char num_range_msg[] =
    "numeric value out of range for exact arithmetic (38 significant digits)";

/*
 * Per-change arithmetic mostly sees values of a few digits, and 128-bit
 * division is a library call (__udivti3) costing tens of instructions a
 * digit. So powers of ten come from a table, and values below 2^64 take
 * 64-bit paths, where division by a constant is a multiply; every path
 * computes the same result as the 128-bit one.
 */
static const u128 pow10_table[NUM_MAX_DIGITS + 1] = {
    (u128)UINT64_C(1),
    (u128)UINT64_C(10),
    (u128)UINT64_C(100),
    (u128)UINT64_C(1000),
    (u128)UINT64_C(10000),
    (u128)UINT64_C(100000),
    (u128)UINT64_C(1000000),
    (u128)UINT64_C(10000000),
    (u128)UINT64_C(100000000),
    (u128)UINT64_C(1000000000),
    (u128)UINT64_C(10000000000),
    (u128)UINT64_C(100000000000),
    (u128)UINT64_C(1000000000000),
    (u128)UINT64_C(10000000000000),
    (u128)UINT64_C(100000000000000),
    (u128)UINT64_C(1000000000000000),
    (u128)UINT64_C(10000000000000000),
    (u128)UINT64_C(100000000000000000),
    (u128)UINT64_C(1000000000000000000),
    (u128)UINT64_C(10000000000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(100000000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(1000000000000000000),
    (u128)UINT64_C(10000000000000000000) * UINT64_C(10000000000000000000),
};

static u128 pow10_u128(int n)
{
	if (n >= 0 && n <= NUM_MAX_DIGITS)
		return pow10_table[n];
	u128 r = 1;
	while (n-- > 0)
		r *= 10;
	return r;
}

static u128 num_limit(void)
{
	return pow10_table[NUM_MAX_DIGITS];
}

/* mag * 10^n < 10^38, for 0 <= n <= 38 (10^n divides 10^38, so this is mag < 10^38 / 10^n). */
static bool scaled_fits(u128 mag, int n)
{
	if (mag <= UINT64_MAX && n <= 19)
		return mag * pow10_table[n] < num_limit(); /* < 2^64 * 10^19: no overflow */
	return mag < num_limit() / pow10_table[n];
}

static int ndigits(u128 v)
{
	int n = 0;
	while (v > UINT64_MAX) {
		v /= 10;
		n++;
	}
	for (uint64_t w = (uint64_t)v; w > 0; w /= 10)
		n++;
	return n;
}

static void num_normalize(struct NumDec *d)
{
	if (d->mag == 0) {
		d->scale = 0;
		d->neg = false;
		return;
	}
	while (d->scale > 0 && d->mag > UINT64_MAX && d->mag % 10 == 0) {
		d->mag /= 10;
		d->scale--;
	}
	if (d->mag <= UINT64_MAX) {
		uint64_t m = (uint64_t)d->mag;
		while (d->scale > 0 && m % 10 == 0) {
			m /= 10;
			d->scale--;
		}
		d->mag = m;
	}
}

void num_from_int(int64_t i, struct NumDec *d)
{
	*d = (struct NumDec){.neg = i < 0, .mag = i < 0 ? (u128)(-(i + 1)) + 1 : (u128)i};
}

/* Read numeric text ("-12.50", "NaN", "1e3"): 0, -1 bad syntax, -2 over 38 significant digits. */
int num_parse(const char *s, size_t len, struct NumDec *d)
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
	u128 limit = num_limit();
	if (t.ilen + flast <= 19) {
		/* At most 19 digits: below 10^19 < 2^64, and far from 38 digits. */
		uint64_t m = 0;
		for (size_t k = 0; k < t.ilen; k++)
			m = m * 10 + (unsigned)(t.ip[k] - '0');
		for (size_t k = 0; k < flast; k++)
			m = m * 10 + (unsigned)(t.fp[k] - '0');
		d->mag = m;
	} else {
		for (size_t k = 0; k < t.ilen + flast; k++) {
			unsigned dig = (unsigned)((k < t.ilen ? t.ip[k] : t.fp[k - t.ilen]) - '0');
			if (d->mag == 0 && dig == 0)
				continue;
			if (d->mag >= limit / 10)
				return -2;
			d->mag = d->mag * 10 + dig;
		}
	}
	long scale = (long)flast - exp;
	long dscale = (long)t.flen - exp;
	if (scale < 0) {
		if (d->mag != 0) {
			if (-scale > NUM_MAX_DIGITS || !scaled_fits(d->mag, (int)-scale))
				return -2;
			d->mag *= pow10_u128((int)-scale);
		}
		scale = 0;
	}
	if (scale > 16383 || dscale > 16383)
		return -2;
	d->scale = (int)scale;
	d->dscale = dscale < 0 ? 0 : (int)dscale;
	num_normalize(d);
	return 0;
}

/* Round to s digits after the point (s < 0 rounds to tens, hundreds, ...), half away from zero. */
int num_round(struct NumDec *d, int s, char *err, size_t errlen)
{
	if (d->special != NUM_FINITE)
		return 0;
	if (d->scale > s) {
		int diff = d->scale - s;
		if (diff > NUM_MAX_DIGITS) {
			d->mag = 0; /* below half of the last kept digit */
		} else {
			u128 p = pow10_u128(diff), q, r;
			if (d->mag <= UINT64_MAX && diff <= 19) {
				q = (uint64_t)d->mag / (uint64_t)p;
				r = (uint64_t)d->mag % (uint64_t)p;
			} else {
				q = d->mag / p;
				r = d->mag % p;
			}
			if (r >= p - r)
				q++;
			d->mag = q;
		}
		d->scale = s;
		if (s < 0) {
			if (d->mag != 0 && (-s > NUM_MAX_DIGITS || !scaled_fits(d->mag, -s)))
				return num_fail(err, errlen, "%s", num_range_msg);
			d->mag *= pow10_u128(-s);
			d->scale = 0;
		}
		if (d->mag >= num_limit())
			return num_fail(err, errlen, "%s", num_range_msg);
	}
	d->dscale = s < 0 ? 0 : s;
	num_normalize(d);
	return 0;
}

/* Bring a and b to the same scale (exactly). */
static int num_align(struct NumDec *a, struct NumDec *b, char *err, size_t errlen)
{
	struct NumDec *lo = a->scale < b->scale ? a : b;
	int diff = (a->scale < b->scale ? b->scale : a->scale) - lo->scale;
	if (diff == 0)
		return 0;
	if (lo->mag != 0) {
		if (diff > NUM_MAX_DIGITS || !scaled_fits(lo->mag, diff))
			return num_fail(err, errlen, "%s", num_range_msg);
		lo->mag *= pow10_u128(diff);
	}
	lo->scale += diff;
	return 0;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

int num_add(struct NumDec a, struct NumDec b, bool subtract, struct NumDec *out, char *err,
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
	if (num_align(&a, &b, err, errlen) < 0)
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
	if (out->mag >= num_limit())
		return num_fail(err, errlen, "%s", num_range_msg);
	num_normalize(out);
	return 0;
}

static bool num_is_neg(const struct NumDec *d)
{
	return d->special == NUM_NINF || (d->special == NUM_FINITE && d->neg);
}

static bool num_is_zero(const struct NumDec *d)
{
	return d->special == NUM_FINITE && d->mag == 0;
}

int num_mul(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
            size_t errlen)
{
	*out = (struct NumDec){0};
	if (a->special == NUM_NAN || b->special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (a->special != NUM_FINITE || b->special != NUM_FINITE) {
		if (num_is_zero(a) || num_is_zero(b))
			out->special = NUM_NAN;
		else
			out->special = num_is_neg(a) != num_is_neg(b) ? NUM_NINF : NUM_PINF;
		return 0;
	}
	/* Factors below 2^64 multiply exactly in 128 bits: a*b >= 10^38 iff b > (10^38 - 1) / a. */
	if (a->mag <= UINT64_MAX && b->mag <= UINT64_MAX) {
		if (a->mag * b->mag >= num_limit())
			return num_fail(err, errlen, "%s", num_range_msg);
	} else if (a->mag != 0 && b->mag > (num_limit() - 1) / a->mag) {
		return num_fail(err, errlen, "%s", num_range_msg);
	}
	out->mag = a->mag * b->mag;
	out->neg = a->neg != b->neg;
	out->scale = a->scale + b->scale;
	out->dscale = a->dscale + b->dscale;
	if (out->dscale > 16383)
		return num_fail(err, errlen, "%s", num_range_msg);
	num_normalize(out);
	return 0;
}

/*
 * PostgreSQL's weight (in base-10000 digits) and first base-10000 digit of
 * a nonzero value, which select_div_scale uses to size a quotient.
 */
static void num_weight(const struct NumDec *d, int *weight, int *first)
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

int num_div(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
            size_t errlen)
{
	*out = (struct NumDec){0};
	if (a->special == NUM_NAN || b->special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (num_is_zero(b))
		return num_fail(err, errlen, "division by zero");
	if (a->special != NUM_FINITE) {
		if (b->special != NUM_FINITE)
			out->special = NUM_NAN;
		else
			out->special = num_is_neg(a) != num_is_neg(b) ? NUM_NINF : NUM_PINF;
		return 0;
	}
	if (b->special != NUM_FINITE)
		return 0; /* finite / infinity is zero */

	/* select_div_scale: at least 16 significant digits, never less scale than the inputs. */
	int w1, f1, w2, f2;
	num_weight(a, &w1, &f1);
	num_weight(b, &w2, &f2);
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
		if (-k > NUM_MAX_DIGITS || !scaled_fits(bm, -k))
			return num_fail(err, errlen, "%s", num_range_msg);
		bm *= pow10_u128(-k);
		k = 0;
	}
	u128 limit = num_limit();
	u128 q = a->mag / bm, r = a->mag % bm;
	for (int i = 0; i < k; i++) {
		unsigned dig = div_step(&r, bm);
		if (q > (limit - 1 - dig) / 10)
			return num_fail(err, errlen, "%s", num_range_msg);
		q = q * 10 + dig;
	}
	if (r >= bm - r)
		q++;
	if (q >= limit)
		return num_fail(err, errlen, "%s", num_range_msg);
	out->mag = q;
	out->neg = a->neg != b->neg;
	out->scale = rscale;
	out->dscale = rscale;
	num_normalize(out);
	return 0;
}

/* PostgreSQL's numeric %: a - trunc(a / b) * b, with the larger display scale. */
int num_mod(struct NumDec a, struct NumDec b, struct NumDec *out, char *err, size_t errlen)
{
	*out = (struct NumDec){0};
	if (a.special == NUM_NAN || b.special == NUM_NAN) {
		out->special = NUM_NAN;
		return 0;
	}
	if (num_is_zero(&b))
		return num_fail(err, errlen, "division by zero");
	if (a.special != NUM_FINITE) {
		out->special = NUM_NAN;
		return 0;
	}
	if (b.special != NUM_FINITE) {
		*out = a;
		return 0;
	}
	if (num_align(&a, &b, err, errlen) < 0)
		return -1;
	out->mag = a.mag % b.mag;
	out->neg = a.neg;
	out->scale = a.scale;
	out->dscale = max_int(a.dscale, b.dscale);
	num_normalize(out);
	return 0;
}

/* numeric -> int8 rounds half away from zero. */
int num_to_int(struct NumDec d, int64_t *out, const char *range_msg, char *err, size_t errlen)
{
	if (d.special != NUM_FINITE)
		return num_fail(err, errlen, "cannot convert %s to %s",
		                d.special == NUM_NAN ? "NaN" : "infinity",
		                strstr(range_msg, "smallint") ? "smallint"
		                : strstr(range_msg, "bigint") ? "bigint"
		                                              : "integer");
	if (num_round(&d, 0, err, errlen) < 0)
		return -1;
	if (d.mag > (u128)INT64_MAX + (d.neg ? 1 : 0))
		return num_fail(err, errlen, "%s", range_msg);
	*out = d.neg ? (int64_t)(-(d.mag - 1)) - 1 : (int64_t)d.mag;
	return 0;
}

/* Print as numeric_out does, with exactly dscale fraction digits. */
int num_to_text(const struct NumDec *d, Arena *arena, const char **text, size_t *len, char *err,
                size_t errlen)
{
	if (d->special != NUM_FINITE) {
		*text = d->special == NUM_NAN    ? "NaN"
		        : d->special == NUM_PINF ? "Infinity"
		                                 : "-Infinity";
		*len = strlen(*text);
		return 0;
	}
	struct NumDec v = *d;
	if (v.scale > v.dscale && num_round(&v, v.dscale, err, errlen) < 0)
		return -1;
	char digits[48];
	int nd = 0;
	u128 m = v.mag;
	for (; m > UINT64_MAX; m /= 10)
		digits[nd++] = (char)('0' + (int)(m % 10));
	for (uint64_t w = (uint64_t)m; w > 0; w /= 10)
		digits[nd++] = (char)('0' + (int)(w % 10));
	/* digits[] is little-endian: digits[i] has weight 10^(i - scale). */
	int intdigits = nd - v.scale;
	char *buf = arena_alloc(arena, (size_t)(4 + (intdigits > 0 ? intdigits : 1) + v.dscale));
	if (!buf)
		return num_fail(err, errlen, "out of memory");
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

/* ---- small decimals ------------------------------------------------------ */

#define NUM_SMALL_DIGITS 18

bool num_small_parse(const char *s, size_t len, struct NumSmall *out)
{
	bool neg = len > 0 && s[0] == '-';
	size_t i = neg, flen = 0;
	uint64_t v = 0; /* wraps past 19 digits, which are refused below */
	while (i < len && ascii_digit(s[i]))
		v = v * 10 + (unsigned)(s[i++] - '0');
	size_t ilen = i - neg;
	if (i < len && s[i] == '.') {
		size_t f = ++i;
		while (i < len && ascii_digit(s[i]))
			v = v * 10 + (unsigned)(s[i++] - '0');
		flen = i - f;
		if (!flen)
			return false;
	}
	/* ".5" and "5." are numeric text too, but rare: num_parse reads them. */
	if (i != len || !ilen || ilen + flen > NUM_SMALL_DIGITS)
		return false;
	out->v = neg ? -(int64_t)v : (int64_t)v;
	out->dscale = (int)flen;
	return true;
}

bool num_small_from_int(int64_t i, struct NumSmall *out)
{
	const int64_t max = 999999999999999999; /* 18 digits */
	if (i > max || i < -max)
		return false;
	*out = (struct NumSmall){.v = i};
	return true;
}

int num_small_arith(char op, const struct NumSmall *a, const struct NumSmall *b, Arena *arena,
                    const char **text, size_t *len, char *err, size_t errlen)
{
	/* |v| < 10^18 and dscale <= 18: products stay below 10^36, aligned sums below 2 * 10^36. */
	__int128 r;
	int dscale;
	if (op == '*') {
		r = (__int128)a->v * b->v;
		dscale = a->dscale + b->dscale;
	} else {
		dscale = max_int(a->dscale, b->dscale);
		__int128 x = (__int128)a->v * (__int128)pow10_table[dscale - a->dscale];
		__int128 y = (__int128)b->v * (__int128)pow10_table[dscale - b->dscale];
		r = op == '+' ? x + y : x - y;
	}
	/* num_to_text needs scale <= dscale only; trailing zeros it prints either way. */
	struct NumDec d = {
	    .neg = r < 0, .mag = r < 0 ? (u128)-r : (u128)r, .scale = dscale, .dscale = dscale};
	return num_to_text(&d, arena, text, len, err, errlen);
}

/* ---- comparison ---------------------------------------------------------- */

/* Numeric text split for comparison: significant integer digits, fraction without trailing 0s. */
struct NumText {
	int cls; /* 0 -inf, 1 finite, 2 +inf, 3 NaN: PostgreSQL sorts NaN above everything */
	bool neg;
	const char *ip, *fp;
	size_t ilen, flen;
};

static bool num_text_split(const char *s, size_t len, struct NumText *t)
{
	*t = (struct NumText){.cls = 1};
	if (len == 3 && memcmp(s, "NaN", 3) == 0)
		return (t->cls = 3), true;
	if (len == 8 && memcmp(s, "Infinity", 8) == 0)
		return (t->cls = 2), true;
	if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
		return (t->cls = 0), true;
	struct NumSyntax x;
	/* Only the text numeric_out prints: no exponent. */
	if (num_scan(s, len, &x) < 0 || x.has_exp)
		return false;
	t->neg = x.neg;
	t->ip = x.ip;
	t->ilen = x.ilen;
	while (t->ilen > 0 && t->ip[0] == '0') {
		t->ip++;
		t->ilen--;
	}
	t->fp = x.fp;
	t->flen = x.flen;
	while (t->flen > 0 && t->fp[t->flen - 1] == '0')
		t->flen--;
	if (t->ilen == 0 && t->flen == 0)
		t->neg = false;
	return true;
}

/* Compare two numeric texts exactly, whatever their length; -2 when one is not numeric text. */
int num_text_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct NumText x, y;
	if (!num_text_split(a, alen, &x) || !num_text_split(b, blen, &y))
		return -2;
	if (x.cls != y.cls)
		return x.cls < y.cls ? -1 : 1;
	if (x.cls != 1)
		return 0;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	int c = 0;
	if (x.ilen != y.ilen)
		c = x.ilen < y.ilen ? -1 : 1;
	else if (x.ilen > 0)
		c = memcmp(x.ip, y.ip, x.ilen);
	/* Fraction digits one by one; a shorter fraction goes on with zeros. */
	for (size_t i = 0; c == 0 && (i < x.flen || i < y.flen); i++) {
		char dx = i < x.flen ? x.fp[i] : '0', dy = i < y.flen ? y.fp[i] : '0';
		c = dx - dy;
	}
	c = c < 0 ? -1 : c > 0;
	return x.neg ? -c : c;
}

int num_text_negate(const char *s, size_t len, Arena *arena, const char **out, size_t *outlen)
{
	struct NumText t;
	if (!num_text_split(s, len, &t))
		return -1;
	*out = s;
	*outlen = len;
	if (t.cls == 3 || (t.cls == 1 && t.ilen == 0 && t.flen == 0))
		return 0; /* NaN and zero keep their text */
	if (len > 0 && s[0] == '-') {
		*out = s + 1;
		*outlen = len - 1;
		return 0;
	}
	size_t skip = len > 0 && s[0] == '+';
	char *p = arena_alloc(arena, len + 1 - skip);
	if (!p)
		return -3;
	p[0] = '-';
	memcpy(p + 1, s + skip, len - skip);
	*out = p;
	*outlen = len + 1 - skip;
	return 0;
}

int num_int_digits(const struct NumDec *d)
{
	return d->mag ? ndigits(d->mag) - d->scale : 0;
}
