/* Schema: generate one .proto per event version, and an index, from the configuration. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ascii.h"
#include "encoder.h"
#include "field.h"
#include "file.h"
#include "schema.h"
#include "strbuf.h"

/* ---- names ------------------------------------------------------------------ */

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* "shop.orders.OrderShipped": package "shop.orders" (pkg_len bytes), message "OrderShipped". */
struct Name {
	size_t pkg_len;
	const char *message;
};

static bool split_name(const char *full, struct Name *n)
{
	const char *dot = full ? strrchr(full, '.') : NULL;
	if (!dot)
		return false;
	n->pkg_len = (size_t)(dot - full);
	n->message = dot + 1;
	return true;
}

/* The message name in snake_case for its file name: OrderShipped → order_shipped. */
static void put_snake(struct StrBuf *out, const char *camel)
{
	for (size_t i = 0; camel[i]; i++) {
		char c = camel[i];
		if (is_upper(c)) {
			char prev = i ? camel[i - 1] : '\0', next = camel[i + 1];
			if (i && (is_lower(prev) || ascii_digit(prev) ||
			          (is_upper(prev) && is_lower(next))))
				sb_putc(out, '_');
			c = (char)(c - 'A' + 'a');
		}
		sb_putc(out, c);
	}
}

/* A field's nested enum type: order_status → OrderStatus. */
static void put_camel(struct StrBuf *out, const char *snake)
{
	bool upper = true;
	for (const char *p = snake; *p; p++) {
		if (*p == '_') {
			upper = true;
			continue;
		}
		sb_putc(out, upper && is_lower(*p) ? (char)(*p - 'a' + 'A') : *p);
		upper = false;
	}
}

static void put_path(struct StrBuf *out, const struct EventDef *ev)
{
	struct Name n;
	if (!split_name(ev->name, &n)) {
		n.pkg_len = 0;
		n.message = ev->name ? ev->name : "";
	}
	for (size_t i = 0; i < n.pkg_len; i++)
		sb_putc(out, ev->name[i] == '.' ? '/' : ev->name[i]);
	if (n.pkg_len)
		sb_putc(out, '/');
	sb_printf(out, "v%d/", ev->version);
	put_snake(out, n.message);
	sb_puts(out, ".proto");
}

void schema_proto_path(const struct EventDef *ev, char *buf, size_t len)
{
	struct StrBuf sb = {0};
	put_path(&sb, ev);
	if (len)
		snprintf(buf, len, "%s", sb_ok(&sb) && sb.data ? sb.data : "");
	sb_free(&sb);
}

/* ---- checks: what protoc would reject, found before anything is written ----- */

static int fail(char *err, size_t errlen, const struct EventDef *ev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "event <name> v<version>: <reason>"; returns -1. */
static int fail(char *err, size_t errlen, const struct EventDef *ev, const char *fmt, ...)
{
	int n =
	    snprintf(err, errlen, "event %s v%d: ", ev->name ? ev->name : "(unnamed)", ev->version);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_name(const struct EventDef *ev, char *err, size_t errlen)
{
	struct Name n;
	if (!split_name(ev->name, &n) || !n.pkg_len)
		return fail(
		    err, errlen, ev,
		    "the name needs a package and a message, e.g. shop.orders.OrderShipped");
	for (const char *p = ev->name, *end = ev->name + n.pkg_len; p <= end;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (!field_is_identifier(p, len))
			return fail(err, errlen, ev,
			            "package component \"%.*s\" is not an identifier", (int)len, p);
		p += len + 1;
	}
	const char *m = n.message;
	bool camel = is_upper(m[0]);
	for (size_t i = 1; camel && m[i]; i++)
		camel = is_upper(m[i]) || is_lower(m[i]) || ascii_digit(m[i]);
	if (!camel)
		return fail(err, errlen, ev, "message name \"%s\" is not UpperCamelCase", m);
	if (ev->version < 1)
		return fail(err, errlen, ev, "version must be 1 or more");
	return 0;
}

/*
 * protoc refuses proto3 fields whose names are equal once lower-cased with
 * every '_' removed ("foo_bar", "foobar", "fooBar").
 */
static bool json_names_clash(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		char ca = is_upper(*a) ? (char)(*a - 'A' + 'a') : *a;
		char cb = is_upper(*b) ? (char)(*b - 'A' + 'a') : *b;
		if (ca != cb)
			return false;
		if (!ca)
			return true;
		a++;
		b++;
	}
}

/*
 * Names declared in the message's scope: fields, nested enum types and,
 * because proto enum values are siblings of their enum, every enum value.
 * A hash set (open addressing, offset + 1 in each slot, 0 = empty): an
 * enum may have thousands of labels, and comparing each with all the
 * others made a large configuration take minutes.
 */
struct Symbols {
	struct StrBuf text; /* NUL-separated */
	size_t *slots;
	size_t n, cap; /* cap: a power of two, at least twice n */
};

static size_t symbol_hash(const char *s)
{
	size_t h = 14695981039346656037u; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The slot holding name, or the empty one where it belongs. */
static size_t *symbol_slot(struct Symbols *s, const char *name)
{
	size_t i = symbol_hash(name) & (s->cap - 1);
	while (s->slots[i] && strcmp(s->text.data + s->slots[i] - 1, name) != 0)
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

/* Add the last name written to s->text (starting at start); returns the clashing name or NULL. */
static const char *add_symbol(struct Symbols *s, size_t start)
{
	sb_putc(&s->text, '\0');
	if (!sb_ok(&s->text))
		return NULL;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		size_t *old = s->slots, oldcap = s->cap;
		s->slots = calloc(cap, sizeof(*s->slots));
		if (!s->slots) {
			s->slots = old;
			s->text.broken = true;
			return NULL;
		}
		s->cap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				*symbol_slot(s, s->text.data + old[i] - 1) = old[i];
		free(old);
	}
	const char *name = s->text.data + start;
	size_t *slot = symbol_slot(s, name);
	if (*slot)
		return name;
	*slot = start + 1;
	s->n++;
	return NULL;
}

static int check_fields(const struct EventDef *ev, char *err, size_t errlen)
{
	struct Symbols sym = {0};
	int rc = 0;
	for (size_t i = 0; i < ev->nfields && rc == 0; i++) {
		const struct EventField *f = &ev->fields[i];
		if (!f->name || !field_is_identifier(f->name, strlen(f->name))) {
			rc = fail(err, errlen, ev, "field name \"%s\" is not an identifier",
			          f->name ? f->name : "");
			break;
		}
		if (f->number < 1 || f->number > ENC_MAX_FIELD_NUMBER ||
		    (f->number >= 19000 && f->number <= 19999)) {
			rc = fail(err, errlen, ev,
			          "field \"%s\": number %u is not allowed (1 to %u, except the "
			          "reserved 19000 to 19999)",
			          f->name, f->number, ENC_MAX_FIELD_NUMBER);
			break;
		}
		for (size_t k = 0; k < i && rc == 0; k++) {
			const struct EventField *g = &ev->fields[k];
			if (g->number == f->number)
				rc = fail(err, errlen, ev,
				          "fields \"%s\" and \"%s\" share number %u", g->name,
				          f->name, f->number);
			else if (json_names_clash(g->name, f->name))
				rc = fail(err, errlen, ev,
				          "fields \"%s\" and \"%s\" have clashing JSON names "
				          "(proto3 forbids it)",
				          g->name, f->name);
		}
		if (rc)
			break;
		for (size_t k = 0; k < ev->n_reserved_numbers && rc == 0; k++)
			if (ev->reserved_numbers[k] == f->number)
				rc = fail(err, errlen, ev, "field \"%s\" uses number %u, which is reserved",
				          f->name, f->number);
		for (size_t k = 0; k < ev->n_reserved_names && rc == 0; k++)
			if (strcmp(ev->reserved_names[k], f->name) == 0)
				rc = fail(err, errlen, ev, "field name \"%s\" is reserved", f->name);
		if (rc)
			break;
		if (f->type == FT_ENUM && !f->n_enum_values) {
			rc = fail(err, errlen, ev, "field \"%s\": an enum needs at least one value",
			          f->name);
			break;
		}

		size_t start = sym.text.len;
		sb_puts(&sym.text, f->name);
		const char *clash = add_symbol(&sym, start);
		if (!clash && f->type == FT_ENUM) {
			start = sym.text.len;
			put_camel(&sym.text, f->name);
			clash = add_symbol(&sym, start);
			for (size_t v = 0; !clash && v <= f->n_enum_values; v++) {
				start = sym.text.len;
				enc_enum_value_name(&sym.text, f->name,
				                    v ? f->enum_values[v - 1] : "unspecified");
				clash = add_symbol(&sym, start);
			}
		}
		if (clash)
			rc =
			    fail(err, errlen, ev,
			         "field \"%s\": generated name %s is declared twice in the message "
			         "(enum values are <FIELD>_<LABEL> upper-cased, other characters "
			         "becoming '_')",
			         f->name, clash);
	}
	if (rc == 0 && !sb_ok(&sym.text))
		rc = fail(err, errlen, ev, "out of memory");
	sb_free(&sym.text);
	free(sym.slots);
	return rc;
}

/* ---- rendering ------------------------------------------------------------------- */

static const char *const op_names[] = {"insert", "update", "delete", "truncate", "snapshot"};

void schema_put_ops(struct StrBuf *out, unsigned ops)
{
	bool first = true;
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		if (!(ops & (1u << i)))
			continue;
		sb_printf(out, "%s%s", first ? "" : ", ", op_names[i]);
		first = false;
	}
	if (first)
		sb_puts(out, "none");
}

/* Configuration text inside a // comment or a table cell: one line, '|' escaped in cells. */
static void put_text(struct StrBuf *out, const char *s, bool cell)
{
	if (!s) {
		sb_puts(out, "(none)");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			sb_putc(out, ' ');
		else if (cell && *p == '|')
			sb_puts(out, "\\|");
		else
			sb_putc(out, (char)*p);
	}
}

/* Field indexes in ascending number order (numbers are distinct after check_fields). */
static size_t *field_order(const struct EventDef *ev)
{
	size_t *idx = malloc((ev->nfields ? ev->nfields : 1) * sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < ev->nfields; i++) {
		size_t k = i;
		for (; k > 0 && ev->fields[idx[k - 1]].number > ev->fields[i].number; k--)
			idx[k] = idx[k - 1];
		idx[k] = i;
	}
	return idx;
}

/* What a string-typed field holds, for its trailing comment. */
static const char *string_note(enum field_type type)
{
	switch (type) {
	case FT_DATE:
		return "date: YYYY-MM-DD";
	case FT_DECIMAL:
		return "decimal: exact numeric text";
	case FT_JSON:
		return "json: JSON text";
	case FT_UUID:
		return "uuid: 8-4-4-4-12 lower-case hex";
	default:
		return NULL;
	}
}

static void put_enum(struct StrBuf *out, const struct EventField *f)
{
	sb_puts(out, "  enum ");
	put_camel(out, f->name);
	sb_puts(out, " {\n    ");
	enc_enum_value_name(out, f->name, "unspecified");
	sb_puts(out, " = 0;\n");
	for (size_t v = 0; v < f->n_enum_values; v++) {
		const char *label = f->enum_values[v];
		sb_puts(out, "    ");
		enc_enum_value_name(out, f->name, label);
		sb_printf(out, " = %zu;", v + 1);
		/* Say which label a sanitized name stands for, when upper-casing alone does not. */
		bool plain = true;
		for (const char *p = label; *p && plain; p++)
			plain = is_upper(*p) || is_lower(*p) || ascii_digit(*p) || *p == '_';
		if (!plain) {
			sb_puts(out, " // \"");
			put_text(out, label, false);
			sb_putc(out, '"');
		}
		sb_putc(out, '\n');
	}
	sb_puts(out, "  }\n");
}

static void put_field(struct StrBuf *out, const struct EventField *f)
{
	sb_puts(out, f->repeated ? "  repeated " : "  optional ");
	switch (f->type) {
	case FT_TIMESTAMP:
		sb_puts(out, "google.protobuf.Timestamp");
		break;
	case FT_ENUM:
		put_camel(out, f->name);
		break;
	case FT_DATE:
	case FT_DECIMAL:
	case FT_JSON:
	case FT_UUID:
		sb_puts(out, "string");
		break;
	default:
		sb_puts(out, field_type_name(f->type)); /* the proto scalar of the same name */
		break;
	}
	sb_printf(out, " %s = %u;", f->name, f->number);
	const char *note = string_note(f->type);
	if (note)
		sb_printf(out, " // %s", note);
	sb_putc(out, '\n');
}

static int by_number(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The numbers and names of removed fields, sorted: "reserved 5, 9;" and "reserved \"total\";". */
static int put_reserved(struct StrBuf *out, const struct EventDef *ev)
{
	if (!ev->n_reserved_numbers && !ev->n_reserved_names)
		return 0;
	uint32_t *nums = malloc((ev->n_reserved_numbers + 1) * sizeof(*nums));
	char **names = malloc((ev->n_reserved_names + 1) * sizeof(*names));
	if (!nums || !names) {
		free(nums);
		free(names);
		return -1;
	}
	if (ev->n_reserved_numbers) /* memcpy wants pointers even for nothing */
		memcpy(nums, ev->reserved_numbers, ev->n_reserved_numbers * sizeof(*nums));
	if (ev->n_reserved_names)
		memcpy(names, ev->reserved_names, ev->n_reserved_names * sizeof(*names));
	qsort(nums, ev->n_reserved_numbers, sizeof(*nums), by_number);
	qsort(names, ev->n_reserved_names, sizeof(*names), by_string);
	sb_putc(out, '\n');
	for (size_t i = 0; i < ev->n_reserved_numbers; i++)
		sb_printf(out, "%s%u", i ? ", " : "  reserved ", nums[i]);
	if (ev->n_reserved_numbers)
		sb_puts(out, ";\n");
	/* Names are identifiers (the configuration checks): nothing to escape. */
	for (size_t i = 0; i < ev->n_reserved_names; i++)
		sb_printf(out, "%s\"%s\"", i ? ", " : "  reserved ", names[i]);
	if (ev->n_reserved_names)
		sb_puts(out, ";\n");
	free(nums);
	free(names);
	return 0;
}

/*
 * The .proto text:
 *	// header comment
 *	syntax, package <pkg>.v<N>, the Timestamp import if needed
 *	message <Name> { nested enums, then the fields, both in number order,
 *	                 then the reserved numbers and names }
 */
int schema_render_proto(const struct EventDef *ev, struct StrBuf *out)
{
	/* The configuration only accepts names with a package; stay defined anyway. */
	struct Name n = {.pkg_len = 0, .message = ev->name};
	split_name(ev->name, &n);
	size_t *order = field_order(ev);
	if (!order)
		return -1;
	bool timestamp = false;
	for (size_t i = 0; i < ev->nfields; i++)
		timestamp |= ev->fields[i].type == FT_TIMESTAMP;

	sb_puts(out, "// Generated by tablecast from its configuration; do not edit.\n//\n");
	sb_printf(out, "// Event: %s version %d\n// Source table: ", ev->name, ev->version);
	put_text(out, ev->table, false);
	sb_puts(out, "\n// Operations: ");
	schema_put_ops(out, ev->ops);
	sb_puts(out, "\n// Topic: ");
	put_text(out, ev->topic, false);
	sb_printf(out, "\n\nsyntax = \"proto3\";\n\npackage %.*s.v%d;\n", (int)n.pkg_len, ev->name,
	          ev->version);
	if (timestamp)
		sb_puts(out, "\nimport \"google/protobuf/timestamp.proto\";\n");
	sb_printf(out, "\nmessage %s {\n", n.message);
	for (size_t i = 0; i < ev->nfields; i++) {
		const struct EventField *f = &ev->fields[order[i]];
		if (f->type == FT_ENUM) {
			put_enum(out, f);
			sb_putc(out, '\n');
		}
	}
	for (size_t i = 0; i < ev->nfields; i++)
		put_field(out, &ev->fields[order[i]]);
	free(order);
	if (put_reserved(out, ev) < 0)
		return -1;
	sb_puts(out, "}\n");
	return sb_ok(out) ? 0 : -1;
}

static void render_readme(const struct EventDef *const *sorted, size_t n, struct StrBuf *out)
{
	sb_puts(out, "# Event schemas\n\n"
	             "Generated by tablecast from its configuration; do not edit. One protobuf\n"
	             "schema per event version; timestamps use google/protobuf/timestamp.proto.\n\n"
	             "| Event | Version | Table | Operations | Topic | File |\n"
	             "| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < n; i++) {
		const struct EventDef *ev = sorted[i];
		sb_puts(out, "| ");
		put_text(out, ev->name, true);
		sb_printf(out, " | %d | ", ev->version);
		put_text(out, ev->table, true);
		sb_puts(out, " | ");
		schema_put_ops(out, ev->ops);
		sb_puts(out, " | ");
		put_text(out, ev->topic, true);
		sb_puts(out, " | [");
		put_path(out, ev);
		sb_puts(out, "](");
		put_path(out, ev);
		sb_puts(out, ") |\n");
	}
}

/* ---- files --------------------------------------------------------------------- */

/* mkdir -p of path's directory part (everything before the last '/'). */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char *dir = strdup(path);
	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char saved = *p;
			*p = '\0';
			if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "creating directory %s: %s", dir,
				         strerror(errno));
				rc = -1;
				break;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	free(dir);
	return rc;
}

/* Whether path already holds exactly data (then it is left alone, mtime and all). */
static bool same_content(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool same = true;
	char buf[4096];
	size_t off = 0, n;
	while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		same = off + n <= len && memcmp(buf, data + off, n) == 0;
		off += n;
	}
	same = same && !ferror(f) && off == len;
	fclose(f);
	return same;
}

/* Write via a temporary file and rename, so a reader never sees half a schema. */
static int write_file(const char *path, const struct StrBuf *content, char *err, size_t errlen)
{
	const char *data = content->data ? content->data : "";
	if (same_content(path, data, content->len))
		return 0;
	if (make_parent_dirs(path, err, errlen) < 0)
		return -1;
	return file_publish(path, data, content->len, "writing", err, errlen);
}

static int by_name_version(const void *a, const void *b)
{
	const struct EventDef *x = *(const struct EventDef *const *)a;
	const struct EventDef *y = *(const struct EventDef *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->version > y->version) - (x->version < y->version);
}

int schema_check_event(const struct EventDef *ev, char *err, size_t errlen)
{
	if (check_name(ev, err, errlen) < 0 || check_fields(ev, err, errlen) < 0)
		return -1;
	return 0;
}

int schema_generate(const struct EventDef *events, size_t nevents, const char *outdir, char *err,
                    size_t errlen)
{
	const struct EventDef **sorted = malloc((nevents ? nevents : 1) * sizeof(*sorted));
	char **paths = calloc(nevents ? nevents : 1, sizeof(*paths));
	struct StrBuf sb = {0}, file = {0};
	int rc = -1;
	if (!sorted || !paths) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nevents; i++) {
		if (schema_check_event(&events[i], err, errlen) < 0)
			goto out;
		sorted[i] = &events[i];
	}
	qsort(sorted, nevents, sizeof(*sorted), by_name_version);

	/* Relative paths, in sorted order; equal ones would overwrite each other. */
	for (size_t i = 0; i < nevents; i++) {
		sb_reset(&sb);
		put_path(&sb, sorted[i]);
		if (!sb_ok(&sb) || !(paths[i] = strdup(sb.data))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(paths[k], paths[i]) == 0) {
				snprintf(err, errlen, "events %s v%d and %s v%d both map to %s",
				         sorted[k]->name, sorted[k]->version, sorted[i]->name,
				         sorted[i]->version, paths[i]);
				goto out;
			}
	}

	for (size_t i = 0; i <= nevents; i++) {
		sb_reset(&sb);
		sb_reset(&file);
		sb_printf(&file, "%s/%s", outdir, i < nevents ? paths[i] : "README.md");
		bool ok = true;
		if (i < nevents)
			ok = schema_render_proto(sorted[i], &sb) == 0;
		else
			render_readme(sorted, nevents, &sb);
		if (!ok || !sb_ok(&sb) || !sb_ok(&file)) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (write_file(file.data, &sb, err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; paths && i < nevents; i++)
		free(paths[i]);
	free(paths);
	free(sorted);
	sb_free(&sb);
	sb_free(&file);
	return rc;
}
