/* Value: PostgreSQL's text form of a column (input and output functions) to and from typed values. */
#include "autoconf.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "numeric.h"
#include "value.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

/*
 * PostgreSQL's range: 4714-11-24 BC (Julian day 0) up to 294276 AD for
 * timestamps, 5874897 AD for dates. Day 0 of the Unix epoch is Julian day
 * 2440588. Timestamps are µs since 1970 in an int64 here (PostgreSQL counts
 * from 2000), so the last ~30 years PostgreSQL allows (after 294247 AD) do
 * not fit and are reported as out of range.
 */
#define UNIX_EPOCH_JDATE INT64_C(2440588)
#define MIN_DAYS (-UNIX_EPOCH_JDATE)
#define END_DATE_DAYS (INT64_C(2147483494) - UNIX_EPOCH_JDATE)
#define MIN_TS (MIN_DAYS * US_PER_DAY)

/* Longest piece of offending input quoted in a message. */
#define ERR_QUOTE_MAX 64

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* How much of text to quote in a message: at most ERR_QUOTE_MAX bytes, cut on a UTF-8 boundary. */
static int quote_len(const char *text, size_t len, const char **ellipsis)
{
	*ellipsis = "";
	if (len <= ERR_QUOTE_MAX)
		return (int)len;
	len = ERR_QUOTE_MAX;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	*ellipsis = "...";
	return (int)len;
}

/* `<what> for type <name>: "<text>"`, the shape of PostgreSQL's input errors. */
static void fail_input(char *err, size_t errlen, const char *what, uint32_t typoid, const char *text,
		       size_t len)
{
	const char *more;
	int n = quote_len(text, len, &more);
	const char *name = value_type_name(typoid);

	fail(err, errlen, "%s for type %s: \"%.*s%s\"", what, name ? name : "text", n, text, more);
}

/* `<what>: "<text>"`. */
static void fail_quoted(char *err, size_t errlen, const char *what, const char *text, size_t len)
{
	const char *more;
	int n = quote_len(text, len, &more);

	fail(err, errlen, "%s: \"%.*s%s\"", what, n, text, more);
}

static void fail_syntax(char *err, size_t errlen, uint32_t typoid, const char *text, size_t len)
{
	fail_input(err, errlen, "invalid input syntax", typoid, text, len);
}

static void fail_range(char *err, size_t errlen, uint32_t typoid, const char *text, size_t len)
{
	const char *more;
	int n = quote_len(text, len, &more);
	const char *name = value_type_name(typoid);

	fail(err, errlen, "value \"%.*s%s\" is out of range for type %s", n, text, more,
	     name ? name : "text");
}

static void trim(const char **s, size_t *len);

/*
 * float8in's and float4in's message, quoting the number without blanks:
 * `"1e400" is out of range for type double precision`.
 */
static void fail_float_range(char *err, size_t errlen, uint32_t typoid, const char *text, size_t len)
{
	const char *more;
	trim(&text, &len);
	int n = quote_len(text, len, &more);

	fail(err, errlen, "\"%.*s%s\" is out of range for type %s", n, text, more,
	     value_type_name(typoid));
}

static void *alloc(Arena *arena, size_t size, char *err, size_t errlen)
{
	void *p = arena_alloc(arena, size ? size : 1);
	if (!p)
		fail(err, errlen, "out of memory");
	return p;
}

/* ---- types --------------------------------------------------------------- */

uint32_t value_array_element_type(uint32_t typoid)
{
	switch (typoid) {
	case 199: return OID_JSON;
	case 1000: return OID_BOOL;
	case 1001: return OID_BYTEA;
	case 1003: return OID_NAME;
	case 1005: return OID_INT2;
	case 1007: return OID_INT4;
	case 1009: return OID_TEXT;
	case 1014: return OID_BPCHAR;
	case 1015: return OID_VARCHAR;
	case 1016: return OID_INT8;
	case 1021: return OID_FLOAT4;
	case 1022: return OID_FLOAT8;
	case 1028: return OID_OID;
	case 1115: return OID_TIMESTAMP;
	case 1182: return OID_DATE;
	case 1185: return OID_TIMESTAMPTZ;
	case 1231: return OID_NUMERIC;
	case 2951: return OID_UUID;
	case 3807: return OID_JSONB;
	default: return 0;
	}
}

enum value_kind value_kind_of_type(uint32_t typoid)
{
	switch (typoid) {
	case 0: return VAL_NULL;
	case OID_BOOL: return VAL_BOOL;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: return VAL_INT;
	case OID_NUMERIC: return VAL_NUMERIC;
	case OID_FLOAT4:
	case OID_FLOAT8: return VAL_FLOAT;
	case OID_BYTEA: return VAL_BYTEA;
	case OID_DATE: return VAL_DATE;
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ: return VAL_TIMESTAMP;
	default: return value_array_element_type(typoid) ? VAL_ARRAY : VAL_TEXT;
	}
}

const char *value_kind_name(enum value_kind kind)
{
	switch (kind) {
	case VAL_NULL: return "null";
	case VAL_BOOL: return "boolean";
	case VAL_INT: return "integer";
	case VAL_NUMERIC: return "numeric";
	case VAL_FLOAT: return "floating-point";
	case VAL_TEXT: return "text";
	case VAL_BYTEA: return "bytea";
	case VAL_TIMESTAMP: return "timestamp";
	case VAL_DATE: return "date";
	case VAL_ARRAY: return "array";
	}
	return "unknown";
}

const char *value_type_name(uint32_t typoid)
{
	switch (typoid) {
	case OID_BOOL: return "boolean";
	case OID_BYTEA: return "bytea";
	case OID_NAME: return "name";
	case OID_INT8: return "bigint";
	case OID_INT2: return "smallint";
	case OID_INT4: return "integer";
	case OID_TEXT: return "text";
	case OID_OID: return "oid";
	case OID_JSON: return "json";
	case OID_FLOAT4: return "real";
	case OID_FLOAT8: return "double precision";
	case OID_BPCHAR: return "character";
	case OID_VARCHAR: return "character varying";
	case OID_DATE: return "date";
	case OID_TIMESTAMP: return "timestamp without time zone";
	case OID_TIMESTAMPTZ: return "timestamp with time zone";
	case OID_NUMERIC: return "numeric";
	case OID_UUID: return "uuid";
	case OID_JSONB: return "jsonb";
	case 199: return "json[]";
	case 1000: return "boolean[]";
	case 1001: return "bytea[]";
	case 1003: return "name[]";
	case 1005: return "smallint[]";
	case 1007: return "integer[]";
	case 1009: return "text[]";
	case 1014: return "character[]";
	case 1015: return "character varying[]";
	case 1016: return "bigint[]";
	case 1021: return "real[]";
	case 1022: return "double precision[]";
	case 1028: return "oid[]";
	case 1115: return "timestamp without time zone[]";
	case 1182: return "date[]";
	case 1185: return "timestamp with time zone[]";
	case 1231: return "numeric[]";
	case 2951: return "uuid[]";
	case 3807: return "jsonb[]";
	default: return NULL;
	}
}

/* ---- small lexical helpers (no locale: PostgreSQL's input functions are ASCII) ---- */

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && ascii_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ascii_space((*s)[*len - 1]))
		(*len)--;
}

/* Case-insensitive comparison of s[0..len) with a lower-case word. */
static bool word_eq(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (to_lower(s[i]) != word[i])
			return false;
	return true;
}

int value_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- integers, booleans, floats ----------------------------------------- */

static void int_range(uint32_t typoid, int64_t *min, int64_t *max)
{
	switch (typoid) {
	case OID_INT2:
		*min = INT16_MIN;
		*max = INT16_MAX;
		break;
	case OID_INT4:
		*min = INT32_MIN;
		*max = INT32_MAX;
		break;
	default:
		*min = INT64_MIN;
		*max = INT64_MAX;
	}
}

/*
 * pg_strtoint16/32/64: decimal with optional sign and surrounding blanks.
 * 0, -1 bad syntax, -2 out of [min, max]. Like PostgreSQL, digits are
 * accumulated negatively in the type's width and an overflow is reported at
 * once, before trailing garbage: "99999x" is out of range for smallint,
 * "32768x" (whose magnitude still fits negatively) is bad syntax.
 */
static int parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	int64_t acc = 0; /* accumulated negatively, so min fits */

	while (len > 0 && ascii_space(*s)) {
		s++;
		len--;
	}
	if (len > 0 && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
		len--;
	}
	size_t i = 0;
	for (; i < len && ascii_digit(s[i]); i++)
		if (__builtin_mul_overflow(acc, 10, &acc) ||
		    __builtin_sub_overflow(acc, s[i] - '0', &acc) || acc < min)
			return -2;
	if (i == 0)
		return -1;
	while (i < len && ascii_space(s[i]))
		i++;
	if (i != len)
		return -1;
	if (!neg) {
		if (acc < -max)
			return -2;
		acc = -acc;
	}
	*out = acc;
	return 0;
}

/*
 * oidin: strtoul's syntax, then "negative" values from -2147483648 to -1
 * wrap around (-1 is 4294967295), as an Oid cast from an int4 does.
 * 0, -1 bad syntax, -2 out of range.
 */
static int parse_oid(const char *s, size_t len, int64_t *out)
{
	bool neg = false, overflow = false;
	uint64_t acc = 0;
	size_t i = 0;

	while (i < len && ascii_space(s[i]))
		i++;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	size_t digits = i;
	for (; i < len && ascii_digit(s[i]); i++)
		if (__builtin_mul_overflow(acc, 10, &acc) ||
		    __builtin_add_overflow(acc, (unsigned)(s[i] - '0'), &acc))
			overflow = true;
	if (i == digits)
		return -1;
	if (overflow)
		return -2; /* strtoul's ERANGE comes before the check for trailing garbage */
	while (i < len && ascii_space(s[i]))
		i++;
	if (i != len)
		return -1;
	if (neg)
		acc = -acc; /* strtoul negates in unsigned long */
	if (acc > UINT32_MAX && acc < (uint64_t)INT32_MIN) /* neither an Oid nor a negative int4 */
		return -2;
	*out = (int64_t)(uint32_t)acc;
	return 0;
}

/* PostgreSQL's parse_bool: true/false, yes/no, on/off, 1/0 and unique prefixes, any case. */
static int parse_bool(const char *s, size_t len, bool *out)
{
	static const struct {
		const char *word;
		size_t min; /* shortest accepted prefix */
		bool value;
	} words[] = {
		{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false},
		{"on", 2, true},   {"off", 2, false},   {"1", 1, true},   {"0", 1, false},
	};

	trim(&s, &len);
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = strlen(words[w].word);
		if (len < words[w].min || len > n)
			continue;
		bool match = true;
		for (size_t i = 0; i < len && match; i++)
			match = to_lower(s[i]) == words[w].word[i];
		if (match) {
			*out = words[w].value;
			return 0;
		}
	}
	return -1;
}

/* float8in / float4in: strtod's syntax (with NaN and Infinity): 0, -1 bad syntax, -2 out of range. */
static int parse_float(const char *s, size_t len, bool is_float4, Arena *arena, double *out)
{
	char buf[128];
	char *copy = buf;

	trim(&s, &len);
	if (len == 0)
		return -1;
	if (len >= sizeof(buf)) {
		copy = arena_alloc(arena, len + 1);
		if (!copy)
			return -1;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	/* strtod also takes "0x1p3" and "nan(...)"; PostgreSQL's float8in calls it too. */
	char *end;
	errno = 0;
	double d;
	if (is_float4) {
		float f = strtof(copy, &end);
		d = f;
	} else {
		d = strtod(copy, &end);
	}
	if (end == copy || *end != '\0')
		return -1;
	if (errno == ERANGE && (d == 0 || isinf(d)))
		return -2;
	*out = d;
	return 0;
}

/* A positive finite float8 (or float4 bits when is_float4) as M·2^E, exactly. */
static void float_decompose(uint64_t bits, bool is_float4, uint64_t *m, int *e)
{
	int mbits = is_float4 ? 23 : 52, bias = is_float4 ? 127 : 1023;
	uint64_t frac = bits & ((UINT64_C(1) << mbits) - 1);
	int biased = (int)(bits >> mbits);

	*m = biased ? frac | UINT64_C(1) << mbits : frac;
	*e = (biased ? biased : 1) - bias - mbits;
}

/*
 * Whether d·10^k is exactly the midpoint between a (a positive float8, or
 * float4 when is_float4) and its neighbour away from zero (up) or toward
 * zero. Both are M·2^E (M < 2^54 at a common E: neighbours are at most one
 * binade apart), so the midpoint is (Ma + Mn)·2^(E-1): an odd number times
 * a power of two, which d·10^k = d'·5^k·2^(t+k) (d' odd) matches only with
 * the same odd part and exponent. Bits rather than nextafter(): tablecast
 * itself is not linked with libm.
 */
static bool is_midpoint(double a, bool is_float4, bool up, uint64_t d, int k)
{
	uint64_t bits;
	if (is_float4) {
		float f = (float)a;
		uint32_t b32;
		memcpy(&b32, &f, sizeof(b32));
		bits = b32;
	} else {
		memcpy(&bits, &a, sizeof(bits));
	}
	uint64_t nbits = up ? bits + 1 : bits - 1; /* the neighbour; 0 below the least denormal */
	if (nbits >> (is_float4 ? 23 : 52) == (is_float4 ? 0xffu : 0x7ffu))
		return false; /* above the largest float: strtod overflows, never reads back as a */
	uint64_t ma, mn;
	int ea, en;
	float_decompose(bits, is_float4, &ma, &ea);
	float_decompose(nbits, is_float4, &mn, &en);
	int e = ea < en ? ea : en;
	uint64_t odd = (ma << (ea - e)) + (mn << (en - e));
	int x = e - 1;
	while (!(odd & 1)) {
		odd >>= 1;
		x++;
	}
	int t = __builtin_ctzll(d);
	d >>= t;
	if (x != t + k)
		return false;
	/* Compare d'·5^k with odd (k >= 0) or d' with odd·5^-k (k < 0). */
	uint64_t lhs = d, rhs = odd;
	for (int i = 0; i < (k < 0 ? -k : k); i++)
		if (__builtin_mul_overflow(k < 0 ? rhs : lhs, 5, k < 0 ? &rhs : &lhs))
			return false;
	return lhs == rhs;
}

/*
 * Whether d·10^k is a text PostgreSQL could print for a: it reads back as a
 * and is not exactly halfway to a neighbour (PostgreSQL builds its Ryu with
 * STRICTLY_SHORTEST 0, "to avoid relying on the reader's round-to-even").
 */
static bool float_candidate_ok(double a, bool is_float4, uint64_t d, int k)
{
	char s[40];

	snprintf(s, sizeof(s), "%" PRIu64 "e%d", d, k);
	if (is_float4 ? strtof(s, NULL) != (float)a : strtod(s, NULL) != a)
		return false;
	return !is_midpoint(a, is_float4, false, d, k) && !is_midpoint(a, is_float4, true, d, k);
}

size_t value_format_float(double f, bool is_float4, char buf[VALUE_FLOAT_BUFSIZE])
{
	if (isnan(f))
		return (size_t)snprintf(buf, VALUE_FLOAT_BUFSIZE, "NaN");
	if (isinf(f))
		return (size_t)snprintf(buf, VALUE_FLOAT_BUFSIZE, "%s", f < 0 ? "-Infinity" : "Infinity");
	if (f == 0)
		return (size_t)snprintf(buf, VALUE_FLOAT_BUFSIZE, "%s", signbit(f) ? "-0" : "0");

	/*
	 * PostgreSQL prints the shortest digits strictly inside the interval
	 * that reads back as f, the nearest to f when several fit (Ryu). For
	 * each precision, the correctly rounded %e form is the nearest
	 * candidate; when it falls outside (beyond a bound, or on one: at a
	 * power of two the interval below is half as wide) the only other
	 * candidate of that length is its neighbour on the other side of f.
	 */
	double a = f < 0 ? -f : f;
	int maxprec = is_float4 ? 9 : 17;
	uint64_t d = 0;
	int k = 0;
	for (int prec = 1; prec <= maxprec; prec++) {
		char tmp[40];
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		/* tmp is d[.ddd]e±XX */
		const char *p = tmp;
		d = 0;
		for (; *p && *p != 'e'; p++)
			if (ascii_digit(*p))
				d = d * 10 + (uint64_t)(*p - '0');
		k = (*p == 'e' ? atoi(p + 1) : 0) - (prec - 1);
		if (float_candidate_ok(a, is_float4, d, k))
			break;
		/*
		 * The neighbour is at least half a step of 10^k from a, and
		 * fits only if that is under half an ulp: for normal numbers
		 * (ulp/a <= 2^-52, 2^-23) not before 16 digits (7 for float4).
		 */
		if (prec < (is_float4 ? 7 : 16) && a >= (is_float4 ? FLT_MIN : DBL_MIN))
			continue;
		uint64_t low = 1;
		for (int i = 1; i < prec; i++)
			low *= 10; /* the smallest d of this length */
		if (d + 1 == low * 10 ? float_candidate_ok(a, is_float4, low, k + 1)
				      : float_candidate_ok(a, is_float4, d + 1, k)) {
			if (++d == low * 10) {
				d = low;
				k++;
			}
			break;
		}
		if (d == low ? float_candidate_ok(a, is_float4, low * 10 - 1, k - 1)
			     : float_candidate_ok(a, is_float4, d - 1, k)) {
			if (d-- == low) {
				d = low * 10 - 1;
				k--;
			}
			break;
		}
	}

	/* The digits of d without trailing zeros, and the exponent of the first one. */
	char digits[24];
	size_t nd = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, d);
	int exp = k + (int)nd - 1;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

	size_t n = 0;
	if (signbit(f))
		buf[n++] = '-';
	if (exp >= -4 && exp < (is_float4 ? 6 : 15)) {
		if (exp < 0) {
			buf[n++] = '0';
			buf[n++] = '.';
			for (int i = 0; i < -exp - 1; i++)
				buf[n++] = '0';
			memcpy(buf + n, digits, nd);
			n += nd;
		} else {
			size_t intlen = (size_t)exp + 1;
			for (size_t i = 0; i < intlen; i++)
				buf[n++] = i < nd ? digits[i] : '0';
			if (nd > intlen) {
				buf[n++] = '.';
				memcpy(buf + n, digits + intlen, nd - intlen);
				n += nd - intlen;
			}
		}
		buf[n] = '\0';
		return n;
	}
	buf[n++] = digits[0];
	if (nd > 1) {
		buf[n++] = '.';
		memcpy(buf + n, digits + 1, nd - 1);
		n += nd - 1;
	}
	n += (size_t)snprintf(buf + n, VALUE_FLOAT_BUFSIZE - n, "e%c%02d", exp < 0 ? '-' : '+',
			      exp < 0 ? -exp : exp);
	return n;
}

/* ---- numeric ------------------------------------------------------------- */

/*
 * numeric_in: returns the text numeric_out would print for s. Input
 * already in that form (as pgoutput sends it) is returned as is; anything
 * else ("+1.50e1", ".5", "007", "-0", "nan") is rebuilt in arena.
 * 0, -1 bad syntax, -2 out of range, -3 out of memory.
 */
static int parse_numeric(const char *s, size_t len, Arena *arena, const char **out, size_t *outlen)
{
	trim(&s, &len);

	const char *special = NULL;
	if (word_eq(s, len, "nan"))
		special = "NaN";
	else if (word_eq(s, len, "infinity") || word_eq(s, len, "+infinity") || word_eq(s, len, "inf") ||
		 word_eq(s, len, "+inf"))
		special = "Infinity";
	else if (word_eq(s, len, "-infinity") || word_eq(s, len, "-inf"))
		special = "-Infinity";
	if (special) {
		*out = special;
		*outlen = strlen(special);
		return 0;
	}
	return num_canonical(s, len, arena, out, outlen);
}

/* ---- dates and timestamps ------------------------------------------------ */

int64_t value_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	/* Howard Hinnant's days_from_civil: eras of 400 years, March-based years. */
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void value_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

struct DateTime {
	int special; /* 0, +1 infinity, -1 -infinity */
	int64_t days; /* since 1970-01-01 */
	int64_t usec; /* into the day, before the zone offset */
	int64_t tz_sec; /* offset east of UTC */
};

/* n digits at s[*i], into *out; false if there are none. */
static bool take_digits(const char *s, size_t len, size_t *i, int maxdigits, int64_t *out)
{
	int64_t v = 0;
	int n = 0;
	while (*i < len && ascii_digit(s[*i]) && n < maxdigits) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	*out = v;
	return n > 0;
}

/* All the digits at s[*i] (at least one), saturating far above any valid field. */
static bool take_number(const char *s, size_t len, size_t *i, int64_t *out)
{
	size_t start = *i;
	int64_t v = 0;
	for (; *i < len && ascii_digit(s[*i]); (*i)++)
		v = v < INT64_C(100000000000) ? v * 10 + (s[*i] - '0') : v;
	*out = v;
	return *i > start;
}

/* Results of parse_datetime beyond 0 / -1 (bad syntax), for PostgreSQL's messages. */
#define DT_FIELD_RANGE (-2) /* date/time field value out of range */
#define DT_TZ_RANGE (-3) /* time zone displacement out of range */
#define DT_RANGE (-4) /* date out of range / timestamp out of range */

/*
 * The ISO forms PostgreSQL prints and people write:
 *   infinity | -infinity | epoch |
 *   YYY-M-D[( |T)H:M[:S[.frac]]][ ][Z|UTC|GMT|±H[H][:M[M][:S[S]]]|±HHMM][ BC|AD]
 * ("2026-01-01-05" is no date and zone: a minus right after the date
 * needs a blank before it, as in PostgreSQL). A year of one or
 * two digits is refused: PostgreSQL would read such a field as a month or
 * a two-digit year, depending on DateStyle.
 * Returns 0, -1 bad syntax, DT_FIELD_RANGE or DT_TZ_RANGE.
 */
static int parse_datetime(const char *s, size_t len, bool want_time, struct DateTime *dt)
{
	*dt = (struct DateTime){0};
	trim(&s, &len);
	/* PostgreSQL 15 knows no "+infinity" for dates and timestamps (numeric and float do). */
	if (word_eq(s, len, "infinity")) {
		dt->special = 1;
		return 0;
	}
	if (word_eq(s, len, "-infinity")) {
		dt->special = -1;
		return 0;
	}
	if (word_eq(s, len, "epoch"))
		return 0;

	size_t i = 0;
	int64_t year, mon, mday, hour = 0, min = 0, sec = 0, usec = 0;
	if (!take_digits(s, len, &i, 9, &year) || i < 3 || i >= len || s[i++] != '-' ||
	    !take_digits(s, len, &i, 2, &mon) || i >= len || s[i++] != '-' ||
	    !take_digits(s, len, &i, 2, &mday))
		return -1;
	if (i < len && ascii_digit(s[i]))
		return -1;

	/* The time part, after one blank or a T. */
	size_t save = i;
	bool has_time = false;
	if (i < len && (s[i] == ' ' || s[i] == 'T' || s[i] == 't')) {
		i++;
		while (i < len && s[i] == ' ')
			i++;
		if (i < len && ascii_digit(s[i])) {
			has_time = true;
			if (!take_digits(s, len, &i, 2, &hour) || i >= len || s[i++] != ':' ||
			    !take_digits(s, len, &i, 2, &min))
				return -1;
			if (i < len && s[i] == ':') {
				i++;
				if (!take_digits(s, len, &i, 2, &sec))
					return -1;
				if (i < len && s[i] == '.') {
					/*
					 * ParseFractionalSecond: rint(strtod(".ddd") * 1e6), so
					 * a half microsecond goes to even as in PostgreSQL.
					 * Digits past the 45th cannot change the result.
					 */
					char frac[48] = "0.";
					size_t nf = 2;
					for (i++; i < len && ascii_digit(s[i]); i++)
						if (nf < sizeof(frac) - 1)
							frac[nf++] = s[i];
					frac[nf] = '\0';
					if (nf - 2 <= 6) {
						/*
						 * Up to microseconds, as PostgreSQL prints
						 * them: exact in integers, and the double
						 * below would round to the same value.
						 */
						usec = 0;
						for (size_t k = 2; k < 8; k++)
							usec = usec * 10 + (k < nf ? frac[k] - '0' : 0);
					} else {
						double x = strtod(frac, NULL) * 1000000.0; /* 0 to 1e6 */
						usec = (int64_t)x;
						double rest = x - (double)usec; /* exact below 2^52 */
						if (rest > 0.5 || (rest == 0.5 && (usec & 1)))
							usec++; /* rint() without libm: half to even */
					}
				}
			}
		} else {
			i = save;
		}
	}
	/*
	 * 24:00:00 and a leap second roll over, as in PostgreSQL, but not past
	 * the end of the day. Checked before the zone, as PostgreSQL does; the
	 * date after it.
	 */
	int64_t tod = ((hour * 60 + min) * 60 + sec) * US_PER_SEC + usec;
	if (hour > 24 || min > 59 || sec > 60 || tod > US_PER_DAY)
		return DT_FIELD_RANGE;

	/* The zone, as DecodeTimezone reads it. */
	bool blank = i < len && s[i] == ' ';
	while (i < len && s[i] == ' ')
		i++;
	if (i < len && (s[i] == '+' || (s[i] == '-' && (has_time || blank)))) {
		int sign = s[i] == '-' ? -1 : 1;
		int64_t th = 0, tm = 0, ts = 0;
		size_t start = ++i;
		if (!take_number(s, len, &i, &th))
			return -1;
		if (i < len && s[i] == ':') {
			i++;
			take_number(s, len, &i, &tm); /* "+05:" is +05 */
			if (i < len && s[i] == ':') {
				i++;
				take_number(s, len, &i, &ts);
			}
		} else if (i - start >= 3) {
			/* Run together: "+0530", "+530". */
			tm = th % 100;
			th /= 100;
		}
		if (th > 15 || tm > 59 || ts > 59)
			return DT_TZ_RANGE;
		dt->tz_sec = sign * (th * 3600 + tm * 60 + ts);
	} else if (i < len && (s[i] == 'Z' || s[i] == 'z') && (i + 1 == len || s[i + 1] == ' ')) {
		i++;
	} else if (len - i >= 3 && (word_eq(s + i, 3, "utc") || word_eq(s + i, 3, "gmt")) &&
		   (i + 3 == len || s[i + 3] == ' ')) {
		i += 3;
	}

	/* The era. */
	bool bc = false;
	while (i < len && s[i] == ' ')
		i++;
	if (len - i >= 2 && (word_eq(s + i, 2, "bc") || word_eq(s + i, 2, "ad"))) {
		bc = to_lower(s[i]) == 'b';
		i += 2;
	}
	if (i != len)
		return -1;

	if (year == 0 || mon < 1 || mon > 12)
		return DT_FIELD_RANGE;
	int64_t ayear = bc ? 1 - year : year;
	if (mday < 1 || mday > days_in_month(ayear, (unsigned)mon))
		return DT_FIELD_RANGE;
	dt->days = value_days_from_civil(ayear, (unsigned)mon, (unsigned)mday);
	dt->usec = want_time ? tod : 0;
	return 0;
}

static int parse_date(const char *s, size_t len, int32_t *out)
{
	struct DateTime dt;
	int rc = parse_datetime(s, len, false, &dt);
	if (rc < 0)
		return rc;
	if (dt.special) {
		*out = dt.special > 0 ? VAL_DATE_INFINITY : VAL_DATE_NEG_INFINITY;
		return 0;
	}
	if (dt.days < MIN_DAYS || dt.days >= END_DATE_DAYS)
		return DT_RANGE;
	*out = (int32_t)dt.days;
	return 0;
}

/* timestamp ignores a written zone, as PostgreSQL does; timestamptz applies it. */
static int parse_timestamp(const char *s, size_t len, bool with_tz, int64_t *out)
{
	struct DateTime dt;
	int rc = parse_datetime(s, len, true, &dt);
	if (rc < 0)
		return rc;
	if (dt.special) {
		*out = dt.special > 0 ? VAL_TS_INFINITY : VAL_TS_NEG_INFINITY;
		return 0;
	}
	/* Years beyond ±300000 cannot be valid and would overflow below. */
	if (dt.days < MIN_DAYS - 1 || dt.days > INT64_C(110000000))
		return DT_RANGE;
	__int128 us = (__int128)dt.days * US_PER_DAY + dt.usec;
	if (with_tz)
		us -= (__int128)dt.tz_sec * US_PER_SEC;
	if (us < MIN_TS || us >= INT64_MAX)
		return DT_RANGE;
	*out = (int64_t)us;
	return 0;
}

/* "2026-11-21" or "0044-03-15" plus whether it is BC. */
static size_t format_ymd(int64_t days, char *buf, size_t size, bool *bc)
{
	int64_t y;
	unsigned m, d;
	value_civil_from_days(days, &y, &m, &d);
	*bc = y <= 0;
	if (*bc)
		y = 1 - y;
	return (size_t)snprintf(buf, size, "%04" PRId64 "-%02u-%02u", y, m, d);
}

size_t value_format_date(int32_t days, char buf[VALUE_TS_BUFSIZE])
{
	if (days == VAL_DATE_INFINITY)
		return (size_t)snprintf(buf, VALUE_TS_BUFSIZE, "infinity");
	if (days == VAL_DATE_NEG_INFINITY)
		return (size_t)snprintf(buf, VALUE_TS_BUFSIZE, "-infinity");
	bool bc;
	size_t n = format_ymd(days, buf, VALUE_TS_BUFSIZE, &bc);
	if (bc)
		n += (size_t)snprintf(buf + n, VALUE_TS_BUFSIZE - n, " BC");
	return n;
}

size_t value_format_timestamp(int64_t ts, bool with_tz, char buf[VALUE_TS_BUFSIZE])
{
	if (ts == VAL_TS_INFINITY)
		return (size_t)snprintf(buf, VALUE_TS_BUFSIZE, "infinity");
	if (ts == VAL_TS_NEG_INFINITY)
		return (size_t)snprintf(buf, VALUE_TS_BUFSIZE, "-infinity");
	int64_t days = ts / US_PER_DAY;
	int64_t rem = ts % US_PER_DAY;
	if (rem < 0) {
		rem += US_PER_DAY;
		days--;
	}
	bool bc;
	size_t n = format_ymd(days, buf, VALUE_TS_BUFSIZE, &bc);
	int64_t secs = rem / US_PER_SEC;
	int usec = (int)(rem % US_PER_SEC);
	n += (size_t)snprintf(buf + n, VALUE_TS_BUFSIZE - n, " %02d:%02d:%02d", (int)(secs / 3600),
			      (int)(secs / 60 % 60), (int)(secs % 60));
	if (usec) {
		int digits = 6;
		while (usec % 10 == 0) {
			usec /= 10;
			digits--;
		}
		n += (size_t)snprintf(buf + n, VALUE_TS_BUFSIZE - n, ".%0*d", digits, usec);
	}
	if (with_tz)
		n += (size_t)snprintf(buf + n, VALUE_TS_BUFSIZE - n, "+00");
	if (bc)
		n += (size_t)snprintf(buf + n, VALUE_TS_BUFSIZE - n, " BC");
	return n;
}

/* ---- bytea and uuid ------------------------------------------------------ */

/* byteain: "\x0a0b" (hex, blanks between pairs allowed) or the escape format ("a\\000b"). */
static int parse_bytea(const char *s, size_t len, Arena *arena, struct Value *out, char *err,
		       size_t errlen)
{
	uint8_t *buf = alloc(arena, len, err, errlen);
	size_t n = 0;

	if (!buf)
		return -1;
	if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
		for (size_t i = 2; i < len;) {
			/* hex_decode skips these four only */
			if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
				i++;
				continue;
			}
			int hi = value_hex_digit(s[i]);
			if (hi < 0) {
				fail(err, errlen, "invalid hexadecimal digit: \"%c\"", s[i]);
				return -1;
			}
			if (i + 1 >= len) {
				fail(err, errlen, "invalid hexadecimal data: odd number of digits");
				return -1;
			}
			int lo = value_hex_digit(s[i + 1]);
			if (lo < 0) {
				fail(err, errlen, "invalid hexadecimal digit: \"%c\"", s[i + 1]);
				return -1;
			}
			buf[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
	} else {
		for (size_t i = 0; i < len;) {
			if (s[i] != '\\') {
				buf[n++] = (uint8_t)s[i++];
			} else if (i + 1 < len && s[i + 1] == '\\') {
				buf[n++] = '\\';
				i += 2;
			} else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
				   s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
				buf[n++] = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
				i += 4;
			} else {
				/* byteain quotes nothing here */
				fail(err, errlen, "invalid input syntax for type bytea");
				return -1;
			}
		}
	}
	out->kind = VAL_BYTEA;
	out->s.p = (const char *)buf;
	out->s.len = n;
	return 0;
}

/*
 * uuid_in: 32 hex digits, a hyphen allowed after any group of four but the
 * last, optional braces, no blanks; printed 8-4-4-4-12 lower case.
 */
static int parse_uuid(const char *s, size_t len, Arena *arena, struct Value *out, char *err,
		      size_t errlen)
{
	const char *orig = s;
	size_t origlen = len;
	static const char canon_dash[36] = {[8] = 1, [13] = 1, [18] = 1, [23] = 1};
	bool canonical = len == 36;

	for (size_t i = 0; i < len && canonical; i++)
		canonical = canon_dash[i] ? s[i] == '-' : (ascii_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f'));
	if (canonical) {
		out->kind = VAL_TEXT;
		out->s.p = s;
		out->s.len = len;
		return 0;
	}

	if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
		s++;
		len -= 2;
	}
	char hex[32];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-' && n > 0 && n % 4 == 0 && i + 1 < len && s[i - 1] != '-')
			continue;
		if (value_hex_digit(s[i]) < 0 || n == 32) {
			fail_syntax(err, errlen, OID_UUID, orig, origlen);
			return -1;
		}
		hex[n++] = to_lower(s[i]);
	}
	if (n != 32) {
		fail_syntax(err, errlen, OID_UUID, orig, origlen);
		return -1;
	}
	char *buf = alloc(arena, 36, err, errlen);
	if (!buf)
		return -1;
	for (size_t i = 0, h = 0; i < 36; i++)
		buf[i] = canon_dash[i] ? '-' : hex[h++];
	out->kind = VAL_TEXT;
	out->s.p = buf;
	out->s.len = 36;
	return 0;
}

/* ---- arrays -------------------------------------------------------------- */

/*
 * array_in for one dimension: "{1,2,NULL}", "{"a b","c\"d",NULL}", "{}",
 * optionally after a "[lo:hi]=" bounds decoration (which is dropped).
 * Unquoted NULL (any case) is a NULL element; blanks around unquoted
 * elements are dropped; a backslash quotes the next byte anywhere.
 * Nested braces (a multidimensional array) are refused.
 */
static int parse_array(const char *s, size_t len, uint32_t typoid, uint32_t elemtype, Arena *arena,
		       struct Value *out, char *err, size_t errlen)
{
	const char *full = s;
	size_t fulllen = len;
	size_t i = 0;

	trim(&s, &len);
	if (len > 0 && s[0] == '[') {
		while (i < len && s[i] != '=')
			i++;
		i++;
		while (i < len && ascii_space(s[i]))
			i++;
	}
	if (i >= len || s[i] != '{') {
		fail_quoted(err, errlen, "malformed array literal", full, fulllen);
		return -1;
	}
	/* Later messages quote from the opening brace on, as array_in does. */
	const char *orig = s + i;
	size_t origlen = fulllen - (size_t)(orig - full);
	if (s[len - 1] != '}')
		goto malformed;
	i++;
	size_t end = len - 1; /* the closing brace */

	/* Count the elements first: commas outside quotes, plus one. */
	size_t count = 0;
	bool any = false, quoted = false;
	for (size_t k = i; k < end; k++) {
		if (s[k] == '\\') {
			k++;
			any = true;
		} else if (s[k] == '"') {
			quoted = !quoted;
			any = true;
		} else if (!quoted && s[k] == ',') {
			count++;
		} else if (!quoted && (s[k] == '{' || s[k] == '}')) {
			fail_quoted(err, errlen, "multidimensional arrays are not supported", full,
				    fulllen);
			return -1;
		} else if (!ascii_space(s[k])) {
			any = true;
		}
	}
	if (quoted)
		goto malformed;
	if (any || count > 0)
		count++;

	struct Value *elems = alloc(arena, count * sizeof(*elems), err, errlen);
	if (!elems)
		return -1;
	for (size_t e = 0; e < count; e++) {
		while (i < end && ascii_space(s[i]))
			i++;
		/*
		 * As in PostgreSQL 15's ArrayCount: a quote may only open an
		 * element, and only blanks may follow its closing quote.
		 */
		size_t start = i, stop;
		bool was_quoted = i < end && s[i] == '"', escaped = false;
		if (was_quoted) {
			for (i++; i < end && s[i] != '"'; i++)
				if (s[i] == '\\') {
					escaped = true;
					i++;
				}
			if (i >= end)
				goto malformed;
			stop = ++i; /* after the closing quote */
			while (i < end && ascii_space(s[i]))
				i++;
			if (i < end && s[i] != ',')
				goto malformed; /* {"a"b} */
			start++; /* the text is between the quotes */
			stop--;
		} else {
			stop = i;
			while (i < end && s[i] != ',') {
				if (s[i] == '"')
					goto malformed; /* {a"b"} */
				if (s[i] == '\\') {
					escaped = true;
					i += 2;
					stop = i; /* an escaped blank is kept */
					continue;
				}
				if (!ascii_space(s[i++]))
					stop = i;
			}
			if (i > end || stop == start)
				goto malformed; /* {a\}: the brace escaped; {1,,2}; {1,} */
		}

		/* Point into s unless escapes must be removed. */
		const char *text = s + start;
		size_t tlen = stop - start;
		if (escaped) {
			char *copy = alloc(arena, stop - start, err, errlen);
			if (!copy)
				return -1;
			tlen = 0;
			for (size_t k = start; k < stop; k++) {
				if (s[k] == '\\' && k + 1 < stop)
					k++;
				copy[tlen++] = s[k];
			}
			text = copy;
		}
		if (i < end)
			i++; /* the comma */
		if (!was_quoted && !escaped && word_eq(text, tlen, "null")) {
			elems[e] = (struct Value){.kind = VAL_NULL, .typoid = elemtype};
			continue;
		}
		if (value_parse(text, tlen, elemtype, arena, &elems[e], err, errlen) < 0)
			return -1;
	}
	out->kind = VAL_ARRAY;
	out->typoid = typoid;
	out->arr.elems = elems;
	out->arr.n = count;
	return 0;

malformed:
	fail_quoted(err, errlen, "malformed array literal", orig, origlen);
	return -1;
}

/* ---- input --------------------------------------------------------------- */

int value_parse(const char *text, size_t len, uint32_t typoid, Arena *arena, struct Value *out,
		char *err, size_t errlen)
{
	int rc;

	*out = (struct Value){.kind = VAL_TEXT, .typoid = typoid};
	switch (typoid) {
	case OID_BOOL:
		out->kind = VAL_BOOL;
		if (parse_bool(text, len, &out->b) < 0) {
			fail_syntax(err, errlen, typoid, text, len);
			return -1;
		}
		return 0;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: {
		int64_t min, max;
		int_range(typoid, &min, &max);
		out->kind = VAL_INT;
		rc = typoid == OID_OID ? parse_oid(text, len, &out->i)
				       : parse_int(text, len, min, max, &out->i);
		if (rc == -1)
			fail_syntax(err, errlen, typoid, text, len);
		else if (rc == -2)
			fail_range(err, errlen, typoid, text, len);
		return rc < 0 ? -1 : 0;
	}
	case OID_NUMERIC:
		out->kind = VAL_NUMERIC;
		rc = parse_numeric(text, len, arena, &out->s.p, &out->s.len);
		if (rc == -1)
			fail_syntax(err, errlen, typoid, text, len);
		else if (rc == -2)
			fail(err, errlen, "value overflows numeric format");
		else if (rc == -3)
			fail(err, errlen, "out of memory");
		return rc < 0 ? -1 : 0;
	case OID_FLOAT4:
	case OID_FLOAT8:
		out->kind = VAL_FLOAT;
		rc = parse_float(text, len, typoid == OID_FLOAT4, arena, &out->f);
		if (rc == -1)
			fail_syntax(err, errlen, typoid, text, len);
		else if (rc == -2)
			fail_float_range(err, errlen, typoid, text, len);
		return rc < 0 ? -1 : 0;
	case OID_DATE:
		out->kind = VAL_DATE;
		rc = parse_date(text, len, &out->date);
		break;
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		out->kind = VAL_TIMESTAMP;
		rc = parse_timestamp(text, len, typoid == OID_TIMESTAMPTZ, &out->ts);
		break;
	case OID_BYTEA:
		return parse_bytea(text, len, arena, out, err, errlen);
	case OID_UUID:
		return parse_uuid(text, len, arena, out, err, errlen);
	default: {
		uint32_t elem = value_array_element_type(typoid);
		if (elem)
			return parse_array(text, len, typoid, elem, arena, out, err, errlen);
		/* text, varchar, bpchar, name, json, jsonb, enums, domains, ...: the bytes as sent. */
		out->s.p = text;
		out->s.len = len;
		return 0;
	}
	}
	/* Dates and timestamps, with DateTimeParseError's messages. */
	if (rc == -1 && typoid == OID_TIMESTAMP)
		fail_quoted(err, errlen, "invalid input syntax for type timestamp", text, len);
	else if (rc == -1)
		fail_syntax(err, errlen, typoid, text, len);
	else if (rc == DT_FIELD_RANGE)
		fail_quoted(err, errlen, "date/time field value out of range", text, len);
	else if (rc == DT_TZ_RANGE)
		fail_quoted(err, errlen, "time zone displacement out of range", text, len);
	else if (rc == DT_RANGE)
		fail_quoted(err, errlen,
			    typoid == OID_DATE ? "date out of range" : "timestamp out of range", text, len);
	return rc < 0 ? -1 : 0;
}

int value_from_column(const struct PgoValue *col, uint32_t typoid, Arena *arena, struct Value *out,
		      char *err, size_t errlen)
{
	switch (col->kind) {
	case 'n':
		*out = (struct Value){.kind = VAL_NULL, .typoid = typoid};
		return 0;
	case 't':
		return value_parse((const char *)col->data, col->len, typoid, arena, out, err, errlen);
	case 'b':
		fail(err, errlen, "binary format not supported");
		return -1;
	case 'u':
		fail(err, errlen, "unchanged TOAST value has no data to convert");
		return -1;
	default:
		fail(err, errlen, "unknown column value kind 0x%02x", (unsigned char)col->kind);
		return -1;
	}
}

/* ---- output -------------------------------------------------------------- */

static int copy_out(Arena *arena, const char *s, size_t n, const char **text, size_t *len)
{
	char *p = arena_alloc(arena, n ? n : 1);
	if (!p)
		return -1;
	memcpy(p, s, n);
	*text = p;
	*len = n;
	return 0;
}

/* array_out quotes empty elements, NULL look-alikes, and anything with blanks or {}",\ in it. */
static bool array_needs_quotes(const char *s, size_t len)
{
	if (len == 0 || word_eq(s, len, "null"))
		return true;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '{' || s[i] == '}' || s[i] == ',' || s[i] == '"' || s[i] == '\\' || ascii_space(s[i]))
			return true;
	return false;
}

static int array_to_text(const struct Value *v, Arena *arena, const char **text, size_t *len)
{
	const char **parts = NULL;
	size_t *lens = NULL;
	size_t total = 2;

	if (v->arr.n > 0) {
		parts = arena_alloc(arena, v->arr.n * sizeof(*parts));
		lens = arena_alloc(arena, v->arr.n * sizeof(*lens));
		if (!parts || !lens)
			return -1;
	}
	for (size_t i = 0; i < v->arr.n; i++) {
		const struct Value *e = &v->arr.elems[i];
		if (e->kind == VAL_NULL) {
			parts[i] = "NULL";
			lens[i] = 4;
		} else if (value_to_text(e, arena, &parts[i], &lens[i]) < 0) {
			return -1;
		}
		/* Room for quotes and one backslash per byte at worst. */
		total += 2 * lens[i] + 3;
	}
	char *buf = arena_alloc(arena, total);
	if (!buf)
		return -1;
	size_t n = 0;
	buf[n++] = '{';
	for (size_t i = 0; i < v->arr.n; i++) {
		if (i > 0)
			buf[n++] = ',';
		bool isnull = v->arr.elems[i].kind == VAL_NULL;
		if (isnull || !array_needs_quotes(parts[i], lens[i])) {
			memcpy(buf + n, parts[i], lens[i]);
			n += lens[i];
			continue;
		}
		buf[n++] = '"';
		for (size_t k = 0; k < lens[i]; k++) {
			if (parts[i][k] == '"' || parts[i][k] == '\\')
				buf[n++] = '\\';
			buf[n++] = parts[i][k];
		}
		buf[n++] = '"';
	}
	buf[n++] = '}';
	*text = buf;
	*len = n;
	return 0;
}

size_t value_format_int(int64_t i, char buf[VALUE_INT_BUFSIZE])
{
	char digits[VALUE_INT_BUFSIZE];
	uint64_t mag = i < 0 ? 0 - (uint64_t)i : (uint64_t)i; /* INT64_MIN too */
	size_t n = 0, len = 0;
	do {
		digits[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (i < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = digits[--n];
	buf[len] = '\0';
	return len;
}

int value_to_text(const struct Value *v, Arena *arena, const char **text, size_t *len)
{
	char buf[VALUE_TS_BUFSIZE];
	size_t n;

	switch (v->kind) {
	case VAL_NULL:
		*text = NULL;
		*len = 0;
		return 0;
	case VAL_BOOL:
		*text = v->b ? "t" : "f";
		*len = 1;
		return 0;
	case VAL_INT:
		n = value_format_int(v->i, buf);
		return copy_out(arena, buf, n, text, len);
	case VAL_NUMERIC:
	case VAL_TEXT:
		*text = v->s.p;
		*len = v->s.len;
		return 0;
	case VAL_FLOAT:
		n = value_format_float(v->f, v->typoid == OID_FLOAT4, buf);
		return copy_out(arena, buf, n, text, len);
	case VAL_BYTEA: {
		static const char hex[] = "0123456789abcdef";
		char *p = arena_alloc(arena, 2 + 2 * v->s.len);
		if (!p)
			return -1;
		p[0] = '\\';
		p[1] = 'x';
		for (size_t i = 0; i < v->s.len; i++) {
			p[2 + 2 * i] = hex[(unsigned char)v->s.p[i] >> 4];
			p[3 + 2 * i] = hex[(unsigned char)v->s.p[i] & 15];
		}
		*text = p;
		*len = 2 + 2 * v->s.len;
		return 0;
	}
	case VAL_TIMESTAMP:
		n = value_format_timestamp(v->ts, v->typoid == OID_TIMESTAMPTZ, buf);
		return copy_out(arena, buf, n, text, len);
	case VAL_DATE:
		n = value_format_date(v->date, buf);
		return copy_out(arena, buf, n, text, len);
	case VAL_ARRAY:
		return array_to_text(v, arena, text, len);
	}
	return -1;
}
