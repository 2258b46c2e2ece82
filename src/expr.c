/* Expressions: compile SQL over old.<col>/new.<col> with libpg_query, then evaluate it per row. */
#include "autoconf.h"

#include "expr.h"
#include "strbuf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

/*
 * The parser sees "SELECT " + text, so node locations (0-based byte
 * offsets) and error cursors (1-based characters) are shifted by this much.
 */
#define PREFIX "SELECT "
#define PREFIX_LEN 7

/* Deeper trees are refused at parse time so that evaluation cannot exhaust the stack. */
#define MAX_DEPTH 256

/*
 * Bounds checked on the tokens before the text is parsed (see
 * check_tokens): the parse tree cannot be deeper than the number of
 * tokens that can open a level, so bounding those bounds the recursion in
 * libpg_query's tree-to-protobuf conversion and protobuf-c's unpacking,
 * which run before compile() can count levels.
 */
#define MAX_TEXT_BYTES (64 * 1024)
#define MAX_STRUCTURE_TOKENS 1000

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

/* ---- small helpers ------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char lower_ascii(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes in the UTF-8 character starting with c; 1 for stray continuation bytes, so loops advance.
 */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xF0 && c < 0xF8)
		return 4;
	if (c >= 0xE0)
		return c < 0xF0 ? 3 : 1;
	if (c >= 0xC0)
		return 2;
	return 1;
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; n++) {
		size_t k = utf8_len((unsigned char)s[i]);
		i += k <= len - i ? k : len - i;
	}
	return n;
}

/* Byte length of the first nchars characters of s. */
static size_t utf8_prefix(const char *s, size_t len, size_t nchars)
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
static double round_even(double x)
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

/* ---- parse errors -------------------------------------------------------- */

struct Compiler {
	Expr *e;
	const char *text; /* the user's expression, without the prefix */
	size_t textlen;
	struct ExprError *err;
	int depth;
	bool condition; /* a backfill condition: bare column names, no casts of columns */
};

/* A node location (0-based byte offset in PREFIX + text) as a 1-based character position. */
static int position_of(const struct Compiler *c, int32_t location)
{
	if (location < PREFIX_LEN)
		return location < 0 ? 0 : 1;
	size_t off = (size_t)location - PREFIX_LEN;
	if (off > c->textlen)
		off = c->textlen;
	return (int)utf8_chars(c->text, off) + 1;
}

static void *cfail(struct Compiler *c, int32_t location, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *cfail(struct Compiler *c, int32_t location, const char *fmt, ...)
{
	if (c->err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
		va_end(ap);
		c->err->position = position_of(c, location);
	}
	return NULL;
}

/* The location of the node kinds a user can write, -1 for the rest. */
static int32_t node_location(const PgQuery__Node *n)
{
	if (!n)
		return -1;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_A_CONST:
		return n->a_const->location;
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		return n->column_ref->location;
	case PG_QUERY__NODE__NODE_A_EXPR:
		return n->a_expr->location;
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
		return n->bool_expr->location;
	case PG_QUERY__NODE__NODE_NULL_TEST:
		return n->null_test->location;
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
		return n->boolean_test->location;
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		return n->case_expr->location;
	case PG_QUERY__NODE__NODE_CASE_WHEN:
		return n->case_when->location;
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		return n->coalesce_expr->location;
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
		return n->min_max_expr->location;
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		return n->func_call->location;
	case PG_QUERY__NODE__NODE_PARAM_REF:
		return n->param_ref->location;
	case PG_QUERY__NODE__NODE_SUB_LINK:
		return n->sub_link->location;
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		return n->sqlvalue_function->location;
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
		return n->collate_clause->location;
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		return n->a_array_expr->location;
	case PG_QUERY__NODE__NODE_ROW_EXPR:
		return n->row_expr->location;
	case PG_QUERY__NODE__NODE_RANGE_VAR:
		return n->range_var->location;
	case PG_QUERY__NODE__NODE_RES_TARGET:
		return n->res_target->location;
	case PG_QUERY__NODE__NODE_SORT_BY:
		return n->sort_by->location;
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		if (n->type_cast->location >= 0)
			return n->type_cast->location;
		return n->type_cast->type_name ? n->type_cast->type_name->location : -1;
	case PG_QUERY__NODE__NODE_A_INDIRECTION:
		return node_location(n->a_indirection->arg);
	default:
		return -1;
	}
}

/* ---- compiling the parse tree -------------------------------------------- */

static struct Node *new_node(struct Compiler *c, enum node_kind kind, int32_t location,
                             size_t nargs)
{
	struct Node *n = arena_alloc(c->e->arena, sizeof(*n));
	if (!n)
		return cfail(c, -1, "out of memory");
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->pos = position_of(c, location);
	n->cast.mod1 = n->cast.mod2 = -1;
	if (nargs > 0) {
		n->args = arena_alloc(c->e->arena, nargs * sizeof(*n->args));
		if (!n->args)
			return cfail(c, -1, "out of memory");
		memset(n->args, 0, nargs * sizeof(*n->args));
	}
	n->nargs = nargs;
	return n;
}

static char *copy_str(struct Compiler *c, const char *s, size_t len)
{
	char *p = arena_alloc(c->e->arena, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* The string of a String node, or NULL. */
static const char *string_of(const PgQuery__Node *n)
{
	if (!n || n->node_case != PG_QUERY__NODE__NODE_STRING || !n->string || !n->string->sval)
		return NULL;
	return n->string->sval;
}

/* A qualified name (function, operator, type): "x" or "pg_catalog.x"; NULL for anything else. */
static const char *name_of(PgQuery__Node **names, size_t n)
{
	if (n == 1)
		return string_of(names[0]);
	if (n == 2) {
		const char *schema = string_of(names[0]);
		if (schema && strcmp(schema, "pg_catalog") == 0)
			return string_of(names[1]);
	}
	return NULL;
}

static int add_column(struct Compiler *c, bool old, const char *name, size_t *index)
{
	Expr *e = c->e;
	for (size_t i = 0; i < e->ncols; i++) {
		if (e->cols[i].old == old && strcmp(e->cols[i].name, name) == 0) {
			*index = i;
			return 0;
		}
	}
	if (e->ncols == e->capcols) {
		size_t cap = e->capcols ? 2 * e->capcols : 8;
		struct ExprColumn *cols = realloc(e->cols, cap * sizeof(*cols));
		if (!cols)
			return -1;
		e->cols = cols;
		e->capcols = cap;
	}
	const char *copy = copy_str(c, name, strlen(name));
	if (!copy)
		return -1;
	e->cols[e->ncols] = (struct ExprColumn){.old = old, .name = copy};
	*index = e->ncols++;
	return 0;
}

static struct Node *compile(struct Compiler *c, const PgQuery__Node *pn);
/* Evaluation state: the row, where memory comes from, where a failure is described. */
struct Eval {
	const struct Expr *expr; /* for column names in messages; NULL while compiling */
	const struct ExprRow *row;
	Arena *arena;
	char *err;
	size_t errlen;
};

static int eval_cast(struct Eval *ev, const struct TypeSpec *ts, const struct Value *in,
                     struct Value *out);

static struct Node *compile_column(struct Compiler *c, const PgQuery__ColumnRef *cr)
{
	if (c->condition) {
		/* A backfill condition reads the one table it selects from: plain column names. */
		const char *name = cr->n_fields == 1 ? string_of(cr->fields[0]) : NULL;
		if (!name)
			return cfail(c, cr->location,
			             "column references must be plain column names of the table");
		struct Node *n = new_node(c, N_COLUMN, cr->location, 0);
		if (!n)
			return NULL;
		if (add_column(c, false, name, &n->col) < 0)
			return cfail(c, -1, "out of memory");
		return n;
	}
	const char *rel = cr->n_fields == 2 ? string_of(cr->fields[0]) : NULL;
	const char *col = cr->n_fields == 2 ? string_of(cr->fields[1]) : NULL;
	/* Unquoted identifiers arrive lower-cased; a quoted "OLD" is some other relation. */
	if (!rel || !col || (strcmp(rel, "old") != 0 && strcmp(rel, "new") != 0))
		return cfail(c, cr->location,
		             "column references must be old.<column> or new.<column>");
	struct Node *n = new_node(c, N_COLUMN, cr->location, 0);
	if (!n)
		return NULL;
	if (add_column(c, rel[0] == 'o', col, &n->col) < 0)
		return cfail(c, -1, "out of memory");
	return n;
}

/* Is s a signed run of digits that fits int64? PostgreSQL reads such literals as bigint. */
static bool literal_int64(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	const char *p = s + (neg || *s == '+');
	if (!*p)
		return false;
	uint64_t v = 0;
	for (; *p; p++) {
		if (!is_digit(*p))
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

static struct Node *compile_const(struct Compiler *c, const PgQuery__AConst *ac)
{
	struct Node *n = new_node(c, N_CONST, ac->location, 0);
	if (!n)
		return NULL;
	if (ac->isnull) {
		n->val.kind = VAL_NULL;
		return n;
	}
	switch (ac->val_case) {
	case PG_QUERY__A__CONST__VAL_IVAL:
		n->val.kind = VAL_INT;
		n->val.i = ac->ival ? ac->ival->ival : 0;
		return n;
	case PG_QUERY__A__CONST__VAL_FVAL: {
		/* Integers too long for int4 arrive as Float: bigint when they fit, else numeric.
		 */
		const char *s = ac->fval && ac->fval->fval ? ac->fval->fval : "";
		if (literal_int64(s, &n->val.i)) {
			n->val.kind = VAL_INT;
			return n;
		}
		char *copy = copy_str(c, s, strlen(s));
		char msg[200];
		if (!copy)
			return cfail(c, -1, "out of memory");
		if (value_parse(copy, strlen(copy), OID_NUMERIC, c->e->arena, &n->val, msg,
		                sizeof(msg)) < 0)
			return cfail(c, ac->location, "%s", msg);
		n->val.typoid = 0;
		return n;
	}
	case PG_QUERY__A__CONST__VAL_BOOLVAL:
		n->val.kind = VAL_BOOL;
		n->val.b = ac->boolval && ac->boolval->boolval;
		return n;
	case PG_QUERY__A__CONST__VAL_SVAL: {
		const char *s = ac->sval && ac->sval->sval ? ac->sval->sval : "";
		size_t len = strlen(s);
		n->val.kind = VAL_TEXT;
		n->val.s.p = copy_str(c, s, len);
		n->val.s.len = len;
		n->unknown = true;
		if (!n->val.s.p)
			return cfail(c, -1, "out of memory");
		return n;
	}
	case PG_QUERY__A__CONST__VAL_BSVAL:
		return cfail(c, ac->location, "bit string constants are not supported");
	default:
		return cfail(c, ac->location, "unsupported constant");
	}
}

/* The integer value of a type modifier (an A_Const integer), or INT32_MIN. */
static int32_t typmod_int(const PgQuery__Node *n)
{
	if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull ||
	    n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL || !n->a_const->ival)
		return INT32_MIN;
	return n->a_const->ival->ival;
}

static const struct {
	const char *name;
	uint32_t oid;
} type_names[] = {
    {"bool", OID_BOOL},
    {"boolean", OID_BOOL},
    {"int2", OID_INT2},
    {"smallint", OID_INT2},
    {"int4", OID_INT4},
    {"int", OID_INT4},
    {"integer", OID_INT4},
    {"int8", OID_INT8},
    {"bigint", OID_INT8},
    {"numeric", OID_NUMERIC},
    {"decimal", OID_NUMERIC},
    {"float4", OID_FLOAT4},
    {"real", OID_FLOAT4},
    {"float8", OID_FLOAT8},
    {"double precision", OID_FLOAT8},
    {"text", OID_TEXT},
    {"varchar", OID_VARCHAR},
    {"character varying", OID_VARCHAR},
    {"bpchar", OID_BPCHAR},
    {"character", OID_BPCHAR},
    {"date", OID_DATE},
    {"timestamp", OID_TIMESTAMP},
    {"timestamptz", OID_TIMESTAMPTZ},
    {"uuid", OID_UUID},
    {"json", OID_JSON},
    {"jsonb", OID_JSONB},
    {"bytea", OID_BYTEA},
};

static bool resolve_type(struct Compiler *c, const PgQuery__TypeName *tn, struct TypeSpec *ts)
{
	if (!tn)
		return cfail(c, -1, "missing type name");
	const char *name = name_of(tn->names, tn->n_names);
	ts->oid = 0;
	ts->mod1 = ts->mod2 = -1;
	for (size_t i = 0; name && i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(name, type_names[i].name) == 0)
			ts->oid = type_names[i].oid;
	if (!ts->oid || tn->setof || tn->pct_type) {
		const char *last = tn->n_names > 0 ? string_of(tn->names[tn->n_names - 1]) : NULL;
		cfail(c, tn->location, "type %s is not supported", last ? last : "?");
		return false;
	}
	if (tn->n_array_bounds > 0) {
		cfail(c, tn->location, "casts to array types are not supported");
		return false;
	}
	const char *tname = value_type_name(ts->oid);
	int32_t m[2] = {-1, -1};
	if (tn->n_typmods > 2) {
		cfail(c, tn->location, "too many type modifiers for type %s", tname);
		return false;
	}
	for (size_t i = 0; i < tn->n_typmods; i++) {
		m[i] = typmod_int(tn->typmods[i]);
		if (m[i] == INT32_MIN) {
			cfail(c, tn->location, "type modifiers must be simple constants");
			return false;
		}
	}
	switch (ts->oid) {
	case OID_NUMERIC:
		if (tn->n_typmods == 0)
			return true;
		if (m[0] < 1 || m[0] > 1000) {
			cfail(c, tn->location, "numeric precision %d must be between 1 and 1000",
			      (int)m[0]);
			return false;
		}
		if (tn->n_typmods == 2 && (m[1] < 0 || m[1] > m[0])) {
			cfail(c, tn->location,
			      "numeric scale %d must be between 0 and precision %d", (int)m[1],
			      (int)m[0]);
			return false;
		}
		ts->mod1 = m[0];
		ts->mod2 = tn->n_typmods == 2 ? m[1] : 0;
		return true;
	case OID_VARCHAR:
	case OID_BPCHAR:
		if (tn->n_typmods == 0)
			return true;
		if (tn->n_typmods != 1 || m[0] < 1 || m[0] > 10485760) {
			cfail(c, tn->location, "length for type %s must be between 1 and 10485760",
			      tname);
			return false;
		}
		ts->mod1 = m[0];
		return true;
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		if (tn->n_typmods == 0)
			return true;
		if (tn->n_typmods != 1 || m[0] < 0) {
			cfail(c, tn->location, "timestamp precision must be between 0 and 6");
			return false;
		}
		/* PostgreSQL warns and reduces larger precisions to 6. */
		ts->mod1 = m[0] > 6 ? 6 : m[0];
		return true;
	default:
		if (tn->n_typmods > 0) {
			cfail(c, tn->location, "type modifier is not allowed for type %s", tname);
			return false;
		}
		return true;
	}
}

static struct Node *compile_cast(struct Compiler *c, const PgQuery__TypeCast *tc)
{
	int32_t loc =
	    tc->location >= 0 ? tc->location : (tc->type_name ? tc->type_name->location : -1);
	struct TypeSpec ts;
	if (!resolve_type(c, tc->type_name, &ts))
		return NULL;
	struct Node *arg = compile(c, tc->arg);
	if (!arg)
		return NULL;
	if (arg->kind == N_CONST) {
		/*
		 * Typed literals (date '2026-01-01', '1.5'::numeric) are converted
		 * now, as PostgreSQL does: a bad literal is a config error, and
		 * rows do not pay for parsing it.
		 */
		char msg[200];
		struct Value v;
		struct Eval ev = {.arena = c->e->arena, .err = msg, .errlen = sizeof(msg)};
		if (eval_cast(&ev, &ts, &arg->val, &v) < 0)
			return cfail(c, node_location(tc->arg), "%s", msg);
		arg->val = v;
		arg->unknown = false;
		return arg;
	}
	if (c->condition)
		/* PostgreSQL's cast errors quote the input: a column's value would reach the log. */
		return cfail(c, loc, "only constants may be cast in a backfill condition");
	struct Node *n = new_node(c, N_CAST, loc, 1);
	if (!n)
		return NULL;
	n->cast = ts;
	n->args[0] = arg;
	return n;
}

/* Compile a list of nodes into args[first..]. */
static bool compile_list(struct Compiler *c, struct Node *n, size_t first, PgQuery__Node **items,
                         size_t nitems)
{
	for (size_t i = 0; i < nitems; i++) {
		n->args[first + i] = compile(c, items[i]);
		if (!n->args[first + i])
			return false;
	}
	return true;
}

static const struct {
	const char *name;
	enum node_kind kind;
	int op;
	bool binary;
} operators[] = {
    {"=", N_CMP, CMP_EQ, true},   {"<>", N_CMP, CMP_NE, true},
    {"!=", N_CMP, CMP_NE, true},  {"<", N_CMP, CMP_LT, true},
    {"<=", N_CMP, CMP_LE, true},  {">", N_CMP, CMP_GT, true},
    {">=", N_CMP, CMP_GE, true},  {"+", N_ARITH, AR_ADD, true},
    {"-", N_ARITH, AR_SUB, true}, {"*", N_ARITH, AR_MUL, true},
    {"/", N_ARITH, AR_DIV, true}, {"%", N_ARITH, AR_MOD, true},
    {"||", N_CONCAT, 0, true},    {"-", N_NEG, 0, false},
    {"+", N_NEG, 1, false}, /* unary plus: op 1 means "no change" */
};

static struct Node *binary(struct Compiler *c, enum node_kind kind, int op, int32_t loc,
                           const PgQuery__Node *l, const PgQuery__Node *r)
{
	struct Node *n = new_node(c, kind, loc, 2);
	if (!n)
		return NULL;
	n->op = op;
	if (!(n->args[0] = compile(c, l)) || !(n->args[1] = compile(c, r)))
		return NULL;
	return n;
}

/* x BETWEEN a AND b is x >= a AND x <= b; NOT BETWEEN is x < a OR x > b. */
static struct Node *compile_between(struct Compiler *c, const PgQuery__AExpr *ae, bool negated)
{
	const PgQuery__Node *r = ae->rexpr;
	if (!r || r->node_case != PG_QUERY__NODE__NODE_LIST || r->list->n_items != 2)
		return cfail(c, ae->location, "malformed BETWEEN");
	struct Node *n = new_node(c, negated ? N_OR : N_AND, ae->location, 2);
	if (!n)
		return NULL;
	struct Node *x = compile(c, ae->lexpr);
	if (!x)
		return NULL;
	for (int i = 0; i < 2; i++) {
		struct Node *cmp = new_node(c, N_CMP, ae->location, 2);
		if (!cmp)
			return NULL;
		cmp->op = i == 0 ? (negated ? CMP_LT : CMP_GE) : (negated ? CMP_GT : CMP_LE);
		cmp->args[0] = x; /* shared: evaluating it twice gives the same value */
		if (!(cmp->args[1] = compile(c, r->list->items[i])))
			return NULL;
		n->args[i] = cmp;
	}
	return n;
}

static struct Node *compile_aexpr(struct Compiler *c, const PgQuery__AExpr *ae)
{
	const char *op = name_of(ae->name, ae->n_name);
	switch (ae->kind) {
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
		for (size_t i = 0; op && i < sizeof(operators) / sizeof(operators[0]); i++) {
			if (strcmp(op, operators[i].name) != 0 ||
			    operators[i].binary != (ae->lexpr != NULL))
				continue;
			if (operators[i].binary)
				return binary(c, operators[i].kind, operators[i].op, ae->location,
				              ae->lexpr, ae->rexpr);
			struct Node *n = new_node(c, operators[i].kind, ae->location, 1);
			if (!n)
				return NULL;
			n->op = operators[i].op;
			return (n->args[0] = compile(c, ae->rexpr)) ? n : NULL;
		}
		return cfail(c, ae->location, "operator %s is not supported", op ? op : "?");
	case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
		return binary(c, N_DISTINCT,
		              ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT, ae->location,
		              ae->lexpr, ae->rexpr);
	case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
		return binary(c, N_NULLIF, 0, ae->location, ae->lexpr, ae->rexpr);
	case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
		const PgQuery__Node *r = ae->rexpr;
		if (!r || r->node_case != PG_QUERY__NODE__NODE_LIST || !op)
			return cfail(c, ae->location, "IN needs a list of values");
		struct Node *n = new_node(c, N_IN, ae->location, 1 + r->list->n_items);
		if (!n)
			return NULL;
		n->op = strcmp(op, "<>") == 0;
		if (!(n->args[0] = compile(c, ae->lexpr)))
			return NULL;
		return compile_list(c, n, 1, r->list->items, r->list->n_items) ? n : NULL;
	}
	case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
		return compile_between(c, ae,
		                       ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN);
	case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
	case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
	case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
		return cfail(c, ae->location, "LIKE, ILIKE and SIMILAR TO are not supported");
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
		return cfail(c, ae->location, "ANY and ALL are not supported");
	default:
		return cfail(c, ae->location, "operator %s is not supported", op ? op : "?");
	}
}

static const struct {
	const char *name;
	enum func_id id;
	size_t minargs, maxargs;
} functions[] = {
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

/* Aggregates get their own message: they look like functions but need many rows. */
static const char *const aggregates[] = {
    "count",    "sum",      "avg",   "min",      "max",       "array_agg",       "string_agg",
    "bool_and", "bool_or",  "every", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
    "stddev",   "variance",
};

static struct Node *compile_func(struct Compiler *c, const PgQuery__FuncCall *fc)
{
	const char *name = name_of(fc->funcname, fc->n_funcname);
	const char *shown = fc->n_funcname > 0 ? string_of(fc->funcname[fc->n_funcname - 1]) : NULL;
	if (!shown)
		shown = "?";
	if (fc->over)
		return cfail(c, fc->location, "window functions are not supported");
	if (fc->agg_star || fc->agg_distinct || fc->n_agg_order > 0 || fc->agg_filter ||
	    fc->agg_within_group)
		return cfail(c, fc->location, "aggregate functions are not supported");
	if (fc->func_variadic)
		return cfail(c, fc->location, "VARIADIC is not supported");
	for (size_t i = 0; name && i < sizeof(aggregates) / sizeof(aggregates[0]); i++)
		if (strcmp(name, aggregates[i]) == 0)
			return cfail(c, fc->location, "aggregate functions are not supported: %s()",
			             name);
	for (size_t i = 0; name && i < sizeof(functions) / sizeof(functions[0]); i++) {
		if (strcmp(name, functions[i].name) != 0)
			continue;
		if (fc->n_args < functions[i].minargs || fc->n_args > functions[i].maxargs)
			return cfail(c, fc->location, "function %s() does not take %zu arguments",
			             name, fc->n_args);
		for (size_t k = 0; k < fc->n_args; k++)
			if (fc->args[k] &&
			    fc->args[k]->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR)
				return cfail(c, fc->location, "named arguments are not supported");
		struct Node *n = new_node(c, N_FUNC, fc->location, fc->n_args);
		if (!n)
			return NULL;
		n->op = (int)functions[i].id;
		/* TRIM(BOTH x FROM y) arrives as btrim(y, x), the function's own argument order. */
		return compile_list(c, n, 0, fc->args, fc->n_args) ? n : NULL;
	}
	return cfail(c, fc->location, "function %s() is not supported", shown);
}

static struct Node *compile_case(struct Compiler *c, const PgQuery__CaseExpr *ce)
{
	size_t nargs = (ce->arg != NULL) + 2 * ce->n_args + (ce->defresult != NULL);
	struct Node *n = new_node(c, N_CASE, ce->location, nargs);
	if (!n)
		return NULL;
	n->has_arg = ce->arg != NULL;
	n->has_else = ce->defresult != NULL;
	size_t k = 0;
	if (ce->arg && !(n->args[k++] = compile(c, ce->arg)))
		return NULL;
	for (size_t i = 0; i < ce->n_args; i++) {
		const PgQuery__Node *w = ce->args[i];
		if (!w || w->node_case != PG_QUERY__NODE__NODE_CASE_WHEN)
			return cfail(c, ce->location, "malformed CASE");
		if (!(n->args[k++] = compile(c, w->case_when->expr)) ||
		    !(n->args[k++] = compile(c, w->case_when->result)))
			return NULL;
	}
	if (ce->defresult && !(n->args[k++] = compile(c, ce->defresult)))
		return NULL;
	return n;
}

static struct Node *compile_inner(struct Compiler *c, const PgQuery__Node *pn)
{
	struct Node *n;

	switch (pn->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		return compile_column(c, pn->column_ref);
	case PG_QUERY__NODE__NODE_A_CONST:
		return compile_const(c, pn->a_const);
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		return compile_cast(c, pn->type_cast);
	case PG_QUERY__NODE__NODE_A_EXPR:
		return compile_aexpr(c, pn->a_expr);
	case PG_QUERY__NODE__NODE_BOOL_EXPR: {
		const PgQuery__BoolExpr *be = pn->bool_expr;
		enum node_kind k = be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? N_AND
		                   : be->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? N_OR
		                                                                     : N_NOT;
		if (be->n_args == 0 || (k == N_NOT && be->n_args != 1))
			return cfail(c, be->location, "malformed boolean expression");
		if (!(n = new_node(c, k, be->location, be->n_args)))
			return NULL;
		return compile_list(c, n, 0, be->args, be->n_args) ? n : NULL;
	}
	case PG_QUERY__NODE__NODE_NULL_TEST: {
		const PgQuery__NullTest *nt = pn->null_test;
		if (!(n = new_node(c, N_NULLTEST, nt->location, 1)))
			return NULL;
		n->op = nt->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
		return (n->args[0] = compile(c, nt->arg)) ? n : NULL;
	}
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
		const PgQuery__BooleanTest *bt = pn->boolean_test;
		if (!(n = new_node(c, N_BOOLTEST, bt->location, 1)))
			return NULL;
		switch (bt->booltesttype) {
		case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE:
			n->op = BT_TRUE;
			break;
		case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE:
			n->op = BT_NOT_TRUE;
			break;
		case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE:
			n->op = BT_FALSE;
			break;
		case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE:
			n->op = BT_NOT_FALSE;
			break;
		case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN:
			n->op = BT_UNKNOWN;
			break;
		case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN:
			n->op = BT_NOT_UNKNOWN;
			break;
		default:
			return cfail(c, bt->location, "malformed boolean test");
		}
		return (n->args[0] = compile(c, bt->arg)) ? n : NULL;
	}
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		return compile_case(c, pn->case_expr);
	case PG_QUERY__NODE__NODE_COALESCE_EXPR: {
		const PgQuery__CoalesceExpr *ce = pn->coalesce_expr;
		if (ce->n_args == 0 || !(n = new_node(c, N_COALESCE, ce->location, ce->n_args)))
			return ce->n_args == 0 ? cfail(c, ce->location, "COALESCE needs arguments")
			                       : NULL;
		return compile_list(c, n, 0, ce->args, ce->n_args) ? n : NULL;
	}
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: {
		const PgQuery__MinMaxExpr *mm = pn->min_max_expr;
		if (mm->n_args == 0 || !(n = new_node(c, N_MINMAX, mm->location, mm->n_args)))
			return mm->n_args == 0
			           ? cfail(c, mm->location, "GREATEST and LEAST need arguments")
			           : NULL;
		n->op = mm->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST;
		return compile_list(c, n, 0, mm->args, mm->n_args) ? n : NULL;
	}
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		return compile_func(c, pn->func_call);
	case PG_QUERY__NODE__NODE_PARAM_REF:
		return cfail(c, pn->param_ref->location, "parameters ($n) are not supported");
	case PG_QUERY__NODE__NODE_SUB_LINK:
		return cfail(c, pn->sub_link->location, "subqueries are not supported");
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		/* CURRENT_DATE, CURRENT_USER: an event must not depend on when or where it was
		 * made. */
		return cfail(
		    c, pn->sqlvalue_function->location,
		    "SQL value functions (CURRENT_DATE, CURRENT_USER, ...) are not supported");
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
		return cfail(c, pn->collate_clause->location,
		             "COLLATE is not supported (text compares bytewise)");
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		return cfail(c, pn->a_array_expr->location, "ARRAY constructors are not supported");
	case PG_QUERY__NODE__NODE_ROW_EXPR:
		return cfail(c, pn->row_expr->location, "row constructors are not supported");
	case PG_QUERY__NODE__NODE_A_INDIRECTION:
		return cfail(c, node_location(pn),
		             "subscripts and field selection are not supported");
	default:
		return cfail(c, node_location(pn), "this kind of expression is not supported");
	}
}

static struct Node *compile(struct Compiler *c, const PgQuery__Node *pn)
{
	if (!pn)
		return cfail(c, -1, "malformed expression");
	if (++c->depth > MAX_DEPTH)
		return cfail(c, node_location(pn),
		             "expression is nested too deeply (more than %d levels)", MAX_DEPTH);
	struct Node *n = compile_inner(c, pn);
	c->depth--;
	return n;
}

/* ---- parse entry points -------------------------------------------------- */

/* Refuse everything in the SELECT but its single target: the text must be one expression. */
static struct Node *compile_select(struct Compiler *c, const PgQuery__ParseResult *pr)
{
	if (pr->n_stmts != 1 || !pr->stmts[0] || !pr->stmts[0]->stmt)
		return cfail(c, pr->n_stmts > 1 && pr->stmts[1] ? pr->stmts[1]->stmt_location : -1,
		             "expected one expression, not several statements");
	const PgQuery__Node *st = pr->stmts[0]->stmt;
	if (st->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
		return cfail(c, -1, "expected one expression");
	const PgQuery__SelectStmt *s = st->select_stmt;
	if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE || s->larg || s->rarg)
		return cfail(c, -1, "expected one expression, not UNION, INTERSECT or EXCEPT");
	if (s->n_target_list == 0)
		return cfail(c, -1, "empty expression");
	if (s->n_target_list > 1)
		return cfail(c, node_location(s->target_list[1]),
		             "expected one expression, not a list");
	if (s->n_from_clause > 0)
		return cfail(c, node_location(s->from_clause[0]),
		             "expression must not have a FROM clause");
	if (s->where_clause)
		return cfail(c, node_location(s->where_clause),
		             "expression must not have a WHERE clause");
	if (s->n_distinct_clause > 0 || s->into_clause || s->n_group_clause > 0 ||
	    s->having_clause || s->n_window_clause > 0 || s->n_values_lists > 0 ||
	    s->n_sort_clause > 0 || s->limit_offset || s->limit_count || s->n_locking_clause > 0 ||
	    s->with_clause)
		return cfail(c, -1, "expected one expression, not a query");
	const PgQuery__Node *t = s->target_list[0];
	if (!t || t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !t->res_target->val)
		return cfail(c, -1, "expected one expression");
	if ((t->res_target->name && t->res_target->name[0]) || t->res_target->n_indirection > 0)
		return cfail(c, t->res_target->location, "expression must not have an alias");
	return compile(c, t->res_target->val);
}

/*
 * Tokens that are leaves of the parse tree or only separate its items: a
 * long IN list or function argument list costs no depth.
 */
static bool is_leaf_token(const PgQuery__ScanToken *tok)
{
	/* Names like old and new: no expression syntax opens a level with one. */
	if (tok->keyword_kind == PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD)
		return true;
	switch (tok->token) {
	case PG_QUERY__TOKEN__IDENT:
	case PG_QUERY__TOKEN__UIDENT:
	case PG_QUERY__TOKEN__FCONST:
	case PG_QUERY__TOKEN__SCONST:
	case PG_QUERY__TOKEN__USCONST:
	case PG_QUERY__TOKEN__BCONST:
	case PG_QUERY__TOKEN__XCONST:
	case PG_QUERY__TOKEN__ICONST:
	case PG_QUERY__TOKEN__PARAM:
	case PG_QUERY__TOKEN__SQL_COMMENT:
	case PG_QUERY__TOKEN__C_COMMENT:
	case PG_QUERY__TOKEN__NULL_P:
	case PG_QUERY__TOKEN__TRUE_P:
	case PG_QUERY__TOKEN__FALSE_P:
	case PG_QUERY__TOKEN__ASCII_44: /* , */
	case PG_QUERY__TOKEN__ASCII_46: /* . */
	case PG_QUERY__TOKEN__ASCII_41: /* ) */
	case PG_QUERY__TOKEN__ASCII_93: /* ] */
		return true;
	default:
		return false;
	}
}

/*
 * Refuse, before parsing, a text whose parse tree could be deep enough to
 * exhaust the stack: "1+1+1+..." of a few thousand terms or a long "NOT NOT
 * ..." crash libpg_query's recursive conversion of the tree to protobuf
 * long before compile() sees it. The scanner is a flat loop, and every
 * level of the tree needs at least one operator, keyword or bracket, so
 * counting those is a bound that needs no grammar. The count is generous
 * for real conditions (AND chains, IN lists and argument lists are flat or
 * free) and the compile step still refuses more than MAX_DEPTH levels.
 * Returns false with err set; a text the scanner rejects is left to the
 * parser, whose message is better and which stops at the same token.
 */
static bool check_tokens(const char *text, size_t len, struct ExprError *err)
{
	if (len > MAX_TEXT_BYTES) {
		snprintf(err->message, sizeof(err->message),
		         "expression is longer than %d bytes", MAX_TEXT_BYTES);
		return false;
	}
	/* Every token takes a byte at least: a short text needs no scan. */
	if (len <= MAX_STRUCTURE_TOKENS)
		return true;
	PgQueryScanResult r = pg_query_scan(text);
	bool ok = true;
	if (!r.error) {
		PgQuery__ScanResult *sr = pg_query__scan_result__unpack(
		    NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
		size_t structure = 0;
		for (size_t i = 0; sr && i < sr->n_tokens && ok; i++) {
			if (is_leaf_token(sr->tokens[i]) || ++structure <= MAX_STRUCTURE_TOKENS)
				continue;
			snprintf(err->message, sizeof(err->message),
			         "expression is too complex (more than %d operators, keywords and "
			         "brackets)",
			         MAX_STRUCTURE_TOKENS);
			err->position = (int)utf8_chars(text, (size_t)sr->tokens[i]->start) + 1;
			ok = false;
		}
		if (!sr) {
			snprintf(err->message, sizeof(err->message), "cannot decode the tokens");
			ok = false;
		}
		pg_query__scan_result__free_unpacked(sr, NULL);
	}
	pg_query_free_scan_result(r);
	return ok;
}

static Expr *parse(const char *text, struct ExprError *err, bool condition)
{
	struct ExprError scratch;
	if (!err)
		err = &scratch;
	err->message[0] = '\0';
	err->position = 0;

	size_t len = strlen(text);
	if (!check_tokens(text, len, err))
		return NULL;
	char *sql = malloc(PREFIX_LEN + len + 1);
	Expr *e = calloc(1, sizeof(*e));
	Arena *arena = arena_new();
	if (!sql || !e || !arena) {
		free(sql);
		free(e);
		if (arena)
			arena_free(arena);
		snprintf(err->message, sizeof(err->message), "out of memory");
		return NULL;
	}
	e->arena = arena;
	memcpy(sql, PREFIX, PREFIX_LEN);
	memcpy(sql + PREFIX_LEN, text, len + 1);

	struct Compiler c = {
	    .e = e, .text = text, .textlen = len, .err = err, .condition = condition};
	PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql);
	if (r.error) {
		snprintf(err->message, sizeof(err->message), "%s",
		         r.error->message ? r.error->message : "syntax error");
		int pos = r.error->cursorpos - PREFIX_LEN;
		err->position = pos < 1 ? 1 : pos;
	} else {
		PgQuery__ParseResult *pr = pg_query__parse_result__unpack(
		    NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
		if (!pr) {
			snprintf(err->message, sizeof(err->message),
			         "cannot decode the parse tree");
		} else {
			e->root = compile_select(&c, pr);
			pg_query__parse_result__free_unpacked(pr, NULL);
		}
	}
	pg_query_free_protobuf_parse_result(r);
	free(sql);
	if (!e->root) {
		expr_free(e);
		return NULL;
	}
	return e;
}

Expr *expr_parse(const char *text, struct ExprError *err)
{
	return parse(text, err, false);
}

Expr *expr_parse_condition(const char *text, struct ExprError *err)
{
	return parse(text, err, true);
}

void expr_free(Expr *expr)
{
	if (!expr)
		return;
	if (expr->arena)
		arena_free(expr->arena);
	free(expr->cols);
	free(expr);
}

size_t expr_columns(const Expr *expr, const struct ExprColumn **cols)
{
	*cols = expr->cols;
	return expr->ncols;
}

/* ---- evaluation helpers -------------------------------------------------- */

static int efail(struct Eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int efail(struct Eval *ev, const char *fmt, ...)
{
	if (ev->err && ev->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ev->err, ev->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void *ealloc(struct Eval *ev, size_t size)
{
	void *p = arena_alloc(ev->arena, size ? size : 1);
	if (!p)
		efail(ev, "out of memory");
	return p;
}

static bool is_unknown(const struct Node *n)
{
	return n && n->kind == N_CONST && n->unknown;
}

static bool is_number(enum value_kind k)
{
	return k == VAL_INT || k == VAL_NUMERIC || k == VAL_FLOAT;
}

/* A value's PostgreSQL type name for messages ("operator does not exist: text + integer"). */
static const char *type_label(const struct Value *v, bool unknown)
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
static uint32_t type_for_literal(const struct Value *v)
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
static int coerce_pair(struct Eval *ev, const struct Node *na, struct Value *a,
                       const struct Node *nb, struct Value *b)
{
	for (int side = 0; side < 2; side++) {
		const struct Node *lit = side ? nb : na;
		struct Value *lv = side ? b : a;
		const struct Node *other_node = side ? na : nb;
		const struct Value *other = side ? a : b;
		if (!is_unknown(lit) || is_unknown(other_node) || lv->kind != VAL_TEXT ||
		    other->kind == VAL_NULL)
			continue;
		uint32_t t = type_for_literal(other);
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

/* Text as it takes part in comparisons and casts to text: char(n) padding does not count. */
static void text_of(const struct Value *v, const char **p, size_t *len)
{
	*p = v->s.p;
	*len = v->s.len;
	if (v->typoid == OID_BPCHAR)
		while (*len > 0 && (*p)[*len - 1] == ' ')
			(*len)--;
}

/* Text for a cast to text or for ||: booleans are "true"/"false" there, not their output "t"/"f".
 */
static int cast_text(struct Eval *ev, const struct Value *v, const char **p, size_t *len)
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
		return efail(ev, "out of memory");
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

#define USECS_PER_DAY INT64_C(86400000000)

/* A date as a timestamp (midnight UTC); false when it does not fit. */
static bool date_to_ts(int32_t date, int64_t *ts)
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

static int32_t ts_to_date(int64_t ts)
{
	if (ts == VAL_TS_INFINITY)
		return VAL_DATE_INFINITY;
	if (ts == VAL_TS_NEG_INFINITY)
		return VAL_DATE_NEG_INFINITY;
	return (int32_t)floor_div(ts, USECS_PER_DAY);
}

/* ---- exact decimals ------------------------------------------------------ */

/*
 * Numeric arithmetic is exact like PostgreSQL's, within 38 significant
 * digits: an unscaled 128-bit magnitude and a scale. Anything bigger is an
 * error rather than a silently rounded result.
 */
typedef unsigned __int128 u128;

enum dec_special { DEC_FINITE, DEC_NAN, DEC_PINF, DEC_NINF };

struct Dec {
	enum dec_special special;
	bool neg;
	u128 mag;   /* < 10^38 */
	int scale;  /* digits of mag after the point; trailing zeros are dropped */
	int dscale; /* display scale: digits PostgreSQL prints after the point */
};

#define DEC_MAX_DIGITS 38
#define DEC_MAX_DSCALE 1000   /* NUMERIC_MAX_DISPLAY_SCALE */
#define DEC_MIN_SIG_DIGITS 16 /* NUMERIC_MIN_SIG_DIGITS */
static const char dec_range_msg[] =
    "numeric value out of range for exact arithmetic (38 significant digits)";

static u128 pow10_u128(int n)
{
	u128 r = 1;
	while (n-- > 0)
		r *= 10;
	return r;
}

static u128 dec_limit(void)
{
	return pow10_u128(DEC_MAX_DIGITS);
}

static int ndigits(u128 v)
{
	int n = 0;
	while (v > 0) {
		v /= 10;
		n++;
	}
	return n;
}

static void dec_normalize(struct Dec *d)
{
	while (d->scale > 0 && d->mag % 10 == 0 && d->mag != 0) {
		d->mag /= 10;
		d->scale--;
	}
	if (d->mag == 0) {
		d->scale = 0;
		d->neg = false;
	}
}

static void dec_from_int(int64_t i, struct Dec *d)
{
	*d = (struct Dec){.neg = i < 0, .mag = i < 0 ? (u128)(-(i + 1)) + 1 : (u128)i};
}

/* Read numeric text ("-12.50", "NaN", "1e3"): 0, -1 bad syntax, -2 over 38 significant digits. */
static int dec_parse(const char *s, size_t len, struct Dec *d)
{
	*d = (struct Dec){0};
	if (len == 3 && memcmp(s, "NaN", 3) == 0) {
		d->special = DEC_NAN;
		return 0;
	}
	if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
		d->special = DEC_PINF;
		return 0;
	}
	if (len == 9 && memcmp(s, "-Infinity", 9) == 0) {
		d->special = DEC_NINF;
		return 0;
	}
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		d->neg = s[i++] == '-';
	size_t int_start = i;
	while (i < len && is_digit(s[i]))
		i++;
	size_t int_end = i, frac_start = i, frac_end = i;
	if (i < len && s[i] == '.') {
		frac_start = ++i;
		while (i < len && is_digit(s[i]))
			i++;
		frac_end = i;
	}
	if (int_end == int_start && frac_end == frac_start)
		return -1;
	long exp = 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i >= len || !is_digit(s[i]))
			return -1;
		while (i < len && is_digit(s[i])) {
			if (exp < 100000)
				exp = exp * 10 + (s[i] - '0');
			i++;
		}
		if (eneg)
			exp = -exp;
	}
	if (i != len)
		return -1;
	/* Trailing fraction zeros only widen the display scale. */
	size_t last = frac_end;
	while (last > frac_start && s[last - 1] == '0')
		last--;
	u128 limit = dec_limit();
	for (size_t k = int_start; k < last; k++) {
		if (k == int_end)
			k = frac_start;
		if (k >= last)
			break;
		unsigned dig = (unsigned)(s[k] - '0');
		if (d->mag == 0 && dig == 0)
			continue;
		if (d->mag >= limit / 10)
			return -2;
		d->mag = d->mag * 10 + dig;
	}
	long scale = (long)(last - frac_start) - exp;
	long dscale = (long)(frac_end - frac_start) - exp;
	if (scale < 0) {
		if (d->mag != 0) {
			if (-scale > DEC_MAX_DIGITS || d->mag >= limit / pow10_u128((int)-scale))
				return -2;
			d->mag *= pow10_u128((int)-scale);
		}
		scale = 0;
	}
	if (scale > 16383 || dscale > 16383)
		return -2;
	d->scale = (int)scale;
	d->dscale = dscale < 0 ? 0 : (int)dscale;
	dec_normalize(d);
	return 0;
}

static int dec_of_value(struct Eval *ev, const struct Value *v, struct Dec *d)
{
	if (v->kind == VAL_INT) {
		dec_from_int(v->i, d);
		return 0;
	}
	int rc = dec_parse(v->s.p, v->s.len, d);
	if (rc == -1)
		return efail(ev, "invalid input syntax for type numeric: \"%.*s\"",
		             (int)(v->s.len > 60 ? 60 : v->s.len), v->s.p);
	if (rc == -2)
		return efail(ev, "%s", dec_range_msg);
	return 0;
}

/* Round to s digits after the point (s < 0 rounds to tens, hundreds, ...), half away from zero. */
static int dec_round(struct Eval *ev, struct Dec *d, int s)
{
	if (d->special != DEC_FINITE)
		return 0;
	if (d->scale > s) {
		int diff = d->scale - s;
		if (diff > DEC_MAX_DIGITS) {
			d->mag = 0; /* below half of the last kept digit */
		} else {
			u128 p = pow10_u128(diff);
			u128 q = d->mag / p, r = d->mag % p;
			if (r >= p - r)
				q++;
			d->mag = q;
		}
		d->scale = s;
		if (s < 0) {
			if (d->mag != 0 &&
			    (-s > DEC_MAX_DIGITS || d->mag >= dec_limit() / pow10_u128(-s)))
				return efail(ev, "%s", dec_range_msg);
			d->mag *= pow10_u128(-s);
			d->scale = 0;
		}
		if (d->mag >= dec_limit())
			return efail(ev, "%s", dec_range_msg);
	}
	d->dscale = s < 0 ? 0 : s;
	dec_normalize(d);
	return 0;
}

/* Bring a and b to the same scale (exactly). */
static int dec_align(struct Eval *ev, struct Dec *a, struct Dec *b)
{
	struct Dec *lo = a->scale < b->scale ? a : b;
	int diff = (a->scale < b->scale ? b->scale : a->scale) - lo->scale;
	if (diff == 0)
		return 0;
	if (lo->mag != 0) {
		if (diff > DEC_MAX_DIGITS || lo->mag >= dec_limit() / pow10_u128(diff))
			return efail(ev, "%s", dec_range_msg);
		lo->mag *= pow10_u128(diff);
	}
	lo->scale += diff;
	return 0;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static int dec_add(struct Eval *ev, struct Dec a, struct Dec b, bool subtract, struct Dec *out)
{
	if (subtract) {
		b.neg = !b.neg;
		if (b.special == DEC_PINF)
			b.special = DEC_NINF;
		else if (b.special == DEC_NINF)
			b.special = DEC_PINF;
	}
	if (a.special != DEC_FINITE || b.special != DEC_FINITE) {
		*out = (struct Dec){0};
		if (a.special == DEC_NAN || b.special == DEC_NAN ||
		    (a.special != DEC_FINITE && b.special != DEC_FINITE && a.special != b.special))
			out->special = DEC_NAN;
		else
			out->special = a.special != DEC_FINITE ? a.special : b.special;
		return 0;
	}
	if (dec_align(ev, &a, &b) < 0)
		return -1;
	*out = (struct Dec){.scale = a.scale, .dscale = max_int(a.dscale, b.dscale)};
	if (a.neg == b.neg) {
		out->mag = a.mag + b.mag;
		out->neg = a.neg;
	} else if (a.mag >= b.mag) {
		out->mag = a.mag - b.mag;
		out->neg = a.neg;
	} else {
		out->mag = b.mag - a.mag;
		out->neg = b.neg;
	}
	if (out->mag >= dec_limit())
		return efail(ev, "%s", dec_range_msg);
	dec_normalize(out);
	return 0;
}

static bool dec_is_neg(const struct Dec *d)
{
	return d->special == DEC_NINF || (d->special == DEC_FINITE && d->neg);
}

static bool dec_is_zero(const struct Dec *d)
{
	return d->special == DEC_FINITE && d->mag == 0;
}

static int dec_mul(struct Eval *ev, const struct Dec *a, const struct Dec *b, struct Dec *out)
{
	*out = (struct Dec){0};
	if (a->special == DEC_NAN || b->special == DEC_NAN) {
		out->special = DEC_NAN;
		return 0;
	}
	if (a->special != DEC_FINITE || b->special != DEC_FINITE) {
		if (dec_is_zero(a) || dec_is_zero(b))
			out->special = DEC_NAN;
		else
			out->special = dec_is_neg(a) != dec_is_neg(b) ? DEC_NINF : DEC_PINF;
		return 0;
	}
	if (a->mag != 0 && b->mag > (dec_limit() - 1) / a->mag)
		return efail(ev, "%s", dec_range_msg);
	out->mag = a->mag * b->mag;
	out->neg = a->neg != b->neg;
	out->scale = a->scale + b->scale;
	out->dscale = a->dscale + b->dscale;
	if (out->dscale > 16383)
		return efail(ev, "%s", dec_range_msg);
	dec_normalize(out);
	return 0;
}

/*
 * PostgreSQL's weight (in base-10000 digits) and first base-10000 digit of
 * a nonzero value, which select_div_scale uses to size a quotient.
 */
static void dec_weight(const struct Dec *d, int *weight, int *first)
{
	if (d->mag == 0) {
		*weight = 0;
		*first = 0;
		return;
	}
	int e = ndigits(d->mag) - 1 - d->scale; /* decimal exponent of the leading digit */
	int w = e >= 0 ? e / 4 : -((-e + 3) / 4);
	int shift = 4 * w + d->scale; /* the group's lowest digit, counted in mag's digits */
	u128 g;
	if (shift >= 0)
		g = shift > DEC_MAX_DIGITS ? 0 : d->mag / pow10_u128(shift);
	else
		g = d->mag * pow10_u128(-shift); /* -shift <= 3 and the group is < 10^4 */
	*weight = w;
	*first = (int)(g % 10000);
}

/* floor(10 r / b) and the new remainder, for r < b < 10^38, without overflowing 128 bits. */
static unsigned div_step(u128 *r, u128 b)
{
	if (*r <= ~(u128)0 / 10) {
		u128 t = *r * 10;
		*r = t % b;
		return (unsigned)(t / b);
	}
	u128 nr = 0;
	unsigned d = 0;
	for (int i = 0; i < 10; i++) {
		if (nr >= b - *r) {
			nr -= b - *r;
			d++;
		} else {
			nr += *r;
		}
	}
	*r = nr;
	return d;
}

static int dec_div(struct Eval *ev, const struct Dec *a, const struct Dec *b, struct Dec *out)
{
	*out = (struct Dec){0};
	if (a->special == DEC_NAN || b->special == DEC_NAN) {
		out->special = DEC_NAN;
		return 0;
	}
	if (dec_is_zero(b))
		return efail(ev, "division by zero");
	if (a->special != DEC_FINITE) {
		if (b->special != DEC_FINITE)
			out->special = DEC_NAN;
		else
			out->special = dec_is_neg(a) != dec_is_neg(b) ? DEC_NINF : DEC_PINF;
		return 0;
	}
	if (b->special != DEC_FINITE)
		return 0; /* finite / infinity is zero */

	/* select_div_scale: at least 16 significant digits, never less scale than the inputs. */
	int w1, f1, w2, f2;
	dec_weight(a, &w1, &f1);
	dec_weight(b, &w2, &f2);
	int qweight = w1 - w2;
	if (f1 <= f2)
		qweight--;
	int rscale = DEC_MIN_SIG_DIGITS - qweight * 4;
	rscale = max_int(rscale, a->dscale);
	rscale = max_int(rscale, b->dscale);
	rscale = max_int(rscale, 0);
	if (rscale > DEC_MAX_DSCALE)
		rscale = DEC_MAX_DSCALE;

	/* q = a.mag * 10^k / b.mag with k = b.scale + rscale - a.scale, by long division. */
	u128 bm = b->mag;
	int k = b->scale + rscale - a->scale;
	if (k < 0) {
		if (-k > DEC_MAX_DIGITS || bm >= dec_limit() / pow10_u128(-k))
			return efail(ev, "%s", dec_range_msg);
		bm *= pow10_u128(-k);
		k = 0;
	}
	u128 limit = dec_limit();
	u128 q = a->mag / bm, r = a->mag % bm;
	for (int i = 0; i < k; i++) {
		unsigned dig = div_step(&r, bm);
		if (q > (limit - 1 - dig) / 10)
			return efail(ev, "%s", dec_range_msg);
		q = q * 10 + dig;
	}
	if (r >= bm - r)
		q++;
	if (q >= limit)
		return efail(ev, "%s", dec_range_msg);
	out->mag = q;
	out->neg = a->neg != b->neg;
	out->scale = rscale;
	out->dscale = rscale;
	dec_normalize(out);
	return 0;
}

/* PostgreSQL's numeric %: a - trunc(a / b) * b, with the larger display scale. */
static int dec_mod(struct Eval *ev, struct Dec a, struct Dec b, struct Dec *out)
{
	*out = (struct Dec){0};
	if (a.special == DEC_NAN || b.special == DEC_NAN) {
		out->special = DEC_NAN;
		return 0;
	}
	if (dec_is_zero(&b))
		return efail(ev, "division by zero");
	if (a.special != DEC_FINITE) {
		out->special = DEC_NAN;
		return 0;
	}
	if (b.special != DEC_FINITE) {
		*out = a;
		return 0;
	}
	if (dec_align(ev, &a, &b) < 0)
		return -1;
	out->mag = a.mag % b.mag;
	out->neg = a.neg;
	out->scale = a.scale;
	out->dscale = max_int(a.dscale, b.dscale);
	dec_normalize(out);
	return 0;
}

/* Print as numeric_out does, with exactly dscale fraction digits. */
static int dec_to_value(struct Eval *ev, const struct Dec *d, struct Value *out)
{
	*out = (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC};
	if (d->special != DEC_FINITE) {
		out->s.p = d->special == DEC_NAN    ? "NaN"
		           : d->special == DEC_PINF ? "Infinity"
		                                    : "-Infinity";
		out->s.len = strlen(out->s.p);
		return 0;
	}
	struct Dec v = *d;
	if (v.scale > v.dscale && dec_round(ev, &v, v.dscale) < 0)
		return -1;
	char digits[48];
	int nd = 0;
	for (u128 m = v.mag; m > 0; m /= 10)
		digits[nd++] = (char)('0' + (int)(m % 10));
	/* digits[] is little-endian: digits[i] has weight 10^(i - scale). */
	int intdigits = nd - v.scale;
	char *buf = ealloc(ev, (size_t)(4 + (intdigits > 0 ? intdigits : 1) + v.dscale));
	if (!buf)
		return -1;
	size_t n = 0;
	if (v.neg && v.mag != 0)
		buf[n++] = '-';
	if (intdigits <= 0)
		buf[n++] = '0';
	for (int i = nd - 1; i >= v.scale; i--)
		buf[n++] = digits[i];
	if (v.dscale > 0) {
		buf[n++] = '.';
		for (int i = v.scale - 1; i >= v.scale - v.dscale; i--)
			buf[n++] = i >= 0 && i < nd ? digits[i] : '0';
	}
	out->s.p = buf;
	out->s.len = n;
	return 0;
}

/* numeric -> int8 rounds half away from zero. */
static int dec_to_int(struct Eval *ev, struct Dec d, int64_t *out, const char *range_msg)
{
	if (d.special != DEC_FINITE)
		return efail(ev, "cannot convert %s to %s",
		             d.special == DEC_NAN ? "NaN" : "infinity",
		             strstr(range_msg, "smallint") ? "smallint"
		             : strstr(range_msg, "bigint") ? "bigint"
		                                           : "integer");
	if (dec_round(ev, &d, 0) < 0)
		return -1;
	if (d.mag > (u128)INT64_MAX + (d.neg ? 1 : 0))
		return efail(ev, "%s", range_msg);
	*out = d.neg ? (int64_t)(-(d.mag - 1)) - 1 : (int64_t)d.mag;
	return 0;
}

/* ---- comparison ---------------------------------------------------------- */

/* Numeric text split for comparison: significant integer digits, fraction without trailing 0s. */
struct NumText {
	int cls; /* 0 -inf, 1 finite, 2 +inf, 3 NaN: PostgreSQL sorts NaN above everything */
	bool neg;
	const char *ip, *fp;
	size_t ilen, flen;
};

static bool numtext_split(const char *s, size_t len, struct NumText *t)
{
	*t = (struct NumText){.cls = 1};
	if (len == 3 && memcmp(s, "NaN", 3) == 0)
		return (t->cls = 3), true;
	if (len == 8 && memcmp(s, "Infinity", 8) == 0)
		return (t->cls = 2), true;
	if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
		return (t->cls = 0), true;
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		t->neg = s[i++] == '-';
	while (i < len && s[i] == '0')
		i++;
	t->ip = s + i;
	while (i < len && is_digit(s[i]))
		i++;
	t->ilen = (size_t)(s + i - t->ip);
	if (i < len && s[i] == '.') {
		t->fp = s + ++i;
		while (i < len && is_digit(s[i]))
			i++;
		t->flen = (size_t)(s + i - t->fp);
		while (t->flen > 0 && t->fp[t->flen - 1] == '0')
			t->flen--;
	}
	if (i != len)
		return false;
	if (t->ilen == 0 && t->flen == 0)
		t->neg = false;
	return true;
}

static int cmp_mag(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Compare two numeric texts exactly, whatever their length; -2 when one is not numeric text. */
static int numtext_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct NumText x, y;
	if (!numtext_split(a, alen, &x) || !numtext_split(b, blen, &y))
		return -2;
	if (x.cls != y.cls)
		return x.cls < y.cls ? -1 : 1;
	if (x.cls != 1)
		return 0;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	int c;
	if (x.ilen != y.ilen)
		c = x.ilen < y.ilen ? -1 : 1;
	else if ((c = cmp_mag(x.ip, x.ilen, y.ip, y.ilen)) == 0)
		c = cmp_mag(x.fp, x.flen, y.fp, y.flen);
	return x.neg ? -c : c;
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

static int to_double(struct Eval *ev, const struct Value *v, double *out)
{
	if (v->kind == VAL_FLOAT) {
		*out = v->f;
		return 0;
	}
	if (v->kind == VAL_INT) {
		*out = (double)v->i;
		return 0;
	}
	char *buf = ealloc(ev, v->s.len + 1);
	if (!buf)
		return -1;
	memcpy(buf, v->s.p, v->s.len);
	buf[v->s.len] = '\0';
	*out = strtod(buf, NULL); /* also reads "NaN", "Infinity", "-Infinity" */
	return 0;
}

static int compare(struct Eval *ev, const struct Value *a, const struct Value *b,
                   const char *opname, int *res);

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
		else if (compare(ev, x, y, opname, &c) < 0)
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
static int compare(struct Eval *ev, const struct Value *a, const struct Value *b,
                   const char *opname, int *res)
{
	enum value_kind ka = a->kind, kb = b->kind;
	if (is_number(ka) && is_number(kb)) {
		if (ka == VAL_INT && kb == VAL_INT) {
			*res = a->i < b->i ? -1 : a->i > b->i;
			return 0;
		}
		if (ka == VAL_FLOAT || kb == VAL_FLOAT) {
			double x, y;
			if (to_double(ev, a, &x) < 0 || to_double(ev, b, &y) < 0)
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
		int c = numtext_cmp(x, xl, y, yl);
		if (c == -2)
			return efail(
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
			*res = cmp_mag(x, xl, y, yl);
			return 0;
		}
		case VAL_BYTEA:
			*res = cmp_mag(a->s.p, a->s.len, b->s.p, b->s.len);
			return 0;
		case VAL_ARRAY:
			return compare_arrays(ev, a, b, opname, res);
		default:
			break;
		}
	}
	return efail(ev, "operator does not exist: %s %s %s", type_label(a, false), opname,
	             type_label(b, false));
}

/* ---- casts --------------------------------------------------------------- */

static int cannot_cast(struct Eval *ev, const struct Value *in, uint32_t target)
{
	return efail(ev, "cannot cast type %s to %s", type_label(in, false),
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
		return efail(ev, "%s", int_range_msg(oid));
	return 0;
}

/* numeric(p, s): round to s digits, then refuse more than p - s integer digits. */
static int numeric_typmod(struct Eval *ev, const struct TypeSpec *ts, struct Value *v)
{
	if (ts->mod1 < 0)
		return 0;
	struct Dec d;
	if (dec_of_value(ev, v, &d) < 0)
		return -1;
	if (d.special == DEC_PINF || d.special == DEC_NINF)
		return efail(ev, "numeric field overflow");
	if (d.special == DEC_NAN)
		return 0;
	if (dec_round(ev, &d, ts->mod2) < 0)
		return -1;
	int intdigits = d.mag ? ndigits(d.mag) - d.scale : 0;
	if (intdigits > ts->mod1 - ts->mod2)
		return efail(ev, "numeric field overflow");
	return dec_to_value(ev, &d, v);
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
		char *p = ealloc(ev, v->s.len + (want - nchars));
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

static int eval_cast(struct Eval *ev, const struct TypeSpec *ts, const struct Value *in,
                     struct Value *out)
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
		} else if (cast_text(ev, in, &out->s.p, &out->s.len) < 0) {
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
			struct Dec d;
			if (dec_of_value(ev, in, &d) < 0 ||
			    dec_to_int(ev, d, &out->i, int_range_msg(t)) < 0)
				return -1;
			return check_int_range(ev, out->i, t);
		}
		case VAL_FLOAT: {
			/* rint, then a range check that also catches NaN and infinities. */
			double r = round_even(in->f);
			if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
				return efail(ev, "%s", int_range_msg(t));
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
			char *buf = ealloc(ev, 24);
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
			char *buf = ealloc(ev, 40);
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
		if (to_double(ev, in, &f) < 0)
			return -1;
		if (t == OID_FLOAT4 && !isnan(f) && !isinf(f)) {
			if (fabs(f) > 3.4028234663852886e38)
				return efail(ev, "value out of range: overflow");
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
				return efail(ev, "date out of range for timestamp");
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

static const char *const arith_names[] = {"+", "-", "*", "/", "%"};

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
			return efail(ev, "division by zero");
		if (a == INT64_MIN && b == -1)
			overflow = true;
		else
			*out = a / b; /* C truncates toward zero, as PostgreSQL does */
		break;
	case AR_MOD:
		if (b == 0)
			return efail(ev, "division by zero");
		*out = b == -1 ? 0 : a % b;
		break;
	}
	return overflow ? efail(ev, "bigint out of range") : 0;
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
			return efail(ev, "division by zero");
		*out = a / b;
		break;
	default:
		return efail(ev, "unsupported float operator");
	}
	/*
	 * float8pl and friends: an infinite result from finite inputs is an
	 * overflow, zero from nonzero an underflow.
	 */
	if (isinf(*out) && !isinf(a) && !isinf(b))
		return efail(ev, "value out of range: overflow");
	if (*out == 0 && op == AR_MUL && a != 0 && b != 0)
		return efail(ev, "value out of range: underflow");
	if (*out == 0 && op == AR_DIV && a != 0 && !isinf(b))
		return efail(ev, "value out of range: underflow");
	return 0;
}

static int arith(struct Eval *ev, int op, const struct Value *a, bool ua, const struct Value *b,
                 bool ub, struct Value *out)
{
	enum value_kind ka = a->kind, kb = b->kind;
	if (ua && ub)
		return efail(ev, "operator is not unique: unknown %s unknown", arith_names[op]);
	if (ka == VAL_INT && kb == VAL_INT) {
		*out = (struct Value){.kind = VAL_INT};
		return int_arith(ev, op, a->i, b->i, &out->i);
	}
	if (is_number(ka) && is_number(kb)) {
		if (ka == VAL_FLOAT || kb == VAL_FLOAT) {
			double x, y;
			if (op == AR_MOD) /* PostgreSQL has no float % */
				return efail(ev, "operator does not exist: %s %% %s",
				             type_label(a, ua), type_label(b, ub));
			*out = (struct Value){.kind = VAL_FLOAT, .typoid = OID_FLOAT8};
			if (to_double(ev, a, &x) < 0 || to_double(ev, b, &y) < 0)
				return -1;
			return float_arith(ev, op, x, y, &out->f);
		}
		struct Dec x, y, r;
		if (dec_of_value(ev, a, &x) < 0 || dec_of_value(ev, b, &y) < 0)
			return -1;
		int rc;
		switch (op) {
		case AR_ADD:
			rc = dec_add(ev, x, y, false, &r);
			break;
		case AR_SUB:
			rc = dec_add(ev, x, y, true, &r);
			break;
		case AR_MUL:
			rc = dec_mul(ev, &x, &y, &r);
			break;
		case AR_DIV:
			rc = dec_div(ev, &x, &y, &r);
			break;
		default:
			rc = dec_mod(ev, x, y, &r);
			break;
		}
		return rc < 0 ? -1 : dec_to_value(ev, &r, out);
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
			return efail(ev, "date out of range");
		out->date = (int32_t)r;
		return 0;
	}
	if (op == AR_SUB && ka == VAL_DATE && kb == VAL_DATE) {
		if (a->date == VAL_DATE_INFINITY || a->date == VAL_DATE_NEG_INFINITY ||
		    b->date == VAL_DATE_INFINITY || b->date == VAL_DATE_NEG_INFINITY)
			return efail(ev, "cannot subtract infinite dates");
		*out = (struct Value){
		    .kind = VAL_INT, .typoid = OID_INT4, .i = (int64_t)a->date - b->date};
		return 0;
	}
	if (op == AR_SUB && (ka == VAL_DATE || ka == VAL_TIMESTAMP) &&
	    (kb == VAL_DATE || kb == VAL_TIMESTAMP))
		return efail(
		    ev,
		    "timestamp subtraction yields an interval, which expressions do not support");
	return efail(ev, "operator does not exist: %s %s %s", type_label(a, ua), arith_names[op],
	             type_label(b, ub));
}

static int negate(struct Eval *ev, const struct Value *v, bool unary_plus, struct Value *out)
{
	*out = *v;
	switch (v->kind) {
	case VAL_INT:
		if (unary_plus)
			return 0;
		if (v->i == INT64_MIN)
			return efail(ev, "bigint out of range");
		out->i = -v->i;
		return 0;
	case VAL_FLOAT:
		if (!unary_plus)
			out->f = -v->f;
		return 0;
	case VAL_NUMERIC: {
		if (unary_plus)
			return 0;
		struct NumText t;
		if (!numtext_split(v->s.p, v->s.len, &t))
			return efail(ev, "invalid input syntax for type numeric: \"%.*s\"",
			             (int)(v->s.len > 60 ? 60 : v->s.len), v->s.p);
		if (t.cls == 3 || (t.cls == 1 && t.ilen == 0 && t.flen == 0))
			return 0; /* NaN and zero keep their text */
		if (v->s.len > 0 && v->s.p[0] == '-') {
			out->s.p = v->s.p + 1;
			out->s.len = v->s.len - 1;
			return 0;
		}
		size_t skip = v->s.len > 0 && v->s.p[0] == '+';
		char *p = ealloc(ev, v->s.len + 1 - skip);
		if (!p)
			return -1;
		p[0] = '-';
		memcpy(p + 1, v->s.p + skip, v->s.len - skip);
		out->s.p = p;
		out->s.len = v->s.len + 1 - skip;
		return 0;
	}
	default:
		return efail(ev, "operator does not exist: %s %s", unary_plus ? "+" : "-",
		             type_label(v, false));
	}
}

static int concat_values(struct Eval *ev, const struct Value *a, bool ua, const struct Value *b,
                         bool ub, struct Value *out)
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
			return efail(ev, "operator does not exist: %s || %s", type_label(a, ua),
			             type_label(b, ub));
		if (cast_text(ev, a, &x, &xl) < 0 || cast_text(ev, b, &y, &yl) < 0)
			return -1;
		*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT};
	}
	char *p = ealloc(ev, xl + yl);
	if (!p)
		return -1;
	memcpy(p, x, xl);
	memcpy(p + xl, y, yl);
	out->s.p = p;
	out->s.len = xl + yl;
	return 0;
}

static int hex_value_out(struct Eval *ev, const unsigned char *bytes, size_t n, struct Value *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = ealloc(ev, 2 * n);
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		p[2 * i] = hex[bytes[i] >> 4];
		p[2 * i + 1] = hex[bytes[i] & 15];
	}
	*out = (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {p, 2 * n}};
	return 0;
}

/* ---- functions ----------------------------------------------------------- */

static const char *const func_names[] = {
    [F_LOWER] = "lower",
    [F_UPPER] = "upper",
    [F_BTRIM] = "btrim",
    [F_LTRIM] = "ltrim",
    [F_RTRIM] = "rtrim",
    [F_LENGTH] = "length",
    [F_OCTET_LENGTH] = "octet_length",
    [F_DATE_TRUNC] = "date_trunc",
    [F_SHA256] = "sha256",
    [F_MD5] = "md5",
    [F_CONCAT] = "concat",
    [F_ABS] = "abs",
    [F_ROUND] = "round",
};

/* "function lower(integer) does not exist", naming the argument types as PostgreSQL does. */
static int no_such_function(struct Eval *ev, const struct Node *n, const struct Value *argv)
{
	char sig[160];
	size_t used = 0;
	sig[0] = '\0';
	for (size_t i = 0; i < n->nargs && used < sizeof(sig); i++) {
		int w = snprintf(sig + used, sizeof(sig) - used, "%s%s", i ? ", " : "",
		                 type_label(&argv[i], is_unknown(n->args[i])));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return efail(ev, "function %s(%s) does not exist", func_names[n->op], sig);
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
	return efail(
	    ev, "unit \"%.*s\" not recognized for type %s", (int)(ulen > 40 ? 40 : ulen), unit,
	    value_type_name(v->typoid == OID_TIMESTAMPTZ ? OID_TIMESTAMPTZ : OID_TIMESTAMP));
}

static int eval(struct Eval *ev, const struct Node *n, struct Value *out);

static int eval_concat_func(struct Eval *ev, const struct Value *argv, size_t nargs,
                            struct Value *out)
{
	/* concat() skips NULLs and uses each argument's output text (booleans are "t"/"f" here). */
	const char **parts = ealloc(ev, nargs * sizeof(*parts));
	size_t *lens = ealloc(ev, nargs * sizeof(*lens));
	size_t total = 0;
	if (!parts || !lens)
		return -1;
	for (size_t i = 0; i < nargs; i++) {
		if (value_to_text(&argv[i], ev->arena, &parts[i], &lens[i]) < 0)
			return efail(ev, "out of memory");
		total += lens[i];
	}
	char *p = ealloc(ev, total);
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

static int eval_func(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value *argv = ealloc(ev, n->nargs * sizeof(*argv));
	if (!argv)
		return -1;
	bool anynull = false;
	for (size_t i = 0; i < n->nargs; i++) {
		if (eval(ev, n->args[i], &argv[i]) < 0)
			return -1;
		anynull |= argv[i].kind == VAL_NULL;
	}
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
		char *p = ealloc(ev, len);
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
				return efail(ev, "date out of range for timestamp");
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
			return efail(ev, "%s: the digest failed", n->op == F_SHA256 ? "sha256" : "md5");
		return hex_value_out(ev, digest, len, out);
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
			return negate(ev, a, false, out);
		}
		return no_such_function(ev, n, argv);
	case F_ROUND: {
		if (n->nargs == 1 && (a->kind == VAL_FLOAT || a->kind == VAL_INT)) {
			/* round(int) resolves to round(double precision): half to even. */
			double f;
			if (to_double(ev, a, &f) < 0)
				return -1;
			*out = (struct Value){
			    .kind = VAL_FLOAT, .typoid = OID_FLOAT8, .f = round_even(f)};
			return 0;
		}
		if ((a->kind != VAL_NUMERIC && a->kind != VAL_INT) ||
		    (n->nargs == 2 && argv[1].kind != VAL_INT))
			return no_such_function(ev, n, argv);
		int64_t s = n->nargs == 2 ? argv[1].i : 0;
		if (s > DEC_MAX_DSCALE)
			s = DEC_MAX_DSCALE;
		if (s < -DEC_MAX_DSCALE)
			s = -DEC_MAX_DSCALE;
		struct Dec d;
		if (dec_of_value(ev, a, &d) < 0 || dec_round(ev, &d, (int)s) < 0)
			return -1;
		return dec_to_value(ev, &d, out);
	}
	default:
		return efail(ev, "unknown function");
	}
}

/* ---- evaluation ---------------------------------------------------------- */

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
	return efail(ev, "argument of %s must be type boolean, not type %s", what,
	             type_label(v, false));
}

static void set_bool(struct Value *out, bool b)
{
	*out = (struct Value){.kind = VAL_BOOL, .typoid = OID_BOOL, .b = b};
}

static void set_null(struct Value *out)
{
	*out = (struct Value){.kind = VAL_NULL};
}

static const char *const cmp_names[] = {"=", "<>", "<", "<=", ">", ">="};

/* Evaluate two arguments, give NULL when either is, else read literals as the other side's type. */
static int eval_pair(struct Eval *ev, const struct Node *n, struct Value *a, struct Value *b,
                     bool *null)
{
	if (eval(ev, n->args[0], a) < 0 || eval(ev, n->args[1], b) < 0)
		return -1;
	*null = a->kind == VAL_NULL || b->kind == VAL_NULL;
	return *null ? 0 : coerce_pair(ev, n->args[0], a, n->args[1], b);
}

/* Are a and b equal (both non-NULL)? Literals are read as the other side's type first. */
static int equal(struct Eval *ev, const struct Node *na, struct Value a, const struct Node *nb,
                 struct Value b, bool *eq)
{
	int c;
	if (coerce_pair(ev, na, &a, nb, &b) < 0 || compare(ev, &a, &b, "=", &c) < 0)
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
		if (coerce_pair(ev, best_node, &b, n->args[i], &v) < 0 ||
		    compare(ev, &b, &v, n->op ? ">" : "<", &c) < 0)
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

static int eval_inner(struct Eval *ev, const struct Node *n, struct Value *out)
{
	struct Value a, b;
	bool null;
	int tri, c;

	switch (n->kind) {
	case N_CONST:
		*out = n->val;
		return 0;
	case N_COLUMN:
		if (!ev->row || n->col >= ev->row->ncols || !ev->row->cols) {
			const struct ExprColumn *col =
			    ev->expr && n->col < ev->expr->ncols ? &ev->expr->cols[n->col] : NULL;
			return efail(ev, "row has no value for column %s.%s",
			             col && col->old ? "old" : "new", col ? col->name : "?");
		}
		*out = ev->row->cols[n->col];
		return 0;
	case N_AND:
	case N_OR:
		return eval_logic(ev, n, out);
	case N_NOT:
		if (eval(ev, n->args[0], &a) < 0 || to_bool(ev, n->args[0], &a, "NOT", &tri) < 0)
			return -1;
		if (tri < 0)
			set_null(out);
		else
			set_bool(out, !tri);
		return 0;
	case N_CMP:
		if (eval_pair(ev, n, &a, &b, &null) < 0)
			return -1;
		if (null) {
			set_null(out);
			return 0;
		}
		if (compare(ev, &a, &b, cmp_names[n->op], &c) < 0)
			return -1;
		switch (n->op) {
		case CMP_EQ:
			set_bool(out, c == 0);
			break;
		case CMP_NE:
			set_bool(out, c != 0);
			break;
		case CMP_LT:
			set_bool(out, c < 0);
			break;
		case CMP_LE:
			set_bool(out, c <= 0);
			break;
		case CMP_GT:
			set_bool(out, c > 0);
			break;
		default:
			set_bool(out, c >= 0);
			break;
		}
		return 0;
	case N_DISTINCT: {
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
	case N_NULLTEST:
		if (eval(ev, n->args[0], &a) < 0)
			return -1;
		set_bool(out, (a.kind == VAL_NULL) != n->op);
		return 0;
	case N_BOOLTEST: {
		static const char *const names[] = {"IS TRUE",    "IS NOT TRUE",
		                                    "IS FALSE",   "IS NOT FALSE",
		                                    "IS UNKNOWN", "IS NOT UNKNOWN"};
		if (eval(ev, n->args[0], &a) < 0 ||
		    to_bool(ev, n->args[0], &a, names[n->op], &tri) < 0)
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
	case N_IN:
		return eval_in(ev, n, out);
	case N_CASE:
		return eval_case(ev, n, out);
	case N_COALESCE:
		for (size_t i = 0; i < n->nargs; i++) {
			if (eval(ev, n->args[i], out) < 0)
				return -1;
			if (out->kind != VAL_NULL)
				return 0;
		}
		return 0;
	case N_NULLIF: {
		if (eval(ev, n->args[0], &a) < 0 || eval(ev, n->args[1], &b) < 0)
			return -1;
		if (a.kind == VAL_NULL || b.kind == VAL_NULL) {
			*out = a;
			return 0;
		}
		if (coerce_pair(ev, n->args[0], &a, n->args[1], &b) < 0 ||
		    compare(ev, &a, &b, "=", &c) < 0)
			return -1;
		if (c == 0)
			set_null(out);
		else
			*out = a;
		return 0;
	}
	case N_MINMAX:
		return eval_minmax(ev, n, out);
	case N_ARITH:
		if (eval_pair(ev, n, &a, &b, &null) < 0)
			return -1;
		if (null) {
			set_null(out);
			return 0;
		}
		return arith(ev, n->op, &a, is_unknown(n->args[0]), &b, is_unknown(n->args[1]),
		             out);
	case N_NEG:
		if (eval(ev, n->args[0], &a) < 0)
			return -1;
		if (a.kind == VAL_NULL) {
			set_null(out);
			return 0;
		}
		if (is_unknown(n->args[0]) && value_parse(a.s.p, a.s.len, OID_NUMERIC, ev->arena,
		                                          &a, ev->err, ev->errlen) < 0)
			return -1;
		return negate(ev, &a, n->op == 1, out);
	case N_CONCAT:
		if (eval(ev, n->args[0], &a) < 0 || eval(ev, n->args[1], &b) < 0)
			return -1;
		if (a.kind == VAL_NULL || b.kind == VAL_NULL) {
			set_null(out);
			return 0;
		}
		return concat_values(ev, &a, is_unknown(n->args[0]), &b, is_unknown(n->args[1]),
		                     out);
	case N_CAST:
		if (eval(ev, n->args[0], &a) < 0)
			return -1;
		return eval_cast(ev, &n->cast, &a, out);
	case N_FUNC:
		return eval_func(ev, n, out);
	}
	return efail(ev, "unknown expression node");
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

/* ---- static typing ------------------------------------------------------- */

/* What inference knows about a subexpression: its kind (VAL_NULL: only known at run time). */
struct Type {
	struct Value v;         /* kind and typoid only, so that type_label names it */
	bool unknown;           /* an untyped string literal */
	const struct Node *lit; /* that literal, to check it parses as what it meets */
};

struct Infer {
	const uint32_t *coltypes;
	Arena *scratch; /* for trial parses of literals */
	char *err;
	size_t errlen;
};

static int ifail(struct Infer *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ifail(struct Infer *in, const char *fmt, ...)
{
	if (in->err && in->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(in->err, in->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void type_set(struct Type *t, enum value_kind kind, uint32_t typoid)
{
	*t = (struct Type){.v = {.kind = kind, .typoid = typoid}};
}

/* A literal meeting a value of type other must read as that type (PostgreSQL checks it early). */
static int literal_fits(struct Infer *in, const struct Type *lit, const struct Type *other)
{
	if (!lit->unknown || other->unknown || other->v.kind == VAL_NULL || !lit->lit)
		return 0;
	uint32_t t = type_for_literal(&other->v);
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
	return ifail(in, "operator does not exist: %s %s %s", type_label(&x.v, x.unknown), opname,
	             type_label(&y.v, y.unknown));
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
	return ifail(in, "argument of %s must be type boolean, not type %s", what,
	             type_label(&t->v, false));
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
	return ifail(in, "%s types %s and %s cannot be matched", what, type_label(&acc->v, false),
	             type_label(&t->v, false));
}

/* Which casts eval_cast performs, by source kind. */
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
	const char *opname = arith_names[n->op];
	if (a->unknown && b->unknown)
		return ifail(in, "operator is not unique: unknown %s unknown", opname);
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
		return ifail(
		    in,
		    "timestamp subtraction yields an interval, which expressions do not support");
	else
		return ifail(in, "operator does not exist: %s %s %s", type_label(&x.v, x.unknown),
		             opname, type_label(&y.v, y.unknown));
	return 0;
}

static int infer_func(struct Infer *in, const struct Node *n, struct Type *out)
{
	struct Type *ts = arena_alloc(in->scratch, (n->nargs ? n->nargs : 1) * sizeof(*ts));
	if (!ts)
		return ifail(in, "out of memory");
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
			                 type_label(&ts[i].v, ts[i].unknown));
			if (w < 0)
				break;
			used += (size_t)w;
		}
		return ifail(in, "function %s(%s) does not exist", func_names[n->op], sig);
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
		    check_compare(in, &a, &b, n->kind == N_CMP ? cmp_names[n->op] : "=") < 0)
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
			return ifail(in, "operator does not exist: %s %s", n->op == 1 ? "+" : "-",
			             type_label(&a.v, false));
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
			return ifail(in, "operator does not exist: %s || %s",
			             type_label(&a.v, a.unknown), type_label(&b.v, b.unknown));
		type_set(out, VAL_TEXT, OID_TEXT);
		return 0;
	case N_CAST:
		if (infer(in, n->args[0], &a) < 0)
			return -1;
		if (!cast_allowed(a.v.kind, n->cast.oid))
			return ifail(in, "cannot cast type %s to %s", type_label(&a.v, false),
			             value_type_name(n->cast.oid));
		type_set(out, value_kind_of_type(n->cast.oid), n->cast.oid);
		return 0;
	case N_FUNC:
		return infer_func(in, n, out);
	}
	return ifail(in, "unknown expression node");
}

int expr_infer(const Expr *expr, const uint32_t *coltypes, enum value_kind *out, char *err,
               size_t errlen)
{
	struct Infer in = {
	    .coltypes = coltypes, .scratch = arena_new(), .err = err, .errlen = errlen};
	if (!in.scratch) {
		set_err(err, errlen, "out of memory");
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
		set_err(q->err, q->errlen, "out of memory");
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
		set_err(q->err, q->errlen, "a constant of this type cannot be sent as a parameter");
		return -1;
	}
	q->h->constant(q->h->ctx, q->out, text, len, type);
	return 0;
}

static const char *func_sql_name(int id)
{
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		if ((int)functions[i].id == id)
			return functions[i].name;
	return NULL;
}

static int sql_node(struct Sql *q, const struct Node *n)
{
	static const char *const cmp_sql[] = {"=", "<>", "<", "<=", ">", ">="};
	static const char *const arith_sql[] = {"+", "-", "*", "/", "%"};
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
		          n->kind == N_CMP      ? cmp_sql[n->op]
		          : n->kind == N_ARITH  ? arith_sql[n->op]
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
		          n->kind == N_NULLTEST ? (n->op ? "NOT NULL" : "NULL") : booltest_sql[n->op]);
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
			const char *name = func_sql_name(n->op);
			if (!name) {
				set_err(q->err, q->errlen, "unknown function");
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
	set_err(q->err, q->errlen, "this kind of expression cannot be sent as SQL");
	return -1;
}

int expr_sql(const Expr *expr, const struct ExprSqlHooks *hooks, struct StrBuf *out, char *err,
             size_t errlen)
{
	struct Sql q = {.e = expr, .h = hooks, .out = out, .scratch = arena_new(), .err = err,
	                .errlen = errlen};
	if (!q.scratch) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	int rc = sql_node(&q, expr->root);
	arena_free(q.scratch);
	if (rc == 0 && !sb_ok(out)) {
		set_err(err, errlen, "out of memory");
		rc = -1;
	}
	return rc;
}
