/* Printing a compiled expression back as SQL, for backfill conditions. */
#include "autoconf.h"

#include "expr_internal.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL from the tree (backfill conditions) ------------------------------ */

/*
 * The tree is printed back as SQL, fully parenthesised, so that what
 * PostgreSQL runs is exactly what was compiled: no text of the user's ever
 * reaches the server except through the hooks (quoted identifiers,
 * parameters). Functions are qualified with pg_catalog so that nothing on
 * the search path can stand in for them.
 */
struct Sql {
	const struct Expr *e;
	const struct ExprSqlHooks *h;
	struct StrBuf *out;
	Arena *scratch;
	char *err;
	size_t errlen;
};

static int sql_node(struct Sql *q, const struct Node *n);

static int sql_list(struct Sql *q, const struct Node *const *args, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_puts(q->out, sep);
		if (sql_node(q, args[i]) < 0)
			return -1;
	}
	return 0;
}

static int sql_const(struct Sql *q, const struct Node *n)
{
	const struct Value *v = &n->val;
	const char *text;
	size_t len;

	if (v->kind == VAL_NULL) {
		sb_puts(q->out, "NULL");
		return 0;
	}
	if (value_to_text(v, q->scratch, &text, &len) < 0) {
		expr_set_err(q->err, q->errlen, "out of memory");
		return -1;
	}
	/* An untyped literal stays untyped: PostgreSQL gives it the type of what it meets. */
	const char *type = NULL;
	if (!n->unknown) {
		uint32_t oid = v->typoid ? v->typoid
		               : v->kind == VAL_INT     ? OID_INT8
		               : v->kind == VAL_NUMERIC ? OID_NUMERIC
		               : v->kind == VAL_BOOL    ? OID_BOOL
		               : v->kind == VAL_FLOAT   ? OID_FLOAT8
		                                        : OID_TEXT;
		/* Written "character", bpchar means character(1): the value would be cut. */
		type = oid == OID_BPCHAR ? "bpchar" : value_type_name(oid);
	}
	if (!n->unknown && (!type || v->kind == VAL_ARRAY)) {
		expr_set_err(q->err, q->errlen,
		             "a constant of this type cannot be sent as a parameter");
		return -1;
	}
	q->h->constant(q->h->ctx, q->out, text, len, type);
	return 0;
}

static int sql_node(struct Sql *q, const struct Node *n)
{
	static const char *const booltest_sql[] = {"TRUE",  "NOT TRUE",  "FALSE",
	                                           "NOT FALSE", "UNKNOWN", "NOT UNKNOWN"};
	struct StrBuf *out = q->out;
	int rc = 0;

	switch (n->kind) {
	case N_CONST:
		return sql_const(q, n);
	case N_COLUMN:
		q->h->column(q->h->ctx, out, q->e->cols[n->col].name);
		return 0;
	case N_AND:
	case N_OR:
		sb_putc(out, '(');
		rc = sql_list(q, (const struct Node *const *)n->args, n->nargs,
		              n->kind == N_AND ? " AND " : " OR ");
		sb_putc(out, ')');
		return rc;
	case N_NOT:
		sb_puts(out, "(NOT ");
		rc = sql_node(q, n->args[0]);
		sb_putc(out, ')');
		return rc;
	case N_CMP:
	case N_ARITH:
	case N_CONCAT:
	case N_DISTINCT:
		sb_putc(out, '(');
		if (sql_node(q, n->args[0]) < 0)
			return -1;
		sb_printf(out, " %s ",
		          n->kind == N_CMP      ? expr_cmp_names[n->op]
		          : n->kind == N_ARITH  ? expr_arith_names[n->op]
		          : n->kind == N_CONCAT ? "||"
		          : n->op               ? "IS NOT DISTINCT FROM"
		                                : "IS DISTINCT FROM");
		rc = sql_node(q, n->args[1]);
		sb_putc(out, ')');
		return rc;
	case N_NULLTEST:
	case N_BOOLTEST:
		sb_putc(out, '(');
		if (sql_node(q, n->args[0]) < 0)
			return -1;
		sb_printf(out, " IS %s)",
		          n->kind == N_NULLTEST ? (n->op ? "NOT NULL" : "NULL")
		                                : booltest_sql[n->op]);
		return 0;
	case N_IN:
		sb_putc(out, '(');
		if (sql_node(q, n->args[0]) < 0)
			return -1;
		sb_puts(out, n->op ? " NOT IN (" : " IN (");
		rc = sql_list(q, (const struct Node *const *)n->args + 1, n->nargs - 1, ", ");
		sb_puts(out, "))");
		return rc;
	case N_NEG:
		sb_puts(out, n->op ? "(+ " : "(- ");
		rc = sql_node(q, n->args[0]);
		sb_putc(out, ')');
		return rc;
	case N_CASE: {
		size_t k = 0;
		sb_puts(out, "CASE");
		if (n->has_arg) {
			sb_putc(out, ' ');
			if (sql_node(q, n->args[k++]) < 0)
				return -1;
		}
		size_t whens = (n->nargs - n->has_arg - n->has_else) / 2;
		for (size_t i = 0; i < whens; i++) {
			sb_puts(out, " WHEN ");
			if (sql_node(q, n->args[k++]) < 0)
				return -1;
			sb_puts(out, " THEN ");
			if (sql_node(q, n->args[k++]) < 0)
				return -1;
		}
		if (n->has_else) {
			sb_puts(out, " ELSE ");
			if (sql_node(q, n->args[k]) < 0)
				return -1;
		}
		sb_puts(out, " END");
		return 0;
	}
	case N_COALESCE:
	case N_NULLIF:
	case N_MINMAX:
	case N_FUNC:
		if (n->kind == N_FUNC) {
			const char *name = expr_func_name(n->op);
			if (!name) {
				expr_set_err(q->err, q->errlen, "unknown function");
				return -1;
			}
			sb_printf(out, "pg_catalog.%s(", name);
		} else {
			sb_puts(out, n->kind == N_COALESCE ? "COALESCE("
			             : n->kind == N_NULLIF ? "NULLIF("
			             : n->op               ? "GREATEST("
			                                   : "LEAST(");
		}
		rc = sql_list(q, (const struct Node *const *)n->args, n->nargs, ", ");
		sb_putc(out, ')');
		return rc;
	case N_CAST:
		/* Conditions refuse casts of anything but constants, which compile to constants. */
		break;
	}
	expr_set_err(q->err, q->errlen, "this kind of expression cannot be sent as SQL");
	return -1;
}

int expr_sql(const Expr *expr, const struct ExprSqlHooks *hooks, struct StrBuf *out, char *err,
             size_t errlen)
{
	struct Sql q = {.e = expr, .h = hooks, .out = out, .scratch = arena_new(), .err = err,
	                .errlen = errlen};
	if (!q.scratch) {
		expr_set_err(err, errlen, "out of memory");
		return -1;
	}
	int rc = sql_node(&q, expr->root);
	arena_free(q.scratch);
	if (rc == 0 && !sb_ok(out)) {
		expr_set_err(err, errlen, "out of memory");
		rc = -1;
	}
	return rc;
}
