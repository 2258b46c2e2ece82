/* Kafka sink: events to Kafka with librdkafka, acknowledged into the checkpoint ring. */
#include "autoconf.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/random.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_sink.h"
#include "log.h"
#include "histogram.h"
#include "mono.h"
#include "strbuf.h"

struct KafkaSink {
	rd_kafka_t *rk;
	rd_kafka_queue_t *main_queue;
	Checkpoint *ckpt;
	int event_pipe[2]; /* librdkafka writes a byte to [1] when the main queue has events */
	size_t outstanding;
	bool failed;
	char error[512];
	struct StrBuf scratch; /* ce_time text */
	int64_t scratch_time_us; /* the time scratch holds */
	struct Histogram latency; /* PostgreSQL commit to Kafka acknowledgement */
	/*
	 * Topic handles by name: producing by handle spares librdkafka a lookup
	 * of the name under its global lock for every record. Few topics, so a
	 * short array; the handles live as long as the producer.
	 */
	struct TopicHandle {
		char *name;
		rd_kafka_topic_t *rkt;
	} *topics;
	size_t ntopics;
	/*
	 * When the delivery reports being served arrived. rd_kafka_poll waits
	 * for the first report, then serves every one waiting at that moment:
	 * inside ksink_poll they share one reading of the clocks, taken at the
	 * first report (two clock reads per report cost more than the rest of
	 * the callback). Elsewhere (flush, a transaction's commit) each report
	 * reads the clocks itself.
	 */
	bool serving; /* inside ksink_poll's rd_kafka_poll */
	bool stamped; /* ack_mono_ms and ack_real_us hold this poll's reading */
	int64_t ack_mono_ms;
	int64_t ack_real_us;

	/* Outages: when the brokers went away, and whether anything still arrives. */
	int64_t busy_since_ms; /* when the queue last went from empty to not empty */
	int64_t last_ack_ms; /* the latest successful delivery report */
	bool down; /* librdkafka reported all brokers down; no delivery since */
	int64_t down_since_ms;
	int64_t next_probe_ms; /* down and nothing queued: when to ask for metadata */

	/* Exactly-once mode */
	const struct Config *cfg;
	bool transactional;
	/*
	 * A Kafka transaction ends through calls that block until the
	 * coordinator answers, and the loop must not block while a broker is
	 * away (the walsender would be held). So the end is a state: it is
	 * started, then advanced in short steps (librdkafka resumes a commit or
	 * abort that timed out), and nothing new is produced until it is over.
	 */
	enum { TXN_NONE, TXN_OPEN, TXN_COMMITTING, TXN_ABORTING } txn_state;
	int64_t txn_ending_since_ms; /* when the commit or abort started */
	uint64_t txn_committed_lsn; /* end LSN of the latest Kafka transaction committed here */
	int64_t txn_started_ms;
	bool txn_has_seq;
	uint64_t txn_first_seq, txn_last_seq; /* PostgreSQL transactions in the batch */
	uint64_t txn_end_lsn;
	uint64_t txn_counter;
	uint64_t txn_instance; /* random, per process: see txn_begin */
	char txn_id[128]; /* tablecast_txn header: which Kafka transaction a record belongs to */

	/* Records for every partition (TRUNCATE events) */
	struct TopicPartitions {
		char *topic;
		int32_t count;
		int64_t fetched_ms;
	} *partitions; /* per topic that such an event went to */
	size_t npartitions;
	int32_t next_partition; /* of the event being produced: where a retry goes on */
};

/* How long one step of a Kafka transaction's commit or abort may block the loop. */
#define TXN_STEP_MS 20

/*
 * Defaults for a trustworthy stream; any of them can be overridden with
 * sink.kafka properties, which are passed to librdkafka verbatim.
 */
static const char *const defaults[][2] = {
	{"enable.idempotence", "true"}, /* acks=all, no duplicates or reordering on retry */
	{"compression.type", "lz4"},
	/*
	 * Latency against batching: 2 ms keeps commit-to-ack p99 well under
	 * 10 ms at a steady 5k events/s and still fills batches in bulk reads.
	 */
	{"linger.ms", "2"},
	{"partitioner", "murmur2_random"}, /* the Java client's: same key, same partition */
	/* Never give up on a message: an outage means backpressure, not a gap. */
	{"message.timeout.ms", "0"},
	/*
	 * Bounded memory: the queue fills, WAL reading pauses. A queued event
	 * costs about 1 kB with its CloudEvents headers; 20000 of them are
	 * still over 80 ms of the fastest drain, enough to keep batches full.
	 */
	{"queue.buffering.max.kbytes", "32768"},
	{"queue.buffering.max.messages", "20000"},
	/*
	 * librdkafka's reconnect back-off grows to 10 s by default, so a broker
	 * that returns after a long outage waited up to 10 s for a new attempt.
	 * Capped at 1 s, publishing resumes within about a second of its return;
	 * the attempts stay cheap (one TCP connect per broker per second).
	 */
	{"reconnect.backoff.ms", "100"},
	{"reconnect.backoff.max.ms", "1000"},
};

/* Commit to acknowledgement of one event of transaction seq (not for snapshot chunks). */
static void record_latency(KafkaSink *sink, uint64_t seq)
{
	int64_t committed = ckpt_commit_time(sink->ckpt, seq);
	if (!committed)
		return;
	hist_add(&sink->latency, sink->ack_real_us - committed);
}

/* The time of the delivery report being served (see serving). */
static void stamp_ack(KafkaSink *sink)
{
	if (sink->serving && sink->stamped)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sink->ack_real_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	sink->ack_mono_ms = mono_ms();
	sink->stamped = sink->serving;
}

/* The brokers answer again: say so once, with how long they were away. */
static void brokers_back(KafkaSink *sink, int64_t now)
{
	if (!sink->down)
		return;
	sink->down = false;
	log_info("kafka: brokers reachable again after %.1f s down; %zu events waiting for acknowledgement",
		 (double)(now - sink->down_since_ms) / 1000.0, sink->outstanding);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	KafkaSink *sink = opaque;
	(void)rk;

	sink->outstanding--;
	stamp_ack(sink);
	if (!msg->err) {
		sink->last_ack_ms = sink->ack_mono_ms;
		brokers_back(sink, sink->last_ack_ms);
	}
	/* Messages of an aborted transaction are purged: they come again, nothing is lost. */
	if (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;
	if (msg->err) {
		if (!sink->failed) {
			sink->failed = true;
			snprintf(sink->error, sizeof(sink->error),
				 "kafka: delivery to topic %s failed: %s", rd_kafka_topic_name(msg->rkt),
				 rd_kafka_err2str(msg->err));
		}
		return;
	}
	/* In a Kafka transaction an event counts only once the transaction commits. */
	if (!sink->transactional && msg->_private != NULL) {
		uint64_t seq = (uint64_t)(uintptr_t)msg->_private - 1;
		record_latency(sink, seq);
		ckpt_ack(sink->ckpt, seq);
	}
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	KafkaSink *sink = opaque;
	char fatal[400];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		sink->failed = true;
		snprintf(sink->error, sizeof(sink->error), "kafka: fatal producer error: %s", fatal);
		return;
	}
	/*
	 * Transient: librdkafka keeps retrying. An outage is logged once when it
	 * begins and once when it ends (brokers_back), not at every attempt.
	 */
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !sink->down) {
		sink->down = true;
		sink->down_since_ms = mono_ms();
		log_warning("kafka: all brokers are down (%s); %zu events in flight are kept and sent when a broker returns",
			    reason, sink->outstanding);
		return;
	}
	if (sink->down)
		log_debug("kafka: %s", reason);
	else
		log_warning("kafka: %s", reason);
}

/* librdkafka's own log lines are for debugging: what matters reaches on_error once. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	log_debug("kafka: %s: %s", fac, buf);
}

int ksink_apply_properties(rd_kafka_conf_t *conf, const struct Config *cfg, bool skip_unknown,
			   char *err, size_t errlen)
{
	char errstr[512], key[256];

	for (size_t i = 0; i < cfg->sink.nkafka; i++) {
		const char *kv = cfg->sink.kafka[i];
		const char *eq = strchr(kv, '='); /* the configuration checked there is one */
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK &&
		    !skip_unknown) {
			snprintf(err, errlen, "sink.kafka \"%s\": %s", key, errstr);
			return -1;
		}
	}
	return 0;
}

KafkaSink *ksink_new(const struct Config *cfg, Checkpoint *ckpt, char *err, size_t errlen)
{
	KafkaSink *sink = calloc(1, sizeof(*sink));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];

	if (!sink || !conf) {
		snprintf(err, errlen, "out of memory");
		free(sink);
		if (conf)
			rd_kafka_conf_destroy(conf);
		return NULL;
	}
	sink->ckpt = ckpt;
	sink->cfg = cfg;
	sink->transactional = cfg->sink.exactly_once;
	sink->event_pipe[0] = sink->event_pipe[1] = -1;
	if (getrandom(&sink->txn_instance, sizeof(sink->txn_instance), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(sink->txn_instance)) {
		/* No entropy yet (early boot): time and pid still differ between processes. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sink->txn_instance = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
				     ((uint64_t)getpid() << 20);
	}

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, sizeof(errstr));
	if (sink->transactional) {
		/* One producer identity per slot: a restarted tablecast fences its predecessor. */
		char tid[256];
		snprintf(tid, sizeof(tid), "tablecast-%s", cfg->source.slot);
		rd_kafka_conf_set(conf, "transactional.id", tid, errstr, sizeof(errstr));
	}
	if (ksink_apply_properties(conf, cfg, false, err, errlen) < 0)
		goto fail;
	rd_kafka_conf_set_opaque(conf, sink);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);

	sink->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!sink->rk) {
		snprintf(err, errlen, "kafka: %s", errstr);
		goto fail;
	}
	conf = NULL; /* owned by rk now */

	/* Delivery reports wake the poll loop through a pipe: no busy waiting. */
	if (pipe2(sink->event_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: out of file descriptors");
		goto fail;
	}
	sink->main_queue = rd_kafka_queue_get_main(sink->rk);
	rd_kafka_queue_io_event_enable(sink->main_queue, sink->event_pipe[1], "1", 1);
	if (sink->transactional) {
		rd_kafka_error_t *error = rd_kafka_init_transactions(sink->rk, 60000);
		if (error) {
			snprintf(err, errlen, "kafka: initialising transactions: %s",
				 rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			goto fail;
		}
	}
	return sink;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	ksink_free(sink);
	return NULL;
}

void ksink_free(KafkaSink *sink)
{
	if (!sink)
		return;
	if (sink->main_queue) {
		rd_kafka_queue_io_event_enable(sink->main_queue, -1, NULL, 0);
		rd_kafka_queue_destroy(sink->main_queue);
	}
	/* Before the producer: it waits for every handle of its topics to go. */
	for (size_t i = 0; i < sink->ntopics; i++) {
		rd_kafka_topic_destroy(sink->topics[i].rkt);
		free(sink->topics[i].name);
	}
	free(sink->topics);
	if (sink->rk)
		rd_kafka_destroy(sink->rk);
	if (sink->event_pipe[0] >= 0)
		close(sink->event_pipe[0]);
	if (sink->event_pipe[1] >= 0)
		close(sink->event_pipe[1]);
	sb_free(&sink->scratch);
	for (size_t i = 0; i < sink->npartitions; i++)
		free(sink->partitions[i].topic);
	free(sink->partitions);
	free(sink);
}

/* name is a string literal: its length is known here, so librdkafka need not measure it. */
#define add_header(h, name, value) add_header_n(h, name, sizeof(name) - 1, value)

static void add_header_n(rd_kafka_headers_t *h, const char *name, size_t name_len,
			 const char *value)
{
	if (value && value[0])
		rd_kafka_header_add(h, name, (ssize_t)name_len, value, (ssize_t)strlen(value));
}

/* The handle of topic, made at its first record; NULL when librdkafka refuses the name. */
static rd_kafka_topic_t *topic_handle(KafkaSink *sink, const char *topic)
{
	for (size_t i = 0; i < sink->ntopics; i++)
		if (strcmp(sink->topics[i].name, topic) == 0)
			return sink->topics[i].rkt;
	struct TopicHandle *grown = realloc(sink->topics, (sink->ntopics + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	sink->topics = grown;
	char *name = strdup(topic);
	rd_kafka_topic_t *rkt = name ? rd_kafka_topic_new(sink->rk, topic, NULL) : NULL;
	if (!rkt) {
		free(name);
		return NULL;
	}
	sink->topics[sink->ntopics++] = (struct TopicHandle){.name = name, .rkt = rkt};
	return rkt;
}

/*
 * The partition count of topic, from metadata at most a minute old (so a
 * topic that grew is noticed), or -1 while it cannot be had. Asks the broker
 * only for TRUNCATE events, which are rare: blocking up to 5 s is fine.
 */
static int32_t partition_count(KafkaSink *sink, const char *topic)
{
	struct TopicPartitions *tp = NULL;
	for (size_t i = 0; i < sink->npartitions && !tp; i++)
		if (strcmp(sink->partitions[i].topic, topic) == 0)
			tp = &sink->partitions[i];
	int64_t now = mono_ms();
	if (tp && now - tp->fetched_ms < 60000)
		return tp->count;

	int32_t count = -1;
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(sink->rk, topic, NULL);
	if (rkt && rd_kafka_metadata(sink->rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && !md->topics[0].err)
			count = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (count <= 0)
		return tp ? tp->count : -1; /* the last known count beats none */
	if (!tp) {
		struct TopicPartitions *grown =
			realloc(sink->partitions, (sink->npartitions + 1) * sizeof(*grown));
		char *name = strdup(topic);
		if (!grown || !name) {
			free(name);
			if (grown)
				sink->partitions = grown;
			return count; /* not cached: asked again next time */
		}
		sink->partitions = grown;
		tp = &sink->partitions[sink->npartitions++];
		tp->topic = name;
	}
	tp->count = count;
	tp->fetched_ms = now;
	return count;
}

/*
 * Advance the commit or abort under way (ksink_txn_step); a failure fails
 * the sink, as a failed delivery does. 0 over, 1 under way, -1 failed.
 */
static int txn_advance(KafkaSink *sink, int timeout_ms)
{
	char err[512];
	int rc = ksink_txn_step(sink, timeout_ms, err, sizeof(err));
	if (rc < 0 && !sink->failed) {
		sink->failed = true;
		snprintf(sink->error, sizeof(sink->error), "%s", err);
	}
	return rc;
}

/* Open a Kafka transaction for the next batch, if none is open: 1 while the last one still ends. */
static int txn_begin(KafkaSink *sink)
{
	if (sink->txn_state == TXN_OPEN)
		return 0;
	if (sink->txn_state != TXN_NONE) {
		int rc = txn_advance(sink, TXN_STEP_MS);
		if (rc != 0)
			return rc;
	}
	rd_kafka_error_t *error = rd_kafka_begin_transaction(sink->rk);
	if (error) {
		sink->failed = true;
		snprintf(sink->error, sizeof(sink->error), "kafka: beginning a transaction: %s",
			 rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return -1;
	}
	sink->txn_state = TXN_OPEN;
	sink->txn_has_seq = false;
	sink->txn_started_ms = mono_ms();
	/*
	 * Readers that emulate read_committed through this header accept a
	 * record when an offsets record names its transaction, so an id must
	 * never name two transactions: a killed producer's unfinished one must
	 * not be confused with a committed one of its successor, even one
	 * started in the same second. The slot, a random number drawn once per
	 * process and a counter make it unique.
	 */
	snprintf(sink->txn_id, sizeof(sink->txn_id), "%s-%016" PRIx64 "-%" PRIu64,
		 sink->cfg->source.slot, sink->txn_instance, ++sink->txn_counter);
	return 0;
}

enum ksink_status ksink_produce(KafkaSink *sink, const struct Event *ev, uint64_t seq)
{
	if (sink->failed)
		return KSINK_FAILED;
	if (sink->transactional) {
		int rc = txn_begin(sink);
		if (rc < 0)
			return KSINK_FAILED;
		if (rc > 0)
			return KSINK_FULL; /* the previous batch is still being committed */
	}

	/*
	 * CloudEvents Kafka protocol binding: attributes as ce_ headers, which
	 * binary mode requires and structured mode allows ("MAY include the
	 * same Kafka headers"); content-type tells the modes apart.
	 */
	rd_kafka_topic_t *rkt = topic_handle(sink, ev->topic);
	if (!rkt) {
		sink->failed = true;
		snprintf(sink->error, sizeof(sink->error), "kafka: producing to topic %s: %s",
			 ev->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return KSINK_FAILED;
	}
	/* Room for every header below: a list that has to grow costs a reallocation per record. */
	rd_kafka_headers_t *h = rd_kafka_headers_new(10 + ev->nheaders);
	/* The events of one transaction share their time: format it once. */
	if (!sink->scratch.len || ev->ce.time_us != sink->scratch_time_us) {
		sb_reset(&sink->scratch);
		sb_timestamp(&sink->scratch, ev->ce.time_us - PGO_EPOCH_OFFSET_US);
		sink->scratch_time_us = ev->ce.time_us;
	}
	add_header(h, "ce_specversion", "1.0");
	add_header(h, "ce_id", ev->ce.id);
	add_header(h, "ce_source", ev->ce.source);
	add_header(h, "ce_type", ev->ce.type);
	add_header(h, "ce_time", sink->scratch.data);
	add_header(h, "ce_subject", ev->ce.subject);
	add_header(h, "ce_dataschema", ev->ce.dataschema);
	add_header(h, "ce_tablecastsnapshot", ev->ce.snapshot);
	add_header(h, "content-type", ev->content_type ? ev->content_type : "application/protobuf");
	if (sink->transactional)
		add_header(h, "tablecast_txn", sink->txn_id);
	/* An outbox record's own headers; names were checked not to clash with the ones above. */
	for (size_t i = 0; i < ev->nheaders; i++)
		rd_kafka_header_add(h, ev->headers[2 * i], -1, ev->headers[2 * i + 1], -1);

	/*
	 * Usually one record, partitioned by key. An all-partitions event is one
	 * record per partition, produced in partition order; when the queue
	 * fills part-way, the retry of the same event goes on from
	 * next_partition, so no partition gets it twice.
	 */
	int32_t partition = RD_KAFKA_PARTITION_UA, last = RD_KAFKA_PARTITION_UA;
	if (ev->all_partitions) {
		int32_t count = partition_count(sink, ev->topic);
		if (count < 0) {
			rd_kafka_headers_destroy(h);
			return KSINK_FULL; /* no metadata yet: retried like a full queue */
		}
		partition = sink->next_partition < count ? sink->next_partition : 0;
		last = count - 1;
	}
	rd_kafka_resp_err_t err;
	for (;;) {
		rd_kafka_headers_t *hp = partition < last ? rd_kafka_headers_copy(h) : h;
		err = rd_kafka_producev(
			sink->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_VALUE((void *)ev->payload, ev->payload_len),
			RD_KAFKA_V_KEY((void *)ev->key, ev->key ? ev->key_len : 0),
			RD_KAFKA_V_TIMESTAMP(ev->ce.time_us / 1000), RD_KAFKA_V_HEADERS(hp),
			RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(seq + 1)), RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (hp != h)
				rd_kafka_headers_destroy(hp);
			break;
		}
		/* The headers now belong to the message. */
		if (sink->outstanding++ == 0)
			sink->busy_since_ms = mono_ms();
		ckpt_add_events(sink->ckpt, seq, 1);
		if (partition >= last) {
			sink->next_partition = 0;
			return KSINK_OK;
		}
		partition++;
	}
	rd_kafka_headers_destroy(h);
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		sink->next_partition = ev->all_partitions ? partition : 0;
		return KSINK_FULL;
	}
	sink->next_partition = 0;
	sink->failed = true;
	snprintf(sink->error, sizeof(sink->error), "kafka: producing to topic %s: %s", ev->topic,
		 rd_kafka_err2str(err));
	return KSINK_FAILED;
}

int ksink_fd(const KafkaSink *sink)
{
	return sink->event_pipe[0];
}

void ksink_poll(KafkaSink *sink, int timeout_ms)
{
	char drain[64];
	while (read(sink->event_pipe[0], drain, sizeof(drain)) > 0)
		;
	/* The commit call serves delivery reports itself, as rd_kafka_flush does. */
	if (ksink_txn_ending(sink))
		(void)txn_advance(sink, timeout_ms < TXN_STEP_MS ? TXN_STEP_MS : timeout_ms);
	sink->serving = true;
	sink->stamped = false;
	rd_kafka_poll(sink->rk, ksink_txn_ending(sink) ? 0 : timeout_ms);
	sink->serving = false;
	/* Down with nothing to deliver: no delivery report will say they are back, so ask. */
	int64_t now = mono_ms();
	if (sink->down && sink->outstanding == 0 && now >= sink->next_probe_ms) {
		sink->next_probe_ms = now + 1000;
		if (ksink_reachable(sink))
			brokers_back(sink, now);
	}
}

int64_t ksink_stalled_ms(const KafkaSink *sink, int64_t now_ms)
{
	int64_t stalled = 0;
	if (sink->outstanding > 0) {
		int64_t since = sink->last_ack_ms > sink->busy_since_ms ? sink->last_ack_ms
									: sink->busy_since_ms;
		stalled = now_ms - since;
	}
	/* Every record delivered, but the coordinator does not answer the commit. */
	if (ksink_txn_ending(sink) && now_ms - sink->txn_ending_since_ms > stalled)
		stalled = now_ms - sink->txn_ending_since_ms;
	return stalled;
}

int64_t ksink_last_ack_ms(const KafkaSink *sink)
{
	return sink->last_ack_ms;
}

bool ksink_failed(const KafkaSink *sink, char *err, size_t errlen)
{
	if (sink->failed)
		snprintf(err, errlen, "%s", sink->error);
	return sink->failed;
}

bool ksink_reachable(KafkaSink *sink)
{
	const struct rd_kafka_metadata *md;
	if (rd_kafka_metadata(sink->rk, 0, NULL, &md, 100) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	rd_kafka_metadata_destroy(md);
	return true;
}

size_t ksink_outstanding(const KafkaSink *sink)
{
	return sink->outstanding;
}

int ksink_flush(KafkaSink *sink, int timeout_ms)
{
	rd_kafka_flush(sink->rk, timeout_ms);
	return sink->outstanding == 0 ? 0 : -1;
}

bool ksink_transactional(const KafkaSink *sink)
{
	return sink->transactional;
}

void ksink_txn_add(KafkaSink *sink, uint64_t seq, uint64_t end_lsn)
{
	if (sink->txn_state != TXN_OPEN)
		return; /* a transaction without events: nothing to commit for it */
	if (!sink->txn_has_seq)
		sink->txn_first_seq = seq;
	sink->txn_has_seq = true;
	sink->txn_last_seq = seq;
	sink->txn_end_lsn = end_lsn;
}

bool ksink_txn_due(const KafkaSink *sink, int64_t now_ms)
{
	return sink->txn_state == TXN_OPEN && sink->txn_has_seq &&
	       now_ms - sink->txn_started_ms >= sink->cfg->sink.transaction_ms;
}

bool ksink_txn_ending(const KafkaSink *sink)
{
	return sink->txn_state == TXN_COMMITTING || sink->txn_state == TXN_ABORTING;
}

uint64_t ksink_txn_committed_lsn(const KafkaSink *sink)
{
	return sink->txn_committed_lsn;
}

static void txn_ending(KafkaSink *sink, int state)
{
	sink->txn_state = state;
	sink->txn_ending_since_ms = mono_ms();
}

int ksink_txn_step(KafkaSink *sink, int timeout_ms, char *err, size_t errlen)
{
	rd_kafka_error_t *error;

	if (sink->txn_state == TXN_COMMITTING) {
		error = rd_kafka_commit_transaction(sink->rk, timeout_ms);
		if (!error) {
			/* Committed: every event of these PostgreSQL transactions is in Kafka. */
			stamp_ack(sink);
			for (uint64_t seq = sink->txn_first_seq; seq <= sink->txn_last_seq; seq++) {
				record_latency(sink, seq); /* one sample per PostgreSQL transaction */
				ckpt_ack_all(sink->ckpt, seq);
			}
			if (sink->txn_end_lsn > sink->txn_committed_lsn)
				sink->txn_committed_lsn = sink->txn_end_lsn;
			sink->txn_state = TXN_NONE;
			sink->txn_has_seq = false;
			return 0;
		}
		if (rd_kafka_error_is_retriable(error)) {
			rd_kafka_error_destroy(error); /* a timeout: the commit goes on in the background */
			return 1;
		}
		snprintf(err, errlen, "kafka: committing a transaction: %s",
			 rd_kafka_error_string(error));
		bool abort = rd_kafka_error_txn_requires_abort(error);
		rd_kafka_error_destroy(error);
		if (abort) {
			/* Its events come again from the server after the restart this causes. */
			txn_ending(sink, TXN_ABORTING);
			sink->txn_has_seq = false;
		}
		return -1;
	}
	if (sink->txn_state == TXN_ABORTING) {
		error = rd_kafka_abort_transaction(sink->rk, timeout_ms);
		if (!error) {
			sink->txn_state = TXN_NONE;
			return 0;
		}
		if (rd_kafka_error_is_retriable(error)) {
			rd_kafka_error_destroy(error);
			return 1;
		}
		snprintf(err, errlen, "kafka: aborting a transaction: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		sink->failed = true;
		snprintf(sink->error, sizeof(sink->error), "%s", err);
		return -1;
	}
	return 0;
}

int ksink_txn_commit(KafkaSink *sink, char *err, size_t errlen)
{
	char value[192], lsn[PGO_LSN_BUFSIZE];
	const char *slot = sink->cfg->source.slot;

	if (sink->txn_state != TXN_OPEN || !sink->txn_has_seq)
		return ksink_txn_step(sink, TXN_STEP_MS, err, errlen);
	/* The offsets record commits with the events: "<end LSN> <transaction id>". */
	int n = snprintf(value, sizeof(value), "%s %s", pgo_lsn_format(sink->txn_end_lsn, lsn),
			 sink->txn_id);
	rd_kafka_resp_err_t perr = rd_kafka_producev(
		sink->rk, RD_KAFKA_V_TOPIC(sink->cfg->sink.offsets_topic),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)slot, strlen(slot)),
		RD_KAFKA_V_VALUE(value, (size_t)n), RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
	if (perr) {
		snprintf(err, errlen, "kafka: writing the offsets record: %s", rd_kafka_err2str(perr));
		return -1;
	}
	if (sink->outstanding++ == 0)
		sink->busy_since_ms = mono_ms();
	txn_ending(sink, TXN_COMMITTING);
	return ksink_txn_step(sink, TXN_STEP_MS, err, errlen);
}

void ksink_txn_abort(KafkaSink *sink)
{
	char err[512];

	if (sink->txn_state != TXN_OPEN)
		return; /* none open, or already ending: a commit under way is let finish */
	txn_ending(sink, TXN_ABORTING);
	sink->txn_has_seq = false;
	if (ksink_txn_step(sink, TXN_STEP_MS, err, sizeof(err)) < 0)
		log_warning("%s", err);
}

int ksink_txn_finish(KafkaSink *sink, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int rc = ksink_txn_commit(sink, err, errlen);

	while (rc > 0 && mono_ms() < deadline)
		rc = ksink_txn_step(sink, TXN_STEP_MS, err, errlen);
	if (rc > 0)
		snprintf(err, errlen, "kafka: the transaction did not %s within %d ms",
			 sink->txn_state == TXN_COMMITTING ? "commit" : "abort", timeout_ms);
	return rc;
}

int ksink_committed_lsn(const struct Config *cfg, uint64_t *lsn, char *err, size_t errlen)
{
	char errstr[512];
	const char *topic = cfg->sink.offsets_topic;
	const char *slot = cfg->source.slot;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int rc = -1;

	*lsn = 0;
	if (ksink_apply_properties(conf, cfg, true, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "group.id", "tablecast-offsets", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		snprintf(err, errlen, "kafka: %s", errstr);
		return -1;
	}

	/* Every partition of the offsets topic, read from the start to its end. */
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t kerr = rd_kafka_metadata(rk, 0, rkt, &md, 30000);
	if (kerr || md->topic_cnt != 1 || md->topics[0].err) {
		rd_kafka_resp_err_t terr = kerr ? kerr : md->topics[0].err;
		if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
			rc = 0; /* a first start: nothing committed yet */
		} else {
			snprintf(err, errlen, "kafka: offsets topic %s: %s", topic, rd_kafka_err2str(terr));
		}
		goto out;
	}
	int nparts = md->topics[0].partition_cnt;
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
	int remaining = 0;
	for (int i = 0; i < nparts; i++) {
		int64_t low, high;
		int32_t id = md->topics[0].partitions[i].id;
		if (rd_kafka_query_watermark_offsets(rk, topic, id, &low, &high, 30000) == 0 &&
		    high > low) {
			rd_kafka_topic_partition_list_add(parts, topic, id)->offset = low;
			remaining++;
		}
	}
	if (remaining > 0)
		rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);

	int64_t deadline = mono_ms() + 60000;
	while (remaining > 0 && mono_ms() < deadline) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 500);
		if (!msg)
			continue;
		if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			remaining--;
		} else if (!msg->err && msg->key_len == strlen(slot) &&
			   memcmp(msg->key, slot, msg->key_len) == 0) {
			char text[64];
			uint64_t v;
			size_t n = msg->len < sizeof(text) ? msg->len : sizeof(text) - 1;
			memcpy(text, msg->payload, n);
			text[n] = '\0';
			text[strcspn(text, " ")] = '\0';
			if (pgo_lsn_parse(text, &v) && v > *lsn)
				*lsn = v;
		}
		rd_kafka_message_destroy(msg);
	}
	if (remaining > 0)
		snprintf(err, errlen, "kafka: offsets topic %s: not read to its end within 60 s", topic);
	else
		rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

const struct Histogram *ksink_latency(const KafkaSink *sink)
{
	return &sink->latency;
}
