/* Kafka sink: events to Kafka with librdkafka, acknowledged into the checkpoint ring. */
#include "autoconf.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_sink.h"
#include "log.h"
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
};

/*
 * Defaults for a trustworthy stream; any of them can be overridden with
 * sink.kafka properties, which are passed to librdkafka verbatim.
 */
static const char *const defaults[][2] = {
	{"enable.idempotence", "true"}, /* acks=all, no duplicates or reordering on retry */
	{"compression.type", "lz4"},
	{"linger.ms", "5"},
	{"partitioner", "murmur2_random"}, /* the Java client's: same key, same partition */
	/* Never give up on a message: an outage means backpressure, not a gap. */
	{"message.timeout.ms", "0"},
	/* Bounded memory: the queue fills, WAL reading pauses. */
	{"queue.buffering.max.kbytes", "65536"},
	{"queue.buffering.max.messages", "100000"},
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	KafkaSink *sink = opaque;
	(void)rk;

	sink->outstanding--;
	if (msg->err) {
		if (!sink->failed) {
			sink->failed = true;
			snprintf(sink->error, sizeof(sink->error),
				 "kafka: delivery to topic %s failed: %s", rd_kafka_topic_name(msg->rkt),
				 rd_kafka_err2str(msg->err));
		}
		return;
	}
	ckpt_ack(sink->ckpt, (uint64_t)(uintptr_t)msg->_private);
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
	/* Transient (broker down, all brokers down): librdkafka keeps retrying. */
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
	sink->event_pipe[0] = sink->event_pipe[1] = -1;

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, sizeof(errstr));
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
	if (sink->rk)
		rd_kafka_destroy(sink->rk);
	if (sink->event_pipe[0] >= 0)
		close(sink->event_pipe[0]);
	if (sink->event_pipe[1] >= 0)
		close(sink->event_pipe[1]);
	sb_free(&sink->scratch);
	free(sink);
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
	if (value && value[0])
		rd_kafka_header_add(h, name, -1, value, -1);
}

enum ksink_status ksink_produce(KafkaSink *sink, const struct Event *ev, uint64_t seq)
{
	if (sink->failed)
		return KSINK_FAILED;

	/* CloudEvents Kafka protocol binding, binary mode: attributes as ce_ headers. */
	rd_kafka_headers_t *h = rd_kafka_headers_new(8);
	sb_reset(&sink->scratch);
	sb_timestamp(&sink->scratch, ev->ce.time_us - PGO_EPOCH_OFFSET_US);
	add_header(h, "ce_specversion", "1.0");
	add_header(h, "ce_id", ev->ce.id);
	add_header(h, "ce_source", ev->ce.source);
	add_header(h, "ce_type", ev->ce.type);
	add_header(h, "ce_time", sink->scratch.data);
	add_header(h, "ce_subject", ev->ce.subject);
	add_header(h, "ce_dataschema", ev->ce.dataschema);
	add_header(h, "content-type",
		   ev->def ? ev->ce.datacontenttype : "application/protobuf");

	rd_kafka_resp_err_t err = rd_kafka_producev(
		sink->rk, RD_KAFKA_V_TOPIC(ev->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_VALUE((void *)ev->payload, ev->payload_len),
		RD_KAFKA_V_KEY((void *)ev->key, ev->key ? ev->key_len : 0),
		RD_KAFKA_V_TIMESTAMP(ev->ce.time_us / 1000), RD_KAFKA_V_HEADERS(h),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* The headers now belong to the message. */
		sink->outstanding++;
		ckpt_add_events(sink->ckpt, seq, 1);
		return KSINK_OK;
	}
	rd_kafka_headers_destroy(h);
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return KSINK_FULL;
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
	rd_kafka_poll(sink->rk, timeout_ms);
}

bool ksink_failed(const KafkaSink *sink, char *err, size_t errlen)
{
	if (sink->failed)
		snprintf(err, errlen, "%s", sink->error);
	return sink->failed;
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
