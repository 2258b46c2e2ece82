/* Configuration: load and validate a libconfig file into plain settings. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "schema.h"
#include "shard.h"
#include "utf8.h"
#include "xalloc.h"

/*
 * Every setting is checked against a list of known keys, so a typo is an
 * error with its line, not a silently ignored option.
 */
static const char *const top_keys[] = {"log_level", "state_dir", "source",  "sink",
				       "cloudevents", "events",	  "metrics", "owners", NULL};
static const char *const metrics_keys[] = {"listen", "max_slot_lag", "audit_interval", NULL};
static const char *const source_keys[] = {"conninfo", "slot", "publication", "create_slot",
					  "create_publication", "tables", "status_interval",
					  "max_in_flight", "snapshot", "snapshot_workers",
					  "signal_table", "backfill_chunk", "backfill_timeout", "backfill_retention",
					  "release_after", "all_tables", "on_table_recreated",
					  "guard_interval", "standby_poll_interval",
					  "keepalives_idle", "keepalives_interval",
					  "keepalives_count", "shard", NULL};
static const char *const sink_keys[] = {"type",	     "format",	     "path",
					"dead_letter_topic", "kafka",	      "flush_timeout",
					"exactly_once",	     "offsets_topic", "transaction_ms",
					NULL};
static const char *const cloudevents_keys[] = {"source", "dataschema_base", "mode", NULL};
static const char *const event_keys[] = {"name",  "version",  "table",	"on",	    "when",
					 "topic", "key",      "subject", "on_error", "fields",
					 "reserved", "outbox", "handover", NULL};
static const char *const owner_keys[] = {"table", "role", NULL};
static const char *const shard_keys[] = {"table", "key", "count", "index", NULL};
static const char *const field_keys[] = {"name", "number", "type", "repeated", "enum_values",
					 "value", "required", NULL};

/*
 * Bounds that keep a load linear and short (well under a second for the
 * largest file, sanitizers included), so that neither check-config nor a
 * reload in the running daemon can be stalled by a configuration.
 */
#define CFG_MAX_BYTES (1024 * 1024) /* the file and everything it includes */
#define CFG_MAX_INCLUDE_DEPTH 10 /* libconfig's own limit */
#define CFG_MAX_FIELDS 1000 /* per event */
#define CFG_MAX_ENUM_VALUES 1000 /* per field */
#define CFG_MAX_ITEMS 4096 /* settings in a group, elements in a list or array */
#define CFG_MAX_NESTING 32 /* groups, lists and arrays inside each other */

struct Loader {
	const char *path;
	char context[320]; /* "event NAME: " while inside an event, for messages */
	char *err;
	size_t errlen;
	bool failed;
	const struct CfgLoadHooks *hooks; /* NULL = none */
	size_t bytes; /* read so far, over every included file */
};

/* The first error only: "file:line: message" (or "file: message" without a line), one line. */
static void fail_v(struct Loader *ld, const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void fail_v(struct Loader *ld, const char *file, int line, const char *fmt, va_list ap)
{
	char msg[512];

	if (ld->failed)
		return;
	ld->failed = true;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", file, line, msg);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", file, msg);
	log_mask_controls(ld->err); /* one line, whatever the file holds */
}

static void fail_at(struct Loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct Loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	/*
	 * Settings that are missing altogether have no line: name the file only.
	 * A setting from an @include'd file names that file.
	 */
	int line = s ? config_setting_source_line(s) : 0;
	const char *file = s && line > 0 ? config_setting_source_file(s) : NULL;

	va_start(ap, fmt);
	fail_v(ld, file ? file : ld->path, line, fmt, ap);
	va_end(ap);
}

/* Error for a place in a file before libconfig has settings for it. */
static void fail_line(struct Loader *ld, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_line(struct Loader *ld, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(ld, file, line, fmt, ap);
	va_end(ap);
}

static int line_of(const char *text, size_t offset)
{
	int line = 1;
	for (size_t i = 0; i < offset; i++)
		line += text[i] == '\n';
	return line;
}

/*
 * libconfig 1.5 looks for a duplicate on every setting it adds to a group
 * (quadratic: 50,000 settings took minutes) and grows lists in steps of 16
 * (quadratic copying), and its parser and config_destroy() recurse once
 * per nesting level. So the text is measured first, with a lexer that
 * knows only what matters for that: strings, comments and brackets.
 * Returns false with the error set.
 */
static bool check_structure(struct Loader *ld, const char *path, const char *text)
{
	size_t items[CFG_MAX_NESTING + 1] = {0};
	int depth = 0, line = 1;

	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '\n':
			line++;
			break;
		case '"': /* a string, with backslash escapes */
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
			}
			if (!*p)
				return true; /* the parser says where */
			break;
		case '/':
			if (p[1] == '*') {
				const char *end = strstr(p + 2, "*/");
				for (const char *q = p; q < (end ? end : p + strlen(p)); q++)
					line += *q == '\n';
				if (!end)
					return true;
				p = end + 1;
				break;
			}
			if (p[1] != '/')
				break;
			/* fall through: a comment to the end of the line */
		case '#':
			while (p[1] && p[1] != '\n')
				p++;
			break;
		case '{':
		case '(':
		case '[':
			if (++depth > CFG_MAX_NESTING) {
				fail_line(ld, path, line, "groups, lists and arrays nested more than %d deep",
					  CFG_MAX_NESTING);
				return false;
			}
			items[depth] = 0;
			break;
		case '}':
		case ')':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case ';':
		case ',':
			if (++items[depth] > CFG_MAX_ITEMS) {
				fail_line(ld, path, line,
					  "more than %d settings or elements in one group, list or array",
					  CFG_MAX_ITEMS);
				return false;
			}
			break;
		default:
			break;
		}
	}
	return true;
}

/*
 * Read a configuration file (or one it includes) before libconfig does,
 * to refuse what libconfig would accept but must not: more than
 * CFG_MAX_BYTES in all (libconfig's time and memory grow with the input),
 * NUL bytes and "\x00" escapes (they cut a string short where the file
 * shows more), and text that is not UTF-8 (names end up in Kafka headers,
 * protobuf schemas and logs). libconfig 1.5 has no include hook, so
 * @include "file" lines are followed here the way its scanner does:
 * the name as written, relative to the working directory.
 */
static void precheck_file(struct Loader *ld, const char *path, const char *from, int from_line,
			  int depth)
{
	/* An included file that cannot be used is the including line's error. */
	const char *where = from ? from : path;
	if (depth > CFG_MAX_INCLUDE_DEPTH) {
		fail_line(ld, where, from_line, "@include \"%s\": nested more than %d deep", path,
			  CFG_MAX_INCLUDE_DEPTH);
		return;
	}
	/*
	 * Regular files only: a FIFO, a terminal or /dev/zero would block or
	 * never end (O_NONBLOCK, so that opening a FIFO does not wait for a writer).
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	const char *why = NULL;
	if (fd < 0)
		why = strerror(errno);
	else if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	FILE *f = why ? NULL : fdopen(fd, "rb");
	if (!f) {
		if (!why)
			why = strerror(errno);
		if (fd >= 0)
			close(fd);
		if (from)
			fail_line(ld, from, from_line, "@include \"%s\": %s", path, why);
		else
			fail_line(ld, path, 0, "cannot read file: %s", why);
		return;
	}
	size_t room = CFG_MAX_BYTES - ld->bytes;
	char *text = malloc(room + 2);
	if (!text) {
		fail_line(ld, path, 0, "out of memory");
		fclose(f);
		return;
	}
	/* One byte more than the room left tells a file that is too large. */
	size_t len = fread(text, 1, room + 1, f);
	bool read_error = ferror(f);
	fclose(f);
	text[len] = '\0';
	if (read_error)
		fail_line(ld, where, from_line, "cannot read \"%s\"", path);
	else if (len > room)
		fail_line(ld, path, line_of(text, room),
			  "the configuration (with the files it includes) exceeds %d bytes here",
			  CFG_MAX_BYTES);
	if (ld->failed) {
		free(text);
		return;
	}
	ld->bytes += len;

	const char *nul = memchr(text, '\0', len);
	size_t valid = utf8_valid_prefix((const unsigned char *)text, len);
	if (nul)
		fail_line(ld, path, line_of(text, (size_t)(nul - text)), "NUL byte in the file");
	else if (valid < len)
		fail_line(ld, path, line_of(text, valid), "the file is not valid UTF-8");
	if (!ld->failed)
		check_structure(ld, path, text);
	for (const char *p = text; !ld->failed && (p = strstr(p, "\\x")); p += 2)
		if (p[2] == '0' && p[3] == '0')
			fail_line(ld, path, line_of(text, (size_t)(p - text)),
				  "\\x00 (NUL) is not allowed in a string");
	int lineno = 1;
	for (char *line = text; !ld->failed && line && *line; lineno++) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		const char *p = line + strspn(line, " \t");
		if (strncmp(p, "@include", 8) == 0) {
			p += 8;
			p += strspn(p, " \t");
			const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
			if (end) {
				char *inc = strndup(p + 1, (size_t)(end - p - 1));
				if (inc)
					precheck_file(ld, inc, path, lineno, depth + 1);
				free(inc);
			}
		}
		line = next;
	}
	free(text);
}

/* Strings may hold escapes (\xNN) that the file's own bytes do not show. */
static void check_strings(struct Loader *ld, const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);
		size_t len = strlen(v);
		if (utf8_valid_prefix((const unsigned char *)v, len) < len)
			fail_at(ld, s, "%s: string is not valid UTF-8",
				config_setting_name(s) ? config_setting_name(s) : "value");
		return;
	}
	int n = config_setting_length(s);
	for (int i = 0; i < n && !ld->failed; i++)
		check_strings(ld, config_setting_get_elem(s, (unsigned)i));
}

/*
 * What Kafka (and librdkafka, before it asks) accepts as a topic name:
 * 1-249 of [a-zA-Z0-9._-], and neither "." nor "..".
 */
static bool valid_topic(const char *t)
{
	size_t len = strlen(t);
	return len >= 1 && len <= 249 &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       len &&
	       strcmp(t, ".") != 0 && strcmp(t, "..") != 0;
}

static void check_topic(struct Loader *ld, const config_setting_t *s, const char *what,
			const char *topic)
{
	if (!ld->failed && !valid_topic(topic))
		fail_at(ld, s,
			"%s \"%.80s%s\" is not a Kafka topic name (1-249 characters of a-z, A-Z, 0-9, '.', '_', '-'; not \".\" or \"..\")",
			what, topic, strlen(topic) > 80 ? "..." : "");
}

/* Between events: feed the caller's watchdog, and give up when asked to stop. */
static bool keep_loading(struct Loader *ld)
{
	if (!ld->hooks)
		return true;
	if (ld->hooks->tick)
		ld->hooks->tick();
	if (ld->hooks->stop && *ld->hooks->stop) {
		fail_line(ld, ld->path, 0, "loading stopped by a signal");
		return false;
	}
	return true;
}

static void check_keys(struct Loader *ld, const config_setting_t *group, const char *const *keys)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool known = false;
		for (const char *const *k = keys; *k && !known; k++)
			known = strcmp(*k, name) == 0;
		if (!known) {
			const char *parent = config_setting_name(group);
			if (parent)
				fail_at(ld, s, "unknown setting \"%s\" in %s", name, parent);
			else
				fail_at(ld, s, "unknown setting \"%s\"", name);
		}
	}
}

/* A string setting; def when absent (NULL def = required). */
static char *get_string(struct Loader *ld, const config_setting_t *group, const char *name,
			const char *def)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	if (!s) {
		if (!def && config_setting_name(group))
			fail_at(ld, group, "%s.%s is required", config_setting_name(group), name);
		else if (!def)
			fail_at(ld, group, "%s%s is required", ld->context, name);
		return xstrdup(def ? def : "");
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fail_at(ld, s, "%s must be a string", name);
		return xstrdup("");
	}
	return xstrdup(config_setting_get_string(s));
}

static bool get_bool(struct Loader *ld, const config_setting_t *group, const char *name, bool def)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	if (!s)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		fail_at(ld, s, "%s must be true or false", name);
		return def;
	}
	return config_setting_get_bool(s);
}

static int get_int(struct Loader *ld, const config_setting_t *group, const char *name, int def,
		   int min, int max)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	if (!s)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT) {
		fail_at(ld, s, "%s must be an integer", name);
		return def;
	}
	int v = config_setting_get_int(s);
	if (v < min || v > max)
		fail_at(ld, s, "%s must be between %d and %d", name, min, max);
	return v;
}

static void load_source(struct Loader *ld, struct Config *cfg, const config_setting_t *src)
{
	check_keys(ld, src, source_keys);
	cfg->source.conninfo = get_string(ld, src, "conninfo", NULL);
	cfg->source.slot = get_string(ld, src, "slot", "tablecast");
	cfg->source.publication = get_string(ld, src, "publication", "tablecast");
	cfg->source.create_slot = get_bool(ld, src, "create_slot", false);
	cfg->source.create_publication = get_bool(ld, src, "create_publication", false);
	cfg->source.status_interval_ms =
		get_int(ld, src, "status_interval", 10, 1, 3600) * 1000;
	cfg->source.max_in_flight = get_int(ld, src, "max_in_flight", 4096, 1, 1 << 20);
	cfg->source.release_after_ms = get_int(ld, src, "release_after", 20, 0, 3600) * 1000;
	char *snapshot = get_string(ld, src, "snapshot", "never");
	if (snapshot && strcmp(snapshot, "initial") == 0)
		cfg->source.snapshot_initial = true;
	else if (snapshot && strcmp(snapshot, "never") != 0)
		fail_at(ld, config_setting_get_member(src, "snapshot"),
			"snapshot must be \"initial\" or \"never\"");
	free(snapshot);
	cfg->source.snapshot_workers = get_int(ld, src, "snapshot_workers", 2, 1, 16);
	cfg->source.signal_table = get_string(ld, src, "signal_table", "");
	cfg->source.backfill_chunk = get_int(ld, src, "backfill_chunk", 4096, 1, 1 << 20);
	cfg->source.backfill_timeout_ms = get_int(ld, src, "backfill_timeout", 60, 1, 86400) * 1000;
	cfg->source.backfill_retention_s =
		get_int(ld, src, "backfill_retention", 7 * 86400, 0, 366 * 86400);
	cfg->source.all_tables = get_bool(ld, src, "all_tables", false);
	cfg->source.guard_interval_ms = get_int(ld, src, "guard_interval", 1, 1, 3600) * 1000;
	cfg->source.standby_poll_ms = get_int(ld, src, "standby_poll_interval", 2, 1, 3600) * 1000;
	cfg->source.keepalives_idle_s = get_int(ld, src, "keepalives_idle", 10, 1, 3600);
	cfg->source.keepalives_interval_s = get_int(ld, src, "keepalives_interval", 5, 1, 600);
	cfg->source.keepalives_count = get_int(ld, src, "keepalives_count", 3, 1, 100);
	char *recreated = get_string(ld, src, "on_table_recreated", "halt");
	if (recreated && strcmp(recreated, "readd_and_backfill") == 0)
		cfg->source.readd_recreated = true;
	else if (recreated && strcmp(recreated, "halt") != 0)
		fail_at(ld, config_setting_get_member(src, "on_table_recreated"),
			"on_table_recreated must be \"halt\" or \"readd_and_backfill\"");
	free(recreated);

	const config_setting_t *tables = config_setting_get_member(src, "tables");
	if (tables && !ld->failed) {
		if (!config_setting_is_array(tables) && !config_setting_is_list(tables)) {
			fail_at(ld, tables, "tables must be a list of strings");
			return;
		}
		int n = config_setting_length(tables);
		cfg->source.tables = calloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; i < n; i++) {
			const config_setting_t *t = config_setting_get_elem(tables, (unsigned)i);
			if (config_setting_type(t) != CONFIG_TYPE_STRING) {
				fail_at(ld, t, "tables must be a list of strings");
				return;
			}
			cfg->source.tables[cfg->source.ntables++] =
				xstrdup(config_setting_get_string(t));
		}
	}
	/* Names are quoted as identifiers when sent; reject what cannot be one. */
	if (!ld->failed && (strlen(cfg->source.slot) == 0 || strlen(cfg->source.slot) > 63 ||
			    strspn(cfg->source.slot, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
				    strlen(cfg->source.slot)))
		fail_at(ld, config_setting_get_member(src, "slot") ?: src,
			"slot must be 1-63 characters of lower-case letters, digits and _");
	if (!ld->failed && cfg->source.readd_recreated &&
	    (!cfg->source.create_publication || !cfg->source.signal_table[0]))
		fail_at(ld, config_setting_get_member(src, "on_table_recreated"),
			"on_table_recreated = \"readd_and_backfill\" needs source.create_publication = true (tablecast owns the publication) and a source.signal_table for the backfill");
	if (!ld->failed && cfg->source.all_tables && cfg->source.ntables)
		fail_at(ld, config_setting_get_member(src, "all_tables"),
			"all_tables = true and tables exclude each other");
	if (!ld->failed && cfg->source.signal_table[0] && !strchr(cfg->source.signal_table, '.'))
		fail_at(ld, config_setting_get_member(src, "signal_table"),
			"signal_table must be written schema.table");
	if (!ld->failed && (strlen(cfg->source.publication) == 0 ||
			    strchr(cfg->source.publication, '"')))
		fail_at(ld, config_setting_get_member(src, "publication") ?: src,
			"publication must be a non-empty name without double quotes");
}

static void load_sink(struct Loader *ld, struct Config *cfg, const config_setting_t *sink)
{
	check_keys(ld, sink, sink_keys);
	char *type = get_string(ld, sink, "type", "stdout");
	char *format = get_string(ld, sink, "format", "events");
	cfg->sink.path = get_string(ld, sink, "path", "");
	cfg->sink.dead_letter_topic = get_string(ld, sink, "dead_letter_topic", "");
	if (strcmp(format, "changes") == 0)
		cfg->sink.raw_changes = true;
	else if (strcmp(format, "events") != 0)
		fail_at(ld, config_setting_get_member(sink, "format"),
			"unknown sink format \"%s\" (expected events or changes)", format);
	free(format);
	cfg->sink.flush_timeout_ms = get_int(ld, sink, "flush_timeout", 30, 1, 3600) * 1000;
	cfg->sink.exactly_once = get_bool(ld, sink, "exactly_once", false);
	cfg->sink.offsets_topic = get_string(ld, sink, "offsets_topic", "tablecast.offsets");
	cfg->sink.transaction_ms = get_int(ld, sink, "transaction_ms", 100, 1, 60000);
	if (cfg->sink.dead_letter_topic[0])
		check_topic(ld, config_setting_get_member(sink, "dead_letter_topic"),
			    "sink.dead_letter_topic", cfg->sink.dead_letter_topic);
	check_topic(ld, config_setting_get_member(sink, "offsets_topic") ?: sink,
		    "sink.offsets_topic", cfg->sink.offsets_topic);
	if (strcmp(type, "stdout") == 0)
		cfg->sink.type = SINK_STDOUT;
	else if (strcmp(type, "file") == 0)
		cfg->sink.type = SINK_FILE;
	else if (strcmp(type, "kafka") == 0)
		cfg->sink.type = SINK_KAFKA;
	else
		fail_at(ld, config_setting_get_member(sink, "type"),
			"unknown sink type \"%s\" (expected stdout, file or kafka)", type);
	if (!ld->failed && cfg->sink.type == SINK_FILE && cfg->sink.path[0] == '\0')
		fail_at(ld, sink, "sink.path is required for a file sink");

	const config_setting_t *kafka = config_setting_get_member(sink, "kafka");
	bool has_bootstrap = false;
	if (kafka && !ld->failed) {
		int n = config_setting_length(kafka);
		if (!config_setting_is_array(kafka)) {
			fail_at(ld, kafka, "sink.kafka must be a list of \"property=value\" strings");
			n = 0;
		}
		cfg->sink.kafka = calloc((size_t)n + 1, sizeof(char *));
		rd_kafka_conf_t *props = rd_kafka_conf_new();
		for (int i = 0; i < n && !ld->failed; i++) {
			const config_setting_t *kv = config_setting_get_elem(kafka, (unsigned)i);
			const char *text = config_setting_get_string(kv);
			const char *eq = text ? strchr(text, '=') : NULL;
			if (!eq || eq == text) {
				fail_at(ld, kv, "sink.kafka entries look like \"bootstrap.servers=host:9092\"");
				break;
			}
			has_bootstrap |= strncmp(text, "bootstrap.servers=", 18) == 0;
			cfg->sink.kafka[cfg->sink.nkafka++] = xstrdup(text);
			/* librdkafka's own check, offline, as ksink_new will run it. */
			char key[256], why[512];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - text), text);
			if (rd_kafka_conf_set(props, key, eq + 1, why, sizeof(why)) != RD_KAFKA_CONF_OK)
				fail_at(ld, kv, "sink.kafka \"%s\": %s", key, why);
		}
		rd_kafka_conf_destroy(props);
	}
	if (!ld->failed && cfg->sink.type == SINK_KAFKA && cfg->sink.raw_changes)
		fail_at(ld, config_setting_get_member(sink, "format"),
			"sink.format = \"changes\" is for the stdout and file sinks only");
	if (!ld->failed && cfg->sink.exactly_once && cfg->sink.type != SINK_KAFKA)
		fail_at(ld, config_setting_get_member(sink, "exactly_once"),
			"sink.exactly_once needs a kafka sink");
	if (!ld->failed && cfg->sink.type == SINK_KAFKA && !has_bootstrap)
		fail_at(ld, kafka ? kafka : sink,
			"a kafka sink needs \"bootstrap.servers=...\" in sink.kafka");
	free(type);
}

/* "pkg.sub.MessageName": dot-separated identifiers, at least a package and an UpperCamelCase message. */
static bool valid_event_name(const char *name)
{
	const char *last = strrchr(name, '.');
	if (!last || last[1] < 'A' || last[1] > 'Z')
		return false;
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, ".");
		if (!field_is_identifier(p, len))
			return false;
		p += len;
		if (*p == '.')
			p++;
		else
			break;
	}
	return name[strlen(name) - 1] != '.';
}

/* Parse one expression setting; errors carry the line and the position inside the text. */
static Expr *parse_expr(struct Loader *ld, const config_setting_t *s, const char *what,
			const char *text)
{
	struct ExprError perr;
	Expr *e = expr_parse(text, &perr);
	if (!e) {
		if (perr.position > 0)
			fail_at(ld, s, "%s: %s at position %d", what, perr.message, perr.position);
		else
			fail_at(ld, s, "%s: %s", what, perr.message);
	}
	return e;
}

/*
 * Which row images an expression may read: old.* needs an old row (update,
 * delete), new.* a new one (insert, update, snapshot); truncate has no row.
 */
static void check_columns(struct Loader *ld, const config_setting_t *s, const char *what,
			  const struct EventDef *ev, const Expr *e)
{
	const struct ExprColumn *cols;
	size_t n = e ? expr_columns(e, &cols) : 0;
	for (size_t i = 0; i < n && !ld->failed; i++) {
		if (ev->ops & OP_TRUNCATE)
			fail_at(ld, s, "%s: %s.%s: a truncate has no row to read", what,
				cols[i].old ? "old" : "new", cols[i].name);
		else if (cols[i].old && (ev->ops & (OP_INSERT | OP_SNAPSHOT)))
			fail_at(ld, s, "%s: old.%s: inserts and snapshot rows have no old row", what,
				cols[i].name);
		else if (!cols[i].old && (ev->ops & OP_DELETE))
			fail_at(ld, s, "%s: new.%s: deletes have no new row (use old.%s)", what,
				cols[i].name, cols[i].name);
	}
}

static void load_field(struct Loader *ld, struct EventDef *ev, struct EventField *f,
		       const config_setting_t *fs, const char *evname)
{
	char what[512];

	if (!config_setting_is_group(fs)) {
		fail_at(ld, fs, "event %s: each field must be a group { name = ...; number = ...; }",
			evname);
		return;
	}
	check_keys(ld, fs, field_keys);
	f->line = config_setting_source_line(fs);
	snprintf(ld->context, sizeof(ld->context), "event %s: field: ", evname);
	f->name = get_string(ld, fs, "name", NULL);
	snprintf(ld->context, sizeof(ld->context), "event %s: field \"%s\": ", evname, f->name);
	if (!ld->failed && !field_is_identifier(f->name, strlen(f->name)))
		fail_at(ld, fs, "event %s: field name \"%s\" is not an identifier", evname, f->name);
	snprintf(what, sizeof(what), "event %s: field \"%s\"", evname, f->name);

	const config_setting_t *num = config_setting_get_member(fs, "number");
	if (!num && !ld->failed)
		fail_at(ld, fs, "%s: number is required (field numbers are explicit and never reused)",
			what);
	else if (num && config_setting_type(num) != CONFIG_TYPE_INT)
		fail_at(ld, num, "%s: number must be an integer", what);
	else if (num) {
		int n = config_setting_get_int(num);
		if (n < 1 || n > 536870911 || (n >= 19000 && n <= 19999))
			fail_at(ld, num, "%s: number %d is not a valid protobuf field number", what, n);
		f->number = (uint32_t)n;
	}

	char *type = get_string(ld, fs, "type", NULL);
	bool known = field_type_parse(type, &f->type);
	if (!known && !ld->failed)
		fail_at(ld, config_setting_get_member(fs, "type"),
			"%s: unknown type \"%s\" (int32, int64, uint32, uint64, sint32, sint64, bool, float, double, string, bytes, timestamp, date, decimal, json, uuid, enum)",
			what, type);
	free(type);
	f->repeated = get_bool(ld, fs, "repeated", false);

	const config_setting_t *ev_values = config_setting_get_member(fs, "enum_values");
	if (f->type == FT_ENUM && known && !ev_values && !ld->failed)
		fail_at(ld, fs, "%s: an enum needs enum_values = [\"label\", ...]", what);
	if (ev_values && f->type != FT_ENUM && !ld->failed)
		fail_at(ld, ev_values, "%s: enum_values only applies to type \"enum\"", what);
	if (ev_values && !ld->failed) {
		int n = config_setting_length(ev_values);
		if (!config_setting_is_array(ev_values) || n == 0) {
			fail_at(ld, ev_values, "%s: enum_values must be a non-empty list of strings",
				what);
			return;
		}
		if (n > CFG_MAX_ENUM_VALUES) {
			fail_at(ld, ev_values, "%s: more than %d enum_values", what,
				CFG_MAX_ENUM_VALUES);
			return;
		}
		f->enum_values = calloc((size_t)n, sizeof(char *));
		for (int i = 0; i < n; i++) {
			const config_setting_t *v = config_setting_get_elem(ev_values, (unsigned)i);
			if (config_setting_type(v) != CONFIG_TYPE_STRING) {
				fail_at(ld, v, "%s: enum_values must be strings", what);
				return;
			}
			f->enum_values[f->n_enum_values++] = xstrdup(config_setting_get_string(v));
		}
	}

	f->required = get_bool(ld, fs, "required", false);
	if (!ld->failed && f->required && f->repeated)
		fail_at(ld, config_setting_get_member(fs, "required"),
			"%s: a repeated field cannot be required", what);
	const config_setting_t *vs = config_setting_get_member(fs, "value");
	if (ev->outbox_only) {
		/* The service encodes the payload: a value would never be evaluated. */
		if (vs && !ld->failed)
			fail_at(ld, vs, "%s: an outbox event has no value expressions (the service writes the payload)",
				what);
		snprintf(ld->context, sizeof(ld->context), "event %s: ", evname);
		return;
	}
	f->value_text = get_string(ld, fs, "value", NULL);
	snprintf(ld->context, sizeof(ld->context), "event %s: ", evname);
	if (ld->failed)
		return;
	snprintf(what, sizeof(what), "event %s: field \"%s\" value", evname, f->name);
	f->value = parse_expr(ld, vs, what, f->value_text);
	check_columns(ld, vs, what, ev, f->value);
}

static const struct {
	const char *name;
	unsigned bit;
} op_names[] = {
	{"insert", OP_INSERT}, {"update", OP_UPDATE},	  {"delete", OP_DELETE},
	{"truncate", OP_TRUNCATE}, {"snapshot", OP_SNAPSHOT},
};

static unsigned load_ops(struct Loader *ld, const config_setting_t *on, const char *evname)
{
	unsigned ops = 0;
	int n = config_setting_length(on);

	if (!config_setting_is_array(on) || n == 0) {
		fail_at(ld, on, "event %s: on must be a list like [\"insert\", \"update\"]", evname);
		return 0;
	}
	for (int i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *o = config_setting_get_elem(on, (unsigned)i);
		const char *name = config_setting_get_string(o);
		unsigned bit = 0;
		for (size_t k = 0; name && k < sizeof(op_names) / sizeof(op_names[0]); k++)
			if (strcmp(name, op_names[k].name) == 0)
				bit = op_names[k].bit;
		if (!bit)
			fail_at(ld, o,
				"event %s: unknown operation \"%s\" (insert, update, delete, truncate, snapshot)",
				evname, name ? name : "?");
		ops |= bit;
	}
	if ((ops & OP_TRUNCATE) && ops != OP_TRUNCATE && !ld->failed)
		fail_at(ld, on, "event %s: truncate has no row: declare it in an event of its own",
			evname);
	return ops;
}

/*
 * An optional expression setting; NULL when absent. as_text: the value is
 * used as text (Kafka key, ce_subject), so it is compiled as (expr)::text,
 * after the plain form was checked so errors point into what was written.
 */
static Expr *load_optional_expr(struct Loader *ld, const config_setting_t *es,
				const struct EventDef *ev, const char *key, bool as_text,
				char **text, int *line)
{
	char what[512];
	const config_setting_t *s = config_setting_get_member(es, key);

	*text = NULL;
	*line = ev->line;
	if (!s || ld->failed)
		return NULL;
	*line = config_setting_source_line(s);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fail_at(ld, s, "event %s: %s must be a string holding an SQL expression", ev->name,
			key);
		return NULL;
	}
	*text = xstrdup(config_setting_get_string(s));
	snprintf(what, sizeof(what), "event %s: %s", ev->name, key);
	Expr *e = parse_expr(ld, s, what, *text);
	check_columns(ld, s, what, ev, e);
	if (e && as_text && !ld->failed) {
		size_t len = strlen(*text) + 16;
		char *wrapped = malloc(len);
		if (!wrapped)
			abort();
		snprintf(wrapped, len, "(%s)::text", *text);
		expr_free(e);
		e = parse_expr(ld, s, what, wrapped);
		free(wrapped);
	}
	return e;
}

/*
 * reserved = (5, "total"): the numbers and names of removed fields. A list,
 * because libconfig's [arrays] hold one type only; an array of numbers or
 * of names is accepted too.
 */
static void load_reserved(struct Loader *ld, struct EventDef *ev, const config_setting_t *rs)
{
	int n = config_setting_length(rs);
	if (!(config_setting_is_list(rs) || config_setting_is_array(rs))) {
		fail_at(ld, rs, "event %s: reserved must be a list of field numbers and names, e.g. reserved = (5, \"total\")",
			ev->name);
		return;
	}
	if (n > CFG_MAX_FIELDS) {
		fail_at(ld, rs, "event %s: more than %d reserved entries", ev->name, CFG_MAX_FIELDS);
		return;
	}
	ev->reserved_numbers = calloc((size_t)n + 1, sizeof(*ev->reserved_numbers));
	ev->reserved_names = calloc((size_t)n + 1, sizeof(*ev->reserved_names));
	if (!ev->reserved_numbers || !ev->reserved_names)
		abort();
	for (int i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *r = config_setting_get_elem(rs, (unsigned)i);
		if (config_setting_type(r) == CONFIG_TYPE_INT) {
			int v = config_setting_get_int(r);
			if (v < 1 || v > 536870911 || (v >= 19000 && v <= 19999)) {
				fail_at(ld, r, "event %s: reserved %d is not a valid protobuf field number",
					ev->name, v);
				return;
			}
			for (size_t k = 0; k < ev->n_reserved_numbers; k++)
				if (ev->reserved_numbers[k] == (uint32_t)v) {
					fail_at(ld, r, "event %s: number %d is reserved twice", ev->name, v);
					return;
				}
			ev->reserved_numbers[ev->n_reserved_numbers++] = (uint32_t)v;
		} else if (config_setting_type(r) == CONFIG_TYPE_STRING) {
			const char *name = config_setting_get_string(r);
			if (!field_is_identifier(name, strlen(name))) {
				fail_at(ld, r, "event %s: reserved name \"%s\" is not an identifier",
					ev->name, name);
				return;
			}
			for (size_t k = 0; k < ev->n_reserved_names; k++)
				if (strcmp(ev->reserved_names[k], name) == 0) {
					fail_at(ld, r, "event %s: name \"%s\" is reserved twice", ev->name,
						name);
					return;
				}
			ev->reserved_names[ev->n_reserved_names++] = xstrdup(name);
		} else {
			fail_at(ld, r, "event %s: reserved holds field numbers and \"names\" only",
				ev->name);
			return;
		}
	}
}

/* An unqualified table is in public, as PostgreSQL's default search_path has it. Takes table. */
static char *qualified(char *table)
{
	if (!table || strchr(table, '.'))
		return table;
	size_t len = strlen(table) + 8;
	char *q = malloc(len);
	if (!q)
		abort();
	snprintf(q, len, "public.%s", table);
	free(table);
	return q;
}

/* "schema.table": one dot, with a name on each side. */
static bool valid_qualname(const char *name)
{
	const char *dot = strchr(name, '.');
	return dot && dot != name && dot[1] && !strchr(dot + 1, '.');
}

/* A column name PostgreSQL prints as written (or quoted, if a keyword): the filter is generated. */
static bool valid_key_column(const char *key)
{
	size_t n = strlen(key);
	return n > 0 && n <= 63 && !(key[0] >= '0' && key[0] <= '9') &&
	       strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/*
 * source.shard: one group, or a list of groups for several tables, each
 * splitting one table's rows over count instances (shard.h). Checked
 * after the events, whose tables a created publication lists.
 */
static void load_shards(struct Loader *ld, struct Config *cfg, const config_setting_t *shard)
{
	bool one = config_setting_is_group(shard);
	if (!one && !config_setting_is_list(shard)) {
		fail_at(ld, shard,
			"shard must be a group { table = \"schema.table\"; key = \"id\"; count = 2; index = 0; } or a list of them");
		return;
	}
	int n = one ? 1 : config_setting_length(shard);
	cfg->source.shards = calloc((size_t)n + 1, sizeof(struct ShardDef));
	if (!cfg->source.shards)
		abort();
	for (int i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *g = one ? shard : config_setting_get_elem(shard, (unsigned)i);
		if (!config_setting_is_group(g)) {
			fail_at(ld, g, "each shard must be a group { table = ...; key = ...; count = ...; index = ...; }");
			return;
		}
		check_keys(ld, g, shard_keys);
		struct ShardDef *sh = &cfg->source.shards[i];
		cfg->source.nshards = (size_t)i + 1;
		sh->line = config_setting_source_line(g);
		sh->table = qualified(get_string(ld, g, "table", NULL));
		sh->key = get_string(ld, g, "key", NULL);
		sh->count = get_int(ld, g, "count", 0, 2, SHARD_MAX_COUNT);
		if (!config_setting_get_member(g, "count"))
			fail_at(ld, g, "shard: count is required");
		sh->index = get_int(ld, g, "index", -1, 0, SHARD_MAX_COUNT - 1);
		if (!config_setting_get_member(g, "index"))
			fail_at(ld, g, "shard: index is required");
		if (ld->failed)
			return;
		if (!valid_qualname(sh->table) || strchr(sh->table, '"'))
			fail_at(ld, config_setting_get_member(g, "table"),
				"shard table \"%s\" must be schema.table", sh->table);
		else if (!valid_key_column(sh->key))
			fail_at(ld, config_setting_get_member(g, "key"),
				"shard key \"%s\" must be one column name of lower-case letters, digits and _ (an integer column, NOT NULL, in the replica identity)",
				sh->key);
		else if (sh->index >= sh->count)
			fail_at(ld, config_setting_get_member(g, "index"),
				"shard index %d must be below count %d (0 to %d)", sh->index, sh->count,
				sh->count - 1);
		for (int k = 0; k < i && !ld->failed; k++)
			if (strcmp(cfg->source.shards[k].table, sh->table) == 0)
				fail_at(ld, g, "table %s is sharded already (line %d)", sh->table,
					cfg->source.shards[k].line);
	}
	if (ld->failed)
		return;
	if (cfg->source.all_tables) {
		fail_at(ld, shard,
			"shard needs a publication FOR TABLE: a FOR ALL TABLES publication (all_tables = true) cannot filter rows");
		return;
	}
	/* The created publication lists source.tables, or else the events' tables. */
	for (size_t i = 0; i < cfg->source.nshards && !ld->failed; i++) {
		const struct ShardDef *sh = &cfg->source.shards[i];
		bool listed = false;
		for (size_t t = 0; t < cfg->source.ntables && !listed; t++) {
			const char *name = cfg->source.tables[t];
			listed = strcmp(name, sh->table) == 0 ||
				 (!strchr(name, '.') && strncmp(sh->table, "public.", 7) == 0 &&
				  strcmp(name, sh->table + 7) == 0);
		}
		for (size_t e = 0; e < cfg->nevents && !listed && !cfg->source.ntables; e++)
			listed = strcmp(cfg->events[e].table, sh->table) == 0;
		if (!listed)
			fail_at(ld, shard, "shard table %s is not in %s", sh->table,
				cfg->source.ntables ? "source.tables" : "any event's table");
	}
}

static void load_event(struct Loader *ld, struct Config *cfg, struct EventDef *ev,
		       const config_setting_t *es)
{
	if (!config_setting_is_group(es)) {
		fail_at(ld, es, "each event must be a group { name = ...; version = ...; }");
		return;
	}
	check_keys(ld, es, event_keys);
	ev->line = config_setting_source_line(es);
	snprintf(ld->context, sizeof(ld->context), "event: ");
	ev->name = get_string(ld, es, "name", NULL);
	snprintf(ld->context, sizeof(ld->context), "event %s: ", ev->name);
	if (!ld->failed && !valid_event_name(ev->name))
		fail_at(ld, config_setting_get_member(es, "name"),
			"event name \"%s\" must be a full protobuf name like shop.orders.OrderShipped",
			ev->name);
	ev->version = get_int(ld, es, "version", 0, 1, 1000000);
	if (!ld->failed && !config_setting_get_member(es, "version"))
		fail_at(ld, es, "event %s: version is required", ev->name);

	if (config_setting_get_member(es, "outbox")) {
		ev->outbox = qualified(get_string(ld, es, "outbox", NULL));
		if (!ld->failed && !valid_qualname(ev->outbox))
			fail_at(ld, config_setting_get_member(es, "outbox"),
				"event %s: outbox \"%s\" must be schema.table", ev->name, ev->outbox);
	}
	char *handover = get_string(ld, es, "handover", "");
	if (!ld->failed && handover[0] && strcmp(handover, "outbox") != 0)
		fail_at(ld, config_setting_get_member(es, "handover"),
			"event %s: handover must be \"outbox\"", ev->name);
	ev->handover = handover[0] != '\0';
	free(handover);
	if (!ld->failed && ev->handover && (!ev->outbox || !config_setting_get_member(es, "table")))
		fail_at(ld, config_setting_get_member(es, "handover"),
			"event %s: handover = \"outbox\" needs both a table (the translator) and an outbox",
			ev->name);
	if (!ld->failed && ev->outbox && config_setting_get_member(es, "table") && !ev->handover)
		fail_at(ld, es,
			"event %s: declared from a table and from an outbox: add handover = \"outbox\" (the outbox's record replaces the translator's event per transaction)",
			ev->name);
	ev->outbox_only = ev->outbox && !ev->handover;
	if (ev->outbox_only && !ld->failed) {
		static const char *const translator_only[] = {"on", "when", "key", "subject", NULL};
		for (size_t k = 0; translator_only[k] && !ld->failed; k++)
			if (config_setting_get_member(es, translator_only[k]))
				fail_at(ld, config_setting_get_member(es, translator_only[k]),
					"event %s: %s belongs to a translator; an outbox event's record carries its key and subject",
					ev->name, translator_only[k]);
		ev->table = xstrdup(ev->outbox);
		ev->ops = OP_INSERT;
	} else {
		ev->table = qualified(get_string(ld, es, "table", NULL));
		const config_setting_t *on = config_setting_get_member(es, "on");
		if (!on && !ld->failed)
			fail_at(ld, es, "event %s: on is required, e.g. on = [\"insert\"]", ev->name);
		else if (on && !ld->failed)
			ev->ops = load_ops(ld, on, ev->name);
	}
	if (!ld->failed && ev->handover && strcmp(ev->table, ev->outbox) == 0)
		fail_at(ld, es, "event %s: the outbox table cannot also be the translator's table", ev->name);

	ev->topic = get_string(ld, es, "topic", NULL);
	check_topic(ld, config_setting_get_member(es, "topic"), "topic", ev->topic);
	char *policy = get_string(ld, es, "on_error", "halt");
	if (strcmp(policy, "halt") == 0)
		ev->on_error = ON_ERROR_HALT;
	else if (strcmp(policy, "dead_letter") == 0)
		ev->on_error = ON_ERROR_DEAD_LETTER;
	else if (!ld->failed)
		fail_at(ld, config_setting_get_member(es, "on_error"),
			"event %s: on_error must be \"halt\" or \"dead_letter\"", ev->name);
	free(policy);
	if (!ld->failed && ev->on_error == ON_ERROR_DEAD_LETTER && !cfg->sink.dead_letter_topic[0])
		fail_at(ld, config_setting_get_member(es, "on_error"),
			"event %s: on_error = \"dead_letter\" needs sink.dead_letter_topic", ev->name);

	ev->when = load_optional_expr(ld, es, ev, "when", false, &ev->when_text, &ev->when_line);
	ev->key = load_optional_expr(ld, es, ev, "key", true, &ev->key_text, &ev->key_line);
	ev->subject =
		load_optional_expr(ld, es, ev, "subject", true, &ev->subject_text, &ev->subject_line);

	const config_setting_t *reserved = config_setting_get_member(es, "reserved");
	if (reserved && !ld->failed)
		load_reserved(ld, ev, reserved);

	const config_setting_t *fields = config_setting_get_member(es, "fields");
	if (!fields && !ld->failed) {
		fail_at(ld, es, "event %s: fields is required", ev->name);
		return;
	}
	if (ld->failed)
		return;
	if (!config_setting_is_list(fields) || config_setting_length(fields) == 0) {
		fail_at(ld, fields, "event %s: fields must be a list ( { ... }, { ... } )", ev->name);
		return;
	}
	size_t n = (size_t)config_setting_length(fields);
	if (n > CFG_MAX_FIELDS) {
		fail_at(ld, fields, "event %s: more than %d fields", ev->name, CFG_MAX_FIELDS);
		return;
	}
	ev->fields = calloc(n, sizeof(struct EventField));
	for (size_t i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *fs = config_setting_get_elem(fields, (unsigned)i);
		load_field(ld, ev, &ev->fields[i], fs, ev->name);
		ev->nfields = i + 1;
		for (size_t k = 0; k < i && !ld->failed; k++) {
			if (ev->fields[k].number == ev->fields[i].number)
				fail_at(ld, fs, "event %s: field \"%s\" reuses number %u of field \"%s\"",
					ev->name, ev->fields[i].name, ev->fields[i].number,
					ev->fields[k].name);
			else if (strcmp(ev->fields[k].name, ev->fields[i].name) == 0)
				fail_at(ld, fs, "event %s: field \"%s\" is declared twice", ev->name,
					ev->fields[i].name);
		}
		for (size_t k = 0; k < ev->n_reserved_numbers && !ld->failed; k++)
			if (ev->reserved_numbers[k] == ev->fields[i].number)
				fail_at(ld, fs, "event %s: field \"%s\" uses number %u, which is reserved",
					ev->name, ev->fields[i].name, ev->fields[i].number);
		for (size_t k = 0; k < ev->n_reserved_names && !ld->failed; k++)
			if (strcmp(ev->reserved_names[k], ev->fields[i].name) == 0)
				fail_at(ld, fs, "event %s: field name \"%s\" is reserved", ev->name,
					ev->fields[i].name);
	}
	/* What `schema generate` and protoc would refuse is refused now. */
	char why[512];
	if (!ld->failed && schema_check_event(ev, why, sizeof(why)) < 0)
		fail_at(ld, es, "%s", why);
}

static int by_name_version(const struct EventDef *a, const struct EventDef *b)
{
	int c = strcmp(a->name, b->name);
	return c ? c : (a->version > b->version) - (a->version < b->version);
}

/* qsort order: name, version, then place in the file (the first declaration first). */
static int by_name_version_place(const void *pa, const void *pb)
{
	const struct EventDef *a = *(const struct EventDef *const *)pa;
	const struct EventDef *b = *(const struct EventDef *const *)pb;
	int c = by_name_version(a, b);
	return c ? c : (a > b) - (a < b);
}

static void load_events(struct Loader *ld, struct Config *cfg, const config_setting_t *events)
{
	if (!config_setting_is_list(events)) {
		fail_at(ld, events, "events must be a list ( { ... }, { ... } )");
		return;
	}
	size_t n = (size_t)config_setting_length(events);
	cfg->events = calloc(n ? n : 1, sizeof(struct EventDef));
	for (size_t i = 0; i < n && !ld->failed && keep_loading(ld); i++) {
		const config_setting_t *es = config_setting_get_elem(events, (unsigned)i);
		load_event(ld, cfg, &cfg->events[i], es);
		cfg->nevents = i + 1;
	}
	if (ld->failed)
		return;
	/* Sorted, so that thousands of events are not each compared with all the others. */
	const struct EventDef **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted) {
		fail_at(ld, events, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &cfg->events[i];
	qsort(sorted, n, sizeof(*sorted), by_name_version_place);
	for (size_t i = 1; i < n && !ld->failed; i++)
		if (by_name_version(sorted[i - 1], sorted[i]) == 0)
			fail_at(ld,
				config_setting_get_elem(events, (unsigned)(sorted[i] - cfg->events)),
				"event %s version %d is declared twice (line %d)", sorted[i]->name,
				sorted[i]->version, sorted[i - 1]->line);
	free(sorted);
}

static void load_owners(struct Loader *ld, struct Config *cfg, const config_setting_t *owners)
{
	if (!config_setting_is_list(owners)) {
		fail_at(ld, owners,
			"owners must be a list ( { table = \"public.orders\"; role = \"orders_service\"; } )");
		return;
	}
	size_t n = (size_t)config_setting_length(owners);
	cfg->owners = calloc(n ? n : 1, sizeof(*cfg->owners));
	if (!cfg->owners) {
		fail_at(ld, owners, "out of memory");
		return;
	}
	snprintf(ld->context, sizeof(ld->context), "owners: ");
	for (size_t i = 0; i < n && !ld->failed; i++) {
		const config_setting_t *os = config_setting_get_elem(owners, (unsigned)i);
		if (!config_setting_is_group(os)) {
			fail_at(ld, os, "each owner must be a group { table = \"...\"; role = \"...\"; }");
			return;
		}
		check_keys(ld, os, owner_keys);
		struct TableOwner *o = &cfg->owners[i];
		cfg->nowners = i + 1;
		o->line = config_setting_source_line(os);
		char *table = get_string(ld, os, "table", NULL);
		o->role = get_string(ld, os, "role", NULL);
		/* An unqualified table is in public, as for events. */
		if (!strchr(table, '.')) {
			size_t len = strlen(table) + 8;
			o->table = malloc(len);
			if (o->table)
				snprintf(o->table, len, "public.%s", table);
			free(table);
		} else {
			o->table = table;
		}
		if (ld->failed)
			return;
		const char *dot = strchr(o->table, '.');
		if (!o->table || dot == o->table || !dot[1] || strchr(dot + 1, '.'))
			fail_at(ld, config_setting_get_member(os, "table"),
				"owner table \"%s\" must be schema.table", o->table ? o->table : "");
		else if (!o->role[0])
			fail_at(ld, config_setting_get_member(os, "role"), "owner role must not be empty");
		for (size_t k = 0; k < i && !ld->failed; k++)
			if (strcmp(cfg->owners[k].table, o->table) == 0)
				fail_at(ld, os, "table %s has an owner already (line %d)", o->table,
					cfg->owners[k].line);
	}
	ld->context[0] = '\0';
}

static void load_cloudevents(struct Loader *ld, struct Config *cfg, const config_setting_t *ce)
{
	if (ce && !config_setting_is_group(ce)) {
		fail_at(ld, ce, "cloudevents must be a group: cloudevents = { source = \"...\"; }");
		return;
	}
	if (ce)
		check_keys(ld, ce, cloudevents_keys);
	/* ce_source names the producer: by default this tablecast and its slot. */
	char def[256];
	snprintf(def, sizeof(def), "tablecast://%s", cfg->source.slot ? cfg->source.slot : "");
	cfg->cloudevents.source = ce ? get_string(ld, ce, "source", def) : xstrdup(def);
	cfg->cloudevents.dataschema_base =
		ce ? get_string(ld, ce, "dataschema_base", "") : xstrdup("");
	char *mode = ce ? get_string(ld, ce, "mode", "binary") : xstrdup("binary");
	if (strcmp(mode, "structured") == 0)
		cfg->cloudevents.structured = true;
	else if (strcmp(mode, "binary") != 0)
		fail_at(ld, config_setting_get_member(ce, "mode"),
			"cloudevents.mode must be \"binary\" or \"structured\"");
	free(mode);
}

struct Config *cfg_load(const char *path, char *err, size_t errlen)
{
	return cfg_load_hooked(path, NULL, err, errlen);
}

struct Config *cfg_load_hooked(const char *path, const struct CfgLoadHooks *hooks, char *err,
			       size_t errlen)
{
	struct Loader ld = {.path = path, .err = err, .errlen = errlen, .hooks = hooks};
	config_t lc;
	struct Config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	cfg->path = xstrdup(path);

	precheck_file(&ld, path, NULL, 0, 0);
	if (ld.failed || !keep_loading(&ld)) {
		cfg_free(cfg);
		return NULL;
	}
	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		/* A syntax error in an @include'd file is that file's. */
		const char *file = config_error_file(&lc) ? config_error_file(&lc) : path;
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", file, config_error_line(&lc),
				 config_error_text(&lc));
		log_mask_controls(err);
		config_destroy(&lc);
		cfg_free(cfg);
		return NULL;
	}

	const config_setting_t *root = config_root_setting(&lc);
	check_strings(&ld, root);
	check_keys(&ld, root, top_keys);

	char *level = get_string(&ld, root, "log_level", "info");
	if (!ld.failed && !log_parse_level(level, &cfg->log_level))
		fail_at(&ld, config_setting_get_member(root, "log_level"),
			"unknown log_level \"%s\" (expected error, warning, info or debug)", level);
	free(level);
	cfg->state_dir = get_string(&ld, root, "state_dir", "/var/lib/tablecast");

	const config_setting_t *src = config_setting_get_member(root, "source");
	if (!src || !config_setting_is_group(src))
		fail_at(&ld, src ? src : root, "source must be a group: source = { conninfo = \"...\"; }");
	else
		load_source(&ld, cfg, src);

	const config_setting_t *sink = config_setting_get_member(root, "sink");
	if (sink && !config_setting_is_group(sink))
		fail_at(&ld, sink, "sink must be a group: sink = { type = \"stdout\"; }");
	else if (sink)
		load_sink(&ld, cfg, sink);
	else {
		cfg->sink.path = xstrdup("");
		cfg->sink.dead_letter_topic = xstrdup("");
		cfg->sink.flush_timeout_ms = 30000;
		cfg->sink.offsets_topic = xstrdup("tablecast.offsets");
	}

	if (!ld.failed)
		load_cloudevents(&ld, cfg, config_setting_get_member(root, "cloudevents"));
	const config_setting_t *metrics = config_setting_get_member(root, "metrics");
	cfg->metrics.max_slot_lag = 1LL << 30;
	if (metrics && !config_setting_is_group(metrics)) {
		fail_at(&ld, metrics, "metrics must be a group: metrics = { listen = \"127.0.0.1:9187\"; }");
		cfg->metrics.listen = xstrdup("");
	} else if (metrics) {
		check_keys(&ld, metrics, metrics_keys);
		cfg->metrics.listen = get_string(&ld, metrics, "listen", "");
		struct sockaddr_in addr;
		char why[256];
		if (!ld.failed && cfg->metrics.listen[0] &&
		    http_parse_listen(cfg->metrics.listen, &addr, why, sizeof(why)) < 0)
			fail_at(&ld, config_setting_get_member(metrics, "listen"), "%s", why);
		const config_setting_t *lag = config_setting_get_member(metrics, "max_slot_lag");
		if (lag && config_setting_type(lag) != CONFIG_TYPE_INT &&
		    config_setting_type(lag) != CONFIG_TYPE_INT64)
			fail_at(&ld, lag, "max_slot_lag must be a number of bytes");
		else if (lag)
			cfg->metrics.max_slot_lag = config_setting_get_int64(lag);
		cfg->metrics.audit_interval_s = get_int(&ld, metrics, "audit_interval", 0, 0, 86400);
		if (!ld.failed && cfg->metrics.audit_interval_s && !cfg->metrics.listen[0])
			fail_at(&ld, config_setting_get_member(metrics, "audit_interval"),
				"metrics.audit_interval needs metrics.listen");
	} else {
		cfg->metrics.listen = xstrdup("");
	}
	const config_setting_t *events = config_setting_get_member(root, "events");
	if (events && !ld.failed)
		load_events(&ld, cfg, events);
	const config_setting_t *owners = config_setting_get_member(root, "owners");
	if (owners && !ld.failed)
		load_owners(&ld, cfg, owners);
	const config_setting_t *shard = src ? config_setting_get_member(src, "shard") : NULL;
	if (shard && !ld.failed)
		load_shards(&ld, cfg, shard);
	if (!ld.failed && cfg->nevents == 0 && !cfg->sink.raw_changes)
		fail_at(&ld, root,
			"no events declared: add events = ( ... ), or set sink.format = \"changes\" to see raw changes");

	config_destroy(&lc);
	if (ld.failed) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

void cfg_free(struct Config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->source.conninfo);
	free(cfg->source.slot);
	free(cfg->source.publication);
	free(cfg->source.signal_table);
	for (size_t i = 0; i < cfg->source.ntables; i++)
		free(cfg->source.tables[i]);
	free(cfg->source.tables);
	for (size_t i = 0; i < cfg->source.nshards; i++) {
		free(cfg->source.shards[i].table);
		free(cfg->source.shards[i].key);
	}
	free(cfg->source.shards);
	free(cfg->sink.path);
	free(cfg->sink.dead_letter_topic);
	free(cfg->sink.offsets_topic);
	for (size_t i = 0; i < cfg->sink.nkafka; i++)
		free(cfg->sink.kafka[i]);
	free(cfg->sink.kafka);
	free(cfg->metrics.listen);
	free(cfg->cloudevents.source);
	free(cfg->cloudevents.dataschema_base);
	for (size_t i = 0; i < cfg->nevents; i++) {
		struct EventDef *ev = &cfg->events[i];
		for (size_t k = 0; k < ev->nfields; k++) {
			struct EventField *f = &ev->fields[k];
			free(f->name);
			for (size_t v = 0; v < f->n_enum_values; v++)
				free(f->enum_values[v]);
			free(f->enum_values);
			free(f->value_text);
			expr_free(f->value);
		}
		free(ev->fields);
		for (size_t k = 0; k < ev->n_reserved_names; k++)
			free(ev->reserved_names[k]);
		free(ev->reserved_names);
		free(ev->reserved_numbers);
		free(ev->name);
		free(ev->table);
		free(ev->outbox);
		free(ev->topic);
		free(ev->when_text);
		free(ev->key_text);
		free(ev->subject_text);
		expr_free(ev->when);
		expr_free(ev->key);
		expr_free(ev->subject);
	}
	free(cfg->events);
	for (size_t i = 0; i < cfg->nowners; i++) {
		free(cfg->owners[i].table);
		free(cfg->owners[i].role);
	}
	free(cfg->owners);
	free(cfg);
}

static bool differ(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

static void note(char *out, size_t outlen, const char *name)
{
	size_t len = strlen(out);
	snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", name);
}

void cfg_fixed_differences(const struct Config *a, const struct Config *b, char *out,
			   size_t outlen)
{
	bool tables = a->source.ntables != b->source.ntables;
	for (size_t i = 0; !tables && i < a->source.ntables; i++)
		tables = differ(a->source.tables[i], b->source.tables[i]);
	bool kafka = a->sink.nkafka != b->sink.nkafka;
	for (size_t i = 0; !kafka && i < a->sink.nkafka; i++)
		kafka = differ(a->sink.kafka[i], b->sink.kafka[i]);

	out[0] = '\0';
	if (differ(a->state_dir, b->state_dir))
		note(out, outlen, "state_dir");
	if (differ(a->source.conninfo, b->source.conninfo))
		note(out, outlen, "source.conninfo");
	if (differ(a->source.slot, b->source.slot))
		note(out, outlen, "source.slot");
	if (differ(a->source.publication, b->source.publication))
		note(out, outlen, "source.publication");
	if (a->source.create_slot != b->source.create_slot)
		note(out, outlen, "source.create_slot");
	bool shards = a->source.nshards != b->source.nshards;
	for (size_t i = 0; i < a->source.nshards && !shards; i++) {
		const struct ShardDef *x = &a->source.shards[i], *y = &b->source.shards[i];
		shards = strcmp(x->table, y->table) != 0 || strcmp(x->key, y->key) != 0 ||
			 x->count != y->count || x->index != y->index;
	}
	if (shards)
		note(out, outlen, "source.shard");
	if (a->source.create_publication != b->source.create_publication || tables ||
	    a->source.all_tables != b->source.all_tables)
		note(out, outlen, "source.create_publication/tables");
	if (a->source.status_interval_ms != b->source.status_interval_ms)
		note(out, outlen, "source.status_interval");
	if (a->source.max_in_flight != b->source.max_in_flight)
		note(out, outlen, "source.max_in_flight");
	if (a->source.release_after_ms != b->source.release_after_ms)
		note(out, outlen, "source.release_after");
	if (a->source.standby_poll_ms != b->source.standby_poll_ms)
		note(out, outlen, "source.standby_poll_interval");
	if (a->source.keepalives_idle_s != b->source.keepalives_idle_s ||
	    a->source.keepalives_interval_s != b->source.keepalives_interval_s ||
	    a->source.keepalives_count != b->source.keepalives_count)
		note(out, outlen, "source.keepalives_idle/interval/count");
	if (a->source.readd_recreated != b->source.readd_recreated ||
	    a->source.guard_interval_ms != b->source.guard_interval_ms)
		note(out, outlen, "source.on_table_recreated/guard_interval");
	if (a->source.snapshot_initial != b->source.snapshot_initial ||
	    a->source.snapshot_workers != b->source.snapshot_workers)
		note(out, outlen, "source.snapshot/snapshot_workers");
	if (differ(a->source.signal_table, b->source.signal_table) ||
	    a->source.backfill_chunk != b->source.backfill_chunk ||
	    a->source.backfill_timeout_ms != b->source.backfill_timeout_ms ||
	    a->source.backfill_retention_s != b->source.backfill_retention_s)
		note(out, outlen, "source.signal_table/backfill_chunk/backfill_timeout/backfill_retention");
	if (a->sink.type != b->sink.type || a->sink.raw_changes != b->sink.raw_changes ||
	    differ(a->sink.path, b->sink.path))
		note(out, outlen, "sink.type/format/path");
	if (kafka)
		note(out, outlen, "sink.kafka");
	if (a->sink.flush_timeout_ms != b->sink.flush_timeout_ms)
		note(out, outlen, "sink.flush_timeout");
	if (a->sink.exactly_once != b->sink.exactly_once ||
	    differ(a->sink.offsets_topic, b->sink.offsets_topic) ||
	    a->sink.transaction_ms != b->sink.transaction_ms)
		note(out, outlen, "sink.exactly_once/offsets_topic/transaction_ms");
}

const struct ShardDef *cfg_shard(const struct Config *cfg, const char *qualname)
{
	for (size_t i = 0; i < cfg->source.nshards; i++)
		if (strcmp(cfg->source.shards[i].table, qualname) == 0)
			return &cfg->source.shards[i];
	return NULL;
}
