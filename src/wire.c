/* Wire reader: protobuf bytes tablecast produced, back to event field values. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

/* A bounds-checked protobuf wire reader. */
struct Wire {
	const uint8_t *p;
	const uint8_t *end;
};

static bool wire_varint(struct Wire *w, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && w->p < w->end; shift += 7) {
		uint8_t b = *w->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static bool wire_fixed(struct Wire *w, size_t n, uint64_t *out)
{
	if ((size_t)(w->end - w->p) < n)
		return false;
	*out = 0;
	for (size_t i = 0; i < n; i++)
		*out |= (uint64_t)w->p[i] << (8 * i);
	w->p += n;
	return true;
}

static bool wire_bytes(struct Wire *w, const uint8_t **data, size_t *len)
{
	uint64_t n;
	if (!wire_varint(w, &n) || n > (uint64_t)(w->end - w->p))
		return false;
	*data = w->p;
	*len = (size_t)n;
	w->p += n;
	return true;
}

static const struct EventField *field_by_number(const struct EventDef *ev, uint32_t number,
                                                size_t *index)
{
	for (size_t i = 0; i < ev->nfields; i++) {
		if (ev->fields[i].number == number) {
			*index = i;
			return &ev->fields[i];
		}
	}
	return NULL;
}

/* One scalar of field f from the wire (wt is its wire type) into v; false on malformed input. */
static bool decode_scalar(const struct EventField *f, int wt, struct Wire *w, Arena *arena,
                          struct Value *v)
{
	uint64_t u;
	const uint8_t *data;
	size_t len;
	char err[256];

	switch (f->type) {
	case FT_INT32:
	case FT_INT64:
	case FT_UINT32:
	case FT_SINT32:
	case FT_SINT64:
	case FT_BOOL:
	case FT_ENUM:
		if (wt != 0 || !wire_varint(w, &u))
			return false;
		if (f->type == FT_BOOL) {
			*v = (struct Value){.kind = VAL_BOOL, .b = u != 0};
		} else if (f->type == FT_ENUM) {
			if (u == 0 || u > f->n_enum_values)
				*v = (struct Value){.kind = VAL_NULL};
			else
				*v = (struct Value){
				    .kind = VAL_TEXT,
				    .s = {f->enum_values[u - 1], strlen(f->enum_values[u - 1])}};
		} else if (f->type == FT_SINT32 || f->type == FT_SINT64) {
			*v = (struct Value){.kind = VAL_INT,
			                    .i = (int64_t)(u >> 1) ^ -(int64_t)(u & 1)};
		} else if (f->type == FT_INT32) {
			*v = (struct Value){.kind = VAL_INT, .i = (int32_t)(uint32_t)u};
		} else {
			*v = (struct Value){.kind = VAL_INT, .i = (int64_t)u};
		}
		return true;
	case FT_UINT64: {
		if (wt != 0 || !wire_varint(w, &u))
			return false;
		/* Beyond int64: carry it as exact numeric text. */
		char *text = arena_alloc(arena, 24);
		if (!text)
			return false;
		int n = snprintf(text, 24, "%" PRIu64, u);
		*v = (struct Value){.kind = VAL_NUMERIC, .s = {text, (size_t)n}};
		return true;
	}
	case FT_FLOAT: {
		if (wt != 5 || !wire_fixed(w, 4, &u))
			return false;
		uint32_t bits = (uint32_t)u;
		float fl;
		memcpy(&fl, &bits, sizeof(fl));
		*v = (struct Value){.kind = VAL_FLOAT, .f = fl};
		return true;
	}
	case FT_DOUBLE:
		if (wt != 1 || !wire_fixed(w, 8, &u))
			return false;
		v->kind = VAL_FLOAT;
		memcpy(&v->f, &u, sizeof(v->f));
		return true;
	case FT_TIMESTAMP: {
		if (wt != 2 || !wire_bytes(w, &data, &len))
			return false;
		struct Wire ts = {data, data + len};
		int64_t seconds = 0, nanos = 0;
		while (ts.p < ts.end) {
			uint64_t tag, x;
			if (!wire_varint(&ts, &tag) || (tag & 7) != 0 || !wire_varint(&ts, &x))
				return false;
			if (tag >> 3 == 1)
				seconds = (int64_t)x;
			else if (tag >> 3 == 2)
				nanos = (int32_t)(uint32_t)x;
		}
		*v = (struct Value){.kind = VAL_TIMESTAMP, .ts = seconds * 1000000 + nanos / 1000};
		return true;
	}
	case FT_STRING:
	case FT_BYTES:
	case FT_DECIMAL:
	case FT_JSON:
	case FT_UUID:
	case FT_DATE:
		if (wt != 2 || !wire_bytes(w, &data, &len))
			return false;
		if (f->type == FT_DATE)
			return value_parse((const char *)data, len, OID_DATE, arena, v, err,
			                   sizeof(err)) == 0;
		*v = (struct Value){.kind = f->type == FT_BYTES     ? VAL_BYTEA
		                            : f->type == FT_DECIMAL ? VAL_NUMERIC
		                                                    : VAL_TEXT,
		                    .s = {(const char *)data, len}};
		return true;
	}
	return false;
}

/* Append one element to an array value, growing it in the arena. */
static bool array_push(Arena *arena, struct Value *arr, const struct Value *elem)
{
	struct Value *grown = arena_alloc(arena, sizeof(struct Value) * (arr->arr.n + 1));
	if (!grown)
		return false;
	if (arr->arr.n)
		memcpy(grown, arr->arr.elems, sizeof(struct Value) * arr->arr.n);
	grown[arr->arr.n] = *elem;
	arr->arr.elems = grown;
	arr->arr.n++;
	return true;
}

/* Decode an event payload into one Value per field (VAL_NULL when absent). */
bool wire_decode_event(const struct EventDef *ev, const uint8_t *data, size_t len, Arena *arena,
                       struct Value *values)
{
	struct Wire w = {data, data + len};

	for (size_t i = 0; i < ev->nfields; i++)
		values[i] = ev->fields[i].repeated ? (struct Value){.kind = VAL_ARRAY}
		                                   : (struct Value){.kind = VAL_NULL};
	while (w.p < w.end) {
		uint64_t tag;
		size_t idx;
		if (!wire_varint(&w, &tag))
			return false;
		int wt = (int)(tag & 7);
		const struct EventField *f = field_by_number(ev, (uint32_t)(tag >> 3), &idx);
		if (!f)
			return false;
		struct Value v;
		bool packed = f->repeated && wt == 2 && f->type != FT_STRING &&
		              f->type != FT_BYTES && f->type != FT_DECIMAL && f->type != FT_JSON &&
		              f->type != FT_UUID && f->type != FT_DATE && f->type != FT_TIMESTAMP;
		if (packed) {
			const uint8_t *p;
			size_t n;
			if (!wire_bytes(&w, &p, &n))
				return false;
			struct Wire inner = {p, p + n};
			int inner_wt = f->type == FT_FLOAT ? 5 : f->type == FT_DOUBLE ? 1 : 0;
			while (inner.p < inner.end)
				if (!decode_scalar(f, inner_wt, &inner, arena, &v) ||
				    !array_push(arena, &values[idx], &v))
					return false;
			continue;
		}
		if (!decode_scalar(f, wt, &w, arena, &v))
			return false;
		if (f->repeated) {
			if (!array_push(arena, &values[idx], &v))
				return false;
		} else {
			values[idx] = v;
		}
	}
	return true;
}

/* Skip one field's value of wire type wt; false on malformed input or a group. */
static bool wire_skip(struct Wire *w, int wt)
{
	uint64_t u;
	const uint8_t *p;
	size_t n;
	switch (wt) {
	case 0:
		return wire_varint(w, &u);
	case 1:
		return wire_fixed(w, 8, &u);
	case 2:
		return wire_bytes(w, &p, &n);
	case 5:
		return wire_fixed(w, 4, &u);
	default:
		return false;
	}
}

bool wire_decode_cloudevent(const uint8_t *data, size_t len, Arena *arena,
                            struct WireCloudEvent *out)
{
	struct Wire w = {data, data + len};
	*out = (struct WireCloudEvent){0};
	while (w.p < w.end) {
		uint64_t tag;
		const uint8_t *p;
		size_t n;
		if (!wire_varint(&w, &tag))
			return false;
		uint64_t number = tag >> 3;
		int wt = (int)(tag & 7);
		if (number < 1 || number > 8 || number == 5) {
			if (!wire_skip(&w, wt))
				return false;
			continue;
		}
		/* Fields 1-4 and 6-8 are all length-delimited. */
		if (wt != 2 || !wire_bytes(&w, &p, &n))
			return false;
		const char **text = number == 1   ? &out->id
		                    : number == 2 ? &out->source
		                    : number == 3 ? &out->spec_version
		                    : number == 4 ? &out->type
		                                  : NULL;
		if (text) {
			if (arena && !(*text = arena_strndup(arena, p, n)))
				return false;
		} else if (number == 6 || number == 7) {
			out->type_url = NULL;
			out->data = p;
			out->data_len = n;
		} else {
			/* google.protobuf.Any: type_url = 1, value = 2. */
			struct Wire any = {p, p + n};
			out->type_url = "";
			out->data = p + n; /* an Any without a value holds an empty message */
			out->data_len = 0;
			while (any.p < any.end) {
				const uint8_t *q;
				size_t m;
				if (!wire_varint(&any, &tag))
					return false;
				if ((tag & 7) != 2) {
					if (!wire_skip(&any, (int)(tag & 7)))
						return false;
					continue;
				}
				if (!wire_bytes(&any, &q, &m))
					return false;
				if (tag >> 3 == 1 && arena && !(out->type_url = arena_strndup(arena, q, m)))
					return false;
				if (tag >> 3 == 2) {
					out->data = q;
					out->data_len = m;
				}
			}
		}
	}
	return true;
}

const struct EventDef *wire_event_for_type(const struct Config *cfg, const char *type, size_t len)
{
	char name[300];
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *ev = &cfg->events[i];
		int n = snprintf(name, sizeof(name), "%s.v%d", ev->name, ev->version);
		if (n > 0 && (size_t)n == len && memcmp(name, type, len) == 0)
			return ev;
	}
	return NULL;
}
