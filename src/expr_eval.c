/* Evaluating a compiled expression against one row: the tree walk, logic and NULLs. */
#include "autoconf.h"

#include "expr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value in a boolean context: -1 NULL, 0 false, 1 true; a literal 't' reads as boolean. */
static int to_bool(struct Eval *ev, const struct Node *n, const struct Value *v, const char *what,
                   int *tri)
{
	if (v->kind == VAL_NULL) {
		*tri = -1;
		return 0;
	}
	if (v->kind == VAL_BOOL) {
		*tri = v->b;
		return 0;
	}
	if (is_unknown(n) && v->kind == VAL_TEXT) {
		struct Value b;
		if (value_parse(v->s.p, v->s.len, OID_BOOL, ev->arena, &b, ev->err, ev->errlen) < 0)
			return -1;
		*tri = b.b;
		return 0;
	}
	return expr_fail(ev, "argument of %s must be type boolean, not type %s", what,
	                 expr_type_label(v, false));
}

static void set_bool(struct Value *out, bool b)
{
	*out = (struct Value){.kind = VAL_BOOL, .typoid = OID_BOOL, .b = b};
}

static void set_null(struct Value *out)
{
	*out = (struct Value){.kind = VAL_NULL};
}

static int eval(struct Eval *ev, const struct Node *n, struct Value *out);

/* Evaluate two arguments, give NULL when either is, else read literals as the other side's type. */
static int eval_pair(struct Eval *ev, const struct Node *n, struct Value *a, struct Value *b,
                     bool *null)
{
	if (eval(ev, n->args[0], a) < 0 || eval(ev, n->args[1], b) < 0)
		return -1;
	*null = a->kind == VAL_NULL || b->kind == VAL_NULL;
	return *null ? 0 : expr_coerce_pair(ev, n->args[0], a, n->args[1], b);
}

/* Are a and b equal (both non-NULL)? Literals are read as the other side's type first. */
static int equal(struct Eval *ev, const struct Node *na, struct Value a, const struct Node *nb,
                 struct Value b, bool *eq)
{
	int c;
	if (expr_coerce_pair(ev, na, &a, nb, &b) < 0 || expr_compare(ev, &a, &b, "=", &c) < 0)
		return -1;
	*eq = c == 0;
	return 0;
}

static int eval_logic(struct Eval *ev, const struct Node *n, struct Value *out)
{
	bool is_and = n->kind == N_AND;
	bool saw_null = false;
	for (size_t i = 0; i < n->nargs; i++) {
		struct Value v;
		int tri;
		if (eval(ev, n->args[i], &v) < 0 ||
		    to_bool(ev, n->args[i], &v, is_and ? "AND" : "OR", &tri) < 0)
			return -1;
		if (tri < 0)
			saw_null = true;
		else if (tri == !is_and) { /* false decides AND, true decides OR */
			set_bool(out, tri);
			return 0;
		}
	}
	if (saw_null)
		set_null(out);
	else
		set_bool(out, is_and);
	return 0;
}

static int eval_in(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value x;
	if (eval(ev, n->args[0], &x) < 0)
		return -1;
	if (x.kind == VAL_NULL) {
		set_null(out);
		return 0;
	}
	bool saw_null = false;
	for (size_t i = 1; i < n->nargs; i++) {
		struct Value v;
		bool eq;
		if (eval(ev, n->args[i], &v) < 0)
			return -1;
		if (v.kind == VAL_NULL) {
			saw_null = true;
			continue;
		}
		if (equal(ev, n->args[0], x, n->args[i], v, &eq) < 0)
			return -1;
		if (eq) {
			set_bool(out, !n->op);
			return 0;
		}
	}
	/* No match: NULL if any element was NULL (x = NULL is unknown), else a definite answer. */
	if (saw_null)
		set_null(out);
	else
		set_bool(out, n->op);
	return 0;
}

static int eval_case(struct Eval *ev, const struct Node *n, struct Value *out)
{
	size_t k = n->has_arg ? 1 : 0;
	size_t npairs = (n->nargs - k - (n->has_else ? 1 : 0)) / 2;
	struct Value test = {.kind = VAL_NULL};
	if (n->has_arg && eval(ev, n->args[0], &test) < 0)
		return -1;
	for (size_t i = 0; i < npairs; i++) {
		const struct Node *when = n->args[k + 2 * i];
		struct Value w;
		bool match = false;
		if (eval(ev, when, &w) < 0)
			return -1;
		if (n->has_arg) {
			if (test.kind != VAL_NULL && w.kind != VAL_NULL &&
			    equal(ev, n->args[0], test, when, w, &match) < 0)
				return -1;
		} else {
			int tri;
			if (to_bool(ev, when, &w, "CASE/WHEN", &tri) < 0)
				return -1;
			match = tri == 1;
		}
		if (match)
			return eval(ev, n->args[k + 2 * i + 1], out);
	}
	if (n->has_else)
		return eval(ev, n->args[n->nargs - 1], out);
	set_null(out);
	return 0;
}

static int eval_minmax(struct Eval *ev, const struct Node *n, struct Value *out)
{
	/* GREATEST and LEAST ignore NULLs; NULL only when every argument is. */
	const struct Node *best_node = NULL;
	struct Value best = {.kind = VAL_NULL};
	for (size_t i = 0; i < n->nargs; i++) {
		struct Value v;
		if (eval(ev, n->args[i], &v) < 0)
			return -1;
		if (v.kind == VAL_NULL)
			continue;
		if (!best_node) {
			best = v;
			best_node = n->args[i];
			continue;
		}
		int c;
		struct Value b = best;
		if (expr_coerce_pair(ev, best_node, &b, n->args[i], &v) < 0 ||
		    expr_compare(ev, &b, &v, n->op ? ">" : "<", &c) < 0)
			return -1;
		best = b;
		if (n->op ? c < 0 : c > 0) {
			best = v;
			best_node = n->args[i];
		} else if (is_unknown(best_node) && !is_unknown(n->args[i])) {
			best_node = n->args[i]; /* best is typed now */
		}
	}
	*out = best;
	return 0;
}

/* Arguments are evaluated here, so that the function library only sees values. */
static int eval_func(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value *argv = expr_alloc(ev, n->nargs * sizeof(*argv));
	if (!argv)
		return -1;
	for (size_t i = 0; i < n->nargs; i++)
		if (eval(ev, n->args[i], &argv[i]) < 0)
			return -1;
	return expr_func_call(ev, n, argv, out);
}

static int eval_column(struct Eval *ev, const struct Node *n, struct Value *out)
{
	if (!ev->row || n->col >= ev->row->ncols || !ev->row->cols) {
		const struct ExprColumn *col =
		    ev->expr && n->col < ev->expr->ncols ? &ev->expr->cols[n->col] : NULL;
		return expr_fail(ev, "row has no value for column %s.%s",
		                 col && col->old ? "old" : "new", col ? col->name : "?");
	}
	*out = ev->row->cols[n->col];
	return 0;
}

static int eval_not(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a;
	int tri;
	if (eval(ev, n->args[0], &a) < 0 || to_bool(ev, n->args[0], &a, "NOT", &tri) < 0)
		return -1;
	if (tri < 0)
		set_null(out);
	else
		set_bool(out, !tri);
	return 0;
}

/* Does the comparison op hold when the operands order as c (< 0, 0, > 0)? */
static bool cmp_holds(int op, int c)
{
	switch (op) {
	case CMP_EQ:
		return c == 0;
	case CMP_NE:
		return c != 0;
	case CMP_LT:
		return c < 0;
	case CMP_LE:
		return c <= 0;
	case CMP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

static int eval_cmp(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	bool null;
	int c;
	if (eval_pair(ev, n, &a, &b, &null) < 0)
		return -1;
	if (null) {
		set_null(out);
		return 0;
	}
	if (expr_compare(ev, &a, &b, expr_cmp_names[n->op], &c) < 0)
		return -1;
	set_bool(out, cmp_holds(n->op, c));
	return 0;
}

static int eval_distinct(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	if (eval(ev, n->args[0], &a) < 0 || eval(ev, n->args[1], &b) < 0)
		return -1;
	bool distinct;
	if (a.kind == VAL_NULL || b.kind == VAL_NULL) {
		distinct = a.kind != b.kind;
	} else {
		bool eq;
		if (equal(ev, n->args[0], a, n->args[1], b, &eq) < 0)
			return -1;
		distinct = !eq;
	}
	set_bool(out, n->op ? !distinct : distinct);
	return 0;
}

static int eval_booltest(struct Eval *ev, const struct Node *n, struct Value *out)
{
	static const char *const names[] = {"IS TRUE",    "IS NOT TRUE",
	                                    "IS FALSE",   "IS NOT FALSE",
	                                    "IS UNKNOWN", "IS NOT UNKNOWN"};
	struct Value a;
	int tri;
	if (eval(ev, n->args[0], &a) < 0 || to_bool(ev, n->args[0], &a, names[n->op], &tri) < 0)
		return -1;
	switch (n->op) {
	case BT_TRUE:
		set_bool(out, tri == 1);
		break;
	case BT_NOT_TRUE:
		set_bool(out, tri != 1);
		break;
	case BT_FALSE:
		set_bool(out, tri == 0);
		break;
	case BT_NOT_FALSE:
		set_bool(out, tri != 0);
		break;
	case BT_UNKNOWN:
		set_bool(out, tri < 0);
		break;
	default:
		set_bool(out, tri >= 0);
		break;
	}
	return 0;
}

static int eval_coalesce(struct Eval *ev, const struct Node *n, struct Value *out)
{
	for (size_t i = 0; i < n->nargs; i++) {
		if (eval(ev, n->args[i], out) < 0)
			return -1;
		if (out->kind != VAL_NULL)
			return 0;
	}
	return 0;
}

static int eval_nullif(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	int c;
	if (eval(ev, n->args[0], &a) < 0 || eval(ev, n->args[1], &b) < 0)
		return -1;
	if (a.kind == VAL_NULL || b.kind == VAL_NULL) {
		*out = a;
		return 0;
	}
	if (expr_coerce_pair(ev, n->args[0], &a, n->args[1], &b) < 0 ||
	    expr_compare(ev, &a, &b, "=", &c) < 0)
		return -1;
	if (c == 0)
		set_null(out);
	else
		*out = a;
	return 0;
}

static int eval_arith(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	bool null;
	if (eval_pair(ev, n, &a, &b, &null) < 0)
		return -1;
	if (null) {
		set_null(out);
		return 0;
	}
	return expr_arith(ev, n->op, &a, is_unknown(n->args[0]), &b, is_unknown(n->args[1]), out);
}

static int eval_neg(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a;
	if (eval(ev, n->args[0], &a) < 0)
		return -1;
	if (a.kind == VAL_NULL) {
		set_null(out);
		return 0;
	}
	if (is_unknown(n->args[0]) &&
	    value_parse(a.s.p, a.s.len, OID_NUMERIC, ev->arena, &a, ev->err, ev->errlen) < 0)
		return -1;
	return expr_negate(ev, &a, n->op == 1, out);
}

static int eval_concat(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	if (eval(ev, n->args[0], &a) < 0 || eval(ev, n->args[1], &b) < 0)
		return -1;
	if (a.kind == VAL_NULL || b.kind == VAL_NULL) {
		set_null(out);
		return 0;
	}
	return expr_concat(ev, &a, is_unknown(n->args[0]), &b, is_unknown(n->args[1]), out);
}

static int eval_cast(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a;
	if (eval(ev, n->args[0], &a) < 0)
		return -1;
	return expr_cast(ev, &n->cast, &a, out);
}

/* One function per node kind; constants, the leaves most often met, are answered here. */
static int eval_inner(struct Eval *ev, const struct Node *n, struct Value *out)
{
	switch (n->kind) {
	case N_CONST:
		*out = n->val;
		return 0;
	case N_COLUMN:
		return eval_column(ev, n, out);
	case N_AND:
	case N_OR:
		return eval_logic(ev, n, out);
	case N_NOT:
		return eval_not(ev, n, out);
	case N_CMP:
		return eval_cmp(ev, n, out);
	case N_DISTINCT:
		return eval_distinct(ev, n, out);
	case N_NULLTEST: {
		struct Value a;
		if (eval(ev, n->args[0], &a) < 0)
			return -1;
		set_bool(out, (a.kind == VAL_NULL) != n->op);
		return 0;
	}
	case N_BOOLTEST:
		return eval_booltest(ev, n, out);
	case N_IN:
		return eval_in(ev, n, out);
	case N_CASE:
		return eval_case(ev, n, out);
	case N_COALESCE:
		return eval_coalesce(ev, n, out);
	case N_NULLIF:
		return eval_nullif(ev, n, out);
	case N_MINMAX:
		return eval_minmax(ev, n, out);
	case N_ARITH:
		return eval_arith(ev, n, out);
	case N_NEG:
		return eval_neg(ev, n, out);
	case N_CONCAT:
		return eval_concat(ev, n, out);
	case N_CAST:
		return eval_cast(ev, n, out);
	case N_FUNC:
		return eval_func(ev, n, out);
	}
	return expr_fail(ev, "unknown expression node");
}

static int eval(struct Eval *ev, const struct Node *n, struct Value *out)
{
	return eval_inner(ev, n, out);
}

int expr_eval(const Expr *expr, const struct ExprRow *row, Arena *arena, struct Value *out,
              char *err, size_t errlen)
{
	struct Eval ev = {.expr = expr, .row = row, .arena = arena, .err = err, .errlen = errlen};
	return eval(&ev, expr->root, out);
}
