/* AsyncAPI: a 3.0 document of the configured topics, events, keys and CloudEvents headers. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asyncapi.h"
#include "encoder.h"
#include "file.h"
#include "schema.h"

/* The schemaFormat AsyncAPI 3.0 names for protobuf 3 schemas. */
#define PROTOBUF_SCHEMA_FORMAT "application/vnd.google.protobuf;version=3"
/* The Kafka bindings version whose message binding has a key. */
#define KAFKA_BINDING_VERSION "0.5.0"

static void put_str(struct StrBuf *out, const char *s)
{
	sb_json_string(out, s, strlen(s));
}

/* "key":"value" with a leading comma unless first. */
static void put_member(struct StrBuf *out, bool comma, const char *key, const char *value)
{
	if (comma)
		sb_putc(out, ',');
	put_str(out, key);
	sb_putc(out, ':');
	put_str(out, value);
}

/* proto/tablecast/v1/change.proto, the dead letters' schema, as the build embeds it. */
static const char dead_letter_proto[] =
#include "tablecast/v1/change.proto.inc"
    ;

#define DEAD_LETTER_TYPE "tablecast.v1.DeadLetter"

/* One message of the document: an event version, or the dead letter. */
struct Entry {
	const char *topic;
	const struct EventDef *def; /* NULL for the dead letter */
	char id[300]; /* the ce_type: "shop.orders.OrderShipped.v2", "tablecast.v1.DeadLetter" */
};

static int by_topic_id(const void *a, const void *b)
{
	const struct Entry *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : strcmp(x->id, y->id);
}

/* A header property: {"type":"string"[,"const":c][,"format":f],"description":d}. */
static void put_header(struct StrBuf *out, bool comma, const char *name, const char *constant,
                       const char *format, const char *description)
{
	if (comma)
		sb_putc(out, ',');
	put_str(out, name);
	sb_puts(out, ":{\"type\":\"string\"");
	if (constant)
		put_member(out, true, "const", constant);
	if (format)
		put_member(out, true, "format", format);
	put_member(out, true, "description", description);
	sb_putc(out, '}');
}

/*
 * The CloudEvents Kafka headers of one event's records, as a schema: what
 * kafka_sink.c writes, with the values fixed by the configuration as const.
 */
static void put_headers(struct StrBuf *out, const struct Config *cfg, const struct EventDef *ev)
{
	bool structured = cfg->cloudevents.structured;
	struct StrBuf v = {0};

	sb_puts(out, "{\"type\":\"object\",\"properties\":{");
	put_header(out, false, "ce_specversion", "1.0", NULL, "CloudEvents specversion");
	put_header(out, true, "ce_id", NULL, NULL,
	           "the commit LSN and the event's index in its transaction (\"0/16B3748-2\"), "
	           "so a replayed event has the same id; snapshot:<id>:<digest>-<n> and "
	           "backfill:<id>:<digest> for rows read by a snapshot or a backfill");
	put_header(out, true, "ce_source", cfg->cloudevents.source, NULL,
	           "cloudevents.source: this producer");
	sb_printf(&v, "%s.v%d", ev->name, ev->version);
	put_header(out, true, "ce_type", v.data, NULL,
	           "the event's full protobuf name and version");
	put_header(out, true, "ce_time", NULL, "date-time",
	           "the commit time of the transaction (RFC 3339, UTC)");
	if (ev->subject_text) {
		sb_reset(&v);
		sb_printf(&v, "the subject expression %s; absent when it is NULL",
		          ev->subject_text);
		put_header(out, true, "ce_subject", NULL, NULL, v.data);
	}
	const char *dataschema = NULL;
	sb_reset(&v);
	if (structured) {
		char full[300];
		enc_message_full_name(ev, full, sizeof(full));
		sb_printf(&v, ENC_TYPE_URL_PREFIX "%s", full);
		dataschema = v.data;
		put_header(out, true, "ce_dataschema", dataschema, NULL,
		           "the type URL of the protobuf message in proto_data");
	} else if (cfg->cloudevents.dataschema_base[0]) {
		char path[512];
		schema_proto_path(ev, path, sizeof(path));
		sb_printf(&v, "%s/%s", cfg->cloudevents.dataschema_base, path);
		dataschema = v.data;
		put_header(out, true, "ce_dataschema", dataschema, NULL,
		           "cloudevents.dataschema_base and the event's .proto path");
	}
	if (ev->ops & OP_SNAPSHOT) {
		sb_puts(out,
		        ",\"ce_tablecastsnapshot\":{\"type\":\"string\",\"enum\":[\"initial\","
		        "\"backfill\"],"
		        "\"description\":\"CloudEvents extension: the row was read by an initial "
		        "snapshot or a backfill (it already existed); absent on changes\"}");
	}
	put_header(out, true, "content-type",
	           structured ? "application/cloudevents+protobuf" : "application/protobuf", NULL,
	           structured ? "structured mode: the value is an io.cloudevents.v1.CloudEvent"
	                      : "binary mode: the CloudEvents datacontenttype of the value");
	if (cfg->sink.exactly_once)
		put_header(
		    out, true, "tablecast_txn", NULL, NULL,
		    "the Kafka transaction the record belongs to, as the offsets record names it");
	sb_puts(
	    out,
	    "},\"required\":[\"ce_specversion\",\"ce_id\",\"ce_source\",\"ce_type\",\"ce_time\"");
	if (dataschema)
		sb_puts(out, ",\"ce_dataschema\"");
	sb_puts(out, ",\"content-type\"");
	if (cfg->sink.exactly_once)
		sb_puts(out, ",\"tablecast_txn\"");
	sb_puts(out, "]}");
	sb_free(&v);
}

/*
 * The dead letter (tablecast.v1.DeadLetter, proto/tablecast/v1/change.proto):
 * what a row that cannot become its event is published as, keyed by table.
 */
static void put_dead_letter(struct StrBuf *out, const struct Config *cfg)
{
	bool structured = cfg->cloudevents.structured;
	const char *url = ENC_TYPE_URL_PREFIX DEAD_LETTER_TYPE;

	put_str(out, DEAD_LETTER_TYPE);
	sb_puts(out, ":{");
	put_member(out, false, "name", DEAD_LETTER_TYPE);
	put_member(out, true, "title", "dead letter");
	put_member(out, true, "summary",
	           "a row change that could not become an event declared on_error = dead_letter");
	put_member(out, true, "description",
	           structured
	               ? "CloudEvents structured mode: the record's value is an "
	                 "io.cloudevents.v1.CloudEvent whose proto_data, a google.protobuf.Any "
	                 "with the type URL in ce_dataschema, holds this payload."
	               : "CloudEvents binary mode: the record's value is this payload, the "
	                 "attributes are the ce_ headers.");
	put_member(out, true, "contentType",
	           structured ? "application/cloudevents+protobuf" : "application/protobuf");
	sb_puts(out, ",\"headers\":{\"type\":\"object\",\"properties\":{");
	put_header(out, false, "ce_specversion", "1.0", NULL, "CloudEvents specversion");
	put_header(out, true, "ce_id", NULL, NULL, "as the event's would have been");
	put_header(out, true, "ce_source", cfg->cloudevents.source, NULL,
	           "cloudevents.source: this producer");
	put_header(out, true, "ce_type", DEAD_LETTER_TYPE, NULL, "a dead letter");
	put_header(out, true, "ce_time", NULL, "date-time",
	           "the commit time of the transaction (RFC 3339, UTC)");
	put_header(out, true, "ce_subject", NULL, NULL,
	           "the event that could not be made, \"<name> v<version>\"");
	if (structured)
		put_header(out, true, "ce_dataschema", url, NULL,
		           "the type URL of the protobuf message in proto_data");
	put_header(out, true, "content-type",
	           structured ? "application/cloudevents+protobuf" : "application/protobuf", NULL,
	           structured ? "structured mode: the value is an io.cloudevents.v1.CloudEvent"
	                      : "binary mode: the CloudEvents datacontenttype of the value");
	sb_puts(out, "},\"required\":[\"ce_specversion\",\"ce_id\",\"ce_source\",\"ce_type\","
	             "\"ce_time\",\"ce_subject\",");
	if (structured)
		sb_puts(out, "\"ce_dataschema\",");
	sb_puts(out, "\"content-type\"]},\"payload\":{");
	put_member(out, false, "schemaFormat", PROTOBUF_SCHEMA_FORMAT);
	put_member(out, true, "schema", dead_letter_proto);
	sb_puts(out, "},\"bindings\":{\"kafka\":{\"key\":{\"type\":\"string\",");
	put_member(out, false, "description", "the table of the row, schema.table");
	sb_puts(out, "},");
	put_member(out, false, "bindingVersion", KAFKA_BINDING_VERSION);
	sb_puts(out, "}}}");
}

static int put_message(struct StrBuf *out, const struct Config *cfg, const struct Entry *e)
{
	bool structured = cfg->cloudevents.structured;
	const struct EventDef *ev = e->def;
	struct StrBuf text = {0};
	int rc = 0;

	if (!ev) {
		put_dead_letter(out, cfg);
		return 0;
	}
	put_str(out, e->id);
	sb_puts(out, ":{");
	put_member(out, false, "name", e->id);
	sb_printf(&text, "%s v%d", ev->name, ev->version);
	put_member(out, true, "title", text.data);
	sb_reset(&text);
	sb_puts(&text, "on ");
	schema_put_ops(&text, ev->ops);
	sb_printf(&text, " of %s", ev->table);
	if (ev->when_text)
		sb_printf(&text, " when %s", ev->when_text);
	put_member(out, true, "summary", text.data);
	sb_reset(&text);
	if (structured)
		sb_printf(&text, "CloudEvents structured mode: the record's value is an "
		                 "io.cloudevents.v1.CloudEvent "
		                 "(proto/io/cloudevents/v1/cloudevents.proto) whose proto_data, a "
		                 "google.protobuf.Any "
		                 "with the type URL in ce_dataschema, holds this payload.");
	else
		sb_printf(&text, "CloudEvents binary mode: the record's value is this payload, the "
		                 "attributes are the ce_ headers.");
	if (ev->on_error == ON_ERROR_DEAD_LETTER)
		sb_printf(&text,
		          " A row that cannot become this event goes to %s as a "
		          "tablecast.v1.DeadLetter.",
		          cfg->sink.dead_letter_topic);
	put_member(out, true, "description", text.data);
	put_member(out, true, "contentType",
	           structured ? "application/cloudevents+protobuf" : "application/protobuf");
	sb_puts(out, ",\"headers\":");
	put_headers(out, cfg, ev);
	sb_reset(&text);
	if (schema_render_proto(ev, &text) < 0)
		rc = -1;
	sb_puts(out, ",\"payload\":{");
	put_member(out, false, "schemaFormat", PROTOBUF_SCHEMA_FORMAT);
	put_member(out, true, "schema", text.data ? text.data : "");
	sb_puts(out, "},\"bindings\":{\"kafka\":{");
	if (ev->key_text) {
		sb_reset(&text);
		sb_printf(&text,
		          "the key expression %s as text: records of one key keep their order "
		          "(murmur2_random partitioning, as the Java client)",
		          ev->key_text);
		sb_puts(out, "\"key\":{\"type\":\"string\",");
		put_member(out, false, "description", text.data);
		sb_puts(out, "},");
	}
	put_member(out, false, "bindingVersion", KAFKA_BINDING_VERSION);
	sb_puts(out, "}}}");
	sb_free(&text);
	return rc;
}

int aapi_render(const struct Config *cfg, struct StrBuf *out, char *err, size_t errlen)
{
	size_t n = 0;
	struct Entry *entries = calloc(cfg->nevents + 1, sizeof(*entries));
	bool dead_letters = false;
	if (!entries) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *ev = &cfg->events[i];
		if (schema_check_event(ev, err, errlen) < 0) {
			free(entries);
			return -1;
		}
		entries[n].topic = ev->topic;
		entries[n].def = ev;
		snprintf(entries[n].id, sizeof(entries[n].id), "%s.v%d", ev->name, ev->version);
		n++;
		dead_letters |= ev->on_error == ON_ERROR_DEAD_LETTER;
	}
	if (dead_letters) {
		entries[n].topic = cfg->sink.dead_letter_topic;
		snprintf(entries[n].id, sizeof(entries[n].id), DEAD_LETTER_TYPE);
		n++;
	}
	/* By topic, then id: each channel's messages are a run. */
	qsort(entries, n, sizeof(*entries), by_topic_id);

	int rc = 0;
	sb_puts(out, "{\"asyncapi\":\"3.0.0\",\"info\":{\"title\":\"tablecast events\",");
	put_member(out, false, "version", PACKAGE_VERSION);
	put_member(
	    out, true, "description",
	    "Domain events tablecast publishes from PostgreSQL logical replication, as its "
	    "configuration declares them. Generated by tablecast schema generate; do not edit.");
	sb_puts(out, "},\"defaultContentType\":");
	put_str(out, cfg->cloudevents.structured ? "application/cloudevents+protobuf"
	                                         : "application/protobuf");

	/* channels: one per topic, its messages referring to the components. */
	sb_puts(out, ",\"channels\":{");
	for (size_t i = 0; i < n;) {
		const char *topic = entries[i].topic;
		if (i)
			sb_putc(out, ',');
		put_str(out, topic);
		sb_puts(out, ":{");
		put_member(out, false, "address", topic);
		sb_puts(out, ",\"messages\":{");
		size_t j = i;
		for (; j < n && strcmp(entries[j].topic, topic) == 0; j++) {
			if (j > i)
				sb_putc(out, ',');
			put_str(out, entries[j].id);
			sb_printf(out, ":{\"$ref\":\"#/components/messages/%s\"}", entries[j].id);
		}
		sb_puts(out, "},\"bindings\":{\"kafka\":{");
		put_member(out, false, "topic", topic);
		put_member(out, true, "bindingVersion", KAFKA_BINDING_VERSION);
		sb_puts(out, "}}}");
		i = j;
	}

	/* operations: tablecast sends every message of a channel. */
	sb_puts(out, "},\"operations\":{");
	for (size_t i = 0; i < n;) {
		const char *topic = entries[i].topic;
		struct StrBuf ref = {0};
		if (i)
			sb_putc(out, ',');
		sb_printf(&ref, "send.%s", topic);
		put_str(out, ref.data ? ref.data : "");
		sb_puts(out, ":{\"action\":\"send\",");
		sb_reset(&ref);
		sb_printf(&ref, "publishes the records of %s", topic);
		put_member(out, false, "summary", ref.data);
		sb_puts(out, ",\"channel\":{\"$ref\":");
		sb_reset(&ref);
		sb_printf(&ref, "#/channels/%s", topic);
		put_str(out, ref.data ? ref.data : "");
		sb_puts(out, "},\"messages\":[");
		size_t j = i;
		for (; j < n && strcmp(entries[j].topic, topic) == 0; j++) {
			sb_reset(&ref);
			sb_printf(&ref, "#/channels/%s/messages/%s", topic, entries[j].id);
			if (j > i)
				sb_putc(out, ',');
			sb_puts(out, "{\"$ref\":");
			put_str(out, ref.data ? ref.data : "");
			sb_putc(out, '}');
		}
		sb_puts(out, "]}");
		sb_free(&ref);
		i = j;
	}

	sb_puts(out, "},\"components\":{\"messages\":{");
	/* In the channels' order. */
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(out, ',');
		if (put_message(out, cfg, &entries[i]) < 0)
			rc = -1;
	}
	sb_puts(out, "}}}\n");
	free(entries);
	if (rc < 0 || !sb_ok(out)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int aapi_generate(const struct Config *cfg, const char *path, char *err, size_t errlen)
{
	struct StrBuf doc = {0};
	int rc = aapi_render(cfg, &doc, err, errlen);
	if (rc == 0)
		rc = file_publish(path, doc.data, doc.len, "writing", err, errlen);
	sb_free(&doc);
	return rc;
}
