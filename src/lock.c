/* Schema lock: the published contract of every event version, and the changes that break it. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "field.h"
#include "lock.h"
#include "log.h"
#include "value.h"

#define LOCK_FORMAT_VERSION 1
#define LOCK_MAX_LINE 65536
/* As many as a configuration may declare (config.c), with room to spare. */
#define LOCK_MAX_EVENTS 100000
#define LOCK_MAX_ITEMS 10000 /* fields, reserved entries per event; values per enum */

struct LockField {
	uint32_t number;
	char *name;
	enum field_type type;
	bool repeated;
	char **labels; /* FT_ENUM: label i has number i + 1 */
	size_t nlabels, labels_cap;
	int line;
};

struct LockEvent {
	char *name; /* "shop.orders.OrderShipped" */
	int version;
	char *package; /* "shop.orders.v2" */
	struct LockField *fields; /* sorted by number */
	size_t nfields, fields_cap;
	uint32_t *res_numbers; /* sorted */
	size_t nres_numbers, res_numbers_cap;
	char **res_names; /* sorted */
	size_t nres_names, res_names_cap;
	int line;
};

struct Lock {
	char *path;
	struct LockEvent *events; /* sorted by name, then version */
	size_t nevents, events_cap;
};

/* ---- building ---------------------------------------------------------------- */

/* Make room for one more element of size bytes in *arr (n used, *cap allocated). */
static bool grow(void **arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, ncap * size);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

static struct LockEvent *add_event(Lock *lock)
{
	if (!grow((void **)&lock->events, lock->nevents, &lock->events_cap, sizeof(*lock->events)))
		return NULL;
	struct LockEvent *ev = &lock->events[lock->nevents++];
	memset(ev, 0, sizeof(*ev));
	return ev;
}

static struct LockField *add_field(struct LockEvent *ev)
{
	if (!grow((void **)&ev->fields, ev->nfields, &ev->fields_cap, sizeof(*ev->fields)))
		return NULL;
	struct LockField *f = &ev->fields[ev->nfields++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* Takes label (NULL: out of memory). */
static bool add_label(struct LockField *f, char *label)
{
	if (!label || !grow((void **)&f->labels, f->nlabels, &f->labels_cap, sizeof(*f->labels))) {
		free(label);
		return false;
	}
	f->labels[f->nlabels++] = label;
	return true;
}

static bool add_res_number(struct LockEvent *ev, uint32_t n)
{
	if (!grow((void **)&ev->res_numbers, ev->nres_numbers, &ev->res_numbers_cap,
		  sizeof(*ev->res_numbers)))
		return false;
	ev->res_numbers[ev->nres_numbers++] = n;
	return true;
}

/* Takes name (NULL: out of memory). */
static bool add_res_name(struct LockEvent *ev, char *name)
{
	if (!name || !grow((void **)&ev->res_names, ev->nres_names, &ev->res_names_cap,
			   sizeof(*ev->res_names))) {
		free(name);
		return false;
	}
	ev->res_names[ev->nres_names++] = name;
	return true;
}

void lock_free(Lock *lock)
{
	if (!lock)
		return;
	for (size_t i = 0; i < lock->nevents; i++) {
		struct LockEvent *ev = &lock->events[i];
		for (size_t k = 0; k < ev->nfields; k++) {
			for (size_t v = 0; v < ev->fields[k].nlabels; v++)
				free(ev->fields[k].labels[v]);
			free(ev->fields[k].labels);
			free(ev->fields[k].name);
		}
		for (size_t k = 0; k < ev->nres_names; k++)
			free(ev->res_names[k]);
		free(ev->fields);
		free(ev->res_numbers);
		free(ev->res_names);
		free(ev->name);
		free(ev->package);
	}
	free(lock->events);
	free(lock->path);
	free(lock);
}

static int by_event(const void *pa, const void *pb)
{
	const struct LockEvent *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->version > b->version) - (a->version < b->version);
}

static int by_field(const void *pa, const void *pb)
{
	const struct LockField *a = pa, *b = pb;
	return (a->number > b->number) - (a->number < b->number);
}

static int by_number(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return (a > b) - (a < b);
}

static int by_string(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* The order lock_format writes and lock_compare searches in. */
static void sort_lock(Lock *lock)
{
	for (size_t i = 0; i < lock->nevents; i++) {
		struct LockEvent *ev = &lock->events[i];
		if (ev->nfields)
			qsort(ev->fields, ev->nfields, sizeof(*ev->fields), by_field);
		if (ev->nres_numbers)
			qsort(ev->res_numbers, ev->nres_numbers, sizeof(*ev->res_numbers),
			      by_number);
		if (ev->nres_names)
			qsort(ev->res_names, ev->nres_names, sizeof(*ev->res_names), by_string);
	}
	if (lock->nevents)
		qsort(lock->events, lock->nevents, sizeof(*lock->events), by_event);
}

/* "shop.orders" + version 2 → "shop.orders.v2", as schema_generate writes the package. */
static char *package_of(const char *name, int version)
{
	const char *dot = strrchr(name, '.');
	size_t plen = dot ? (size_t)(dot - name) : 0;
	size_t len = plen + 16;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%.*s%sv%d", (int)plen, name, plen ? "." : "", version);
	return p;
}

Lock *lock_from_events(const struct EventDef *events, size_t nevents, const char *path)
{
	Lock *lock = calloc(1, sizeof(*lock));
	if (!lock || !(lock->path = strdup(path ? path : "")))
		goto oom;
	for (size_t i = 0; i < nevents; i++) {
		const struct EventDef *def = &events[i];
		struct LockEvent *ev = add_event(lock);
		if (!ev)
			goto oom;
		ev->version = def->version;
		ev->line = def->line;
		if (!(ev->name = strdup(def->name)) ||
		    !(ev->package = package_of(def->name, def->version)))
			goto oom;
		for (size_t k = 0; k < def->nfields; k++) {
			const struct EventField *df = &def->fields[k];
			struct LockField *f = add_field(ev);
			if (!f || !(f->name = strdup(df->name)))
				goto oom;
			f->number = df->number;
			f->type = df->type;
			f->repeated = df->repeated;
			f->line = df->line;
			for (size_t v = 0; v < df->n_enum_values; v++)
				if (!add_label(f, strdup(df->enum_values[v])))
					goto oom;
		}
		for (size_t k = 0; k < def->n_reserved_numbers; k++)
			if (!add_res_number(ev, def->reserved_numbers[k]))
				goto oom;
		for (size_t k = 0; k < def->n_reserved_names; k++)
			if (!add_res_name(ev, strdup(def->reserved_names[k])))
				goto oom;
	}
	sort_lock(lock);
	return lock;
oom:
	lock_free(lock);
	return NULL;
}

/* ---- writing ------------------------------------------------------------------ */

static void put_quoted(struct StrBuf *out, const char *s)
{
	sb_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(out, "\\x%02x", *p);
		else
			sb_putc(out, (char)*p);
	}
	sb_putc(out, '"');
}

void lock_format(const Lock *lock, struct StrBuf *out)
{
	sb_puts(out, "# The published contract of every event version: written by\n"
		     "# `tablecast schema lock`, checked by `tablecast schema check`. Commit it\n"
		     "# next to the configuration; a change here is a change consumers see.\n");
	sb_printf(out, "tablecast-lock %d\n", LOCK_FORMAT_VERSION);
	for (size_t i = 0; i < lock->nevents; i++) {
		const struct LockEvent *ev = &lock->events[i];
		sb_printf(out, "\nevent %s v%d\n  package %s\n", ev->name, ev->version,
			  ev->package);
		for (size_t k = 0; k < ev->nfields; k++) {
			const struct LockField *f = &ev->fields[k];
			sb_printf(out, "  field %u %s %s%s\n", f->number, f->name,
				  field_type_name(f->type), f->repeated ? " repeated" : "");
			for (size_t v = 0; v < f->nlabels; v++) {
				sb_printf(out, "    value %zu ", v + 1);
				put_quoted(out, f->labels[v]);
				sb_putc(out, '\n');
			}
		}
		for (size_t k = 0; k < ev->nres_numbers; k++)
			sb_printf(out, "  reserved %u\n", ev->res_numbers[k]);
		for (size_t k = 0; k < ev->nres_names; k++)
			sb_printf(out, "  reserved \"%s\"\n", ev->res_names[k]);
	}
}

/* ---- parsing ------------------------------------------------------------------ */

struct Parser {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	bool failed;
};

static bool perr(struct Parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "path:line: reason"; returns false. */
static bool perr(struct Parser *ps, const char *fmt, ...)
{
	if (ps->failed)
		return false;
	ps->failed = true;
	int n = ps->line > 0 ? snprintf(ps->err, ps->errlen, "%s:%d: ", ps->path, ps->line)
			     : snprintf(ps->err, ps->errlen, "%s: ", ps->path);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One line, whatever the file held. */
	log_mask_controls(ps->err);
	return false;
}

/* Dot-separated identifiers, at least two of them. */
static bool is_dotted(const char *s)
{
	size_t parts = 0;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ".");
		if (!field_is_identifier(p, len))
			return false;
		parts++;
		p += len;
		if (!*p)
			break;
	}
	return parts >= 2;
}

/* A decimal number without sign or leading zero, within [min, max]. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 10)
		return false;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*out = v;
	return v >= min && v <= max;
}


#define MAX_WORDS 8

/*
 * Split one line (NUL-terminated, modified in place) into words: bare words
 * end at a space, quoted ones at their closing quote and are unescaped;
 * quoted[i] says which. Returns the number of words, or -1 (error set).
 */
static int split_words(struct Parser *ps, char *line, char **words, bool *quoted)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n == MAX_WORDS)
			return perr(ps, "too many words on one line"), -1;
		if (*p != '"') {
			words[n] = p;
			quoted[n++] = false;
			while (*p && *p != ' ' && *p != '\t') {
				if (*p == '"')
					return perr(ps, "a quote inside a word"), -1;
				p++;
			}
			if (*p)
				*p++ = '\0';
			continue;
		}
		char *w = ++p, *o = w;
		for (;;) {
			unsigned char c = (unsigned char)*p;
			if (!c)
				return perr(ps, "a quoted string is not closed"), -1;
			if (c == '"')
				break;
			if (c < 0x20 || c == 0x7f)
				return perr(ps, "a control character in a quoted string (write \\x%02x)",
					    c),
				       -1;
			if (c != '\\') {
				*o++ = *p++;
				continue;
			}
			p++;
			if (*p == '"' || *p == '\\') {
				*o++ = *p++;
			} else if (*p == 'x' && value_hex_digit(p[1]) >= 0 && value_hex_digit(p[2]) >= 0) {
				int v = value_hex_digit(p[1]) * 16 + value_hex_digit(p[2]);
				if (v == 0)
					return perr(ps, "\\x00 in a quoted string"), -1;
				*o++ = (char)v;
				p += 3;
			} else {
				return perr(ps, "unknown escape in a quoted string (\\\" \\\\ \\xHH)"),
				       -1;
			}
		}
		p++;
		if (*p && *p != ' ' && *p != '\t')
			return perr(ps, "a quoted string must be followed by a space"), -1;
		*o = '\0';
		words[n] = w;
		quoted[n++] = true;
	}
}

static bool parse_field_number(struct Parser *ps, const char *w, uint32_t *out)
{
	unsigned long v;
	if (!parse_uint(w, 1, ENC_MAX_FIELD_NUMBER, &v) || (v >= 19000 && v <= 19999))
		return perr(ps, "\"%s\" is not a protobuf field number", w);
	*out = (uint32_t)v;
	return true;
}

static bool parse_type(struct Parser *ps, const char *w, enum field_type *out)
{
	if (field_type_parse(w, out))
		return true;
	return perr(ps, "unknown field type \"%s\"", w);
}

/* An enum field must end with at least one value. */
static bool finish_field(struct Parser *ps, const struct LockField *f)
{
	if (f && f->type == FT_ENUM && !f->nlabels)
		return perr(ps, "field %u \"%s\" is an enum without values", f->number, f->name);
	return true;
}

static bool finish_event(struct Parser *ps, const struct LockEvent *ev)
{
	if (ev && !ev->package)
		return perr(ps, "event %s v%d has no package line", ev->name, ev->version);
	return true;
}

/* One line of the file, after the header; cur_ev / cur_f: what lines apply to. */
static bool parse_line(struct Parser *ps, Lock *lock, char **words, const bool *quoted, int n,
		       struct LockEvent **cur_ev, struct LockField **cur_f)
{
	const char *kw = words[0];
	if (quoted[0])
		return perr(ps, "a line starts with a keyword, not a quoted string");
	if (strcmp(kw, "event") == 0) {
		if (n != 3 || quoted[1] || quoted[2])
			return perr(ps, "expected: event NAME vVERSION");
		if (!finish_field(ps, *cur_f) || !finish_event(ps, *cur_ev))
			return false;
		unsigned long version;
		if (!is_dotted(words[1]))
			return perr(ps, "\"%s\" is not a full protobuf name like shop.orders.OrderShipped",
				    words[1]);
		if (words[2][0] != 'v' || !parse_uint(words[2] + 1, 1, 1000000, &version))
			return perr(ps, "\"%s\" is not a version like v1", words[2]);
		if (lock->nevents == LOCK_MAX_EVENTS)
			return perr(ps, "more than %d event versions", LOCK_MAX_EVENTS);
		struct LockEvent *ev = add_event(lock);
		if (!ev || !(ev->name = strdup(words[1])))
			return perr(ps, "out of memory");
		ev->version = (int)version;
		ev->line = ps->line;
		*cur_ev = ev;
		*cur_f = NULL;
		return true;
	}
	struct LockEvent *ev = *cur_ev;
	if (!ev)
		return perr(ps, "\"%s\" before the first event line", kw);
	if (strcmp(kw, "package") == 0) {
		if (n != 2 || quoted[1])
			return perr(ps, "expected: package NAME");
		if (ev->package)
			return perr(ps, "event %s v%d has two package lines", ev->name, ev->version);
		if (!is_dotted(words[1]) && !field_is_identifier(words[1], strlen(words[1])))
			return perr(ps, "\"%s\" is not a protobuf package", words[1]);
		if (!(ev->package = strdup(words[1])))
			return perr(ps, "out of memory");
		return true;
	}
	if (strcmp(kw, "field") == 0) {
		if ((n != 4 && n != 5) || quoted[1] || quoted[2] || quoted[3] ||
		    (n == 5 && (quoted[4] || strcmp(words[4], "repeated") != 0)))
			return perr(ps, "expected: field NUMBER NAME TYPE [repeated]");
		if (!finish_field(ps, *cur_f))
			return false;
		uint32_t number = 0;
		enum field_type type = FT_INT32;
		if (!parse_field_number(ps, words[1], &number) || !parse_type(ps, words[3], &type))
			return false;
		if (!field_is_identifier(words[2], strlen(words[2])))
			return perr(ps, "field name \"%s\" is not an identifier", words[2]);
		if (ev->nfields == LOCK_MAX_ITEMS)
			return perr(ps, "event %s v%d: more than %d fields", ev->name, ev->version,
				    LOCK_MAX_ITEMS);
		struct LockField *f = add_field(ev);
		if (!f || !(f->name = strdup(words[2])))
			return perr(ps, "out of memory");
		f->number = number;
		f->type = type;
		f->repeated = n == 5;
		f->line = ps->line;
		*cur_f = f;
		return true;
	}
	if (strcmp(kw, "value") == 0) {
		struct LockField *f = *cur_f;
		if (n != 3 || quoted[1] || !quoted[2])
			return perr(ps, "expected: value NUMBER \"LABEL\"");
		if (!f || f->type != FT_ENUM)
			return perr(ps, "a value line belongs under a field of type enum");
		unsigned long v;
		if (f->nlabels == LOCK_MAX_ITEMS)
			return perr(ps, "field %u \"%s\": more than %d enum values", f->number,
				    f->name, LOCK_MAX_ITEMS);
		if (!parse_uint(words[1], 1, 1000000, &v) || v != f->nlabels + 1)
			return perr(ps, "field %u \"%s\": expected value %zu (enum values are numbered 1, 2, 3... in order)",
				    f->number, f->name, f->nlabels + 1);
		if (!add_label(f, strdup(words[2])))
			return perr(ps, "out of memory");
		return true;
	}
	if (strcmp(kw, "reserved") == 0) {
		if (n != 2)
			return perr(ps, "expected: reserved NUMBER or reserved \"NAME\"");
		if (!finish_field(ps, *cur_f))
			return false;
		*cur_f = NULL;
		if (ev->nres_names + ev->nres_numbers == LOCK_MAX_ITEMS)
			return perr(ps, "event %s v%d: more than %d reserved entries", ev->name,
				    ev->version, LOCK_MAX_ITEMS);
		if (quoted[1]) {
			if (!field_is_identifier(words[1], strlen(words[1])))
				return perr(ps, "reserved name \"%s\" is not an identifier", words[1]);
			if (!add_res_name(ev, strdup(words[1])))
				return perr(ps, "out of memory");
			return true;
		}
		uint32_t number = 0;
		if (!parse_field_number(ps, words[1], &number))
			return false;
		if (!add_res_number(ev, number))
			return perr(ps, "out of memory");
		return true;
	}
	return perr(ps, "unknown line \"%s\" (event, package, field, value, reserved)", kw);
}

static bool has_res_number(const struct LockEvent *ev, uint32_t n);
static bool has_res_name(const struct LockEvent *ev, const char *name);
static bool unique_labels(struct Parser *ps, const struct LockEvent *ev, const struct LockField *f);

/*
 * What a sorted lock must not hold twice: an event version, a field number
 * or name, a reserved entry, or a reserved entry that is also a field.
 * Checked after sorting (neighbours), so a large hostile file costs
 * n log n, not n squared. The error's line is the later of the two.
 */
static bool check_unique(struct Parser *ps, Lock *lock)
{
	for (size_t i = 0; i < lock->nevents; i++) {
		struct LockEvent *ev = &lock->events[i];
		if (i && by_event(&lock->events[i - 1], ev) == 0) {
			const struct LockEvent *a = &lock->events[i - 1];
			ps->line = a->line > ev->line ? a->line : ev->line;
			return perr(ps, "event %s v%d is listed twice (line %d)", ev->name,
				    ev->version, a->line < ev->line ? a->line : ev->line);
		}
		for (size_t k = 1; k < ev->nfields; k++)
			if (ev->fields[k - 1].number == ev->fields[k].number) {
				ps->line = ev->fields[k - 1].line > ev->fields[k].line
						   ? ev->fields[k - 1].line
						   : ev->fields[k].line;
				return perr(ps, "event %s v%d: field number %u is listed twice",
					    ev->name, ev->version, ev->fields[k].number);
			}
		ps->line = ev->line;
		for (size_t k = 1; k < ev->nres_numbers; k++)
			if (ev->res_numbers[k - 1] == ev->res_numbers[k])
				return perr(ps, "event %s v%d: reserved number %u is listed twice",
					    ev->name, ev->version, ev->res_numbers[k]);
		for (size_t k = 1; k < ev->nres_names; k++)
			if (strcmp(ev->res_names[k - 1], ev->res_names[k]) == 0)
				return perr(ps, "event %s v%d: reserved name \"%s\" is listed twice",
					    ev->name, ev->version, ev->res_names[k]);
		/* Field names: sorted copies of the pointers. */
		const char **names = malloc((ev->nfields + 1) * sizeof(*names));
		if (!names)
			return perr(ps, "out of memory");
		for (size_t k = 0; k < ev->nfields; k++)
			names[k] = ev->fields[k].name;
		qsort(names, ev->nfields, sizeof(*names), by_string);
		for (size_t k = 1; k < ev->nfields; k++)
			if (strcmp(names[k - 1], names[k]) == 0) {
				perr(ps, "event %s v%d: field \"%s\" is listed twice", ev->name,
				     ev->version, names[k]);
				free(names);
				return false;
			}
		free(names);
		for (size_t k = 0; k < ev->nfields; k++) {
			const struct LockField *f = &ev->fields[k];
			ps->line = f->line;
			if (!unique_labels(ps, ev, f))
				return false;
			if (has_res_number(ev, f->number))
				return perr(ps, "event %s v%d: number %u is both a field and reserved",
					    ev->name, ev->version, f->number);
			if (has_res_name(ev, f->name))
				return perr(ps, "event %s v%d: name \"%s\" is both a field and reserved",
					    ev->name, ev->version, f->name);
		}
	}
	return true;
}

Lock *lock_parse(const char *text, size_t len, const char *path, char *err, size_t errlen)
{
	struct Parser ps = {.path = path, .line = 0, .err = err, .errlen = errlen};
	Lock *lock = calloc(1, sizeof(*lock));
	char *buf = NULL;
	if (!lock || !(lock->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		lock_free(lock);
		return NULL;
	}
	if (len > LOCK_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, LOCK_MAX_BYTES);
		goto fail;
	}
	if (!(buf = malloc(LOCK_MAX_LINE + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	bool header = false;
	struct LockEvent *cur_ev = NULL;
	struct LockField *cur_f = NULL;
	size_t pos = 0;
	while (pos < len) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (llen > LOCK_MAX_LINE) {
			perr(&ps, "line longer than %d bytes", LOCK_MAX_LINE);
			goto fail;
		}
		if (memchr(text + pos, '\0', llen)) {
			perr(&ps, "a NUL byte");
			goto fail;
		}
		memcpy(buf, text + pos, llen);
		pos += llen + (nl ? 1 : 0);
		if (llen && buf[llen - 1] == '\r')
			llen--;
		buf[llen] = '\0';
		char *p = buf + strspn(buf, " \t");
		if (!*p || *p == '#')
			continue;
		char *words[MAX_WORDS];
		bool quoted[MAX_WORDS];
		int n = split_words(&ps, p, words, quoted);
		if (n < 0)
			goto fail;
		if (!header) {
			unsigned long v;
			if (n != 2 || quoted[0] || quoted[1] || strcmp(words[0], "tablecast-lock") != 0 ||
			    !parse_uint(words[1], 0, 1000000, &v)) {
				perr(&ps, "not a tablecast lock file (it starts with \"tablecast-lock %d\")",
				     LOCK_FORMAT_VERSION);
				goto fail;
			}
			if (v != LOCK_FORMAT_VERSION) {
				perr(&ps, "lock format %lu is not supported (this tablecast reads %d)", v,
				     LOCK_FORMAT_VERSION);
				goto fail;
			}
			header = true;
			continue;
		}
		if (!parse_line(&ps, lock, words, quoted, n, &cur_ev, &cur_f))
			goto fail;
	}
	if (!header) {
		ps.line = 0;
		perr(&ps, "empty: not a tablecast lock file (it starts with \"tablecast-lock %d\")",
		     LOCK_FORMAT_VERSION);
		goto fail;
	}
	if (!finish_field(&ps, cur_f) || !finish_event(&ps, cur_ev))
		goto fail;
	free(buf);
	buf = NULL;
	sort_lock(lock);
	if (!check_unique(&ps, lock))
		goto fail;
	return lock;
fail:
	free(buf);
	lock_free(lock);
	return NULL;
}

/* ---- comparing ------------------------------------------------------------------ */

static const struct LockEvent *find_event(const Lock *lock, const char *name, int version)
{
	struct LockEvent key = {.name = (char *)name, .version = version};
	if (!lock->nevents) /* bsearch wants a base even for none */
		return NULL;
	return bsearch(&key, lock->events, lock->nevents, sizeof(*lock->events), by_event);
}

static const struct LockField *find_field(const struct LockEvent *ev, uint32_t number)
{
	struct LockField key = {.number = number};
	if (!ev->nfields)
		return NULL;
	return bsearch(&key, ev->fields, ev->nfields, sizeof(*ev->fields), by_field);
}

static bool has_res_number(const struct LockEvent *ev, uint32_t n)
{
	return ev->nres_numbers &&
	       bsearch(&n, ev->res_numbers, ev->nres_numbers, sizeof(n), by_number) != NULL;
}

static bool has_res_name(const struct LockEvent *ev, const char *name)
{
	return ev->nres_names &&
	       bsearch(&name, ev->res_names, ev->nres_names, sizeof(name), by_string) != NULL;
}

/* buf's FIELD_WIRE_JSON_COMPATIBLE_TYPE groups among our types (see lock.h for strings). */
static int type_group(enum field_type t)
{
	switch (t) {
	case FT_UINT32:
		return FT_INT32;
	case FT_UINT64:
		return FT_INT64;
	default:
		return (int)t;
	}
}

struct Report {
	struct StrBuf *out;
	size_t count;
};

static void refuse_or(struct Report *r, const Lock *where, int line, const struct LockEvent *ev,
		      const char *rule, const char *remedy, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/*
 * One refusal line: "file:line: event NAME vN: <what> (RULE); declare
 * version N+1 instead", or with a remedy that keeps the version:
 * "...(RULE); <remedy>, or declare version N+1 instead".
 */
static void refuse_or(struct Report *r, const Lock *where, int line, const struct LockEvent *ev,
		      const char *rule, const char *remedy, const char *fmt, ...)
{
	if (line > 0)
		sb_printf(r->out, "%s:%d: ", where->path, line);
	else
		sb_printf(r->out, "%s: ", where->path);
	sb_printf(r->out, "event %s v%d: ", ev->name, ev->version);
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_mask_controls(what);
	sb_printf(r->out, "%s (%s); %s%sdeclare version %d instead\n", what, rule,
		  remedy ? remedy : "", remedy ? ", or " : "", ev->version + 1);
	r->count++;
}

#define refuse(r, where, line, ev, rule, ...) refuse_or(r, where, line, ev, rule, NULL, __VA_ARGS__)

/* "DHL" as a short quoted label for messages (labels may be long or odd). */
static void short_label(char *out, size_t len, const char *label)
{
	snprintf(out, len, "\"%.60s%s\"", label, strlen(label) > 60 ? "..." : "");
}

/* A label and its number, for looking labels up in n log n. */
struct Label {
	const char *text;
	size_t number;
};

static int by_label(const void *pa, const void *pb)
{
	return strcmp(((const struct Label *)pa)->text, ((const struct Label *)pb)->text);
}

/* f's labels sorted by text (NULL: out of memory). */
static struct Label *label_index(const struct LockField *f)
{
	struct Label *idx = malloc((f->nlabels + 1) * sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < f->nlabels; i++)
		idx[i] = (struct Label){.text = f->labels[i], .number = i + 1};
	qsort(idx, f->nlabels, sizeof(*idx), by_label);
	return idx;
}

/* The number of label in idx (n entries), 0 when absent. */
static size_t label_number(const struct Label *idx, size_t n, const char *label)
{
	struct Label key = {.text = label};
	const struct Label *hit = bsearch(&key, idx, n, sizeof(*idx), by_label);
	return hit ? hit->number : 0;
}

/* An enum's labels are distinct (protoc would refuse their value names too). */
static bool unique_labels(struct Parser *ps, const struct LockEvent *ev, const struct LockField *f)
{
	struct Label *idx = label_index(f);
	if (!idx)
		return perr(ps, "out of memory");
	bool ok = true;
	for (size_t i = 1; i < f->nlabels && ok; i++)
		if (strcmp(idx[i - 1].text, idx[i].text) == 0)
			ok = perr(ps, "event %s v%d: field %u \"%s\": enum value \"%.60s\" is listed twice",
				  ev->name, ev->version, f->number, f->name, idx[i].text);
	free(idx);
	return ok;
}

/*
 * Each locked label keeps its number (the wire) and each number its label
 * (the JSON name). A label whose number now holds another locked label that
 * moved was removed, not renamed.
 */
static void compare_enum(struct Report *r, const Lock *next, const struct LockEvent *old_ev,
			 const struct LockField *of, const struct LockField *nf)
{
	char a[80], b[80];
	struct Label *old_idx = label_index(of), *new_idx = label_index(nf);
	if (!old_idx || !new_idx) {
		r->out->broken = true;
		goto out;
	}
	for (size_t i = 0; i < of->nlabels; i++) {
		const char *label = of->labels[i];
		if (i < nf->nlabels && strcmp(nf->labels[i], label) == 0)
			continue;
		size_t j = label_number(new_idx, nf->nlabels, label);
		short_label(a, sizeof(a), label);
		if (j) {
			refuse(r, next, nf->line, old_ev, "ENUM_VALUE_SAME_NUMBER",
			       "field %u \"%s\": enum value %s renumbered from %zu to %zu",
			       of->number, of->name, a, i + 1, j);
		} else if (i < nf->nlabels &&
			   !label_number(old_idx, of->nlabels, nf->labels[i])) {
			short_label(b, sizeof(b), nf->labels[i]);
			refuse(r, next, nf->line, old_ev, "ENUM_VALUE_SAME_NAME",
			       "field %u \"%s\": enum value %zu renamed from %s to %s", of->number,
			       of->name, i + 1, a, b);
		} else {
			refuse(r, next, nf->line, old_ev, "ENUM_VALUE_NO_DELETE",
			       "field %u \"%s\": enum value %zu %s removed", of->number, of->name,
			       i + 1, a);
		}
	}
out:
	free(old_idx);
	free(new_idx);
}

static void compare_field(struct Report *r, const Lock *next, const struct LockEvent *old_ev,
			  const struct LockField *of, const struct LockField *nf)
{
	const char *ot = field_type_name(of->type), *nt = field_type_name(nf->type);
	bool same_type = type_group(of->type) == type_group(nf->type);
	bool same_card = of->repeated == nf->repeated;
	if (strcmp(of->name, nf->name) != 0 && (!same_type || !same_card)) {
		refuse(r, next, nf->line, old_ev, "FIELD_NUMBER_REUSED",
		       "field %u was \"%s\" (%s%s), now \"%s\" (%s%s)", of->number, of->name, ot,
		       of->repeated ? " repeated" : "", nf->name, nt,
		       nf->repeated ? " repeated" : "");
		return;
	}
	if (strcmp(of->name, nf->name) != 0)
		refuse(r, next, nf->line, old_ev, "FIELD_SAME_NAME",
		       "field %u \"%s\" renamed to \"%s\", which changes its JSON name", of->number,
		       of->name, nf->name);
	if (!same_type)
		refuse(r, next, nf->line, old_ev, "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
		       "field %u \"%s\" changed type from %s to %s", of->number, of->name, ot, nt);
	if (!same_card)
		refuse(r, next, nf->line, old_ev, "FIELD_SAME_CARDINALITY",
		       "field %u \"%s\" changed from %s to %s", of->number, of->name,
		       of->repeated ? "repeated" : "optional", nf->repeated ? "repeated" : "optional");
	if (of->type == FT_ENUM && nf->type == FT_ENUM)
		compare_enum(r, next, old_ev, of, nf);
}

static void compare_event(struct Report *r, const Lock *next, const struct LockEvent *o,
			  const struct LockEvent *n)
{
	if (strcmp(o->package, n->package) != 0)
		refuse(r, next, n->line, o, "PACKAGE_SAME", "package changed from %s to %s",
		       o->package, n->package);
	for (size_t i = 0; i < o->nfields; i++) {
		const struct LockField *of = &o->fields[i];
		const struct LockField *nf = find_field(n, of->number);
		if (nf) {
			compare_field(r, next, o, of, nf);
			continue;
		}
		/* WIRE_JSON: a deleted field reserves its number (wire) and its name (JSON). */
		bool num = has_res_number(n, of->number), name = has_res_name(n, of->name);
		if (num && name)
			continue;
		char missing[160];
		if (!num && !name)
			snprintf(missing, sizeof(missing), "number %u and name \"%s\"", of->number,
				 of->name);
		else if (!num)
			snprintf(missing, sizeof(missing), "number %u", of->number);
		else
			snprintf(missing, sizeof(missing), "name \"%s\"", of->name);
		char remedy[200];
		snprintf(remedy, sizeof(remedy), "add reserved = (%u, \"%s\")", of->number,
			 of->name);
		refuse_or(r, next, n->line, o, "FIELD_NO_DELETE_UNLESS_RESERVED", remedy,
			  "field %u \"%s\" removed without reserving its %s", of->number, of->name,
			  missing);
	}
	for (size_t i = 0; i < o->nres_numbers; i++)
		if (!has_res_number(n, o->res_numbers[i]))
			refuse(r, next, n->line, o, "RESERVED_NO_DELETE",
			       "number %u is no longer reserved", o->res_numbers[i]);
	for (size_t i = 0; i < o->nres_names; i++)
		if (!has_res_name(n, o->res_names[i]))
			refuse(r, next, n->line, o, "RESERVED_NO_DELETE",
			       "name \"%s\" is no longer reserved", o->res_names[i]);
}

/* The message name: what follows the last dot. */
static const char *message_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot ? dot + 1 : name;
}

static int by_version_package(const void *pa, const void *pb)
{
	const struct LockEvent *a = *(const struct LockEvent *const *)pa;
	const struct LockEvent *b = *(const struct LockEvent *const *)pb;
	int c = (a->version > b->version) - (a->version < b->version);
	return c ? c : strcmp(a->package, b->package);
}

static int by_version_message(const void *pa, const void *pb)
{
	const struct LockEvent *a = *(const struct LockEvent *const *)pa;
	const struct LockEvent *b = *(const struct LockEvent *const *)pb;
	int c = (a->version > b->version) - (a->version < b->version);
	return c ? c : strcmp(message_of(a->name), message_of(b->name));
}

/*
 * The versions next adds (none of them locked), twice: sorted by version
 * and package, and by version and message name. A locked version that is
 * gone and has an added one sharing its version and package, or its
 * version and message name, was most likely renamed: the more useful
 * message.
 */
struct Added {
	const struct LockEvent **by_package, **by_message;
	size_t n;
};

static void missing_event(struct Report *r, const Lock *locked, const Lock *next,
			  const struct Added *added, const struct LockEvent *o)
{
	const struct LockEvent *key = o, *const *hit;
	hit = bsearch(&key, added->by_package, added->n, sizeof(*added->by_package),
		      by_version_package);
	if (hit) {
		refuse(r, next, (*hit)->line, o, "MESSAGE_SAME_NAME", "message renamed to %s",
		       (*hit)->name);
		return;
	}
	hit = bsearch(&key, added->by_message, added->n, sizeof(*added->by_message),
		      by_version_message);
	if (hit) {
		refuse(r, next, (*hit)->line, o, "PACKAGE_SAME_NAME",
		       "package renamed from %s to %s", o->package, (*hit)->package);
		return;
	}
	refuse_or(r, locked, o->line, o, "EVENT_VERSION_NO_DELETE",
		  "keep declaring it (to retire it, delete it from the lock in a reviewed change)",
		  "the lock lists this version but the configuration no longer declares it");
}

size_t lock_compare(const Lock *locked, const Lock *next, struct StrBuf *out)
{
	struct Report r = {.out = out};
	struct Added added = {
		.by_package = malloc((next->nevents + 1) * sizeof(*added.by_package)),
		.by_message = malloc((next->nevents + 1) * sizeof(*added.by_message)),
	};
	if (!added.by_package || !added.by_message) {
		out->broken = true;
		goto out;
	}
	for (size_t i = 0; i < next->nevents; i++) {
		const struct LockEvent *n = &next->events[i];
		if (!find_event(locked, n->name, n->version))
			added.by_package[added.n] = added.by_message[added.n] = n, added.n++;
	}
	qsort(added.by_package, added.n, sizeof(*added.by_package), by_version_package);
	qsort(added.by_message, added.n, sizeof(*added.by_message), by_version_message);
	for (size_t i = 0; i < locked->nevents; i++) {
		const struct LockEvent *o = &locked->events[i];
		const struct LockEvent *n = find_event(next, o->name, o->version);
		if (n)
			compare_event(&r, next, o, n);
		else
			missing_event(&r, locked, next, &added, o);
	}
out:
	free(added.by_package);
	free(added.by_message);
	return r.count;
}
