/* Exact decimals: the one reader of numeric text, and numeric arithmetic within 38 significant digits. */
#ifndef TABLECAST_SRC_NUMERIC_H
#define TABLECAST_SRC_NUMERIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/*
 * Numeric text as written: an optional sign, integer digits, an optional
 * point and fraction digits, an optional exponent. The digit runs point
 * into the scanned text.
 */
struct NumSyntax {
	bool neg, plus;  /* a leading '-' or '+' */
	bool point;      /* a '.' was written */
	bool has_exp;    /* an exponent was written */
	const char *ip;  /* integer digits */
	size_t ilen;
	const char *fp;  /* fraction digits (NULL without a point) */
	size_t flen;
	long exp;        /* saturates at NUM_MAX_EXP and a digit beyond */
};

/* numeric_in rejects exponents beyond ±INT_MAX / 2 before looking at the digits. */
#define NUM_MAX_EXP 1073741823L

/*
 * Scan s[0..len) as [+-]digits[.digits][e[+-]digits] with at least one
 * digit before the exponent and nothing after it. Special values (NaN,
 * Infinity) are the caller's. Returns 0, or -1 on bad syntax.
 */
int num_scan(const char *s, size_t len, struct NumSyntax *out) __attribute__((warn_unused_result));

/*
 * numeric_in for finite numbers: the text numeric_out would print for s
 * (without surrounding blanks; NaN and Infinity are the caller's). Input
 * already in that form is returned as is; anything else ("+1.50e1", ".5",
 * "007", "-0") is rebuilt in arena. 0, -1 bad syntax, -2 out of range,
 * -3 out of memory.
 */
int num_canonical(const char *s, size_t len, Arena *arena, const char **out, size_t *outlen)
	__attribute__((warn_unused_result));

/*
 * An exact decimal: an unscaled 128-bit magnitude and a scale. Numeric
 * arithmetic is exact like PostgreSQL's within 38 significant digits;
 * anything bigger is an error rather than a silently rounded result.
 */
enum num_special { NUM_FINITE, NUM_NAN, NUM_PINF, NUM_NINF };

struct NumDec {
	enum num_special special;
	bool neg;
	unsigned __int128 mag; /* < 10^38 */
	int scale;             /* digits of mag after the point; trailing zeros are dropped */
	int dscale;            /* display scale: digits PostgreSQL prints after the point */
};

#define NUM_MAX_DIGITS 38
#define NUM_MAX_DSCALE 1000 /* NUMERIC_MAX_DISPLAY_SCALE */

/* The message for a result beyond 38 significant digits. */
extern const char num_range_msg[];

void num_from_int(int64_t i, struct NumDec *d);

/* Read numeric text ("-12.50", "NaN", "1e3"): 0, -1 bad syntax, -2 over 38 significant digits. */
int num_parse(const char *s, size_t len, struct NumDec *d) __attribute__((warn_unused_result));

/*
 * Arithmetic as PostgreSQL's numeric operators compute it, display scales
 * included. Each returns 0, or -1 with the reason in err ("division by
 * zero", num_range_msg).
 */
int num_add(struct NumDec a, struct NumDec b, bool subtract, struct NumDec *out, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
int num_mul(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
int num_div(const struct NumDec *a, const struct NumDec *b, struct NumDec *out, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* PostgreSQL's numeric %: a - trunc(a / b) * b, with the larger display scale. */
int num_mod(struct NumDec a, struct NumDec b, struct NumDec *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Round to s digits after the point (s < 0 rounds to tens, hundreds, ...), half away from zero. */
int num_round(struct NumDec *d, int s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* numeric -> int8, rounding half away from zero; range_msg is the error beyond int8 ("bigint out of range"). */
int num_to_int(struct NumDec d, int64_t *out, const char *range_msg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Print as numeric_out does, with exactly dscale fraction digits, into arena. Returns 0, or -1 with err. */
int num_to_text(const struct NumDec *d, Arena *arena, const char **text, size_t *len, char *err,
		size_t errlen) __attribute__((warn_unused_result));

/* Compare two numeric texts exactly, whatever their length: -1, 0, 1; -2 when one is not numeric text. */
int num_text_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * -s for numeric text: "-Infinity" for "Infinity", NaN and zero as they
 * are. The result points into s or lives in arena. 0, -1 when s is not
 * numeric text, -3 out of memory.
 */
int num_text_negate(const char *s, size_t len, Arena *arena, const char **out, size_t *outlen)
	__attribute__((warn_unused_result));

/*
 * The common case kept cheap: a value of at most 18 digits, as v / 10^dscale
 * with the trailing zeros of its text kept. Sums, differences and products
 * of two of them have at most 37 digits, so they never reach the 38-digit
 * limit, and need no normalizing: numeric_out's text depends only on the
 * value and the display scale.
 */
struct NumSmall {
	int64_t v;
	int dscale;
};

/* s written -?digits[.digits] with at most 18 digits as a NumSmall; else false (num_parse it). */
bool num_small_parse(const char *s, size_t len, struct NumSmall *out);

/* i as a NumSmall, or false beyond 18 digits. */
bool num_small_from_int(int64_t i, struct NumSmall *out);

/*
 * a + b, a - b or a * b (op '+', '-' or '*') exactly as num_add or num_mul
 * and num_to_text would print it, into arena. 0, or -1 with err (out of memory).
 */
int num_small_arith(char op, const struct NumSmall *a, const struct NumSmall *b, Arena *arena,
		    const char **text, size_t *len, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Digits before the point of a finite d (0 for |d| < 1). */
int num_int_digits(const struct NumDec *d);

#endif
