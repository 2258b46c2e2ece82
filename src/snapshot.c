/* Snapshot: every existing row of the snapshot tables as events, before streaming starts. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "copy_text.h"
#include "file.h"
#include "log.h"
#include "mono.h"
#include "pgconn.h"
#include "reader.h"
#include "rowid.h"
#include "snapshot.h"

/* Pages per chunk (8 MiB with 8 kB pages): enough chunks to share, few enough to track. */
#define CHUNK_PAGES 1024
/* Rows one worker translates before the others (and the timers) get a turn. */
#define ROWS_PER_TURN 2048
#define PROGRESS_TTY_MS 250
#define PROGRESS_LOG_MS 10000

enum chunk_state { CHUNK_TODO, CHUNK_READING, CHUNK_READ, CHUNK_DONE };

struct Chunk {
	size_t table;
	const char *from; /* the table, or the leaf partition, these pages are of */
	uint32_t relid, filenode; /* of that relation: the chunk's identity in the marker */
	uint64_t first, end; /* pages [first, end); end 0: to the end of the table */
	enum chunk_state state;
	uint64_t seq; /* ring sequence number while READING or READ */
	uint64_t rows;
};

enum worker_state { WORKER_IDLE, WORKER_STARTING, WORKER_COPYING };

/*
 * What makes the ce_ids and ce_time of an owed snapshot's rows the same in
 * every run that reads them, so that a chunk read again after a crash
 * repeats the ids a consumer already has: drawn when the snapshot is
 * first owed and kept in the marker until it is done.
 */
struct MarkerIds {
	char id[17]; /* 64 random bits in hex: which snapshot */
	uint8_t secret[ROWID_SECRET_BYTES]; /* keys the row digests; never published */
	int64_t time_us; /* when it was first owed: ce_time of its events */
};

struct Worker {
	PGconn *conn;
	enum worker_state state;
	struct Chunk *chunk;
};

struct Snapshot {
	struct SnapshotOptions opts;
	Translator *xl;
	struct ReadTable *tables;
	size_t ntables;
	struct Chunk *chunks;
	size_t next; /* the first chunk that may still be TODO */
	struct Worker *workers;
	int nworkers;
	struct PgoValue *cols; /* for the widest table */
	char name[128]; /* the PostgreSQL snapshot read under (a resume takes a new one) */
	struct MarkerIds ids; /* from the marker: the same for every run of this snapshot */
	int progress_fd; /* the marker file, appended to */
	struct SnapshotStats stats;
	uint64_t rows_before; /* in chunks finished by earlier runs: unknown, so 0 */
	int64_t started_ms, shown_ms;
	bool tty;
	char idbuf[160];
	struct RowId rowid; /* keyed with ids.secret */
	uint64_t current_seq; /* the chunk whose row is being translated */
};

static void marker_path(const struct Config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.snapshot", cfg->state_dir, cfg->source.slot);
}

bool snap_pending(const struct Config *cfg)
{
	char path[4096];
	marker_path(cfg, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* New random ids, the time now. Returns 0, or -1 with err. */
static int draw_ids(struct MarkerIds *ids, char *err, size_t errlen)
{
	uint8_t raw[8 + sizeof(ids->secret)];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		snprintf(err, errlen, "snapshot: no random numbers: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 8; i++)
		snprintf(ids->id + 2 * i, 3, "%02x", raw[i]);
	memcpy(ids->secret, raw + 8, sizeof(ids->secret));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ids->time_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	return 0;
}

/* The marker lines that record ids. */
static int format_ids(const struct MarkerIds *ids, char *out, size_t outlen)
{
	char secret[2 * sizeof(ids->secret) + 1];
	for (size_t i = 0; i < sizeof(ids->secret); i++)
		snprintf(secret + 2 * i, 3, "%02x", ids->secret[i]);
	return snprintf(out, outlen, "id %s\nsecret %s\ntime %" PRId64 "\n", ids->id, secret,
			ids->time_us);
}

int snap_mark_pending(const struct Config *cfg, char *err, size_t errlen)
{
	char path[4096], text[512];
	struct MarkerIds ids;

	if (snap_pending(cfg))
		return 0;
	if (file_state_dir(cfg->state_dir, err, errlen) < 0)
		return -1;
	if (draw_ids(&ids, err, errlen) < 0)
		return -1;
	marker_path(cfg, path, sizeof(path));
	int n = snprintf(text, sizeof(text),
			 "# a snapshot of slot \"%s\" is owed; its ids, then one line per acknowledged chunk:\n"
			 "# done <relid> <filenode> <first page> <end page, 0 = to the end>\n",
			 cfg->source.slot);
	n += format_ids(&ids, text + n, sizeof(text) - (size_t)n);
	return file_replace(path, text, (size_t)n, "snapshot marker", err, errlen);
}

/* The translator's emit callback: to the sink, as part of the current chunk. */
static int emit(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	Snapshot *snap = ctx;
	return snap->opts.io.produce(snap->opts.io.ctx, ev, snap->current_seq, err, errlen);
}

/* A worker connection inside a transaction that sees snapshot name (or exports its own). */
static PGconn *open_worker(Snapshot *snap, const char *name, char *err, size_t errlen)
{
	char sql[256];
	PGconn *conn = pgc_connect(snap->opts.cfg->source.conninfo, false, "tablecast snapshot", err,
				   errlen);
	if (!conn)
		return NULL;
	if (pgc_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "snapshot: BEGIN", err, errlen) < 0)
		goto fail;
	if (name) {
		/* Snapshot names are hex digits and dashes, from the server. */
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", name);
		if (pgc_exec(conn, sql, "snapshot: SET TRANSACTION SNAPSHOT", err, errlen) < 0)
			goto fail;
		return conn;
	}
	PGresult *res = PQexec(conn, "SELECT pg_catalog.pg_export_snapshot()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "snapshot: pg_export_snapshot: %s", line);
		PQclear(res);
		goto fail;
	}
	snprintf(snap->name, sizeof(snap->name), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return conn;
fail:
	PQfinish(conn);
	return NULL;
}

/* Chunks earlier runs finished, from the marker file. */
struct DoneChunk {
	uint32_t relid, filenode;
	uint64_t first, end;
};

/* One "secret <hex digits>" line into ids; false when it is not one. */
static bool parse_secret(const char *line, struct MarkerIds *ids)
{
	if (strncmp(line, "secret ", 7) != 0 ||
	    strspn(line + 7, "0123456789abcdef") != 2 * sizeof(ids->secret))
		return false;
	for (size_t i = 0; i < sizeof(ids->secret); i++) {
		unsigned v;
		if (sscanf(line + 7 + 2 * i, "%2x", &v) != 1)
			return false;
		ids->secret[i] = (uint8_t)v;
	}
	return true;
}

/*
 * The marker: the chunks earlier runs finished, and the snapshot's ids
 * (*have_ids false when a marker written before ids existed has none).
 */
static size_t read_marker(const struct Config *cfg, struct DoneChunk **out, struct MarkerIds *ids,
			  bool *have_ids)
{
	char path[4096], line[256];
	size_t n = 0, cap = 0;
	struct DoneChunk *done = NULL, d;
	bool have_id = false, have_secret = false, have_time = false;

	marker_path(cfg, path, sizeof(path));
	FILE *f = fopen(path, "r");
	*out = NULL;
	*have_ids = false;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "id ", 3) == 0 && strspn(line + 3, "0123456789abcdef") == 16) {
			memcpy(ids->id, line + 3, 16);
			ids->id[16] = '\0';
			have_id = true;
			continue;
		}
		if (parse_secret(line, ids)) {
			have_secret = true;
			continue;
		}
		if (sscanf(line, "time %" SCNd64, &ids->time_us) == 1) {
			have_time = true;
			continue;
		}
		if (sscanf(line, "done %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNu64, &d.relid,
			   &d.filenode, &d.first, &d.end) != 4)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct DoneChunk *grown = realloc(done, cap * sizeof(*done));
			if (!grown)
				abort();
			done = grown;
		}
		done[n++] = d;
	}
	fclose(f);
	*out = done;
	*have_ids = have_id && have_secret && have_time;
	return n;
}

static void add_chunk(Snapshot *snap, size_t *cap, const struct Chunk *chunk,
		      const struct DoneChunk *done, size_t ndone)
{
	if (snap->stats.chunks == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		struct Chunk *grown = realloc(snap->chunks, *cap * sizeof(struct Chunk));
		if (!grown)
			abort();
		snap->chunks = grown;
	}
	struct Chunk *c = &snap->chunks[snap->stats.chunks++];
	*c = *chunk;
	for (size_t i = 0; i < ndone; i++) {
		if (done[i].relid == c->relid && done[i].filenode == c->filenode &&
		    done[i].first == c->first && done[i].end == c->end) {
			c->state = CHUNK_DONE;
			snap->stats.chunks_done++;
			break;
		}
	}
}

/* Split one plain table (or leaf partition) of table i into page ranges. */
static void plan_relation(Snapshot *snap, size_t *cap, size_t i, const char *from, uint32_t relid,
			  uint32_t filenode, uint64_t blocks, const struct DoneChunk *done,
			  size_t ndone)
{
	struct Chunk c = {.table = i, .from = from, .relid = relid, .filenode = filenode};
	if (blocks <= CHUNK_PAGES) {
		add_chunk(snap, cap, &c, done, ndone);
		return;
	}
	/* The last chunk is open-ended: the table may have grown since its size was read. */
	for (uint64_t p = 0; p < blocks; p += CHUNK_PAGES) {
		c.first = p;
		c.end = p + CHUNK_PAGES < blocks ? p + CHUNK_PAGES : 0;
		add_chunk(snap, cap, &c, done, ndone);
	}
}

/* Split every table into page ranges; a partitioned table, each of its partitions. */
static void plan(Snapshot *snap, const struct DoneChunk *done, size_t ndone)
{
	size_t cap = 0;

	for (size_t i = 0; i < snap->ntables; i++) {
		const struct ReadTable *t = &snap->tables[i];
		if (!t->partitioned) {
			if (t->reltuples > 0)
				snap->stats.rows_estimate += t->reltuples;
			plan_relation(snap, &cap, i, t->from, t->rel.relid, t->filenode, t->blocks,
				      done, ndone);
			continue;
		}
		for (size_t j = 0; j < t->nparts; j++) {
			const struct ReadPart *part = &t->parts[j];
			if (part->reltuples > 0)
				snap->stats.rows_estimate += part->reltuples;
			plan_relation(snap, &cap, i, part->from, part->relid, part->filenode,
				      part->blocks, done, ndone);
		}
	}
}

int snap_check(const struct Config *cfg, char *err, size_t errlen)
{
	const char **names;
	size_t n = rd_snapshot_tables(cfg, &names);
	int rc = 0;

	PGconn *conn = pgc_connect(cfg->source.conninfo, false, "tablecast snapshot", err, errlen);
	if (!conn) {
		free(names);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct TablePrivileges priv;
		if ((rc = rd_privileges(conn, names[i], &priv, err, errlen)) < 0)
			break;
		if (!priv.exists) {
			snprintf(err, errlen, "snapshot: table %s does not exist", names[i]);
			rc = -1;
		} else if (!priv.select) {
			snprintf(err, errlen,
				 "snapshot: this role may not read table %s: GRANT SELECT ON %s TO %s",
				 names[i], names[i], PQuser(conn));
			rc = -1;
		}
	}
	free(names);
	PQfinish(conn);
	return rc;
}

Snapshot *snap_open(const struct SnapshotOptions *opts, char *err, size_t errlen)
{
	const struct Config *cfg = opts->cfg;
	char path[4096];
	Snapshot *snap = calloc(1, sizeof(*snap));
	if (!snap) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snap->opts = *opts;
	snap->progress_fd = -1;
	snap->tty = isatty(STDERR_FILENO);
	snap->started_ms = snap->shown_ms = mono_ms();
	if (opts->exported)
		snprintf(snap->name, sizeof(snap->name), "%s", opts->exported);
	snap->xl = xl_new(cfg, emit, snap);
	snap->workers = calloc((size_t)cfg->source.snapshot_workers, sizeof(struct Worker));
	if (!snap->xl || !snap->workers) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	/* The first worker reads the catalog and holds the tables against rewrites. */
	snap->workers[0].conn = open_worker(snap, opts->exported, err, errlen);
	if (!snap->workers[0].conn)
		goto fail;
	snap->nworkers = 1;
	const char **names;
	size_t nnames = rd_snapshot_tables(cfg, &names);
	snap->tables = calloc(nnames ? nnames : 1, sizeof(struct ReadTable));
	if (!snap->tables || !names) {
		free(names);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	uint16_t widest = 1;
	for (size_t i = 0; i < nnames; i++) {
		struct ReadTable *t = &snap->tables[snap->ntables];
		if (rd_load(snap->workers[0].conn, cfg, names[i], RD_SNAPSHOT, t, err, errlen) < 0) {
			free(names);
			goto fail;
		}
		if (!t->published) {
			log_warning("snapshot: table %s is not in publication \"%s\": its changes would not follow, so it is not read",
				    names[i], cfg->source.publication);
			rd_free(t);
			continue;
		}
		/* What pg_dump does: no ALTER or VACUUM FULL can rewrite the table under us. */
		char sql[1024];
		snprintf(sql, sizeof(sql), "LOCK TABLE %s IN ACCESS SHARE MODE", t->from);
		if (pgc_exec(snap->workers[0].conn, sql, "snapshot: LOCK TABLE", err, errlen) < 0) {
			rd_free(t);
			free(names);
			goto fail;
		}
		if (t->rel.natts > widest)
			widest = t->rel.natts;
		snap->ntables++;
	}
	free(names);
	snap->stats.tables = snap->ntables;
	snap->cols = calloc(widest, sizeof(struct PgoValue));
	if (!snap->cols) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct DoneChunk *done;
	bool have_ids;
	size_t ndone = read_marker(cfg, &done, &snap->ids, &have_ids);
	memcpy(snap->rowid.secret, snap->ids.secret, sizeof(snap->rowid.secret));
	plan(snap, done, ndone);
	free(done);

	size_t todo = snap->stats.chunks - snap->stats.chunks_done;
	int want = cfg->source.snapshot_workers;
	if ((size_t)want > todo)
		want = todo ? (int)todo : 1;
	for (int i = 1; i < want; i++) {
		snap->workers[i].conn = open_worker(snap, snap->name, err, errlen);
		if (!snap->workers[i].conn)
			goto fail;
		snap->nworkers++;
	}
	for (int i = 0; i < snap->nworkers; i++)
		if (PQsetnonblocking(snap->workers[i].conn, 1) != 0) {
			snprintf(err, errlen, "snapshot: cannot make a connection non-blocking");
			goto fail;
		}

	marker_path(cfg, path, sizeof(path));
	snap->progress_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (snap->progress_fd < 0) {
		snprintf(err, errlen, "snapshot marker %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!have_ids) {
		/* A marker from before ids were kept: from now on they are. */
		char text[256];
		if (draw_ids(&snap->ids, err, errlen) < 0)
			goto fail;
		memcpy(snap->rowid.secret, snap->ids.secret, sizeof(snap->rowid.secret));
		int n = format_ids(&snap->ids, text, sizeof(text));
		if (write(snap->progress_fd, text, (size_t)n) != n || fdatasync(snap->progress_fd) != 0) {
			snprintf(err, errlen, "snapshot marker %s: %s", path, strerror(errno));
			goto fail;
		}
	}

	log_info("snapshot %s: %zu tables, %zu chunks%s, %d connections", snap->name,
		 snap->ntables, snap->stats.chunks,
		 snap->stats.chunks_done ? " (resuming: some were done)" : "", snap->nworkers);
	if (snap->stats.chunks_done)
		log_info("snapshot: %zu of %zu chunks were acknowledged by an earlier run",
			 snap->stats.chunks_done, snap->stats.chunks);
	return snap;
fail:
	snap_close(snap);
	return NULL;
}

void snap_close(Snapshot *snap)
{
	if (!snap)
		return;
	for (int i = 0; i < snap->nworkers; i++)
		PQfinish(snap->workers[i].conn);
	for (size_t i = 0; i < snap->ntables; i++)
		rd_free(&snap->tables[i]);
	if (snap->progress_fd >= 0)
		close(snap->progress_fd);
	free(snap->tables);
	free(snap->chunks);
	free(snap->workers);
	free(snap->cols);
	rowid_free(&snap->rowid);
	xl_free(snap->xl);
	free(snap);
}

int snap_pollfds(const Snapshot *snap, struct pollfd *pfd, int max)
{
	int n = 0;
	for (int i = 0; i < snap->nworkers && n < max; i++)
		if (snap->workers[i].state != WORKER_IDLE)
			pfd[n++] = (struct pollfd){.fd = PQsocket(snap->workers[i].conn), .events = POLLIN};
	return n;
}

const struct SnapshotStats *snap_stats(const Snapshot *snap)
{
	return &snap->stats;
}

static int start_chunk(Snapshot *snap, struct Worker *w, struct Chunk *c, char *err, size_t errlen)
{
	const struct ReadTable *t = &snap->tables[c->table];
	char range[128] = "";
	size_t len = strlen(t->select_list) + strlen(c->from) + 256;
	char *sql = malloc(len);
	if (!sql) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A TID range scan (PostgreSQL 14+) reads just these pages. */
	if (c->end)
		snprintf(range, sizeof(range),
			 " WHERE ctid >= '(%" PRIu64 ",0)'::tid AND ctid < '(%" PRIu64 ",0)'::tid",
			 c->first, c->end);
	else if (c->first)
		snprintf(range, sizeof(range), " WHERE ctid >= '(%" PRIu64 ",0)'::tid", c->first);
	/* A sharded table's rows of the other shards are its sibling instances' to read. */
	char filter[160] = "";
	const struct ShardDef *sh = cfg_shard(snap->opts.cfg, t->rel.qualname);
	if (sh) {
		snprintf(filter, sizeof(filter), "%s", range[0] ? " AND " : " WHERE ");
		shard_filter_sql(sh, filter + strlen(filter), sizeof(filter) - strlen(filter));
	}
	snprintf(sql, len, "COPY (SELECT %s FROM %s%s%s) TO STDOUT", t->select_list, c->from, range,
		 filter);
	int ok = PQsendQuery(w->conn, sql);
	free(sql);
	if (!ok) {
		char line[512];
		pgc_first_line(PQerrorMessage(w->conn), line, sizeof(line));
		snprintf(err, errlen, "snapshot of %s: %s", t->rel.qualname, line);
		return -1;
	}
	c->state = CHUNK_READING;
	c->seq = snap->opts.io.begin(snap->opts.io.ctx);
	c->rows = 0;
	w->chunk = c;
	w->state = WORKER_STARTING;
	return 0;
}

static int worker_failed(Snapshot *snap, struct Worker *w, PGresult *res, char *err,
			 size_t errlen)
{
	char line[512];
	pgc_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(w->conn), line,
		       sizeof(line));
	snprintf(err, errlen, "snapshot of %s: %s", snap->tables[w->chunk->table].rel.qualname,
		 line);
	PQclear(res);
	return -1;
}

/*
 * The ce_id base of a row: "snapshot:<snapshot id>:<digest>" (rowid.h), so
 * a chunk read again after a crash gives each row the id it had, even when
 * rows changed in between. A table without a key has no such identity: its
 * rows are numbered within their chunk, which repeats only when the chunk
 * is unchanged.
 */
static void row_id(Snapshot *snap, const struct ReadTable *t, const struct Chunk *c,
		   const struct PgoTuple *tuple)
{
	if (t->nkeys == 0) {
		snprintf(snap->idbuf, sizeof(snap->idbuf), "snapshot:%s:%u:%" PRIu64 ":%" PRIu64,
			 snap->ids.id, c->relid, c->first, c->rows);
		return;
	}
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "snapshot:%s:", snap->ids.id);
	rowid_format(&snap->rowid, snap->idbuf, sizeof(snap->idbuf), prefix, t->rel.relid,
		     tuple->cols, t->keys, t->nkeys);
}

/* Read and translate what one worker has buffered. */
static int serve_worker(Snapshot *snap, struct Worker *w, char *err, size_t errlen)
{
	PGresult *res;

	if (w->state == WORKER_STARTING) {
		if (!PQconsumeInput(w->conn))
			return worker_failed(snap, w, NULL, err, errlen);
		if (PQisBusy(w->conn))
			return 0;
		res = PQgetResult(w->conn);
		if (PQresultStatus(res) != PGRES_COPY_OUT)
			return worker_failed(snap, w, res, err, errlen);
		PQclear(res);
		w->state = WORKER_COPYING;
	}
	struct Chunk *c = w->chunk;
	const struct ReadTable *t = &snap->tables[c->table];
	for (int i = 0; i < ROWS_PER_TURN; i++) {
		char *row;
		int n = PQgetCopyData(w->conn, &row, 1);
		if (n == 0) {
			/*
			 * Read from the socket only once the buffer is used up: the
			 * server sends faster than rows are translated, and libpq
			 * would otherwise grow its buffer to hold the difference.
			 */
			if (!PQconsumeInput(w->conn))
				return worker_failed(snap, w, NULL, err, errlen);
			n = PQgetCopyData(w->conn, &row, 1);
			if (n == 0)
				return 0;
		}
		if (n == -2)
			return worker_failed(snap, w, NULL, err, errlen);
		if (n == -1)
			break;
		struct PgoTuple tuple = {.ncols = t->rel.natts, .cols = snap->cols};
		int rc = copy_parse_row((uint8_t *)row, (size_t)n, snap->cols, t->rel.natts, err, errlen);
		if (rc == 0) {
			row_id(snap, t, c, &tuple);
			xl_begin_read(snap->xl, snap->idbuf, snap->ids.time_us, "initial");
			snap->current_seq = c->seq;
			rc = xl_snapshot_row(snap->xl, &t->rel, &tuple, err, errlen);
		}
		PQfreemem(row);
		if (rc < 0)
			return -1;
		c->rows++;
		snap->stats.rows++;
		if (i == ROWS_PER_TURN - 1)
			return 0;
	}
	/* The COPY ended: its command result, then no more. */
	res = PQgetResult(w->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return worker_failed(snap, w, res, err, errlen);
	PQclear(res);
	while ((res = PQgetResult(w->conn)) != NULL)
		PQclear(res);
	if (snap->opts.io.end(snap->opts.io.ctx, c->seq, err, errlen) < 0)
		return -1;
	c->state = CHUNK_READ;
	w->chunk = NULL;
	w->state = WORKER_IDLE;
	return 0;
}

/* Chunks whose every event the sink acknowledged: one line each in the marker. */
static int record_acknowledged(Snapshot *snap, char *err, size_t errlen)
{
	uint64_t oldest = snap->opts.io.oldest(snap->opts.io.ctx);
	bool wrote = false;

	for (size_t i = 0; i < snap->stats.chunks; i++) {
		struct Chunk *c = &snap->chunks[i];
		if (c->state != CHUNK_READ || c->seq >= oldest)
			continue;
		char line[128];
		int n = snprintf(line, sizeof(line), "done %u %u %" PRIu64 " %" PRIu64 "\n",
				 c->relid, c->filenode, c->first, c->end);
		if (write(snap->progress_fd, line, (size_t)n) != n) {
			snprintf(err, errlen, "snapshot marker: %s", strerror(errno));
			return -1;
		}
		c->state = CHUNK_DONE;
		snap->stats.chunks_done++;
		wrote = true;
	}
	if (wrote && fdatasync(snap->progress_fd) != 0) {
		snprintf(err, errlen, "snapshot marker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void show_progress(Snapshot *snap, bool final)
{
	int64_t now = mono_ms();
	if (!final && now - snap->shown_ms < (snap->tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS))
		return;
	snap->shown_ms = now;
	double secs = (double)(now - snap->started_ms) / 1000.0;
	double rate = secs > 0 ? (double)snap->stats.rows / secs : 0;
	const struct SnapshotStats *st = &snap->stats;
	double done = st->chunks ? (double)st->chunks_done / (double)st->chunks : 1;
	if (st->rows_estimate > 0 && (double)st->rows / st->rows_estimate > done)
		done = (double)st->rows / st->rows_estimate;
	if (done > 1)
		done = 1;
	char eta[32] = "";
	if (rate > 0 && done > 0 && done < 1) {
		long left = (long)(secs / done * (1 - done));
		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", left / 60, left % 60);
	}
	if (final) {
		if (snap->tty)
			fputc('\n', stderr);
		log_info("snapshot %s: %" PRIu64 " rows from %zu tables in %.1f s (%.0f rows/s)",
			 snap->name, st->rows, st->tables, secs, rate);
	} else if (snap->tty) {
		int bar = (int)(done * 30);
		fprintf(stderr, "\rsnapshot [%.*s%*s] %3.0f%% %" PRIu64 " rows, %.0f rows/s%s   ", bar,
			"==============================", 30 - bar, "", done * 100, st->rows, rate,
			eta);
		fflush(stderr);
	} else {
		log_info("snapshot: %.0f%%, %" PRIu64 " rows, %zu of %zu chunks acknowledged, %.0f rows/s%s",
			 done * 100, st->rows, st->chunks_done, st->chunks, rate, eta);
	}
}

int snap_work(Snapshot *snap, char *err, size_t errlen)
{
	for (int i = 0; i < snap->nworkers; i++) {
		struct Worker *w = &snap->workers[i];
		if (w->state != WORKER_IDLE && serve_worker(snap, w, err, errlen) < 0)
			return -1;
		while (w->state == WORKER_IDLE && snap->next < snap->stats.chunks &&
		       !snap->opts.io.full(snap->opts.io.ctx)) {
			struct Chunk *c = &snap->chunks[snap->next++];
			if (c->state != CHUNK_TODO)
				continue;
			if (start_chunk(snap, w, c, err, errlen) < 0)
				return -1;
		}
	}
	if (record_acknowledged(snap, err, errlen) < 0)
		return -1;
	if (snap->stats.chunks_done < snap->stats.chunks) {
		show_progress(snap, false);
		return 0;
	}
	show_progress(snap, true);
	char path[4096];
	marker_path(snap->opts.cfg, path, sizeof(path));
	if (unlink(path) != 0) {
		snprintf(err, errlen, "snapshot marker %s: %s", path, strerror(errno));
		return -1;
	}
	return 1;
}
