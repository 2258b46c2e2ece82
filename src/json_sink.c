/* JSON sink: raw changes as JSON lines on stdout or a file, for development. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_sink.h"
#include "strbuf.h"

/* Type OIDs from pg_type.dat; stable across PostgreSQL versions. */
#define BOOLOID 16
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define OIDOID 26
#define JSONOID 114
#define JSONBOID 3802

struct JsonSink {
	FILE *out;
	bool own; /* opened by us, closed by us */
	const char *name; /* for errors */
	struct StrBuf line;
};

JsonSink *jsink_open(const struct Config *cfg, char *err, size_t errlen)
{
	JsonSink *sink = calloc(1, sizeof(*sink));
	if (!sink) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->sink.type == SINK_FILE) {
		sink->out = fopen(cfg->sink.path, "a");
		if (!sink->out) {
			snprintf(err, errlen, "sink file %s: %s", cfg->sink.path, strerror(errno));
			free(sink);
			return NULL;
		}
		sink->own = true;
		sink->name = cfg->sink.path;
	} else {
		sink->out = stdout;
		sink->name = "stdout";
	}
	return sink;
}

void jsink_close(JsonSink *sink)
{
	if (!sink)
		return;
	if (sink->own)
		fclose(sink->out);
	else
		fflush(sink->out);
	sb_free(&sink->line);
	free(sink);
}

static void put_header(struct StrBuf *sb, const struct ChangeOrigin *origin, const char *relation,
		       const char *op)
{
	char lsn[PGO_LSN_BUFSIZE];

	sb_reset(sb);
	sb_printf(sb, "{\"lsn\":\"%s\"", pgo_lsn_format(origin->lsn, lsn));
	if (origin->xid)
		sb_printf(sb, ",\"xid\":%u", origin->xid);
	if (origin->commit_time) {
		sb_puts(sb, ",\"commit_time\":\"");
		sb_timestamp(sb, origin->commit_time);
		sb_putc(sb, '"');
	}
	if (relation) {
		sb_puts(sb, ",\"relation\":");
		sb_json_string(sb, relation, strlen(relation));
	}
	sb_printf(sb, ",\"op\":\"%s\"", op);
}

/* A text value typed by its column: numbers and booleans stay JSON-native. */
static void put_value(struct StrBuf *sb, const struct PgoValue *v, uint32_t typoid)
{
	switch (v->kind) {
	case 'n':
		sb_puts(sb, "null");
		return;
	case 'b':
		sb_puts(sb, "{\"binary\":\"");
		sb_base64(sb, v->data, v->len);
		sb_puts(sb, "\"}");
		return;
	}
	switch (typoid) {
	case INT2OID:
	case INT4OID:
	case INT8OID:
	case OIDOID:
	case JSONOID:
	case JSONBOID:
		/* PostgreSQL's own output for these is valid JSON. */
		if (v->len > 0) {
			sb_append(sb, v->data, v->len);
			return;
		}
		break;
	case BOOLOID:
		if (v->len == 1) {
			sb_puts(sb, v->data[0] == 't' ? "true" : "false");
			return;
		}
		break;
	}
	sb_json_string(sb, v->data, v->len);
}

/* "name":{col:value,...}; columns marked 'u' are skipped and listed by put_toast. */
static void put_tuple(struct StrBuf *sb, const char *name, const struct PgoTuple *tuple,
		      const struct Relation *rel, bool key_only)
{
	bool first = true;

	sb_printf(sb, ",\"%s\":{", name);
	for (uint16_t i = 0; i < tuple->ncols && i < rel->natts; i++) {
		const struct PgoValue *v = &tuple->cols[i];
		/* A 'K' tuple has every column, but only key columns carry values. */
		if (v->kind == 'u' || (key_only && !rel->atts[i].key))
			continue;
		if (!first)
			sb_putc(sb, ',');
		first = false;
		sb_json_string(sb, rel->atts[i].name, strlen(rel->atts[i].name));
		sb_putc(sb, ':');
		put_value(sb, v, rel->atts[i].typoid);
	}
	sb_putc(sb, '}');
}

static void put_toast(struct StrBuf *sb, const struct PgoTuple *tuple, const struct Relation *rel)
{
	bool first = true;

	for (uint16_t i = 0; i < tuple->ncols && i < rel->natts; i++) {
		if (tuple->cols[i].kind != 'u')
			continue;
		sb_puts(sb, first ? ",\"unchanged_toast\":[" : ",");
		first = false;
		sb_json_string(sb, rel->atts[i].name, strlen(rel->atts[i].name));
	}
	if (!first)
		sb_putc(sb, ']');
}

static int emit(JsonSink *sink)
{
	sb_puts(&sink->line, "}\n");
	if (!sb_ok(&sink->line)) {
		errno = ENOMEM;
		return -1;
	}
	if (fwrite(sink->line.data, 1, sink->line.len, sink->out) != sink->line.len)
		return -1;
	return 0;
}

int jsink_write_change(JsonSink *sink, const struct ChangeOrigin *origin,
		       const struct Relation *rel, const struct PgoMessage *msg)
{
	struct StrBuf *sb = &sink->line;
	const char *op = msg->kind == 'I' ? "insert" : msg->kind == 'U' ? "update" : "delete";

	put_header(sb, origin, rel->qualname, op);
	if (msg->change.old_kind == 'K')
		put_tuple(sb, "key", &msg->change.old_tuple, rel, true);
	else if (msg->change.old_kind == 'O')
		put_tuple(sb, "old", &msg->change.old_tuple, rel, false);
	if (msg->change.has_new) {
		put_tuple(sb, "new", &msg->change.new_tuple, rel, false);
		put_toast(sb, &msg->change.new_tuple, rel);
	}
	return emit(sink);
}

int jsink_write_truncate(JsonSink *sink, const struct ChangeOrigin *origin,
			 const struct Relation *rel, uint8_t options)
{
	struct StrBuf *sb = &sink->line;

	put_header(sb, origin, rel->qualname, "truncate");
	if (options & PGO_TRUNCATE_CASCADE)
		sb_puts(sb, ",\"cascade\":true");
	if (options & PGO_TRUNCATE_RESTART_IDENTITY)
		sb_puts(sb, ",\"restart_identity\":true");
	return emit(sink);
}

/* Whether bytes are valid UTF-8 without NULs, i.e. printable as a JSON string. */
static bool is_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		size_t n = c == 0 ? 0 : c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			: (c >> 3) == 30 ? 4 : 0;
		if (n == 0 || len - i < n)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

int jsink_write_message(JsonSink *sink, const struct ChangeOrigin *origin,
			const struct PgoMessage *msg)
{
	struct StrBuf *sb = &sink->line;

	put_header(sb, origin, NULL, "message");
	sb_printf(sb, ",\"transactional\":%s,\"prefix\":",
		  msg->message.flags & PGO_MESSAGE_TRANSACTIONAL ? "true" : "false");
	sb_json_string(sb, msg->message.prefix, strlen(msg->message.prefix));
	if (is_utf8(msg->message.content, msg->message.len)) {
		sb_puts(sb, ",\"content\":");
		sb_json_string(sb, msg->message.content, msg->message.len);
	} else {
		sb_puts(sb, ",\"content_base64\":\"");
		sb_base64(sb, msg->message.content, msg->message.len);
		sb_putc(sb, '"');
	}
	return emit(sink);
}

static void put_attr(struct StrBuf *sb, const char *name, const char *value)
{
	if (!value)
		return;
	sb_printf(sb, ",\"%s\":", name);
	sb_json_string(sb, value, strlen(value));
}

int jsink_write_event(JsonSink *sink, const struct Event *ev)
{
	struct StrBuf *sb = &sink->line;
	char err[512];

	sb_reset(sb);
	sb_puts(sb, "{\"topic\":");
	sb_json_string(sb, ev->topic, strlen(ev->topic));
	sb_puts(sb, ",\"key\":");
	if (ev->key)
		sb_json_string(sb, ev->key, ev->key_len);
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"ce\":{\"specversion\":\"1.0\"");
	put_attr(sb, "id", ev->ce.id);
	put_attr(sb, "source", ev->ce.source);
	put_attr(sb, "type", ev->ce.type);
	sb_puts(sb, ",\"time\":\"");
	sb_timestamp(sb, ev->ce.time_us - PGO_EPOCH_OFFSET_US);
	sb_putc(sb, '"');
	put_attr(sb, "subject", ev->ce.subject);
	put_attr(sb, "dataschema", ev->ce.dataschema);
	put_attr(sb, "tablecastsnapshot", ev->ce.snapshot);
	sb_putc(sb, '}');
	if (ev->nheaders) {
		sb_puts(sb, ",\"headers\":{");
		for (size_t i = 0; i < ev->nheaders; i++) {
			if (i)
				sb_putc(sb, ',');
			sb_json_string(sb, ev->headers[2 * i], strlen(ev->headers[2 * i]));
			sb_putc(sb, ':');
			sb_json_string(sb, ev->headers[2 * i + 1], strlen(ev->headers[2 * i + 1]));
		}
		sb_putc(sb, '}');
	}
	/* The exact bytes a Kafka consumer gets, so other tools can decode them. */
	sb_puts(sb, ",\"payload\":\"");
	sb_base64(sb, ev->payload, ev->payload_len);
	sb_putc(sb, '"');
	if (ev->def) {
		sb_puts(sb, ",\"data\":");
		if (enc_json(ev->def, ev->values, sb, err, sizeof(err)) < 0) {
			/* enc_protobuf accepted these values already: the two disagree. */
			errno = EINVAL;
			return -1;
		}
	} else {
		put_attr(sb, "event", ev->failed_event);
		put_attr(sb, "error", ev->error);
	}
	return emit(sink);
}

int jsink_flush(JsonSink *sink, char *err, size_t errlen)
{
	if (fflush(sink->out) != 0 || ferror(sink->out)) {
		snprintf(err, errlen, "sink %s: write failed: %s", sink->name, strerror(errno));
		return -1;
	}
	return 0;
}
