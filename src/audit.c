/* Audit: who reads and writes each shared table, from PostgreSQL's own statistics. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "audit_sql.h"
#include "file.h"
#include "log.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

#define MAX_PATH_SCHEMAS 32
#define STATE_HEADER "tablecast audit 1"

/* A relation of the audited database. */
struct Rel {
	uint32_t oid;
	char *schema, *name, *qualified;
	char kind; /* pg_class.relkind */
	uint32_t *bases; /* a view: the relations its rules read */
	size_t nbases;
	bool system; /* pg_catalog, information_schema: never reported */
};

/* One role's use of one table in one way: the unit of the report and of the state file. */
struct Access {
	char *table; /* schema.table */
	char *role;
	bool write; /* else read */
	long long calls, rows, statements;
	char *via; /* views it went through, ", "-separated; NULL = none */
	time_t last_change; /* when an audit first saw calls other than the audit before it */
	bool active; /* calls changed since the previous audit (or no previous audit) */
	bool started; /* new, or idle at the previous audit and active now */
	bool is_new; /* started, and not in the previous audit at all */
};

/* What the previous audit kept. */
struct Prev {
	char *table, *role;
	bool write;
	long long calls;
	time_t last_change;
	bool active;
	bool seen; /* matched by an access of this audit */
};

struct RoleCtx {
	char *role;
	char *path[MAX_PATH_SCHEMAS];
	size_t npath;
};

struct Audit {
	const struct AuditOptions *o;
	PGconn *conn;
	char *database;
	char *pss; /* the schema of pg_stat_statements, quoted */
	struct Rel *rels; /* sorted by (schema, name) */
	size_t nrels;
	struct Rel **by_oid; /* the same, sorted by oid */
	struct RoleCtx *roles;
	size_t nroles;
	char *default_path;
	struct Access *acc;
	size_t nacc, capacc;
	struct Prev *prev;
	size_t nprev;
	bool have_prev;
	time_t prev_at, now;
	long long statements, unattributed, hidden, no_text;
	char unattributed_example[512];
	char stats_reset[64];
	long long dealloc;
	bool have_info;
	char *err;
	size_t errlen;
};

static PGresult *query(struct Audit *a, const char *sql, int nparams, const char *const *params,
		       const char *what)
{
	PGresult *res = PQexecParams(a->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(a->err, a->errlen, "%s: %s", what, line);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* ---- search_path ---------------------------------------------------------- */

size_t audit_search_path(const char *value, const char *role, char **out, size_t max)
{
	size_t n = 0;
	const char *p = value;
	while (*p && n < max) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
			p++;
		if (!*p)
			break;
		struct StrBuf sb = {0};
		bool quoted = *p == '"';
		if (quoted) {
			for (p++; *p; p++) {
				if (*p == '"' && p[1] == '"') {
					sb_putc(&sb, '"');
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					sb_putc(&sb, *p);
				}
			}
		} else {
			for (; *p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n'; p++)
				sb_putc(&sb, (char)tolower((unsigned char)*p));
		}
		while (*p && *p != ',')
			p++;
		sb_putc(&sb, '\0');
		if (!sb_ok(&sb)) {
			sb_free(&sb);
			break;
		}
		if (strcmp(sb.data, "$user") == 0) {
			out[n++] = xstrdup(role);
			sb_free(&sb);
		} else if (sb.data[0]) {
			out[n++] = sb.data;
		} else {
			sb_free(&sb);
		}
	}
	return n;
}

/* ---- the catalog ----------------------------------------------------------- */

static int rel_cmp(const void *pa, const void *pb)
{
	const struct Rel *x = pa, *y = pb;
	int c = strcmp(x->schema, y->schema);
	return c ? c : strcmp(x->name, y->name);
}

static struct Rel *rel_find(struct Audit *a, const char *schema, const char *name)
{
	struct Rel key = {.schema = (char *)schema, .name = (char *)name};
	return bsearch(&key, a->rels, a->nrels, sizeof(*a->rels), rel_cmp);
}

static int rel_oid_cmp(const void *pa, const void *pb)
{
	const struct Rel *x = *(const struct Rel *const *)pa, *y = *(const struct Rel *const *)pb;
	return (x->oid > y->oid) - (x->oid < y->oid);
}

static struct Rel *rel_by_oid(struct Audit *a, uint32_t oid)
{
	struct Rel key = {.oid = oid}, *kp = &key;
	struct Rel **found = bsearch(&kp, a->by_oid, a->nrels, sizeof(*a->by_oid), rel_oid_cmp);
	return found ? *found : NULL;
}

/* Every table, view and the like, and what each view's rules read (views of views too). */
static int load_catalog(struct Audit *a)
{
	PGresult *res = query(
	    a,
	    "SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'pg_toast' "
	    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'",
	    0, NULL, "reading the catalog");
	if (!res)
		return -1;
	a->nrels = (size_t)PQntuples(res);
	a->rels = xcalloc(a->nrels, sizeof(*a->rels));
	for (size_t i = 0; i < a->nrels; i++) {
		struct Rel *r = &a->rels[i];
		r->oid = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
		r->schema = xstrdup(PQgetvalue(res, (int)i, 1));
		r->name = xstrdup(PQgetvalue(res, (int)i, 2));
		r->kind = PQgetvalue(res, (int)i, 3)[0];
		size_t len = strlen(r->schema) + strlen(r->name) + 2;
		r->qualified = xcalloc(len, 1);
		snprintf(r->qualified, len, "%s.%s", r->schema, r->name);
		r->system = strcmp(r->schema, "pg_catalog") == 0 ||
			    strcmp(r->schema, "information_schema") == 0;
	}
	PQclear(res);
	qsort(a->rels, a->nrels, sizeof(*a->rels), rel_cmp);
	a->by_oid = xcalloc(a->nrels, sizeof(*a->by_oid));
	for (size_t i = 0; i < a->nrels; i++)
		a->by_oid[i] = &a->rels[i];
	qsort(a->by_oid, a->nrels, sizeof(*a->by_oid), rel_oid_cmp);

	/* A view's _RETURN rule depends on every relation its query names. */
	res = query(a,
		    "SELECT DISTINCT rw.ev_class, d.refobjid FROM pg_catalog.pg_rewrite rw "
		    "JOIN pg_catalog.pg_class v ON v.oid = rw.ev_class AND v.relkind = 'v' "
		    "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass "
		    "AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass "
		    "AND d.refobjid <> rw.ev_class ORDER BY 1, 2",
		    0, NULL, "reading view definitions");
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct Rel *v = rel_by_oid(a, (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10));
		if (!v)
			continue;
		uint32_t *b = realloc(v->bases, (v->nbases + 1) * sizeof(*b));
		if (!b) {
			PQclear(res);
			snprintf(a->err, a->errlen, "out of memory");
			return -1;
		}
		v->bases = b;
		v->bases[v->nbases++] = (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10);
	}
	PQclear(res);
	return 0;
}

/*
 * PostgreSQL leaves out of a session's path the schemas its role may not
 * use (no USAGE): a table there is never what an unqualified name means.
 * Asked for the schemas the paths name only, so the answer stays small.
 */
static int drop_unusable_schemas(struct Audit *a)
{
	struct StrBuf arr = {0};
	sb_putc(&arr, '{');
	for (size_t i = 0; i < a->nroles; i++)
		for (size_t k = 0; k < a->roles[i].npath; k++) {
			if (arr.len > 1)
				sb_putc(&arr, ',');
			sb_putc(&arr, '"');
			for (const char *c = a->roles[i].path[k]; *c; c++) {
				if (*c == '"' || *c == '\\')
					sb_putc(&arr, '\\');
				sb_putc(&arr, *c);
			}
			sb_putc(&arr, '"');
		}
	sb_puts(&arr, "}");
	sb_putc(&arr, '\0');
	if (!sb_ok(&arr)) {
		sb_free(&arr);
		snprintf(a->err, a->errlen, "out of memory");
		return -1;
	}
	const char *params[1] = {arr.data};
	PGresult *res = query(a,
			      "SELECT r.rolname, n.nspname FROM pg_catalog.pg_roles r, "
			      "pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[]) "
			      "AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')",
			      1, params, "reading schema privileges");
	sb_free(&arr);
	if (!res)
		return -1;
	for (size_t i = 0; i < a->nroles; i++) {
		struct RoleCtx *rc = &a->roles[i];
		size_t kept = 0;
		for (size_t k = 0; k < rc->npath; k++) {
			bool usable = false;
			for (int r = 0; r < PQntuples(res) && !usable; r++)
				usable = strcmp(PQgetvalue(res, r, 0), rc->role) == 0 &&
					 strcmp(PQgetvalue(res, r, 1), rc->path[k]) == 0;
			if (usable)
				rc->path[kept++] = rc->path[k];
			else
				free(rc->path[k]);
		}
		rc->npath = kept;
	}
	PQclear(res);
	return 0;
}

/*
 * Each role's search_path, as a new session of it in this database gets
 * it: ALTER ROLE ... IN DATABASE, then ALTER ROLE, then ALTER DATABASE,
 * then the server's setting (PostgreSQL's order). A SET in the session
 * itself cannot be seen.
 */
static int load_search_paths(struct Audit *a)
{
	PGresult *res = query(a,
			      "SELECT CASE WHEN source IN ('default', 'configuration file', "
			      "'command line', 'environment variable') THEN reset_val ELSE boot_val END "
			      "FROM pg_catalog.pg_settings WHERE name = 'search_path'",
			      0, NULL, "reading search_path");
	if (!res)
		return -1;
	a->default_path = xstrdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "\"$user\", public");
	PQclear(res);
	res = query(a,
		    "SELECT r.rolname, (SELECT substr(c, 13) FROM pg_catalog.pg_db_role_setting s, "
		    "unnest(s.setconfig) c WHERE c LIKE 'search\\_path=%' AND s.setrole IN (r.oid, 0) "
		    "AND s.setdatabase IN (d.oid, 0) ORDER BY s.setrole = 0, s.setdatabase = 0 LIMIT 1) "
		    "FROM pg_catalog.pg_roles r, pg_catalog.pg_database d "
		    "WHERE d.datname = pg_catalog.current_database()",
		    0, NULL, "reading the roles' settings");
	if (!res)
		return -1;
	a->nroles = (size_t)PQntuples(res);
	a->roles = xcalloc(a->nroles, sizeof(*a->roles));
	for (size_t i = 0; i < a->nroles; i++) {
		struct RoleCtx *rc = &a->roles[i];
		rc->role = xstrdup(PQgetvalue(res, (int)i, 0));
		const char *path =
		    PQgetisnull(res, (int)i, 1) ? a->default_path : PQgetvalue(res, (int)i, 1);
		rc->npath = audit_search_path(path, rc->role, rc->path, MAX_PATH_SCHEMAS);
	}
	PQclear(res);
	return drop_unusable_schemas(a);
}

static const struct RoleCtx *role_ctx(struct Audit *a, const char *role)
{
	for (size_t i = 0; i < a->nroles; i++)
		if (strcmp(a->roles[i].role, role) == 0)
			return &a->roles[i];
	return NULL;
}

/* An unqualified name: pg_catalog first unless the path places it, then the path. */
static struct Rel *resolve(struct Audit *a, const struct RoleCtx *rc, const struct AuditRef *ref)
{
	if (ref->schema)
		return rel_find(a, ref->schema, ref->name);
	bool catalog_listed = false;
	for (size_t i = 0; rc && i < rc->npath; i++)
		catalog_listed = catalog_listed || strcmp(rc->path[i], "pg_catalog") == 0;
	struct Rel *r = catalog_listed ? NULL : rel_find(a, "pg_catalog", ref->name);
	for (size_t i = 0; !r && rc && i < rc->npath; i++)
		r = rel_find(a, rc->path[i], ref->name);
	return r;
}

/* ---- attribution ------------------------------------------------------------ */

static struct Access *access_get(struct Audit *a, const char *table, const char *role, bool write)
{
	for (size_t i = 0; i < a->nacc; i++)
		if (a->acc[i].write == write && strcmp(a->acc[i].table, table) == 0 &&
		    strcmp(a->acc[i].role, role) == 0)
			return &a->acc[i];
	if (a->nacc == a->capacc) {
		a->capacc = a->capacc ? a->capacc * 2 : 32;
		a->acc = realloc(a->acc, a->capacc * sizeof(*a->acc));
		if (!a->acc) {
			fputs("tablecast: out of memory\n", stderr);
			abort();
		}
	}
	struct Access *x = &a->acc[a->nacc++];
	memset(x, 0, sizeof(*x));
	x->table = xstrdup(table);
	x->role = xstrdup(role);
	x->write = write;
	return x;
}

static void add_via(struct Access *x, const char *view)
{
	if (x->via) {
		/* Each view once. */
		const char *p = x->via;
		size_t len = strlen(view);
		while (p) {
			if (strncmp(p, view, len) == 0 && (p[len] == ',' || p[len] == '\0'))
				return;
			p = strchr(p, ',');
			p = p ? p + 2 : NULL;
		}
	}
	size_t len = (x->via ? strlen(x->via) + 2 : 0) + strlen(view) + 1;
	char *v = xcalloc(len, 1);
	snprintf(v, len, "%s%s%s", x->via ? x->via : "", x->via ? ", " : "", view);
	free(x->via);
	x->via = v;
}

/* The statement's counts on rel, or on the base tables of a view (recursively; depth-bounded). */
static void attribute(struct Audit *a, struct Rel *rel, const char *role, unsigned access,
		      long long calls, long long rows, const char *via, int depth)
{
	if (rel->kind == 'v') {
		for (size_t i = 0; i < rel->nbases && depth < 32; i++) {
			struct Rel *base = rel_by_oid(a, rel->bases[i]);
			if (base && base != rel)
				attribute(a, base, role, access, calls, rows, via ? via : rel->qualified,
					  depth + 1);
		}
		return;
	}
	if (rel->system)
		return;
	for (int w = 0; w < 2; w++) {
		if (!(access & (w ? ASQL_WRITE : ASQL_READ)))
			continue;
		struct Access *x = access_get(a, rel->qualified, role, w == 1);
		x->calls += calls;
		x->rows += rows;
		x->statements++;
		if (via)
			add_via(x, via);
	}
}

static int load_statements(struct Audit *a)
{
	PGresult *res = query(a,
			      "SELECT e.extnamespace::pg_catalog.regnamespace::text FROM "
			      "pg_catalog.pg_extension e WHERE e.extname = 'pg_stat_statements'",
			      0, NULL, "looking for pg_stat_statements");
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		snprintf(a->err, a->errlen,
			 "database %s has no pg_stat_statements: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, restart PostgreSQL and run CREATE EXTENSION pg_stat_statements in this database",
			 a->database);
		PQclear(res);
		return -1;
	}
	a->pss = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "SELECT COALESCE(r.rolname, s.userid::text), s.query, sum(s.calls)::bigint, "
		 "sum(s.rows)::bigint FROM %s.pg_stat_statements s "
		 "LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid "
		 "WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database "
		 "WHERE datname = pg_catalog.current_database()) GROUP BY 1, 2",
		 a->pss);
	res = PQexecParams(a->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		if (strstr(line, "shared_preload_libraries"))
			snprintf(a->err, a->errlen,
				 "reading pg_stat_statements: %s: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf and restart PostgreSQL",
				 line);
		else
			snprintf(a->err, a->errlen, "reading pg_stat_statements: %s", line);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *role = PQgetvalue(res, i, 0);
		long long calls = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		long long rows = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		a->statements++;
		if (PQgetisnull(res, i, 1)) {
			/* The texts file was lost (a crash, or a reset while it was being read). */
			a->no_text++;
			continue;
		}
		const char *text = PQgetvalue(res, i, 1);
		if (strcmp(text, "<insufficient privilege>") == 0) {
			a->hidden++;
			continue;
		}
		struct AuditRefs refs = {0};
		char why[200];
		if (asql_tables(text, &refs, why, sizeof(why)) < 0) {
			if (!a->unattributed++)
				snprintf(a->unattributed_example, sizeof(a->unattributed_example),
					 "role %s: %s", role, why);
			asql_refs_free(&refs);
			continue;
		}
		const struct RoleCtx *rc = role_ctx(a, role);
		for (size_t k = 0; k < refs.n; k++) {
			struct Rel *rel = resolve(a, rc, &refs.refs[k]);
			if (rel)
				attribute(a, rel, role, refs.refs[k].access, calls, rows, NULL, 0);
		}
		asql_refs_free(&refs);
	}
	PQclear(res);

	/* PostgreSQL 14 and later: since when, and how many statements were evicted. */
	snprintf(sql, sizeof(sql),
		 "SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
		 "dealloc FROM %s.pg_stat_statements_info",
		 a->pss);
	res = PQexecParams(a->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		a->have_info = true;
		snprintf(a->stats_reset, sizeof(a->stats_reset), "%s", PQgetvalue(res, 0, 0));
		a->dealloc = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return 0;
}

/* ---- the previous audit ---------------------------------------------------- */

/* Names go into the state file with tabs, newlines and '%' as %XX. */
static void put_escaped(struct StrBuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == '%' || c == 0x7f)
			sb_printf(sb, "%%%02X", c);
		else
			sb_putc(sb, (char)c);
	}
}

static char *unescape(const char *s, size_t len)
{
	char *out = xcalloc(len + 1, 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};
			out[n++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	return out;
}

static void state_path(const struct Audit *a, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/audit.last", a->o->cfg->state_dir);
}

/*
 * <state_dir>/audit.last: a header line, "at <unix time>", then one line
 * per access: table, role, read|write, calls, last change (unix time),
 * active (0|1), tab-separated. A file that does not parse is reported, not
 * trusted.
 */
static int load_prev(struct Audit *a)
{
	char path[4096];
	state_path(a, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(a->err, a->errlen, "previous audit %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	bool bad = false;
	while (!bad && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			bad = strcmp(line, STATE_HEADER) != 0;
			continue;
		}
		if (strncmp(line, "at ", 3) == 0) {
			a->prev_at = (time_t)strtoll(line + 3, NULL, 10);
			a->have_prev = true;
			continue;
		}
		char *fields[6];
		size_t nf = 0;
		char *p = line;
		while (nf < 6) {
			fields[nf++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (nf != 6 || (strcmp(fields[2], "read") != 0 && strcmp(fields[2], "write") != 0)) {
			bad = true;
			break;
		}
		struct Prev *np = realloc(a->prev, (a->nprev + 1) * sizeof(*np));
		if (!np) {
			bad = true;
			break;
		}
		a->prev = np;
		struct Prev *pv = &a->prev[a->nprev++];
		memset(pv, 0, sizeof(*pv));
		pv->table = unescape(fields[0], strlen(fields[0]));
		pv->role = unescape(fields[1], strlen(fields[1]));
		pv->write = strcmp(fields[2], "write") == 0;
		pv->calls = strtoll(fields[3], NULL, 10);
		pv->last_change = (time_t)strtoll(fields[4], NULL, 10);
		pv->active = strcmp(fields[5], "1") == 0;
	}
	free(line);
	fclose(f);
	if (bad || !a->have_prev) {
		snprintf(a->err, a->errlen,
			 "previous audit %s: line %d is not what tablecast audit writes: remove the file to start afresh",
			 path, lineno);
		return -1;
	}
	return 0;
}

static int save_state(struct Audit *a)
{
	struct StrBuf sb = {0};
	sb_printf(&sb, "%s\nat %lld\n", STATE_HEADER, (long long)a->now);
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		put_escaped(&sb, x->table);
		sb_putc(&sb, '\t');
		put_escaped(&sb, x->role);
		sb_printf(&sb, "\t%s\t%lld\t%lld\t%d\n", x->write ? "write" : "read", x->calls,
			  (long long)x->last_change, x->active ? 1 : 0);
	}
	if (!sb_ok(&sb)) {
		sb_free(&sb);
		snprintf(a->err, a->errlen, "out of memory");
		return -1;
	}
	char path[4096];
	state_path(a, path, sizeof(path));
	if (file_state_dir(a->o->cfg->state_dir, a->err, a->errlen) < 0) {
		sb_free(&sb);
		return -1;
	}
	int rc = file_replace(path, sb.data, sb.len, "audit state", a->err, a->errlen);
	sb_free(&sb);
	return rc;
}

static int by_table_kind_role(const void *pa, const void *pb)
{
	const struct Access *x = pa, *y = pb;
	int c = strcmp(x->table, y->table);
	if (c)
		return c;
	if (x->write != y->write)
		return x->write ? 1 : -1;
	return strcmp(x->role, y->role);
}

/* Compare with the previous audit: what changed, what started. */
static void compare(struct Audit *a)
{
	/* Sorted, so that the report and the state file list them in a stable order. */
	if (a->nacc)
		qsort(a->acc, a->nacc, sizeof(*a->acc), by_table_kind_role);
	for (size_t i = 0; i < a->nacc; i++) {
		struct Access *x = &a->acc[i];
		struct Prev *pv = NULL;
		for (size_t k = 0; k < a->nprev && !pv; k++)
			if (a->prev[k].write == x->write && strcmp(a->prev[k].table, x->table) == 0 &&
			    strcmp(a->prev[k].role, x->role) == 0)
				pv = &a->prev[k];
		if (!a->have_prev) {
			x->active = true;
			x->last_change = a->now;
		} else if (!pv) {
			x->active = x->started = x->is_new = true;
			x->last_change = a->now;
		} else {
			pv->seen = true;
			x->active = x->calls != pv->calls;
			x->last_change = x->active ? a->now : pv->last_change;
			x->started = x->active && !pv->active;
		}
	}
}

/* ---- the report ------------------------------------------------------------ */

static const char *owner_of(const struct Audit *a, const char *table)
{
	for (size_t i = 0; i < a->o->cfg->nowners; i++)
		if (strcmp(a->o->cfg->owners[i].table, table) == 0)
			return a->o->cfg->owners[i].role;
	return NULL;
}

static bool foreign(const struct Audit *a, const char *table, const char *role)
{
	const char *owner = owner_of(a, table);
	return owner && strcmp(owner, role) != 0;
}

static bool is_owner(const struct Audit *a, const char *table, const char *role)
{
	const char *owner = owner_of(a, table);
	return owner && strcmp(owner, role) == 0;
}

static int str_cmp(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* The tables of the report: every table used, and every owned one; sorted, each once. */
static size_t report_tables(const struct Audit *a, const char ***out)
{
	size_t cap = a->nacc + a->o->cfg->nowners, n = 0;
	const char **t = xcalloc(cap, sizeof(*t));
	for (size_t i = 0; i < a->nacc; i++)
		t[n++] = a->acc[i].table;
	for (size_t i = 0; i < a->o->cfg->nowners; i++)
		t[n++] = a->o->cfg->owners[i].table;
	qsort(t, n, sizeof(*t), str_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(t[m - 1], t[i]) != 0)
			t[m++] = t[i];
	*out = t;
	return m;
}

static void iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2 readers left", "1 reader and 1 writer left", "no foreign access", ... */
static void table_status(const struct Audit *a, const char *table, char *out, size_t outlen,
			 int *readers_out, int *writers_out)
{
	const char *owner = owner_of(a, table);
	int readers = 0, writers = 0, idle = 0;
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		if (strcmp(x->table, table) != 0 || (owner && strcmp(x->role, owner) == 0))
			continue;
		if (!x->active)
			idle++;
		else if (x->write)
			writers++;
		else
			readers++;
	}
	*readers_out = readers;
	*writers_out = writers;
	if (!owner) {
		snprintf(out, outlen, "no owner declared");
		return;
	}
	char hidden[96] = "";
	if (a->hidden)
		snprintf(hidden, sizeof(hidden), " (incomplete: %lld statements hidden)", a->hidden);
	if (readers == 0 && writers == 0 && a->hidden) {
		snprintf(out, outlen, "unknown: %lld statements of other roles are hidden from this role",
			 a->hidden);
	} else if (readers == 0 && writers == 0) {
		if (idle)
			snprintf(out, outlen, "no foreign access since the last audit (%d idle)", idle);
		else
			snprintf(out, outlen, "no foreign access");
	} else if (writers == 0) {
		snprintf(out, outlen, "%d reader%s left%s", readers, readers == 1 ? "" : "s", hidden);
	} else if (readers == 0) {
		snprintf(out, outlen, "%d writer%s left%s", writers, writers == 1 ? "" : "s", hidden);
	} else {
		snprintf(out, outlen, "%d reader%s and %d writer%s left%s", readers,
			 readers == 1 ? "" : "s", writers, writers == 1 ? "" : "s", hidden);
	}
}

/* The events declared on table, "name vN", comma-separated. */
static void table_events(const struct Audit *a, const char *table, struct StrBuf *sb, bool json)
{
	const struct Config *cfg = a->o->cfg;
	bool first = true;
	for (size_t i = 0; i < cfg->nevents; i++) {
		if (strcmp(cfg->events[i].table, table) != 0)
			continue;
		char name[320];
		snprintf(name, sizeof(name), "%s v%d", cfg->events[i].name, cfg->events[i].version);
		if (!first)
			sb_puts(sb, json ? "," : ", ");
		if (json)
			sb_json_string(sb, name, strlen(name));
		else
			sb_puts(sb, name);
		first = false;
	}
}

struct TableStats {
	bool found;
	long long seq_scan, idx_scan, ins, upd, del, live;
};

static void table_stats(struct Audit *a, const char *table, struct TableStats *ts)
{
	memset(ts, 0, sizeof(*ts));
	const char *params[1] = {table};
	PGresult *res = PQexecParams(
	    a->conn,
	    "SELECT seq_scan, COALESCE(idx_scan, 0), n_tup_ins, n_tup_upd, n_tup_del, n_live_tup "
	    "FROM pg_catalog.pg_stat_user_tables WHERE schemaname || '.' || relname = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		ts->found = true;
		ts->seq_scan = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		ts->idx_scan = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		ts->ins = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		ts->upd = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		ts->del = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
		ts->live = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	}
	PQclear(res);
}

static int by_kind_role(const void *pa, const void *pb)
{
	const struct Access *x = *(const struct Access *const *)pa;
	const struct Access *y = *(const struct Access *const *)pb;
	if (x->write != y->write)
		return x->write ? 1 : -1;
	return strcmp(x->role, y->role);
}

/* The accesses to table, reads first, by role. */
static size_t table_accesses(const struct Audit *a, const char *table, const struct Access ***out)
{
	const struct Access **v = xcalloc(a->nacc, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < a->nacc; i++)
		if (strcmp(a->acc[i].table, table) == 0)
			v[n++] = &a->acc[i];
	qsort(v, n, sizeof(*v), by_kind_role);
	*out = v;
	return n;
}

static void json_str(struct StrBuf *sb, const char *s)
{
	sb_json_string(sb, s, strlen(s));
}

static void json_change(struct StrBuf *sb, const char *table, const char *role, bool write,
			bool foreign_access, int is_new)
{
	sb_puts(sb, "{\"table\":");
	json_str(sb, table);
	sb_puts(sb, ",\"role\":");
	json_str(sb, role);
	sb_printf(sb, ",\"access\":\"%s\",\"foreign\":%s", write ? "write" : "read",
		  foreign_access ? "true" : "false");
	if (is_new >= 0)
		sb_printf(sb, ",\"new\":%s", is_new ? "true" : "false");
	sb_putc(sb, '}');
}

static void report_json(struct Audit *a, struct StrBuf *sb)
{
	char when[32], prev[32];
	iso_time(a->now, when, sizeof(when));
	sb_puts(sb, "{\"database\":");
	json_str(sb, a->database);
	sb_printf(sb, ",\"audited_at\":\"%s\",\"previous_audit\":", when);
	if (a->have_prev) {
		iso_time(a->prev_at, prev, sizeof(prev));
		sb_printf(sb, "\"%s\"", prev);
	} else {
		sb_puts(sb, "null");
	}
	sb_printf(sb,
		  ",\"statements\":%lld,\"unattributed_statements\":%lld,\"hidden_statements\":%lld,"
		  "\"statements_without_text\":%lld",
		  a->statements, a->unattributed, a->hidden, a->no_text);
	if (a->have_info)
		sb_printf(sb, ",\"stats_since\":\"%s\",\"evicted_statements\":%lld", a->stats_reset,
			  a->dealloc);
	sb_puts(sb, ",\"tables\":[");
	const char **tables;
	size_t nt = report_tables(a, &tables);
	for (size_t t = 0; t < nt; t++) {
		const char *owner = owner_of(a, tables[t]);
		char status[256];
		int readers, writers;
		table_status(a, tables[t], status, sizeof(status), &readers, &writers);
		sb_puts(sb, t ? ",{\"table\":" : "{\"table\":");
		json_str(sb, tables[t]);
		sb_puts(sb, ",\"owner\":");
		if (owner)
			json_str(sb, owner);
		else
			sb_puts(sb, "null");
		sb_puts(sb, ",\"status\":");
		json_str(sb, status);
		sb_printf(sb, ",\"foreign_readers\":%d,\"foreign_writers\":%d,\"events\":[", readers,
			  writers);
		table_events(a, tables[t], sb, true);
		sb_puts(sb, "]");
		struct TableStats ts;
		table_stats(a, tables[t], &ts);
		if (ts.found)
			sb_printf(sb,
				  ",\"table_stats\":{\"seq_scan\":%lld,\"idx_scan\":%lld,\"n_tup_ins\":%lld,"
				  "\"n_tup_upd\":%lld,\"n_tup_del\":%lld,\"n_live_tup\":%lld}",
				  ts.seq_scan, ts.idx_scan, ts.ins, ts.upd, ts.del, ts.live);
		sb_puts(sb, ",\"access\":[");
		const struct Access **v;
		size_t n = table_accesses(a, tables[t], &v);
		for (size_t i = 0; i < n; i++) {
			const struct Access *x = v[i];
			char changed[32];
			iso_time(x->last_change, changed, sizeof(changed));
			sb_puts(sb, i ? ",{\"role\":" : "{\"role\":");
			json_str(sb, x->role);
			sb_printf(sb,
				  ",\"access\":\"%s\",\"owner\":%s,\"calls\":%lld,\"rows\":%lld,"
				  "\"statements\":%lld,\"last_change\":\"%s\",\"active\":%s,\"via\":[",
				  x->write ? "write" : "read",
				  owner && strcmp(owner, x->role) == 0 ? "true" : "false", x->calls,
				  x->rows, x->statements, changed, x->active ? "true" : "false");
			/* via is ", "-separated names; names hold no ", " PostgreSQL-side in practice. */
			for (const char *p = x->via; p && *p;) {
				const char *end = strstr(p, ", ");
				size_t len = end ? (size_t)(end - p) : strlen(p);
				if (p != x->via)
					sb_putc(sb, ',');
				sb_json_string(sb, p, len);
				p = end ? end + 2 : NULL;
			}
			sb_puts(sb, "]}");
		}
		free(v);
		sb_puts(sb, "]}");
	}
	free(tables);
	sb_puts(sb, "],\"started\":[");
	bool first = true;
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		if (!x->started)
			continue;
		if (!first)
			sb_putc(sb, ',');
		json_change(sb, x->table, x->role, x->write, foreign(a, x->table, x->role), x->is_new);
		first = false;
	}
	sb_puts(sb, "],\"stopped\":[");
	first = true;
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		if (x->active || !a->have_prev)
			continue;
		/* Stopped: active at the previous audit, idle now. */
		bool was_active = false;
		for (size_t k = 0; k < a->nprev; k++)
			if (a->prev[k].write == x->write && strcmp(a->prev[k].table, x->table) == 0 &&
			    strcmp(a->prev[k].role, x->role) == 0)
				was_active = a->prev[k].active;
		if (!was_active)
			continue;
		if (!first)
			sb_putc(sb, ',');
		json_change(sb, x->table, x->role, x->write, foreign(a, x->table, x->role), -1);
		first = false;
	}
	for (size_t k = 0; k < a->nprev; k++) {
		const struct Prev *pv = &a->prev[k];
		if (pv->seen)
			continue;
		if (!first)
			sb_putc(sb, ',');
		json_change(sb, pv->table, pv->role, pv->write, foreign(a, pv->table, pv->role), -1);
		first = false;
	}
	sb_puts(sb, "]}\n");
}

/*
 * A name as the text report shows it: control characters (a role may be
 * called "a\nb") become '?', so no name can forge a line of the report or
 * send escape sequences to a terminal. Four rotating buffers: up to four
 * names per printf.
 */
static const char *shown(const char *s)
{
	static char bufs[4][256];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = strnlen(s, sizeof(bufs[0]) - 1);
	memcpy(b, s, n);
	b[n] = '\0';
	log_mask_controls(b);
	return b;
}

static void report_text(struct Audit *a, struct StrBuf *sb)
{
	char when[32], prev[32];
	iso_time(a->now, when, sizeof(when));
	sb_printf(sb, "audit of database %s at %s", a->database, when);
	if (a->have_prev) {
		iso_time(a->prev_at, prev, sizeof(prev));
		sb_printf(sb, " (previous audit %s)", prev);
	}
	sb_printf(sb, "\n%lld statements in pg_stat_statements", a->statements);
	if (a->have_info)
		sb_printf(sb, " since %s", a->stats_reset);
	sb_puts(sb, "\n");
	if (a->hidden)
		sb_printf(sb,
			  "warning: %lld statements of other roles are hidden from this role: GRANT pg_read_all_stats TO it\n",
			  a->hidden);
	if (a->unattributed)
		sb_printf(sb, "warning: %lld statements could not be attributed (first: %s)\n",
			  a->unattributed, shown(a->unattributed_example));
	if (a->no_text)
		sb_printf(sb, "warning: %lld statements have lost their text (pg_stat_statements' file was reset)\n",
			  a->no_text);
	if (a->dealloc)
		sb_printf(sb,
			  "warning: %lld statements were evicted from pg_stat_statements since its reset: raise pg_stat_statements.max\n",
			  a->dealloc);
	const char **tables;
	size_t nt = report_tables(a, &tables);
	for (size_t t = 0; t < nt; t++) {
		const char *owner = owner_of(a, tables[t]);
		char status[256];
		int readers, writers;
		table_status(a, tables[t], status, sizeof(status), &readers, &writers);
		sb_printf(sb, "\n%s", shown(tables[t]));
		if (owner)
			sb_printf(sb, "  owner %s", shown(owner));
		sb_printf(sb, ": %s\n", status);
		size_t before = sb->len;
		sb_puts(sb, "  events: ");
		size_t mark = sb->len;
		table_events(a, tables[t], sb, false);
		if (sb->len == mark)
			sb->len = before;
		else
			sb_putc(sb, '\n');
		struct TableStats ts;
		table_stats(a, tables[t], &ts);
		if (ts.found)
			sb_printf(sb,
				  "  table: %lld rows, %lld sequential and %lld index scans, %lld inserted, %lld updated, %lld deleted\n",
				  ts.live, ts.seq_scan, ts.idx_scan, ts.ins, ts.upd, ts.del);
		const struct Access **v;
		size_t n = table_accesses(a, tables[t], &v);
		for (size_t i = 0; i < n; i++) {
			const struct Access *x = v[i];
			char changed[32];
			iso_time(x->last_change, changed, sizeof(changed));
			bool own = owner && strcmp(owner, x->role) == 0;
			sb_printf(sb, "  %-5s %-20s %8lld calls %10lld rows  last change %s%s%s%s%s\n",
				  x->write ? "write" : "read", shown(x->role), x->calls, x->rows, changed,
				  own ? "  (owner)" : "", x->active ? "" : "  (idle)",
				  x->via ? "  via " : "", x->via ? shown(x->via) : "");
		}
		free(v);
	}
	free(tables);
	if (!a->o->since_last)
		return;
	if (!a->have_prev) {
		sb_puts(sb, "\nno previous audit to compare with: this one is the baseline\n");
		return;
	}
	/* The owners' own comings and goings are in the JSON; here, only other roles'. */
	sb_puts(sb, "\nsince the previous audit (roles other than the owners):\n");
	bool any = false;
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		if (!x->started || is_owner(a, x->table, x->role))
			continue;
		bool f = foreign(a, x->table, x->role);
		sb_printf(sb, "  %s %s %s %s%s\n", f ? "FOREIGN" : "started", shown(x->role),
			  x->write ? "writes" : "reads", shown(x->table),
			  x->is_new ? " (new)" : " (again, idle at the previous audit)");
		any = true;
	}
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		if (x->active || is_owner(a, x->table, x->role))
			continue;
		for (size_t k = 0; k < a->nprev; k++)
			if (a->prev[k].active && a->prev[k].write == x->write &&
			    strcmp(a->prev[k].table, x->table) == 0 &&
			    strcmp(a->prev[k].role, x->role) == 0) {
				sb_printf(sb, "  stopped %s %s %s\n", shown(x->role),
					  x->write ? "writing" : "reading", shown(x->table));
				any = true;
			}
	}
	for (size_t k = 0; k < a->nprev; k++)
		if (!a->prev[k].seen && !is_owner(a, a->prev[k].table, a->prev[k].role)) {
			sb_printf(sb, "  gone %s %s %s (statistics reset or evicted)\n",
				  shown(a->prev[k].role), a->prev[k].write ? "writing" : "reading",
				  shown(a->prev[k].table));
			any = true;
		}
	if (!any)
		sb_puts(sb, "  no change\n");
}

/* ---- the run --------------------------------------------------------------- */

static void audit_free(struct Audit *a)
{
	for (size_t i = 0; i < a->nrels; i++) {
		free(a->rels[i].schema);
		free(a->rels[i].name);
		free(a->rels[i].qualified);
		free(a->rels[i].bases);
	}
	free(a->rels);
	free(a->by_oid);
	for (size_t i = 0; i < a->nroles; i++) {
		free(a->roles[i].role);
		for (size_t k = 0; k < a->roles[i].npath; k++)
			free(a->roles[i].path[k]);
	}
	free(a->roles);
	for (size_t i = 0; i < a->nacc; i++) {
		free(a->acc[i].table);
		free(a->acc[i].role);
		free(a->acc[i].via);
	}
	free(a->acc);
	for (size_t i = 0; i < a->nprev; i++) {
		free(a->prev[i].table);
		free(a->prev[i].role);
	}
	free(a->prev);
	free(a->default_path);
	free(a->database);
	free(a->pss);
	if (a->conn)
		PQfinish(a->conn);
}

/* Connect and attribute every statement to its tables; then compare with a->prev. */
static int collect(struct Audit *a)
{
	a->conn = pgc_connect(a->o->cfg->source.conninfo, false, "tablecast audit", a->err, a->errlen);
	if (!a->conn)
		return -1;
	a->database = xstrdup(PQdb(a->conn));
	/* One snapshot of the catalog for every query. */
	if (pgc_exec(a->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting the audit",
		     a->err, a->errlen) < 0)
		return -1;
	if (load_catalog(a) < 0 || load_search_paths(a) < 0 || load_statements(a) < 0)
		return -1;
	compare(a);
	return 0;
}

int audit_run(const struct AuditOptions *opts, char *err, size_t errlen)
{
	struct Audit a = {.o = opts, .err = err, .errlen = errlen, .now = time(NULL)};
	int rc = AUDIT_FAILED;

	if (load_prev(&a) < 0 || collect(&a) < 0)
		goto out;

	struct StrBuf sb = {0};
	if (opts->json)
		report_json(&a, &sb);
	else
		report_text(&a, &sb);
	if (!sb_ok(&sb)) {
		sb_free(&sb);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (fwrite(sb.data, 1, sb.len, opts->out) != sb.len || fflush(opts->out) != 0) {
		sb_free(&sb);
		snprintf(err, errlen, "writing the report: %s", strerror(errno));
		goto out;
	}
	sb_free(&sb);
	/* Without --since-last the state is a convenience: a read-only state_dir only warns. */
	if (save_state(&a) < 0) {
		if (opts->since_last)
			goto out;
		log_warning("%s: the next audit --since-last compares with an older one", err);
	}
	rc = AUDIT_OK;
	if (opts->since_last)
		for (size_t i = 0; i < a.nacc; i++)
			if (a.acc[i].started && foreign(&a, a.acc[i].table, a.acc[i].role))
				rc = AUDIT_NEW_FOREIGN;
out:
	audit_free(&a);
	return rc;
}

/* ---- gauges for the running daemon ----------------------------------------- */

struct AuditGauges {
	struct AuditOptions opts; /* cfg: the running configuration, set at each call */
	struct Audit *last; /* the latest successful audit, without its connection */
	time_t last_ok;
	char err[512];
};

AuditGauges *audit_gauges_new(void)
{
	return xcalloc(1, sizeof(AuditGauges));
}

void audit_gauges_free(AuditGauges *g)
{
	if (!g)
		return;
	if (g->last) {
		audit_free(g->last);
		free(g->last);
	}
	free(g);
}

int audit_gauges_update(AuditGauges *g, const struct Config *cfg, char *err, size_t errlen)
{
	g->opts.cfg = cfg;
	struct Audit *a = xcalloc(1, sizeof(*a));
	a->o = &g->opts;
	a->err = err;
	a->errlen = errlen;
	a->now = time(NULL);
	/* The previous audit is this process's latest: audit.last is the command's. */
	if (g->last) {
		a->have_prev = true;
		a->prev_at = g->last->now;
		a->nprev = g->last->nacc;
		a->prev = xcalloc(a->nprev, sizeof(*a->prev));
		for (size_t i = 0; i < a->nprev; i++) {
			const struct Access *x = &g->last->acc[i];
			a->prev[i] = (struct Prev){.table = xstrdup(x->table),
						   .role = xstrdup(x->role),
						   .write = x->write,
						   .calls = x->calls,
						   .last_change = x->last_change,
						   .active = x->active};
		}
	}
	int rc = collect(a);
	/* Hold no connection between audits. */
	if (a->conn) {
		PQfinish(a->conn);
		a->conn = NULL;
	}
	if (rc < 0) {
		audit_free(a);
		free(a);
		return -1;
	}
	if (g->last) {
		audit_free(g->last);
		free(g->last);
	}
	g->last = a;
	a->err = g->err;
	a->errlen = sizeof(g->err);
	g->last_ok = a->now;
	return 0;
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void label(struct StrBuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sb_putc(sb, '\\');
		if (*s == '\n')
			sb_puts(sb, "\\n");
		else
			sb_putc(sb, *s);
	}
}

void audit_gauges_render(AuditGauges *g, const struct Config *cfg, struct StrBuf *sb)
{
	g->opts.cfg = cfg;
	sb_printf(sb, "# HELP tablecast_audit_seconds_since_success Seconds since the last audit of pg_stat_statements that succeeded (-1 before the first).\n"
		      "# TYPE tablecast_audit_seconds_since_success gauge\n"
		      "tablecast_audit_seconds_since_success %lld\n",
		  g->last ? (long long)(time(NULL) - g->last_ok) : -1LL);
	struct Audit *a = g->last;
	if (!a)
		return;
	sb_printf(sb, "# HELP tablecast_audit_hidden_statements Statements of other roles hidden from the audit's role (GRANT pg_read_all_stats).\n"
		      "# TYPE tablecast_audit_hidden_statements gauge\n"
		      "tablecast_audit_hidden_statements %lld\n",
		  a->hidden);
	static const char *const names[2] = {"readers", "writers"};
	for (int w = 0; w < 2; w++) {
		sb_printf(sb, "# HELP tablecast_audit_foreign_%s Roles other than the owner that %s the table since the audit before.\n"
			      "# TYPE tablecast_audit_foreign_%s gauge\n",
			  names[w], w ? "wrote" : "read", names[w]);
		for (size_t i = 0; i < cfg->nowners; i++) {
			char status[256];
			int readers, writers;
			table_status(a, cfg->owners[i].table, status, sizeof(status), &readers, &writers);
			sb_printf(sb, "tablecast_audit_foreign_%s{table=\"", names[w]);
			label(sb, cfg->owners[i].table);
			sb_printf(sb, "\"} %d\n", w ? writers : readers);
		}
	}
	sb_puts(sb, "# HELP tablecast_audit_calls_total Calls of the statements that read or write the table, per role (pg_stat_statements).\n"
		    "# TYPE tablecast_audit_calls_total counter\n");
	for (size_t i = 0; i < a->nacc; i++) {
		const struct Access *x = &a->acc[i];
		sb_puts(sb, "tablecast_audit_calls_total{table=\"");
		label(sb, x->table);
		sb_puts(sb, "\",role=\"");
		label(sb, x->role);
		sb_printf(sb, "\",access=\"%s\"} %lld\n", x->write ? "write" : "read", x->calls);
	}
}
