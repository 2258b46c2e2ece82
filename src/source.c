/* Replication source: a libpq walsender connection streaming pgoutput from a slot. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "file.h"
#include "log.h"
#include "pgconn.h"
#include "pgoutput.h"
#include "snapshot.h"
#include "source.h"
#include "strbuf.h"

struct Source {
	PGconn *conn;
	const struct Config *cfg;
	bool export_snapshot;
	char exported[128]; /* the snapshot a slot created now exported; "" when none */
	char *frame; /* last buffer from PQgetCopyData, freed on the next call */
	uint64_t start_lsn;
	uint64_t created_lsn; /* the consistent point of a slot created now */
	uint64_t system_id;
	uint32_t timeline; /* IDENTIFY_SYSTEM's, at connect */
	uint64_t server_lsn; /* the server's WAL flush position at connect */
	bool recreate_slot;
	bool locked; /* this session holds the start-up lock (src_acquire) */
};

/*
 * SQLSTATEs that no reconnect can fix. Everything else (the server going
 * away, starting up, admin shutdown) is worth another try.
 */
static enum src_status classify(const PGresult *res)
{
	static const char *const fatal[] = {
		"28000", /* invalid authorization */
		"28P01", /* invalid password */
		"42501", /* insufficient privilege */
		"42704", /* undefined object: slot or publication gone */
		"55000", /* object not in prerequisite state: invalidated slot, wal_level */
		"3D000", /* database does not exist */
		NULL,
	};
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return SRC_RETRY;
	for (const char *const *f = fatal; *f; f++)
		if (strcmp(state, *f) == 0)
			return SRC_FATAL;
	return SRC_RETRY;
}

/* Run a simple query (the only protocol a walsender speaks) and expect want. */
static PGresult *run(Source *src, const char *sql, ExecStatusType want, enum src_status *st,
		     char *err, size_t errlen)
{
	PGresult *res = PQexec(src->conn, sql);
	if (PQresultStatus(res) == want) {
		*st = SRC_OK;
		return res;
	}
	char line[512];
	pgc_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(src->conn), line, sizeof(line));
	/* Only the command word: statements may carry names, never secrets, but stay short. */
	snprintf(err, errlen, "%.*s: %s", (int)strcspn(sql, " "), sql, line);
	*st = PQstatus(src->conn) == CONNECTION_BAD ? SRC_RETRY : classify(res);
	PQclear(res);
	return NULL;
}

static char *quote_literal(Source *src, const char *s)
{
	return PQescapeLiteral(src->conn, s, strlen(s));
}

/* ---- remembering the slot ----------------------------------------------
 *
 * A slot that existed once and is gone now means changes were lost (someone
 * dropped it, or a restore from backup happened). Creating a fresh one would
 * silently skip them. So when tablecast creates a slot it writes
 * <state_dir>/<slot>.slot:
 *   system_identifier=<IDENTIFY_SYSTEM's systemid>
 *   slot=<name>
 *   created_lsn=<X/X>
 * and a missing slot with such a file for the same system is an error until
 * the operator says --recreate-slot.
 */

static void state_path(const struct Config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.slot", cfg->state_dir, cfg->source.slot);
}

static bool state_remembers_slot(const Source *src, char *created, size_t createdlen)
{
	char path[4096], line[256];
	uint64_t sysid = 0;
	bool same = false;

	state_path(src->cfg, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	created[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "system_identifier=%" SCNu64, &sysid) == 1)
			same = sysid == src->system_id;
		else if (strncmp(line, "created_lsn=", 12) == 0) {
			size_t n = strnlen(line + 12, createdlen - 1);
			memcpy(created, line + 12, n);
			created[n] = '\0';
		}
	}
	fclose(f);
	return same;
}

static int state_write(const Source *src, const char *created_lsn, char *err, size_t errlen)
{
	char path[4096], text[512];

	if (file_state_dir(src->cfg->state_dir, err, errlen) < 0)
		return -1;
	state_path(src->cfg, path, sizeof(path));
	int n = snprintf(text, sizeof(text), "system_identifier=%" PRIu64 "\nslot=%s\ncreated_lsn=%s\n",
			 src->system_id, src->cfg->source.slot, created_lsn);
	return file_replace(path, text, (size_t)n, "state file", err, errlen);
}

/* Is state_dir usable? Checked before anything is created on the server. */
static int state_dir_check(const struct Config *cfg, char *err, size_t errlen)
{
	if (file_state_dir(cfg->state_dir, err, errlen) < 0)
		return -1;
	if (access(cfg->state_dir, W_OK) < 0) {
		snprintf(err, errlen, "state_dir %s: %s", cfg->state_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- connecting and checking -------------------------------------------- */

static enum src_status connect_walsender(Source *src, char *err, size_t errlen)
{
	const struct PgcKeepalive ka = {.idle_s = src->cfg->source.keepalives_idle_s,
					.interval_s = src->cfg->source.keepalives_interval_s,
					.count = src->cfg->source.keepalives_count};
	src->conn = pgc_connect_keepalive(src->cfg->source.conninfo, true, "tablecast", &ka, err,
					  errlen);
	if (src->conn)
		return SRC_OK;
	if (strstr(err, "replication role") || strstr(err, "permission denied to start WAL sender")) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, ": grant it with ALTER ROLE ... REPLICATION");
		return SRC_FATAL;
	}
	if (strstr(err, "source.conninfo") || strstr(err, "password") ||
	    strstr(err, "authentication") || strstr(err, "does not exist") || strstr(err, "invalid"))
		return SRC_FATAL;
	return SRC_RETRY;
}

static enum src_status identify(Source *src, char *err, size_t errlen)
{
	enum src_status st;
	PGresult *res = run(src, "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	if (PQntuples(res) != 1 || PQnfields(res) < 4 || PQgetisnull(res, 0, 3)) {
		snprintf(err, errlen, "IDENTIFY_SYSTEM: not a database replication connection");
		PQclear(res);
		return SRC_FATAL;
	}
	src->system_id = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	src->timeline = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (!pgo_lsn_parse(PQgetvalue(res, 0, 2), &src->server_lsn))
		src->server_lsn = 0;
	PQclear(res);

	res = run(src, "SHOW wal_level", PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0) {
		snprintf(err, errlen,
			 "wal_level is %s: set wal_level = logical in postgresql.conf and restart PostgreSQL",
			 PQgetvalue(res, 0, 0));
		PQclear(res);
		return SRC_FATAL;
	}
	PQclear(res);

	/* A slot keeps WAL for as long as it lags: without a cap, a long outage fills the disk. */
	res = run(src, "SHOW max_slot_wal_keep_size", PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	if (strcmp(PQgetvalue(res, 0, 0), "-1") == 0)
		log_warning_once("max_slot_wal_keep_size is unlimited: while tablecast is stopped or behind, slot \"%s\" keeps WAL until the disk is full; consider a limit",
				 src->cfg->source.slot);
	PQclear(res);
	return SRC_OK;
}

/* 1 exists, 0 missing, or a negative enum src_status. */
static int publication_exists(Source *src, char *err, size_t errlen)
{
	char sql[512];
	enum src_status st;
	char *name = quote_literal(src, src->cfg->source.publication);
	if (!name) {
		snprintf(err, errlen, "publication name: %s", PQerrorMessage(src->conn));
		return SRC_FATAL;
	}
	snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = %s",
		 name);
	PQfreemem(name);
	PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	int exists = PQntuples(res) > 0;
	PQclear(res);
	return exists;
}

/* " WHERE (abs("id" % 2) = 0)" after a table this instance publishes one shard of (shard.h). */
static void append_shard_filter(struct StrBuf *sql, const struct Config *cfg, const char *table)
{
	char qualname[512], filter[128];
	snprintf(qualname, sizeof(qualname), "%s%s", strchr(table, '.') ? "" : "public.", table);
	const struct ShardDef *sh = cfg_shard(cfg, qualname);
	if (!sh)
		return;
	shard_filter_sql(sh, filter, sizeof(filter));
	sb_printf(sql, " WHERE (%s)", filter);
}

/*
 * The publication lists what tablecast needs: source.tables when set,
 * otherwise the tables the events read, each name quoted (a configuration
 * file is no place for SQL). The signal table is added by the backfill
 * when it exists. FOR ALL TABLES (superuser only, every table's changes on
 * the wire) only with source.all_tables = true. A partitioned table's rows
 * are published under its own name, where its events are declared, not
 * under each partition's.
 */
static enum src_status create_publication(Source *src, char *err, size_t errlen)
{
	const struct Config *cfg = src->cfg;
	struct StrBuf sql = {0};

	sb_printf(&sql, "CREATE PUBLICATION \"%s\"", cfg->source.publication);
	size_t n = cfg->source.ntables ? cfg->source.ntables : cfg->sink.raw_changes ? 0 : cfg->nevents;
	if (cfg->source.all_tables) {
		sb_printf(&sql, " FOR ALL TABLES");
	} else if (n) {
		sb_printf(&sql, " FOR TABLE ");
		const char *sep = "";
		for (size_t i = 0; i < n; i++) {
			const char *table =
				cfg->source.ntables ? cfg->source.tables[i] : cfg->events[i].table;
			bool seen = false;
			for (size_t j = 0; j < i && !seen && !cfg->source.ntables; j++)
				seen = strcmp(cfg->events[j].table, table) == 0;
			if (seen)
				continue;
			char *name = pgc_table_name(src->conn, table);
			if (!name) {
				sb_free(&sql);
				snprintf(err, errlen,
					 "publication \"%s\": table \"%s\" is not written schema.table",
					 cfg->source.publication, table);
				return SRC_FATAL;
			}
			sb_printf(&sql, "%s%s", sep, name);
			append_shard_filter(&sql, cfg, table);
			sep = ", ";
			free(name);
		}
		/* A handover event reads its translator's table and its outbox table. */
		for (size_t i = 0; i < cfg->nevents && !cfg->source.ntables; i++) {
			const char *outbox = cfg->events[i].handover ? cfg->events[i].outbox : NULL;
			bool seen = !outbox;
			for (size_t j = 0; j < cfg->nevents && !seen; j++)
				seen = strcmp(cfg->events[j].table, outbox) == 0 ||
				       (j < i && cfg->events[j].handover &&
					strcmp(cfg->events[j].outbox, outbox) == 0);
			if (seen)
				continue;
			char *name = pgc_table_name(src->conn, outbox);
			if (!name) {
				sb_free(&sql);
				snprintf(err, errlen,
					 "publication \"%s\": table \"%s\" is not written schema.table",
					 cfg->source.publication, outbox);
				return SRC_FATAL;
			}
			sb_printf(&sql, "%s%s", sep, name);
			free(name);
		}
	} else {
		sb_free(&sql);
		snprintf(err, errlen,
			 "publication \"%s\" does not exist and nothing says which tables it should have: set source.tables, or source.all_tables = true for FOR ALL TABLES",
			 cfg->source.publication);
		return SRC_FATAL;
	}
	sb_printf(&sql, " WITH (publish_via_partition_root = true)");
	if (!sb_ok(&sql)) {
		sb_free(&sql);
		snprintf(err, errlen, "out of memory");
		return SRC_FATAL;
	}
	enum src_status st;
	PGresult *res = run(src, sql.data, PGRES_COMMAND_OK, &st, err, errlen);
	sb_free(&sql);
	if (!res)
		return st == SRC_RETRY ? SRC_RETRY : SRC_FATAL;
	PQclear(res);
	log_info("created publication \"%s\"", cfg->source.publication);
	return SRC_OK;
}

struct SlotActivity {
	bool active;
};

/* Is the slot streamed by some connection now? A missing slot is not. */
static enum src_status slot_activity(Source *src, struct SlotActivity *act, char *err,
				     size_t errlen)
{
	char sql[512];
	enum src_status st;
	char *name = quote_literal(src, src->cfg->source.slot);
	if (!name) {
		snprintf(err, errlen, "slot name: %s", PQerrorMessage(src->conn));
		return SRC_FATAL;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = %s AND active", name);
	PQfreemem(name);
	PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	act->active = PQntuples(res) > 0;
	PQclear(res);
	return SRC_OK;
}

struct SlotInfo {
	bool exists;
	bool lost;
	bool wrong_plugin;
	bool other_database;
	uint64_t confirmed;
};

static enum src_status slot_lookup(Source *src, struct SlotInfo *info, char *err, size_t errlen)
{
	char sql[512];
	enum src_status st;
	char *name = quote_literal(src, src->cfg->source.slot);
	if (!name) {
		snprintf(err, errlen, "slot name: %s", PQerrorMessage(src->conn));
		return SRC_FATAL;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT plugin, database = current_database(), wal_status, confirmed_flush_lsn "
		 "FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
		 name);
	PQfreemem(name);
	PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	*info = (struct SlotInfo){0};
	if (PQntuples(res) == 1) {
		info->exists = true;
		info->wrong_plugin = strcmp(PQgetvalue(res, 0, 0), "pgoutput") != 0;
		info->other_database = strcmp(PQgetvalue(res, 0, 1), "t") != 0;
		info->lost = strcmp(PQgetvalue(res, 0, 2), "lost") == 0 || PQgetisnull(res, 0, 3);
		if (!PQgetisnull(res, 0, 3))
			pgo_lsn_parse(PQgetvalue(res, 0, 3), &info->confirmed);
	}
	PQclear(res);
	return SRC_OK;
}

static enum src_status drop_slot(Source *src, char *err, size_t errlen)
{
	char sql[256];
	enum src_status st;
	snprintf(sql, sizeof(sql), "DROP_REPLICATION_SLOT \"%s\"", src->cfg->source.slot);
	PGresult *res = run(src, sql, PGRES_COMMAND_OK, &st, err, errlen);
	if (!res)
		return st;
	PQclear(res);
	return SRC_OK;
}

static enum src_status create_slot(Source *src, char *err, size_t errlen)
{
	char sql[256];
	enum src_status st;

	/*
	 * The snapshot is owed before the slot exists: a crash right after
	 * creating it must not leave a slot that streams without one.
	 */
	if (src->export_snapshot && snap_mark_pending(src->cfg, err, errlen) < 0)
		return SRC_FATAL;
	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT \"%s\" LOGICAL pgoutput (SNAPSHOT '%s')",
		 src->cfg->source.slot, src->export_snapshot ? "export" : "nothing");
	PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, err, errlen);
	if (!res)
		return st;
	/* slot_name, consistent_point, snapshot_name, output_plugin */
	char created[64];
	snprintf(created, sizeof(created), "%s", PQgetvalue(res, 0, 1));
	if (!pgo_lsn_parse(created, &src->created_lsn)) {
		snprintf(err, errlen, "CREATE_REPLICATION_SLOT: unexpected consistent point \"%s\"",
			 created);
		PQclear(res);
		return SRC_FATAL;
	}
	if (src->export_snapshot && !PQgetisnull(res, 0, 2))
		snprintf(src->exported, sizeof(src->exported), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	log_info("created replication slot \"%s\" at %s", src->cfg->source.slot, created);
	if (state_write(src, created, err, errlen) < 0)
		return SRC_FATAL;
	return SRC_OK;
}

/*
 * Make sure the publication and the slot exist, checking everything before
 * creating anything, so a refused start leaves the server as it found it.
 */
static enum src_status ensure_objects(Source *src, bool recreate, char *err, size_t errlen)
{
	const struct Config *cfg = src->cfg;
	struct SlotInfo slot;
	char created[64];

	int pub = publication_exists(src, err, errlen);
	if (pub < 0)
		return (enum src_status)pub;
	if (!pub && !cfg->source.create_publication) {
		snprintf(err, errlen,
			 "publication \"%s\" does not exist: create it (CREATE PUBLICATION ... FOR TABLE ...) or set source.create_publication = true",
			 cfg->source.publication);
		return SRC_FATAL;
	}

	enum src_status st = slot_lookup(src, &slot, err, errlen);
	if (st != SRC_OK)
		return st;
	if (slot.exists && slot.wrong_plugin) {
		snprintf(err, errlen, "replication slot \"%s\" does not use pgoutput: choose another source.slot",
			 cfg->source.slot);
		return SRC_FATAL;
	}
	if (slot.exists && slot.other_database) {
		snprintf(err, errlen,
			 "replication slot \"%s\" belongs to another database: choose another source.slot",
			 cfg->source.slot);
		return SRC_FATAL;
	}
	if (slot.exists && slot.lost && !recreate) {
		snprintf(err, errlen,
			 "replication slot \"%s\" was invalidated (the server removed WAL it still needed): changes were lost; run with --recreate-slot to start again from now",
			 cfg->source.slot);
		return SRC_FATAL;
	}
	/*
	 * A slot this state_dir has no record of was made by someone else
	 * (another instance of an active/standby pair, an operator): remember
	 * it now, so that its disappearance is noticed here too. The warning
	 * names what an unshared state_dir loses (docs/HA.md).
	 */
	if (slot.exists && !slot.lost && !state_remembers_slot(src, created, sizeof(created))) {
		char lsn[PGO_LSN_BUFSIZE], text[64];
		snprintf(text, sizeof(text), "%s or earlier", pgo_lsn_format(slot.confirmed, lsn));
		log_info("state_dir %s has no record of replication slot \"%s\", which exists: recording it; if another tablecast instance of this configuration created it, the instances must share state_dir (see docs/HA.md), or a snapshot or backfill it left unfinished is not resumed here",
			    cfg->state_dir, cfg->source.slot);
		if (state_write(src, text, err, errlen) < 0)
			log_warning("%s", err);
	}
	bool need_slot = !slot.exists || (slot.lost && recreate);
	if (!slot.exists && !recreate) {
		if (state_remembers_slot(src, created, sizeof(created))) {
			snprintf(err, errlen,
				 "replication slot \"%s\" (created at %s) no longer exists: changes since its last confirmed position may be lost; run with --recreate-slot to start again from now",
				 cfg->source.slot, created);
			return SRC_FATAL;
		}
		if (!cfg->source.create_slot) {
			snprintf(err, errlen,
				 "replication slot \"%s\" does not exist: set source.create_slot = true or create it",
				 cfg->source.slot);
			return SRC_FATAL;
		}
	}
	if (need_slot && state_dir_check(cfg, err, errlen) < 0)
		return SRC_FATAL;

	/*
	 * A shard's filter on a key outside the replica identity would make
	 * PostgreSQL refuse the applications' UPDATEs and DELETEs: never
	 * create one (check.h).
	 */
	for (size_t i = 0; i < cfg->source.nshards && !pub; i++) {
		int rc = chk_shard_key(src->conn, &cfg->source.shards[i], err, errlen);
		if (rc != 0)
			return rc == -1 ? SRC_FATAL : SRC_RETRY;
	}

	/* Every check passed: create what is missing. */
	if (!pub && (st = create_publication(src, err, errlen)) != SRC_OK)
		return st;
	if (slot.exists && slot.lost) {
		log_warning("dropping invalidated replication slot \"%s\" (--recreate-slot)",
			    cfg->source.slot);
		if ((st = drop_slot(src, err, errlen)) != SRC_OK)
			return st;
	}
	if (need_slot) {
		st = create_slot(src, err, errlen);
		if (st != SRC_OK && !pub) {
			/* Leave nothing half-made: the publication was ours. */
			char sql[256], ignore[256];
			enum src_status ignored;
			snprintf(sql, sizeof(sql), "DROP PUBLICATION \"%s\"", cfg->source.publication);
			PQclear(run(src, sql, PGRES_COMMAND_OK, &ignored, ignore, sizeof(ignore)));
		}
		if (st != SRC_OK)
			return st;
		/* Any command now would end the exported snapshot: the reply had the position. */
		src->start_lsn = src->created_lsn;
		return SRC_OK;
	}
	src->start_lsn = slot.confirmed;
	return SRC_OK;
}

/*
 * The start-up lock: a session-level advisory lock on the replication
 * connection, keyed by the slot's name (two int4 keys, so that it does not
 * share the single-bigint key space applications use). The slot itself is
 * the lock while it streams; between creating it and START_REPLICATION (an
 * initial snapshot can take hours) it is not held by anyone, so whoever
 * works on it holds this lock from before it looks at the slot until its
 * session ends. The server drops it with the session, like the slot.
 */
#define LOCK_CLASS 0x74626374 /* "tbct" */

static int32_t lock_key(const char *slot)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *c = (const unsigned char *)slot; *c; c++)
		h = (h ^ *c) * 16777619u;
	return (int32_t)(h & 0x7fffffff);
}

/* Who holds the start-up lock or the slot, for the standby's log line. */
static void describe_holder(Source *src, char *out, size_t outlen)
{
	char sql[1024];
	enum src_status st;
	char ignore[256];
	char *slot = quote_literal(src, src->cfg->source.slot);

	snprintf(out, outlen, "another process");
	if (!slot)
		return;
	snprintf(sql, sizeof(sql),
		 "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'a local socket'), "
		 "EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = %s AND s.active_pid = a.pid) "
		 "FROM pg_catalog.pg_stat_activity a WHERE a.pid IN "
		 "(SELECT l.pid FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
		 "AND l.classid = %d AND l.objid = %d AND l.objsubid = 2 "
		 "UNION SELECT s.active_pid FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = %s) "
		 "ORDER BY 4 DESC LIMIT 1",
		 slot, LOCK_CLASS, lock_key(src->cfg->source.slot), slot);
	PQfreemem(slot);
	PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, ignore, sizeof(ignore));
	if (!res)
		return;
	if (PQntuples(res) == 1) {
		bool streams = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		snprintf(out, outlen, "pid %s (%s from %s)%s", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1)[0] ? PQgetvalue(res, 0, 1) : "no application name",
			 PQgetvalue(res, 0, 2),
			 streams ? "" : ", not streaming yet (creating the slot or reading a snapshot)");
	}
	PQclear(res);
}

enum src_status src_acquire(Source *src, char *holder, size_t holderlen, char *err, size_t errlen)
{
	char sql[256];
	enum src_status st;

	if (holder)
		holder[0] = '\0';
	if (!src->locked) {
		snprintf(sql, sizeof(sql), "SELECT pg_catalog.pg_try_advisory_lock(%d, %d)", LOCK_CLASS,
			 lock_key(src->cfg->source.slot));
		PGresult *res = run(src, sql, PGRES_TUPLES_OK, &st, err, errlen);
		if (!res)
			return st;
		src->locked = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!src->locked) {
			if (holder)
				describe_holder(src, holder, holderlen);
			return SRC_BUSY;
		}
		/*
		 * A standby connected long ago: the server's WAL position (which
		 * the resume state is checked against) and timeline are read again.
		 */
		if ((st = identify(src, err, errlen)) != SRC_OK)
			return st;
	}
	/* The slot may be streamed by a client that does not take the lock (another tool). */
	struct SlotActivity act = {0};
	if ((st = slot_activity(src, &act, err, errlen)) != SRC_OK)
		return st;
	if (act.active) {
		if (holder)
			describe_holder(src, holder, holderlen);
		return SRC_BUSY;
	}
	return ensure_objects(src, src->recreate_slot, err, errlen);
}

static enum src_status start_replication(Source *src, char *err, size_t errlen)
{
	char sql[1024], lsn[PGO_LSN_BUFSIZE];
	enum src_status st;

	/*
	 * proto_version 1: every transaction arrives whole at commit (no
	 * streaming), which is what the checkpoint ring counts on. messages
	 * (logical decoding messages) exist from PostgreSQL 14.
	 */
	snprintf(sql, sizeof(sql),
		 "START_REPLICATION SLOT \"%s\" LOGICAL %s (proto_version '1', publication_names '\"%s\"'%s)",
		 src->cfg->source.slot, pgo_lsn_format(src->start_lsn, lsn),
		 src->cfg->source.publication,
		 PQserverVersion(src->conn) >= 140000 ? ", messages 'true'" : "");
	PGresult *res = PQexec(src->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		char line[512];
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		pgc_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(src->conn), line,
			       sizeof(line));
		snprintf(err, errlen, "START_REPLICATION: %s", line);
		/* 55006 object_in_use: "replication slot ... is active for PID n". */
		if (state && strcmp(state, "55006") == 0)
			st = SRC_BUSY;
		else
			st = PQstatus(src->conn) == CONNECTION_BAD ? SRC_RETRY : classify(res);
		PQclear(res);
		return st;
	}
	PQclear(res);
	if (PQsetnonblocking(src->conn, 1) != 0) {
		snprintf(err, errlen, "cannot make the connection non-blocking: %s",
			 PQerrorMessage(src->conn));
		return SRC_RETRY;
	}
	return SRC_OK;
}

enum src_status src_connect(const struct SourceOptions *opts, Source **out, char *err,
			    size_t errlen)
{
	Source *src = calloc(1, sizeof(*src));
	enum src_status st;

	*out = NULL;
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return SRC_FATAL;
	}
	src->cfg = opts->cfg;
	src->export_snapshot = opts->export_snapshot;
	src->recreate_slot = opts->recreate_slot;
	if ((st = connect_walsender(src, err, errlen)) != SRC_OK ||
	    (st = identify(src, err, errlen)) != SRC_OK) {
		src_close(src);
		return st;
	}
	*out = src;
	return SRC_OK;
}

enum src_status src_start(Source *src, char *err, size_t errlen)
{
	return start_replication(src, err, errlen);
}

const char *src_exported_snapshot(const Source *src)
{
	return src->exported[0] ? src->exported : NULL;
}

void src_close(Source *src)
{
	if (!src)
		return;
	if (src->frame)
		PQfreemem(src->frame);
	PQfinish(src->conn);
	free(src);
}

int src_socket(const Source *src)
{
	return PQsocket(src->conn);
}

uint64_t src_start_lsn(const Source *src)
{
	return src->start_lsn;
}

uint64_t src_system_id(const Source *src)
{
	return src->system_id;
}

uint32_t src_timeline(const Source *src)
{
	return src->timeline;
}

uint64_t src_server_lsn(const Source *src)
{
	return src->server_lsn;
}

bool src_created_slot(const Source *src)
{
	return src->created_lsn != 0;
}

enum src_status src_consume(Source *src, char *err, size_t errlen)
{
	if (PQconsumeInput(src->conn) == 1)
		return SRC_OK;
	char line[512];
	pgc_first_line(PQerrorMessage(src->conn), line, sizeof(line));
	snprintf(err, errlen, "replication connection lost: %s", line);
	return SRC_RETRY;
}

/* The stream ended: the server's reason decides whether to come back. */
static int stream_ended(Source *src, char *err, size_t errlen)
{
	enum src_status st = SRC_RETRY;
	char line[512];
	PGresult *res;

	snprintf(err, errlen, "replication stream ended by the server");
	while ((res = PQgetResult(src->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
			pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
			snprintf(err, errlen, "replication stream: %s", line);
			st = classify(res);
		}
		PQclear(res);
		if (PQstatus(src->conn) == CONNECTION_BAD)
			break;
	}
	if (PQstatus(src->conn) == CONNECTION_BAD && st == SRC_RETRY) {
		pgc_first_line(PQerrorMessage(src->conn), line, sizeof(line));
		snprintf(err, errlen, "replication connection lost: %s", line);
	}
	return st;
}

int src_next(Source *src, const uint8_t **data, size_t *len, char *err, size_t errlen)
{
	if (src->frame) {
		PQfreemem(src->frame);
		src->frame = NULL;
	}
	int n = PQgetCopyData(src->conn, &src->frame, 1);
	if (n > 0) {
		*data = (const uint8_t *)src->frame;
		*len = (size_t)n;
		return 1;
	}
	if (n == 0)
		return 0;
	if (n == -2) {
		char line[512];
		pgc_first_line(PQerrorMessage(src->conn), line, sizeof(line));
		snprintf(err, errlen, "replication connection lost: %s", line);
		return SRC_RETRY;
	}
	return stream_ended(src, err, errlen);
}

static int64_t pg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - PGO_EPOCH_OFFSET_US;
}

enum src_status src_send_status(Source *src, uint64_t write_lsn, uint64_t flush_lsn, char *err,
				size_t errlen)
{
	uint8_t msg[PGO_STATUS_LEN];

	pgo_encode_status(msg, write_lsn, flush_lsn, flush_lsn, pg_now(), false);
	if (PQputCopyData(src->conn, (const char *)msg, sizeof(msg)) != 1 || PQflush(src->conn) < 0) {
		char line[512];
		pgc_first_line(PQerrorMessage(src->conn), line, sizeof(line));
		snprintf(err, errlen, "sending status update: %s", line);
		return SRC_RETRY;
	}
	return SRC_OK;
}

bool src_flush(Source *src)
{
	return PQflush(src->conn) == 1;
}
