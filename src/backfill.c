/* Backfill: a table's current rows again while streaming, chunk by chunk between watermarks. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backfill.h"
#include "condition.h"
#include "copy_text.h"
#include "file.h"
#include "log.h"
#include "mono.h"
#include "pgconn.h"
#include "reader.h"
#include "rowid.h"
#include "strbuf.h"
#include "xalloc.h"

/* After a lost connection, wait this long before trying again. */
#define RETRY_MS 2000

struct Request {
	long long id; /* the signal row */
	char *table;
	char *condition; /* NULL: every row */
	Condition *cond; /* condition, parsed: only what it compiled to is ever sent */
	char *after; /* key of the last row confirmed, COPY text joined by tabs; NULL: none yet */
	uint64_t rows, skipped; /* emitted and dropped in the chunks confirmed so far */
};

/* A chunk emitted in a transaction not yet confirmed to PostgreSQL. */
struct Progress {
	uint64_t end_lsn; /* 0 until the transaction's COMMIT */
	long long id;
	char *after;
	bool complete; /* the last chunk of the request */
	uint64_t rows, skipped; /* of this chunk */
};

/*
 * What the signal table is to say about a request: its row's status, with
 * a reason, the row counts and the time, written between chunks (marks are
 * kept until written, so a request's end is recorded even when the
 * database was away at that moment).
 */
struct Mark {
	long long id;
	const char *status; /* "done", "refused" or "failed" */
	char *reason; /* NULL for done */
	uint64_t rows, skipped;
};

enum bf_state {
	BF_IDLE, /* nothing asked of the server */
	BF_LOW, /* low watermark sent */
	BF_BEGIN, /* read-only transaction opened */
	BF_READ, /* chunk query sent */
	BF_HIGH, /* transaction closed, high watermark sent */
	BF_WAIT, /* waiting for the high watermark in the stream */
};

struct Backfill {
	const struct Config *cfg;
	bf_produce_fn produce;
	void *ctx;
	Translator *xl;
	char path[4096];

	struct Request *reqs; /* reqs[0] is the one running */
	size_t nreqs;
	struct Progress *progress;
	size_t nprogress;

	PGconn *conn;
	struct ReadTable table;
	bool loaded; /* table is reqs[0]'s */
	enum bf_state state;
	int64_t retry_at_ms;
	char nonce[24]; /* this run's watermarks carry it: replayed ones never match */
	uint64_t chunk; /* number of the chunk in flight, for its watermarks */
	char *cursor; /* key the next chunk starts after */
	struct StrBuf rows; /* the chunk's rows, as COPY text lines */
	size_t nrows;
	char *last_key;
	bool window; /* between our low and high watermark in the stream */
	bool emitted; /* the high watermark was seen and the chunk emitted */
	bool emitted_in_txn;
	bool row_gone; /* a watermark updated no row: the request's row was deleted */
	uint64_t req_rows, req_skipped; /* of the running request, by this process */
	char **changed; /* keys changed inside the window */
	size_t nchanged, capchanged;
	uint32_t stream_relid, stream_generation; /* where stream_keys was computed */
	int stream_keys[32]; /* key columns' positions in the stream's relation */
	struct PgoValue *cols;
	struct BackfillStats stats;
	char idbuf[256];
	struct RowId rowid; /* row ids: read again after a crash, a row repeats its own */
	bool rowid_ready;
	/* Requests refused lately: a stream read again after a reconnect does not log them twice. */
	long long refused[64];
	unsigned nrefused;
	struct Mark *marks; /* not yet written to the signal table */
	size_t nmarks;
	int64_t marks_retry_at_ms;
};

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static void request_free(struct Request *r)
{
	free(r->table);
	free(r->condition);
	cond_free(r->cond);
	free(r->after);
}

/*
 * ---- the state file: one COPY text line per request: id, table,
 * condition, after, rows, skipped (older files lack the counts) ----
 */

static int save(Backfill *bf, char *err, size_t errlen)
{
	struct StrBuf sb = {0};

	for (size_t i = 0; i < bf->nreqs; i++) {
		const struct Request *r = &bf->reqs[i];
		sb_printf(&sb, "%lld\t", r->id);
		copy_escape(&sb, r->table, strlen(r->table));
		sb_putc(&sb, '\t');
		copy_escape(&sb, r->condition, r->condition ? strlen(r->condition) : 0);
		sb_putc(&sb, '\t');
		copy_escape(&sb, r->after, r->after ? strlen(r->after) : 0);
		sb_printf(&sb, "\t%" PRIu64 "\t%" PRIu64 "\n", r->rows, r->skipped);
	}
	if (!sb_ok(&sb)) {
		sb_free(&sb);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = file_replace(bf->path, sb.data ? sb.data : "", sb.len, "backfill state", err, errlen);
	sb_free(&sb);
	return rc;
}

static int load(Backfill *bf, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct PgoValue v[6];

	FILE *f = fopen(bf->path, "r");
	if (!f)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "backfill state %s: %s", bf->path,
						       strerror(errno)), -1);
	while ((n = getline(&line, &cap, f)) > 0) {
		char perr[256];
		/* Six columns, or the four of a file an older version wrote. */
		size_t tabs = 0;
		for (ssize_t i = 0; i < n; i++)
			tabs += line[i] == '\t';
		uint16_t ncols = tabs >= 5 ? 6 : 4;
		v[4] = v[5] = (struct PgoValue){.kind = 'n'};
		if (copy_parse_row((uint8_t *)line, (size_t)n, v, ncols, perr, sizeof(perr)) < 0 ||
		    v[0].kind != 't' || v[1].kind != 't') {
			log_warning("backfill state %s: a line is damaged (%s); it is ignored", bf->path,
				    perr);
			continue;
		}
		struct Request *grown = realloc(bf->reqs, (bf->nreqs + 1) * sizeof(*grown));
		if (!grown)
			abort();
		bf->reqs = grown;
		struct Request *r = &bf->reqs[bf->nreqs++];
		*r = (struct Request){0};
		char *idtext = xstrndup((const char *)v[0].data, v[0].len);
		r->id = strtoll(idtext, NULL, 10);
		free(idtext);
		r->table = xstrndup((const char *)v[1].data, v[1].len);
		r->condition = v[2].kind == 't' ? xstrndup((const char *)v[2].data, v[2].len) : NULL;
		r->after = v[3].kind == 't' ? xstrndup((const char *)v[3].data, v[3].len) : NULL;
		for (int c = 4; c < 6; c++) {
			char num[24] = "0";
			if (v[c].kind == 't' && v[c].len < sizeof(num)) {
				memcpy(num, v[c].data, v[c].len);
				num[v[c].len] = '\0';
			}
			*(c == 4 ? &r->rows : &r->skipped) = strtoull(num, NULL, 10);
		}
		char why[512];
		if (r->condition && !(r->cond = cond_parse(r->condition, why, sizeof(why)))) {
			/* Kept by an older version that sent conditions as they came. */
			log_error("backfill %lld of %s: condition refused: %s; the request is dropped",
				  r->id, r->table, why);
			bf->stats.failed++;
			request_free(r);
			bf->nreqs--;
		}
	}
	free(line);
	fclose(f);
	if (bf->nreqs)
		log_info("backfill: %zu requests to resume from %s", bf->nreqs, bf->path);
	return 0;
}

/* ---- set-up ---- */

static int emit(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	Backfill *bf = ctx;
	return bf->produce(bf->ctx, ev, err, errlen);
}

Backfill *bf_new(const struct Config *cfg, bf_produce_fn produce, void *ctx, char *err,
		 size_t errlen)
{
	Backfill *bf = calloc(1, sizeof(*bf));
	if (!bf || !(bf->xl = xl_new(cfg, emit, bf))) {
		free(bf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bf->cfg = cfg;
	bf->produce = produce;
	bf->ctx = ctx;
	snprintf(bf->path, sizeof(bf->path), "%s/%s.backfill", cfg->state_dir, cfg->source.slot);
	snprintf(bf->nonce, sizeof(bf->nonce), "%08lx%04x", (unsigned long)time(NULL),
		 (unsigned)getpid() & 0xffff);
	if (load(bf, err, errlen) < 0) {
		bf_free(bf);
		return NULL;
	}
	bf->stats.pending = bf->nreqs;
	return bf;
}

static void forget_chunk(Backfill *bf)
{
	sb_reset(&bf->rows);
	bf->nrows = 0;
	free(bf->last_key);
	bf->last_key = NULL;
	for (size_t i = 0; i < bf->nchanged; i++)
		free(bf->changed[i]);
	bf->nchanged = 0;
	bf->window = false;
	bf->emitted = false;
}

/* Drop the connection and what was in flight; progress restarts from what is kept. */
static void disconnect(Backfill *bf)
{
	PQfinish(bf->conn);
	bf->conn = NULL;
	if (bf->loaded)
		rd_free(&bf->table);
	bf->loaded = false;
	bf->state = BF_IDLE;
	bf->row_gone = false;
	forget_chunk(bf);
	free(bf->cursor);
	bf->cursor = NULL;
	for (size_t i = 0; i < bf->nprogress; i++)
		free(bf->progress[i].after);
	bf->nprogress = 0;
	bf->emitted_in_txn = false;
}

void bf_free(Backfill *bf)
{
	if (!bf)
		return;
	disconnect(bf);
	for (size_t i = 0; i < bf->nreqs; i++)
		request_free(&bf->reqs[i]);
	free(bf->reqs);
	free(bf->progress);
	for (size_t i = 0; i < bf->nmarks; i++)
		free(bf->marks[i].reason);
	free(bf->marks);
	free(bf->changed);
	free(bf->cols);
	rowid_free(&bf->rowid);
	sb_free(&bf->rows);
	xl_free(bf->xl);
	free(bf);
}

/*
 * The columns a request's row gets beside those its requester fills in:
 * where it stands, why it was refused, the watermark of the chunk in
 * flight (see send_watermark), what it emitted, and when. Added to a
 * signal table an older version created, by its owner.
 */
#define SIGNAL_STATUS_COLUMNS                                                                    \
	"ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'requested', "                  \
	"ADD COLUMN IF NOT EXISTS reason text, ADD COLUMN IF NOT EXISTS watermark text, "       \
	"ADD COLUMN IF NOT EXISTS rows_emitted bigint, ADD COLUMN IF NOT EXISTS rows_skipped bigint, " \
	"ADD COLUMN IF NOT EXISTS started_at timestamptz, "                                    \
	"ADD COLUMN IF NOT EXISTS finished_at timestamptz"

/* The signal table's name as SQL: schema and table quoted. */
static char *signal_sql_name(PGconn *conn, const char *qualname)
{
	const char *dot = strchr(qualname, '.');
	char *nsp = PQescapeIdentifier(conn, qualname, (size_t)(dot - qualname));
	char *rel = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
	struct StrBuf sb = {0};
	if (nsp && rel)
		sb_printf(&sb, "%s.%s", nsp, rel);
	PQfreemem(nsp);
	PQfreemem(rel);
	if (!sb_ok(&sb))
		abort();
	return sb.data;
}

/*
 * What the signal table needs, read from the catalog by name (no regclass
 * casts: those fail on schemas the role may not use), with the role's
 * privileges. Only catalogs every role can read are touched.
 */
struct SignalState {
	bool exists, published;
	bool can_select, can_insert, can_update, can_delete, can_use_sequence;
	bool has_status; /* the columns that record a request's status (SIGNAL_STATUS_COLUMNS) */
	bool can_create; /* CREATE on the schema */
	bool owns_publication; /* or: the publication does not exist yet (we create it) */
	bool owns_table;
};

static int signal_state(PGconn *conn, const struct Config *cfg, struct SignalState *st, char *err,
			size_t errlen)
{
	const char *what = cfg->source.signal_table;
	char nsp[256], rel[256];
	rd_split_name(what, nsp, rel);
	const char *params[3] = {nsp, rel, cfg->source.publication};
	PGresult *res = PQexecParams(
		conn,
		"SELECT c.oid IS NOT NULL, "
		"  EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables pt "
		"    WHERE pt.pubname = $3 AND pt.schemaname = $1 AND pt.tablename = $2), "
		"  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'SELECT'), "
		"  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'INSERT'), "
		"  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'DELETE'), "
		"  COALESCE((SELECT a.attidentity <> '' OR pg_catalog.has_sequence_privilege("
		"      pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', $1, $2), 'id'), 'USAGE') "
		"    FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id'), false), "
		"  COALESCE((SELECT pg_catalog.has_schema_privilege(n.oid, 'CREATE') "
		"    FROM pg_catalog.pg_namespace n WHERE n.nspname = $1), false), "
		"  COALESCE((SELECT pg_catalog.pg_has_role(p.pubowner, 'USAGE') "
		"    FROM pg_catalog.pg_publication p WHERE p.pubname = $3), true), "
		"  c.oid IS NOT NULL AND pg_catalog.pg_has_role(c.relowner, 'USAGE'), "
		"  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'UPDATE'), "
		"  COALESCE((SELECT count(*) = 7 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
		"    AND NOT a.attisdropped AND a.attname IN ('status', 'reason', 'watermark', "
		"    'rows_emitted', 'rows_skipped', 'started_at', 'finished_at')), false) "
		"FROM (SELECT 1) one LEFT JOIN (pg_catalog.pg_class c "
		"  JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace AND cn.nspname = $1) "
		"  ON c.relname = $2 AND c.relkind IN ('r', 'p')",
		3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "signal table %s: reading the catalog: %s", what, line);
		PQclear(res);
		return -1;
	}
	bool *fields[] = {&st->exists,	   &st->published,	  &st->can_select,
			  &st->can_insert, &st->can_delete,	  &st->can_use_sequence,
			  &st->can_create, &st->owns_publication, &st->owns_table,
			  &st->can_update, &st->has_status};
	for (int i = 0; i < (int)(sizeof(fields) / sizeof(fields[0])); i++)
		*fields[i] = PQgetvalue(res, 0, i)[0] == 't';
	PQclear(res);
	return 0;
}

int bf_check(PGconn *conn, const struct Config *cfg, bool *create, bool *publish, char *err,
	     size_t errlen)
{
	const char *what = cfg->source.signal_table;
	struct SignalState st;

	if (signal_state(conn, cfg, &st, err, errlen) < 0)
		return -1;
	*create = !st.exists;
	*publish = !st.published;
	if ((!st.exists || !st.published) && !cfg->source.create_publication) {
		snprintf(err, errlen,
			 "signal table %s %s: create it and add it to publication \"%s\" (see tablecast.cfg(5)), or set source.create_publication = true",
			 what, st.exists ? "is not in the publication" : "does not exist",
			 cfg->source.publication);
		return -1;
	}
	if (!st.exists && !st.can_create) {
		snprintf(err, errlen,
			 "signal table %s does not exist and this role may not create it: create it (see docs/SECURITY.md) or GRANT CREATE ON SCHEMA %.*s",
			 what, (int)(strchr(what, '.') - what), what);
		return -1;
	}
	if (st.exists && !st.published && (!st.owns_table || !st.owns_publication)) {
		snprintf(err, errlen,
			 "signal table %s is not in publication \"%s\", and only the owner of both may add it: ALTER PUBLICATION ... ADD TABLE %s",
			 what, cfg->source.publication, what);
		return -1;
	}
	if (st.exists && !st.has_status && !st.owns_table) {
		snprintf(err, errlen,
			 "signal table %s lacks the columns that record a request's status, and only its owner may add them: ALTER TABLE %s %s",
			 what, what, SIGNAL_STATUS_COLUMNS);
		return -1;
	}
	if (st.exists && (!st.can_select || !st.can_insert || !st.can_update || !st.can_delete ||
			  !st.can_use_sequence)) {
		snprintf(err, errlen,
			 "signal table %s: this role lacks%s%s%s%s%s (GRANT SELECT, INSERT, UPDATE, DELETE ON %s, and USAGE on the sequence of its id)",
			 what, st.can_select ? "" : " SELECT", st.can_insert ? "" : " INSERT",
			 st.can_update ? "" : " UPDATE", st.can_delete ? "" : " DELETE",
			 st.can_use_sequence ? "" : " USAGE on the id sequence", what);
		return -1;
	}
	return 0;
}

int bf_prepare(Backfill *bf, bool create_objects, char *err, size_t errlen)
{
	const struct Config *cfg = bf->cfg;
	const char *what = cfg->source.signal_table;
	char sql[2048];
	bool create, publish;
	int rc = -1;

	/* Progress is saved there; the slot may exist already, so nothing else made it. */
	if (file_state_dir(cfg->state_dir, err, errlen) < 0)
		return -1;
	if (access(cfg->state_dir, W_OK) < 0) {
		snprintf(err, errlen, "state_dir %s: %s", cfg->state_dir, strerror(errno));
		return -1;
	}
	PGconn *conn = pgc_connect(cfg->source.conninfo, false, "tablecast backfill", err, errlen);
	if (!conn)
		return -1;
	char *name = signal_sql_name(conn, what);
	if (bf_check(conn, cfg, &create, &publish, err, errlen) < 0)
		goto out;
	if (!create_objects) {
		rc = 0;
		goto out;
	}
	if (create) {
		/* kind: 'backfill', the one kind of request so far. */
		snprintf(sql, sizeof(sql),
			 "CREATE TABLE %s (id bigserial PRIMARY KEY, kind text NOT NULL, "
			 "target text NOT NULL, condition text, "
			 "created_at timestamptz NOT NULL DEFAULT now(), "
			 "status text NOT NULL DEFAULT 'requested', reason text, watermark text, "
			 "rows_emitted bigint, rows_skipped bigint, started_at timestamptz, "
			 "finished_at timestamptz)",
			 name);
		if (pgc_exec(conn, sql, what, err, errlen) < 0)
			goto out;
		log_info("created signal table %s", what);
	} else {
		struct SignalState st;
		if (signal_state(conn, cfg, &st, err, errlen) < 0)
			goto out;
		if (!st.has_status) {
			snprintf(sql, sizeof(sql), "ALTER TABLE %s %s", name, SIGNAL_STATUS_COLUMNS);
			if (pgc_exec(conn, sql, what, err, errlen) < 0)
				goto out;
			log_info("signal table %s: added the columns that record a request's status", what);
		}
	}
	if (publish) {
		/* A FOR ALL TABLES publication already has the table it just created. */
		if (create && bf_check(conn, cfg, &create, &publish, err, errlen) < 0)
			goto out;
	}
	if (publish) {
		snprintf(sql, sizeof(sql), "ALTER PUBLICATION \"%s\" ADD TABLE %s",
			 cfg->source.publication, name);
		if (pgc_exec(conn, sql, what, err, errlen) < 0)
			goto out;
		log_info("added signal table %s to publication \"%s\"", what, cfg->source.publication);
	}
	rc = 0;
out:
	free(name);
	PQfinish(conn);
	return rc;
}

bool bf_is_signal(const Backfill *bf, const struct Relation *rel)
{
	return strcmp(rel->qualname, bf->cfg->source.signal_table) == 0;
}

/* A column of a signal row by name, NUL-terminated into buf ("" when NULL or absent). */
static const char *signal_column(const struct Relation *rel, const struct PgoTuple *tuple,
				 const char *name, char *buf, size_t buflen, bool *null)
{
	*null = true;
	buf[0] = '\0';
	for (uint16_t i = 0; i < rel->natts && i < tuple->ncols; i++) {
		if (strcmp(rel->atts[i].name, name) != 0 || tuple->cols[i].kind != 't')
			continue;
		size_t n = tuple->cols[i].len < buflen - 1 ? tuple->cols[i].len : buflen - 1;
		memcpy(buf, tuple->cols[i].data, n);
		buf[n] = '\0';
		*null = false;
	}
	return buf;
}

static bool has_snapshot_event(const struct Config *cfg, const char *table)
{
	for (size_t i = 0; i < cfg->nevents; i++)
		if ((cfg->events[i].ops & OP_SNAPSHOT) && strcmp(cfg->events[i].table, table) == 0)
			return true;
	return false;
}

/* A request not run: its INSERT, read again after a reconnect, must not bring it back. */
static void remember_refused(Backfill *bf, long long id)
{
	bf->refused[bf->nrefused++ % (sizeof(bf->refused) / sizeof(bf->refused[0]))] = id;
}

/* The running request is over (done, refused or cancelled): the next one is reqs[0]. */
static void drop_first(Backfill *bf)
{
	request_free(&bf->reqs[0]);
	memmove(bf->reqs, bf->reqs + 1, (bf->nreqs - 1) * sizeof(*bf->reqs));
	bf->nreqs--;
	bf->stats.pending = bf->nreqs;
}

/* Queue what the signal table is to say about request id (see struct Mark). */
static void mark(Backfill *bf, long long id, const char *status, const char *reason,
		 uint64_t rows, uint64_t skipped)
{
	struct Mark *grown = realloc(bf->marks, (bf->nmarks + 1) * sizeof(*grown));
	if (!grown)
		abort();
	bf->marks = grown;
	bf->marks[bf->nmarks++] = (struct Mark){.id = id,
						.status = status,
						.reason = xstrdup_or_null(reason),
						.rows = rows,
						.skipped = skipped};
}

/*
 * Remember that a request is not run (status "refused": it can never run;
 * "failed": the server refused its read), so that a stream read again does
 * not bring it back, and record why in its row. The caller has logged it.
 */
static void refuse(Backfill *bf, long long id, const char *status, const char *reason)
{
	remember_refused(bf, id);
	bf->stats.failed++;
	mark(bf, id, status, reason, 0, 0);
}

static int add_request(Backfill *bf, long long id, const char *table, const char *condition,
		       char *err, size_t errlen)
{
	for (size_t i = 0; i < bf->nreqs; i++)
		if (bf->reqs[i].id == id)
			return 0; /* the request's transaction came again */
	for (size_t i = 0; i < sizeof(bf->refused) / sizeof(bf->refused[0]); i++)
		if (bf->refused[i] == id)
			return 0;
	if (!has_snapshot_event(bf->cfg, table)) {
		log_warning("backfill %lld of %s: no event of that table is declared on = [\"snapshot\"]; ignored",
			    id, table);
		refuse(bf, id, "refused", "no event of the table is declared on = [\"snapshot\"]");
		return 0;
	}
	/* Refused once, for good: the stream goes on and nothing asks again. */
	char why[512];
	Condition *cond = NULL;
	if (condition && !(cond = cond_parse(condition, why, sizeof(why)))) {
		log_error("backfill %lld of %s: condition refused: %s; the request is dropped (condition: %.256s)",
			  id, table, why, condition);
		char reason[600];
		snprintf(reason, sizeof(reason), "condition refused: %s", why);
		refuse(bf, id, "refused", reason);
		return 0;
	}
	struct Request *grown = realloc(bf->reqs, (bf->nreqs + 1) * sizeof(*grown));
	if (!grown)
		abort();
	bf->reqs = grown;
	bf->reqs[bf->nreqs++] = (struct Request){.id = id,
						 .table = xstrdup_or_null(table),
						 .condition = xstrdup_or_null(condition),
						 .cond = cond};
	bf->stats.pending = bf->nreqs;
	log_info("backfill %lld of %s%s%s requested", id, table, condition ? " where " : "",
		 condition ? condition : "");
	return save(bf, err, errlen);
}

/* The key of a row: its key columns' values in COPY text, joined by tabs. */
static char *key_string(const struct PgoValue *const *vals, uint16_t n)
{
	struct StrBuf sb = {0};
	for (uint16_t i = 0; i < n; i++) {
		if (i)
			sb_putc(&sb, '\t');
		const struct PgoValue *v = vals[i];
		copy_escape(&sb, v && v->kind == 't' ? (const char *)v->data : NULL, v ? v->len : 0);
	}
	if (!sb_ok(&sb) && !(sb.data = strdup("")))
		abort();
	if (!sb.data && !(sb.data = strdup("")))
		abort();
	return sb.data;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The high watermark: the chunk's rows the window did not touch become events. */
static int emit_chunk(Backfill *bf, char *err, size_t errlen)
{
	const struct ReadTable *t = &bf->table;
	char *p = bf->rows.data, *end = bf->rows.data + bf->rows.len;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t time_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;

	if (!bf->rowid_ready) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s.rowid", bf->cfg->state_dir, bf->cfg->source.slot);
		if (rowid_load(&bf->rowid, path, err, errlen) < 0)
			return -1;
		bf->rowid_ready = true;
	}
	if (bf->nchanged)
		qsort(bf->changed, bf->nchanged, sizeof(char *), cmp_str);
	uint64_t chunk_rows = 0, chunk_skipped = 0;
	for (size_t row = 0; p && p < end; row++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)(nl - p) + 1;
		if (copy_parse_row((uint8_t *)p, len, bf->cols, t->rel.natts, err, errlen) < 0)
			return -1;
		p += len;
		const struct PgoValue *keyv[32];
		for (uint16_t k = 0; k < t->nkeys; k++)
			keyv[k] = &bf->cols[t->keys[k]];
		char *key = key_string(keyv, t->nkeys);
		bool stale = bf->nchanged &&
			     bsearch(&key, bf->changed, bf->nchanged, sizeof(char *), cmp_str);
		free(key);
		if (stale) {
			bf->stats.skipped++;
			bf->req_skipped++;
			chunk_skipped++;
			continue;
		}
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "backfill:%lld:", bf->reqs[0].id);
		rowid_format(&bf->rowid, bf->idbuf, sizeof(bf->idbuf), prefix, t->rel.relid, bf->cols,
			     t->keys, t->nkeys);
		xl_begin_read(bf->xl, bf->idbuf, time_us, "backfill");
		struct PgoTuple tuple = {.ncols = t->rel.natts, .cols = bf->cols};
		if (xl_snapshot_row(bf->xl, &t->rel, &tuple, err, errlen) < 0)
			return -1;
		bf->stats.rows++;
		bf->req_rows++;
		chunk_rows++;
	}
	bf->stats.chunks++;
	struct Progress *grown = realloc(bf->progress, (bf->nprogress + 1) * sizeof(*grown));
	if (!grown)
		abort();
	bf->progress = grown;
	bf->progress[bf->nprogress++] = (struct Progress){
		.id = bf->reqs[0].id,
		.after = xstrdup_or_null(bf->last_key ? bf->last_key : bf->cursor),
		.complete = bf->nrows < (size_t)bf->cfg->source.backfill_chunk,
		.rows = chunk_rows,
		.skipped = chunk_skipped,
	};
	bf->emitted_in_txn = true;
	/* The next chunk starts after this one's last row, dropped or not. */
	if (bf->last_key) {
		free(bf->cursor);
		bf->cursor = bf->last_key;
		bf->last_key = NULL;
	}
	forget_chunk(bf);
	bf->emitted = true;
	return 0;
}

/* Does a watermark ("low:<nonce>:<chunk>" or "high:...") of request id name the chunk in flight? */
static bool ours(const Backfill *bf, const char *id, const char *which, const char *watermark)
{
	char want[96];
	if (!bf->nreqs || !bf->loaded || bf->state == BF_IDLE)
		return false;
	snprintf(want, sizeof(want), "%s:%s:%" PRIu64, which, bf->nonce, bf->chunk);
	return atoll(id) == bf->reqs[0].id && strcmp(watermark, want) == 0;
}

int bf_signal(Backfill *bf, const struct Relation *rel, const struct PgoMessage *msg, char *err,
	      size_t errlen)
{
	/* One byte more than a condition may have: a longer one is refused, never cut. */
	char kind[32], target[512], condition[COND_MAX_LEN + 2], id[32];
	bool null, cond_null;

	const struct PgoTuple *tuple = &msg->change.new_tuple;
	if (msg->kind == 'U') {
		/* tablecast's own watermarks: updates of the running request's row. */
		char watermark[96];
		signal_column(rel, tuple, "id", id, sizeof(id), &null);
		signal_column(rel, tuple, "watermark", watermark, sizeof(watermark), &null);
		if (ours(bf, id, "low", watermark)) {
			bf->window = true;
			return 0;
		}
		if (ours(bf, id, "high", watermark) && !bf->emitted)
			return emit_chunk(bf, err, errlen);
		return 0;
	}
	if (msg->kind != 'I')
		return 0;
	signal_column(rel, tuple, "kind", kind, sizeof(kind), &null);
	signal_column(rel, tuple, "target", target, sizeof(target), &null);
	signal_column(rel, tuple, "condition", condition, sizeof(condition), &cond_null);
	signal_column(rel, tuple, "id", id, sizeof(id), &null);
	if (strcmp(kind, "backfill") == 0)
		return add_request(bf, atoll(id), target, cond_null ? NULL : condition, err, errlen);
	return 0;
}

void bf_change(Backfill *bf, const struct Relation *rel, const struct PgoMessage *msg)
{
	const struct ReadTable *t = &bf->table;
	if (!bf->window || !bf->loaded || strcmp(rel->qualname, t->rel.qualname) != 0)
		return;
	if (bf->stream_relid != rel->relid || bf->stream_generation != rel->generation) {
		bf->stream_relid = rel->relid;
		bf->stream_generation = rel->generation;
		for (uint16_t k = 0; k < t->nkeys; k++) {
			bf->stream_keys[k] = -1;
			for (uint16_t a = 0; a < rel->natts; a++)
				if (strcmp(rel->atts[a].name, t->rel.atts[t->keys[k]].name) == 0)
					bf->stream_keys[k] = a;
		}
	}
	const struct PgoTuple *tuples[2] = {
		msg->change.old_kind ? &msg->change.old_tuple : NULL,
		msg->change.has_new ? &msg->change.new_tuple : NULL,
	};
	for (int i = 0; i < 2; i++) {
		if (!tuples[i])
			continue;
		const struct PgoValue *keyv[32];
		for (uint16_t k = 0; k < t->nkeys; k++) {
			int a = bf->stream_keys[k];
			keyv[k] = a >= 0 && a < tuples[i]->ncols ? &tuples[i]->cols[a] : NULL;
		}
		if (bf->nchanged == bf->capchanged) {
			bf->capchanged = bf->capchanged ? bf->capchanged * 2 : 64;
			char **grown = realloc(bf->changed, bf->capchanged * sizeof(char *));
			if (!grown)
				abort();
			bf->changed = grown;
		}
		bf->changed[bf->nchanged++] = key_string(keyv, t->nkeys);
	}
}

void bf_commit(Backfill *bf, uint64_t end_lsn)
{
	if (!bf->emitted_in_txn)
		return;
	bf->emitted_in_txn = false;
	for (size_t i = 0; i < bf->nprogress; i++)
		if (!bf->progress[i].end_lsn)
			bf->progress[i].end_lsn = end_lsn;
}

void bf_reset(Backfill *bf)
{
	if (bf->conn || bf->nprogress)
		log_info("backfill: reading again from the last confirmed chunk");
	disconnect(bf);
}

int bf_socket(const Backfill *bf)
{
	return bf->conn && bf->state != BF_IDLE && bf->state != BF_WAIT ? PQsocket(bf->conn) : -1;
}

const struct BackfillStats *bf_stats(const Backfill *bf)
{
	return &bf->stats;
}

/* ---- the connection's state machine ---- */

static int send(Backfill *bf, const char *sql, enum bf_state next, char *err, size_t errlen)
{
	if (!PQsendQuery(bf->conn, sql)) {
		char line[512];
		pgc_first_line(PQerrorMessage(bf->conn), line, sizeof(line));
		snprintf(err, errlen, "%s", line);
		return -1;
	}
	bf->state = next;
	return 0;
}

/*
 * A watermark: an update of the request's own row, which the stream brings
 * back in WAL order (so a request takes one id, and no rows pile up). It
 * names this process (nonce) and the chunk, so a watermark read again
 * after a reconnect never matches. The high one also ends the chunk's
 * read-only transaction; the low one marks the request running.
 */
static int send_watermark(Backfill *bf, const char *which, enum bf_state next, char *err,
			  size_t errlen)
{
	char sql[1024];
	char *name = signal_sql_name(bf->conn, bf->cfg->source.signal_table);
	snprintf(sql, sizeof(sql),
		 "%sUPDATE %s SET watermark = '%s:%s:%" PRIu64 "'%s WHERE id = %lld",
		 next == BF_HIGH ? "COMMIT; " : "", name, which, bf->nonce, bf->chunk,
		 next == BF_LOW ? ", status = 'running', started_at = COALESCE(started_at, now())" : "",
		 bf->reqs[0].id);
	free(name);
	return send(bf, sql, next, err, errlen);
}

/* The chunk is read in a transaction of its own, READ ONLY (the connection's settings bound it). */
static int send_begin(Backfill *bf, char *err, size_t errlen)
{
	return send(bf, "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED READ ONLY", BF_BEGIN, err,
		    errlen);
}

/*
 * The next chunk in key order: a SELECT generated by us, sent with the
 * extended query protocol (one statement, no more), in which the cursor's
 * key and the condition's constants are parameters and the condition is
 * SQL printed from its parse tree. (COPY takes no parameters.)
 */
static int send_read(Backfill *bf, char *err, size_t errlen)
{
	const struct ReadTable *t = &bf->table;
	const struct Request *r = &bf->reqs[0];
	struct StrBuf sql = {0}, keys = {0};
	struct CondParams params = {0};
	int rc = -1;

	for (uint16_t k = 0; k < t->nkeys; k++) {
		const char *name = t->rel.atts[t->keys[k]].name;
		char *q = PQescapeIdentifier(bf->conn, name, strlen(name));
		sb_printf(&keys, "%s%s", k ? ", " : "", q ? q : "");
		PQfreemem(q);
	}
	sb_printf(&sql, "SELECT %s FROM %s WHERE true", t->select_list, t->from);
	/* A sharded table's sibling instances backfill the other shards. */
	const struct ShardDef *sh = cfg_shard(bf->cfg, t->rel.qualname);
	if (sh) {
		char filter[128];
		shard_filter_sql(sh, filter, sizeof(filter));
		sb_printf(&sql, " AND %s", filter);
	}
	if (bf->cursor) {
		size_t n = strlen(bf->cursor);
		char *copy = xstrndup(bf->cursor, n + 1);
		copy[n] = '\n';
		struct PgoValue v[32];
		if (copy_parse_row((uint8_t *)copy, n + 1, v, t->nkeys, err, errlen) < 0) {
			free(copy);
			goto out;
		}
		sb_printf(&sql, " AND (%s) > (", keys.data);
		for (uint16_t k = 0; k < t->nkeys; k++) {
			/* Key columns are NOT NULL (primary key or replica identity index). */
			int p = cond_param(&params, v[k].kind == 't' ? (const char *)v[k].data : "",
					   v[k].kind == 't' ? v[k].len : 0);
			sb_printf(&sql, "%s$%d::%s", k ? ", " : "", p, t->key_types[k]);
		}
		sb_putc(&sql, ')');
		free(copy);
	}
	if (r->cond) {
		sb_puts(&sql, " AND ");
		if (cond_sql(r->cond, &sql, &params, err, errlen) < 0)
			goto out;
	}
	sb_printf(&sql, " ORDER BY %s LIMIT %d", keys.data, bf->cfg->source.backfill_chunk);
	if (!sb_ok(&sql) || !sb_ok(&keys)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!PQsendQueryParams(bf->conn, sql.data, params.n, NULL,
			       (const char *const *)params.values, NULL, NULL, 0)) {
		char line[512];
		pgc_first_line(PQerrorMessage(bf->conn), line, sizeof(line));
		snprintf(err, errlen, "%s", line);
		goto out;
	}
	bf->state = BF_READ;
	rc = 0;
out:
	sb_free(&sql);
	sb_free(&keys);
	cond_params_free(&params);
	return rc;
}

/* The chunk's rows as COPY text lines, as the emitter reads them; the last key for the cursor. */
static void take_rows(Backfill *bf, const PGresult *res)
{
	const struct ReadTable *t = &bf->table;
	int nrows = PQntuples(res), ncols = PQnfields(res);
	struct PgoValue key[32];
	const struct PgoValue *keyv[32];

	for (int i = 0; i < nrows; i++) {
		for (int c = 0; c < ncols; c++) {
			if (c)
				sb_putc(&bf->rows, '\t');
			copy_escape(&bf->rows, PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c),
				    (size_t)PQgetlength(res, i, c));
		}
		sb_putc(&bf->rows, '\n');
		bf->nrows++;
	}
	if (!nrows)
		return;
	for (uint16_t k = 0; k < t->nkeys; k++) {
		int c = t->keys[k];
		key[k] = (struct PgoValue){.kind = 't',
					   .data = (const uint8_t *)PQgetvalue(res, nrows - 1, c),
					   .len = (uint32_t)PQgetlength(res, nrows - 1, c)};
		keyv[k] = &key[k];
	}
	free(bf->last_key);
	bf->last_key = key_string(keyv, t->nkeys);
}

/* Results of the query in flight: 1 when all arrived, 0 when waiting, -1 on error. */
static int collect(Backfill *bf, char *err, size_t errlen)
{
	for (;;) {
		if (PQisBusy(bf->conn))
			return 0;
		PGresult *res = PQgetResult(bf->conn);
		if (!res)
			return 1;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK && bf->state == BF_READ) {
			take_rows(bf, res);
		} else if (st == PGRES_COMMAND_OK && strncmp(PQcmdStatus(res), "UPDATE", 6) == 0 &&
			   strcmp(PQcmdTuples(res), "0") == 0) {
			bf->row_gone = true;
		} else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			char line[512];
			pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
			snprintf(err, errlen, "%s", line);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
}

/* Keep progress confirmed to PostgreSQL; finish requests whose last chunk is confirmed. */
static int keep_progress(Backfill *bf, uint64_t confirmed, char *err, size_t errlen)
{
	size_t done = 0;
	bool changed = false, finished = false;

	while (done < bf->nprogress && bf->progress[done].end_lsn &&
	       bf->progress[done].end_lsn <= confirmed) {
		struct Progress *pr = &bf->progress[done++];
		for (size_t i = 0; i < bf->nreqs; i++) {
			if (bf->reqs[i].id != pr->id)
				continue;
			free(bf->reqs[i].after);
			bf->reqs[i].after = pr->after;
			pr->after = NULL;
			bf->reqs[i].rows += pr->rows;
			bf->reqs[i].skipped += pr->skipped;
			finished |= pr->complete && i == 0;
			changed = true;
		}
		free(pr->after);
	}
	if (!done)
		return 0;
	memmove(bf->progress, bf->progress + done, (bf->nprogress - done) * sizeof(*bf->progress));
	bf->nprogress -= done;
	if (finished) {
		struct Request *r = &bf->reqs[0];
		log_info("backfill %lld of %s: done, %" PRIu64 " rows emitted, %" PRIu64
			 " skipped for newer changes",
			 r->id, r->table, r->rows, r->skipped);
		mark(bf, r->id, "done", NULL, r->rows, r->skipped);
		bf->stats.completed++;
		drop_first(bf);
	}
	return changed ? save(bf, err, errlen) : 0;
}

/* Connect for reqs[0] and learn its table; a request that cannot run is dropped. */
static int start_request(Backfill *bf, char *err, size_t errlen)
{
	struct Request *r = &bf->reqs[0];
	char why[1024];

	bf->req_rows = bf->req_skipped = 0;

	char setup[256];

	/*
	 * Every statement of this connection is bounded (a locked table must not
	 * hold the backfill, or the catalog read, for ever), and sees only
	 * pg_catalog's functions and operators whatever the role's search_path.
	 */
	snprintf(setup, sizeof(setup),
		 "SET statement_timeout = %d; SET search_path = pg_catalog, pg_temp",
		 bf->cfg->source.backfill_timeout_ms);
	bf->conn = pgc_connect(bf->cfg->source.conninfo, false, "tablecast backfill", why,
			       sizeof(why));
	if (!bf->conn || pgc_exec(bf->conn, setup, "backfill: SET", why, sizeof(why)) < 0) {
		log_warning("backfill %lld: %s; trying again", r->id, why);
		PQfinish(bf->conn);
		bf->conn = NULL;
		bf->retry_at_ms = mono_ms() + RETRY_MS;
		return 0;
	}
	if (rd_load(bf->conn, bf->cfg, r->table, RD_BACKFILL, &bf->table, why, sizeof(why)) < 0) {
		log_error("backfill %lld of %s: failed: %s; the request is dropped", r->id, r->table,
			  why);
		refuse(bf, r->id, "refused", why);
		PQfinish(bf->conn);
		bf->conn = NULL;
		drop_first(bf);
		return save(bf, err, errlen);
	}
	bf->loaded = true;
	free(bf->cols);
	bf->cols = calloc(bf->table.rel.natts ? bf->table.rel.natts : 1, sizeof(struct PgoValue));
	if (!bf->cols || PQsetnonblocking(bf->conn, 1) != 0) {
		snprintf(err, errlen, "backfill: out of memory");
		return -1;
	}
	free(bf->cursor);
	bf->cursor = xstrdup_or_null(r->after);
	log_info("backfill %lld of %s: reading %d rows at a time%s", r->id, r->table,
		 bf->cfg->source.backfill_chunk, r->after ? ", resuming" : "");
	return 0;
}

/*
 * Write the queued marks into the signal table, then delete rows whose
 * request ended more than source.backfill_retention ago. Uses the
 * backfill's connection when it is between queries, else a short one of its
 * own. Returns 0; a failure is logged and retried later.
 */
static void flush_marks(Backfill *bf)
{
	char sql[1024], why[1024], rows[24], skipped[24], id[24];
	PGconn *conn = bf->conn;

	if (!bf->nmarks || mono_ms() < bf->marks_retry_at_ms)
		return;
	if (conn && bf->state != BF_IDLE && bf->state != BF_WAIT)
		return; /* a query is in flight: next time */
	if (!conn && !(conn = pgc_connect(bf->cfg->source.conninfo, false, "tablecast backfill", why,
					  sizeof(why))))
		goto failed;
	char *name = signal_sql_name(conn, bf->cfg->source.signal_table);
	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET status = $1, reason = $2, rows_emitted = $3, rows_skipped = $4, "
		 "watermark = NULL, finished_at = now() WHERE id = $5",
		 name);
	while (bf->nmarks) {
		struct Mark *m = &bf->marks[0];
		snprintf(rows, sizeof(rows), "%" PRIu64, m->rows);
		snprintf(skipped, sizeof(skipped), "%" PRIu64, m->skipped);
		snprintf(id, sizeof(id), "%lld", m->id);
		const char *done = strcmp(m->status, "done") == 0 ? "" : NULL;
		const char *params[5] = {m->status, m->reason, done ? rows : NULL,
					 done ? skipped : NULL, id};
		PGresult *res = PQexecParams(conn, sql, 5, NULL, params, NULL, NULL, 0);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			pgc_first_line(PQresultErrorMessage(res), why, sizeof(why));
		PQclear(res);
		if (!ok) {
			free(name);
			goto failed;
		}
		free(m->reason);
		memmove(bf->marks, bf->marks + 1, (bf->nmarks - 1) * sizeof(*bf->marks));
		bf->nmarks--;
	}
	/* Rows an older version left: its watermarks, and requests it deleted only when done. */
	snprintf(sql, sizeof(sql),
		 "DELETE FROM %s WHERE (status IN ('done', 'refused', 'failed') "
		 "AND finished_at < now() - make_interval(secs => %d)) "
		 "OR kind IN ('backfill-low', 'backfill-high')",
		 name, bf->cfg->source.backfill_retention_s);
	free(name);
	if (pgc_exec(conn, sql, "backfill: cleaning up the signal table", why, sizeof(why)) < 0)
		goto failed;
	if (conn != bf->conn)
		PQfinish(conn);
	return;
failed:
	log_warning("backfill: recording requests' status in the signal table: %s; trying again", why);
	if (conn != bf->conn)
		PQfinish(conn);
	bf->marks_retry_at_ms = mono_ms() + RETRY_MS;
}

int bf_work(Backfill *bf, uint64_t confirmed, char *err, size_t errlen)
{
	char why[1024];
	long long running = bf->nreqs ? bf->reqs[0].id : 0;

	if (keep_progress(bf, confirmed, err, errlen) < 0)
		return -1;
	flush_marks(bf);
	if (running && (!bf->nreqs || bf->reqs[0].id != running))
		disconnect(bf); /* reqs[0] finished: the next one */
	if (!bf->conn) {
		if (!bf->nreqs || mono_ms() < bf->retry_at_ms)
			return 0;
		if (start_request(bf, err, errlen) < 0)
			return -1;
		if (!bf->conn)
			return 0;
		bf->chunk++;
		if (send_watermark(bf, "low", BF_LOW, why, sizeof(why)) < 0)
			goto lost;
		return 0;
	}
	if (bf->state != BF_IDLE && bf->state != BF_WAIT && !PQconsumeInput(bf->conn))
		goto lost;
	int rc = 0;
	for (;;) {
		switch (bf->state) {
		case BF_IDLE:
			return 0;
		case BF_LOW:
			if ((rc = collect(bf, why, sizeof(why))) <= 0)
				goto result;
			if (bf->row_gone)
				goto cancelled;
			if (send_begin(bf, why, sizeof(why)) < 0)
				goto lost;
			break;
		case BF_BEGIN:
			if ((rc = collect(bf, why, sizeof(why))) <= 0)
				goto result;
			if (send_read(bf, why, sizeof(why)) < 0) {
				if (PQstatus(bf->conn) == CONNECTION_BAD)
					goto lost;
				goto refused;
			}
			break;
		case BF_READ:
			if ((rc = collect(bf, why, sizeof(why))) <= 0)
				goto result;
			if (send_watermark(bf, "high", BF_HIGH, why, sizeof(why)) < 0)
				goto lost;
			break;
		case BF_HIGH:
			if ((rc = collect(bf, why, sizeof(why))) <= 0)
				goto result;
			if (bf->row_gone)
				goto cancelled;
			bf->state = BF_WAIT;
			break;
		case BF_WAIT:
			if (!bf->emitted)
				return 0;
			/* Emitted: the next chunk, unless that was the last one. */
			if (bf->nprogress && bf->progress[bf->nprogress - 1].complete)
				return 0;
			bf->emitted = false;
			bf->chunk++;
			if (send_watermark(bf, "low", BF_LOW, why, sizeof(why)) < 0)
				goto lost;
			break;
		}
	}
result:
	if (rc == 0)
		return 0;
	if (PQstatus(bf->conn) != CONNECTION_BAD && bf->state == BF_READ) {
refused:
		/*
		 * The server refused the read itself (a condition that does not fit
		 * the table, a timeout): nothing can fix it, so it is said once and
		 * the request dropped for good; the stream goes on.
		 */
		log_error("backfill %lld of %s: failed: %s; the request is dropped", bf->reqs[0].id,
			  bf->reqs[0].table, why);
		refuse(bf, bf->reqs[0].id, "failed", why);
		disconnect(bf);
		drop_first(bf);
		return save(bf, err, errlen);
	}
cancelled:
	/* Deleting a request's row cancels it: its watermarks have nowhere to go. */
	log_warning("backfill %lld of %s: its row in the signal table was deleted: cancelled",
		    bf->reqs[0].id, bf->reqs[0].table);
	remember_refused(bf, bf->reqs[0].id);
	disconnect(bf);
	drop_first(bf);
	return save(bf, err, errlen);
lost:
	log_warning("backfill %lld: %s; reading again from the last confirmed chunk",
		    bf->reqs[0].id, why);
	disconnect(bf);
	bf->retry_at_ms = mono_ms() + RETRY_MS;
	return 0;
}

long long bf_request(const struct Config *cfg, const char *table, const char *condition,
		     char *err, size_t errlen)
{
	char sql[1024], why[512];
	if (!cfg->source.signal_table[0]) {
		snprintf(err, errlen, "%s: source.signal_table is not set", cfg->path);
		return -2;
	}
	if (!has_snapshot_event(cfg, table)) {
		snprintf(err, errlen,
			 "%s: no event of table %s is declared on = [\"snapshot\"]: nothing to backfill",
			 cfg->path, table);
		return -2;
	}
	/* The running tablecast checks it again: this is for a clear answer now. */
	Condition *cond = condition ? cond_parse(condition, why, sizeof(why)) : NULL;
	if (condition && !cond) {
		snprintf(err, errlen, "--where: %s", why);
		return -2;
	}
	cond_free(cond);
	PGconn *conn = pgc_connect(cfg->source.conninfo, false, "tablecast backfill", err, errlen);
	if (!conn)
		return -1;
	/* What the running tablecast would refuse (no such table, no key) is refused here. */
	struct ReadTable target;
	if (rd_load(conn, cfg, table, RD_BACKFILL, &target, why, sizeof(why)) < 0) {
		PQfinish(conn);
		snprintf(err, errlen, "%s", why);
		return -2;
	}
	rd_free(&target);
	char *name = signal_sql_name(conn, cfg->source.signal_table);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (kind, target, condition) VALUES ('backfill', $1, $2) RETURNING id",
		 name);
	free(name);
	const char *params[2] = {table, condition};
	PGresult *res = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
	long long id = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		id = atoll(PQgetvalue(res, 0, 0));
	} else {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "signal table %s: %s", cfg->source.signal_table, line);
	}
	PQclear(res);
	PQfinish(conn);
	return id;
}

int bf_status(const struct Config *cfg, long long id, int wait_s, FILE *out, char *err,
	      size_t errlen)
{
	char sql[1024], idtext[24];
	if (!cfg->source.signal_table[0]) {
		snprintf(err, errlen, "%s: source.signal_table is not set", cfg->path);
		return -2;
	}
	PGconn *conn = pgc_connect(cfg->source.conninfo, false, "tablecast backfill", err, errlen);
	if (!conn)
		return -1;
	char *name = signal_sql_name(conn, cfg->source.signal_table);
	snprintf(sql, sizeof(sql),
		 "SELECT id, target, status, coalesce(rows_emitted::text, '-'), "
		 "coalesce(rows_skipped::text, '-'), to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'), "
		 "coalesce(to_char(finished_at, 'YYYY-MM-DD HH24:MI:SS'), '-'), "
		 "coalesce(condition, ''), coalesce(reason, '') "
		 "FROM %s WHERE kind = 'backfill' AND ($1::bigint IS NULL OR id = $1) ORDER BY id",
		 name);
	free(name);
	snprintf(idtext, sizeof(idtext), "%lld", id);
	const char *params[1] = {id > 0 ? idtext : NULL};
	int64_t deadline = mono_ms() + (int64_t)wait_s * 1000;
	int rc = -1;
	for (;;) {
		PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			char line[512];
			pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
			snprintf(err, errlen, "signal table %s: %s", cfg->source.signal_table, line);
			PQclear(res);
			break;
		}
		int n = PQntuples(res);
		if (id > 0 && n == 0) {
			snprintf(err, errlen, "backfill %lld: no such request in %s (cleaned up, or never made)",
				 id, cfg->source.signal_table);
			PQclear(res);
			rc = -2;
			break;
		}
		const char *status = n ? PQgetvalue(res, 0, 2) : "";
		bool over = strcmp(status, "done") == 0 || strcmp(status, "refused") == 0 ||
			    strcmp(status, "failed") == 0;
		if (id > 0 && wait_s > 0 && !over && mono_ms() < deadline) {
			PQclear(res);
			usleep(250 * 1000);
			continue;
		}
		fprintf(out, "%-8s %-28s %-9s %10s %8s  %-19s  %-19s  %s\n", "id", "table", "status",
			"emitted", "skipped", "requested", "finished", "condition / reason");
		for (int i = 0; i < n; i++) {
			/* Whoever may insert a request wrote these: no control character reaches a terminal. */
			char target[512], state[64], cond[800], reason[800];
			snprintf(target, sizeof(target), "%s", PQgetvalue(res, i, 1));
			snprintf(state, sizeof(state), "%s", PQgetvalue(res, i, 2));
			snprintf(cond, sizeof(cond), "%.200s", PQgetvalue(res, i, 7));
			snprintf(reason, sizeof(reason), "%.300s", PQgetvalue(res, i, 8));
			log_escape_controls(target, sizeof(target));
			log_escape_controls(state, sizeof(state));
			log_escape_controls(cond, sizeof(cond));
			log_escape_controls(reason, sizeof(reason));
			fprintf(out, "%-8s %-28.28s %-9s %10s %8s  %-19s  %-19s  %s%s%s\n",
				PQgetvalue(res, i, 0), target, state, PQgetvalue(res, i, 3),
				PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
				cond, cond[0] && reason[0] ? " / " : "", reason);
		}
		/* Waiting for one: 0 when it finished, 1 otherwise. */
		rc = id > 0 && wait_s > 0 ? (strcmp(status, "done") == 0 ? 0 : 1) : 0;
		PQclear(res);
		break;
	}
	PQfinish(conn);
	return rc;
}
