/* Static typing of a compiled expression for `tablecast check`. */
#include "autoconf.h"

#include "expr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- static typing ------------------------------------------------------- */

/* What inference knows about a subexpression: its kind (VAL_NULL: only known at run time). */
struct Type {
	struct Value v;         /* kind and typoid only, so that expr_type_label names it */
	bool unknown;           /* an untyped string literal */
	const struct Node *lit; /* that literal, to check it parses as what it meets */
};

struct Infer {
	const uint32_t *coltypes;
	Arena *scratch; /* for trial parses of literals */
	char *err;
	size_t errlen;
};

static void type_set(struct Type *t, enum value_kind kind, uint32_t typoid)
{
	*t = (struct Type){.v = {.kind = kind, .typoid = typoid}};
}

/* A literal meeting a value of type other must read as that type (PostgreSQL checks it early). */
static int literal_fits(struct Infer *in, const struct Type *lit, const struct Type *other)
{
	if (!lit->unknown || other->unknown || other->v.kind == VAL_NULL || !lit->lit)
		return 0;
	uint32_t t = expr_type_for_literal(&other->v);
	if (!t || (other->v.kind == VAL_TEXT && t != OID_UUID))
		return 0;
	struct Value parsed;
	const struct Value *lv = &lit->lit->val;
	return value_parse(lv->s.p, lv->s.len, t, in->scratch, &parsed, in->err, in->errlen) < 0
	           ? -1
	           : 0;
}

/* The effective type after literal resolution: a literal takes the other side's type. */
static struct Type resolved(const struct Type *t, const struct Type *other)
{
	if (t->unknown && !other->unknown && other->v.kind != VAL_NULL)
		return *other;
	return *t;
}

static bool kinds_compare(enum value_kind a, enum value_kind b)
{
	if (is_number(a) && is_number(b))
		return true;
	if ((a == VAL_DATE || a == VAL_TIMESTAMP) && (b == VAL_DATE || b == VAL_TIMESTAMP))
		return true;
	return a == b && a != VAL_NULL;
}

static int check_compare(struct Infer *in, const struct Type *a, const struct Type *b,
                         const char *opname)
{
	if (a->v.kind == VAL_NULL || b->v.kind == VAL_NULL)
		return 0;
	if (literal_fits(in, a, b) < 0 || literal_fits(in, b, a) < 0)
		return -1;
	struct Type x = resolved(a, b), y = resolved(b, a);
	if (kinds_compare(x.v.kind, y.v.kind))
		return 0;
	return expr_set_err(in->err, in->errlen, "operator does not exist: %s %s %s",
	                    expr_type_label(&x.v, x.unknown), opname,
	                    expr_type_label(&y.v, y.unknown));
}

static int check_bool(struct Infer *in, const struct Type *t, const char *what)
{
	if (t->v.kind == VAL_NULL || t->v.kind == VAL_BOOL)
		return 0;
	if (t->unknown) {
		struct Type b;
		type_set(&b, VAL_BOOL, OID_BOOL);
		return literal_fits(in, t, &b);
	}
	return expr_set_err(in->err, in->errlen, "argument of %s must be type boolean, not type %s",
	                    what, expr_type_label(&t->v, false));
}

/* select_common_type for CASE, COALESCE, GREATEST and LEAST. */
static int unify(struct Infer *in, struct Type *acc, const struct Type *t, const char *what)
{
	if (t->v.kind == VAL_NULL)
		return 0;
	if (acc->v.kind == VAL_NULL || (acc->unknown && !t->unknown)) {
		if (acc->unknown && literal_fits(in, acc, t) < 0)
			return -1;
		*acc = *t;
		return 0;
	}
	if (t->unknown)
		return literal_fits(in, t, acc);
	enum value_kind a = acc->v.kind, b = t->v.kind;
	if (a == b) {
		if (acc->v.typoid != t->v.typoid)
			acc->v.typoid = 0;
		return 0;
	}
	if (is_number(a) && is_number(b)) {
		enum value_kind k = a == VAL_FLOAT || b == VAL_FLOAT ? VAL_FLOAT : VAL_NUMERIC;
		type_set(acc, k, k == VAL_FLOAT ? OID_FLOAT8 : OID_NUMERIC);
		return 0;
	}
	if ((a == VAL_DATE || a == VAL_TIMESTAMP) && (b == VAL_DATE || b == VAL_TIMESTAMP)) {
		type_set(acc, VAL_TIMESTAMP, OID_TIMESTAMP);
		return 0;
	}
	return expr_set_err(in->err, in->errlen, "%s types %s and %s cannot be matched", what,
	                    expr_type_label(&acc->v, false), expr_type_label(&t->v, false));
}

/* Which casts expr_cast performs, by source kind. */
static bool cast_allowed(enum value_kind k, uint32_t t)
{
	if (k == VAL_NULL || k == VAL_TEXT)
		return true;
	switch (t) {
	case OID_TEXT:
	case OID_VARCHAR:
	case OID_BPCHAR:
		return true;
	case OID_BOOL:
		return k == VAL_BOOL || k == VAL_INT;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return is_number(k) || k == VAL_BOOL;
	case OID_NUMERIC:
	case OID_FLOAT4:
	case OID_FLOAT8:
		return is_number(k);
	case OID_DATE:
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		return k == VAL_DATE || k == VAL_TIMESTAMP;
	case OID_BYTEA:
		return k == VAL_BYTEA;
	default:
		return false;
	}
}

static int infer(struct Infer *in, const struct Node *n, struct Type *out);

static int infer_args(struct Infer *in, const struct Node *n, struct Type *ts)
{
	for (size_t i = 0; i < n->nargs; i++)
		if (infer(in, n->args[i], &ts[i]) < 0)
			return -1;
	return 0;
}

static int infer_arith(struct Infer *in, const struct Node *n, const struct Type *a,
                       const struct Type *b, struct Type *out)
{
	const char *opname = expr_arith_names[n->op];
	if (a->unknown && b->unknown)
		return expr_set_err(in->err, in->errlen,
		                    "operator is not unique: unknown %s unknown", opname);
	if (a->v.kind == VAL_NULL || b->v.kind == VAL_NULL) {
		const struct Type *o = a->v.kind == VAL_NULL ? b : a;
		if (o->v.kind == VAL_NULL || o->unknown)
			type_set(out, VAL_NULL, 0);
		else
			type_set(out, o->v.kind, 0);
		return 0;
	}
	if (literal_fits(in, a, b) < 0 || literal_fits(in, b, a) < 0)
		return -1;
	struct Type x = resolved(a, b), y = resolved(b, a);
	enum value_kind ka = x.v.kind, kb = y.v.kind;
	if (ka == VAL_INT && kb == VAL_INT)
		type_set(out, VAL_INT, 0);
	else if (is_number(ka) && is_number(kb) && (ka == VAL_FLOAT || kb == VAL_FLOAT) &&
	         n->op != AR_MOD)
		type_set(out, VAL_FLOAT, OID_FLOAT8);
	else if (is_number(ka) && is_number(kb) && ka != VAL_FLOAT && kb != VAL_FLOAT)
		type_set(out, VAL_NUMERIC, OID_NUMERIC);
	else if ((n->op == AR_ADD &&
	          ((ka == VAL_DATE && kb == VAL_INT) || (ka == VAL_INT && kb == VAL_DATE))) ||
	         (n->op == AR_SUB && ka == VAL_DATE && kb == VAL_INT))
		type_set(out, VAL_DATE, OID_DATE);
	else if (n->op == AR_SUB && ka == VAL_DATE && kb == VAL_DATE)
		type_set(out, VAL_INT, OID_INT4);
	else if (n->op == AR_SUB && (ka == VAL_DATE || ka == VAL_TIMESTAMP) &&
	         (kb == VAL_DATE || kb == VAL_TIMESTAMP))
		return expr_set_err(
		    in->err, in->errlen,
		    "timestamp subtraction yields an interval, which expressions do not support");
	else
		return expr_set_err(in->err, in->errlen, "operator does not exist: %s %s %s",
		                    expr_type_label(&x.v, x.unknown), opname,
		                    expr_type_label(&y.v, y.unknown));
	return 0;
}

static int infer_func(struct Infer *in, const struct Node *n, struct Type *out)
{
	struct Type *ts = arena_alloc(in->scratch, (n->nargs ? n->nargs : 1) * sizeof(*ts));
	if (!ts)
		return expr_set_err(in->err, in->errlen, "out of memory");
	if (infer_args(in, n, ts) < 0)
		return -1;
	/* Arguments of unknown type (NULL) or untyped literals fit any of these functions. */
	bool ok = true;
	for (size_t i = 0; i < n->nargs; i++) {
		enum value_kind k = ts[i].v.kind;
		if (k == VAL_NULL || ts[i].unknown)
			continue;
		switch (n->op) {
		case F_LOWER:
		case F_UPPER:
		case F_BTRIM:
		case F_LTRIM:
		case F_RTRIM:
			ok &= k == VAL_TEXT;
			break;
		case F_LENGTH:
		case F_OCTET_LENGTH:
		case F_SHA256:
		case F_MD5:
			ok &= k == VAL_TEXT || k == VAL_BYTEA;
			break;
		case F_DATE_TRUNC:
			ok &= i == 0 ? k == VAL_TEXT : k == VAL_TIMESTAMP || k == VAL_DATE;
			break;
		case F_ABS:
			ok &= is_number(k);
			break;
		case F_ROUND:
			ok &= i == 0 ? (n->nargs == 1 ? is_number(k)
			                              : k == VAL_INT || k == VAL_NUMERIC)
			             : k == VAL_INT;
			break;
		default:
			break;
		}
	}
	if (!ok) {
		char sig[160];
		size_t used = 0;
		sig[0] = '\0';
		for (size_t i = 0; i < n->nargs && used < sizeof(sig); i++) {
			int w = snprintf(sig + used, sizeof(sig) - used, "%s%s", i ? ", " : "",
			                 expr_type_label(&ts[i].v, ts[i].unknown));
			if (w < 0)
				break;
			used += (size_t)w;
		}
		return expr_set_err(in->err, in->errlen, "function %s(%s) does not exist",
		                    expr_func_name(n->op), sig);
	}
	switch (n->op) {
	case F_LENGTH:
	case F_OCTET_LENGTH:
		type_set(out, VAL_INT, OID_INT4);
		break;
	case F_DATE_TRUNC:
		type_set(out, VAL_TIMESTAMP,
		         ts[1].v.typoid == OID_TIMESTAMP ? OID_TIMESTAMP : OID_TIMESTAMPTZ);
		break;
	case F_ABS:
		type_set(out, ts[0].v.kind == VAL_NULL || ts[0].unknown ? VAL_NULL : ts[0].v.kind,
		         0);
		break;
	case F_ROUND:
		if (n->nargs == 2 || ts[0].v.kind == VAL_NUMERIC)
			type_set(out, VAL_NUMERIC, OID_NUMERIC);
		else if (ts[0].v.kind == VAL_NULL || ts[0].unknown)
			type_set(out, VAL_NULL, 0);
		else
			type_set(out, VAL_FLOAT, OID_FLOAT8);
		break;
	default:
		type_set(out, VAL_TEXT, OID_TEXT);
		break;
	}
	return 0;
}

static int infer(struct Infer *in, const struct Node *n, struct Type *out)
{
	struct Type a, b;
	switch (n->kind) {
	case N_CONST:
		if (n->val.kind == VAL_NULL && n->val.typoid) { /* NULL::boolean has a type */
			type_set(out, value_kind_of_type(n->val.typoid), n->val.typoid);
			return 0;
		}
		type_set(out, n->val.kind, n->val.typoid);
		out->unknown = n->unknown;
		out->lit = n;
		return 0;
	case N_COLUMN: {
		uint32_t t = in->coltypes ? in->coltypes[n->col] : 0;
		type_set(out, value_kind_of_type(t), t);
		return 0;
	}
	case N_AND:
	case N_OR:
	case N_NOT:
		for (size_t i = 0; i < n->nargs; i++)
			if (infer(in, n->args[i], &a) < 0 ||
			    check_bool(in, &a,
			               n->kind == N_AND  ? "AND"
			               : n->kind == N_OR ? "OR"
			                                 : "NOT") < 0)
				return -1;
		type_set(out, VAL_BOOL, OID_BOOL);
		return 0;
	case N_CMP:
	case N_DISTINCT:
		if (infer(in, n->args[0], &a) < 0 || infer(in, n->args[1], &b) < 0 ||
		    check_compare(in, &a, &b, n->kind == N_CMP ? expr_cmp_names[n->op] : "=") < 0)
			return -1;
		type_set(out, VAL_BOOL, OID_BOOL);
		return 0;
	case N_NULLTEST:
		if (infer(in, n->args[0], &a) < 0)
			return -1;
		type_set(out, VAL_BOOL, OID_BOOL);
		return 0;
	case N_BOOLTEST:
		if (infer(in, n->args[0], &a) < 0 ||
		    check_bool(in, &a, "IS TRUE/FALSE/UNKNOWN") < 0)
			return -1;
		type_set(out, VAL_BOOL, OID_BOOL);
		return 0;
	case N_IN:
		if (infer(in, n->args[0], &a) < 0)
			return -1;
		for (size_t i = 1; i < n->nargs; i++)
			if (infer(in, n->args[i], &b) < 0 || check_compare(in, &a, &b, "=") < 0)
				return -1;
		type_set(out, VAL_BOOL, OID_BOOL);
		return 0;
	case N_CASE: {
		size_t k = n->has_arg ? 1 : 0;
		size_t npairs = (n->nargs - k - (n->has_else ? 1 : 0)) / 2;
		struct Type test, acc, t;
		type_set(&acc, VAL_NULL, 0);
		if (n->has_arg && infer(in, n->args[0], &test) < 0)
			return -1;
		for (size_t i = 0; i < npairs; i++) {
			if (infer(in, n->args[k + 2 * i], &t) < 0)
				return -1;
			if (n->has_arg ? check_compare(in, &test, &t, "=") < 0
			               : check_bool(in, &t, "CASE/WHEN") < 0)
				return -1;
			if (infer(in, n->args[k + 2 * i + 1], &t) < 0 ||
			    unify(in, &acc, &t, "CASE") < 0)
				return -1;
		}
		if (n->has_else &&
		    (infer(in, n->args[n->nargs - 1], &t) < 0 || unify(in, &acc, &t, "CASE") < 0))
			return -1;
		if (acc.unknown)
			type_set(&acc, VAL_TEXT,
			         OID_TEXT); /* all literals: text, as in PostgreSQL */
		*out = acc;
		return 0;
	}
	case N_COALESCE:
	case N_MINMAX: {
		const char *what = n->kind == N_COALESCE ? "COALESCE"
		                   : n->op               ? "GREATEST"
		                                         : "LEAST";
		type_set(out, VAL_NULL, 0);
		for (size_t i = 0; i < n->nargs; i++)
			if (infer(in, n->args[i], &a) < 0 || unify(in, out, &a, what) < 0)
				return -1;
		if (out->unknown)
			type_set(out, VAL_TEXT, OID_TEXT);
		return 0;
	}
	case N_NULLIF:
		if (infer(in, n->args[0], &a) < 0 || infer(in, n->args[1], &b) < 0 ||
		    check_compare(in, &a, &b, "=") < 0)
			return -1;
		*out = resolved(&a, &b);
		if (out->unknown)
			type_set(out, VAL_TEXT, OID_TEXT);
		return 0;
	case N_ARITH:
		if (infer(in, n->args[0], &a) < 0 || infer(in, n->args[1], &b) < 0)
			return -1;
		return infer_arith(in, n, &a, &b, out);
	case N_NEG:
		if (infer(in, n->args[0], &a) < 0)
			return -1;
		if (a.unknown) {
			type_set(out, VAL_NUMERIC, OID_NUMERIC);
			return 0;
		}
		if (a.v.kind != VAL_NULL && !is_number(a.v.kind))
			return expr_set_err(in->err, in->errlen, "operator does not exist: %s %s",
			                    n->op == 1 ? "+" : "-", expr_type_label(&a.v, false));
		type_set(out, a.v.kind, a.v.typoid);
		return 0;
	case N_CONCAT:
		if (infer(in, n->args[0], &a) < 0 || infer(in, n->args[1], &b) < 0)
			return -1;
		if (a.v.kind == VAL_BYTEA && b.v.kind == VAL_BYTEA) {
			type_set(out, VAL_BYTEA, OID_BYTEA);
			return 0;
		}
		if ((a.v.kind != VAL_TEXT && b.v.kind != VAL_TEXT && a.v.kind != VAL_NULL &&
		     b.v.kind != VAL_NULL) ||
		    a.v.kind == VAL_ARRAY || b.v.kind == VAL_ARRAY)
			return expr_set_err(
			    in->err, in->errlen, "operator does not exist: %s || %s",
			    expr_type_label(&a.v, a.unknown), expr_type_label(&b.v, b.unknown));
		type_set(out, VAL_TEXT, OID_TEXT);
		return 0;
	case N_CAST:
		if (infer(in, n->args[0], &a) < 0)
			return -1;
		if (!cast_allowed(a.v.kind, n->cast.oid))
			return expr_set_err(in->err, in->errlen, "cannot cast type %s to %s",
			                    expr_type_label(&a.v, false),
			                    value_type_name(n->cast.oid));
		type_set(out, value_kind_of_type(n->cast.oid), n->cast.oid);
		return 0;
	case N_FUNC:
		return infer_func(in, n, out);
	}
	return expr_set_err(in->err, in->errlen, "unknown expression node");
}

int expr_infer(const Expr *expr, const uint32_t *coltypes, enum value_kind *out, char *err,
               size_t errlen)
{
	struct Infer in = {
	    .coltypes = coltypes, .scratch = arena_new(), .err = err, .errlen = errlen};
	if (!in.scratch) {
		expr_set_err(err, errlen, "out of memory");
		return -1;
	}
	struct Type t;
	int rc = infer(&in, expr->root, &t);
	arena_free(in.scratch);
	if (rc < 0)
		return -1;
	*out = t.v.kind;
	return 0;
}
