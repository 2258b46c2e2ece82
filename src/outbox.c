/* The transactional outbox: outbox rows and logical messages as records, payloads checked against their events. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "json_valid.h"
#include "outbox.h"
#include "utf8.h"
#include "value.h"
#include "tablecast/v1/outbox.pb-c.h"

/* Headers tablecast sets itself: a record may not replace them. */
static bool reserved_header(const char *name)
{
	return !name[0] || strncmp(name, "ce_", 3) == 0 || strcmp(name, "content-type") == 0 ||
	       strncmp(name, "tablecast", 9) == 0;
}

/* bytea in PostgreSQL's hex output format: "\x" then two hex digits a byte. */
static int bytea_from_text(const struct PgoValue *v, Arena *arena, const uint8_t **out,
			   size_t *outlen, char *err, size_t errlen)
{
	if (v->len < 2 || v->data[0] != '\\' || v->data[1] != 'x' || v->len % 2) {
		snprintf(err, errlen, "payload: not bytea in hex output format (bytea_output = hex)");
		return -1;
	}
	size_t n = (v->len - 2) / 2;
	uint8_t *buf = arena_alloc(arena, n ? n : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = value_hex_digit(v->data[2 + 2 * i]), lo = value_hex_digit(v->data[3 + 2 * i]);
		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "payload: bad hex digit in bytea");
			return -1;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* Append code point cp to buf as UTF-8 (4 bytes room). */
static size_t put_utf8(char *buf, uint32_t cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | cp >> 18);
	buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

struct JsonIn {
	const char *p, *end;
};

static int read_hex4(struct JsonIn *in, uint32_t *cp)
{
	*cp = 0;
	if (in->end - in->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = value_hex_digit((uint8_t)*in->p++);
		if (d < 0)
			return -1;
		*cp = *cp << 4 | (uint32_t)d;
	}
	return 0;
}

/* A JSON string at in->p (after whitespace), unescaped into the arena; NULL when malformed. */
static char *json_string(struct JsonIn *in, Arena *arena)
{
	if (in->p >= in->end || *in->p != '"')
		return NULL;
	in->p++;
	/* As long as the escaped text at most: \uXXXX (6 bytes) is at most 4 bytes of UTF-8. */
	const char *q = in->p;
	while (q < in->end && *q != '"')
		q += *q == '\\' && q + 1 < in->end ? 2 : 1;
	char *out = arena_alloc(arena, (size_t)(q - in->p) + 1);
	size_t n = 0;
	if (!out)
		return NULL;
	while (in->p < in->end && *in->p != '"') {
		char c = *in->p++;
		if ((unsigned char)c < 0x20)
			return NULL;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		if (in->p >= in->end)
			return NULL;
		c = *in->p++;
		uint32_t cp;
		switch (c) {
		case '"': case '\\': case '/': out[n++] = c; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			if (read_hex4(in, &cp) < 0)
				return NULL;
			if (cp >= 0xd800 && cp < 0xdc00) {
				uint32_t lo;
				if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u')
					return NULL;
				in->p += 2;
				if (read_hex4(in, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return NULL;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return NULL;
			}
			if (cp == 0)
				return NULL; /* a header value is a C string */
			n += put_utf8(out + n, cp);
			break;
		default:
			return NULL;
		}
	}
	if (in->p >= in->end)
		return NULL;
	in->p++;
	out[n] = '\0';
	return out;
}

/* headers jsonb: {"name": "value", ...}, strings only. */
static int headers_from_json(const struct PgoValue *v, Arena *arena, struct OutboxRecord *out,
			     char *err, size_t errlen)
{
	struct JsonIn in = {(const char *)v->data, (const char *)v->data + v->len};
	size_t cap = v->len / 4 + 1; /* "a":"" is the shortest pair: 6 bytes */
	const char **h = arena_alloc(arena, 2 * cap * sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	in.p = json_skip_space(in.p, in.end);
	if (in.p >= in.end || *in.p++ != '{')
		goto bad;
	in.p = json_skip_space(in.p, in.end);
	if (in.p < in.end && *in.p == '}') {
		in.p++;
	} else {
		for (;;) {
			in.p = json_skip_space(in.p, in.end);
			char *name = json_string(&in, arena);
			in.p = json_skip_space(in.p, in.end);
			if (!name || in.p >= in.end || *in.p++ != ':')
				goto bad;
			in.p = json_skip_space(in.p, in.end);
			char *value = json_string(&in, arena);
			if (!value) {
				snprintf(err, errlen, "headers: \"%s\" must be a string", name);
				return -1;
			}
			if (reserved_header(name)) {
				snprintf(err, errlen,
					 "headers: \"%s\" is tablecast's own (ce_*, content-type, tablecast*)",
					 name);
				return -1;
			}
			if (out->nheaders >= cap)
				goto bad;
			h[2 * out->nheaders] = name;
			h[2 * out->nheaders + 1] = value;
			out->nheaders++;
			in.p = json_skip_space(in.p, in.end);
			if (in.p < in.end && *in.p == ',') {
				in.p++;
				continue;
			}
			if (in.p < in.end && *in.p == '}') {
				in.p++;
				break;
			}
			goto bad;
		}
	}
	in.p = json_skip_space(in.p, in.end);
	if (in.p != in.end)
		goto bad;
	out->headers = h;
	return 0;
bad:
	snprintf(err, errlen, "headers: not a JSON object of strings");
	return -1;
}

int obx_from_row(const struct Relation *rel, const struct PgoTuple *tuple, Arena *arena,
		 struct OutboxRecord *out, char *err, size_t errlen)
{
	static const char *const names[] = {"event", "version", "key", "subject", "payload",
					    "headers"};
	const struct PgoValue *col[6] = {0};

	memset(out, 0, sizeof(*out));
	for (uint16_t a = 0; a < rel->natts && a < tuple->ncols; a++)
		for (size_t k = 0; k < 6; k++)
			if (strcmp(rel->atts[a].name, names[k]) == 0)
				col[k] = &tuple->cols[a];
	for (size_t k = 0; k < 6; k++) {
		if (col[k] && col[k]->kind == 'u') {
			snprintf(err, errlen, "column %s: unchanged TOAST value in an insert", names[k]);
			return -1;
		}
		if (col[k] && col[k]->kind == 'n')
			col[k] = NULL;
		if (!col[k] && (k == 0 || k == 1 || k == 4)) {
			snprintf(err, errlen, "column %s is missing or NULL (docs/MIGRATION.md: the outbox table)",
				 names[k]);
			return -1;
		}
	}
	char *event = arena_strndup(arena, col[0]->data, col[0]->len);
	char *version = arena_strndup(arena, col[1]->data, col[1]->len);
	if (!event || !version) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->event = event;
	char *end;
	long v = strtol(version, &end, 10);
	if (end == version || *end || v < 1 || v > 1000000) {
		snprintf(err, errlen, "version \"%s\" is not a version number", version);
		return -1;
	}
	out->version = (int)v;
	if (col[2]) {
		if (!(out->key = arena_strndup(arena, col[2]->data, col[2]->len))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		out->key_len = col[2]->len;
	}
	if (col[3] && !(out->subject = arena_strndup(arena, col[3]->data, col[3]->len))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (bytea_from_text(col[4], arena, &out->payload, &out->payload_len, err, errlen) < 0)
		return -1;
	if (col[5])
		return headers_from_json(col[5], arena, out, err, errlen);
	return 0;
}

int obx_from_message(const uint8_t *data, size_t len, Arena *arena, struct OutboxRecord *out,
		     char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	Tablecast__V1__OutboxMessage *m = tablecast__v1__outbox_message__unpack(NULL, len, data);
	if (!m) {
		snprintf(err, errlen, "not a tablecast.v1.OutboxMessage (proto/tablecast/v1/outbox.proto)");
		return -1;
	}
	int rc = -1;
	if (!m->event[0]) {
		snprintf(err, errlen, "event is empty");
		goto done;
	}
	if (m->version < 1 || m->version > 1000000) {
		snprintf(err, errlen, "version %u is not a version number", m->version);
		goto done;
	}
	out->version = (int)m->version;
	out->event = arena_strndup(arena, m->event, strlen(m->event));
	bool has_key = m->key_present_case == TABLECAST__V1__OUTBOX_MESSAGE__KEY_PRESENT_KEY;
	bool has_subject =
		m->subject_present_case == TABLECAST__V1__OUTBOX_MESSAGE__SUBJECT_PRESENT_SUBJECT;
	if (has_key) {
		out->key_len = strlen(m->key);
		out->key = arena_strndup(arena, m->key, out->key_len);
	}
	if (has_subject)
		out->subject = arena_strndup(arena, m->subject, strlen(m->subject));
	uint8_t *payload = arena_alloc(arena, m->payload.len ? m->payload.len : 1);
	const char **h = arena_alloc(arena, (2 * m->n_headers + 1) * sizeof(*h));
	if (!out->event || (has_key && !out->key) || (has_subject && !out->subject) || !payload || !h) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (m->payload.len)
		memcpy(payload, m->payload.data, m->payload.len);
	out->payload = payload;
	out->payload_len = m->payload.len;
	for (size_t i = 0; i < m->n_headers; i++) {
		const char *name = m->headers[i]->key, *value = m->headers[i]->value;
		if (reserved_header(name)) {
			snprintf(err, errlen,
				 "headers: \"%s\" is tablecast's own (ce_*, content-type, tablecast*)", name);
			goto done;
		}
		h[2 * i] = arena_strndup(arena, name, strlen(name));
		h[2 * i + 1] = arena_strndup(arena, value, strlen(value));
		if (!h[2 * i] || !h[2 * i + 1]) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	out->headers = h;
	out->nheaders = m->n_headers;
	rc = 0;
done:
	tablecast__v1__outbox_message__free_unpacked(m, NULL);
	return rc;
}

/* ---- payload validation: the protobuf wire format, read without a schema compiler ---- */

#define WT_VARINT 0
#define WT_I64 1
#define WT_LEN 2
#define WT_I32 5

static int varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		uint8_t b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* The wire type a value of this type takes (unpacked). */
static int wire_type(enum field_type t)
{
	switch (t) {
	case FT_FLOAT:
		return WT_I32;
	case FT_DOUBLE:
		return WT_I64;
	case FT_STRING: case FT_BYTES: case FT_TIMESTAMP: case FT_DATE: case FT_DECIMAL:
	case FT_JSON: case FT_UUID:
		return WT_LEN;
	default:
		return WT_VARINT;
	}
}

/* Skip one value of wire type wt at *pos; -1 when it runs past len. */
static int skip_value(const uint8_t *p, size_t len, size_t *pos, int wt, const uint8_t **body,
		      size_t *body_len)
{
	uint64_t v;
	switch (wt) {
	case WT_VARINT:
		return varint(p, len, pos, &v);
	case WT_I64:
		if (len - *pos < 8)
			return -1;
		*pos += 8;
		return 0;
	case WT_I32:
		if (len - *pos < 4)
			return -1;
		*pos += 4;
		return 0;
	case WT_LEN:
		if (varint(p, len, pos, &v) < 0 || v > len - *pos)
			return -1;
		*body = p + *pos;
		*body_len = (size_t)v;
		*pos += (size_t)v;
		return 0;
	default:
		return -1;
	}
}

/* google.protobuf.Timestamp: seconds = 1 (int64), nanos = 2 (int32). */
static bool valid_timestamp(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		uint64_t tag, v;
		if (varint(p, len, &pos, &tag) < 0 || ((tag >> 3) != 1 && (tag >> 3) != 2) ||
		    (tag & 7) != WT_VARINT || varint(p, len, &pos, &v) < 0)
			return false;
		if ((tag >> 3) == 2 && (int64_t)v >= 1000000000)
			return false;
	}
	return true;
}

int obx_validate(const struct EventDef *def, const uint8_t *payload, size_t len, char *err,
		 size_t errlen)
{
	bool seen_stack[64] = {0};
	bool *seen = def->nfields <= 64 ? seen_stack : calloc(def->nfields, 1);
	size_t pos = 0;
	int rc = -1;

	if (!seen) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (pos < len) {
		uint64_t tag;
		size_t at = pos;
		if (varint(payload, len, &pos, &tag) < 0 || (tag >> 3) == 0 || (tag >> 3) > 536870911) {
			snprintf(err, errlen, "payload: malformed protobuf at byte %zu", at);
			goto done;
		}
		uint32_t number = (uint32_t)(tag >> 3);
		int wt = (int)(tag & 7);
		size_t f = 0;
		while (f < def->nfields && def->fields[f].number != number)
			f++;
		if (f == def->nfields) {
			snprintf(err, errlen, "payload: field number %u is not declared in %s v%d", number,
				 def->name, def->version);
			goto done;
		}
		const struct EventField *field = &def->fields[f];
		int want = wire_type(field->type);
		bool packed = field->repeated && want != WT_LEN && wt == WT_LEN;
		if (wt != want && !packed) {
			snprintf(err, errlen,
				 "payload: field \"%s\" (number %u, %s%s) has wire type %d, expected %d",
				 field->name, number, field->repeated ? "repeated " : "",
				 field_type_name(field->type), wt, want);
			goto done;
		}
		const uint8_t *body = NULL;
		size_t body_len = 0;
		if (skip_value(payload, len, &pos, wt, &body, &body_len) < 0) {
			snprintf(err, errlen, "payload: field \"%s\" (number %u) runs past the end",
				 field->name, number);
			goto done;
		}
		if (packed) {
			size_t p2 = 0;
			while (p2 < body_len) {
				const uint8_t *unused;
				size_t unused_len;
				if (skip_value(body, body_len, &p2, want, &unused, &unused_len) < 0) {
					snprintf(err, errlen, "payload: field \"%s\" (number %u): malformed packed values",
						 field->name, number);
					goto done;
				}
			}
		} else if (wt == WT_LEN && field->type == FT_TIMESTAMP) {
			if (!valid_timestamp(body, body_len)) {
				snprintf(err, errlen,
					 "payload: field \"%s\" (number %u) is not a google.protobuf.Timestamp",
					 field->name, number);
				goto done;
			}
		} else if (wt == WT_LEN && field->type != FT_BYTES && !utf8_valid(body, body_len)) {
			snprintf(err, errlen, "payload: field \"%s\" (number %u) is not UTF-8 text",
				 field->name, number);
			goto done;
		}
		seen[f] = true;
	}
	for (size_t f = 0; f < def->nfields; f++) {
		if (def->fields[f].required && !seen[f]) {
			snprintf(err, errlen, "payload: required field \"%s\" (number %u) is absent",
				 def->fields[f].name, def->fields[f].number);
			goto done;
		}
	}
	rc = 0;
done:
	if (seen != seen_stack)
		free(seen);
	return rc;
}
