/* Contract cases: offline tests of the configured events, read from case files. */
#include "autoconf.h"

#include <ctype.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "casefile.h"
#include "encoder.h"
#include "strbuf.h"
#include "tablecast/v1/change.pb-c.h"
#include "translator.h"
#include "value.h"
#include "wire.h"

/*
 * A case's outcome is compared as text lines, one list for what the case
 * expects and one for what the translator produced, e.g.
 *	event shop.orders.OrderShipped v2
 *	  key: 42
 *	  carrier: DHL
 *	dead letter of shop.orders.OrderLineAdded v1: field "quantity" ...
 * so a failure prints as a line diff of the two.
 */
struct Lines {
	char **v;
	size_t n, cap;
	bool broken; /* out of memory */
};

static void lines_add(struct Lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void lines_add(struct Lines *l, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	if (l->broken)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->broken = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		l->broken = true;
		return;
	}
	l->v[l->n++] = s;
}

static void lines_free(struct Lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct Lines){0};
}

/* ---- tables: columns with PostgreSQL types --------------------------------- */

/* Other spellings of the type names value_type_name prints. */
static const struct {
	const char *alias, *name;
} type_aliases[] = {
    {"int8", "bigint"},
    {"int4", "integer"},
    {"int", "integer"},
    {"int2", "smallint"},
    {"bool", "boolean"},
    {"float8", "double precision"},
    {"float", "double precision"},
    {"float4", "real"},
    {"varchar", "character varying"},
    {"char", "character"},
    {"bpchar", "character"},
    {"decimal", "numeric"},
    {"timestamp", "timestamp without time zone"},
    {"timestamptz", "timestamp with time zone"},
};

/* The largest OID among the built-in types value.c knows. */
#define CASE_MAX_BUILTIN_OID 4000

/*
 * The OID of a type as a case file names it ("bigint", "numeric(12,2)",
 * "timestamptz", "text[]"); 0 for a name tablecast does not know, which
 * is read as a custom type (an enum, a domain): text, as `run` reads one.
 */
static uint32_t type_oid(const char *spec)
{
	char base[128];
	size_t n = 0;
	bool array = false;

	for (const char *p = spec; *p && n + 1 < sizeof(base); p++) {
		if (*p == '(') {
			while (*p && *p != ')')
				p++;
			if (!*p)
				break;
			continue;
		}
		if (p[0] == '[' && p[1] == ']') {
			array = true;
			p++;
			continue;
		}
		base[n++] = (char)tolower((unsigned char)*p);
	}
	while (n && base[n - 1] == ' ')
		n--;
	base[n] = '\0';
	const char *name = base;
	for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
		if (strcmp(base, type_aliases[i].alias) == 0)
			name = type_aliases[i].name;
	char want[160];
	snprintf(want, sizeof(want), "%s%s", name, array ? "[]" : "");
	for (uint32_t oid = 1; oid <= CASE_MAX_BUILTIN_OID; oid++) {
		const char *t = value_type_name(oid);
		if (t && strcmp(t, want) == 0)
			return oid;
	}
	return 0;
}

/* Custom types get OIDs from here on, as user-defined types do in PostgreSQL. */
#define CASE_FIRST_CUSTOM_OID 16384

struct Table {
	struct Relation rel;
	int line;
};

struct CaseFile {
	const char *path;
	config_t lc;
	struct Table *tables;
	size_t ntables;
};

static int file_fail(const struct CaseFile *cf, const config_setting_t *s, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int file_fail(const struct CaseFile *cf, const config_setting_t *s, char *err, size_t errlen,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", cf->path, s ? config_setting_source_line(s) : 0, msg);
	return -1;
}

static const char *member_string(const config_setting_t *s, const char *name)
{
	const char *v = NULL;
	return config_setting_lookup_string(s, name, &v) ? v : NULL;
}

static void free_tables(struct CaseFile *cf)
{
	for (size_t t = 0; t < cf->ntables; t++) {
		struct Relation *rel = &cf->tables[t].rel;
		for (uint16_t a = 0; a < rel->natts; a++)
			free(rel->atts[a].name);
		free(rel->atts);
		free(rel->nspname);
		free(rel->relname);
		free(rel->qualname);
	}
	free(cf->tables);
	cf->tables = NULL;
	cf->ntables = 0;
}

/*
 * tables = ( { name = "public.orders"; columns = ( ["id", "bigint"], ... ); } );
 * Each becomes a Relation as a Relation message would describe it.
 */
static int load_tables(struct CaseFile *cf, char *err, size_t errlen)
{
	const config_setting_t *list = config_lookup(&cf->lc, "tables");
	if (!list || !config_setting_is_list(list))
		return file_fail(cf, list, err, errlen,
		                 "tables must be a list: tables = ( { name = \"public.orders\"; "
		                 "columns = ( [\"id\", \"bigint\"] ); } )");
	int count = config_setting_length(list);
	cf->tables = calloc(count ? (size_t)count : 1, sizeof(struct Table));
	if (!cf->tables)
		return file_fail(cf, list, err, errlen, "out of memory");
	uint32_t custom = CASE_FIRST_CUSTOM_OID;
	for (int i = 0; i < count; i++) {
		const config_setting_t *t = config_setting_get_elem(list, (unsigned)i);
		const char *name = config_setting_is_group(t) ? member_string(t, "name") : NULL;
		const config_setting_t *cols =
		    name ? config_setting_get_member(t, "columns") : NULL;
		const char *dot = name ? strchr(name, '.') : NULL;
		if (!dot || !cols || !config_setting_is_list(cols) ||
		    config_setting_length(cols) < 1)
			return file_fail(cf, t, err, errlen,
			                 "a table needs name = \"schema.table\" and a list of "
			                 "columns, each [\"name\", \"type\"]");
		struct Table *tab = &cf->tables[cf->ntables++];
		struct Relation *rel = &tab->rel;
		int ncols = config_setting_length(cols);
		tab->line = config_setting_source_line(t);
		rel->relid = (uint32_t)i + 1;
		rel->generation = 1;
		rel->replident = 'f';
		rel->qualname = strdup(name);
		rel->nspname = strndup(name, (size_t)(dot - name));
		rel->relname = strdup(dot + 1);
		rel->atts = calloc((size_t)ncols, sizeof(struct RelColumn));
		if (!rel->qualname || !rel->nspname || !rel->relname || !rel->atts)
			return file_fail(cf, t, err, errlen, "out of memory");
		for (int c = 0; c < ncols; c++) {
			const config_setting_t *col = config_setting_get_elem(cols, (unsigned)c);
			const char *cname = config_setting_get_string_elem(col, 0);
			const char *ctype = config_setting_get_string_elem(col, 1);
			if (!config_setting_is_array(col) || config_setting_length(col) != 2 ||
			    !cname || !ctype)
				return file_fail(cf, col, err, errlen,
				                 "a column is [\"name\", \"type\"], e.g. "
				                 "[\"total\", \"numeric(12,2)\"]");
			struct RelColumn *att = &rel->atts[rel->natts++];
			att->name = strdup(cname);
			if (!att->name)
				return file_fail(cf, col, err, errlen, "out of memory");
			att->typoid = type_oid(ctype);
			if (!att->typoid)
				att->typoid = custom++;
			att->typmod = -1;
		}
	}
	return 0;
}

static const struct Relation *find_table(const struct CaseFile *cf, const char *name)
{
	for (size_t t = 0; t < cf->ntables; t++)
		if (strcmp(cf->tables[t].rel.qualname, name) == 0)
			return &cf->tables[t].rel;
	return NULL;
}

/* ---- values as text --------------------------------------------------------- */

/* A scalar setting as text: strings as they are, numbers in decimal, booleans as bool_text does. */
static bool setting_text(const config_setting_t *s, bool pg_bool, struct StrBuf *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		sb_puts(out, config_setting_get_string(s));
		return true;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		sb_printf(out, "%lld", config_setting_get_int64(s));
		return true;
	case CONFIG_TYPE_FLOAT:
		sb_printf(out, "%.17g", config_setting_get_float(s));
		return true;
	case CONFIG_TYPE_BOOL:
		sb_puts(out, config_setting_get_bool(s) ? (pg_bool ? "t" : "true")
		                                        : (pg_bool ? "f" : "false"));
		return true;
	default:
		return false;
	}
}

/* An expected field value: a scalar, or a list of them for a repeated field ("[a, b]"). */
static bool expected_text(const config_setting_t *s, struct StrBuf *out)
{
	if (!config_setting_is_aggregate(s))
		return setting_text(s, false, out);
	sb_putc(out, '[');
	for (int i = 0; i < config_setting_length(s); i++) {
		if (i)
			sb_puts(out, ", ");
		if (!setting_text(config_setting_get_elem(s, (unsigned)i), false, out))
			return false;
	}
	sb_putc(out, ']');
	return true;
}

/* A decoded field value as the case file writes it. */
static void value_text(const struct EventField *f, const struct Value *v, Arena *arena,
                       struct StrBuf *out)
{
	char buf[VALUE_FLOAT_BUFSIZE > VALUE_TS_BUFSIZE ? VALUE_FLOAT_BUFSIZE : VALUE_TS_BUFSIZE];
	switch (v->kind) {
	case VAL_NULL:
		break;
	case VAL_BOOL:
		sb_puts(out, v->b ? "true" : "false");
		break;
	case VAL_INT:
		sb_printf(out, "%" PRId64, v->i);
		break;
	case VAL_FLOAT:
		value_format_float(v->f, f->type == FT_FLOAT, buf);
		sb_puts(out, buf);
		break;
	case VAL_NUMERIC:
	case VAL_TEXT:
		sb_append(out, v->s.p, v->s.len);
		break;
	case VAL_BYTEA:
		sb_puts(out, "\\x");
		for (size_t i = 0; i < v->s.len; i++)
			sb_printf(out, "%02x", (unsigned char)v->s.p[i]);
		break;
	case VAL_TIMESTAMP: {
		char ts[ENC_TS_BUFSIZE];
		enc_format_timestamp(v->ts, ts);
		sb_puts(out, ts);
		break;
	}
	case VAL_DATE:
		value_format_date(v->date, buf);
		sb_puts(out, buf);
		break;
	case VAL_ARRAY:
		sb_putc(out, '[');
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				sb_puts(out, ", ");
			value_text(f, &v->arr.elems[i], arena, out);
		}
		sb_putc(out, ']');
		break;
	}
}

static bool value_present(const struct Value *v)
{
	return v->kind != VAL_NULL && !(v->kind == VAL_ARRAY && v->arr.n == 0);
}

/* ---- running one case -------------------------------------------------------- */

struct Run {
	const struct Config *cfg;
	Arena *arena;
	struct Value *values; /* decoded fields, sized for the widest event */
	struct Lines actual;
	struct StrBuf scratch;
};

/* The type URL structured mode must have put in proto_data for this record. */
static void expected_type_url(const struct Event *ev, char *buf, size_t len)
{
	char full[300];
	if (ev->def)
		enc_message_full_name(ev->def, full, sizeof(full));
	else
		snprintf(full, sizeof(full), "tablecast.v1.DeadLetter");
	snprintf(buf, len, ENC_TYPE_URL_PREFIX "%s", full);
}

/* The translator's emit: decode what it produced, as a consumer would, into lines. */
static int on_event(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	struct Run *run = ctx;
	const uint8_t *data = ev->payload;
	size_t len = ev->payload_len;
	(void)err;
	(void)errlen;

	if (run->cfg->cloudevents.structured) {
		struct WireCloudEvent ce;
		char url[400];
		expected_type_url(ev, url, sizeof(url));
		if (!wire_decode_cloudevent(data, len, run->arena, &ce) || !ce.type) {
			lines_add(&run->actual, "record of %s: not a CloudEvent", ev->ce.type);
			return 0;
		}
		if (!ce.type_url || strcmp(ce.type_url, url) != 0) {
			lines_add(&run->actual,
			          "record of %s: proto_data type URL \"%s\", not \"%s\"", ce.type,
			          ce.type_url ? ce.type_url : "(none)", url);
			return 0;
		}
		data = ce.data;
		len = ce.data_len;
	}
	if (!ev->def) {
		Tablecast__V1__DeadLetter *dl = tablecast__v1__dead_letter__unpack(NULL, len, data);
		if (!dl) {
			lines_add(&run->actual, "dead letter that does not decode");
			return 0;
		}
		lines_add(&run->actual, "dead letter of %s v%u: %s", dl->event, dl->version,
		          dl->error);
		tablecast__v1__dead_letter__free_unpacked(dl, NULL);
		return 0;
	}
	const struct EventDef *def = ev->def;
	lines_add(&run->actual, "event %s v%d", def->name, def->version);
	if (ev->key)
		lines_add(&run->actual, "  key: %.*s", (int)ev->key_len, ev->key);
	if (ev->ce.subject)
		lines_add(&run->actual, "  subject: %s", ev->ce.subject);
	if (!wire_decode_event(def, data, len, run->arena, run->values)) {
		lines_add(&run->actual, "  (the payload does not decode with the event's schema)");
		return 0;
	}
	for (size_t f = 0; f < def->nfields; f++) {
		if (!value_present(&run->values[f]))
			continue;
		sb_reset(&run->scratch);
		value_text(&def->fields[f], &run->values[f], run->arena, &run->scratch);
		sb_putc(&run->scratch, '\0');
		lines_add(&run->actual, "  %s: %s", def->fields[f].name,
		          sb_ok(&run->scratch) ? run->scratch.data : "(out of memory)");
	}
	return 0;
}

static const struct EventDef *find_event(const struct Config *cfg, const char *name, int version)
{
	for (size_t i = 0; i < cfg->nevents; i++)
		if (strcmp(cfg->events[i].name, name) == 0 && cfg->events[i].version == version)
			return &cfg->events[i];
	return NULL;
}

/*
 * A dead letter or halt is expected by a part of its reason ("contains X"):
 * where the produced line holds it, the produced line is written as the
 * expected one, so only a real difference shows in the diff.
 */
static void match_reasons(const struct Lines *expected, struct Lines *actual)
{
	static const char dl[] = "dead letter", halt[] = "halt";
	size_t a = 0;
	for (size_t e = 0; e < expected->n; e++) {
		const char *want = expected->v[e];
		const char *prefix = strncmp(want, dl, sizeof(dl) - 1) == 0       ? dl
		                     : strncmp(want, halt, sizeof(halt) - 1) == 0 ? halt
		                                                                  : NULL;
		const char *q = prefix ? strstr(want, "reason containing \"") : NULL;
		if (!q)
			continue;
		while (a < actual->n && strncmp(actual->v[a], prefix, strlen(prefix)) != 0)
			a++;
		if (a == actual->n)
			return;
		/* The part: between the quotes that end the expected line. */
		const char *part = q + strlen("reason containing \"");
		size_t part_len = strlen(part) ? strlen(part) - 1 : 0;
		/* "dead letter of E vN, reason ...": the event must match too when named. */
		size_t head = (size_t)(q - want);
		bool head_ok = strncmp(want, "dead letter of ", 15) != 0 ||
		               (head >= 2 && strncmp(actual->v[a], want, head - 2) == 0 &&
		                actual->v[a][head - 2] == ':');
		char *colon = strchr(actual->v[a], ':');
		if (head_ok && colon && memmem(colon, strlen(colon), part, part_len)) {
			char *copy = strdup(want);
			if (copy) {
				free(actual->v[a]);
				actual->v[a] = copy;
			}
		}
		a++;
	}
}

/*
 * expect = ( { event = "shop.orders.OrderShipped"; version = 2; key = "42";
 *              subject = "order/42"; fields = { order_id = "42"; ... }; },
 *            { dead_letter = "out of range"; event = "..."; version = 1; } );
 * and halt = "reason part". Fields are listed in the event's field order.
 */
static int expected_lines(const struct CaseFile *cf, const struct Config *cfg,
                          const config_setting_t *c, struct Lines *out, struct StrBuf *sb,
                          char *err, size_t errlen)
{
	const config_setting_t *expect = config_setting_get_member(c, "expect");
	const char *halt = member_string(c, "halt");
	if ((!expect && !halt) || (expect && !config_setting_is_list(expect)))
		return file_fail(
		    cf, expect ? expect : c, err, errlen,
		    "a case needs expect = ( ... ) (an empty list: no event) or halt = \"reason\"");
	for (int i = 0; expect && i < config_setting_length(expect); i++) {
		const config_setting_t *x = config_setting_get_elem(expect, (unsigned)i);
		const char *name = config_setting_is_group(x) ? member_string(x, "event") : NULL;
		const char *dead =
		    config_setting_is_group(x) ? member_string(x, "dead_letter") : NULL;
		int version = 0;
		bool has_version =
		    config_setting_is_group(x) && config_setting_lookup_int(x, "version", &version);
		if (dead) {
			if (name && has_version)
				lines_add(out, "dead letter of %s v%d, reason containing \"%s\"",
				          name, version, dead);
			else
				lines_add(out, "dead letter, reason containing \"%s\"", dead);
			continue;
		}
		if (!name || !has_version)
			return file_fail(cf, x, err, errlen,
			                 "an expected event needs event = \"full.Name\" and "
			                 "version = N (or dead_letter = \"reason\")");
		const config_setting_t *fields = config_setting_get_member(x, "fields");
		if (fields && !config_setting_is_group(fields))
			return file_fail(cf, fields, err, errlen,
			                 "fields is a group: fields = { order_id = \"42\"; }");
		lines_add(out, "event %s v%d", name, version);
		const char *key = member_string(x, "key"), *subject = member_string(x, "subject");
		if (key)
			lines_add(out, "  key: %s", key);
		if (subject)
			lines_add(out, "  subject: %s", subject);
		const struct EventDef *def = find_event(cfg, name, version);
		if (!def) {
			lines_add(out, "  (no such event in the configuration)");
			continue;
		}
		/* In the event's field order; a name it does not have stays visible at the end. */
		for (size_t f = 0; f < def->nfields; f++) {
			const config_setting_t *v =
			    fields ? config_setting_get_member(fields, def->fields[f].name) : NULL;
			if (!v)
				continue;
			sb_reset(sb);
			if (!expected_text(v, sb))
				return file_fail(cf, v, err, errlen,
				                 "field %s: a value is a string, number, boolean "
				                 "or a list of them",
				                 def->fields[f].name);
			sb_putc(sb, '\0');
			lines_add(out, "  %s: %s", def->fields[f].name, sb_ok(sb) ? sb->data : "");
		}
		for (int m = 0; fields && m < config_setting_length(fields); m++) {
			const char *fname =
			    config_setting_name(config_setting_get_elem(fields, (unsigned)m));
			bool known = false;
			for (size_t f = 0; f < def->nfields && !known; f++)
				known = strcmp(def->fields[f].name, fname) == 0;
			if (!known)
				lines_add(out, "  %s: (no such field in %s v%d)", fname, name,
				          version);
		}
	}
	if (halt)
		lines_add(out, "halt, reason containing \"%s\"", halt);
	return 0;
}

/* old = { id = "42"; status = "paid"; } as a tuple in rel's column order; absent columns are NULL.
 */
static int row_tuple(const struct CaseFile *cf, const struct Relation *rel,
                     const config_setting_t *row, Arena *arena, struct StrBuf *sb,
                     struct PgoTuple *out, char *err, size_t errlen)
{
	if (!config_setting_is_group(row))
		return file_fail(cf, row, err, errlen,
		                 "a row is a group of column values as PostgreSQL prints them: { "
		                 "id = \"42\"; }");
	out->ncols = rel->natts;
	out->cols = arena_alloc(arena, sizeof(struct PgoValue) * rel->natts);
	if (!out->cols)
		return file_fail(cf, row, err, errlen, "out of memory");
	for (uint16_t a = 0; a < rel->natts; a++)
		out->cols[a] = (struct PgoValue){.kind = 'n'};
	for (int m = 0; m < config_setting_length(row); m++) {
		const config_setting_t *v = config_setting_get_elem(row, (unsigned)m);
		const char *name = config_setting_name(v);
		uint16_t a = 0;
		while (a < rel->natts && strcmp(rel->atts[a].name, name) != 0)
			a++;
		if (a == rel->natts)
			return file_fail(cf, v, err, errlen, "table %s has no column \"%s\"",
			                 rel->qualname, name);
		sb_reset(sb);
		if (!setting_text(v, true, sb) || !sb_ok(sb))
			return file_fail(
			    cf, v, err, errlen,
			    "column %s: a value is PostgreSQL's text for it, e.g. \"12.50\"", name);
		uint8_t *text = arena_alloc(arena, sb->len ? sb->len : 1);
		if (!text)
			return file_fail(cf, v, err, errlen, "out of memory");
		memcpy(text, sb->data, sb->len);
		out->cols[a] =
		    (struct PgoValue){.kind = 't', .len = (uint32_t)sb->len, .data = text};
	}
	return 0;
}

/* Longest common subsequence diff of expected and actual, "  ", "- " and "+ " lines. */
static void print_diff(const struct Lines *e, const struct Lines *a, FILE *out)
{
	size_t n = e->n, m = a->n;
	size_t *len = calloc((n + 1) * (m + 1), sizeof(size_t));
	if (!len) {
		fputs("    (no memory for a diff)\n", out);
		return;
	}
#define L(i, j) len[(i) * (m + 1) + (j)]
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			L(i, j) = strcmp(e->v[i], a->v[j]) == 0 ? L(i + 1, j + 1) + 1
			          : L(i + 1, j) >= L(i, j + 1)  ? L(i + 1, j)
			                                        : L(i, j + 1);
	size_t i = 0, j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && strcmp(e->v[i], a->v[j]) == 0) {
			fprintf(out, "      %s\n", e->v[i]);
			i++;
			j++;
		} else if (i < n && (j == m || L(i + 1, j) >= L(i, j + 1))) {
			fprintf(out, "    - %s\n", e->v[i++]);
		} else {
			fprintf(out, "    + %s\n", a->v[j++]);
		}
	}
	if (n == 0 && m == 0)
		fputs("      (nothing)\n", out);
#undef L
	free(len);
}

static bool same_lines(const struct Lines *a, const struct Lines *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

/* Fixed transaction of every case: its commit LSN and time only show in ce_id and ce_time. */
#define CASE_COMMIT_LSN 0x16B3748u

static int run_case(const struct CaseFile *cf, const struct Config *cfg, const config_setting_t *c,
                    struct Run *run, FILE *out, struct CaseTotals *totals, char *err, size_t errlen)
{
	const char *name = member_string(c, "name");
	const char *table = member_string(c, "table");
	const char *op = member_string(c, "op");
	int line = config_setting_source_line(c);
	if (!name || !table || !op)
		return file_fail(
		    cf, c, err, errlen,
		    "a case needs name, table and op (\"insert\", \"update\" or \"delete\")");
	const struct Relation *rel = find_table(cf, table);
	if (!rel)
		return file_fail(cf, c, err, errlen, "table %s is not in this file's tables",
		                 table);
	struct PgoMessage msg = {0};
	msg.kind = strcmp(op, "insert") == 0   ? 'I'
	           : strcmp(op, "update") == 0 ? 'U'
	           : strcmp(op, "delete") == 0 ? 'D'
	                                       : 0;
	if (!msg.kind)
		return file_fail(cf, c, err, errlen,
		                 "op is \"insert\", \"update\" or \"delete\", not \"%s\"", op);
	const config_setting_t *old = config_setting_get_member(c, "old");
	const config_setting_t *new = config_setting_get_member(c, "new");
	if ((msg.kind == 'I' && (old || !new)) || (msg.kind == 'U' && !new) ||
	    (msg.kind == 'D' && (new || !old)))
		return file_fail(
		    cf, c, err, errlen,
		    "an insert has new = { ... }, an update new and maybe old, a delete old");

	struct Lines expected = {0};
	int rc = expected_lines(cf, cfg, c, &expected, &run->scratch, err, errlen);
	msg.change.relid = rel->relid;
	if (rc == 0 && old) {
		/* The whole old row, as REPLICA IDENTITY FULL sends it. */
		msg.change.old_kind = 'O';
		rc = row_tuple(cf, rel, old, run->arena, &run->scratch, &msg.change.old_tuple, err,
		               errlen);
	}
	if (rc == 0 && new) {
		msg.change.has_new = true;
		rc = row_tuple(cf, rel, new, run->arena, &run->scratch, &msg.change.new_tuple, err,
		               errlen);
	}
	if (rc < 0) {
		lines_free(&expected);
		return -1;
	}

	Translator *xl = xl_new(cfg, on_event, run);
	if (!xl) {
		lines_free(&expected);
		return file_fail(cf, c, err, errlen, "out of memory");
	}
	struct TxnInfo txn = {.commit_lsn = CASE_COMMIT_LSN, .xid = 1, .commit_time = 0};
	char xerr[1024];
	xl_begin(xl, &txn);
	if (xl_change(xl, rel, &msg, CASE_COMMIT_LSN, xerr, sizeof(xerr)) < 0)
		lines_add(&run->actual, "halt: %s", xerr);
	xl_free(xl);

	match_reasons(&expected, &run->actual);
	if (expected.broken || run->actual.broken) {
		lines_free(&expected);
		return file_fail(cf, c, err, errlen, "out of memory");
	}
	if (same_lines(&expected, &run->actual)) {
		totals->passed++;
		fprintf(out, "ok   %s:%d: %s\n", cf->path, line, name);
	} else {
		totals->failed++;
		fprintf(out, "FAIL %s:%d: %s (- expected, + actual)\n", cf->path, line, name);
		print_diff(&expected, &run->actual, out);
	}
	lines_free(&expected);
	return 0;
}

static int run_file(const char *path, const struct Config *cfg, struct Run *run, FILE *out,
                    struct CaseTotals *totals, char *err, size_t errlen)
{
	struct CaseFile cf = {.path = path};
	int rc = 0;

	config_init(&cf.lc);
	if (!config_read_file(&cf.lc, path)) {
		if (config_error_type(&cf.lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the case file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf.lc),
			         config_error_text(&cf.lc));
		config_destroy(&cf.lc);
		return -1;
	}
	rc = load_tables(&cf, err, errlen);
	const config_setting_t *cases = rc == 0 ? config_lookup(&cf.lc, "cases") : NULL;
	if (rc == 0 &&
	    (!cases || !config_setting_is_list(cases) || config_setting_length(cases) == 0))
		rc = file_fail(&cf, cases, err, errlen,
		               "cases must be a non-empty list: cases = ( { ... } )");
	for (int i = 0; rc == 0 && i < config_setting_length(cases); i++) {
		const config_setting_t *c = config_setting_get_elem(cases, (unsigned)i);
		if (!config_setting_is_group(c)) {
			rc = file_fail(&cf, c, err, errlen,
			               "a case is a group: { name = \"...\"; ... }");
			break;
		}
		rc = run_case(&cf, cfg, c, run, out, totals, err, errlen);
		lines_free(&run->actual);
		arena_reset(run->arena);
	}
	free_tables(&cf);
	config_destroy(&cf.lc);
	return rc;
}

int case_run_files(const struct Config *cfg, char *const *files, size_t nfiles, FILE *out,
                   struct CaseTotals *totals, char *err, size_t errlen)
{
	size_t widest = 1;
	for (size_t i = 0; i < cfg->nevents; i++)
		if (cfg->events[i].nfields > widest)
			widest = cfg->events[i].nfields;
	struct Run run = {.cfg = cfg};
	run.arena = arena_new();
	run.values = calloc(widest, sizeof(struct Value));
	*totals = (struct CaseTotals){0};
	int rc = 0;
	if (!run.arena || !run.values) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	for (size_t f = 0; rc == 0 && f < nfiles; f++)
		rc = run_file(files[f], cfg, &run, out, totals, err, errlen);
	lines_free(&run.actual);
	sb_free(&run.scratch);
	free(run.values);
	arena_free(run.arena);
	return rc;
}
