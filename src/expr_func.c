/* The expression function library: which functions exist and what they compute. */
#include "autoconf.h"

#include "expr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static char lower_ascii(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The catalogue: SQL names (with their aliases) and how many arguments each takes. */
static const struct ExprFuncDef functions[] = {
    {"lower", F_LOWER, 1, 1},
    {"upper", F_UPPER, 1, 1},
    {"btrim", F_BTRIM, 1, 2},
    {"trim", F_BTRIM, 1, 2},
    {"ltrim", F_LTRIM, 1, 2},
    {"rtrim", F_RTRIM, 1, 2},
    {"length", F_LENGTH, 1, 1},
    {"char_length", F_LENGTH, 1, 1},
    {"character_length", F_LENGTH, 1, 1},
    {"octet_length", F_OCTET_LENGTH, 1, 1},
    {"date_trunc", F_DATE_TRUNC, 2, 2},
    {"sha256", F_SHA256, 1, 1},
    {"md5", F_MD5, 1, 1},
    {"concat", F_CONCAT, 1, 100},
    {"abs", F_ABS, 1, 1},
    {"round", F_ROUND, 1, 2},
};

const struct ExprFuncDef *expr_func_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		if (strcmp(name, functions[i].name) == 0)
			return &functions[i];
	return NULL;
}

const char *expr_func_name(int id)
{
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		if ((int)functions[i].id == id)
			return functions[i].name;
	return NULL;
}

/* "function lower(integer) does not exist", naming the argument types as PostgreSQL does. */
static int no_such_function(struct Eval *ev, const struct Node *n, const struct Value *argv)
{
	char sig[160];
	size_t used = 0;
	sig[0] = '\0';
	for (size_t i = 0; i < n->nargs && used < sizeof(sig); i++) {
		int w = snprintf(sig + used, sizeof(sig) - used, "%s%s", i ? ", " : "",
		                 expr_type_label(&argv[i], is_unknown(n->args[i])));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return expr_fail(ev, "function %s(%s) does not exist", expr_func_name(n->op), sig);
}

static bool char_in_set(const char *c, size_t clen, const char *set, size_t setlen)
{
	for (size_t i = 0; i < setlen;) {
		size_t k = utf8_len((unsigned char)set[i]);
		if (k > setlen - i)
			k = setlen - i;
		if (k == clen && memcmp(set + i, c, clen) == 0)
			return true;
		i += k;
	}
	return false;
}

/* btrim/ltrim/rtrim: remove characters (UTF-8 characters, not bytes) found in set from the ends. */
static void trim_text(const char **p, size_t *len, const char *set, size_t setlen, bool left,
                      bool right)
{
	const char *s = *p;
	size_t start = 0, end = *len;
	while (left && start < end) {
		size_t k = utf8_len((unsigned char)s[start]);
		if (k > end - start)
			k = end - start;
		if (!char_in_set(s + start, k, set, setlen))
			break;
		start += k;
	}
	while (right && end > start) {
		size_t b = end - 1; /* back to the first byte of the last character */
		while (b > start && end - b < 4 && ((unsigned char)s[b] & 0xC0) == 0x80)
			b--;
		if (!char_in_set(s + b, end - b, set, setlen))
			break;
		end = b;
	}
	*p = s + start;
	*len = end - start;
}

/* date_trunc(unit, timestamp): weeks start on Monday, as in PostgreSQL (ISO 8601). */
static int date_trunc(struct Eval *ev, const char *unit, size_t ulen, const struct Value *v,
                      int64_t *out)
{
	char u[16];
	size_t i;
	for (i = 0; i < ulen && i < sizeof(u) - 1; i++)
		u[i] = lower_ascii(unit[i]);
	u[i] = '\0';
	int64_t ts = v->ts;
	if (ts == VAL_TS_INFINITY || ts == VAL_TS_NEG_INFINITY) {
		*out = ts;
		return 0;
	}
	static const struct {
		const char *name;
		int64_t usecs;
	} fixed[] = {
	    {"microseconds", 1},  {"milliseconds", 1000},        {"second", 1000000},
	    {"minute", 60000000}, {"hour", INT64_C(3600000000)}, {"day", USECS_PER_DAY},
	};
	if (ulen < sizeof(u)) {
		for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
			if (strcmp(u, fixed[k].name) == 0) {
				*out = floor_div(ts, fixed[k].usecs) * fixed[k].usecs;
				return 0;
			}
		}
		int64_t days = floor_div(ts, USECS_PER_DAY);
		int64_t y;
		unsigned m, d;
		value_civil_from_days(days, &y, &m, &d);
		bool found = true;
		if (strcmp(u, "week") == 0) {
			/* 1970-01-01 was a Thursday, 3 days after Monday. */
			days -= ((days % 7) + 7 + 3) % 7;
		} else if (strcmp(u, "month") == 0) {
			days = value_days_from_civil(y, m, 1);
		} else if (strcmp(u, "quarter") == 0) {
			days = value_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
		} else if (strcmp(u, "year") == 0) {
			days = value_days_from_civil(y, 1, 1);
		} else if (strcmp(u, "decade") == 0 && y > 0) {
			days = value_days_from_civil(y - y % 10, 1, 1);
		} else if (strcmp(u, "century") == 0 && y > 0) {
			days = value_days_from_civil((y - 1) / 100 * 100 + 1, 1, 1);
		} else if (strcmp(u, "millennium") == 0 && y > 0) {
			days = value_days_from_civil((y - 1) / 1000 * 1000 + 1, 1, 1);
		} else {
			found = false;
		}
		if (found) {
			*out = days * USECS_PER_DAY;
			return 0;
		}
	}
	return expr_fail(
	    ev, "unit \"%.*s\" not recognized for type %s", (int)(ulen > 40 ? 40 : ulen), unit,
	    value_type_name(v->typoid == OID_TIMESTAMPTZ ? OID_TIMESTAMPTZ : OID_TIMESTAMP));
}

static int eval_concat_func(struct Eval *ev, const struct Value *argv, size_t nargs,
                            struct Value *out)
{
	/* concat() skips NULLs and uses each argument's output text (booleans are "t"/"f" here). */
	const char **parts = expr_alloc(ev, nargs * sizeof(*parts));
	size_t *lens = expr_alloc(ev, nargs * sizeof(*lens));
	size_t total = 0;
	if (!parts || !lens)
		return -1;
	for (size_t i = 0; i < nargs; i++) {
		if (value_to_text(&argv[i], ev->arena, &parts[i], &lens[i]) < 0)
			return expr_fail(ev, "out of memory");
		total += lens[i];
	}
	char *p = expr_alloc(ev, total);
	if (!p)
		return -1;
	size_t used = 0;
	for (size_t i = 0; i < nargs; i++) {
		if (lens[i] > 0)
			memcpy(p + used, parts[i], lens[i]);
		used += lens[i];
	}
	*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {p, total}};
	return 0;
}

int expr_func_call(struct Eval *ev, const struct Node *n, const struct Value *argv,
                   struct Value *out)
{
	bool anynull = false;
	for (size_t i = 0; i < n->nargs; i++)
		anynull |= argv[i].kind == VAL_NULL;
	if (n->op == F_CONCAT)
		return eval_concat_func(ev, argv, n->nargs, out);
	if (anynull) { /* the rest are strict */
		*out = (struct Value){.kind = VAL_NULL};
		return 0;
	}
	const struct Value *a = &argv[0];
	switch (n->op) {
	case F_LOWER:
	case F_UPPER: {
		/* ASCII letters only (PostgreSQL's C locale); other letters stay as they are. */
		if (a->kind != VAL_TEXT)
			return no_such_function(ev, n, argv);
		const char *s;
		size_t len;
		text_of(a, &s, &len);
		char *p = expr_alloc(ev, len);
		if (!p)
			return -1;
		for (size_t i = 0; i < len; i++) {
			char c = s[i];
			if (n->op == F_LOWER)
				p[i] = lower_ascii(c);
			else
				p[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		}
		*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {p, len}};
		return 0;
	}
	case F_BTRIM:
	case F_LTRIM:
	case F_RTRIM: {
		if (a->kind != VAL_TEXT || (n->nargs == 2 && argv[1].kind != VAL_TEXT))
			return no_such_function(ev, n, argv);
		const char *s, *set = " ";
		size_t len, setlen = 1;
		text_of(a, &s, &len);
		if (n->nargs == 2)
			text_of(&argv[1], &set, &setlen);
		trim_text(&s, &len, set, setlen, n->op != F_RTRIM, n->op != F_LTRIM);
		*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {s, len}};
		return 0;
	}
	case F_LENGTH:
	case F_OCTET_LENGTH: {
		if (a->kind != VAL_TEXT && a->kind != VAL_BYTEA)
			return no_such_function(ev, n, argv);
		const char *s = a->s.p;
		size_t len = a->s.len;
		if (a->kind == VAL_TEXT && n->op == F_LENGTH)
			text_of(a, &s, &len); /* char(n) padding counts for octet_length only */
		size_t r = a->kind == VAL_TEXT && n->op == F_LENGTH ? utf8_chars(s, len) : len;
		*out = (struct Value){.kind = VAL_INT, .typoid = OID_INT4, .i = (int64_t)r};
		return 0;
	}
	case F_DATE_TRUNC: {
		struct Value t = argv[1];
		if (is_unknown(n->args[1]) && value_parse(t.s.p, t.s.len, OID_TIMESTAMPTZ,
		                                          ev->arena, &t, ev->err, ev->errlen) < 0)
			return -1;
		if (a->kind != VAL_TEXT || (t.kind != VAL_TIMESTAMP && t.kind != VAL_DATE))
			return no_such_function(ev, n, argv);
		if (t.kind == VAL_DATE) {
			/* date_trunc(text, date) goes through timestamp with time zone. */
			if (!date_to_ts(t.date, &t.ts))
				return expr_fail(ev, "date out of range for timestamp");
			t.kind = VAL_TIMESTAMP;
			t.typoid = OID_TIMESTAMPTZ;
		}
		*out = (struct Value){.kind = VAL_TIMESTAMP,
		                      .typoid = t.typoid == OID_TIMESTAMPTZ ? OID_TIMESTAMPTZ
		                                                            : OID_TIMESTAMP};
		return date_trunc(ev, a->s.p, a->s.len, &t, &out->ts);
	}
	case F_SHA256:
	case F_MD5: {
		if (a->kind != VAL_TEXT && a->kind != VAL_BYTEA)
			return no_such_function(ev, n, argv);
		unsigned char digest[EVP_MAX_MD_SIZE];
		unsigned int len;
		if (!EVP_Digest(a->s.p, a->s.len, digest, &len,
				n->op == F_SHA256 ? EVP_sha256() : EVP_md5(), NULL))
			return expr_fail(ev, "%s: the digest failed",
			                 n->op == F_SHA256 ? "sha256" : "md5");
		return expr_hex_value(ev, digest, len, out);
	}
	case F_ABS:
		if (a->kind == VAL_INT || a->kind == VAL_FLOAT || a->kind == VAL_NUMERIC) {
			bool neg = a->kind == VAL_INT     ? a->i < 0
			           : a->kind == VAL_FLOAT ? signbit(a->f) != 0
			                                  : a->s.len > 0 && a->s.p[0] == '-';
			if (!neg) {
				*out = *a;
				return 0;
			}
			return expr_negate(ev, a, false, out);
		}
		return no_such_function(ev, n, argv);
	case F_ROUND: {
		if (n->nargs == 1 && (a->kind == VAL_FLOAT || a->kind == VAL_INT)) {
			/* round(int) resolves to round(double precision): half to even. */
			double f;
			if (expr_to_double(ev, a, &f) < 0)
				return -1;
			*out = (struct Value){
			    .kind = VAL_FLOAT, .typoid = OID_FLOAT8, .f = round_even(f)};
			return 0;
		}
		if ((a->kind != VAL_NUMERIC && a->kind != VAL_INT) ||
		    (n->nargs == 2 && argv[1].kind != VAL_INT))
			return no_such_function(ev, n, argv);
		int64_t s = n->nargs == 2 ? argv[1].i : 0;
		if (s > NUM_MAX_DSCALE)
			s = NUM_MAX_DSCALE;
		if (s < -NUM_MAX_DSCALE)
			s = -NUM_MAX_DSCALE;
		struct NumDec d;
		if (expr_num_of_value(ev, a, &d) < 0 ||
		    num_round(&d, (int)s, ev->err, ev->errlen) < 0)
			return -1;
		return expr_num_to_value(ev, &d, out);
	}
	default:
		return expr_fail(ev, "unknown function");
	}
}

