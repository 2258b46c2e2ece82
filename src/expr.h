/* Expressions: SQL over old.<col> and new.<col>, parsed by PostgreSQL's grammar, evaluated per row. */
#ifndef TABLECAST_SRC_EXPR_H
#define TABLECAST_SRC_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "value.h"

typedef struct Expr Expr;

/* A column an expression reads: old.<name> or new.<name>. */
struct ExprColumn {
	bool old; /* old.<name>, else new.<name> */
	const char *name;
};

/* Where a parse failed: the message and the 1-based character position in the expression text (0 when unknown). */
struct ExprError {
	char message[256];
	int position;
};

/*
 * Parse text (one SQL expression, e.g. "new.status = 'shipped' AND
 * old.status IS DISTINCT FROM new.status") with libpg_query and compile it.
 * Anything outside the supported set is an error with its position.
 * Call from the main thread only (libpg_query keeps per-thread state).
 * Returns NULL on error.
 */
Expr *expr_parse(const char *text, struct ExprError *err) __attribute__((warn_unused_result));
void expr_free(Expr *expr);

/*
 * Parse a backfill condition: the same grammar, over the plain column names
 * of one table ("status = 'open' AND id > 100"; expr_columns() gives them
 * with old = false), and with casts of constants only (PostgreSQL's cast
 * errors print the value). Returns NULL on error.
 */
Expr *expr_parse_condition(const char *text, struct ExprError *err)
	__attribute__((warn_unused_result));

struct StrBuf;

/* How expr_sql writes what comes from the user. */
struct ExprSqlHooks {
	/* Append a column reference (a quoted identifier). */
	void (*column)(void *ctx, struct StrBuf *out, const char *name);
	/*
	 * Append a constant: text is its PostgreSQL text form, type its SQL
	 * type name ("bigint", "date"), or NULL for an untyped string literal.
	 */
	void (*constant)(void *ctx, struct StrBuf *out, const char *text, size_t len,
			 const char *type);
	void *ctx;
};

/*
 * Append the compiled expression to out as one parenthesised SQL
 * expression generated from the tree: operators and pg_catalog functions
 * by name, columns and constants only through hooks. Returns 0, or -1 with
 * err.
 */
int expr_sql(const Expr *expr, const struct ExprSqlHooks *hooks, struct StrBuf *out, char *err,
	     size_t errlen) __attribute__((warn_unused_result));

/*
 * The distinct columns the expression reads, in first-use order; index i is
 * what the evaluator asks the row for. Valid as long as expr.
 */
size_t expr_columns(const Expr *expr, const struct ExprColumn **cols);

/* The row an expression is evaluated against: cols[i] is the value of expr_columns()[i]. */
struct ExprRow {
	const struct Value *cols;
	size_t ncols;
};

/*
 * Evaluate with SQL semantics (three-valued logic, NULL propagation, exact
 * numeric, errors on overflow and bad casts). Temporary and result memory
 * comes from arena. Returns 0, or -1 with a one-line reason in err (a
 * translation error: the row cannot become this event).
 */
int expr_eval(const Expr *expr, const struct ExprRow *row, Arena *arena, struct Value *out,
	      char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The kind of value the expression yields when its columns have the given
 * PostgreSQL types (coltypes[i] for expr_columns()[i]); VAL_NULL when it can
 * only be known at run time. Used by `tablecast check`. On a type error
 * returns -1 with the reason.
 */
int expr_infer(const Expr *expr, const uint32_t *coltypes, enum value_kind *out, char *err,
	       size_t errlen) __attribute__((warn_unused_result));

#endif
