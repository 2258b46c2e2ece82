/* Verify: the latest event per key on Kafka against the table's rows at one consistent point. */
#include "autoconf.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "copy_text.h"
#include "encoder.h"
#include "kafka_sink.h"
#include "log.h"
#include "mono.h"
#include "pgconn.h"
#include "pgoutput.h"
#include "reader.h"
#include "strbuf.h"
#include "translator.h"
#include "verify.h"
#include "wire.h"
#include "xalloc.h"

#define DIGEST_BYTES 16
#define PROGRESS_MS 250
#define BATCH 1024
/* A Kafka read that makes no progress for this long has failed. */
#define STALL_MS 30000

/*
 * What verify keeps of a key: digests, not payloads (with the slots, about
 * 75 MB for a million keys), and where its latest record is, to fetch that
 * one again for a sampled difference.
 */
enum {
	ENTRY_DELETED = 1, /* the latest record is a delete or a tombstone */
	ENTRY_SEEN = 2, /* a row of the table has this key */
	ENTRY_TABLE_ONLY = 4, /* no record: added by the table's side */
};

struct KeyEntry {
	uint8_t key[DIGEST_BYTES];
	uint8_t value[DIGEST_BYTES];
	uint64_t lsn; /* of the latest record; 0 when it has none (snapshot, backfill) */
	int64_t offset;
	int32_t partition;
	uint8_t flags;
};

/*
 * Open addressing over a dense array. A slot holds the entry's index + 1
 * (0: empty) and, in its upper half, 32 more bits of the key digest, so a
 * probe touches an entry (a cache miss at this size) only when they match.
 */
struct KeyMap {
	struct KeyEntry *entries;
	size_t n, cap;
	uint64_t *slots;
	size_t nslots; /* a power of two */
};

enum sample_kind { SAMPLE_MISSING, SAMPLE_EXTRA, SAMPLE_DIFFERENT };

/* A key shown in the report with what differs. */
struct Sample {
	enum sample_kind kind;
	char *key; /* from the table's side; NULL until fetched from Kafka (extra) */
	size_t key_len;
	char *row_json; /* the table's event in the JSON mapping (missing) */
	char **fields; /* per field: "\"name\":value" of the table's event, "" when absent */
	bool deleted; /* missing because the latest record is a delete */
	int32_t partition;
	int64_t offset;
};

/* Truncate records per partition: every older record of the partition is void. */
struct Truncate {
	int32_t partition;
	int64_t offset;
};

/* One verified event definition. */
struct Target {
	const struct EventDef *def;
	char type[300]; /* its ce_type */
	size_t type_len;
	char label[300]; /* "name v<version>" */
	char **delete_types; /* ce_types of the table's delete events on the same topic */
	size_t ndelete_types;
	struct KeyMap map;
	struct VerifyCounts counts;
	uint64_t records; /* counted state and delete records */
	struct Sample *samples;
	size_t nsamples[3];
	size_t nsample_total;
	struct Truncate *truncates;
	size_t ntruncates;
	char first_error[512]; /* the first row that could not become the event */
	bool self_delete; /* the event itself is declared on delete: its delete records look like states */
};

/* One partition of a topic being read. */
struct Part {
	const char *topic;
	int32_t partition;
	int64_t low, high; /* watermarks once X is confirmed */
	bool done;
	bool cut; /* a record committed at or after X was seen: later ones are after X too */
	rd_kafka_topic_t *rkt; /* while reading */
	bool started;
};

struct Verify {
	const struct VerifyOptions *opts;
	struct Config cfg; /* a copy whose events dead-letter instead of halting */
	struct EventDef *events;
	struct Target *targets;
	size_t ntargets;
	PGconn *conn; /* inside the transaction that sees the snapshot at X */
	char slot[64]; /* the temporary slot */
	uint64_t x; /* the consistent point */
	char xtext[PGO_LSN_BUFSIZE];
	struct ReadTable *tables;
	size_t ntables;
	rd_kafka_t *rk;
	struct Part *parts;
	size_t nparts;
	Arena *arena;
	struct Value *values; /* decoding, widest event */
	struct StrBuf sb;
	uint64_t rows, records_read;
	bool tty;
	int64_t shown_ms;
	bool shown;
	uint64_t foreign; /* records whose ce_type no verified event has */
};

static void digest(uint8_t out[DIGEST_BYTES], const void *data, size_t len)
{
	crypto_generichash(out, DIGEST_BYTES, data, (unsigned long long)len, NULL, 0);
}

/* ---- the key map ---- */

static size_t slot_of(const struct KeyMap *m, const uint8_t key[DIGEST_BYTES])
{
	uint64_t h;
	memcpy(&h, key, sizeof(h));
	return (size_t)h & (m->nslots - 1);
}

static uint64_t tag_of(const uint8_t key[DIGEST_BYTES])
{
	uint32_t t;
	memcpy(&t, key + 8, sizeof(t));
	return (uint64_t)t << 32;
}

static void map_grow(struct KeyMap *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 1024;
	uint64_t *slots = calloc(nslots, sizeof(uint64_t));
	if (!slots)
		abort();
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	for (size_t i = 0; i < m->n; i++) {
		size_t s = slot_of(m, m->entries[i].key);
		while (m->slots[s])
			s = (s + 1) & (nslots - 1);
		m->slots[s] = tag_of(m->entries[i].key) | (uint64_t)(i + 1);
	}
}

static struct KeyEntry *map_find(const struct KeyMap *m, const uint8_t key[DIGEST_BYTES])
{
	if (!m->nslots)
		return NULL;
	uint64_t tag = tag_of(key);
	for (size_t s = slot_of(m, key); m->slots[s]; s = (s + 1) & (m->nslots - 1)) {
		if ((m->slots[s] & 0xffffffff00000000u) != tag)
			continue;
		struct KeyEntry *e = &m->entries[(m->slots[s] & 0xffffffffu) - 1];
		if (memcmp(e->key, key, DIGEST_BYTES) == 0)
			return e;
	}
	return NULL;
}

/* The entry of key, added (zeroed but for the key) when there is none; *added says which. */
static struct KeyEntry *map_get(struct KeyMap *m, const uint8_t key[DIGEST_BYTES], bool *added)
{
	struct KeyEntry *e = map_find(m, key);
	*added = e == NULL;
	if (e)
		return e;
	/* At most half full: short probe runs. */
	if ((m->n + 1) * 2 > m->nslots)
		map_grow(m);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		struct KeyEntry *grown = realloc(m->entries, m->cap * sizeof(struct KeyEntry));
		if (!grown)
			abort();
		m->entries = grown;
	}
	if (m->n >= UINT32_MAX - 1)
		abort();
	size_t s = slot_of(m, key);
	while (m->slots[s])
		s = (s + 1) & (m->nslots - 1);
	m->slots[s] = tag_of(key) | (uint64_t)(m->n + 1);
	e = &m->entries[m->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, DIGEST_BYTES);
	return e;
}

static void map_free(struct KeyMap *m)
{
	free(m->entries);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- progress on a terminal ---- */

static void progress(struct Verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct Verify *v, const char *fmt, ...)
{
	if (!v->tty)
		return;
	int64_t now = mono_ms();
	if (now - v->shown_ms < PROGRESS_MS)
		return;
	v->shown_ms = now;
	v->shown = true;
	va_list ap;
	va_start(ap, fmt);
	fputs("\rverify: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("   ", stderr);
	va_end(ap);
	fflush(stderr);
}

/* End a progress line, so that the next message starts on its own line. */
static void progress_done(struct Verify *v)
{
	if (v->shown)
		fputc('\n', stderr);
	v->shown = false;
	v->shown_ms = 0;
}

/* ---- targets ---- */

static void add_type(char ***types, size_t *n, const struct EventDef *def)
{
	char **grown = realloc(*types, (*n + 1) * sizeof(char *));
	if (!grown)
		abort();
	*types = grown;
	struct StrBuf sb = {0};
	sb_printf(&sb, "%s.v%d", def->name, def->version);
	if (!sb_ok(&sb))
		abort();
	(*types)[(*n)++] = sb.data;
}

/*
 * The events to verify, from a copy of the configuration in which every
 * event dead-letters: a row that cannot become its event is counted and
 * reported, and does not stop the comparison. Returns 0, or -2 with err.
 */
static int pick_targets(struct Verify *v, char *err, size_t errlen)
{
	const struct Config *cfg = v->opts->cfg;
	v->cfg = *cfg;
	v->events = calloc(cfg->nevents ? cfg->nevents : 1, sizeof(struct EventDef));
	v->targets = calloc(cfg->nevents ? cfg->nevents : 1, sizeof(struct Target));
	if (!v->events || !v->targets)
		abort();
	for (size_t i = 0; i < cfg->nevents; i++) {
		v->events[i] = cfg->events[i];
		v->events[i].on_error = ON_ERROR_DEAD_LETTER;
	}
	v->cfg.events = v->events;

	bool named = false;
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *def = &v->events[i];
		if (v->opts->event && strcmp(v->opts->event, def->name) != 0)
			continue;
		named = true;
		if (!(def->ops & OP_SNAPSHOT))
			continue;
		if (!def->key) {
			snprintf(err, errlen, "event %s v%d has no key: verify compares the latest event per key",
				 def->name, def->version);
			return -2;
		}
		struct Target *t = &v->targets[v->ntargets++];
		t->def = def;
		t->type_len = (size_t)snprintf(t->type, sizeof(t->type), "%s.v%d", def->name, def->version);
		snprintf(t->label, sizeof(t->label), "%s v%d", def->name, def->version);
		t->self_delete = (def->ops & OP_DELETE) != 0;
		for (size_t j = 0; j < cfg->nevents; j++) {
			const struct EventDef *other = &v->events[j];
			if (j != i && (other->ops & (OP_DELETE | OP_TRUNCATE)) &&
			    strcmp(other->table, def->table) == 0 && strcmp(other->topic, def->topic) == 0)
				add_type(&t->delete_types, &t->ndelete_types, other);
		}
		if (t->self_delete)
			log_warning("event %s is also declared on delete: its delete records cannot be told from states, so a deleted row's key counts as extra; declare a separate delete event",
				    t->label);
	}
	if (v->opts->event && !named) {
		snprintf(err, errlen, "no configured event is called %s", v->opts->event);
		return -2;
	}
	if (v->opts->event && v->ntargets == 0) {
		snprintf(err, errlen,
			 "event %s is not declared on = [\"snapshot\"]: only such events carry a row's whole state",
			 v->opts->event);
		return -2;
	}
	if (v->ntargets == 0) {
		snprintf(err, errlen, "no event is declared on = [\"snapshot\"]: nothing carries a row's whole state to verify");
		return -2;
	}
	return 0;
}

/* ---- the consistent point ---- */

/*
 * Both sides must be read at one point X of the WAL: the table as the
 * transactions committed before X left it, and on Kafka the events of
 * exactly those transactions. A REPEATABLE READ snapshot with
 * pg_current_wal_lsn() read beside it does not give that: visibility
 * follows the list of running transactions, not commit LSNs, so a
 * transaction whose commit record precedes the LSN read may still be
 * invisible, or the other way round.
 *
 * A logical slot does: CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')
 * returns a consistent point and a snapshot that sees exactly the
 * transactions whose commit record lies before it (those decoding would
 * skip), which is how tablecast's own snapshot joins the stream without
 * gap or duplicate. A TEMPORARY slot of our own takes that point without
 * touching tablecast's slot, needs only REPLICATION (which run needs
 * anyway), and vanishes with its connection; the snapshot stays with the
 * transaction that imported it. Creating it waits, like any logical
 * slot, for the transactions running at that moment to end.
 */
static int take_snapshot(struct Verify *v, char *err, size_t errlen)
{
	const struct Config *cfg = v->opts->cfg;
	char sql[512], line[512];
	uint32_t rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)time(NULL);
	snprintf(v->slot, sizeof(v->slot), "tablecast_verify_%ld_%08x", (long)getpid(), rnd);
	PGconn *repl = pgc_connect(cfg->source.conninfo, true, "tablecast verify", err, errlen);
	if (!repl)
		return -1;
	snprintf(sql, sizeof(sql),
		 "CREATE_REPLICATION_SLOT \"%s\" TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')",
		 v->slot);
	PGresult *res = PQexec(repl, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "verify: creating a temporary replication slot: %s", line);
		PQclear(res);
		PQfinish(repl);
		return -1;
	}
	char name[128];
	snprintf(v->xtext, sizeof(v->xtext), "%s", PQgetvalue(res, 0, 1));
	snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	if (!pgo_lsn_parse(v->xtext, &v->x) || strspn(name, "0123456789ABCDEFabcdef-") != strlen(name)) {
		snprintf(err, errlen, "verify: unexpected answer to CREATE_REPLICATION_SLOT");
		PQfinish(repl);
		return -1;
	}

	v->conn = pgc_connect(cfg->source.conninfo, false, "tablecast verify", err, errlen);
	int rc = v->conn ? 0 : -1;
	if (rc == 0)
		rc = pgc_exec(v->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "verify: BEGIN",
			      err, errlen);
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", name);
		rc = pgc_exec(v->conn, sql, "verify: SET TRANSACTION SNAPSHOT", err, errlen);
	}
	/* The snapshot lives on in the importing transaction; the slot goes. */
	PQfinish(repl);
	return rc;
}

/* Every table the targets read, under the snapshot, locked against rewrites as pg_dump does. */
static int load_tables(struct Verify *v, char *err, size_t errlen)
{
	v->tables = calloc(v->ntargets, sizeof(struct ReadTable));
	if (!v->tables)
		abort();
	for (size_t i = 0; i < v->ntargets; i++) {
		const char *name = v->targets[i].def->table;
		bool seen = false;
		for (size_t j = 0; j < v->ntables && !seen; j++)
			seen = strcmp(v->tables[j].rel.qualname, name) == 0;
		if (seen)
			continue;
		struct ReadTable *t = &v->tables[v->ntables];
		if (rd_load(v->conn, &v->cfg, name, RD_SNAPSHOT, t, err, errlen) < 0)
			return -1;
		v->ntables++;
		char sql[1024];
		snprintf(sql, sizeof(sql), "LOCK TABLE %s IN ACCESS SHARE MODE", t->from);
		if (pgc_exec(v->conn, sql, "verify: LOCK TABLE", err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * Everything committed before X is in Kafka once the running tablecast
 * has confirmed X: it confirms only transactions whose every event Kafka
 * acknowledged (and, when idle, the server's WAL end). The slot's
 * confirmed_flush_lsn is the database's view of that.
 */
static int wait_confirmed(struct Verify *v, char *err, size_t errlen)
{
	const char *slot = v->opts->cfg->source.slot;
	const char *params[1] = {slot};
	int64_t start = mono_ms();
	bool warned = false;

	for (;;) {
		PGresult *res = PQexecParams(
			v->conn,
			"SELECT confirmed_flush_lsn, active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
			1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			char line[512];
			pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
			snprintf(err, errlen, "verify: reading pg_replication_slots: %s", line);
			PQclear(res);
			return -1;
		}
		if (PQntuples(res) == 0) {
			snprintf(err, errlen,
				 "verify: replication slot \"%s\" does not exist: verify compares what `tablecast run` with this configuration has published",
				 slot);
			PQclear(res);
			return -1;
		}
		uint64_t confirmed = 0;
		if (!PQgetisnull(res, 0, 0))
			(void)pgo_lsn_parse(PQgetvalue(res, 0, 0), &confirmed);
		bool active = PQgetvalue(res, 0, 1)[0] == 't';
		PQclear(res);
		if (confirmed >= v->x) {
			progress_done(v);
			log_info("verify: slot \"%s\" confirmed %s after %.1f s", slot, v->xtext,
				 (double)(mono_ms() - start) / 1000.0);
			return 0;
		}
		char at[PGO_LSN_BUFSIZE];
		pgo_lsn_format(confirmed, at);
		int64_t waited = mono_ms() - start;
		if (!warned && (!active || waited > 3000)) {
			warned = true;
			progress_done(v);
			log_warning("verify: waiting up to %d s for slot \"%s\" to confirm %s (it is at %s%s)",
				    v->opts->timeout_ms / 1000, slot, v->xtext, at,
				    active ? "" : " and no tablecast is streaming from it: is `tablecast run` running?");
		}
		if (waited >= v->opts->timeout_ms) {
			progress_done(v);
			snprintf(err, errlen,
				 "verify: slot \"%s\" did not confirm %s within %d s (it is at %s, %s): events committed before it may not be in Kafka yet; start `tablecast run` or wait longer (--timeout)",
				 slot, v->xtext, v->opts->timeout_ms / 1000, at,
				 active ? "streaming" : "not in use");
			return -1;
		}
		if (*v->opts->stop) {
			snprintf(err, errlen, "verify: stopped");
			return -1;
		}
		progress(v, "waiting for slot \"%s\" to confirm %s (at %s)", slot, v->xtext, at);
		struct timespec nap = {0, 100 * 1000000};
		nanosleep(&nap, NULL);
	}
}

/* ---- Kafka ---- */

static rd_kafka_t *consumer_new(const struct Config *cfg, char *err, size_t errlen)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (ksink_apply_properties(conf, cfg, true, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/* The simple consumer joins no group and commits nothing. */
	const char *settings[][2] = {
		{"enable.partition.eof", "true"},
		{"auto.offset.reset", "earliest"},
		/* What Kafka transactions committed only (sink.exactly_once). */
		{"isolation.level", "read_committed"},
	};
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "kafka: %s", errstr);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		snprintf(err, errlen, "kafka: %s", errstr);
		return NULL;
	}
	return rk;
}

/* Every partition of the targets' topics, with its watermarks now. */
static int plan_partitions(struct Verify *v, char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
	int64_t deadline = mono_ms() + 30000;

	while (mono_ms() < deadline && !*v->opts->stop) {
		kerr = rd_kafka_metadata(v->rk, 1, NULL, &md, 1000);
		if (!kerr)
			break;
	}
	if (kerr) {
		snprintf(err, errlen, "kafka: no broker answered within 30 s: %s", rd_kafka_err2str(kerr));
		return -1;
	}
	size_t cap = 0;
	for (size_t t = 0; t < v->ntargets; t++) {
		const char *topic = v->targets[t].def->topic;
		bool seen = false;
		for (size_t p = 0; p < v->nparts && !seen; p++)
			seen = strcmp(v->parts[p].topic, topic) == 0;
		if (seen)
			continue;
		const struct rd_kafka_metadata_topic *mt = NULL;
		for (int i = 0; i < md->topic_cnt && !mt; i++)
			if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
				mt = &md->topics[i];
		if (!mt) {
			log_warning("verify: kafka topic %s does not exist: no events of %s", topic,
				    v->targets[t].label);
			continue;
		}
		for (int i = 0; i < mt->partition_cnt; i++) {
			if (v->nparts == cap) {
				cap = cap ? cap * 2 : 16;
				struct Part *grown = realloc(v->parts, cap * sizeof(struct Part));
				if (!grown)
					abort();
				v->parts = grown;
			}
			struct Part *part = &v->parts[v->nparts++];
			*part = (struct Part){.topic = v->targets[t].def->topic,
					      .partition = mt->partitions[i].id};
		}
	}
	rd_kafka_metadata_destroy(md);
	for (size_t p = 0; p < v->nparts; p++) {
		struct Part *part = &v->parts[p];
		kerr = rd_kafka_query_watermark_offsets(v->rk, part->topic, part->partition, &part->low,
							&part->high, 10000);
		if (kerr) {
			snprintf(err, errlen, "kafka: watermarks of %s [%" PRId32 "]: %s", part->topic,
				 part->partition, rd_kafka_err2str(kerr));
			return -1;
		}
		part->done = part->high <= part->low;
		if (part->low > 0)
			log_warning("verify: %s [%" PRId32 "] starts at offset %" PRId64
				    ": older records are gone (retention); keys whose latest record went with them count as missing",
				    part->topic, part->partition, part->low);
	}
	return 0;
}

static struct Part *part_of(struct Verify *v, const char *topic, int32_t partition)
{
	for (size_t p = 0; p < v->nparts; p++)
		if (v->parts[p].partition == partition && strcmp(v->parts[p].topic, topic) == 0)
			return &v->parts[p];
	return NULL;
}

/*
 * The commit LSN a ce_id carries: "<commit LSN>-<n>" for an event from the
 * stream; 0 for anything else (snapshot and backfill rows, records of
 * another producer).
 */
static uint64_t id_lsn(const void *id, size_t len)
{
	char buf[PGO_LSN_BUFSIZE];
	const char *dash = id ? memchr(id, '-', len) : NULL;
	size_t n = dash ? (size_t)(dash - (const char *)id) : 0;
	uint64_t lsn;
	if (n < 3 || n >= sizeof(buf))
		return 0;
	memcpy(buf, id, n);
	buf[n] = '\0';
	return pgo_lsn_parse(buf, &lsn) ? lsn : 0;
}

static bool header(rd_kafka_headers_t *hdrs, const char *name, const char **value, size_t *len)
{
	const void *v;
	if (!hdrs || rd_kafka_header_get_last(hdrs, name, &v, len) != RD_KAFKA_RESP_ERR_NO_ERROR || !v)
		return false;
	*value = v;
	return true;
}

/* The event message of a record: the value, or in structured mode the CloudEvent's data. */
static bool event_bytes(const struct Verify *v, const uint8_t *payload, size_t len,
			const uint8_t **data, size_t *datalen)
{
	if (!v->cfg.cloudevents.structured) {
		*data = payload;
		*datalen = len;
		return true;
	}
	struct WireCloudEvent ce;
	if (!wire_decode_cloudevent(payload, len, NULL, &ce) || !ce.data)
		return false;
	*data = ce.data;
	*datalen = ce.data_len;
	return true;
}

/*
 * Which records count: those of transactions committed before X. A
 * record from the stream says its commit LSN in ce_id. Snapshot and
 * backfill rows say none; they reflect the table at their snapshot's
 * consistent point or their backfill's high watermark, and each partition
 * is written in commit order, so such a record counts when no record of X
 * or later precedes it in its partition. (A snapshot finished before X
 * and a backfill whose high watermark precedes X always do; a backfill
 * row after X that no change after X precedes holds the row as it was at
 * X, since a change in between would precede it or have dropped it.)
 * Records of X or later that a crash replayed after newer ones repeat
 * earlier records and change nothing.
 */
static void take_record(struct Verify *v, struct Part *part, const rd_kafka_message_t *msg)
{
	rd_kafka_headers_t *hdrs = NULL;
	const char *type = NULL, *id = NULL;
	size_t type_len = 0, id_len = 0;

	v->records_read++;
	rd_kafka_message_headers(msg, &hdrs);
	bool typed = header(hdrs, "ce_type", &type, &type_len);
	uint64_t lsn = header(hdrs, "ce_id", &id, &id_len) ? id_lsn(id, id_len) : 0;
	if (lsn >= v->x) {
		part->cut = true;
		return;
	}
	if (!lsn && part->cut)
		return;

	for (size_t i = 0; i < v->ntargets; i++) {
		struct Target *t = &v->targets[i];
		if (strcmp(t->def->topic, part->topic) != 0)
			continue;
		bool state = typed && type_len == t->type_len && memcmp(type, t->type, type_len) == 0;
		bool del = !msg->payload;
		for (size_t d = 0; d < t->ndelete_types && !del && typed; d++)
			del = strlen(t->delete_types[d]) == type_len &&
			      memcmp(t->delete_types[d], type, type_len) == 0;
		if (!state && !del) {
			v->foreign++;
			continue;
		}
		if (!msg->key) {
			/* A TRUNCATE: one keyless record per partition voids all before it. */
			bool truncate = msg->payload && ((state && (t->def->ops & OP_TRUNCATE)) || del);
			if (truncate) {
				struct Truncate *grown =
					realloc(t->truncates, (t->ntruncates + 1) * sizeof(struct Truncate));
				if (!grown)
					abort();
				t->truncates = grown;
				t->truncates[t->ntruncates++] =
					(struct Truncate){msg->partition, msg->offset};
			}
			continue;
		}
		uint8_t key[DIGEST_BYTES];
		digest(key, msg->key, msg->key_len);
		bool added;
		struct KeyEntry *e = map_get(&t->map, key, &added);
		/* Latest: Kafka's order within a partition, else the later commit. */
		if (!added && e->partition != msg->partition && lsn < e->lsn)
			continue;
		t->records++;
		e->lsn = lsn;
		e->partition = msg->partition;
		e->offset = msg->offset;
		e->flags = del ? ENTRY_DELETED : 0;
		const uint8_t *data;
		size_t len;
		if (del)
			memset(e->value, 0, DIGEST_BYTES);
		else if (event_bytes(v, msg->payload, msg->len, &data, &len))
			digest(e->value, data, len);
		else /* no CloudEvent: a digest no row gives */
			memset(e->value, 0xff, DIGEST_BYTES);
	}
}

/* Keys voided by a later truncate of their partition become deleted. */
static void apply_truncates(struct Target *t)
{
	if (!t->ntruncates)
		return;
	for (size_t i = 0; i < t->map.n; i++) {
		struct KeyEntry *e = &t->map.entries[i];
		for (size_t j = 0; j < t->ntruncates; j++)
			if (t->truncates[j].partition == e->partition && t->truncates[j].offset > e->offset)
				e->flags |= ENTRY_DELETED;
	}
}

/* A handle of topic for the simple consumer, which commits nothing. */
static rd_kafka_topic_t *topic_handle(struct Verify *v, const char *topic)
{
	char errstr[256];
	rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
	rd_kafka_topic_conf_set(tconf, "auto.commit.enable", "false", errstr, sizeof(errstr));
	return rd_kafka_topic_new(v->rk, topic, tconf);
}

/*
 * Every partition from its low to its high watermark, read with the
 * simple consumer into one queue: no group, and (unlike assign()) fetches
 * that keep up with what one thread digests.
 */
static int read_topics(struct Verify *v, char *err, size_t errlen)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(v->rk);
	size_t left = 0;
	int rc = 0;
	for (size_t p = 0; p < v->nparts && rc == 0; p++) {
		struct Part *part = &v->parts[p];
		if (part->done)
			continue;
		part->rkt = topic_handle(v, part->topic);
		if (!part->rkt ||
		    rd_kafka_consume_start_queue(part->rkt, part->partition, part->low, q) < 0) {
			snprintf(err, errlen, "kafka: reading %s [%" PRId32 "]: %s", part->topic,
				 part->partition, rd_kafka_err2str(rd_kafka_last_error()));
			rc = -1;
			break;
		}
		part->started = true;
		left++;
	}
	int64_t total = 0;
	for (size_t p = 0; p < v->nparts; p++)
		total += v->parts[p].high - v->parts[p].low;

	rd_kafka_message_t *msgs[BATCH];
	int64_t start = mono_ms(), progress_at = start;
	while (left > 0 && rc == 0) {
		if (*v->opts->stop) {
			snprintf(err, errlen, "verify: stopped");
			rc = -1;
			break;
		}
		/*
		 * What is queued, without waiting for a full batch (which would
		 * wait out the timeout whenever fetches bring fewer); then wait.
		 */
		ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, BATCH);
		if (n == 0)
			n = rd_kafka_consume_batch_queue(q, 100, msgs, 1);
		if (n < 0) {
			snprintf(err, errlen, "kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
			rc = -1;
			break;
		}
		if (n > 0)
			progress_at = mono_ms();
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *msg = msgs[i];
			struct Part *part = msg->rkt ? part_of(v, rd_kafka_topic_name(msg->rkt), msg->partition)
						     : NULL;
			if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				if (part && !part->done && msg->offset >= part->high) {
					part->done = true;
					left--;
				}
			} else if (msg->err) {
				log_warning_once("verify: kafka: %s", rd_kafka_message_errstr(msg));
			} else if (part && !part->done) {
				if (msg->offset < part->high)
					take_record(v, part, msg);
				if (msg->offset >= part->high - 1) {
					part->done = true;
					left--;
				}
			}
			rd_kafka_message_destroy(msg);
		}
		if (mono_ms() - progress_at > STALL_MS) {
			snprintf(err, errlen, "kafka: no record for %d s with %zu partitions left to read",
				 STALL_MS / 1000, left);
			rc = -1;
			break;
		}
		progress(v, "kafka: %" PRIu64 " of %" PRId64 " records", v->records_read, total);
	}
	for (size_t p = 0; p < v->nparts; p++) {
		struct Part *part = &v->parts[p];
		if (part->started)
			rd_kafka_consume_stop(part->rkt, part->partition);
		part->started = false;
		if (part->rkt)
			rd_kafka_topic_destroy(part->rkt);
		part->rkt = NULL;
	}
	rd_kafka_queue_destroy(q);
	progress_done(v);
	if (rc == 0) {
		for (size_t i = 0; i < v->ntargets; i++)
			apply_truncates(&v->targets[i]);
		log_info("verify: read %" PRIu64 " records from %zu partitions in %.1f s",
			 v->records_read, v->nparts, (double)(mono_ms() - start) / 1000.0);
	}
	return rc;
}

/* ---- the table ---- */

static struct Target *target_of(struct Verify *v, const struct EventDef *def)
{
	for (size_t i = 0; i < v->ntargets; i++)
		if (v->targets[i].def == def)
			return &v->targets[i];
	return NULL;
}

/* Field i of values as "\"jsonName\":value", or "" when absent. */
static char *field_json(struct Verify *v, const struct EventDef *def, size_t i,
			const struct Value *values)
{
	struct EventDef one = *def;
	one.fields = &def->fields[i];
	one.nfields = 1;
	char err[256];
	sb_reset(&v->sb);
	if (enc_json(&one, &values[i], &v->sb, err, sizeof(err)) < 0 || !sb_ok(&v->sb) ||
	    v->sb.len < 2)
		return xstrndup("?", 1);
	return xstrndup(v->sb.data + 1, v->sb.len - 2); /* without the braces */
}

static struct Sample *add_sample(struct Target *t, enum sample_kind kind, int limit)
{
	if ((int)t->nsamples[kind] >= limit)
		return NULL;
	struct Sample *grown = realloc(t->samples, (t->nsample_total + 1) * sizeof(struct Sample));
	if (!grown)
		abort();
	t->samples = grown;
	struct Sample *s = &t->samples[t->nsample_total++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	t->nsamples[kind]++;
	return s;
}

/* The translator's emit: one event of a row, compared with its key's latest record. */
static int compare_row(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	struct Verify *v = ctx;
	(void)err;
	(void)errlen;

	if (!ev->def) {
		/* A dead letter: the row could not become the event named in it. */
		for (size_t i = 0; i < v->ntargets; i++) {
			struct Target *t = &v->targets[i];
			if (ev->failed_event && strcmp(ev->failed_event, t->label) == 0) {
				if (!t->counts.untranslatable++)
					snprintf(t->first_error, sizeof(t->first_error), "%s",
						 ev->error ? ev->error : "");
			}
		}
		return 0;
	}
	struct Target *t = target_of(v, ev->def);
	if (!t)
		return 0;
	if (!ev->key) {
		if (!t->counts.untranslatable++)
			snprintf(t->first_error, sizeof(t->first_error), "event %s: the key is NULL",
				 t->label);
		return 0;
	}
	uint8_t key[DIGEST_BYTES], value[DIGEST_BYTES];
	const uint8_t *data;
	size_t len;
	digest(key, ev->key, ev->key_len);
	if (!event_bytes(v, ev->payload, ev->payload_len, &data, &len)) {
		data = ev->payload;
		len = ev->payload_len;
	}
	digest(value, data, len);

	bool added;
	struct KeyEntry *e = map_get(&t->map, key, &added);
	if (!added && (e->flags & ENTRY_SEEN)) {
		t->counts.table_duplicates++;
		return 0;
	}
	bool missing = added || (e->flags & ENTRY_DELETED);
	e->flags |= ENTRY_SEEN;
	if (added)
		e->flags |= ENTRY_TABLE_ONLY;
	if (!missing && memcmp(e->value, value, DIGEST_BYTES) == 0) {
		t->counts.equal++;
		return 0;
	}
	struct Sample *s;
	if (missing) {
		t->counts.missing++;
		if (!(s = add_sample(t, SAMPLE_MISSING, v->opts->sample)))
			return 0;
		s->deleted = !added;
		char jerr[256];
		sb_reset(&v->sb);
		if (enc_json(t->def, ev->values, &v->sb, jerr, sizeof(jerr)) == 0 && sb_ok(&v->sb))
			s->row_json = xstrndup(v->sb.data, v->sb.len);
	} else {
		t->counts.different++;
		if (!(s = add_sample(t, SAMPLE_DIFFERENT, v->opts->sample)))
			return 0;
		s->fields = calloc(t->def->nfields ? t->def->nfields : 1, sizeof(char *));
		if (!s->fields)
			abort();
		for (size_t i = 0; i < t->def->nfields; i++)
			s->fields[i] = field_json(v, t->def, i, ev->values);
	}
	s->key = xstrndup(ev->key, ev->key_len);
	s->key_len = ev->key_len;
	s->partition = e->partition;
	s->offset = e->offset;
	return 0;
}

/* Read table t and compare each row's events; *ms says how long it took. */
static int scan_table(struct Verify *v, Translator *xl, const struct ReadTable *t, int64_t *ms,
		      char *err, size_t errlen)
{
	struct StrBuf sql = {0};
	sb_printf(&sql, "COPY (SELECT %s FROM %s) TO STDOUT", t->select_list, t->from);
	if (!sb_ok(&sql))
		abort();
	PGresult *res = PQexec(v->conn, sql.data);
	sb_free(&sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		char line[512];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(err, errlen, "verify: reading %s: %s", t->rel.qualname, line);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	struct PgoValue *cols = calloc(t->rel.natts ? t->rel.natts : 1, sizeof(struct PgoValue));
	if (!cols)
		abort();
	int64_t start = mono_ms();
	uint64_t rows = 0;
	int rc = 0;
	xl_begin_read(xl, "verify", 0, "initial");
	for (;;) {
		char *row;
		int n = PQgetCopyData(v->conn, &row, 0);
		if (n == -1)
			break;
		if (n < 0) {
			char line[512];
			pgc_first_line(PQerrorMessage(v->conn), line, sizeof(line));
			snprintf(err, errlen, "verify: reading %s: %s", t->rel.qualname, line);
			rc = -1;
			break;
		}
		struct PgoTuple tuple = {.ncols = t->rel.natts, .cols = cols};
		rc = copy_parse_row((uint8_t *)row, (size_t)n, cols, t->rel.natts, err, errlen);
		if (rc == 0) {
			xl_begin_read(xl, "verify", 0, "initial");
			rc = xl_snapshot_row(xl, &t->rel, &tuple, err, errlen);
		}
		PQfreemem(row);
		if (rc < 0)
			break;
		rows++;
		if ((rows & 1023) == 0) {
			if (*v->opts->stop) {
				snprintf(err, errlen, "verify: stopped");
				rc = -1;
				break;
			}
			progress(v, "table %s: %" PRIu64 " rows", t->rel.qualname, rows);
		}
	}
	free(cols);
	/* The COPY's end (or the rest of it after an error): its result, then no more. */
	while ((res = PQgetResult(v->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			char line[512];
			pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
			snprintf(err, errlen, "verify: reading %s: %s", t->rel.qualname, line);
			rc = -1;
		}
		PQclear(res);
	}
	progress_done(v);
	v->rows += rows;
	*ms = mono_ms() - start;
	return rc;
}

static int scan_tables(struct Verify *v, char *err, size_t errlen)
{
	Translator *xl = xl_new(&v->cfg, compare_row, v);
	if (!xl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Rows that cannot become their event are counted and the first one reported, not logged each. */
	enum log_level level = log_get_level();
	if (level > LOG_ERROR && level < LOG_DEBUG)
		log_set_level(LOG_ERROR);
	int rc = 0;
	for (size_t i = 0; i < v->ntables && rc == 0; i++) {
		uint64_t before = v->rows;
		int64_t ms = 0;
		rc = scan_table(v, xl, &v->tables[i], &ms, err, errlen);
		log_set_level(level);
		if (rc == 0)
			log_info("verify: translated %" PRIu64 " rows of %s in %.1f s", v->rows - before,
				 v->tables[i].rel.qualname, (double)ms / 1000.0);
		if (level > LOG_ERROR && level < LOG_DEBUG)
			log_set_level(LOG_ERROR);
	}
	log_set_level(level);
	xl_free(xl);
	return rc;
}

/* Keys with a latest state record and no row: extra; with a delete and no row: as they should be. */
static void count_leftovers(struct Verify *v)
{
	for (size_t i = 0; i < v->ntargets; i++) {
		struct Target *t = &v->targets[i];
		for (size_t k = 0; k < t->map.n; k++) {
			const struct KeyEntry *e = &t->map.entries[k];
			if (e->flags & ENTRY_SEEN)
				continue;
			if (e->flags & ENTRY_DELETED) {
				t->counts.deleted++;
				continue;
			}
			t->counts.extra++;
			struct Sample *s = add_sample(t, SAMPLE_EXTRA, v->opts->sample);
			if (s) {
				s->partition = e->partition;
				s->offset = e->offset;
			}
		}
	}
}

/* ---- the report ---- */

/* The record at topic/partition/offset, fetched again; NULL when it cannot be. */
static rd_kafka_message_t *fetch_record(struct Verify *v, const char *topic, int32_t partition,
					int64_t offset)
{
	rd_kafka_topic_t *rkt = topic_handle(v, topic);
	if (!rkt)
		return NULL;
	rd_kafka_message_t *found = NULL;
	if (rd_kafka_consume_start(rkt, partition, offset) == 0) {
		int64_t deadline = mono_ms() + 10000;
		while (!found && mono_ms() < deadline && !*v->opts->stop) {
			rd_kafka_message_t *msg = rd_kafka_consume(rkt, partition, 200);
			if (!msg)
				continue;
			bool past = msg->offset >= offset &&
				    (!msg->err || msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
			if (!msg->err && msg->offset == offset)
				found = msg;
			else
				rd_kafka_message_destroy(msg);
			if (past)
				break;
		}
		rd_kafka_consume_stop(rkt, partition);
	}
	rd_kafka_topic_destroy(rkt);
	return found;
}

/* The record's event decoded into v->values; false when it does not match the schema. */
static bool decode_record(struct Verify *v, const struct EventDef *def,
			  const rd_kafka_message_t *msg)
{
	const uint8_t *data;
	size_t len;
	arena_reset(v->arena);
	return msg->payload && event_bytes(v, msg->payload, msg->len, &data, &len) &&
	       wire_decode_event(def, data, len, v->arena, v->values);
}

static void put_key(FILE *out, const char *key, size_t len)
{
	struct StrBuf sb = {0};
	sb_json_string(&sb, key, len);
	if (sb_ok(&sb))
		fwrite(sb.data, 1, sb.len, out);
	sb_free(&sb);
}

/* The value part of "\"name\":value", or "(absent)". */
static const char *json_value(const char *field)
{
	const char *colon = strchr(field, ':');
	return colon ? colon + 1 : "(absent)";
}

static void report_sample(struct Verify *v, struct Target *t, struct Sample *s)
{
	FILE *out = v->opts->out;
	const struct EventDef *def = t->def;
	char jerr[256];

	if (s->kind == SAMPLE_MISSING) {
		fputs("  missing ", out);
		put_key(out, s->key, s->key_len);
		if (s->deleted)
			fprintf(out, ": the latest event is a delete (partition %" PRId32 ", offset %" PRId64 ")",
				s->partition, s->offset);
		else
			fputs(": no event", out);
		fprintf(out, "; the row's event: %s\n", s->row_json ? s->row_json : "?");
		return;
	}
	rd_kafka_message_t *msg = fetch_record(v, def->topic, s->partition, s->offset);
	if (s->kind == SAMPLE_EXTRA) {
		fputs("  extra ", out);
		if (msg && msg->key)
			put_key(out, msg->key, msg->key_len);
		else
			fputs("?", out);
		fprintf(out, ": no row; the event (partition %" PRId32 ", offset %" PRId64 "): ",
			s->partition, s->offset);
		sb_reset(&v->sb);
		if (msg && decode_record(v, def, msg) &&
		    enc_json(def, v->values, &v->sb, jerr, sizeof(jerr)) == 0 && sb_ok(&v->sb))
			fprintf(out, "%.*s\n", (int)v->sb.len, v->sb.data);
		else
			fputs(msg ? "(does not match the event's schema)\n" : "(could not be read again)\n",
			      out);
	} else {
		fputs("  different ", out);
		put_key(out, s->key, s->key_len);
		fprintf(out, " (partition %" PRId32 ", offset %" PRId64 "):", s->partition, s->offset);
		if (!msg || !decode_record(v, def, msg)) {
			fputs(msg ? " the event does not match the event's schema\n"
				  : " the event could not be read again\n",
			      out);
		} else {
			bool any = false;
			for (size_t i = 0; i < def->nfields; i++) {
				char *mine = field_json(v, def, i, v->values);
				if (strcmp(mine, s->fields[i]) != 0) {
					fprintf(out, "%s %s: table %s, event %s", any ? ";" : "",
						def->fields[i].name, json_value(s->fields[i]),
						json_value(mine));
					any = true;
				}
				free(mine);
			}
			/* Same values, other bytes: field order, a duplicated field, unknown bytes. */
			fputs(any ? "\n" : " same field values, other bytes\n", out);
		}
	}
	if (msg)
		rd_kafka_message_destroy(msg);
}

static bool report(struct Verify *v)
{
	FILE *out = v->opts->out;
	bool equal = true;

	for (size_t i = 0; i < v->ntargets; i++) {
		struct Target *t = &v->targets[i];
		const struct VerifyCounts *c = &t->counts;
		fprintf(out, "%s: table %s, topic %s, at LSN %s\n", t->label, t->def->table,
			t->def->topic, v->xtext);
		fprintf(out,
			"  equal %" PRIu64 ", missing %" PRIu64 ", extra %" PRIu64 ", different %" PRIu64
			" (keys); %" PRIu64 " deleted as they should be\n",
			c->equal, c->missing, c->extra, c->different, c->deleted);
		if (c->untranslatable)
			fprintf(out, "  %" PRIu64 " rows cannot become the event, the first: %s\n",
				c->untranslatable, t->first_error);
		if (c->table_duplicates)
			fprintf(out, "  %" PRIu64 " rows have the key of another row: the key expression is not unique\n",
				c->table_duplicates);
		for (size_t s = 0; s < t->nsample_total; s++)
			report_sample(v, t, &t->samples[s]);
		if (c->missing || c->extra || c->different || c->untranslatable || c->table_duplicates)
			equal = false;
	}
	if (v->foreign)
		log_info("verify: %" PRIu64 " records of other event types on these topics were not compared",
			 v->foreign);
	fprintf(out, "%s\n", equal ? "verify: equal" : "verify: differences found");
	fflush(out);
	return equal;
}

static void verify_free(struct Verify *v)
{
	for (size_t i = 0; i < v->ntargets; i++) {
		struct Target *t = &v->targets[i];
		map_free(&t->map);
		for (size_t d = 0; d < t->ndelete_types; d++)
			free(t->delete_types[d]);
		free(t->delete_types);
		for (size_t s = 0; s < t->nsample_total; s++) {
			struct Sample *sm = &t->samples[s];
			free(sm->key);
			free(sm->row_json);
			for (size_t f = 0; sm->fields && f < t->def->nfields; f++)
				free(sm->fields[f]);
			free(sm->fields);
		}
		free(t->samples);
		free(t->truncates);
	}
	free(v->targets);
	for (size_t i = 0; i < v->ntables; i++)
		rd_free(&v->tables[i]);
	free(v->tables);
	if (v->conn)
		PQfinish(v->conn);
	if (v->rk)
		rd_kafka_destroy(v->rk);
	free(v->parts);
	free(v->events);
	free(v->values);
	arena_free(v->arena);
	sb_free(&v->sb);
}

int verify_run(const struct VerifyOptions *opts, char *err, size_t errlen)
{
	struct Verify v = {.opts = opts, .tty = isatty(STDERR_FILENO)};
	int rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "verify: libsodium did not initialise");
		return -1;
	}
	if ((rc = pick_targets(&v, err, errlen)) < 0)
		goto done;
	size_t widest = 1;
	for (size_t i = 0; i < v.ntargets; i++)
		if (v.targets[i].def->nfields > widest)
			widest = v.targets[i].def->nfields;
	v.values = calloc(widest, sizeof(struct Value));
	v.arena = arena_new();
	if (!v.values || !v.arena)
		abort();
	if ((v.rk = consumer_new(opts->cfg, err, errlen)) == NULL) {
		rc = -1;
		goto done;
	}
	rc = -1;
	if (take_snapshot(&v, err, errlen) < 0 || load_tables(&v, err, errlen) < 0)
		goto done;
	log_info("verify: the table as of LSN %s", v.xtext);
	if (wait_confirmed(&v, err, errlen) < 0 || plan_partitions(&v, err, errlen) < 0 ||
	    read_topics(&v, err, errlen) < 0 || scan_tables(&v, err, errlen) < 0)
		goto done;
	/* The snapshot is no longer needed: end it before fetching samples. */
	PQfinish(v.conn);
	v.conn = NULL;
	count_leftovers(&v);
	rc = report(&v) ? 1 : 0;
done:
	verify_free(&v);
	return rc;
}
