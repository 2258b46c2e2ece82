/* libFuzzer target: arbitrary bytes as pgoutput messages and replication frames, and the relation cache on top. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "pgoutput.h"
#include "relcache.h"

/*
 * The decoder hands out pointers into the input; reading every byte they
 * cover lets ASan report any that reach past it. The sum goes to a volatile
 * so the reads are not optimised away.
 */
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink ^= x;
}

/* A string the decoder returned must be terminated inside the input. */
static void touch_string(const char *s)
{
	touch((const uint8_t *)s, strlen(s) + 1);
}

/* Abort (a crash libFuzzer reports) when a decoded invariant does not hold. */
static void require(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void touch_tuple(const struct PgoTuple *t, const uint8_t *data, size_t size)
{
	for (uint16_t i = 0; i < t->ncols; i++) {
		const struct PgoValue *v = &t->cols[i];
		require(strchr("nutb", v->kind) != NULL && v->kind != '\0');
		if (v->kind == 't' || v->kind == 'b') {
			/* Every value lies inside the message, length and all. */
			require(v->data >= data && v->len <= size &&
				(size_t)(v->data - data) <= size - v->len);
			touch(v->data, v->len);
		} else {
			require(v->data == NULL && v->len == 0);
		}
	}
}

/* What a Relation message does to a cache: stored, found, and stable when repeated. */
static void check_relation(const struct PgoMessage *m)
{
	RelCache *cache = rel_new();
	bool changed = true;

	if (!cache)
		return;
	if (rel_update(cache, m, &changed) == 0) {
		require(!changed);
		const struct Relation *r = rel_get(cache, m->relation.relid);
		require(r != NULL && r->natts == m->relation.natts && r->generation == 1);
		touch_string(r->qualname);
		for (uint16_t i = 0; i < r->natts; i++)
			require(strcmp(r->atts[i].name, m->relation.atts[i].name) == 0);
		/* The same definition again, as after a reconnect: not a change. */
		require(rel_update(cache, m, &changed) == 0 && !changed);
		require(rel_get(cache, m->relation.relid)->generation == 1);
	}
	rel_free(cache);
}

static void check_type(const struct PgoMessage *m)
{
	RelCache *cache = rel_new();

	if (!cache)
		return;
	/* OID 0 is InvalidOid: never announced by a server, and "absent" to the cache. */
	if (rel_update_type(cache, m) == 0 && m->type.typoid != 0)
		require(rel_type_name(cache, m->type.typoid) != NULL);
	rel_free(cache);
}

static void check_message(const uint8_t *data, size_t size, Arena *arena)
{
	struct PgoMessage m;
	char err[256];

	if (pgo_decode(data, size, arena, &m, err, sizeof(err)) != 0) {
		/* Every rejection says where. */
		require(strstr(err, " at offset ") != NULL);
		return;
	}
	switch (m.kind) {
	case 'O':
		touch_string(m.origin.name);
		break;
	case 'R':
		touch_string(m.relation.nspname);
		touch_string(m.relation.relname);
		for (uint16_t i = 0; i < m.relation.natts; i++)
			touch_string(m.relation.atts[i].name);
		check_relation(&m);
		break;
	case 'Y':
		touch_string(m.type.nspname);
		touch_string(m.type.typname);
		check_type(&m);
		break;
	case 'I':
	case 'U':
	case 'D':
		require(m.change.has_new == (m.kind != 'D'));
		require(m.change.old_kind == 0 || m.change.old_kind == 'K' || m.change.old_kind == 'O');
		if (m.change.old_kind)
			touch_tuple(&m.change.old_tuple, data, size);
		if (m.change.has_new)
			touch_tuple(&m.change.new_tuple, data, size);
		break;
	case 'T':
		/* Four bytes per OID, so never more relations than the message could hold. */
		require(m.truncate.nrels <= size / 4);
		for (uint32_t i = 0; i < m.truncate.nrels; i++)
			sink ^= (uint8_t)m.truncate.relids[i];
		break;
	case 'M':
		touch_string(m.message.prefix);
		touch(m.message.content, m.message.len);
		break;
	default:
		require(m.kind == 'B' || m.kind == 'C');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Arena *arena;
	struct PgoFrame f;
	char err[256];

	if (!arena && !(arena = arena_new()))
		return 0;

	check_message(data, size, arena);
	arena_reset(arena);

	if (pgo_decode_frame(data, size, &f, err, sizeof(err)) == 0) {
		if (f.kind == 'w') {
			require(f.data == data + 25 && f.len == size - 25);
			touch(f.data, f.len);
			/* The payload is a message in its own right, as in the daemon. */
			check_message(f.data, f.len, arena);
			arena_reset(arena);
		} else {
			require(f.kind == 'k' && size == 18);
		}
	} else {
		require(strstr(err, " at offset ") != NULL);
	}
	return 0;
}
