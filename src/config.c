/* Configuration: load and validate a libconfig file into plain settings. */
#include "autoconf.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/*
 * Every setting is checked against a list of known keys, so a typo is an
 * error with its line, not a silently ignored option.
 */
static const char *const top_keys[] = {"log_level", "state_dir", "source", "sink", NULL};
static const char *const source_keys[] = {"conninfo", "slot", "publication", "create_slot",
					  "create_publication", "tables", "status_interval",
					  "max_in_flight", NULL};
static const char *const sink_keys[] = {"type", "path", NULL};

struct Loader {
	const char *path;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail_at(struct Loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct Loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Settings that are missing altogether have no line: name the file only. */
	int line = s ? config_setting_source_line(s) : 0;
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line, msg);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, msg);
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

static char *xstrdup(const char *s)
{
	char *copy = strdup(s);
	if (!copy) {
		fputs("tablecast: out of memory\n", stderr);
		abort();
	}
	return copy;
}

/* A string setting; def when absent (NULL def = required). */
static char *get_string(struct Loader *ld, const config_setting_t *group, const char *name,
			const char *def)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	if (!s) {
		if (!def)
			fail_at(ld, group, "%s.%s is required", config_setting_name(group), name);
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
	if (!ld->failed && (strlen(cfg->source.publication) == 0 ||
			    strchr(cfg->source.publication, '"')))
		fail_at(ld, config_setting_get_member(src, "publication") ?: src,
			"publication must be a non-empty name without double quotes");
}

static void load_sink(struct Loader *ld, struct Config *cfg, const config_setting_t *sink)
{
	check_keys(ld, sink, sink_keys);
	char *type = get_string(ld, sink, "type", "stdout");
	cfg->sink.path = get_string(ld, sink, "path", "");
	if (strcmp(type, "stdout") == 0)
		cfg->sink.type = SINK_STDOUT;
	else if (strcmp(type, "file") == 0)
		cfg->sink.type = SINK_FILE;
	else
		fail_at(ld, config_setting_get_member(sink, "type"),
			"unknown sink type \"%s\" (expected stdout or file)", type);
	if (!ld->failed && cfg->sink.type == SINK_FILE && cfg->sink.path[0] == '\0')
		fail_at(ld, sink, "sink.path is required for a file sink");
	free(type);
}

struct Config *cfg_load(const char *path, char *err, size_t errlen)
{
	struct Loader ld = {.path = path, .err = err, .errlen = errlen};
	config_t lc;
	struct Config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	cfg->path = xstrdup(path);

	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
				 config_error_text(&lc));
		config_destroy(&lc);
		cfg_free(cfg);
		return NULL;
	}

	const config_setting_t *root = config_root_setting(&lc);
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
	else
		cfg->sink.path = xstrdup("");

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
	for (size_t i = 0; i < cfg->source.ntables; i++)
		free(cfg->source.tables[i]);
	free(cfg->source.tables);
	free(cfg->sink.path);
	free(cfg);
}
