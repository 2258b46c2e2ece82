/* Unit tests for src/relcache.c, fed with Relation and Type messages captured from PostgreSQL 15. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fixture.h"
#include "pgoutput.h"
#include "relcache.h"
#include "run_suite.h"

#define INT4OID 23
#define TEXTOID 25
#define INT8OID 20

static Arena *arena;
static RelCache *cache;
static uint8_t *buffers[8];
static size_t nbuffers;

static void setup(void)
{
	arena = arena_new();
	cache = rel_new();
	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(cache);
	nbuffers = 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < nbuffers; i++)
		free(buffers[i]);
	nbuffers = 0;
	rel_free(cache);
	arena_free(arena);
}

/* Decode a pgoutput fixture; its strings stay valid until teardown. */
static struct PgoMessage decode(const char *name)
{
	char path[128];
	size_t len;
	snprintf(path, sizeof(path), "pgoutput/%s", name);
	uint8_t *buf = fixture_load(path, &len);
	ck_assert_uint_lt(nbuffers, sizeof(buffers) / sizeof(buffers[0]));
	buffers[nbuffers++] = buf;

	struct PgoMessage m;
	char err[256] = "";
	ck_assert_msg(pgo_decode(buf, len, arena, &m, err, sizeof(err)) == 0, "%s: %s", name, err);
	return m;
}

/* Store a Relation message and return whether the cache saw a change. */
static bool store(const struct PgoMessage *m)
{
	bool changed = true;
	ck_assert_int_eq(rel_update(cache, m, &changed), 0);
	return changed;
}

START_TEST(test_store_and_get)
{
	struct PgoMessage items = decode("relation_default.bin");
	struct PgoMessage audit = decode("relation_full.bin");
	struct PgoMessage orders = decode("relation_orders.bin");

	ck_assert_ptr_null(rel_get(cache, items.relation.relid)); /* empty cache */
	ck_assert(!store(&items));
	ck_assert(!store(&audit));
	ck_assert(!store(&orders));

	const struct Relation *r = rel_get(cache, items.relation.relid);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->relid, items.relation.relid);
	ck_assert_str_eq(r->nspname, "public");
	ck_assert_str_eq(r->relname, "items");
	ck_assert_str_eq(r->qualname, "public.items");
	ck_assert_int_eq(r->replident, 'd');
	ck_assert_uint_eq(r->generation, 1);
	ck_assert_uint_eq(r->natts, 5);
	ck_assert_str_eq(r->atts[0].name, "id");
	ck_assert_uint_eq(r->atts[0].typoid, INT4OID);
	ck_assert(r->atts[0].key);
	ck_assert_str_eq(r->atts[1].name, "name");
	ck_assert_uint_eq(r->atts[1].typoid, TEXTOID);
	ck_assert_int_eq(r->atts[1].typmod, -1);
	ck_assert(!r->atts[1].key);
	ck_assert_str_eq(r->atts[4].name, "xid");

	r = rel_get(cache, audit.relation.relid);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->qualname, "public.audit");
	ck_assert_int_eq(r->replident, 'f');
	for (uint16_t i = 0; i < r->natts; i++)
		ck_assert(r->atts[i].key); /* FULL: every column identifies the row */

	r = rel_get(cache, orders.relation.relid);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->qualname, "public.orders");
	ck_assert_str_eq(r->atts[1].name, "item_id");

	/* relation_toast.bin's table was never stored. */
	struct PgoMessage docs = decode("relation_toast.bin");
	ck_assert_ptr_null(rel_get(cache, docs.relation.relid));
}
END_TEST

START_TEST(test_entries_outlive_message)
{
	struct PgoMessage items = decode("relation_default.bin");
	ck_assert(!store(&items));
	uint32_t relid = items.relation.relid;

	/* The message buffer and its arena go; the cache keeps its own copies (ASan would see). */
	free(buffers[--nbuffers]);
	arena_reset(arena);
	const struct Relation *r = rel_get(cache, relid);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->qualname, "public.items");
	ck_assert_str_eq(r->atts[3].name, "mood");
}
END_TEST

START_TEST(test_identical_restore_is_no_change)
{
	/* pgoutput re-sends Relation messages on every new session: same definition. */
	struct PgoMessage first = decode("relation_default.bin");
	struct PgoMessage again = decode("relation_default.bin");
	ck_assert(!store(&first));
	ck_assert(!store(&again));
	ck_assert(!store(&again));
	const struct Relation *r = rel_get(cache, again.relation.relid);
	ck_assert_uint_eq(r->generation, 1);
	ck_assert_uint_eq(r->natts, 5);
}
END_TEST

/*
 * Each edit of the captured definition is a schema change that bumps the
 * generation exactly once; storing the edited definition again is not.
 */
START_TEST(test_changed_definition)
{
	struct PgoMessage orig = decode("relation_default.bin");
	const uint32_t relid = orig.relation.relid;
	struct PgoColumn cols[5];
	memcpy(cols, orig.relation.atts, sizeof(cols));
	struct PgoMessage m = orig;
	m.relation.atts = cols;
	uint32_t gen = 1;

	ck_assert(!store(&orig));

	/* ALTER TABLE items DROP COLUMN xid */
	m.relation.natts = 4;
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	ck_assert_uint_eq(rel_get(cache, relid)->natts, 4);
	ck_assert(!store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, gen);

	/* ALTER TABLE items RENAME COLUMN note TO remark */
	cols[2].name = "remark";
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	ck_assert_str_eq(rel_get(cache, relid)->atts[2].name, "remark");

	/* ALTER TABLE items ALTER id TYPE bigint */
	cols[0].typoid = INT8OID;
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);

	/* ALTER TABLE items ALTER name TYPE varchar(40): only the typmod differs here */
	cols[1].typmod = 44;
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);

	/* A new replica identity index: the key columns change */
	cols[1].flags = PGO_ATT_KEY;
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	ck_assert(rel_get(cache, relid)->atts[1].key);

	/* ALTER TABLE items REPLICA IDENTITY FULL */
	m.relation.replident = 'f';
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);

	/* ALTER TABLE items RENAME TO goods, then SET SCHEMA shop */
	m.relation.relname = "goods";
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	m.relation.nspname = "shop";
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	ck_assert_str_eq(rel_get(cache, relid)->qualname, "shop.goods");

	/* Back to the captured definition: a change like any other. */
	ck_assert(store(&orig));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, ++gen);
	ck_assert(!store(&orig));
	ck_assert_uint_eq(rel_get(cache, relid)->generation, gen);
}
END_TEST

START_TEST(test_no_columns)
{
	/* CREATE TABLE t () is legal, and its Relation message has no columns. */
	struct PgoMessage m = {.kind = 'R'};
	m.relation.relid = 424242;
	m.relation.nspname = "";
	m.relation.relname = "t";
	m.relation.replident = 'd';
	ck_assert(!store(&m));
	ck_assert(!store(&m));
	const struct Relation *r = rel_get(cache, 424242);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->natts, 0);
	ck_assert_str_eq(r->qualname, ".t");
}
END_TEST

START_TEST(test_types)
{
	struct PgoMessage y = decode("type_enum.bin");
	struct PgoMessage items = decode("relation_default.bin");

	ck_assert_ptr_null(rel_type_name(cache, y.type.typoid)); /* empty cache */
	ck_assert_int_eq(rel_update_type(cache, &y), 0);
	ck_assert(!store(&items));
	ck_assert_str_eq(rel_type_name(cache, y.type.typoid), "public.mood");
	/* The enum column resolves through the cache. */
	const struct Relation *r = rel_get(cache, items.relation.relid);
	ck_assert_str_eq(rel_type_name(cache, r->atts[3].typoid), "public.mood");
	/* Built-in types are never announced by a Type message. */
	ck_assert_ptr_null(rel_type_name(cache, r->atts[0].typoid));
	ck_assert_ptr_null(rel_type_name(cache, 0));

	/* ALTER TYPE mood RENAME TO feeling: the next Type message replaces the name. */
	struct PgoMessage renamed = y;
	renamed.type.typname = "feeling";
	ck_assert_int_eq(rel_update_type(cache, &renamed), 0);
	ck_assert_str_eq(rel_type_name(cache, y.type.typoid), "public.feeling");
}
END_TEST

START_TEST(test_clear)
{
	struct PgoMessage y = decode("type_enum.bin");
	struct PgoMessage items = decode("relation_default.bin");
	struct PgoMessage audit = decode("relation_full.bin");

	ck_assert_int_eq(rel_update_type(cache, &y), 0);
	ck_assert(!store(&items));
	ck_assert(!store(&audit));
	rel_clear(cache);
	ck_assert_ptr_null(rel_get(cache, items.relation.relid));
	ck_assert_ptr_null(rel_get(cache, audit.relation.relid));
	ck_assert_ptr_null(rel_type_name(cache, y.type.typoid));

	/* A new session starts over: the first Relation is new, not a change. */
	ck_assert(!store(&items));
	ck_assert_uint_eq(rel_get(cache, items.relation.relid)->generation, 1);
	ck_assert_int_eq(rel_update_type(cache, &y), 0);
	ck_assert_str_eq(rel_type_name(cache, y.type.typoid), "public.mood");
	rel_clear(cache);
	rel_clear(cache); /* twice is harmless */

	RelCache *empty = rel_new();
	rel_clear(empty); /* never used */
	rel_free(empty);
	rel_free(NULL);
}
END_TEST

#define MANY 1000

/* OID i of a set that, shifted left, all hash to one slot and so probe the longest chains. */
static uint32_t many_oid(int i, bool colliding)
{
	return colliding ? (uint32_t)(i + 1) << 22 : UINT32_C(0xFFFFFFFF) - (uint32_t)i * 7;
}

START_TEST(test_many_relations)
{
	const bool colliding = _i == 1;
	char nsp[] = "public";
	char name[32];
	struct PgoColumn col = {.flags = PGO_ATT_KEY, .name = "id", .typoid = INT4OID, .typmod = -1};
	struct PgoMessage m = {.kind = 'R'};
	m.relation.nspname = nsp;
	m.relation.relname = name;
	m.relation.replident = 'd';
	m.relation.natts = 1;
	m.relation.atts = &col;

	/* Past the first table size many times over, so every doubling rehashes. */
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		m.relation.relid = many_oid(i, colliding);
		ck_assert(!store(&m));
		struct PgoMessage t = {.kind = 'Y'};
		t.type.typoid = many_oid(i, colliding);
		t.type.nspname = nsp;
		t.type.typname = name;
		ck_assert_int_eq(rel_update_type(cache, &t), 0);
	}
	for (int i = 0; i < MANY; i++) {
		char want[40];
		snprintf(want, sizeof(want), "public.t%d", i);
		const struct Relation *r = rel_get(cache, many_oid(i, colliding));
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->relid, many_oid(i, colliding));
		ck_assert_str_eq(r->qualname, want);
		ck_assert_uint_eq(r->generation, 1);
		ck_assert_str_eq(rel_type_name(cache, many_oid(i, colliding)), want);
	}
	ck_assert_ptr_null(rel_get(cache, 12345));
	ck_assert_ptr_null(rel_type_name(cache, 12345));

	/* Re-storing one in the middle of a probe chain finds it, not a fresh slot. */
	snprintf(name, sizeof(name), "t%d", MANY / 2);
	m.relation.relid = many_oid(MANY / 2, colliding);
	ck_assert(!store(&m));
	col.typoid = INT8OID;
	ck_assert(store(&m));
	ck_assert_uint_eq(rel_get(cache, m.relation.relid)->generation, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("relcache");
	TCase *tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_and_get);
	tcase_add_test(tc, test_entries_outlive_message);
	tcase_add_test(tc, test_identical_restore_is_no_change);
	tcase_add_test(tc, test_changed_definition);
	tcase_add_test(tc, test_no_columns);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_clear);
	/* _i 0: spread OIDs, _i 1: OIDs that all hash to the same slot */
	tcase_add_loop_test(tc, test_many_relations, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
