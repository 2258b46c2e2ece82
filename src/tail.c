/* Tail: read events back from Kafka and print them as JSON lines, decoded with the configuration. */
#include "autoconf.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "encoder.h"
#include "kafka_sink.h"
#include "mono.h"
#include "strbuf.h"
#include "tablecast/v1/change.pb-c.h"
#include "tail.h"
#include "value.h"
#include "wire.h"

/* The record's content-type in structured mode: the payload is a CloudEvent around the event. */
#define STRUCTURED_CT "application/cloudevents+protobuf"

static void put_header_json(struct StrBuf *sb, rd_kafka_headers_t *hdrs, const char **type,
			    size_t *type_len, bool *structured)
{
	const char *name;
	const void *value;
	size_t size;
	bool first = true;

	sb_puts(sb, ",\"ce\":{");
	for (size_t i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0;
	     i++) {
		if (strncmp(name, "ce_", 3) != 0 && strcmp(name, "content-type") != 0)
			continue;
		const char *attr = strncmp(name, "ce_", 3) == 0 ? name + 3 : "datacontenttype";
		if (!first)
			sb_putc(sb, ',');
		first = false;
		sb_json_string(sb, attr, strlen(attr));
		sb_putc(sb, ':');
		sb_json_string(sb, value ? value : "", value ? size : 0);
		if (strcmp(name, "ce_type") == 0) {
			*type = value;
			*type_len = size;
		}
		if (strcmp(name, "content-type") == 0 && value)
			*structured = size == sizeof(STRUCTURED_CT) - 1 &&
				      memcmp(value, STRUCTURED_CT, size) == 0;
	}
	sb_putc(sb, '}');
}

static void put_dead_letter(struct StrBuf *sb, const uint8_t *payload, size_t len)
{
	Tablecast__V1__DeadLetter *dl = tablecast__v1__dead_letter__unpack(NULL, len, payload);
	if (!dl) {
		sb_puts(sb, ",\"error\":\"undecodable dead letter\"");
		return;
	}
	sb_printf(sb, ",\"dead_letter\":{\"event\":");
	sb_json_string(sb, dl->event, strlen(dl->event));
	sb_printf(sb, ",\"version\":%u,\"error\":", dl->version);
	sb_json_string(sb, dl->error, strlen(dl->error));
	if (dl->change) {
		sb_puts(sb, ",\"relation\":");
		sb_json_string(sb, dl->change->relation, strlen(dl->change->relation));
		sb_puts(sb, ",\"lsn\":");
		sb_json_string(sb, dl->change->lsn, strlen(dl->change->lsn));
	}
	sb_putc(sb, '}');
	tablecast__v1__dead_letter__free_unpacked(dl, NULL);
}


/* The record's content-type in structured mode: the payload is a CloudEvent around the event. */
#define STRUCTURED_CT "application/cloudevents+protobuf"
/*
 * Wait until a broker answers with the cluster's metadata: up to limit_ms,
 * or until stopped when limit_ms is 0. Returns it, or NULL with err.
 */
static const struct rd_kafka_metadata *wait_for_brokers(rd_kafka_t *rk,
							const struct TailOptions *opts,
							int limit_ms, char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + limit_ms;
	rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;

	while (!*opts->stop) {
		const struct rd_kafka_metadata *md;
		int64_t left = limit_ms ? deadline - mono_ms() : 1000;
		if (left <= 0)
			break;
		kerr = rd_kafka_metadata(rk, 1, NULL, &md, left > 1000 ? 1000 : (int)left);
		if (!kerr)
			return md;
	}
	snprintf(err, errlen, "kafka: no broker answered within %d s: %s", limit_ms / 1000,
		 rd_kafka_err2str(kerr));
	return NULL;
}

/*
 * --no-group: every partition of the topics, assigned directly, from the
 * start or the end. No group coordinator, no join, no rebalance.
 */
static int assign_partitions(rd_kafka_t *rk, const struct TailOptions *opts,
			     const rd_kafka_topic_partition_list_t *topics, char *err,
			     size_t errlen)
{
	const struct rd_kafka_metadata *md =
		wait_for_brokers(rk, opts, opts->idle_exit_ms, err, errlen);
	if (!md)
		return -1;
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
	for (int t = 0; t < topics->cnt; t++) {
		const char *name = topics->elems[t].topic;
		const struct rd_kafka_metadata_topic *mt = NULL;
		for (int i = 0; i < md->topic_cnt && !mt; i++)
			if (strcmp(md->topics[i].topic, name) == 0 && !md->topics[i].err)
				mt = &md->topics[i];
		if (!mt) {
			fprintf(stderr, "tablecast: kafka: topic %s does not exist; not read\n", name);
			continue;
		}
		for (int i = 0; i < mt->partition_cnt; i++)
			rd_kafka_topic_partition_list_add(parts, name, mt->partitions[i].id)->offset =
				opts->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
	}
	rd_kafka_metadata_destroy(md);
	rd_kafka_resp_err_t kerr = parts->cnt ? rd_kafka_assign(rk, parts) : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
	rd_kafka_topic_partition_list_destroy(parts);
	if (kerr) {
		snprintf(err, errlen, "kafka: assign: %s", rd_kafka_err2str(kerr));
		return -1;
	}
	return 0;
}

int tail_run(const struct TailOptions *opts, char *err, size_t errlen)
{
	const struct Config *cfg = opts->cfg;
	char errstr[512], group[64];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	/* The sink's settings (brokers, TLS, SASL); producer-only ones do not apply here. */
	if (ksink_apply_properties(conf, cfg, true, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	/*
	 * A group of its own: tail never moves anyone's offsets. librdkafka
	 * wants one for assign() too, which never joins it.
	 */
	snprintf(group, sizeof(group), "tablecast-tail-%ld", (long)getpid());
	rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "auto.offset.reset", opts->from_beginning ? "earliest" : "latest",
			  errstr, sizeof(errstr));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		snprintf(err, errlen, "kafka: %s", errstr);
		return -1;
	}
	rd_kafka_poll_set_consumer(rk);

	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(8);
	for (size_t i = 0; i < cfg->nevents; i++) {
		if (opts->event && strcmp(opts->event, cfg->events[i].name) != 0)
			continue;
		if (!rd_kafka_topic_partition_list_find(topics, cfg->events[i].topic,
							RD_KAFKA_PARTITION_UA))
			rd_kafka_topic_partition_list_add(topics, cfg->events[i].topic,
							  RD_KAFKA_PARTITION_UA);
	}
	if (!opts->event && cfg->sink.dead_letter_topic[0] &&
	    !rd_kafka_topic_partition_list_find(topics, cfg->sink.dead_letter_topic,
						RD_KAFKA_PARTITION_UA))
		rd_kafka_topic_partition_list_add(topics, cfg->sink.dead_letter_topic,
						  RD_KAFKA_PARTITION_UA);
	if (topics->cnt == 0) {
		snprintf(err, errlen, "no configured event is called %s", opts->event);
		rd_kafka_topic_partition_list_destroy(topics);
		rd_kafka_destroy(rk);
		return -1;
	}
	/*
	 * --idle-exit counts from the start: a broker that never answers ends
	 * the run after that long, not after the join allowance below.
	 */
	int start_rc = 0;
	if (opts->no_group) {
		start_rc = assign_partitions(rk, opts, topics, err, errlen);
	} else if (opts->idle_exit_ms) {
		const struct rd_kafka_metadata *md =
			wait_for_brokers(rk, opts, opts->idle_exit_ms, err, errlen);
		if (md)
			rd_kafka_metadata_destroy(md);
		else
			start_rc = -1;
	}
	if (start_rc == 0 && !opts->no_group) {
		rd_kafka_resp_err_t kerr = rd_kafka_subscribe(rk, topics);
		if (kerr) {
			snprintf(err, errlen, "kafka: subscribe: %s", rd_kafka_err2str(kerr));
			start_rc = -1;
		}
	}
	rd_kafka_topic_partition_list_destroy(topics);
	if (start_rc < 0) {
		/* Leaving a group the broker never saw would wait for it: skip the close. */
		rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		return *opts->stop ? 0 : -1; /* a stop request while waiting is no failure */
	}

	Arena *arena = arena_new();
	struct StrBuf line = {0};
	size_t widest = 1;
	for (size_t i = 0; i < cfg->nevents; i++)
		if (cfg->events[i].nfields > widest)
			widest = cfg->events[i].nfields;
	struct Value *values = calloc(widest, sizeof(struct Value));
	long count = 0;
	int64_t last_record_ms = mono_ms();
	int rc = 0;

	while (!*opts->stop && (opts->max_count == 0 || count < opts->max_count)) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
		/*
		 * Idle is time without a record, by the clock: errors and
		 * end-of-partition events do not count as records. Joining the
		 * consumer group takes a few seconds before the first one.
		 */
		int64_t limit = opts->idle_exit_ms + (count == 0 && !opts->no_group ? 10000 : 0);
		if (opts->idle_exit_ms && mono_ms() - last_record_ms >= limit) {
			if (msg)
				rd_kafka_message_destroy(msg);
			break;
		}
		if (!msg)
			continue;
		if (msg->err) {
			if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "tablecast: kafka: %s\n", rd_kafka_message_errstr(msg));
			rd_kafka_message_destroy(msg);
			continue;
		}
		rd_kafka_headers_t *hdrs = NULL;
		rd_kafka_message_headers(msg, &hdrs);
		const char *type = NULL;
		size_t type_len = 0;
		bool structured = false;

		sb_reset(&line);
		arena_reset(arena);
		sb_puts(&line, "{\"topic\":");
		const char *topic = rd_kafka_topic_name(msg->rkt);
		sb_json_string(&line, topic, strlen(topic));
		sb_printf(&line, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":",
			  msg->partition, msg->offset);
		if (msg->key)
			sb_json_string(&line, msg->key, msg->key_len);
		else
			sb_puts(&line, "null");
		put_header_json(&line, hdrs, &type, &type_len, &structured);
		const uint8_t *payload = msg->payload;
		size_t payload_len = msg->len;
		struct WireCloudEvent ce;
		if (structured) {
			if (wire_decode_cloudevent(payload, payload_len, arena, &ce) && ce.data) {
				payload = ce.data;
				payload_len = ce.data_len;
			} else {
				payload = NULL;
			}
		}
		const struct EventDef *ev = type ? wire_event_for_type(cfg, type, type_len) : NULL;
		bool dead = type && type_len == 23 && memcmp(type, "tablecast.v1.DeadLetter", 23) == 0;
		if (opts->event && !dead && (!ev || strcmp(ev->name, opts->event) != 0)) {
			rd_kafka_message_destroy(msg);
			continue;
		}
		if (!payload) {
			sb_puts(&line, ",\"error\":\"undecodable structured-mode CloudEvent\"");
		} else if (dead) {
			put_dead_letter(&line, payload, payload_len);
		} else if (!ev) {
			sb_puts(&line, ",\"error\":\"no configured event has this ce_type\"");
		} else if (!wire_decode_event(ev, payload, payload_len, arena, values)) {
			sb_puts(&line, ",\"error\":\"payload does not match the event's schema\"");
		} else {
			size_t mark = line.len;
			sb_puts(&line, ",\"data\":");
			if (enc_json(ev, values, &line, errstr, sizeof(errstr)) < 0) {
				line.len = mark;
				sb_puts(&line, ",\"error\":");
				sb_json_string(&line, errstr, strlen(errstr));
			}
		}
		sb_puts(&line, "}\n");
		rd_kafka_message_destroy(msg);
		last_record_ms = mono_ms();
		if (!sb_ok(&line) || fwrite(line.data, 1, line.len, opts->out) != line.len ||
		    fflush(opts->out) != 0) {
			snprintf(err, errlen, "writing output failed");
			rc = -1;
			break;
		}
		count++;
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(values);
	sb_free(&line);
	arena_free(arena);
	return rc;
}
