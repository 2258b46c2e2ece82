/* Operators on values with PostgreSQL semantics: comparison, casts, exact and float arithmetic. */
#include "autoconf.h"

#include "expr_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vset_err(char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vset_err(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int expr_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_err(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- helpers -------------------------------------------------------------- */

int expr_fail(struct Eval *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_err(ev->err, ev->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void *expr_alloc(struct Eval *ev, size_t size)
{
	void *p = arena_alloc(ev->arena, size ? size : 1);
	if (!p)
		expr_fail(ev, "out of memory");
	return p;
}

/* A value's PostgreSQL type name for messages ("operator does not exist: text + integer"). */
const char *expr_type_label(const struct Value *v, bool unknown)
{
	if (unknown)
		return "unknown";
	const char *name = v->typoid && value_kind_of_type(v->typoid) == v->kind
	                       ? value_type_name(v->typoid)
	                       : NULL;
	if (name)
		return name;
	switch (v->kind) {
	case VAL_NULL:
		return "unknown";
	case VAL_BOOL:
		return "boolean";
	case VAL_INT:
		return "integer";
	case VAL_NUMERIC:
		return "numeric";
	case VAL_FLOAT:
		return "double precision";
	case VAL_TEXT:
		return "text";
	case VAL_BYTEA:
		return "bytea";
	case VAL_TIMESTAMP:
		return "timestamp without time zone";
	case VAL_DATE:
		return "date";
	case VAL_ARRAY:
		return "array";
	}
	return "unknown";
}

/* The type an untyped literal becomes when it meets v (PostgreSQL's unknown-type resolution). */
uint32_t expr_type_for_literal(const struct Value *v)
{
	if (v->typoid && value_kind_of_type(v->typoid) == v->kind)
		return v->typoid;
	switch (v->kind) {
	case VAL_BOOL:
		return OID_BOOL;
	case VAL_INT:
		return OID_INT8;
	case VAL_NUMERIC:
		return OID_NUMERIC;
	case VAL_FLOAT:
		return OID_FLOAT8;
	case VAL_BYTEA:
		return OID_BYTEA;
	case VAL_TIMESTAMP:
		return OID_TIMESTAMP;
	case VAL_DATE:
		return OID_DATE;
	default:
		return 0;
	}
}

/*
 * When one side of a binary operation is a string literal and the other a
 * typed non-NULL value, read the literal as that type: new.d = '2026-01-01'
 * compares dates, new.n > '10' compares numbers. Text-kind values of
 * other types (uuid) parse the literal too, so that case differences vanish.
 */
int expr_coerce_pair(struct Eval *ev, const struct Node *na, struct Value *a, const struct Node *nb,
                     struct Value *b)
{
	for (int side = 0; side < 2; side++) {
		const struct Node *lit = side ? nb : na;
		struct Value *lv = side ? b : a;
		const struct Node *other_node = side ? na : nb;
		const struct Value *other = side ? a : b;
		if (!is_unknown(lit) || is_unknown(other_node) || lv->kind != VAL_TEXT ||
		    other->kind == VAL_NULL)
			continue;
		uint32_t t = expr_type_for_literal(other);
		if (other->kind == VAL_TEXT && t != OID_UUID)
			continue;
		if (!t)
			continue;
		struct Value parsed;
		if (value_parse(lv->s.p, lv->s.len, t, ev->arena, &parsed, ev->err, ev->errlen) < 0)
			return -1;
		*lv = parsed;
	}
	return 0;
}

/* Text for a cast to text or for ||: booleans are "true"/"false" there, not their output "t"/"f".
 */
int expr_cast_text(struct Eval *ev, const struct Value *v, const char **p, size_t *len)
{
	if (v->kind == VAL_BOOL) {
		*p = v->b ? "true" : "false";
		*len = strlen(*p);
		return 0;
	}
	if (v->kind == VAL_TEXT) {
		text_of(v, p, len);
		return 0;
	}
	if (value_to_text(v, ev->arena, p, len) < 0)
		return expr_fail(ev, "out of memory");
	return 0;
}

static int32_t ts_to_date(int64_t ts)
{
	if (ts == VAL_TS_INFINITY)
		return VAL_DATE_INFINITY;
	if (ts == VAL_TS_NEG_INFINITY)
		return VAL_DATE_NEG_INFINITY;
	return (int32_t)floor_div(ts, USECS_PER_DAY);
}

/* ---- numeric values (numeric.c does the arithmetic) ----------------------- */

int expr_num_of_value(struct Eval *ev, const struct Value *v, struct NumDec *d)
{
	if (v->kind == VAL_INT) {
		num_from_int(v->i, d);
		return 0;
	}
	int rc = num_parse(v->s.p, v->s.len, d);
	if (rc == -1)
		return expr_fail(ev, "invalid input syntax for type numeric: \"%.*s\"",
		                 (int)(v->s.len > 60 ? 60 : v->s.len), v->s.p);
	if (rc == -2)
		return expr_fail(ev, "%s", num_range_msg);
	return 0;
}

/* An int or numeric operand small enough for num_small_arith. */
static bool num_small_of_value(const struct Value *v, struct NumSmall *s)
{
	if (v->kind == VAL_INT)
		return num_small_from_int(v->i, s);
	return num_small_parse(v->s.p, v->s.len, s);
}

int expr_num_to_value(struct Eval *ev, const struct NumDec *d, struct Value *out)
{
	*out = (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC};
	return num_to_text(d, ev->arena, &out->s.p, &out->s.len, ev->err, ev->errlen);
}

/* ---- comparison ---------------------------------------------------------- */

/* Bytewise order, a prefix first: text in the C collation, bytea. */
static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* float8 comparison as PostgreSQL orders it: NaN equals NaN and sorts above everything. */
static int float_cmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return a < b ? -1 : a > b ? 1 : 0;
}

int expr_to_double(struct Eval *ev, const struct Value *v, double *out)
{
	if (v->kind == VAL_FLOAT) {
		*out = v->f;
		return 0;
	}
	if (v->kind == VAL_INT) {
		*out = (double)v->i;
		return 0;
	}
	char *buf = expr_alloc(ev, v->s.len + 1);
	if (!buf)
		return -1;
	memcpy(buf, v->s.p, v->s.len);
	buf[v->s.len] = '\0';
	*out = strtod(buf, NULL); /* also reads "NaN", "Infinity", "-Infinity" */
	return 0;
}

static int compare_arrays(struct Eval *ev, const struct Value *a, const struct Value *b,
                          const char *opname, int *res)
{
	/* array_cmp: element by element, NULL elements above the rest, then the shorter first. */
	size_t n = a->arr.n < b->arr.n ? a->arr.n : b->arr.n;
	for (size_t i = 0; i < n; i++) {
		const struct Value *x = &a->arr.elems[i], *y = &b->arr.elems[i];
		int c;
		if (x->kind == VAL_NULL || y->kind == VAL_NULL)
			c = (x->kind == VAL_NULL) - (y->kind == VAL_NULL);
		else if (expr_compare(ev, x, y, opname, &c) < 0)
			return -1;
		if (c != 0) {
			*res = c;
			return 0;
		}
	}
	*res = a->arr.n < b->arr.n ? -1 : a->arr.n > b->arr.n ? 1 : 0;
	return 0;
}

/* Order two non-NULL values: *res < 0, 0, > 0. Kinds that do not compare are an error. */
int expr_compare(struct Eval *ev, const struct Value *a, const struct Value *b, const char *opname,
                 int *res)
{
	enum value_kind ka = a->kind, kb = b->kind;
	if (is_number(ka) && is_number(kb)) {
		if (ka == VAL_INT && kb == VAL_INT) {
			*res = a->i < b->i ? -1 : a->i > b->i;
			return 0;
		}
		if (ka == VAL_FLOAT || kb == VAL_FLOAT) {
			double x, y;
			if (expr_to_double(ev, a, &x) < 0 || expr_to_double(ev, b, &y) < 0)
				return -1;
			*res = float_cmp(x, y);
			return 0;
		}
		/* int vs numeric or numeric vs numeric: exactly, as decimal text. */
		char ibuf[24];
		const char *x = a->s.p, *y = b->s.p;
		size_t xl = a->s.len, yl = b->s.len;
		if (ka == VAL_INT) {
			xl = (size_t)snprintf(ibuf, sizeof(ibuf), "%" PRId64, a->i);
			x = ibuf;
		} else if (kb == VAL_INT) {
			yl = (size_t)snprintf(ibuf, sizeof(ibuf), "%" PRId64, b->i);
			y = ibuf;
		}
		int c = num_text_cmp(x, xl, y, yl);
		if (c == -2)
			return expr_fail(
			    ev, "invalid input syntax for type numeric: \"%.*s\"",
			    (int)(ka == VAL_NUMERIC ? (xl > 60 ? 60 : xl) : (yl > 60 ? 60 : yl)),
			    ka == VAL_NUMERIC ? x : y);
		*res = c;
		return 0;
	}
	if ((ka == VAL_DATE || ka == VAL_TIMESTAMP) && (kb == VAL_DATE || kb == VAL_TIMESTAMP)) {
		if (ka == VAL_DATE && kb == VAL_DATE) {
			*res = a->date < b->date ? -1 : a->date > b->date;
			return 0;
		}
		int64_t x = a->ts, y = b->ts;
		if (ka == VAL_DATE)
			(void)date_to_ts(a->date, &x);
		if (kb == VAL_DATE)
			(void)date_to_ts(b->date, &y);
		*res = x < y ? -1 : x > y;
		return 0;
	}
	if (ka == kb) {
		switch (ka) {
		case VAL_BOOL:
			*res = (int)a->b - (int)b->b;
			return 0;
		case VAL_TEXT: {
			/* C collation: bytewise, as with COLLATE "C". */
			const char *x, *y;
			size_t xl, yl;
			text_of(a, &x, &xl);
			text_of(b, &y, &yl);
			*res = bytes_cmp(x, xl, y, yl);
			return 0;
		}
		case VAL_BYTEA:
			*res = bytes_cmp(a->s.p, a->s.len, b->s.p, b->s.len);
			return 0;
		case VAL_ARRAY:
			return compare_arrays(ev, a, b, opname, res);
		default:
			break;
		}
	}
	return expr_fail(ev, "operator does not exist: %s %s %s", expr_type_label(a, false), opname,
	                 expr_type_label(b, false));
}

/* ---- casts --------------------------------------------------------------- */

static int cannot_cast(struct Eval *ev, const struct Value *in, uint32_t target)
{
	return expr_fail(ev, "cannot cast type %s to %s", expr_type_label(in, false),
	                 value_type_name(target));
}

static const char *int_range_msg(uint32_t oid)
{
	return oid == OID_INT2   ? "smallint out of range"
	       : oid == OID_INT4 ? "integer out of range"
	                         : "bigint out of range";
}

static int check_int_range(struct Eval *ev, int64_t v, uint32_t oid)
{
	if ((oid == OID_INT2 && (v < INT16_MIN || v > INT16_MAX)) ||
	    (oid == OID_INT4 && (v < INT32_MIN || v > INT32_MAX)))
		return expr_fail(ev, "%s", int_range_msg(oid));
	return 0;
}

/* numeric(p, s): round to s digits, then refuse more than p - s integer digits. */
static int numeric_typmod(struct Eval *ev, const struct TypeSpec *ts, struct Value *v)
{
	if (ts->mod1 < 0)
		return 0;
	struct NumDec d;
	if (expr_num_of_value(ev, v, &d) < 0)
		return -1;
	if (d.special == NUM_PINF || d.special == NUM_NINF)
		return expr_fail(ev, "numeric field overflow");
	if (d.special == NUM_NAN)
		return 0;
	if (num_round(&d, ts->mod2, ev->err, ev->errlen) < 0)
		return -1;
	int intdigits = num_int_digits(&d);
	if (intdigits > ts->mod1 - ts->mod2)
		return expr_fail(ev, "numeric field overflow");
	return expr_num_to_value(ev, &d, v);
}

/* varchar(n) truncates on explicit casts; char(n) truncates or pads with blanks. */
static int text_typmod(struct Eval *ev, const struct TypeSpec *ts, struct Value *v)
{
	if (ts->mod1 < 0)
		return 0;
	size_t nchars = utf8_chars(v->s.p, v->s.len);
	size_t want = (size_t)ts->mod1;
	if (nchars > want) {
		v->s.len = utf8_prefix(v->s.p, v->s.len, want);
	} else if (ts->oid == OID_BPCHAR && nchars < want) {
		char *p = expr_alloc(ev, v->s.len + (want - nchars));
		if (!p)
			return -1;
		memcpy(p, v->s.p, v->s.len);
		memset(p + v->s.len, ' ', want - nchars);
		v->s.p = p;
		v->s.len += want - nchars;
	}
	return 0;
}

/* timestamp(p): round to p fractional digits, half away from zero (AdjustTimestampForTypmod). */
static void timestamp_typmod(const struct TypeSpec *ts, struct Value *v)
{
	if (ts->mod1 < 0 || ts->mod1 >= 6 || v->ts == VAL_TS_INFINITY ||
	    v->ts == VAL_TS_NEG_INFINITY)
		return;
	int64_t scale = 1;
	for (int i = ts->mod1; i < 6; i++)
		scale *= 10;
	if (v->ts >= 0 && v->ts <= INT64_MAX - scale)
		v->ts = (v->ts + scale / 2) / scale * scale;
	else if (v->ts < 0 && v->ts >= INT64_MIN + scale)
		v->ts = -((-v->ts + scale / 2) / scale * scale);
}

int expr_cast(struct Eval *ev, const struct TypeSpec *ts, const struct Value *in, struct Value *out)
{
	uint32_t t = ts->oid;
	if (in->kind == VAL_NULL) {
		*out = (struct Value){.kind = VAL_NULL, .typoid = t};
		return 0;
	}
	/* From text, every type reads the text with its input function. */
	if (in->kind == VAL_TEXT && t != OID_TEXT && t != OID_VARCHAR && t != OID_BPCHAR) {
		const char *p;
		size_t len;
		text_of(in, &p, &len);
		if (value_parse(p, len, t, ev->arena, out, ev->err, ev->errlen) < 0)
			return -1;
		if (t == OID_NUMERIC)
			return numeric_typmod(ev, ts, out);
		if (t == OID_TIMESTAMP || t == OID_TIMESTAMPTZ)
			timestamp_typmod(ts, out);
		return 0;
	}
	*out = *in;
	out->typoid = t;
	switch (t) {
	case OID_TEXT:
	case OID_VARCHAR:
	case OID_BPCHAR:
		out->kind = VAL_TEXT;
		if (in->kind == VAL_TEXT && t == OID_BPCHAR) {
			out->s = in->s;
		} else if (expr_cast_text(ev, in, &out->s.p, &out->s.len) < 0) {
			return -1;
		}
		return text_typmod(ev, ts, out);
	case OID_BOOL:
		if (in->kind == VAL_INT) {
			out->kind = VAL_BOOL;
			out->b = in->i != 0;
			return 0;
		}
		return in->kind == VAL_BOOL ? 0 : cannot_cast(ev, in, t);
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		out->kind = VAL_INT;
		switch (in->kind) {
		case VAL_INT:
			return check_int_range(ev, in->i, t);
		case VAL_BOOL:
			out->i = in->b;
			return 0;
		case VAL_NUMERIC: {
			struct NumDec d;
			if (expr_num_of_value(ev, in, &d) < 0 ||
			    num_to_int(d, &out->i, int_range_msg(t), ev->err, ev->errlen) < 0)
				return -1;
			return check_int_range(ev, out->i, t);
		}
		case VAL_FLOAT: {
			/* rint, then a range check that also catches NaN and infinities. */
			double r = round_even(in->f);
			if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
				return expr_fail(ev, "%s", int_range_msg(t));
			out->i = (int64_t)r;
			return check_int_range(ev, out->i, t);
		}
		default:
			return cannot_cast(ev, in, t);
		}
	case OID_NUMERIC:
		out->kind = VAL_NUMERIC;
		switch (in->kind) {
		case VAL_INT: {
			char *buf = expr_alloc(ev, 24);
			if (!buf)
				return -1;
			out->s.p = buf;
			out->s.len = (size_t)snprintf(buf, 24, "%" PRId64, in->i);
			break;
		}
		case VAL_NUMERIC:
			break;
		case VAL_FLOAT: {
			/* float8_numeric: the value printed with DBL_DIG (15) digits. */
			/* In the arena: value_parse may return a pointer into it. */
			char *buf = expr_alloc(ev, 40);
			if (!buf)
				return -1;
			if (isnan(in->f))
				snprintf(buf, 40, "NaN");
			else if (isinf(in->f))
				snprintf(buf, 40, "%s", in->f > 0 ? "Infinity" : "-Infinity");
			else
				snprintf(buf, 40, "%.*g", in->typoid == OID_FLOAT4 ? 6 : 15, in->f);
			if (value_parse(buf, strlen(buf), OID_NUMERIC, ev->arena, out, ev->err,
			                ev->errlen) < 0)
				return -1;
			break;
		}
		default:
			return cannot_cast(ev, in, t);
		}
		return numeric_typmod(ev, ts, out);
	case OID_FLOAT4:
	case OID_FLOAT8: {
		double f;
		if (!is_number(in->kind))
			return cannot_cast(ev, in, t);
		if (expr_to_double(ev, in, &f) < 0)
			return -1;
		if (t == OID_FLOAT4 && !isnan(f) && !isinf(f)) {
			if (fabs(f) > 3.4028234663852886e38)
				return expr_fail(ev, "value out of range: overflow");
			f = (double)(float)f;
		}
		*out = (struct Value){.kind = VAL_FLOAT, .typoid = t, .f = f};
		return 0;
	}
	case OID_DATE:
		if (in->kind == VAL_TIMESTAMP) {
			*out = (struct Value){
			    .kind = VAL_DATE, .typoid = t, .date = ts_to_date(in->ts)};
			return 0;
		}
		return in->kind == VAL_DATE ? 0 : cannot_cast(ev, in, t);
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		if (in->kind == VAL_DATE) {
			out->kind = VAL_TIMESTAMP;
			if (!date_to_ts(in->date, &out->ts))
				return expr_fail(ev, "date out of range for timestamp");
		} else if (in->kind != VAL_TIMESTAMP) {
			return cannot_cast(ev, in, t);
		}
		timestamp_typmod(ts, out);
		return 0;
	case OID_BYTEA:
		return in->kind == VAL_BYTEA ? 0 : cannot_cast(ev, in, t);
	default: /* uuid, json, jsonb: only from text (above) or themselves */
		if (in->kind == VAL_TEXT)
			return 0;
		return cannot_cast(ev, in, t);
	}
}

/* ---- arithmetic ---------------------------------------------------------- */

const char *const expr_arith_names[] = {"+", "-", "*", "/", "%"};
const char *const expr_cmp_names[] = {"=", "<>", "<", "<=", ">", ">="};

static int int_arith(struct Eval *ev, int op, int64_t a, int64_t b, int64_t *out)
{
	bool overflow = false;
	switch (op) {
	case AR_ADD:
		overflow = __builtin_add_overflow(a, b, out);
		break;
	case AR_SUB:
		overflow = __builtin_sub_overflow(a, b, out);
		break;
	case AR_MUL:
		overflow = __builtin_mul_overflow(a, b, out);
		break;
	case AR_DIV:
		if (b == 0)
			return expr_fail(ev, "division by zero");
		if (a == INT64_MIN && b == -1)
			overflow = true;
		else
			*out = a / b; /* C truncates toward zero, as PostgreSQL does */
		break;
	case AR_MOD:
		if (b == 0)
			return expr_fail(ev, "division by zero");
		*out = b == -1 ? 0 : a % b;
		break;
	}
	return overflow ? expr_fail(ev, "bigint out of range") : 0;
}

static int float_arith(struct Eval *ev, int op, double a, double b, double *out)
{
	switch (op) {
	case AR_ADD:
		*out = a + b;
		break;
	case AR_SUB:
		*out = a - b;
		break;
	case AR_MUL:
		*out = a * b;
		break;
	case AR_DIV:
		if (b == 0)
			return expr_fail(ev, "division by zero");
		*out = a / b;
		break;
	default:
		return expr_fail(ev, "unsupported float operator");
	}
	/*
	 * float8pl and friends: an infinite result from finite inputs is an
	 * overflow, zero from nonzero an underflow.
	 */
	if (isinf(*out) && !isinf(a) && !isinf(b))
		return expr_fail(ev, "value out of range: overflow");
	if (*out == 0 && op == AR_MUL && a != 0 && b != 0)
		return expr_fail(ev, "value out of range: underflow");
	if (*out == 0 && op == AR_DIV && a != 0 && !isinf(b))
		return expr_fail(ev, "value out of range: underflow");
	return 0;
}

int expr_arith(struct Eval *ev, int op, const struct Value *a, bool ua, const struct Value *b,
               bool ub, struct Value *out)
{
	enum value_kind ka = a->kind, kb = b->kind;
	if (ua && ub)
		return expr_fail(ev, "operator is not unique: unknown %s unknown",
		                 expr_arith_names[op]);
	if (ka == VAL_INT && kb == VAL_INT) {
		*out = (struct Value){.kind = VAL_INT};
		return int_arith(ev, op, a->i, b->i, &out->i);
	}
	if (is_number(ka) && is_number(kb)) {
		if (ka == VAL_FLOAT || kb == VAL_FLOAT) {
			double x, y;
			if (op == AR_MOD) /* PostgreSQL has no float % */
				return expr_fail(ev, "operator does not exist: %s %% %s",
				                 expr_type_label(a, ua), expr_type_label(b, ub));
			*out = (struct Value){.kind = VAL_FLOAT, .typoid = OID_FLOAT8};
			if (expr_to_double(ev, a, &x) < 0 || expr_to_double(ev, b, &y) < 0)
				return -1;
			return float_arith(ev, op, x, y, &out->f);
		}
		/* Most operands are a few digits: no 128-bit decimal, no normalizing. */
		struct NumSmall sx, sy;
		char sop = op == AR_ADD ? '+' : op == AR_SUB ? '-' : op == AR_MUL ? '*' : 0;
		if (sop && num_small_of_value(a, &sx) && num_small_of_value(b, &sy)) {
			*out = (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC};
			return num_small_arith(sop, &sx, &sy, ev->arena, &out->s.p, &out->s.len,
			                       ev->err, ev->errlen);
		}
		struct NumDec x, y, r;
		if (expr_num_of_value(ev, a, &x) < 0 || expr_num_of_value(ev, b, &y) < 0)
			return -1;
		int rc;
		switch (op) {
		case AR_ADD:
			rc = num_add(x, y, false, &r, ev->err, ev->errlen);
			break;
		case AR_SUB:
			rc = num_add(x, y, true, &r, ev->err, ev->errlen);
			break;
		case AR_MUL:
			rc = num_mul(&x, &y, &r, ev->err, ev->errlen);
			break;
		case AR_DIV:
			rc = num_div(&x, &y, &r, ev->err, ev->errlen);
			break;
		default:
			rc = num_mod(x, y, &r, ev->err, ev->errlen);
			break;
		}
		return rc < 0 ? -1 : expr_num_to_value(ev, &r, out);
	}
	/* date + integer, integer + date, date - integer: days; date - date: the days between. */
	if ((op == AR_ADD &&
	     ((ka == VAL_DATE && kb == VAL_INT) || (ka == VAL_INT && kb == VAL_DATE))) ||
	    (op == AR_SUB && ka == VAL_DATE && kb == VAL_INT)) {
		int32_t d = ka == VAL_DATE ? a->date : b->date;
		int64_t n = ka == VAL_DATE ? b->i : a->i;
		*out = (struct Value){.kind = VAL_DATE, .typoid = OID_DATE, .date = d};
		if (d == VAL_DATE_INFINITY || d == VAL_DATE_NEG_INFINITY)
			return 0;
		int64_t r = op == AR_ADD ? (int64_t)d + n : (int64_t)d - n;
		if (n > INT32_MAX || n < INT32_MIN || r >= VAL_DATE_INFINITY ||
		    r <= VAL_DATE_NEG_INFINITY)
			return expr_fail(ev, "date out of range");
		out->date = (int32_t)r;
		return 0;
	}
	if (op == AR_SUB && ka == VAL_DATE && kb == VAL_DATE) {
		if (a->date == VAL_DATE_INFINITY || a->date == VAL_DATE_NEG_INFINITY ||
		    b->date == VAL_DATE_INFINITY || b->date == VAL_DATE_NEG_INFINITY)
			return expr_fail(ev, "cannot subtract infinite dates");
		*out = (struct Value){
		    .kind = VAL_INT, .typoid = OID_INT4, .i = (int64_t)a->date - b->date};
		return 0;
	}
	if (op == AR_SUB && (ka == VAL_DATE || ka == VAL_TIMESTAMP) &&
	    (kb == VAL_DATE || kb == VAL_TIMESTAMP))
		return expr_fail(
		    ev,
		    "timestamp subtraction yields an interval, which expressions do not support");
	return expr_fail(ev, "operator does not exist: %s %s %s", expr_type_label(a, ua),
	                 expr_arith_names[op], expr_type_label(b, ub));
}

int expr_negate(struct Eval *ev, const struct Value *v, bool unary_plus, struct Value *out)
{
	*out = *v;
	switch (v->kind) {
	case VAL_INT:
		if (unary_plus)
			return 0;
		if (v->i == INT64_MIN)
			return expr_fail(ev, "bigint out of range");
		out->i = -v->i;
		return 0;
	case VAL_FLOAT:
		if (!unary_plus)
			out->f = -v->f;
		return 0;
	case VAL_NUMERIC: {
		if (unary_plus)
			return 0;
		int rc = num_text_negate(v->s.p, v->s.len, ev->arena, &out->s.p, &out->s.len);
		if (rc == -1)
			return expr_fail(ev, "invalid input syntax for type numeric: \"%.*s\"",
			                 (int)(v->s.len > 60 ? 60 : v->s.len), v->s.p);
		if (rc < 0)
			return expr_fail(ev, "out of memory");
		return 0;
	}
	default:
		return expr_fail(ev, "operator does not exist: %s %s", unary_plus ? "+" : "-",
		                 expr_type_label(v, false));
	}
}

int expr_concat(struct Eval *ev, const struct Value *a, bool ua, const struct Value *b, bool ub,
                struct Value *out)
{
	const char *x, *y;
	size_t xl, yl;
	if (a->kind == VAL_BYTEA && b->kind == VAL_BYTEA) {
		x = a->s.p, xl = a->s.len, y = b->s.p, yl = b->s.len;
		*out = (struct Value){.kind = VAL_BYTEA, .typoid = OID_BYTEA};
	} else {
		/* textcat, anytextcat, textanycat: one side is text, the other is cast to text. */
		if ((a->kind != VAL_TEXT && b->kind != VAL_TEXT) || a->kind == VAL_ARRAY ||
		    b->kind == VAL_ARRAY)
			return expr_fail(ev, "operator does not exist: %s || %s",
			                 expr_type_label(a, ua), expr_type_label(b, ub));
		if (expr_cast_text(ev, a, &x, &xl) < 0 || expr_cast_text(ev, b, &y, &yl) < 0)
			return -1;
		*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT};
	}
	char *p = expr_alloc(ev, xl + yl);
	if (!p)
		return -1;
	memcpy(p, x, xl);
	memcpy(p + xl, y, yl);
	out->s.p = p;
	out->s.len = xl + yl;
	return 0;
}

int expr_hex_value(struct Eval *ev, const unsigned char *bytes, size_t n, struct Value *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = expr_alloc(ev, 2 * n);
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		p[2 * i] = hex[bytes[i] >> 4];
		p[2 * i + 1] = hex[bytes[i] & 15];
	}
	*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {p, 2 * n}};
	return 0;
}
