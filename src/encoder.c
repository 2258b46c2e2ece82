/* Encoder: event field values to protobuf wire bytes, proto3 JSON and CloudEvents records. */
#include "autoconf.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "encoder.h"
#include "json_valid.h"
#include "utf8.h"

/* ---- wire writers ---------------------------------------------------------- */

/* Write v as a varint into buf (at least 10 bytes); returns the length. */
static size_t put_varint(uint8_t *buf, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		buf[n++] = (uint8_t)(v | 0x80); /* low 7 bits, high bit: more follows */
		v >>= 7;
	}
	buf[n++] = (uint8_t)v;
	return n;
}

void enc_varint(struct StrBuf *out, uint64_t v)
{
	uint8_t buf[10];
	sb_append(out, buf, put_varint(buf, v));
}

size_t enc_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Written without shifting a negative value, which C leaves undefined. */
uint32_t enc_zigzag32(int32_t v)
{
	return v < 0 ? ~((uint32_t)v << 1) : (uint32_t)v << 1;
}

uint64_t enc_zigzag64(int64_t v)
{
	return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
}

void enc_fixed32(struct StrBuf *out, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sb_append(out, b, sizeof(b));
}

void enc_fixed64(struct StrBuf *out, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sb_append(out, b, sizeof(b));
}

void enc_tag(struct StrBuf *out, uint32_t number, enum enc_wire_type wt)
{
	enc_varint(out, (uint64_t)number << 3 | (uint64_t)wt);
}

void enc_varint_field(struct StrBuf *out, uint32_t number, uint64_t v)
{
	enc_tag(out, number, ENC_WT_VARINT);
	enc_varint(out, v);
}

void enc_len_field(struct StrBuf *out, uint32_t number, const void *data, size_t len)
{
	enc_tag(out, number, ENC_WT_LEN);
	enc_varint(out, len);
	sb_append(out, data, len);
}

void enc_string_field(struct StrBuf *out, uint32_t number, const char *s)
{
	enc_len_field(out, number, s, strlen(s));
}

size_t enc_message_begin(struct StrBuf *out, uint32_t number)
{
	enc_tag(out, number, ENC_WT_LEN);
	return out->len;
}

void enc_message_end(struct StrBuf *out, size_t mark)
{
	if (!sb_ok(out) || mark > out->len)
		return;
	size_t payload = out->len - mark;
	uint8_t len[10];
	size_t k = put_varint(len, payload);
	/* Grow by the length's size, then slide the payload up to make room in front of it. */
	sb_append(out, len, k);
	if (!sb_ok(out))
		return;
	memmove(out->data + mark + k, out->data + mark, payload);
	memcpy(out->data + mark, len, k);
}

/*
 * The body of a google.protobuf.Timestamp after its tag: varint length, then
 * 08 <seconds varint> (int64: negative is two's complement, 10 bytes) and
 * 10 <nanos varint>; proto3 leaves zero fields out, so the epoch is "00".
 */
static void put_timestamp(struct StrBuf *out, int64_t seconds, int32_t nanos)
{
	size_t size = 0;
	if (seconds)
		size += 1 + enc_varint_size((uint64_t)seconds);
	if (nanos)
		size += 1 + enc_varint_size((uint64_t)(int64_t)nanos);
	enc_varint(out, size);
	if (seconds)
		enc_varint_field(out, 1, (uint64_t)seconds);
	if (nanos)
		enc_varint_field(out, 2, (uint64_t)(int64_t)nanos);
}

void enc_timestamp_field(struct StrBuf *out, uint32_t number, int64_t seconds, int32_t nanos)
{
	enc_tag(out, number, ENC_WT_LEN);
	put_timestamp(out, seconds, nanos);
}

/* ---- names shared with schema.c ------------------------------------------ */

void enc_json_name(struct StrBuf *out, const char *field_name)
{
	/* protoc's ToJsonName: drop '_', upper-case the next character; nothing else changes. */
	bool upper = false;
	for (const char *p = field_name; *p; p++) {
		if (*p == '_') {
			upper = true;
		} else {
			char c = *p;
			if (upper && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			sb_putc(out, c);
			upper = false;
		}
	}
}

/* Upper-case s, every byte outside [A-Z0-9_] (after upper-casing) becoming '_'. */
static void put_upper_ident(struct StrBuf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			c = '_';
		sb_putc(out, (char)c);
	}
}

void enc_enum_value_name(struct StrBuf *out, const char *field_name, const char *label)
{
	/* Prefixed with the field: proto enum values share their message's scope. */
	put_upper_ident(out, field_name);
	sb_putc(out, '_');
	put_upper_ident(out, label);
}

/* ---- conversion: the one place that decides what fits --------------------- */

/* One value converted to its field's declared type: what both encoders write. */
struct Conv {
	union {
		int64_t i;  /* int32, int64, sint32, sint64; FT_ENUM: the number */
		uint64_t u; /* uint32, uint64 */
		bool b;
		float f32;
		double f64;
		struct {
			int64_t secs;
			int32_t nanos; /* 0..999999999, also before 1970 */
		} ts;
	};
	const char *p; /* string-like types and bytes */
	size_t len;
	size_t enum_index; /* FT_ENUM: index into enum_values */
	char text[48];     /* text made here (a number, date, time, lowercase uuid); p points in */
};

/* Where a conversion failed: the field and the 1-based element of an array (0: none). */
struct Where {
	const struct EventField *f;
	size_t elem;
	char *err;
	size_t errlen;
};

static int fail(const struct Where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write 'field "name" (type): <reason>' to err; returns -1. */
static int fail(const struct Where *w, const char *fmt, ...)
{
	if (!w->err || !w->errlen)
		return -1;
	const char *type = field_type_name(w->f->type);
	int n;
	if (w->elem)
		n = snprintf(w->err, w->errlen,
		             "field \"%s\" (repeated %s) element %zu: ", w->f->name, type, w->elem);
	else
		n = snprintf(w->err, w->errlen, "field \"%s\" (%s%s): ", w->f->name,
		             w->f->repeated ? "repeated " : "", type);
	if (n < 0 || (size_t)n >= w->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A value kind with its article, for messages: "an integer". */
static const char *a_kind(enum value_kind kind)
{
	switch (kind) {
	case VAL_NULL:
		return "a null";
	case VAL_BOOL:
		return "a boolean";
	case VAL_INT:
		return "an integer";
	case VAL_NUMERIC:
		return "a numeric";
	case VAL_FLOAT:
		return "a float";
	case VAL_TEXT:
		return "a text";
	case VAL_BYTEA:
		return "a bytea";
	case VAL_TIMESTAMP:
		return "a timestamp";
	case VAL_DATE:
		return "a date";
	case VAL_ARRAY:
		return "an array";
	}
	return "an unknown";
}

/*
 * Text for an error message: quoted, cut with "..." to fit buf (64 bytes
 * hold 57 of it), control characters shown as '?' so the message stays one line.
 */
static const char *snippet(char *buf, size_t cap, const char *p, size_t len)
{
	size_t max = cap - 6, n = 0;
	buf[n++] = '"';
	for (size_t i = 0; i < len && n < max; i++)
		buf[n++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
	if (n - 1 < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* kind_allowed said no (the to_* converters repeat it for the kinds they handle). */
static int wrong_kind(const struct Where *w, const struct Value *v)
{
	return fail(w, "cannot hold %s value; cast it in the field's expression", a_kind(v->kind));
}

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int check_utf8(const struct Where *w, const struct Value *v)
{
	if (utf8_valid(v->s.p, v->s.len))
		return 0;
	return fail(w, "text is not valid UTF-8");
}

/* Decimal text as PostgreSQL's numeric prints it: -?digits(.digits)?, NaN, Infinity, -Infinity. */
enum dec_kind { DEC_INVALID, DEC_FINITE, DEC_NAN, DEC_INF, DEC_NEG_INF };

struct Decimal {
	bool neg;
	const char *int_p; /* integer digits, leading zeros skipped (may be empty) */
	size_t int_len;
	const char *frac_p; /* fraction digits after the point (may be empty) */
	size_t frac_len;
};

static bool text_is(const char *p, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

static enum dec_kind parse_decimal(const char *p, size_t len, struct Decimal *d)
{
	if (text_is(p, len, "NaN"))
		return DEC_NAN;
	if (text_is(p, len, "Infinity"))
		return DEC_INF;
	if (text_is(p, len, "-Infinity"))
		return DEC_NEG_INF;
	const char *end = p + len;
	*d = (struct Decimal){0};
	if (p < end && *p == '-') {
		d->neg = true;
		p++;
	}
	const char *digits = p;
	while (p < end && ascii_digit(*p))
		p++;
	if (p == digits)
		return DEC_INVALID;
	d->int_p = digits;
	while (d->int_p < p && *d->int_p == '0')
		d->int_p++;
	d->int_len = (size_t)(p - d->int_p);
	if (p < end && *p == '.') {
		d->frac_p = ++p;
		while (p < end && ascii_digit(*p))
			p++;
		d->frac_len = (size_t)(p - d->frac_p);
		if (!d->frac_len)
			return DEC_INVALID;
	}
	return p == end ? DEC_FINITE : DEC_INVALID;
}

/*
 * Store sign and magnitude into an integer field type, checking its range.
 * shown is the value as the error shows it; NULL: the sign and magnitude.
 */
static int fit_integer(const struct Where *w, bool neg, uint64_t mag, const char *shown,
                       struct Conv *c)
{
	uint64_t max;
	switch (w->f->type) {
	case FT_INT32:
	case FT_SINT32:
		max = neg ? UINT64_C(1) << 31 : INT32_MAX;
		break;
	case FT_INT64:
	case FT_SINT64:
		max = neg ? UINT64_C(1) << 63 : INT64_MAX;
		break;
	case FT_UINT32:
		max = neg ? 0 : UINT32_MAX;
		break;
	default: /* FT_UINT64 */
		max = neg ? 0 : UINT64_MAX;
		break;
	}
	if (mag > max) {
		char text[24];
		if (!shown) {
			snprintf(text, sizeof(text), "%s%llu", neg ? "-" : "", (unsigned long long)mag);
			shown = text;
		}
		return fail(w, "%s out of range", shown);
	}
	if (w->f->type == FT_UINT32 || w->f->type == FT_UINT64)
		c->u = mag;
	else
		c->i = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag; /* -(2^63) without overflow */
	return 0;
}

static int to_integer(const struct Where *w, const struct Value *v, struct Conv *c)
{
	char shown[64];
	if (v->kind == VAL_INT) {
		bool neg = v->i < 0;
		uint64_t mag = neg ? 0 - (uint64_t)v->i : (uint64_t)v->i;
		return fit_integer(w, neg, mag, NULL, c); /* formatted only for an error */
	}
	if (v->kind != VAL_NUMERIC)
		return wrong_kind(w, v);
	/* Exact: "42" and "42.000" are integers, "42.5" is not, and no double is involved. */
	snippet(shown, sizeof(shown), v->s.p, v->s.len);
	struct Decimal d;
	enum dec_kind k = parse_decimal(v->s.p, v->s.len, &d);
	if (k == DEC_INVALID)
		return fail(w, "%s is not a number", shown);
	if (k != DEC_FINITE)
		return fail(w, "%s is not an integer", shown);
	for (size_t i = 0; i < d.frac_len; i++)
		if (d.frac_p[i] != '0')
			return fail(w, "%s is not an integer", shown);
	uint64_t mag = 0;
	for (size_t i = 0; i < d.int_len; i++) {
		unsigned digit = (unsigned)(d.int_p[i] - '0');
		if (mag > (UINT64_MAX - digit) / 10)
			return fail(w, "%s out of range", shown);
		mag = mag * 10 + digit;
	}
	return fit_integer(w, d.neg, mag, shown, c);
}

/* Whether a double (or a float) holds i exactly; 2^63 itself is not an int64. */
static bool int_fits(int64_t i, bool as_float)
{
	if (as_float) {
		float f = (float)i;
		return (double)f < 0x1p63 && (int64_t)f == i;
	}
	double d = (double)i;
	return d < 0x1p63 && (int64_t)d == i;
}

/*
 * strtod/strtof of finite decimal text, which is not NUL-terminated. Text too
 * long for the buffer is rebuilt from its significant integer digits and as
 * many fraction digits as fit, plus a final '1' standing for the non-zero
 * digits dropped: that lands on the same side of every rounding boundary as
 * the full text (boundaries need far fewer than 600 digits).
 */
static int parse_floating(const struct Where *w, const struct Value *v, const struct Decimal *d,
                          struct Conv *c)
{
	char buf[1100], shown[64];
	size_t n = v->s.len;
	snippet(shown, sizeof(shown), v->s.p, v->s.len);
	if (n < sizeof(buf)) {
		memcpy(buf, v->s.p, n);
	} else {
		if (d->int_len > 400) /* at least 1e400 */
			return fail(w, "%s out of range", shown);
		n = 0;
		if (d->neg)
			buf[n++] = '-';
		buf[n++] =
		    '0'; /* a harmless leading zero keeps "0.5" well-formed when int_len is 0 */
		memcpy(buf + n, d->int_p, d->int_len);
		n += d->int_len;
		buf[n++] = '.';
		size_t keep = d->frac_len < sizeof(buf) - 2 - n ? d->frac_len : sizeof(buf) - 2 - n;
		if (keep)
			memcpy(buf + n, d->frac_p, keep);
		n += keep;
		for (size_t i = keep; i < d->frac_len; i++)
			if (d->frac_p[i] != '0') {
				buf[n++] = '1';
				break;
			}
	}
	buf[n] = '\0';
	errno = 0;
	if (w->f->type == FT_FLOAT)
		c->f32 = strtof(buf, NULL);
	else
		c->f64 = strtod(buf, NULL);
	/* ERANGE also reports underflow; only overflow (an infinity) does not fit. */
	bool inf = w->f->type == FT_FLOAT ? isinf(c->f32) : isinf(c->f64);
	if (errno == ERANGE && inf)
		return fail(w, "%s out of range", shown);
	return 0;
}

/* Shortest %g text that reads back as the same float or double; PostgreSQL's names for the rest. */
static size_t format_floating(char *buf, size_t cap, double d, bool as_float)
{
	if (isnan(d))
		return (size_t)snprintf(buf, cap, "NaN");
	if (isinf(d))
		return (size_t)snprintf(buf, cap, d > 0 ? "Infinity" : "-Infinity");
	int prec = as_float ? 6 : 15, last = as_float ? 9 : 17;
	int n;
	for (;; prec++) {
		n = snprintf(buf, cap, "%.*g", prec, d);
		double back = strtod(buf, NULL);
		if (prec >= last || (as_float ? (float)back == (float)d : back == d))
			break;
	}
	return (size_t)n;
}

static int to_floating(const struct Where *w, const struct Value *v, struct Conv *c)
{
	bool as_float = w->f->type == FT_FLOAT;
	double d = 0;
	switch (v->kind) {
	case VAL_INT:
		if (!int_fits(v->i, as_float))
			return fail(w, "%lld is not exactly representable", (long long)v->i);
		d = (double)v->i;
		break;
	case VAL_FLOAT:
		d = v->f;
		if (as_float && isfinite(d) && fabs(d) > FLT_MAX) {
			char text[32];
			format_floating(text, sizeof(text), d, false);
			return fail(w, "%s out of range", text);
		}
		break;
	case VAL_NUMERIC: {
		struct Decimal dec;
		char shown[64];
		switch (parse_decimal(v->s.p, v->s.len, &dec)) {
		case DEC_INVALID:
			return fail(w, "%s is not a number",
			            snippet(shown, sizeof(shown), v->s.p, v->s.len));
		case DEC_FINITE:
			return parse_floating(w, v, &dec, c);
		case DEC_NAN:
			d = NAN;
			break;
		case DEC_INF:
			d = INFINITY;
			break;
		case DEC_NEG_INF:
			d = -INFINITY;
			break;
		}
		break;
	}
	default:
		return wrong_kind(w, v);
	}
	if (as_float)
		c->f32 = (float)d;
	else
		c->f64 = d;
	return 0;
}

/* Days since 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/*
 * RFC 3339 in UTC: "2026-11-21T05:41:41.240664Z". digits is the number of
 * fractional digits, or -1 for the reference JSON printer's choice of 0, 3,
 * 6 or 9 (the fewest that show the nanos exactly).
 */
static size_t format_rfc3339(char *buf, size_t cap, int64_t secs, int32_t nanos, int digits)
{
	int64_t days = floor_div(secs, 86400), sod = secs - days * 86400, year;
	unsigned month, day;
	civil_from_days(days, &year, &month, &day);
	int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)year, month, day,
	                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	if (digits < 0)
		digits = nanos == 0 ? 0 : nanos % 1000000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9;
	if (digits > 0) {
		int32_t frac = nanos;
		for (int i = digits; i < 9; i++)
			frac /= 10;
		n += snprintf(buf + n, cap - (size_t)n, ".%0*d", digits, (int)frac);
	}
	n += snprintf(buf + n, cap - (size_t)n, "Z");
	return (size_t)n;
}

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
#define MIN_SECONDS INT64_C(-62135596800)
#define MAX_SECONDS INT64_C(253402300799)
#define MIN_DAYS (-719162) /* 0001-01-01 */
#define MAX_DAYS 2932896   /* 9999-12-31 */

static int to_timestamp(const struct Where *w, int64_t us, struct Conv *c)
{
	if (us == VAL_TS_INFINITY || us == VAL_TS_NEG_INFINITY)
		return fail(w, "timestamp '%s' cannot be represented",
		            us == VAL_TS_INFINITY ? "infinity" : "-infinity");
	/* Floor division keeps nanos in 0..999999999 before 1970 too: -1 µs is -1 s + 999999000 ns.
	 */
	c->ts.secs = floor_div(us, 1000000);
	c->ts.nanos = (int32_t)(us - c->ts.secs * 1000000) * 1000;
	if (c->ts.secs < MIN_SECONDS || c->ts.secs > MAX_SECONDS) {
		char text[48];
		format_rfc3339(text, sizeof(text), c->ts.secs, c->ts.nanos, 6);
		return fail(w, "timestamp %s out of range (years 0001 to 9999)", text);
	}
	return 0;
}

static int check_date(const struct Where *w, int32_t days)
{
	if (days == VAL_DATE_INFINITY || days == VAL_DATE_NEG_INFINITY)
		return fail(w, "date '%s' cannot be represented",
		            days == VAL_DATE_INFINITY ? "infinity" : "-infinity");
	if (days < MIN_DAYS || days > MAX_DAYS) {
		int64_t year;
		unsigned month, day;
		civil_from_days(days, &year, &month, &day);
		return fail(w, "date %04lld-%02u-%02u out of range (years 0001 to 9999)",
		            (long long)year, month, day);
	}
	return 0;
}

static int to_string(const struct Where *w, const struct Value *v, struct Conv *c)
{
	int n;
	switch (v->kind) {
	case VAL_TEXT:
	case VAL_NUMERIC:
		c->p = v->s.p;
		c->len = v->s.len;
		return check_utf8(w, v);
	case VAL_INT:
		n = (int)value_format_int(v->i, c->text);
		break;
	case VAL_FLOAT:
		n = (int)format_floating(c->text, sizeof(c->text), v->f, false);
		break;
	case VAL_BOOL:
		n = snprintf(c->text, sizeof(c->text), "%s", v->b ? "true" : "false");
		break;
	case VAL_TIMESTAMP:
		/* Always microseconds, as PostgreSQL keeps them: fixed width sorts as text. */
		if (to_timestamp(w, v->ts, c) < 0)
			return -1;
		n = (int)format_rfc3339(c->text, sizeof(c->text), c->ts.secs, c->ts.nanos, 6);
		break;
	case VAL_DATE: {
		if (check_date(w, v->date) < 0)
			return -1;
		int64_t year;
		unsigned month, day;
		civil_from_days(v->date, &year, &month, &day);
		n = snprintf(c->text, sizeof(c->text), "%04lld-%02u-%02u", (long long)year, month,
		             day);
		break;
	}
	default:
		return wrong_kind(w, v);
	}
	c->p = c->text;
	c->len = (size_t)n;
	return 0;
}

static int to_decimal(const struct Where *w, const struct Value *v, struct Conv *c)
{
	if (v->kind == VAL_INT)
		return to_string(w, v, c);
	if (v->kind != VAL_NUMERIC && v->kind != VAL_TEXT)
		return wrong_kind(w, v);
	struct Decimal d;
	if (parse_decimal(v->s.p, v->s.len, &d) == DEC_INVALID) {
		char shown[64];
		return fail(w, "%s is not a valid decimal",
		            snippet(shown, sizeof(shown), v->s.p, v->s.len));
	}
	c->p = v->s.p;
	c->len = v->s.len;
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Canonical 8-4-4-4-12 hex, emitted lower-case. */
/* A json field promises consumers JSON: text from a text column must be one JSON value. */
static int to_json(const struct Where *w, const struct Value *v, struct Conv *c)
{
	size_t at;
	const char *why;

	if (to_string(w, v, c) < 0)
		return -1;
	if (!json_valid(c->p, c->len, &at, &why)) {
		char shown[64];
		return fail(w, "%s is not JSON: %s at byte %zu",
		            snippet(shown, sizeof(shown), c->p, c->len), why, at);
	}
	return 0;
}

static int to_uuid(const struct Where *w, const struct Value *v, struct Conv *c)
{
	static const char hex[] = "0123456789abcdef";
	bool ok = v->s.len == 36;
	for (size_t i = 0; ok && i < 36; i++) {
		char ch = v->s.p[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			ok = ch == '-';
			c->text[i] = '-';
		} else {
			int x = hex_value(ch);
			ok = x >= 0;
			c->text[i] = hex[x & 15];
		}
	}
	if (!ok) {
		char shown[64];
		return fail(w, "%s is not a uuid (8-4-4-4-12 hex digits)",
		            snippet(shown, sizeof(shown), v->s.p, v->s.len));
	}
	c->p = c->text;
	c->len = 36;
	return 0;
}

static int to_enum(const struct Where *w, const struct Value *v, struct Conv *c)
{
	const struct EventField *f = w->f;
	for (size_t i = 0; i < f->n_enum_values; i++) {
		if (text_is(v->s.p, v->s.len, f->enum_values[i])) {
			c->enum_index = i;
			c->i = (int64_t)i + 1; /* 0 is <FIELD>_UNSPECIFIED */
			return 0;
		}
	}
	char shown[64], labels[160];
	size_t n = 0;
	labels[0] = '\0';
	for (size_t i = 0; i < f->n_enum_values && n < sizeof(labels); i++) {
		int k = snprintf(labels + n, sizeof(labels) - n, "%s%s", i ? ", " : "",
		                 f->enum_values[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	return fail(w, "%s is not one of its values (%s)",
	            snippet(shown, sizeof(shown), v->s.p, v->s.len), labels);
}

/*
 * Which value kinds each field type accepts; the value itself may still not
 * fit (range, exactness, syntax), which the to_* converters check.
 */
static bool kind_allowed(enum field_type type, enum value_kind kind)
{
	switch (type) {
	case FT_INT32:
	case FT_INT64:
	case FT_UINT32:
	case FT_UINT64:
	case FT_SINT32:
	case FT_SINT64:
		return kind == VAL_INT || kind == VAL_NUMERIC;
	case FT_BOOL:
		return kind == VAL_BOOL;
	case FT_FLOAT:
	case FT_DOUBLE:
		return kind == VAL_INT || kind == VAL_NUMERIC || kind == VAL_FLOAT;
	case FT_STRING:
		return kind == VAL_TEXT || kind == VAL_NUMERIC || kind == VAL_INT ||
		       kind == VAL_FLOAT || kind == VAL_BOOL || kind == VAL_TIMESTAMP ||
		       kind == VAL_DATE;
	case FT_BYTES:
		return kind == VAL_BYTEA || kind == VAL_TEXT;
	case FT_TIMESTAMP:
		return kind == VAL_TIMESTAMP || kind == VAL_DATE;
	case FT_DATE:
		return kind == VAL_DATE;
	case FT_DECIMAL:
		return kind == VAL_NUMERIC || kind == VAL_INT || kind == VAL_TEXT;
	case FT_JSON:
	case FT_UUID:
	case FT_ENUM:
		return kind == VAL_TEXT;
	}
	return false;
}

bool enc_kind_fits(enum field_type type, bool repeated, enum value_kind kind)
{
	if (kind == VAL_NULL)
		return true;
	if (repeated)
		return kind == VAL_ARRAY;
	return kind != VAL_ARRAY && kind_allowed(type, kind);
}

/* Convert one non-NULL scalar value to w->f's type, or explain why it does not fit. */
static int convert(const struct Where *w, const struct Value *v, struct Conv *c)
{
	if (v->kind == VAL_NULL) /* only array elements get here */
		return fail(w, "NULL element in repeated field");
	if (v->kind == VAL_ARRAY)
		return fail(w, w->elem ? "nested arrays cannot be written"
		                       : "an array needs a repeated field");
	if (!kind_allowed(w->f->type, v->kind))
		return wrong_kind(w, v);
	switch (w->f->type) {
	case FT_INT32:
	case FT_INT64:
	case FT_UINT32:
	case FT_UINT64:
	case FT_SINT32:
	case FT_SINT64:
		return to_integer(w, v, c);
	case FT_BOOL:
		c->b = v->b;
		return 0;
	case FT_FLOAT:
	case FT_DOUBLE:
		return to_floating(w, v, c);
	case FT_STRING:
	case FT_DATE:
		return to_string(w, v, c);
	case FT_JSON:
		return to_json(w, v, c);
	case FT_BYTES:
		c->p = v->s.p;
		c->len = v->s.len;
		return 0;
	case FT_TIMESTAMP:
		if (v->kind == VAL_TIMESTAMP)
			return to_timestamp(w, v->ts, c);
		if (check_date(w, v->date) < 0)
			return -1;
		c->ts.secs = (int64_t)v->date * 86400; /* midnight UTC */
		c->ts.nanos = 0;
		return 0;
	case FT_DECIMAL:
		return to_decimal(w, v, c);
	case FT_UUID:
		return to_uuid(w, v, c);
	case FT_ENUM:
		return to_enum(w, v, c);
	}
	return -1;
}

/* ---- event messages ------------------------------------------------------- */

/* Field numbers in range and distinct, so "ascending order" is well defined. */
static int check_numbers(const struct EventDef *ev, char *err, size_t errlen)
{
	for (size_t i = 0; i < ev->nfields; i++) {
		const struct EventField *f = &ev->fields[i];
		if (f->number < 1 || f->number > ENC_MAX_FIELD_NUMBER) {
			snprintf(err, errlen, "field \"%s\": number %u out of range (1 to %u)",
			         f->name, f->number, ENC_MAX_FIELD_NUMBER);
			return -1;
		}
		for (size_t k = 0; k < i; k++)
			if (ev->fields[k].number == f->number) {
				snprintf(err, errlen, "fields \"%s\" and \"%s\" share number %u",
				         ev->fields[k].name, f->name, f->number);
				return -1;
			}
	}
	return 0;
}

/* Index of the field with the smallest number above after, or nfields when none is left. */
static size_t next_field(const struct EventDef *ev, uint32_t after)
{
	size_t best = ev->nfields;
	for (size_t i = 0; i < ev->nfields; i++)
		if (ev->fields[i].number > after &&
		    (best == ev->nfields || ev->fields[i].number < ev->fields[best].number))
			best = i;
	return best;
}

static enum enc_wire_type wire_type(enum field_type type)
{
	switch (type) {
	case FT_INT32:
	case FT_INT64:
	case FT_UINT32:
	case FT_UINT64:
	case FT_SINT32:
	case FT_SINT64:
	case FT_BOOL:
	case FT_ENUM:
		return ENC_WT_VARINT;
	case FT_FLOAT:
		return ENC_WT_FIXED32;
	case FT_DOUBLE:
		return ENC_WT_FIXED64;
	default:
		return ENC_WT_LEN;
	}
}

/* Append one converted value without its tag. */
static void put_value(struct StrBuf *out, enum field_type type, const struct Conv *c)
{
	switch (type) {
	case FT_INT32: /* a negative int32 is sign-extended: always 10 bytes, as protobuf requires
	                */
	case FT_INT64:
	case FT_ENUM:
		enc_varint(out, (uint64_t)c->i);
		break;
	case FT_UINT32:
	case FT_UINT64:
		enc_varint(out, c->u);
		break;
	case FT_SINT32:
		enc_varint(out, enc_zigzag32((int32_t)c->i));
		break;
	case FT_SINT64:
		enc_varint(out, enc_zigzag64(c->i));
		break;
	case FT_BOOL:
		enc_varint(out, c->b ? 1 : 0);
		break;
	case FT_FLOAT: {
		uint32_t bits;
		memcpy(&bits, &c->f32, sizeof(bits));
		enc_fixed32(out, bits);
		break;
	}
	case FT_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &c->f64, sizeof(bits));
		enc_fixed64(out, bits);
		break;
	}
	case FT_TIMESTAMP:
		put_timestamp(out, c->ts.secs, c->ts.nanos);
		break;
	default: /* string, bytes and the string-typed date, decimal, json, uuid */
		enc_varint(out, c->len);
		sb_append(out, c->p, c->len);
		break;
	}
}

/*
 * One field: "tag value" for a scalar; for a repeated numeric field one
 * packed run "tag(wire type 2) length value value ..."; for repeated
 * strings, bytes and messages "tag value" per element. An empty array writes
 * nothing (a repeated field has no presence to keep).
 */
static int pb_field(const struct EventField *f, const struct Value *v, struct StrBuf *out,
                    char *err, size_t errlen)
{
	struct Where w = {f, 0, err, errlen};
	struct Conv c;
	if (!f->repeated) {
		if (convert(&w, v, &c) < 0)
			return -1;
		enc_tag(out, f->number, wire_type(f->type));
		put_value(out, f->type, &c);
		return 0;
	}
	if (v->kind != VAL_ARRAY)
		return fail(&w, "needs an array, got %s value", a_kind(v->kind));
	if (!v->arr.n)
		return 0;
	bool packed = wire_type(f->type) != ENC_WT_LEN;
	size_t mark = packed ? enc_message_begin(out, f->number) : 0;
	for (size_t k = 0; k < v->arr.n; k++) {
		w.elem = k + 1;
		if (convert(&w, &v->arr.elems[k], &c) < 0)
			return -1;
		if (!packed)
			enc_tag(out, f->number, ENC_WT_LEN);
		put_value(out, f->type, &c);
	}
	if (packed)
		enc_message_end(out, mark);
	return 0;
}

/* On failure leave out as the caller gave it. */
static int rollback(struct StrBuf *out, size_t start)
{
	if (out->len > start) {
		out->len = start;
		out->data[start] = '\0';
	}
	return -1;
}

static int out_of_memory(const struct EventDef *ev, struct StrBuf *out, size_t start, char *err,
                         size_t errlen)
{
	snprintf(err, errlen, "out of memory encoding event %s v%d", ev->name, ev->version);
	return rollback(out, start);
}

int enc_protobuf(const struct EventDef *ev, const struct Value *values, struct StrBuf *out,
                 char *err, size_t errlen)
{
	size_t start = out->len;
	if (check_numbers(ev, err, errlen) < 0)
		return -1;
	size_t i;
	for (uint32_t after = 0; (i = next_field(ev, after)) < ev->nfields;
	     after = ev->fields[i].number) {
		if (values[i].kind == VAL_NULL)
			continue; /* proto3 optional: absence is NULL */
		if (pb_field(&ev->fields[i], &values[i], out, err, errlen) < 0)
			return rollback(out, start);
	}
	if (!sb_ok(out))
		return out_of_memory(ev, out, start, err, errlen);
	return 0;
}

static void json_value(struct StrBuf *out, const struct EventField *f, const struct Conv *c)
{
	char text[48];
	switch (f->type) {
	case FT_INT32:
	case FT_SINT32:
		sb_printf(out, "%lld", (long long)c->i);
		break;
	case FT_INT64:
	case FT_SINT64: /* 64-bit integers are strings: JavaScript numbers are doubles */
		sb_printf(out, "\"%lld\"", (long long)c->i);
		break;
	case FT_UINT32:
		sb_printf(out, "%llu", (unsigned long long)c->u);
		break;
	case FT_UINT64:
		sb_printf(out, "\"%llu\"", (unsigned long long)c->u);
		break;
	case FT_BOOL:
		sb_puts(out, c->b ? "true" : "false");
		break;
	case FT_FLOAT:
	case FT_DOUBLE: {
		double d = f->type == FT_FLOAT ? (double)c->f32 : c->f64;
		size_t n = format_floating(text, sizeof(text), d, f->type == FT_FLOAT);
		if (isfinite(d))
			sb_append(out, text, n);
		else
			sb_json_string(out, text, n);
		break;
	}
	case FT_TIMESTAMP: {
		size_t n = format_rfc3339(text, sizeof(text), c->ts.secs, c->ts.nanos, -1);
		sb_json_string(out, text, n);
		break;
	}
	case FT_ENUM:
		sb_putc(out, '"');
		enc_enum_value_name(out, f->name, f->enum_values[c->enum_index]);
		sb_putc(out, '"');
		break;
	case FT_BYTES:
		sb_putc(out, '"');
		sb_base64(out, c->p, c->len);
		sb_putc(out, '"');
		break;
	default:
		sb_json_string(out, c->p, c->len);
		break;
	}
}

static int json_field(const struct EventField *f, const struct Value *v, struct StrBuf *out,
                      char *err, size_t errlen)
{
	struct Where w = {f, 0, err, errlen};
	struct Conv c;
	sb_putc(out, '"');
	enc_json_name(out, f->name);
	sb_puts(out, "\":");
	if (!f->repeated) {
		if (convert(&w, v, &c) < 0)
			return -1;
		json_value(out, f, &c);
		return 0;
	}
	sb_putc(out, '[');
	for (size_t k = 0; k < v->arr.n; k++) {
		w.elem = k + 1;
		if (convert(&w, &v->arr.elems[k], &c) < 0)
			return -1;
		if (k)
			sb_putc(out, ',');
		json_value(out, f, &c);
	}
	sb_putc(out, ']');
	return 0;
}

int enc_json(const struct EventDef *ev, const struct Value *values, struct StrBuf *out, char *err,
             size_t errlen)
{
	size_t start = out->len;
	if (check_numbers(ev, err, errlen) < 0)
		return -1;
	bool first = true;
	sb_putc(out, '{');
	size_t i;
	for (uint32_t after = 0; (i = next_field(ev, after)) < ev->nfields;
	     after = ev->fields[i].number) {
		const struct EventField *f = &ev->fields[i];
		const struct Value *v = &values[i];
		if (v->kind == VAL_NULL)
			continue;
		if (f->repeated && v->kind != VAL_ARRAY) {
			struct Where w = {f, 0, err, errlen};
			fail(&w, "needs an array, got %s value", a_kind(v->kind));
			return rollback(out, start);
		}
		if (f->repeated && !v->arr.n)
			continue; /* the JSON printer leaves empty repeated fields out */
		if (!first)
			sb_putc(out, ',');
		first = false;
		if (json_field(f, v, out, err, errlen) < 0)
			return rollback(out, start);
	}
	sb_putc(out, '}');
	if (!sb_ok(out))
		return out_of_memory(ev, out, start, err, errlen);
	return 0;
}

/* ---- CloudEvents ----------------------------------------------------------- */

/*
 * One attributes map entry (CloudEvent field 5), a message of its own:
 *	2a <len> 0a <len> "<key>" 12 <len> <CloudEventAttributeValue>
 * where the value is one oneof member, e.g. ce_string: 1a <len> "<text>".
 */
static void put_attr_text(struct StrBuf *out, const char *key, uint32_t member, const char *text)
{
	size_t entry = enc_message_begin(out, 5);
	enc_string_field(out, 1, key);
	size_t value = enc_message_begin(out, 2);
	enc_string_field(out, member, text);
	enc_message_end(out, value);
	enc_message_end(out, entry);
}

/* CloudEventAttributeValue oneof members. */
#define CE_STRING 3
#define CE_URI 5
#define CE_TIMESTAMP 7

int enc_cloudevent(const struct CloudEventAttrs *attrs, const char *type_url, const void *data,
                   size_t len, struct StrBuf *out)
{
	if (!attrs->id || !*attrs->id || !attrs->source || !*attrs->source || !attrs->type ||
	    !*attrs->type)
		return -1;
	size_t start = out->len;
	/* 0a id, 12 source, 1a "1.0", 22 type: the required attributes. */
	enc_string_field(out, 1, attrs->id);
	enc_string_field(out, 2, attrs->source);
	enc_string_field(out, 3, "1.0");
	enc_string_field(out, 4, attrs->type);
	/* Map entries in key order, so equal events give equal bytes. */
	const char *ct = attrs->datacontenttype && *attrs->datacontenttype ? attrs->datacontenttype
	                                                                   : "application/protobuf";
	put_attr_text(out, "datacontenttype", CE_STRING, ct);
	if (attrs->dataschema && *attrs->dataschema)
		put_attr_text(out, "dataschema", CE_URI, attrs->dataschema);
	if (attrs->subject && *attrs->subject)
		put_attr_text(out, "subject", CE_STRING, attrs->subject);
	if (attrs->snapshot && *attrs->snapshot)
		put_attr_text(out, "tablecastsnapshot", CE_STRING, attrs->snapshot);
	size_t entry = enc_message_begin(out, 5);
	enc_string_field(out, 1, "time");
	size_t value = enc_message_begin(out, 2);
	int64_t secs = floor_div(attrs->time_us, 1000000);
	enc_timestamp_field(out, CE_TIMESTAMP, secs,
	                    (int32_t)(attrs->time_us - secs * 1000000) * 1000);
	enc_message_end(out, value);
	enc_message_end(out, entry);
	/*
	 * The data. A protobuf message goes in proto_data, a google.protobuf.Any:
	 *	42 <len> 0a <len> "<type URL>" 12 <len> <message>
	 * (the protobuf format's "MUST be stored in the proto_data property");
	 * other bytes in binary_data: 32 <len> <bytes>.
	 */
	if (data && type_url) {
		size_t any = enc_message_begin(out, 8);
		enc_string_field(out, 1, type_url);
		enc_len_field(out, 2, data, len);
		enc_message_end(out, any);
	} else if (data) {
		enc_len_field(out, 6, data, len);
	}
	if (!sb_ok(out))
		return rollback(out, start);
	return 0;
}

void enc_message_full_name(const struct EventDef *ev, char *buf, size_t len)
{
	const char *dot = strrchr(ev->name, '.');
	if (!dot)
		snprintf(buf, len, "v%d.%s", ev->version, ev->name);
	else
		snprintf(buf, len, "%.*s.v%d.%s", (int)(dot - ev->name), ev->name, ev->version,
		         dot + 1);
}

size_t enc_format_timestamp(int64_t unix_us, char buf[ENC_TS_BUFSIZE])
{
	int64_t secs = floor_div(unix_us, 1000000);
	return format_rfc3339(buf, ENC_TS_BUFSIZE, secs, (int32_t)(unix_us - secs * 1000000) * 1000,
	                      -1);
}
