/*
 * Expressions inside: the compiled tree and what the expression modules
 * share. expr_compile.c builds the tree from libpg_query's parse tree,
 * expr_eval.c walks it per row, expr_ops.c holds the operators on values
 * (comparison, casts, arithmetic), expr_func.c the function library,
 * expr_infer.c the static typing for `tablecast check`, expr_sql.c prints
 * the tree back as SQL. Not for use outside them: expr.h is the interface.
 *
 * Calls go one way only: compile, eval, infer and sql use func and ops;
 * func uses ops; ops uses value.c and numeric.c. The function library gets
 * evaluated arguments, so it never calls back into the tree walk.
 */
#ifndef TABLECAST_SRC_EXPR_INTERNAL_H
#define TABLECAST_SRC_EXPR_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "expr.h"
#include "numeric.h"
#include "value.h"

/* ---- the compiled tree --------------------------------------------------- */

enum node_kind {
	N_CONST,
	N_COLUMN,
	N_AND,
	N_OR,
	N_NOT,
	N_CMP,      /* op: enum cmp_op */
	N_DISTINCT, /* op: 1 for IS NOT DISTINCT FROM */
	N_NULLTEST, /* op: 1 for IS NOT NULL */
	N_BOOLTEST, /* op: enum bool_test */
	N_IN,       /* op: 1 for NOT IN; args[0] IN (args[1..]) */
	N_CASE,     /* [test value if has_arg] (when, then)... [else if has_else] */
	N_COALESCE,
	N_NULLIF,
	N_MINMAX, /* op: 1 for GREATEST, 0 for LEAST */
	N_ARITH,  /* op: enum arith_op */
	N_NEG,
	N_CONCAT,
	N_CAST, /* cast */
	N_FUNC, /* op: enum func_id */
};

enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum arith_op { AR_ADD, AR_SUB, AR_MUL, AR_DIV, AR_MOD };
enum bool_test { BT_TRUE, BT_NOT_TRUE, BT_FALSE, BT_NOT_FALSE, BT_UNKNOWN, BT_NOT_UNKNOWN };

enum func_id {
	F_LOWER,
	F_UPPER,
	F_BTRIM,
	F_LTRIM,
	F_RTRIM,
	F_LENGTH,
	F_OCTET_LENGTH,
	F_DATE_TRUNC,
	F_SHA256,
	F_MD5,
	F_CONCAT,
	F_ABS,
	F_ROUND,
};

/* A cast target: the type and its modifiers (-1 when absent). */
struct TypeSpec {
	uint32_t oid;
	int32_t mod1; /* numeric precision, varchar/bpchar length, timestamp precision */
	int32_t mod2; /* numeric scale */
};

struct Node {
	enum node_kind kind;
	int op;
	int pos;          /* 1-based character position in the expression text, 0 when unknown */
	bool unknown;     /* N_CONST: a string literal whose type comes from what it meets */
	bool has_arg;     /* N_CASE: simple CASE */
	bool has_else;    /* N_CASE */
	size_t col;       /* N_COLUMN: index into expr_columns() */
	struct Value val; /* N_CONST; strings live in the expression's arena */
	struct TypeSpec cast; /* N_CAST */
	struct Node **args;
	size_t nargs;
};

struct Expr {
	Arena *arena; /* nodes, names and constants: everything parse time builds */
	struct Node *root;
	struct ExprColumn *cols; /* malloc'd, grows as columns are found */
	size_t ncols;
	size_t capcols;
};


/* Evaluation state: the row, where memory comes from, where a failure is described. */
struct Eval {
	const struct Expr *expr; /* for column names in messages; NULL while compiling */
	const struct ExprRow *row;
	Arena *arena;
	char *err;
	size_t errlen;
};

/* ---- small helpers ------------------------------------------------------- */

/* Bytes in the UTF-8 character starting with c; 1 for stray continuation bytes, so loops advance.
 */
static inline size_t utf8_len(unsigned char c)
{
	if (c >= 0xF0 && c < 0xF8)
		return 4;
	if (c >= 0xE0)
		return c < 0xF0 ? 3 : 1;
	if (c >= 0xC0)
		return 2;
	return 1;
}

static inline size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; n++) {
		size_t k = utf8_len((unsigned char)s[i]);
		i += k <= len - i ? k : len - i;
	}
	return n;
}

/* Byte length of the first nchars characters of s. */
static inline size_t utf8_prefix(const char *s, size_t len, size_t nchars)
{
	size_t i = 0;
	while (i < len && nchars > 0) {
		size_t k = utf8_len((unsigned char)s[i]);
		i += k <= len - i ? k : len - i;
		nchars--;
	}
	return i;
}

/*
 * libm's rint without libm (the binary does not link it): round half to
 * even, as PostgreSQL's float-to-integer casts and round(float8) do.
 */
static inline double round_even(double x)
{
	if (!(fabs(x) < 4503599627370496.0)) /* 2^52: already integral, or NaN/inf */
		return x;
	double t = (double)(int64_t)x; /* truncated toward zero */
	double frac = x - t;
	if (frac > 0.5 || (frac == 0.5 && ((int64_t)t & 1)))
		t += 1;
	else if (frac < -0.5 || (frac == -0.5 && ((int64_t)t & 1)))
		t -= 1;
	return t;
}


static inline bool is_unknown(const struct Node *n)
{
	return n && n->kind == N_CONST && n->unknown;
}

static inline bool is_number(enum value_kind k)
{
	return k == VAL_INT || k == VAL_NUMERIC || k == VAL_FLOAT;
}

/* Text as it takes part in comparisons and casts to text: char(n) padding does not count. */
static inline void text_of(const struct Value *v, const char **p, size_t *len)
{
	*p = v->s.p;
	*len = v->s.len;
	if (v->typoid == OID_BPCHAR)
		while (*len > 0 && (*p)[*len - 1] == ' ')
			(*len)--;
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

#define USECS_PER_DAY INT64_C(86400000000)

/* A date as a timestamp (midnight UTC); false when it does not fit. */
static inline bool date_to_ts(int32_t date, int64_t *ts)
{
	if (date == VAL_DATE_INFINITY) {
		*ts = VAL_TS_INFINITY;
		return true;
	}
	if (date == VAL_DATE_NEG_INFINITY) {
		*ts = VAL_TS_NEG_INFINITY;
		return true;
	}
	/* PostgreSQL's timestamps end in 294276 AD; int64 µs hold a little more. */
	if (date > INT64_MAX / USECS_PER_DAY - 1 || date < INT64_MIN / USECS_PER_DAY + 1) {
		*ts = date > 0 ? VAL_TS_INFINITY - 1 : VAL_TS_NEG_INFINITY + 1;
		return false;
	}
	*ts = (int64_t)date * USECS_PER_DAY;
	return true;
}


/* ---- operators on values (expr_ops.c) ------------------------------------ */

/* Operator spellings by enum cmp_op and enum arith_op, for messages and SQL. */
extern const char *const expr_cmp_names[];
extern const char *const expr_arith_names[];

/* Format into err (when err and errlen allow); returns -1. */
int expr_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Describe an evaluation failure in ev's err; returns -1. */
int expr_fail(struct Eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Memory from ev's arena (at least one byte); NULL with "out of memory" in err. */
void *expr_alloc(struct Eval *ev, size_t size);
/* A value's PostgreSQL type name for messages ("operator does not exist: text + integer"). */
const char *expr_type_label(const struct Value *v, bool unknown);
/* The type an untyped literal becomes when it meets v (PostgreSQL's unknown-type resolution). */
uint32_t expr_type_for_literal(const struct Value *v);
/* Read a string literal on either side as the other side's type. */
int expr_coerce_pair(struct Eval *ev, const struct Node *na, struct Value *a, const struct Node *nb,
                     struct Value *b);
/* Text for a cast to text or for ||: booleans are "true"/"false" there. */
int expr_cast_text(struct Eval *ev, const struct Value *v, const char **p, size_t *len);
/* A number as float8. */
int expr_to_double(struct Eval *ev, const struct Value *v, double *out);
/* Order two non-NULL values: *res < 0, 0, > 0; op names the operator in messages. */
int expr_compare(struct Eval *ev, const struct Value *a, const struct Value *b, const char *op,
                 int *res);
/* Cast in to the type ts (explicit cast semantics). */
int expr_cast(struct Eval *ev, const struct TypeSpec *ts, const struct Value *in,
              struct Value *out);
/* a op b (enum arith_op); ua, ub: the operand is an untyped literal. */
int expr_arith(struct Eval *ev, int op, const struct Value *a, bool ua, const struct Value *b,
               bool ub, struct Value *out);
/* -v, or +v when unary_plus. */
int expr_negate(struct Eval *ev, const struct Value *v, bool unary_plus, struct Value *out);
/* a || b. */
int expr_concat(struct Eval *ev, const struct Value *a, bool ua, const struct Value *b, bool ub,
                struct Value *out);
/* Bytes as lowercase hex text. */
int expr_hex_value(struct Eval *ev, const unsigned char *bytes, size_t n, struct Value *out);

/* Read a number (int or numeric) as an exact decimal. */
int expr_num_of_value(struct Eval *ev, const struct Value *v, struct NumDec *d);
/* An exact decimal as a numeric value, its text in ev's arena. */
int expr_num_to_value(struct Eval *ev, const struct NumDec *d, struct Value *out);

/* ---- the function library (expr_func.c) ----------------------------------- */

/* A function as SQL names it, with the number of arguments it takes. */
struct ExprFuncDef {
	const char *name;
	enum func_id id;
	size_t minargs, maxargs;
};

/* The function called name (lowercase, aliases included), or NULL. */
const struct ExprFuncDef *expr_func_lookup(const char *name);
/* The SQL name of function id, or NULL. */
const char *expr_func_name(int id);
/* Call function n->op on the evaluated arguments argv[0..n->nargs). */
int expr_func_call(struct Eval *ev, const struct Node *n, const struct Value *argv,
                   struct Value *out);

#endif
