/* Snapshot: every existing row of the snapshot tables as events, before streaming starts. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
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
#include "strbuf.h"

/* Pages per chunk (8 MiB with 8 kB pages): enough chunks to share, few enough to track. */
#define CHUNK_PAGES 1024
/* A worker hands its events over in batches of at most this many, or bytes ... */
#define BATCH_EVENTS 512
#define BATCH_BYTES (256 * 1024)
/* ... and stops when this many wait (bounded memory: at most 1.25 MiB a worker). */
#define BATCHES_WAITING 4
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

/* No string: a NULL pointer of struct Event. */
#define NO_STRING SIZE_MAX

/*
 * An event a worker translated, for the main thread to produce: its
 * strings and bytes are copied into the batch's bytes, at these offsets.
 */
struct Pending {
	size_t topic, key, payload, id, source, type, subject, dataschema, datacontenttype,
		snapshot, content_type;
	size_t key_len, payload_len;
	int64_t time_us;
	bool all_partitions;
};

struct Batch {
	struct Pending *ev;
	size_t n, cap;
	struct StrBuf bytes;
	uint64_t rows; /* rows read into it, for stats.rows */
	struct Batch *next;
};

/*
 * One snapshot connection and the thread that reads it: COPY, parse,
 * translate and encode run there, in parallel with the other workers.
 * With a sink that needs no more of an event than the Kafka record
 * (opts.io.batch), the thread copies its events into batches that the
 * main thread produces; otherwise it produces each event itself, under the
 * snapshot's lock. The main thread gives a worker a chunk (chunk set, done
 * false); the thread reads all of it, hands over its last batch, and sets
 * done (rc < 0 and err when it failed).
 */
struct Worker {
	Snapshot *snap;
	PGconn *conn;
	/*
	 * The connection's socket, duplicated: snap_close shuts it down to end
	 * a COPY the thread is blocked in, and this descriptor cannot be closed
	 * and reused meanwhile, as libpq's own may be when the connection fails.
	 */
	int sock;
	pthread_t thread;
	bool running; /* the thread exists */
	/* Under qlock: */
	pthread_cond_t wake; /* a chunk was given, a batch was taken, or the snapshot quits */
	struct Chunk *chunk; /* given to this worker; NULL when idle */
	bool done; /* the thread finished chunk; its batches are all in ready */
	int rc;
	char err[1024];
	struct Batch *ready, *ready_tail; /* handed over, oldest first */
	int nready;
	struct Batch *spare; /* produced, for reuse */
	uint64_t unreported; /* rows read that no batch counts yet (stats.rows) */
	/* The thread's own while it reads; no one else touches them. */
	struct Batch *filling;
	Translator *xl;
	struct PgoValue *cols; /* for the widest table */
	struct RowId rowid; /* keyed with ids.secret */
	char prefix[32]; /* "snapshot:<id>:" */
	char idbuf[160];
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
	/*
	 * lock: held by the main thread from snap_open to snap_close except
	 * between snap_release and snap_acquire; a worker holds it only to
	 * produce an event itself (without opts.io.batch). It guards the
	 * chunks' states, stats, and everything opts.io reaches (the sink and
	 * the checkpoint ring). qlock guards what the workers and the main
	 * thread pass each other (struct Worker says what) and quit; it is
	 * taken alone or inside lock, never the other way round.
	 */
	pthread_mutex_t lock, qlock;
	bool quit; /* the workers stop: nothing more goes to the sink */
	bool failed; /* the run failed or stops: nothing more is produced, no chunk starts */
	int notify[2]; /* a worker writes a byte to [1] when it is done with a chunk */
	uint16_t widest;
	char name[128]; /* the PostgreSQL snapshot read under (a resume takes a new one) */
	struct MarkerIds ids; /* from the marker: the same for every run of this snapshot */
	int progress_fd; /* the marker file, appended to */
	struct SnapshotStats stats;
	uint64_t rows_before; /* in chunks finished by earlier runs: unknown, so 0 */
	int64_t started_ms, shown_ms;
	bool tty;
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

/* Copy len bytes at p into b; their offset, or NO_STRING for NULL. */
static size_t put_bytes(struct Batch *b, const void *p, size_t len)
{
	if (!p)
		return NO_STRING;
	size_t off = b->bytes.len;
	sb_append(&b->bytes, p, len);
	return off;
}

static size_t put_string(struct Batch *b, const char *s)
{
	return s ? put_bytes(b, s, strlen(s) + 1) : NO_STRING;
}

static const char *string_at(const struct Batch *b, size_t off)
{
	return off == NO_STRING ? NULL : b->bytes.data + off;
}

/* Wake the main thread's poll; a full pipe has a wake-up waiting already. */
static void wake_main(Snapshot *snap)
{
	if (write(snap->notify[1], "", 1) < 0) {
		/* EAGAIN: nothing to do */
	}
}

/*
 * Hand w's filling batch (and the rows read into it) to the main thread,
 * waiting while BATCHES_WAITING batches wait, and start a new one.
 * Returns 0, or -1 with err when the snapshot quits or memory runs out.
 */
static int hand_over(Snapshot *snap, struct Worker *w, char *err, size_t errlen)
{
	struct Batch *b = w->filling;
	b->rows = w->unreported;
	w->unreported = 0;
	b->next = NULL;
	pthread_mutex_lock(&snap->qlock);
	while (!snap->quit && w->nready >= BATCHES_WAITING)
		pthread_cond_wait(&w->wake, &snap->qlock);
	if (snap->quit) {
		pthread_mutex_unlock(&snap->qlock);
		snprintf(err, errlen, "snapshot: stopping");
		return -1;
	}
	if (w->ready_tail)
		w->ready_tail->next = b;
	else
		w->ready = b;
	w->ready_tail = b;
	w->nready++;
	w->filling = w->spare;
	if (w->spare) {
		w->spare = w->spare->next;
		w->filling->next = NULL;
	}
	pthread_mutex_unlock(&snap->qlock);
	wake_main(snap);
	if (!w->filling && !(w->filling = calloc(1, sizeof(struct Batch)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->filling->n = 0;
	sb_reset(&w->filling->bytes);
	return 0;
}

/* Copy ev into w's filling batch; hand the batch over when it is full. */
static int defer(Snapshot *snap, struct Worker *w, const struct Event *ev, char *err,
		 size_t errlen)
{
	struct Batch *b = w->filling;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct Pending *grown = realloc(b->ev, cap * sizeof(*grown));
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		b->ev = grown;
		b->cap = cap;
	}
	/* Snapshot rows never carry an outbox record's own headers (ev->headers). */
	struct Pending *pe = &b->ev[b->n];
	pe->topic = put_string(b, ev->topic);
	pe->key = put_bytes(b, ev->key, ev->key_len);
	pe->key_len = ev->key_len;
	pe->payload = put_bytes(b, ev->payload, ev->payload_len);
	pe->payload_len = ev->payload_len;
	pe->id = put_string(b, ev->ce.id);
	pe->source = put_string(b, ev->ce.source);
	pe->type = put_string(b, ev->ce.type);
	pe->subject = put_string(b, ev->ce.subject);
	pe->dataschema = put_string(b, ev->ce.dataschema);
	pe->datacontenttype = put_string(b, ev->ce.datacontenttype);
	pe->snapshot = put_string(b, ev->ce.snapshot);
	pe->content_type = put_string(b, ev->content_type);
	pe->time_us = ev->ce.time_us;
	pe->all_partitions = ev->all_partitions;
	if (!sb_ok(&b->bytes)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	b->n++;
	if (b->n >= BATCH_EVENTS || b->bytes.len >= BATCH_BYTES)
		return hand_over(snap, w, err, errlen);
	return 0;
}

/* Produce every event of batch b, of w's chunk (main thread, under the lock). */
static int produce_batch(Snapshot *snap, const struct Worker *w, const struct Batch *b, char *err,
			 size_t errlen)
{
	snap->stats.rows += b->rows;
	for (size_t i = 0; i < b->n; i++) {
		const struct Pending *pe = &b->ev[i];
		struct Event ev = {
			.topic = string_at(b, pe->topic),
			.key = string_at(b, pe->key),
			.key_len = pe->key_len,
			.payload = (const uint8_t *)string_at(b, pe->payload),
			.payload_len = pe->payload_len,
			.ce = {.id = string_at(b, pe->id),
			       .source = string_at(b, pe->source),
			       .type = string_at(b, pe->type),
			       .subject = string_at(b, pe->subject),
			       .dataschema = string_at(b, pe->dataschema),
			       .datacontenttype = string_at(b, pe->datacontenttype),
			       .time_us = pe->time_us,
			       .snapshot = string_at(b, pe->snapshot)},
			.content_type = string_at(b, pe->content_type),
			.all_partitions = pe->all_partitions,
		};
		if (snap->opts.io.produce(snap->opts.io.ctx, &ev, w->chunk->seq, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * A worker's translator's emit callback: into a batch (opts.io.batch), or
 * to the sink under the lock, as part of the worker's chunk. Once the
 * snapshot quits nothing more is produced: what the ring forgot must not
 * reach the sink.
 */
static int emit(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	struct Worker *w = ctx;
	Snapshot *snap = w->snap;
	int rc;

	if (snap->opts.io.batch)
		return defer(snap, w, ev, err, errlen);
	pthread_mutex_lock(&snap->lock);
	if (snap->quit || snap->failed) {
		snprintf(err, errlen, "snapshot: stopping");
		rc = -1;
	} else {
		rc = snap->opts.io.produce(snap->opts.io.ctx, ev, w->chunk->seq, err, errlen);
	}
	snap->stats.rows += w->unreported;
	w->unreported = 0;
	pthread_mutex_unlock(&snap->lock);
	return rc;
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

static int start_worker(Snapshot *snap, struct Worker *w, char *err, size_t errlen);

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
	snap->notify[0] = snap->notify[1] = -1;
	if (pthread_mutex_init(&snap->lock, NULL) != 0) {
		snprintf(err, errlen, "snapshot: cannot create a lock");
		free(snap);
		return NULL;
	}
	if (pthread_mutex_init(&snap->qlock, NULL) != 0) {
		pthread_mutex_destroy(&snap->lock);
		snprintf(err, errlen, "snapshot: cannot create a lock");
		free(snap);
		return NULL;
	}
	/* The caller's: released only around its wait (snap_release). */
	pthread_mutex_lock(&snap->lock);
	snap->tty = isatty(STDERR_FILENO);
	snap->started_ms = snap->shown_ms = mono_ms();
	if (opts->exported)
		snprintf(snap->name, sizeof(snap->name), "%s", opts->exported);
	snap->workers = calloc((size_t)cfg->source.snapshot_workers, sizeof(struct Worker));
	if (!snap->workers) {
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
	snap->widest = widest;
	struct DoneChunk *done;
	bool have_ids;
	size_t ndone = read_marker(cfg, &done, &snap->ids, &have_ids);
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
		int n = format_ids(&snap->ids, text, sizeof(text));
		if (write(snap->progress_fd, text, (size_t)n) != n || fdatasync(snap->progress_fd) != 0) {
			snprintf(err, errlen, "snapshot marker %s: %s", path, strerror(errno));
			goto fail;
		}
	}

	/* The ids are final now: the workers may start. */
	if (pipe2(snap->notify, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < snap->nworkers; i++)
		if (start_worker(snap, &snap->workers[i], err, errlen) < 0)
			goto fail;

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

static void free_batches(struct Batch *b)
{
	while (b) {
		struct Batch *next = b->next;
		free(b->ev);
		sb_free(&b->bytes);
		free(b);
		b = next;
	}
}

void snap_close(Snapshot *snap)
{
	if (!snap)
		return;
	/*
	 * Stop the threads: one waiting for the lock finds quit and produces
	 * nothing more; one blocked reading a COPY sees its connection end.
	 */
	pthread_mutex_lock(&snap->qlock);
	snap->quit = true;
	for (int i = 0; i < snap->nworkers; i++) {
		struct Worker *w = &snap->workers[i];
		if (!w->running)
			continue;
		pthread_cond_signal(&w->wake);
		if (w->chunk && !w->done)
			shutdown(w->sock, SHUT_RDWR);
	}
	pthread_mutex_unlock(&snap->qlock);
	pthread_mutex_unlock(&snap->lock);
	for (int i = 0; i < snap->nworkers; i++) {
		struct Worker *w = &snap->workers[i];
		if (w->running) {
			pthread_join(w->thread, NULL);
			pthread_cond_destroy(&w->wake);
			close(w->sock);
		}
		PQfinish(w->conn);
		xl_free(w->xl);
		free(w->cols);
		rowid_free(&w->rowid);
		free_batches(w->filling);
		free_batches(w->ready);
		free_batches(w->spare);
	}
	pthread_mutex_destroy(&snap->lock);
	pthread_mutex_destroy(&snap->qlock);
	for (int i = 0; i < 2; i++)
		if (snap->notify[i] >= 0)
			close(snap->notify[i]);
	for (size_t i = 0; i < snap->ntables; i++)
		rd_free(&snap->tables[i]);
	if (snap->progress_fd >= 0)
		close(snap->progress_fd);
	free(snap->tables);
	free(snap->chunks);
	free(snap->workers);
	free(snap);
}

int snap_pollfds(const Snapshot *snap, struct pollfd *pfd, int max)
{
	if (max < 1)
		return 0;
	pfd[0] = (struct pollfd){.fd = snap->notify[0], .events = POLLIN};
	return 1;
}

void snap_release(Snapshot *snap)
{
	pthread_mutex_unlock(&snap->lock);
}

void snap_acquire(Snapshot *snap)
{
	pthread_mutex_lock(&snap->lock);
}

const struct SnapshotStats *snap_stats(const Snapshot *snap)
{
	return &snap->stats;
}

/* Give chunk c to idle worker w (main thread, under the lock). */
static void start_chunk(Snapshot *snap, struct Worker *w, struct Chunk *c)
{
	c->state = CHUNK_READING;
	c->seq = snap->opts.io.begin(snap->opts.io.ctx);
	c->rows = 0;
	pthread_mutex_lock(&snap->qlock);
	w->chunk = c;
	w->done = false;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&snap->qlock);
}

/* Why the chunk's COPY failed, from res or the connection. Returns -1. */
static int chunk_failed(Snapshot *snap, struct Worker *w, const struct Chunk *c, PGresult *res,
			char *err, size_t errlen)
{
	char line[512];
	pgc_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(w->conn), line,
		       sizeof(line));
	snprintf(err, errlen, "snapshot of %s: %s", snap->tables[c->table].rel.qualname, line);
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
static void row_id(Snapshot *snap, struct Worker *w, const struct ReadTable *t,
		   const struct Chunk *c, const struct PgoTuple *tuple)
{
	if (t->nkeys == 0) {
		snprintf(w->idbuf, sizeof(w->idbuf), "snapshot:%s:%u:%" PRIu64 ":%" PRIu64,
			 snap->ids.id, c->relid, c->first, c->rows);
		return;
	}
	rowid_format(&w->rowid, w->idbuf, sizeof(w->idbuf), w->prefix, t->rel.relid, tuple->cols,
		     t->keys, t->nkeys);
}

/*
 * Read, translate and publish every row of chunk c (worker thread, without
 * the lock: the tables, the ids and c's identity do not change while
 * workers run, and c->rows is the worker's until it is done). Returns 0,
 * or -1 with err.
 */
static int read_chunk(Snapshot *snap, struct Worker *w, struct Chunk *c, char *err, size_t errlen)
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
	PGresult *res = PQexec(w->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		return chunk_failed(snap, w, c, res, err, errlen);
	PQclear(res);

	for (;;) {
		char *row;
		int n = PQgetCopyData(w->conn, &row, 0);
		if (n == -1)
			break;
		if (n < 0)
			return chunk_failed(snap, w, c, NULL, err, errlen);
		struct PgoTuple tuple = {.ncols = t->rel.natts, .cols = w->cols};
		int rc = copy_parse_row((uint8_t *)row, (size_t)n, w->cols, t->rel.natts, err, errlen);
		if (rc == 0) {
			row_id(snap, w, t, c, &tuple);
			xl_begin_read(w->xl, w->idbuf, snap->ids.time_us, "initial");
			rc = xl_snapshot_row(w->xl, &t->rel, &tuple, err, errlen);
		}
		PQfreemem(row);
		if (rc < 0)
			return -1;
		c->rows++;
		w->unreported++;
	}
	/* The COPY ended: its command result, then no more. */
	res = PQgetResult(w->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return chunk_failed(snap, w, c, res, err, errlen);
	PQclear(res);
	while ((res = PQgetResult(w->conn)) != NULL)
		PQclear(res);
	return 0;
}

/* A worker thread: read the chunks it is given until the snapshot quits. */
static void *worker_main(void *arg)
{
	struct Worker *w = arg;
	Snapshot *snap = w->snap;

	pthread_mutex_lock(&snap->qlock);
	for (;;) {
		while (!snap->quit && (!w->chunk || w->done))
			pthread_cond_wait(&w->wake, &snap->qlock);
		if (snap->quit)
			break;
		struct Chunk *c = w->chunk;
		pthread_mutex_unlock(&snap->qlock);
		char err[sizeof(w->err)];
		int rc = read_chunk(snap, w, c, err, sizeof(err));
		/* The last batch, with the rest of the rows, before done: main ends the chunk after it. */
		if (rc == 0)
			rc = hand_over(snap, w, err, sizeof(err));
		pthread_mutex_lock(&snap->qlock);
		w->rc = rc;
		if (rc < 0)
			memcpy(w->err, err, sizeof(w->err));
		w->done = true;
		wake_main(snap);
	}
	pthread_mutex_unlock(&snap->qlock);
	return NULL;
}

/* Give w its translator and row ids, and start its thread. Returns 0, or -1 with err. */
static int start_worker(Snapshot *snap, struct Worker *w, char *err, size_t errlen)
{
	w->snap = snap;
	w->xl = xl_new(snap->opts.cfg, emit, w);
	w->cols = calloc(snap->widest, sizeof(struct PgoValue));
	w->filling = calloc(1, sizeof(struct Batch));
	if (!w->xl || !w->cols || !w->filling) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(w->rowid.secret, snap->ids.secret, sizeof(w->rowid.secret));
	snprintf(w->prefix, sizeof(w->prefix), "snapshot:%s:", snap->ids.id);
	w->sock = fcntl(PQsocket(w->conn), F_DUPFD_CLOEXEC, 0);
	if (w->sock < 0) {
		snprintf(err, errlen, "snapshot: %s", strerror(errno));
		return -1;
	}
	if (pthread_cond_init(&w->wake, NULL) != 0) {
		close(w->sock);
		snprintf(err, errlen, "snapshot: cannot create a condition variable");
		return -1;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_cond_destroy(&w->wake);
		close(w->sock);
		snprintf(err, errlen, "snapshot: cannot start a thread");
		return -1;
	}
	w->running = true;
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

/*
 * A chunk is confirmed in the marker only when every one of its events is
 * acknowledged, and the workers finish chunks in any order. So: a chunk's
 * ring entry is opened (io.begin) here, under the lock, before its worker
 * produces anything for it; its events are counted into that entry under
 * the lock as they are produced; and the entry is closed (io.end) here only
 * after the worker said it is done, that is after its last event was
 * produced. record_acknowledged then takes a chunk only when its entry and
 * every earlier one left the ring, which the ring allows in the order the
 * entries were opened, whichever worker finishes first.
 */
int snap_finish(Snapshot *snap, char *err, size_t errlen)
{
	snap->failed = true;
	return record_acknowledged(snap, err, errlen);
}

int snap_work(Snapshot *snap, char *err, size_t errlen)
{
	char drain[64];
	while (read(snap->notify[0], drain, sizeof(drain)) > 0)
		;
	if (snap->failed)
		return record_acknowledged(snap, err, errlen) < 0 ? -1 : 0;
	bool more = false;
	for (int i = 0; i < snap->nworkers; i++) {
		struct Worker *w = &snap->workers[i];
		/* A few batches per worker per turn: the others, and the loop's timers, get theirs. */
		for (int turn = 0; turn < BATCHES_WAITING && !snap->failed; turn++) {
			pthread_mutex_lock(&snap->qlock);
			struct Batch *b = w->ready;
			if (b) {
				w->ready = b->next;
				if (!w->ready)
					w->ready_tail = NULL;
				w->nready--;
				pthread_cond_signal(&w->wake);
			}
			pthread_mutex_unlock(&snap->qlock);
			if (!b)
				break;
			int rc = produce_batch(snap, w, b, err, errlen);
			pthread_mutex_lock(&snap->qlock);
			b->next = w->spare;
			w->spare = b;
			pthread_mutex_unlock(&snap->qlock);
			if (rc < 0) {
				snap->failed = true;
				return -1;
			}
		}
		pthread_mutex_lock(&snap->qlock);
		bool done = w->chunk && w->done && !w->ready;
		more = more || w->ready;
		int rc = w->rc;
		pthread_mutex_unlock(&snap->qlock);
		if (done) {
			if (rc < 0) {
				/* Reported once; the chunk is read again by the next run. */
				snap->failed = true;
				snprintf(err, errlen, "%s", w->err);
				return -1;
			}
			/* Every event of the chunk was produced: its entry may close. */
			if (snap->opts.io.end(snap->opts.io.ctx, w->chunk->seq, err, errlen) < 0) {
				snap->failed = true;
				return -1;
			}
			w->chunk->state = CHUNK_READ;
			pthread_mutex_lock(&snap->qlock);
			w->chunk = NULL;
			pthread_mutex_unlock(&snap->qlock);
		}
		while (!w->chunk && !snap->failed && snap->next < snap->stats.chunks &&
		       !snap->opts.io.full(snap->opts.io.ctx)) {
			struct Chunk *c = &snap->chunks[snap->next++];
			if (c->state == CHUNK_TODO)
				start_chunk(snap, w, c);
		}
	}
	if (more)
		wake_main(snap); /* batches are left for the next turn: no sleeping in poll meanwhile */
	if (record_acknowledged(snap, err, errlen) < 0) {
		snap->failed = true;
		return -1;
	}
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
