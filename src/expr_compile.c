/* Compiling expressions: libpg_query's parse tree of SQL over old.<col>/new.<col> into the node tree. */
#include "autoconf.h"

#include "expr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		char msg[200];
		struct Value iv;
		if (value_parse(s, strlen(s), OID_INT8, c->e->arena, &iv, msg, sizeof(msg)) == 0) {
			/* PostgreSQL reads a literal that fits int8 as bigint. */
			n->val.kind = VAL_INT;
			n->val.i = iv.i;
			return n;
		}
		char *copy = copy_str(c, s, strlen(s));
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
		if (expr_cast(&ev, &ts, &arg->val, &v) < 0)
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
	const struct ExprFuncDef *f = name ? expr_func_lookup(name) : NULL;
	if (f) {
		if (fc->n_args < f->minargs || fc->n_args > f->maxargs)
			return cfail(c, fc->location, "function %s() does not take %zu arguments",
			             name, fc->n_args);
		for (size_t k = 0; k < fc->n_args; k++)
			if (fc->args[k] &&
			    fc->args[k]->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR)
				return cfail(c, fc->location, "named arguments are not supported");
		struct Node *n = new_node(c, N_FUNC, fc->location, fc->n_args);
		if (!n)
			return NULL;
		n->op = (int)f->id;
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
