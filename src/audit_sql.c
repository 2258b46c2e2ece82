/* Audit SQL: which tables one SQL statement reads and writes, from PostgreSQL's own parse tree. */
#include "autoconf.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sql.h"

/*
 * libpg_query converts its tree to protobuf recursively, and so does
 * protobuf-c's unpacking: a statement deep enough exhausts the stack (a
 * chain of 5,000 "+1" does under ASan) before anything here could count
 * levels. The scanner is a flat loop, so the depth is estimated from the
 * tokens first (see small_enough) and a statement beyond the bound is
 * reported as not attributed, never guessed at.
 */
#define MAX_DEPTH_ESTIMATE 1000
#define MAX_WALK_DEPTH (4 * MAX_DEPTH_ESTIMATE)

struct Walker {
	struct AuditRefs *out;
	const char **ctes; /* names of the CTEs visible here, innermost last */
	size_t nctes, capctes;
	bool failed;
	char *err;
	size_t errlen;
};

static void fail(struct Walker *w, const char *msg)
{
	if (!w->failed)
		snprintf(w->err, w->errlen, "%s", msg);
	w->failed = true;
}

static bool is_cte(const struct Walker *w, const char *name)
{
	for (size_t i = w->nctes; i > 0; i--)
		if (strcmp(w->ctes[i - 1], name) == 0)
			return true;
	return false;
}

static void push_cte(struct Walker *w, const char *name)
{
	if (w->nctes == w->capctes) {
		size_t cap = w->capctes ? w->capctes * 2 : 8;
		const char **n = realloc(w->ctes, cap * sizeof(*n));
		if (!n) {
			fail(w, "out of memory");
			return;
		}
		w->ctes = n;
		w->capctes = cap;
	}
	w->ctes[w->nctes++] = name;
}

static void record(struct Walker *w, const PgQuery__RangeVar *rv, unsigned access)
{
	const char *schema = rv->schemaname && rv->schemaname[0] ? rv->schemaname : NULL;
	if (!rv->relname || !rv->relname[0])
		return;
	/* A CTE shadows a table of its name only when the name is unqualified. */
	if (!schema && is_cte(w, rv->relname))
		return;
	struct AuditRefs *out = w->out;
	for (size_t i = 0; i < out->n; i++) {
		struct AuditRef *r = &out->refs[i];
		bool same_schema = (!schema && !r->schema) ||
				   (schema && r->schema && strcmp(schema, r->schema) == 0);
		if (same_schema && strcmp(r->name, rv->relname) == 0) {
			r->access |= access;
			return;
		}
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct AuditRef *n = realloc(out->refs, cap * sizeof(*n));
		if (!n) {
			fail(w, "out of memory");
			return;
		}
		out->refs = n;
		out->cap = cap;
	}
	struct AuditRef *r = &out->refs[out->n];
	r->schema = schema ? strdup(schema) : NULL;
	r->name = strdup(rv->relname);
	r->access = access;
	if (!r->name || (schema && !r->schema)) {
		free(r->schema);
		free(r->name);
		fail(w, "out of memory");
		return;
	}
	out->n++;
}

/*
 * The access a RangeVar in field f of message m gets: the target of a
 * data-modifying statement is written; every other relation is read.
 */
static unsigned field_access(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if ((d == &pg_query__insert_stmt__descriptor || d == &pg_query__update_stmt__descriptor ||
	     d == &pg_query__delete_stmt__descriptor || d == &pg_query__merge_stmt__descriptor) &&
	    strcmp(f->name, "relation") == 0)
		return ASQL_WRITE;
	if (d == &pg_query__copy_stmt__descriptor && strcmp(f->name, "relation") == 0)
		return ((const PgQuery__CopyStmt *)m)->is_from ? ASQL_WRITE : ASQL_READ;
	if (d == &pg_query__truncate_stmt__descriptor && strcmp(f->name, "relations") == 0)
		return ASQL_WRITE;
	if (d == &pg_query__into_clause__descriptor && strcmp(f->name, "rel") == 0)
		return ASQL_WRITE;
	return ASQL_READ;
}

static void walk(struct Walker *w, const ProtobufCMessage *m, unsigned access, int depth);

/*
 * WITH: a CTE's name hides a table of that name in the statement's body
 * and in the CTEs after it; in WITH RECURSIVE, also in its own body and the
 * ones before it. Names are pushed here and popped by the caller.
 */
static void walk_with(struct Walker *w, const PgQuery__WithClause *with, int depth)
{
	if (with->recursive)
		for (size_t i = 0; i < with->n_ctes; i++)
			if (with->ctes[i]->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
				push_cte(w, with->ctes[i]->common_table_expr->ctename);
	for (size_t i = 0; i < with->n_ctes && !w->failed; i++) {
		const PgQuery__Node *n = with->ctes[i];
		if (n->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) {
			walk(w, &n->base, ASQL_READ, depth + 1);
			continue;
		}
		const PgQuery__CommonTableExpr *cte = n->common_table_expr;
		if (cte->ctequery)
			walk(w, &cte->ctequery->base, ASQL_READ, depth + 1);
		if (!with->recursive)
			push_cte(w, cte->ctename);
	}
}

/*
 * Every message of the tree, through protobuf-c's descriptors: a relation
 * named anywhere (a subquery in a WHERE, a function's argument, a LATERAL
 * join) is found without a case per node type, and a node type this code
 * never heard of is still searched.
 */
static void walk(struct Walker *w, const ProtobufCMessage *m, unsigned access, int depth)
{
	if (w->failed)
		return;
	if (depth > MAX_WALK_DEPTH) {
		fail(w, "statement is nested too deeply");
		return;
	}
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (d == &pg_query__range_var__descriptor) {
		record(w, (const PgQuery__RangeVar *)m, access);
		return;
	}
	size_t mark = w->nctes;
	const ProtobufCFieldDescriptor *with_field =
	    protobuf_c_message_descriptor_get_field_by_name(d, "with_clause");
	/* A Node's with_clause is one member of its oneof: a WithClause node, walked as any. */
	if (with_field && !(with_field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    with_field->type == PROTOBUF_C_TYPE_MESSAGE &&
	    with_field->descriptor == &pg_query__with_clause__descriptor) {
		const PgQuery__WithClause *with =
		    *(PgQuery__WithClause *const *)((const char *)m + with_field->offset);
		if (with)
			walk_with(w, with, depth);
	}
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields && !w->failed; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    (f == with_field && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)))
			continue;
		/* A oneof (every Node) holds only the member its case names. */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		/* A Node only wraps its member: the access given to it passes on. */
		unsigned a = d == &pg_query__node__descriptor ? access : field_access(m, f);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t k = 0; k < n && !w->failed; k++)
				if (items[k])
					walk(w, items[k], a, depth + 1);
		} else {
			const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)(base + f->offset);
			if (sub)
				walk(w, sub, a, depth + 1);
		}
	}
	w->nctes = mark;
}

/*
 * Statements that run queries over tables. DDL also names relations
 * (CREATE INDEX ON orders), but it neither reads nor writes their rows.
 */
static bool accesses_rows(const PgQuery__Node *stmt)
{
	switch (stmt->node_case) {
	case PG_QUERY__NODE__NODE_SELECT_STMT:
	case PG_QUERY__NODE__NODE_INSERT_STMT:
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
	case PG_QUERY__NODE__NODE_DELETE_STMT:
	case PG_QUERY__NODE__NODE_MERGE_STMT:
	case PG_QUERY__NODE__NODE_COPY_STMT:
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
	case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
	case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
	case PG_QUERY__NODE__NODE_PREPARE_STMT:
		return true;
	default:
		return false;
	}
}

static bool is_leaf_token(const PgQuery__ScanToken *tok)
{
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
	case PG_QUERY__TOKEN__ASCII_46: /* . */
		return true;
	default:
		return false;
	}
}

/*
 * An upper bound on the parse tree's depth, from the tokens: every level
 * needs a token that is not a name, a constant or a separator, and items
 * separated by commas are siblings, not levels. So each open bracket keeps
 * the count of such tokens since its last comma, and the depth is at most
 * the sum over the brackets open at any point. A VALUES list of thousands
 * of rows, or a long IN list, stays shallow; "1+1+1..." or "((((...", not.
 */
static bool small_enough(const char *sql, char *err, size_t errlen)
{
	/* Every token takes a byte at least: a short text needs no scan. */
	if (strlen(sql) <= MAX_DEPTH_ESTIMATE)
		return true;
	PgQueryScanResult r = pg_query_scan(sql);
	bool ok = true;
	if (!r.error) {
		PgQuery__ScanResult *sr = pg_query__scan_result__unpack(
		    NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
		/* counts[i]: structure tokens since the last comma inside the i-th open bracket. */
		size_t counts[MAX_DEPTH_ESTIMATE + 2], open = 0, sum = 0;
		counts[0] = 0;
		for (size_t i = 0; sr && i < sr->n_tokens && ok; i++) {
			const PgQuery__ScanToken *tok = sr->tokens[i];
			switch (tok->token) {
			case PG_QUERY__TOKEN__ASCII_44: /* , */
				sum -= counts[open];
				counts[open] = 0;
				continue;
			case PG_QUERY__TOKEN__ASCII_59: /* ; a new statement */
				open = sum = counts[0] = 0;
				continue;
			case PG_QUERY__TOKEN__ASCII_41: /* ) */
			case PG_QUERY__TOKEN__ASCII_93: /* ] */
				if (open > 0) {
					sum -= counts[open];
					open--;
				}
				continue;
			case PG_QUERY__TOKEN__ASCII_40: /* ( */
			case PG_QUERY__TOKEN__ASCII_91: /* [ */
				counts[open]++;
				sum++;
				counts[++open] = 0;
				break;
			default:
				if (!is_leaf_token(tok)) {
					counts[open]++;
					sum++;
				}
				break;
			}
			ok = sum <= MAX_DEPTH_ESTIMATE;
		}
		if (!sr)
			snprintf(err, errlen, "cannot decode the tokens");
		else if (!ok)
			snprintf(err, errlen,
				 "statement nested too deeply to attribute (more than %d levels)",
				 MAX_DEPTH_ESTIMATE);
		ok = ok && sr;
		pg_query__scan_result__free_unpacked(sr, NULL);
	}
	pg_query_free_scan_result(r);
	return ok;
}

int asql_tables(const char *sql, struct AuditRefs *out, char *err, size_t errlen)
{
	if (!small_enough(sql, err, errlen))
		return -1;
	PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql);
	int rc = 0;
	if (r.error) {
		snprintf(err, errlen, "%s", r.error->message ? r.error->message : "syntax error");
		rc = -1;
	} else {
		PgQuery__ParseResult *pr = pg_query__parse_result__unpack(
		    NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
		if (!pr) {
			snprintf(err, errlen, "cannot decode the parse tree");
			rc = -1;
		} else {
			struct Walker w = {.out = out, .err = err, .errlen = errlen};
			for (size_t i = 0; i < pr->n_stmts && !w.failed; i++) {
				const PgQuery__RawStmt *raw = pr->stmts[i];
				if (raw->stmt && accesses_rows(raw->stmt))
					walk(&w, &raw->stmt->base, ASQL_READ, 0);
			}
			free(w.ctes);
			rc = w.failed ? -1 : 0;
			pg_query__parse_result__free_unpacked(pr, NULL);
		}
	}
	pg_query_free_protobuf_parse_result(r);
	return rc;
}

void asql_refs_free(struct AuditRefs *refs)
{
	for (size_t i = 0; i < refs->n; i++) {
		free(refs->refs[i].schema);
		free(refs->refs[i].name);
	}
	free(refs->refs);
	refs->refs = NULL;
	refs->n = refs->cap = 0;
}
