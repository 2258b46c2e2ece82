/* Guard: the tables events read are still the same relations, and still in the publication. */
#include "autoconf.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backfill.h"
#include "check.h"
#include "guard.h"
#include "log.h"
#include "mono.h"
#include "pgconn.h"
#include "pgoutput.h"
#include "strbuf.h"
#include "xalloc.h"

/* A check confirms the position read by an earlier one at least this much older. */
#define FENCE_GAP_MS 300

struct Guard {
	const struct Config *cfg;
	Contract *ctr;
	char **tables; /* distinct event tables, "schema.table" */
	size_t ntables;
	char **resync;
	size_t nresync;
	PGconn *conn;
	uint64_t limit;     /* may be confirmed */
	uint64_t pending;   /* WAL position read by a good check: the limit after the next one */
	int64_t pending_ms; /* when it was read */
	bool have_pending;
	bool unknown_warned;
	bool unreachable; /* the last query failed for want of a connection */
};

Guard *grd_new(const struct Config *cfg, Contract *ctr, char **resync, size_t nresync)
{
	Guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cfg = cfg;
	g->ctr = ctr;
	g->tables = calloc(2 * cfg->nevents + 1, sizeof(char *));
	g->resync = resync;
	g->nresync = nresync;
	if (!g->tables) {
		free(g);
		return NULL;
	}
	/* Every table events read: translators' tables and outbox tables. */
	for (size_t i = 0; i < 2 * cfg->nevents; i++) {
		const struct EventDef *ev = &cfg->events[i / 2];
		const char *table = i % 2 == 0 ? ev->table : ev->handover ? ev->outbox : NULL;
		bool seen = !table;
		for (size_t j = 0; j < g->ntables && !seen; j++)
			seen = strcmp(g->tables[j], table) == 0;
		if (!seen)
			g->tables[g->ntables++] = xstrdup(table);
	}
	g->limit = g->ntables ? 0 : UINT64_MAX;
	return g;
}

void grd_free(Guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ntables; i++)
		free(g->tables[i]);
	free(g->tables);
	PQfinish(g->conn);
	free(g);
}

uint64_t grd_limit(const Guard *g)
{
	return g->limit;
}

void grd_start_at(Guard *g, uint64_t lsn)
{
	if (lsn > g->limit)
		g->limit = lsn;
}

/* One query on the guard's connection; NULL with err (and the connection dropped) on failure. */
static PGresult *query(Guard *g, const char *sql, int nparams, const char *const *params, char *err,
                       size_t errlen)
{
	g->unreachable = false;
	if (!g->conn) {
		g->conn =
		    pgc_connect(g->cfg->source.conninfo, false, "tablecast guard", err, errlen);
		if (!g->conn) {
			g->unreachable = true;
			return NULL;
		}
	}
	PGresult *res = PQexecParams(g->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	g->unreachable = PQstatus(g->conn) == CONNECTION_BAD;
	char line[512];
	pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
	snprintf(err, errlen, "publication guard: %s", line);
	PQclear(res);
	PQfinish(g->conn);
	g->conn = NULL;
	return NULL;
}

static bool resync_asked(const Guard *g, const char *table)
{
	for (size_t i = 0; i < g->nresync; i++)
		if (strcmp(g->resync[i], table) == 0)
			return true;
	return false;
}

/*
 * on_table_recreated = "readd_and_backfill": put the table (back) into
 * the publication tablecast owns and queue a backfill of it, so consumers
 * end with the table's complete state. The backfill request goes through
 * the stream after the table is published again, so every row is either
 * streamed or read. Returns 0, or -1 with err.
 */
static int readd(Guard *g, const char *table, bool published, uint32_t oid, char *err,
                 size_t errlen)
{
	if (!published) {
		char *name = pgc_table_name(g->conn, table);
		char sql[1024];
		if (!name) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* A shard's table goes back with its filter, checked as at creation (check.h). */
		const struct ShardDef *sh = cfg_shard(g->cfg, table);
		char filter[160] = "";
		if (sh) {
			if (chk_shard_key(g->conn, sh, err, errlen) != 0) {
				free(name);
				return -1;
			}
			snprintf(filter, sizeof(filter), " WHERE (");
			shard_filter_sql(sh, filter + strlen(filter), sizeof(filter) - strlen(filter) - 1);
			strcat(filter, ")");
		}
		snprintf(sql, sizeof(sql), "ALTER PUBLICATION \"%s\" ADD TABLE %s%s",
		         g->cfg->source.publication, name, filter);
		free(name);
		if (pgc_exec(g->conn, sql, table, err, errlen) < 0)
			return -1;
		log_warning("added %s (OID %" PRIu32
		            ") to publication \"%s\" again (source.on_table_recreated)",
		            table, oid, g->cfg->source.publication);
	}
	if (g->cfg->source.signal_table[0]) {
		long long id = bf_request(g->cfg, table, NULL, err, errlen);
		if (id < 0)
			return -1;
		log_warning("backfill %lld of %s requested: rows written while it was not "
		            "published are read from the table",
		            id, table);
	}
	return 0;
}

/*
 * What is wrong with one table, as the start of a message, or "" when
 * nothing is. oid 0: the table does not exist.
 */
static void diagnose(const Guard *g, const char *table, uint32_t recorded, uint32_t oid,
                     bool published, char *out, size_t outlen)
{
	const char *pub = g->cfg->source.publication;
	out[0] = '\0';
	if (!oid)
		snprintf(out, outlen, "relation %s (OID %" PRIu32 ") no longer exists", table,
		         recorded);
	else if (recorded && oid != recorded && !published)
		snprintf(out, outlen,
		         "relation %s was re-created (OID %" PRIu32 ", now %" PRIu32
		         ") and publication \"%s\" does not have the new one",
		         table, recorded, oid, pub);
	else if (recorded && oid != recorded)
		snprintf(out, outlen,
		         "relation %s was re-created (OID %" PRIu32 ", now %" PRIu32
		         "): the old table's rows went without delete events",
		         table, recorded, oid);
	else if (!published)
		snprintf(out, outlen,
		         "relation %s (OID %" PRIu32 ") is no longer in publication \"%s\"", table,
		         oid, pub);
}

/* The message of a halt: what, from which LSN, and the exact fix. */
static void halt_message(const Guard *g, const char *table, const char *what, uint64_t gap,
                         bool exists, char *err, size_t errlen)
{
	char lsn[PGO_LSN_BUFSIZE];
	const char *pub = g->cfg->source.publication;

	if (!exists)
		snprintf(err, errlen,
		         "%s: its changes from %s on may be missing; stopped without confirming "
		         "past %s. Fix: restore the table, or remove the events that read it; then "
		         "tablecast run --resync-table %s",
		         what, pgo_lsn_format(gap, lsn), lsn, table);
	else
		snprintf(err, errlen,
		         "%s: its rows from %s on may be missing; stopped without confirming past "
		         "%s. Fix: ALTER PUBLICATION \"%s\" ADD TABLE %s (if it is not in it), "
		         "then tablecast run --resync-table %s%s",
		         what, pgo_lsn_format(gap, lsn), lsn, pub, table, table,
		         g->cfg->source.signal_table[0]
		             ? ", which queues a backfill of it"
		             : " and backfill it (with source.signal_table set, --resync-table "
		               "queues the backfill)");
}

enum grd_status grd_check(Guard *g, char *err, size_t errlen)
{
	if (!g->ntables)
		return GRD_OK;

	/* The WAL position first, the catalog after: see the invariant in guard.h. */
	PGresult *res =
	    query(g, "SELECT pg_catalog.pg_current_wal_lsn()::text", 0, NULL, err, errlen);
	uint64_t wal = 0;
	if (res) {
		pgo_lsn_parse(PQgetvalue(res, 0, 0), &wal);
		PQclear(res);
	}
	struct StrBuf arr = {0};
	sb_putc(&arr, '{');
	for (size_t i = 0; i < g->ntables; i++) {
		sb_printf(&arr, "%s\"", i ? "," : "");
		for (const char *c = g->tables[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				sb_putc(&arr, '\\');
			sb_putc(&arr, *c);
		}
		sb_putc(&arr, '"');
	}
	sb_putc(&arr, '}');
	if (!sb_ok(&arr)) {
		sb_free(&arr);
		snprintf(err, errlen, "out of memory");
		return GRD_FATAL;
	}
	/*
	 * By name through pg_namespace and pg_class (readable by any role; no
	 * regclass casts, which would need access to every schema), membership
	 * through pg_publication_tables, which also expands FOR ALL TABLES.
	 */
	const char *params[2] = {arr.data, g->cfg->source.publication};
	if (wal)
		res = query(
		    g,
		    "SELECT t.q, c.oid, EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables p "
		    "  WHERE p.pubname = $2 AND p.schemaname = n.nspname AND p.tablename = "
		    "c.relname) "
		    "FROM unnest($1::text[]) AS t(q) "
		    "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = split_part(t.q, '.', 1) "
		    "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
		    "  AND c.relname = substr(t.q, strpos(t.q, '.') + 1) AND c.relkind IN ('r', "
		    "'p')",
		    2, params, err, errlen);
	sb_free(&arr);
	if (!res || !wal) {
		if (!g->unknown_warned)
			log_warning("%s; the slot is confirmed no further until the check succeeds",
			            err);
		g->unknown_warned = true;
		return g->unreachable ? GRD_UNREACHABLE : GRD_UNKNOWN;
	}
	g->unknown_warned = false;

	enum grd_status st = GRD_OK;
	for (int r = 0; r < PQntuples(res) && st == GRD_OK; r++) {
		const char *table = PQgetvalue(res, r, 0);
		uint32_t oid =
		    PQgetisnull(res, r, 1) ? 0 : (uint32_t)strtoul(PQgetvalue(res, r, 1), NULL, 10);
		bool published = PQgetvalue(res, r, 2)[0] == 't';
		uint32_t recorded = ctr_relid(g->ctr, table);
		uint64_t gap;
		const char *why;
		char what[512];

		if (resync_asked(g, table) && oid && published) {
			/* The operator accepts the table as it is now; its rows come from a
			 * backfill. */
			if (ctr_gap(g->ctr, table, &gap, &why) || (recorded && recorded != oid)) {
				log_warning("--resync-table %s: recording OID %" PRIu32
				            " and accepting the gap",
				            table, oid);
				if (readd(g, table, true, oid, err, errlen) < 0) {
					st = GRD_FATAL;
					break;
				}
			}
			ctr_clear_gap(g->ctr, table);
			recorded = 0;
		}
		if (!recorded && oid) {
			if (ctr_set_relid(g->ctr, table, oid) < 0) {
				snprintf(err, errlen, "out of memory");
				st = GRD_FATAL;
			}
			recorded = oid;
		}
		diagnose(g, table, recorded, oid, published, what, sizeof(what));
		if (!what[0] && ctr_gap(g->ctr, table, &gap, &why))
			snprintf(what, sizeof(what), "%s (recorded earlier)", why);
		if (!what[0] || st != GRD_OK)
			continue;
		/*
		 * Only a re-created table is put back: one that someone dropped
		 * from the publication on purpose is theirs to decide about.
		 */
		if (g->cfg->source.readd_recreated && oid && oid != recorded &&
		    !ctr_gap(g->ctr, table, &gap, &why)) {
			log_warning("%s", what);
			if (readd(g, table, published, oid, err, errlen) < 0 ||
			    ctr_set_relid(g->ctr, table, oid) < 0) {
				st = GRD_FATAL;
				break;
			}
			continue;
		}
		/* The first gap stays recorded: a restart halts the same way until resynced. */
		if (!ctr_gap(g->ctr, table, &gap, &why)) {
			gap = g->limit;
			if (ctr_set_gap(g->ctr, table, gap, what) < 0) {
				snprintf(err, errlen, "out of memory");
				st = GRD_FATAL;
				break;
			}
		}
		halt_message(g, table, what, gap, oid != 0, err, errlen);
		st = GRD_HALT;
	}
	PQclear(res);
	/* --resync-table accepts what the first check finds, not a later re-creation. */
	if (st == GRD_OK)
		g->nresync = 0;
	char serr[512];
	if (ctr_save(g->ctr, serr, sizeof(serr)) < 0) {
		snprintf(err, errlen, "%s", serr);
		return GRD_FATAL;
	}
	if (st != GRD_OK)
		return st;
	/*
	 * Checks come in pairs (guard.h): the first reads a position, the
	 * second, at least FENCE_GAP_MS later, finds the catalog still fine and
	 * makes that position the limit.
	 */
	if (!g->have_pending) {
		g->pending = wal;
		g->pending_ms = mono_ms();
		g->have_pending = true;
	} else if (mono_ms() - g->pending_ms >= FENCE_GAP_MS) {
		if (g->pending > g->limit)
			g->limit = g->pending;
		g->have_pending = false;
	}
	return GRD_OK;
}

enum grd_status grd_fence(Guard *g, char *err, size_t errlen)
{
	enum grd_status st = grd_check(g, err, errlen);
	if (st != GRD_OK || !g->ntables)
		return st;
	/* That one may have completed an older pair: start one from now. */
	if (!g->have_pending && (st = grd_check(g, err, errlen)) != GRD_OK)
		return st;
	struct timespec gap = {0, FENCE_GAP_MS * 1000000L};
	nanosleep(&gap, NULL);
	return grd_check(g, err, errlen);
}

int grd_next_check_ms(const Guard *g, int interval_ms)
{
	return g->have_pending ? FENCE_GAP_MS : interval_ms;
}
