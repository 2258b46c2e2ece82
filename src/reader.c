/* Table reader: the columns a table's snapshot events need, read with COPY and translated. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_text.h"
#include "pgconn.h"
#include "reader.h"
#include "strbuf.h"
#include "xalloc.h"

size_t rd_snapshot_tables(const struct Config *cfg, const char ***out)
{
	const char **tables = calloc(cfg->nevents ? cfg->nevents : 1, sizeof(char *));
	size_t n = 0;

	*out = tables;
	if (!tables)
		return 0;
	for (size_t i = 0; i < cfg->nevents; i++) {
		if (!(cfg->events[i].ops & OP_SNAPSHOT))
			continue;
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(tables[j], cfg->events[i].table) == 0;
		if (!seen)
			tables[n++] = cfg->events[i].table;
	}
	return n;
}

/* Does any snapshot event of table read column name? */
static bool column_used(const struct Config *cfg, const char *table, const char *name)
{
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *def = &cfg->events[i];
		if (!(def->ops & OP_SNAPSHOT) || strcmp(def->table, table) != 0)
			continue;
		const Expr *exprs[3] = {def->when, def->key, def->subject};
		size_t nexpr = 3 + def->nfields;
		for (size_t e = 0; e < nexpr; e++) {
			const Expr *x = e < 3 ? exprs[e] : def->fields[e - 3].value;
			const struct ExprColumn *cols;
			size_t ncols = x ? expr_columns(x, &cols) : 0;
			for (size_t c = 0; c < ncols; c++)
				if (!cols[c].old && strcmp(cols[c].name, name) == 0)
					return true;
		}
	}
	return false;
}

/* "[ONLY ]\"nsp\".\"rel\"", quoted, for a FROM clause. */
static char *from_clause(PGconn *conn, const char *nsp, const char *rel, bool only)
{
	char *qn = PQescapeIdentifier(conn, nsp, strlen(nsp));
	char *qr = PQescapeIdentifier(conn, rel, strlen(rel));
	if (!qn || !qr)
		abort();
	struct StrBuf from = {0};
	sb_printf(&from, "%s%s.%s", only ? "ONLY " : "", qn, qr);
	PQfreemem(qn);
	PQfreemem(qr);
	if (!sb_ok(&from))
		abort();
	return from.data;
}

/* A partitioned table's leaf partitions that hold rows (plain tables), into t->parts. */
static int load_parts(PGconn *conn, struct ReadTable *t, char *err, size_t errlen)
{
	char relid[16], line[512];
	snprintf(relid, sizeof(relid), "%u", t->rel.relid);
	const char *params[1] = {relid};
	PGresult *res = PQexecParams(
		conn,
		"SELECT c.oid, pg_catalog.pg_relation_filenode(c.oid), "
		"  pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int, "
		"  c.reltuples, n.nspname, c.relname "
		"FROM pg_catalog.pg_partition_tree($1::pg_catalog.oid::pg_catalog.regclass) p "
		"JOIN pg_catalog.pg_class c ON c.oid = p.relid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE p.isleaf AND c.relkind = 'r' ORDER BY c.oid",
		1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "table %s: reading its partitions: %s", t->rel.qualname, line);
		PQclear(res);
		return -1;
	}
	int n = PQntuples(res);
	t->parts = calloc(n ? (size_t)n : 1, sizeof(struct ReadPart));
	if (!t->parts)
		abort();
	for (int i = 0; i < n; i++) {
		struct ReadPart *part = &t->parts[t->nparts++];
		part->relid = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
		part->filenode = (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10);
		part->blocks = strtoull(PQgetvalue(res, i, 2), NULL, 10);
		part->reltuples = strtod(PQgetvalue(res, i, 3), NULL);
		part->from = from_clause(conn, PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), true);
	}
	PQclear(res);
	return 0;
}

void rd_split_name(const char *qualname, char nsp[256], char rel[256])
{
	const char *dot = strchr(qualname, '.');
	size_t n = dot ? (size_t)(dot - qualname) : 0;
	snprintf(nsp, 256, "%.*s", (int)n, qualname);
	snprintf(rel, 256, "%s", dot ? dot + 1 : qualname);
}

int rd_privileges(PGconn *conn, const char *qualname, struct TablePrivileges *out, char *err,
		  size_t errlen)
{
	char nsp[256], rel[256];
	rd_split_name(qualname, nsp, rel);
	const char *params[2] = {nsp, rel};
	/* By name: a regclass cast fails on schemas the role may not use (pg_toast). */
	PGresult *res = PQexecParams(
		conn,
		"SELECT pg_catalog.has_table_privilege(c.oid, 'SELECT'), "
		"  pg_catalog.has_table_privilege(c.oid, 'INSERT'), "
		"  pg_catalog.has_table_privilege(c.oid, 'UPDATE'), "
		"  pg_catalog.has_table_privilege(c.oid, 'DELETE'), "
		"  pg_catalog.has_table_privilege(c.oid, 'TRUNCATE') "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "table %s: reading the catalog: %s", qualname, line);
		PQclear(res);
		return -1;
	}
	*out = (struct TablePrivileges){.exists = PQntuples(res) == 1};
	if (out->exists) {
		bool *fields[] = {&out->select, &out->insert, &out->update, &out->del, &out->truncate};
		for (int i = 0; i < 5; i++)
			*fields[i] = PQgetvalue(res, 0, i)[0] == 't';
	}
	PQclear(res);
	return 0;
}

int rd_load(PGconn *conn, const struct Config *cfg, const char *qualname, enum rd_purpose purpose,
	    struct ReadTable *t, char *err, size_t errlen)
{
	char nsp[256], rel[256], line[512];

	memset(t, 0, sizeof(*t));
	if (!strchr(qualname, '.')) {
		snprintf(err, errlen, "table %s: write it schema.table", qualname);
		return -1;
	}
	rd_split_name(qualname, nsp, rel);
	/*
	 * pg_relation_size locks the table: a backfill, which needs no size,
	 * must not wait here, in the main loop, behind an exclusive lock.
	 */
	const char *params[4] = {nsp, rel, cfg->source.publication,
				 purpose == RD_BACKFILL ? "true" : "false"};

	/* Key: the replica identity index, or the primary key under REPLICA IDENTITY DEFAULT. */
	PGresult *res = PQexecParams(
		conn,
		"SELECT c.oid, c.relkind, pg_catalog.pg_relation_filenode(c.oid), "
		"  CASE WHEN $4 THEN 0 "
		"    ELSE pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int END, "
		"  c.reltuples, "
		"  EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables p "
		"    WHERE p.pubname = $3 AND p.schemaname = n.nspname AND p.tablename = c.relname), "
		"  a.attname, a.atttypid, a.atttypmod, "
		"  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
		"    AND (i.indisreplident OR (c.relreplident = 'd' AND i.indisprimary)) "
		"    AND a.attnum = ANY (i.indkey)), "
		"  pg_catalog.format_type(a.atttypid, a.atttypmod), c.relreplident "
		"FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
		"  AND NOT a.attisdropped AND a.attgenerated = '' "
		"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
		"ORDER BY a.attnum",
		4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "table %s: reading the catalog: %s", qualname, line);
		PQclear(res);
		return -1;
	}
	int n = PQntuples(res);
	if (n == 0) {
		snprintf(err, errlen, "table %s does not exist", qualname);
		PQclear(res);
		return -1;
	}
	t->rel.relid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	t->partitioned = PQgetvalue(res, 0, 1)[0] == 'p';
	t->filenode = (uint32_t)strtoul(PQgetvalue(res, 0, 2), NULL, 10);
	t->blocks = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
	t->reltuples = strtod(PQgetvalue(res, 0, 4), NULL);
	t->published = PQgetvalue(res, 0, 5)[0] == 't';
	t->rel.replident = PQgetvalue(res, 0, 11)[0];
	t->rel.nspname = xstrdup(nsp);
	t->rel.relname = xstrdup(rel);
	t->rel.qualname = xstrdup(qualname);
	t->rel.generation = 1;
	t->rel.atts = calloc((size_t)n, sizeof(struct RelColumn));
	if (!t->rel.atts)
		abort();

	struct StrBuf sel = {0};
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(res, i, 6);
		bool key = PQgetvalue(res, i, 9)[0] == 't';
		if (!column_used(cfg, qualname, name) && !key)
			continue;
		if (key) {
			if (t->nkeys == sizeof(t->keys) / sizeof(t->keys[0])) {
				snprintf(err, errlen, "table %s: more than 32 key columns", qualname);
				goto fail;
			}
			t->keys[t->nkeys] = t->rel.natts;
			t->key_types[t->nkeys++] = xstrdup(PQgetvalue(res, i, 10));
		}
		struct RelColumn *col = &t->rel.atts[t->rel.natts++];
		col->name = xstrdup(name);
		col->typoid = (uint32_t)strtoul(PQgetvalue(res, i, 7), NULL, 10);
		col->typmod = (int32_t)strtol(PQgetvalue(res, i, 8), NULL, 10);
		col->key = key;
		char *quoted = PQescapeIdentifier(conn, name, strlen(name));
		if (!quoted)
			abort();
		sb_printf(&sel, "%s%s", sel.len ? ", " : "", quoted);
		PQfreemem(quoted);
	}
	PQclear(res);
	res = NULL;
	if (purpose == RD_BACKFILL && t->nkeys == 0) {
		snprintf(err, errlen,
			 "table %s has no primary key or replica identity index to read it in key order",
			 qualname);
		goto fail;
	}
	if (!sb_ok(&sel))
		abort();
	t->from = from_clause(conn, nsp, rel, !t->partitioned);
	/* No column is needed (events of constants): still one line per row. */
	t->select_list = sel.len ? sel.data : xstrdup("");
	if (!sel.len)
		sb_free(&sel);
	if (purpose == RD_SNAPSHOT && t->partitioned && load_parts(conn, t, err, errlen) < 0) {
		rd_free(t);
		return -1;
	}
	return 0;
fail:
	PQclear(res);
	sb_free(&sel);
	rd_free(t);
	return -1;
}

void rd_free(struct ReadTable *t)
{
	for (uint16_t i = 0; i < t->rel.natts; i++)
		free(t->rel.atts[i].name);
	free(t->rel.atts);
	free(t->rel.nspname);
	free(t->rel.relname);
	free(t->rel.qualname);
	for (uint16_t i = 0; i < t->nkeys; i++)
		free(t->key_types[i]);
	free(t->from);
	free(t->select_list);
	for (size_t i = 0; i < t->nparts; i++)
		free(t->parts[i].from);
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

int rd_row(Translator *xl, const struct ReadTable *t, uint8_t *row, size_t len,
	   struct PgoValue *cols, char *err, size_t errlen)
{
	struct PgoTuple tuple = {.ncols = t->rel.natts, .cols = cols};

	if (copy_parse_row(row, len, cols, t->rel.natts, err, errlen) < 0)
		return -1;
	return xl_snapshot_row(xl, &t->rel, &tuple, err, errlen);
}
