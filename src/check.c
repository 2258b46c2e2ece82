/* Check: validate the configuration against the source database's live catalog. */
#include "autoconf.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "check.h"
#include "contract.h"
#include "encoder.h"
#include "expr.h"
#include "log.h"
#include "pgconn.h"
#include "reader.h"
#include "shard.h"
#include "value.h"

struct CatColumn {
	char *name;
	uint32_t typoid;
	int32_t typmod;
	char *type_name; /* format_type */
	bool key; /* in the replica identity key */
	bool toastable; /* varlena stored out of line when large */
	bool toast_warned; /* said once per event, not per use */
};

struct CatTable {
	bool exists;
	char replident; /* d n f i */
	bool partitioned;
	bool published;
	bool via_root; /* the publication publishes partitions' changes as the root's */
	uint32_t relid;
	struct CatColumn *cols;
	int ncols;
};

struct Checker {
	const struct Config *cfg;
	FILE *out;
	PGconn *conn;
	int errors;
	int warnings;
	Contract *ctr; /* the record of what events were validated against; NULL: not compared */
	/*
	 * run's start: a finding about a column the record has with another
	 * type (or that vanished) is drift, which the stream reports at the
	 * first row it affects, with its LSN, after delivering what came
	 * before; here it is only a warning.
	 */
	bool for_run;
	bool drift_seen; /* the expression being checked reads a drifted column */
};

static void finding(struct Checker *ck, bool error, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finding(struct Checker *ck, bool error, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(ck->out, "%s:%d: %s: ", ck->cfg->path, line, error ? "error" : "warning");
	va_start(ap, fmt);
	vfprintf(ck->out, fmt, ap);
	va_end(ap);
	fputc('\n', ck->out);
	if (error)
		ck->errors++;
	else
		ck->warnings++;
}

static void table_free(struct CatTable *t)
{
	for (int i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type_name);
	}
	free(t->cols);
}

/* Load one table's columns, replica identity and publication membership. */
static int load_table(struct Checker *ck, const char *qualname, struct CatTable *t, char *err,
		      size_t errlen)
{
	char nsp[256], rel[256];
	const char *dot = strchr(qualname, '.');

	memset(t, 0, sizeof(*t));
	snprintf(nsp, sizeof(nsp), "%.*s", (int)(dot - qualname), qualname);
	snprintf(rel, sizeof(rel), "%s", dot + 1);
	const char *params[3] = {nsp, rel, ck->cfg->source.publication};

	/*
	 * Key columns: those of the replica identity index, or of the primary
	 * key under REPLICA IDENTITY DEFAULT. TOAST-able: variable length with
	 * a storage that allows out-of-line values.
	 */
	PGresult *res = PQexecParams(
		ck->conn,
		"SELECT c.relreplident, a.attname, a.atttypid, "
		"  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
		"    AND (i.indisreplident OR (c.relreplident = 'd' AND i.indisprimary)) "
		"    AND a.attnum = ANY (i.indkey)), "
		"  t.typlen = -1 AND a.attstorage IN ('x', 'e'), "
		"  a.atttypmod, pg_catalog.format_type(a.atttypid, a.atttypmod), c.oid, c.relkind "
		"FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
		"JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
		"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
		"ORDER BY a.attnum",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "reading the catalog: %s", line);
		PQclear(res);
		return -1;
	}
	t->ncols = PQntuples(res);
	t->exists = t->ncols > 0;
	t->cols = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof(struct CatColumn));
	for (int i = 0; i < t->ncols; i++) {
		t->replident = PQgetvalue(res, i, 0)[0];
		t->cols[i].name = strdup(PQgetvalue(res, i, 1));
		t->cols[i].typoid = (uint32_t)strtoul(PQgetvalue(res, i, 2), NULL, 10);
		t->cols[i].key = PQgetvalue(res, i, 3)[0] == 't';
		t->cols[i].toastable = PQgetvalue(res, i, 4)[0] == 't';
		t->cols[i].typmod = (int32_t)strtol(PQgetvalue(res, i, 5), NULL, 10);
		t->cols[i].type_name = strdup(PQgetvalue(res, i, 6));
		t->relid = (uint32_t)strtoul(PQgetvalue(res, i, 7), NULL, 10);
		t->partitioned = PQgetvalue(res, i, 8)[0] == 'p';
	}
	PQclear(res);

	if (t->partitioned) {
		res = PQexecParams(ck->conn,
				   "SELECT pubviaroot FROM pg_catalog.pg_publication WHERE pubname = $1",
				   1, NULL, params + 2, NULL, NULL, 0);
		t->via_root = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
			      PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
	}

	res = PQexecParams(ck->conn,
			   "SELECT 1 FROM pg_catalog.pg_publication_tables "
			   "WHERE schemaname = $1 AND tablename = $2 AND pubname = $3",
			   3, NULL, params, NULL, NULL, 0);
	t->published = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static bool publication_exists(struct Checker *ck)
{
	const char *params[1] = {ck->cfg->source.publication};
	PGresult *res = PQexecParams(ck->conn,
				     "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", 1,
				     NULL, params, NULL, NULL, 0);
	bool exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	PQclear(res);
	return exists;
}

/* Would a publication created from the configuration cover this table? */
static bool config_publishes(const struct Config *cfg, const char *qualname)
{
	if (cfg->source.ntables == 0)
		return true; /* FOR ALL TABLES */
	for (size_t i = 0; i < cfg->source.ntables; i++) {
		const char *t = cfg->source.tables[i];
		if (strcmp(t, qualname) == 0 ||
		    (!strchr(t, '.') && strncmp(qualname, "public.", 7) == 0 &&
		     strcmp(t, qualname + 7) == 0))
			return true;
	}
	return false;
}

static struct CatColumn *find_column(struct CatTable *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

/*
 * The live column against the type this event was validated against (the
 * record `run` keeps): the same drift the stream would find, by the same
 * rules (docs/SCHEMA-DRIFT.md).
 */
static void check_recorded(struct Checker *ck, const struct EventDef *ev, const struct CatColumn *c,
			   const char *name, int line, const struct EventField *field)
{
	char label[300];
	struct CtrType was;

	snprintf(label, sizeof(label), "%s v%d", ev->name, ev->version);
	if (!ck->ctr || !ctr_lookup(ck->ctr, label, ev->table, name, UINT64_MAX, &was))
		return;
	if (!c || was.typoid != c->typoid || was.typmod != c->typmod)
		ck->drift_seen = true;
	if (!c)
		return;
	struct CtrType now = {c->typoid, c->typmod, c->type_name};
	if (was.typoid == now.typoid && was.typmod == now.typmod)
		return;
	bool ok = ctr_compatible(&was, &now, field);
	if (ck->for_run && ok)
		return; /* the stream records it when it gets there */
	finding(ck, !ok && !ck->for_run, line,
		"event %s: column %s.%s changed type from %s to %s since it was recorded, which is %scompatible%s%s%s (docs/SCHEMA-DRIFT.md)%s",
		label, ev->table, name, was.name, now.name, ok ? "" : "not ",
		field ? " with field \"" : "", field ? field->name : "", field ? "\"" : "",
		ck->for_run ? "; the stream stops at the first row written after the change" : "");
}

/*
 * Check one expression's columns against the table; on success fill the
 * column types for type inference. Returns false when a column is missing.
 */
static bool check_expr_columns(struct Checker *ck, const struct EventDef *ev,
			       struct CatTable *t, const Expr *e, int line, const char *what,
			       const struct EventField *field, uint32_t *coltypes)
{
	const struct ExprColumn *cols;
	size_t n = expr_columns(e, &cols);
	bool ok = true;
	bool updates = ev->ops & OP_UPDATE;

	for (size_t i = 0; i < n; i++) {
		struct CatColumn *c = find_column(t, cols[i].name);
		const char *side = cols[i].old ? "old" : "new";
		if (!c) {
			ck->drift_seen = false;
			check_recorded(ck, ev, NULL, cols[i].name, line, field);
			finding(ck, !(ck->for_run && ck->drift_seen), line,
				"event %s v%d: %s: column %s.%s does not exist in %s", ev->name,
				ev->version, what, side, cols[i].name, ev->table);
			ok = false;
			continue;
		}
		coltypes[i] = c->typoid;
		check_recorded(ck, ev, c, cols[i].name, line, field);
		if (t->replident == 'f')
			continue;
		if (cols[i].old && !c->key)
			finding(ck, true, line,
				"event %s v%d: %s: old.%s needs REPLICA IDENTITY FULL on %s (ALTER TABLE %s REPLICA IDENTITY FULL); without it the old value is not sent",
				ev->name, ev->version, what, c->name, ev->table, ev->table);
		else if (cols[i].old && updates)
			finding(ck, false, line,
				"event %s v%d: %s: old.%s is only sent for updates that change the key unless %s has REPLICA IDENTITY FULL",
				ev->name, ev->version, what, c->name, ev->table);
		else if (!cols[i].old && updates && c->toastable && !c->toast_warned) {
			c->toast_warned = true;
			finding(ck, false, line,
				"event %s v%d: %s: new.%s can be an unchanged TOAST value that updates do not send; without REPLICA IDENTITY FULL on %s it is then absent",
				ev->name, ev->version, what, c->name, ev->table);
		}
	}
	return ok;
}

/* One expression of an event, with where it was written. */
struct CheckedExpr {
	const Expr *e;
	const char *what;
	int line;
	const struct EventField *field; /* NULL for when, key and subject */
};

static void check_event(struct Checker *ck, const struct EventDef *ev, struct CatTable *t,
			bool pub_exists)
{
	char err[512];
	uint32_t recorded = ck->ctr ? ctr_relid(ck->ctr, ev->table) : 0;
	/*
	 * At run's start the publication guard reports a table tablecast
	 * streamed before that is gone or unpublished, with the LSN and the fix.
	 */
	bool guarded = ck->for_run && recorded;

	if (!t->exists) {
		finding(ck, !guarded, ev->line, "event %s v%d: table %s does not exist", ev->name,
			ev->version, ev->table);
		return;
	}
	uint64_t gap;
	const char *why;
	if (ck->for_run)
		recorded = 0;
	if (recorded && recorded != t->relid)
		finding(ck, true, ev->line,
			"event %s v%d: table %s was re-created (OID %u, now %u) since tablecast recorded it: rows may be missing; see tablecast(8), --resync-table",
			ev->name, ev->version, ev->table, recorded, t->relid);
	else if (ck->ctr && !ck->for_run && ctr_gap(ck->ctr, ev->table, &gap, &why))
		finding(ck, true, ev->line,
			"event %s v%d: %s (recorded); after fixing it, tablecast run --resync-table %s",
			ev->name, ev->version, why, ev->table);
	/*
	 * Without publish_via_partition_root, pgoutput sends a partitioned
	 * table's rows under each partition's own name, which no event is
	 * declared for: the events would never fire.
	 */
	if (pub_exists && t->partitioned && !t->via_root)
		finding(ck, true, ev->line,
			"event %s v%d: %s is a partitioned table, and publication \"%s\" publishes its rows under each partition's name, so the event would never fire (ALTER PUBLICATION %s SET (publish_via_partition_root = true))",
			ev->name, ev->version, ev->table, ck->cfg->source.publication,
			ck->cfg->source.publication);
	else if (pub_exists && !t->published)
		finding(ck, !guarded, ev->line,
			"event %s v%d: publication \"%s\" does not include %s (ALTER PUBLICATION %s ADD TABLE %s)",
			ev->name, ev->version, ck->cfg->source.publication, ev->table,
			ck->cfg->source.publication, ev->table);
	else if (!pub_exists && !config_publishes(ck->cfg, ev->table))
		finding(ck, true, ev->line,
			"event %s v%d: source.tables does not include %s, so the publication tablecast creates will not",
			ev->name, ev->version, ev->table);

	struct CheckedExpr exprs[3 + 256];
	size_t n = 0;
	exprs[n++] = (struct CheckedExpr){ev->when, "when", ev->when_line, NULL};
	exprs[n++] = (struct CheckedExpr){ev->key, "key", ev->key_line, NULL};
	exprs[n++] = (struct CheckedExpr){ev->subject, "subject", ev->subject_line, NULL};
	for (size_t f = 0; f < ev->nfields && n < sizeof(exprs) / sizeof(exprs[0]); f++)
		exprs[n++] = (struct CheckedExpr){ev->fields[f].value, ev->fields[f].name,
						  ev->fields[f].line, &ev->fields[f]};

	for (size_t i = 0; i < n; i++) {
		if (!exprs[i].e)
			continue;
		uint32_t coltypes[256] = {0};
		const struct ExprColumn *cols;
		ck->drift_seen = false;
		if (expr_columns(exprs[i].e, &cols) > 256)
			continue;
		if (!check_expr_columns(ck, ev, t, exprs[i].e, exprs[i].line, exprs[i].what,
					exprs[i].field, coltypes))
			continue;
		enum value_kind kind;
		/* At run's start, drift is the stream's to report (struct Checker). */
		bool fatal = !(ck->for_run && ck->drift_seen);
		if (expr_infer(exprs[i].e, coltypes, &kind, err, sizeof(err)) < 0) {
			finding(ck, fatal, exprs[i].line, "event %s v%d: %s: %s", ev->name, ev->version,
				exprs[i].what, err);
			continue;
		}
		if (i == 0 && kind != VAL_BOOL && kind != VAL_NULL)
			finding(ck, fatal, exprs[i].line, "event %s v%d: when: the condition is not a boolean",
				ev->name, ev->version);
		const struct EventField *f = exprs[i].field;
		if (f && kind != VAL_NULL && !enc_kind_fits(f->type, f->repeated, kind))
			finding(ck, fatal, f->line,
				"event %s v%d: field \"%s\": a %s value does not fit %s%s", ev->name,
				ev->version, f->name, value_kind_name(kind),
				f->repeated ? "repeated " : "", field_type_name(f->type));
	}
}

/* ---- the role: what it needs (docs/SECURITY.md), and what it has beyond that ---- */

/*
 * Errors for what a command will be refused, warnings for what the role
 * could do beyond tablecast's needs: on a shared database the difference
 * is what an attacker who takes over tablecast gets.
 */
static int check_role(struct Checker *ck, char *err, size_t errlen)
{
	const struct Config *cfg = ck->cfg;
	char line[512];
	PGresult *res = PQexec(
		ck->conn,
		"SELECT current_user, rolsuper, rolreplication, rolcreaterole, rolcreatedb, "
		"  rolbypassrls, "
		"  ARRAY(SELECT b.rolname FROM pg_catalog.pg_roles b WHERE b.rolname IN "
		"    ('pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files', "
		"     'pg_write_server_files', 'pg_execute_server_program') "
		"    AND pg_catalog.pg_has_role(b.oid, 'USAGE') ORDER BY 1) "
		"FROM pg_catalog.pg_roles WHERE rolname = current_user");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "reading the role: %s", line);
		PQclear(res);
		return -1;
	}
	char role[256];
	snprintf(role, sizeof(role), "%s", PQgetvalue(res, 0, 0));
	bool super = PQgetvalue(res, 0, 1)[0] == 't';
	if (super)
		finding(ck, false, 1,
			"role \"%s\" is a superuser: tablecast needs REPLICATION and SELECT on the tables it reads (docs/SECURITY.md)",
			role);
	else if (PQgetvalue(res, 0, 2)[0] != 't')
		finding(ck, true, 1, "role \"%s\" lacks REPLICATION: ALTER ROLE \"%s\" REPLICATION",
			role, role);
	static const char *const attrs[] = {"CREATEROLE", "CREATEDB", "BYPASSRLS"};
	for (int i = 0; i < 3 && !super; i++)
		if (PQgetvalue(res, 0, 3 + i)[0] == 't')
			finding(ck, false, 1, "role \"%s\" has %s, which tablecast does not need", role,
				attrs[i]);
	if (!super && strcmp(PQgetvalue(res, 0, 6), "{}") != 0)
		finding(ck, false, 1, "role \"%s\" is a member of %s, which tablecast does not need",
			role, PQgetvalue(res, 0, 6));
	PQclear(res);

	/* Tables of events: SELECT for snapshots and backfills, nothing that writes. */
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *ev = &cfg->events[i];
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(cfg->events[j].table, ev->table) != 0;
		if (!first)
			continue;
		bool snapshot = false;
		for (size_t j = 0; j < cfg->nevents; j++)
			snapshot |= (cfg->events[j].ops & OP_SNAPSHOT) &&
				    strcmp(cfg->events[j].table, ev->table) == 0;
		struct TablePrivileges priv;
		if (rd_privileges(ck->conn, ev->table, &priv, err, errlen) < 0)
			return -1;
		if (!priv.exists || super)
			continue;
		if (snapshot && !priv.select)
			finding(ck, true, ev->line,
				"event %s v%d: snapshots and backfills read %s, and role \"%s\" lacks SELECT on it (GRANT SELECT ON %s TO \"%s\")",
				ev->name, ev->version, ev->table, role, ev->table, role);
		/* Creating a publication FOR TABLE needs the tables' owner, who may write. */
		const struct {
			bool has;
			const char *what;
		} writes[] = {{priv.insert, "INSERT"}, {priv.update, "UPDATE"},
			      {priv.del, "DELETE"}, {priv.truncate, "TRUNCATE"}};
		for (int w = 0; w < 4 && !cfg->source.create_publication; w++)
			if (writes[w].has)
				finding(ck, false, ev->line,
					"role \"%s\" may %s %s, which tablecast does not need", role,
					writes[w].what, ev->table);
	}

	if (cfg->source.signal_table[0]) {
		bool create, publish;
		char why[512];
		if (bf_check(ck->conn, cfg, &create, &publish, why, sizeof(why)) < 0)
			finding(ck, true, 1, "%s", why);
	}
	return 0;
}

/*
 * An outbox table: published like an event's table (a handover event reads
 * it besides its translator's), with the columns tablecast reads in types
 * whose text it parses.
 */
static void check_outbox(struct Checker *ck, const struct EventDef *ev, struct CatTable *t,
			 bool pub_exists)
{
	static const struct {
		const char *name;
		bool required;
		uint32_t oids[3]; /* accepted types */
		const char *types;
	} cols[] = {
		{"event", true, {25, 1043, 0}, "text"},
		{"version", true, {23, 21, 20}, "integer"},
		{"key", false, {25, 1043, 0}, "text"},
		{"subject", false, {25, 1043, 0}, "text"},
		{"payload", true, {17, 0, 0}, "bytea"},
		{"headers", false, {3802, 114, 0}, "jsonb"},
	};

	if (ev->handover) {
		struct EventDef outbox = *ev;
		outbox.table = ev->outbox;
		outbox.when = outbox.key = outbox.subject = NULL;
		outbox.nfields = 0;
		check_event(ck, &outbox, t, pub_exists);
	}
	if (!t->exists)
		return;
	for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		const struct CatColumn *c = find_column(t, cols[k].name);
		if (!c) {
			if (cols[k].required)
				finding(ck, true, ev->line,
					"event %s v%d: outbox %s has no column %s (%s); see tablecast.cfg(5), OUTBOX",
					ev->name, ev->version, ev->outbox, cols[k].name, cols[k].types);
			continue;
		}
		bool ok = false;
		for (size_t o = 0; o < 3 && cols[k].oids[o]; o++)
			ok |= c->typoid == cols[k].oids[o];
		if (!ok)
			finding(ck, true, ev->line,
				"event %s v%d: outbox %s column %s is %s, expected %s", ev->name,
				ev->version, ev->outbox, c->name, c->type_name, cols[k].types);
	}
}


/* ---- shards: a generated row filter on a key every row has, in the replica identity ---- */

int chk_shard_key(PGconn *conn, const struct ShardDef *sh, char *err, size_t errlen)
{
	char nsp[256], rel[256], line[512];

	if (PQserverVersion(conn) < 150000) {
		snprintf(err, errlen,
			 "shard of %s: publication row filters need PostgreSQL 15 or later (server is %d)",
			 sh->table, PQserverVersion(conn));
		return -1;
	}
	rd_split_name(sh->table, nsp, rel);
	/* Literals, not parameters: the replication connection speaks the simple protocol only. */
	char *qn = PQescapeLiteral(conn, nsp, strlen(nsp));
	char *qr = PQescapeLiteral(conn, rel, strlen(rel));
	char *qk = PQescapeLiteral(conn, sh->key, strlen(sh->key));
	char sql[2048];
	if (qn && qr && qk)
		snprintf(sql, sizeof(sql),
			 "SELECT c.relreplident, a.attname IS NOT NULL, a.atttypid, a.attnotnull, "
			 "  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
			 "    AND (i.indisreplident OR (c.relreplident = 'd' AND i.indisprimary)) "
			 "    AND a.attnum = ANY (i.indkey)), "
			 "  pg_catalog.format_type(a.atttypid, a.atttypmod) "
			 "FROM pg_catalog.pg_class c "
			 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			 "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
			 "  AND NOT a.attisdropped AND a.attname = %s "
			 "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
			 qk, qn, qr);
	PQfreemem(qn);
	PQfreemem(qr);
	PQfreemem(qk);
	if (!qn || !qr || !qk) {
		snprintf(err, errlen, "shard of %s: out of memory", sh->table);
		return -2;
	}
	PGresult *res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "reading the catalog: %s", line);
		PQclear(res);
		return -2;
	}
	int rc = -1;
	if (PQntuples(res) != 1) {
		snprintf(err, errlen, "shard table %s does not exist", sh->table);
	} else if (PQgetvalue(res, 0, 1)[0] != 't') {
		snprintf(err, errlen, "shard key %s.%s does not exist", sh->table, sh->key);
	} else {
		uint32_t typoid = (uint32_t)strtoul(PQgetvalue(res, 0, 2), NULL, 10);
		char ident = PQgetvalue(res, 0, 0)[0];
		if (typoid != 20 && typoid != 21 && typoid != 23)
			snprintf(err, errlen,
				 "shard key %s.%s is %s: only smallint, integer and bigint keys can be split (docs/SCALING.md)",
				 sh->table, sh->key, PQgetvalue(res, 0, 5));
		else if (PQgetvalue(res, 0, 3)[0] != 't')
			snprintf(err, errlen,
				 "shard key %s.%s may be NULL, and a NULL key matches no shard's filter, so its rows would reach no slot: ALTER TABLE %s ALTER COLUMN %s SET NOT NULL",
				 sh->table, sh->key, sh->table, sh->key);
		else if (ident != 'f' && PQgetvalue(res, 0, 4)[0] != 't')
			/*
			 * PostgreSQL 15 accepts such a publication, then refuses
			 * every UPDATE and DELETE on the table ("Column used in the
			 * publication WHERE expression is not part of the replica
			 * identity"): the applications' writes would fail.
			 */
			snprintf(err, errlen,
				 "shard key %s.%s is not in the replica identity of %s, and with its row filter PostgreSQL would refuse every UPDATE and DELETE on the table: make it part of the primary key or of REPLICA IDENTITY USING INDEX, or ALTER TABLE %s REPLICA IDENTITY FULL",
				 sh->table, sh->key, sh->table, sh->table);
		else
			rc = 0;
	}
	PQclear(res);
	return rc;
}

/*
 * Every sibling publication's filter on the table, together: each row in
 * exactly one. Siblings are the publications whose filter on the table is
 * a generated one on the same key; ours counts as configured until it
 * exists. A gap is tolerated at run's start (siblings start one by one),
 * never by the check command.
 */
static int check_shard(struct Checker *ck, const struct ShardDef *sh, bool pub_exists, char *err,
		       size_t errlen)
{
	char why[1024], want[128], nsp[256], rel[256];

	if (chk_shard_key(ck->conn, sh, why, sizeof(why)) != 0) {
		finding(ck, true, sh->line, "%s", why);
		return 0;
	}
	shard_filter_sql(sh, want, sizeof(want));
	rd_split_name(sh->table, nsp, rel);
	const char *params[2] = {nsp, rel};
	PGresult *res = PQexecParams(ck->conn,
				     "SELECT pubname, rowfilter FROM pg_catalog.pg_publication_tables "
				     "WHERE schemaname = $1 AND tablename = $2 ORDER BY pubname",
				     2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgc_first_line(PQresultErrorMessage(res), why, sizeof(why));
		snprintf(err, errlen, "reading the publications of %s: %s", sh->table, why);
		PQclear(res);
		return -1;
	}
	int n = PQntuples(res);
	struct ShardPart *parts = calloc((size_t)n + 1, sizeof(*parts));
	if (!parts) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t nparts = 0;
	char others[512] = "";
	const char *pub = ck->cfg->source.publication;
	if (!pub_exists)
		parts[nparts++] = (struct ShardPart){pub, sh->count, sh->index};
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(res, i, 0);
		const char *filter = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		int count, index;
		bool generated = shard_parse_rowfilter(filter, sh->key, &count, &index);
		if (strcmp(name, pub) == 0 && (!generated || count != sh->count || index != sh->index)) {
			finding(ck, true, sh->line,
				"publication \"%s\" %s%s%s%s, not with the filter source.shard generates (%s): ALTER PUBLICATION \"%s\" DROP TABLE %s; ALTER PUBLICATION \"%s\" ADD TABLE %s WHERE (%s)",
				pub, filter ? "filters " : "publishes every row of ", sh->table,
				filter ? " by " : "", filter ? filter : "", want, pub, sh->table, pub,
				sh->table, want);
			continue;
		}
		if (generated)
			parts[nparts++] = (struct ShardPart){name, count, index};
		else if (strlen(others) + strlen(name) + 8 < sizeof(others))
			snprintf(others + strlen(others), sizeof(others) - strlen(others), "%s\"%s\"",
				 others[0] ? ", " : "", name);
	}
	bool gap_only;
	if (shard_cover(sh->table, sh->key, parts, nparts, &gap_only, why, sizeof(why)) < 0) {
		if (gap_only && others[0])
			finding(ck, !ck->for_run, sh->line,
				"%s (publication %s carries %s without a generated shard filter: if it is a sibling, its filter was changed by hand)",
				why, others, sh->table);
		else
			finding(ck, !(ck->for_run && gap_only), sh->line, "%s", why);
	}
	free(parts);
	PQclear(res);
	return 0;
}

static int check_all(const struct Config *cfg, FILE *out, bool for_run, char *err, size_t errlen)
{
	struct Checker ck = {.cfg = cfg, .out = out, .for_run = for_run};
	const char *keys[] = {"dbname", "fallback_application_name", "options", NULL};
	const char *vals[] = {cfg->source.conninfo, "tablecast check", "-c default_transaction_read_only=on", NULL};

	ck.conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(ck.conn) != CONNECTION_OK) {
		char line[512];
		pgc_first_line(PQerrorMessage(ck.conn), line, sizeof(line));
		snprintf(err, errlen, "connecting to PostgreSQL: %s", line);
		PQfinish(ck.conn);
		return -1;
	}
	char why[512];
	ck.ctr = ctr_open(cfg, why, sizeof(why));
	if (!ck.ctr && !for_run)
		finding(&ck, false, 1, "%s: not compared with the recorded schema", why);
	bool pub_exists = publication_exists(&ck);
	if (!pub_exists && !cfg->source.create_publication)
		finding(&ck, true, 1,
			"publication \"%s\" does not exist and source.create_publication is false",
			cfg->source.publication);

	/* What the role needs and has: the command's question, not every start's. */
	if (!for_run && check_role(&ck, err, errlen) < 0) {
		PQfinish(ck.conn);
		ctr_free(ck.ctr);
		return -1;
	}
	for (size_t i = 0; i < cfg->nevents; i++) {
		struct CatTable t;
		if (load_table(&ck, cfg->events[i].table, &t, err, errlen) < 0) {
			PQfinish(ck.conn);
			ctr_free(ck.ctr);
			return -1;
		}
		check_event(&ck, &cfg->events[i], &t, pub_exists);
		table_free(&t);
	}
	for (size_t i = 0; i < cfg->source.nshards; i++)
		if (check_shard(&ck, &cfg->source.shards[i], pub_exists, err, errlen) < 0) {
			PQfinish(ck.conn);
			ctr_free(ck.ctr);
			return -1;
		}
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *ev = &cfg->events[i];
		bool seen = !ev->outbox;
		for (size_t j = 0; j < i && !seen; j++)
			seen = cfg->events[j].outbox && strcmp(cfg->events[j].outbox, ev->outbox) == 0;
		if (seen)
			continue;
		struct CatTable t;
		if (load_table(&ck, ev->outbox, &t, err, errlen) < 0) {
			PQfinish(ck.conn);
			ctr_free(ck.ctr);
			return -1;
		}
		check_outbox(&ck, ev, &t, pub_exists);
		table_free(&t);
	}
	PQfinish(ck.conn);
	ctr_free(ck.ctr);
	fprintf(out, "%s: %d error%s, %d warning%s\n", cfg->path, ck.errors,
		ck.errors == 1 ? "" : "s", ck.warnings, ck.warnings == 1 ? "" : "s");
	return ck.errors;
}

int chk_run(const struct Config *cfg, FILE *out, char *err, size_t errlen)
{
	return check_all(cfg, out, false, err, errlen);
}

int chk_start(const struct Config *cfg, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The recorded schema is the stream's to compare, where each row has its LSN. */
	int errors = check_all(cfg, mem, true, err, errlen);
	fclose(mem);
	for (char *line = text, *next; errors >= 0 && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strstr(line, ": error: "))
			log_error("%s", line);
		else if (strstr(line, ": warning: "))
			log_warning("%s", line);
	}
	free(text);
	return errors;
}
