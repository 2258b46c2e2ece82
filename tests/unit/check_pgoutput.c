/* Unit tests for src/pgoutput.c, mostly on pgoutput bytes captured from PostgreSQL 15. */
#include "autoconf.h"

#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fixture.h"
#include "pgoutput.h"
#include "run_suite.h"

/*
 * The fixtures come from tests/capture-fixtures.sh; tests/fixtures/pgoutput/README
 * shows the SQL behind each. OIDs, xids and LSNs change with every capture,
 * so they are compared across fixtures, never against constants.
 */
static const char *const fixtures[] = {
	"begin.bin",
	"commit.bin",
	"delete_default.bin",
	"delete_full.bin",
	"insert_binary.bin",
	"insert_default.bin",
	"insert_full.bin",
	"insert_utf8.bin",
	"message_bytea.bin",
	"message_nontx.bin",
	"message_tx.bin",
	"origin.bin",
	"relation_default.bin",
	"relation_full.bin",
	"relation_orders.bin",
	"relation_toast.bin",
	"truncate.bin",
	"truncate_cascade.bin",
	"truncate_restart_identity.bin",
	"type_enum.bin",
	"update_default.bin",
	"update_full_old.bin",
	"update_key_changed.bin",
	"update_toast_unchanged.bin",
};
#define NFIXTURES ((int)(sizeof(fixtures) / sizeof(fixtures[0])))

/* Built-in type OIDs (pg_type.dat), stable across PostgreSQL versions. */
#define INT4OID 23
#define TEXTOID 25
#define XID8OID 5069
/* OIDs below this belong to initdb; user objects get this or more. */
#define FIRST_NORMAL_OID 16384

/* Per-test state: decoded strings point into these buffers, freed in teardown. */
static Arena *arena;
static uint8_t *buffers[16];
static size_t nbuffers;

static void setup(void)
{
	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
	nbuffers = 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < nbuffers; i++)
		free(buffers[i]);
	nbuffers = 0;
	arena_free(arena);
	arena = NULL;
}

static uint8_t *load(const char *name, size_t *len)
{
	char path[128];
	snprintf(path, sizeof(path), "pgoutput/%s", name);
	uint8_t *buf = fixture_load(path, len);
	ck_assert_uint_lt(nbuffers, sizeof(buffers) / sizeof(buffers[0]));
	buffers[nbuffers++] = buf;
	return buf;
}

/* Decode a fixture that must decode, as the given message type. */
static struct PgoMessage decode_ok(const char *name, char kind)
{
	size_t len;
	const uint8_t *buf = load(name, &len);
	struct PgoMessage m;
	char err[256] = "";

	int rc = pgo_decode(buf, len, arena, &m, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", name, err);
	ck_assert_msg(m.kind == kind, "%s: kind '%c', expected '%c'", name, m.kind, kind);
	return m;
}

/* Decode bytes that must be rejected; returns the error text. */
static const char *decode_fails(const uint8_t *buf, size_t len)
{
	static char err[256];
	struct PgoMessage m;

	err[0] = '\0';
	ck_assert_int_eq(pgo_decode(buf, len, arena, &m, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no error text");
	return err;
}

static void assert_text(const struct PgoValue *v, const char *text)
{
	size_t n = strlen(text);
	ck_assert_msg(v->kind == 't', "kind '%c', expected text \"%s\"", v->kind, text);
	ck_assert_msg(v->len == n && memcmp(v->data, text, n) == 0, "value \"%.*s\", expected \"%s\"",
		      (int)v->len, (const char *)v->data, text);
}

static void assert_null(const struct PgoValue *v)
{
	ck_assert_msg(v->kind == 'n', "kind '%c', expected null", v->kind);
	ck_assert_uint_eq(v->len, 0);
	ck_assert_ptr_null(v->data);
}

/* A text column holding an unsigned decimal number (xid8, int4). */
static uint64_t text_number(const struct PgoValue *v)
{
	char digits[32];
	ck_assert_int_eq(v->kind, 't');
	ck_assert_uint_lt(v->len, sizeof(digits));
	memcpy(digits, v->data, v->len);
	digits[v->len] = '\0';
	char *end;
	uint64_t n = strtoull(digits, &end, 10);
	ck_assert_msg(v->len > 0 && *end == '\0', "not a number: \"%s\"", digits);
	return n;
}

static bool has_relid(const struct PgoMessage *t, uint32_t relid)
{
	for (uint32_t i = 0; i < t->truncate.nrels; i++)
		if (t->truncate.relids[i] == relid)
			return true;
	return false;
}

/* ---- every message type, from captured bytes ---------------------------- */

START_TEST(test_begin_commit)
{
	struct PgoMessage b = decode_ok("begin.bin", 'B');
	struct PgoMessage c = decode_ok("commit.bin", 'C');
	struct PgoMessage i = decode_ok("insert_default.bin", 'I');
	struct PgoMessage i2 = decode_ok("insert_utf8.bin", 'I');

	/* Begin announces the LSN of the commit record that Commit then reports. */
	ck_assert_uint_eq(b.begin.final_lsn, c.commit.commit_lsn);
	ck_assert_uint_gt(c.commit.end_lsn, c.commit.commit_lsn);
	ck_assert_uint_eq(c.commit.flags, 0);
	ck_assert_int_eq(b.begin.commit_time, c.commit.commit_time);
	/* µs since 2000-01-01: the capture happened between 2020 and 2100. */
	int64_t unix_s = (c.commit.commit_time + PGO_EPOCH_OFFSET_US) / 1000000;
	ck_assert_int_gt(unix_s, INT64_C(1577836800));
	ck_assert_int_lt(unix_s, INT64_C(4102444800));
	/* Both rows stored pg_current_xact_id() of their transaction in column xid. */
	ck_assert_uint_ne(b.begin.xid, 0);
	ck_assert_uint_eq(text_number(&i.change.new_tuple.cols[4]), b.begin.xid);
	ck_assert_uint_eq(text_number(&i2.change.new_tuple.cols[4]), b.begin.xid);
}
END_TEST

START_TEST(test_origin)
{
	/* pg_replication_origin_xact_setup('0/ABCDEF0', ...) on origin "upstream" */
	struct PgoMessage o = decode_ok("origin.bin", 'O');
	ck_assert_uint_eq(o.origin.commit_lsn, UINT64_C(0xABCDEF0));
	ck_assert_str_eq(o.origin.name, "upstream");
}
END_TEST

START_TEST(test_relation_default)
{
	struct PgoMessage r = decode_ok("relation_default.bin", 'R');
	struct PgoMessage y = decode_ok("type_enum.bin", 'Y');
	static const char *const names[] = {"id", "name", "note", "mood", "xid"};

	ck_assert_uint_ge(r.relation.relid, FIRST_NORMAL_OID);
	ck_assert_str_eq(r.relation.nspname, "public");
	ck_assert_str_eq(r.relation.relname, "items");
	ck_assert_int_eq(r.relation.replident, 'd');
	ck_assert_uint_eq(r.relation.natts, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(r.relation.atts[i].name, names[i]);
		ck_assert_int_eq(r.relation.atts[i].typmod, -1);
		/* DEFAULT identity: only the primary key column is flagged. */
		ck_assert_uint_eq(r.relation.atts[i].flags, i == 0 ? PGO_ATT_KEY : 0);
	}
	ck_assert_uint_eq(r.relation.atts[0].typoid, INT4OID);
	ck_assert_uint_eq(r.relation.atts[1].typoid, TEXTOID);
	ck_assert_uint_eq(r.relation.atts[2].typoid, TEXTOID);
	/* The enum column's type is the one the Type message announced just before. */
	ck_assert_uint_eq(r.relation.atts[3].typoid, y.type.typoid);
	ck_assert_uint_eq(r.relation.atts[4].typoid, XID8OID);
}
END_TEST

START_TEST(test_relation_full)
{
	struct PgoMessage r = decode_ok("relation_full.bin", 'R');
	struct PgoMessage d = decode_ok("relation_default.bin", 'R');

	ck_assert_uint_ne(r.relation.relid, d.relation.relid);
	ck_assert_str_eq(r.relation.nspname, "public");
	ck_assert_str_eq(r.relation.relname, "audit");
	ck_assert_int_eq(r.relation.replident, 'f');
	ck_assert_uint_eq(r.relation.natts, 3);
	ck_assert_str_eq(r.relation.atts[0].name, "id");
	ck_assert_str_eq(r.relation.atts[1].name, "body");
	ck_assert_str_eq(r.relation.atts[2].name, "note");
	/* FULL identity: the whole row is the key, so every column is flagged. */
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r.relation.atts[i].flags, PGO_ATT_KEY);
}
END_TEST

START_TEST(test_type_enum)
{
	struct PgoMessage y = decode_ok("type_enum.bin", 'Y');
	ck_assert_uint_ge(y.type.typoid, FIRST_NORMAL_OID);
	ck_assert_str_eq(y.type.nspname, "public");
	ck_assert_str_eq(y.type.typname, "mood");
}
END_TEST

START_TEST(test_insert_text_and_null)
{
	struct PgoMessage r = decode_ok("relation_default.bin", 'R');
	struct PgoMessage i = decode_ok("insert_default.bin", 'I');

	ck_assert_uint_eq(i.change.relid, r.relation.relid);
	ck_assert_int_eq(i.change.old_kind, 0);
	ck_assert(i.change.has_new);
	ck_assert_uint_eq(i.change.new_tuple.ncols, r.relation.natts);
	assert_text(&i.change.new_tuple.cols[0], "1");
	assert_text(&i.change.new_tuple.cols[1], "widget");
	assert_null(&i.change.new_tuple.cols[2]);
	assert_text(&i.change.new_tuple.cols[3], "happy");
}
END_TEST

START_TEST(test_insert_utf8)
{
	struct PgoMessage i = decode_ok("insert_utf8.bin", 'I');
	/* Text is passed through byte for byte: UTF-8, quotes and a backslash. */
	assert_text(&i.change.new_tuple.cols[1], "Gr\xc3\xbc\xc3\x9f"
						 "e, \"quoted\" \\ back");
	assert_text(&i.change.new_tuple.cols[2], "a note");
	assert_text(&i.change.new_tuple.cols[3], "sad");
}
END_TEST

START_TEST(test_insert_binary)
{
	struct PgoMessage i = decode_ok("insert_binary.bin", 'I');
	const struct PgoValue *c = i.change.new_tuple.cols;

	/* binary 'true': each type's send function, e.g. int4 as 4 big-endian bytes. */
	ck_assert_uint_eq(i.change.new_tuple.ncols, 5);
	ck_assert_int_eq(c[0].kind, 'b');
	ck_assert_uint_eq(c[0].len, 4);
	ck_assert_mem_eq(c[0].data, "\x00\x00\x00\x14", 4);
	ck_assert_int_eq(c[1].kind, 'b');
	ck_assert_uint_eq(c[1].len, 10);
	ck_assert_mem_eq(c[1].data, "binary row", 10);
	assert_null(&c[2]);
	ck_assert_int_eq(c[3].kind, 'b');
	ck_assert_mem_eq(c[3].data, "sad", 3);
	ck_assert_int_eq(c[4].kind, 'b');
	ck_assert_uint_eq(c[4].len, 8); /* xid8 */
}
END_TEST

START_TEST(test_update_without_old)
{
	struct PgoMessage r = decode_ok("relation_default.bin", 'R');
	struct PgoMessage u = decode_ok("update_default.bin", 'U');

	/* DEFAULT identity and the key unchanged: pgoutput sends no old tuple. */
	ck_assert_uint_eq(u.change.relid, r.relation.relid);
	ck_assert_int_eq(u.change.old_kind, 0);
	ck_assert_uint_eq(u.change.old_tuple.ncols, 0);
	ck_assert(u.change.has_new);
	ck_assert_uint_eq(u.change.new_tuple.ncols, 5);
	assert_text(&u.change.new_tuple.cols[0], "1");
	assert_text(&u.change.new_tuple.cols[1], "gadget");
	assert_null(&u.change.new_tuple.cols[2]);
	assert_text(&u.change.new_tuple.cols[3], "happy");
}
END_TEST

START_TEST(test_update_key_changed)
{
	struct PgoMessage u = decode_ok("update_key_changed.bin", 'U');

	/* 'K': the old key; the other columns travel as nulls. */
	ck_assert_int_eq(u.change.old_kind, 'K');
	ck_assert_uint_eq(u.change.old_tuple.ncols, 5);
	assert_text(&u.change.old_tuple.cols[0], "1");
	for (int i = 1; i < 5; i++)
		assert_null(&u.change.old_tuple.cols[i]);
	ck_assert(u.change.has_new);
	assert_text(&u.change.new_tuple.cols[0], "10");
	assert_text(&u.change.new_tuple.cols[1], "gadget");
}
END_TEST

START_TEST(test_update_full_old)
{
	struct PgoMessage r = decode_ok("relation_full.bin", 'R');
	struct PgoMessage u = decode_ok("update_full_old.bin", 'U');

	ck_assert_uint_eq(u.change.relid, r.relation.relid);
	ck_assert_int_eq(u.change.old_kind, 'O');
	ck_assert_uint_eq(u.change.old_tuple.ncols, 3);
	assert_text(&u.change.old_tuple.cols[0], "1");
	assert_text(&u.change.old_tuple.cols[1], "first");
	assert_null(&u.change.old_tuple.cols[2]);
	ck_assert_uint_eq(u.change.new_tuple.ncols, 3);
	assert_text(&u.change.new_tuple.cols[0], "1");
	assert_text(&u.change.new_tuple.cols[1], "second");
	assert_null(&u.change.new_tuple.cols[2]);
}
END_TEST

START_TEST(test_update_toast_unchanged)
{
	struct PgoMessage r = decode_ok("relation_toast.bin", 'R');
	struct PgoMessage u = decode_ok("update_toast_unchanged.bin", 'U');

	ck_assert_str_eq(r.relation.relname, "docs");
	ck_assert_uint_eq(u.change.relid, r.relation.relid);
	ck_assert_int_eq(u.change.old_kind, 0);
	ck_assert_uint_eq(u.change.new_tuple.ncols, 3);
	assert_text(&u.change.new_tuple.cols[0], "1");
	assert_text(&u.change.new_tuple.cols[1], "v2");
	/* The 128 kB body was not changed: a marker, and no bytes at all. */
	ck_assert_int_eq(u.change.new_tuple.cols[2].kind, 'u');
	ck_assert_uint_eq(u.change.new_tuple.cols[2].len, 0);
	ck_assert_ptr_null(u.change.new_tuple.cols[2].data);
}
END_TEST

START_TEST(test_delete_key)
{
	struct PgoMessage r = decode_ok("relation_default.bin", 'R');
	struct PgoMessage d = decode_ok("delete_default.bin", 'D');

	ck_assert_uint_eq(d.change.relid, r.relation.relid);
	ck_assert(!d.change.has_new);
	ck_assert_int_eq(d.change.old_kind, 'K');
	ck_assert_uint_eq(d.change.old_tuple.ncols, 5);
	assert_text(&d.change.old_tuple.cols[0], "10");
	for (int i = 1; i < 5; i++)
		assert_null(&d.change.old_tuple.cols[i]);
	ck_assert_uint_eq(d.change.new_tuple.ncols, 0);
}
END_TEST

START_TEST(test_delete_full)
{
	struct PgoMessage r = decode_ok("relation_full.bin", 'R');
	struct PgoMessage d = decode_ok("delete_full.bin", 'D');

	ck_assert_uint_eq(d.change.relid, r.relation.relid);
	ck_assert(!d.change.has_new);
	ck_assert_int_eq(d.change.old_kind, 'O');
	ck_assert_uint_eq(d.change.old_tuple.ncols, 3);
	assert_text(&d.change.old_tuple.cols[0], "1");
	assert_text(&d.change.old_tuple.cols[1], "second");
	assert_null(&d.change.old_tuple.cols[2]);
}
END_TEST

START_TEST(test_truncate)
{
	struct PgoMessage items = decode_ok("relation_default.bin", 'R');
	struct PgoMessage audit = decode_ok("relation_full.bin", 'R');
	struct PgoMessage orders = decode_ok("relation_orders.bin", 'R');
	struct PgoMessage docs = decode_ok("relation_toast.bin", 'R');

	/* TRUNCATE audit */
	struct PgoMessage t = decode_ok("truncate.bin", 'T');
	ck_assert_uint_eq(t.truncate.nrels, 1);
	ck_assert_uint_eq(t.truncate.options, 0);
	ck_assert_uint_eq(t.truncate.relids[0], audit.relation.relid);

	/* TRUNCATE items CASCADE: orders references items, so it goes too. */
	ck_assert_str_eq(orders.relation.relname, "orders");
	t = decode_ok("truncate_cascade.bin", 'T');
	ck_assert_uint_eq(t.truncate.nrels, 2);
	ck_assert_uint_eq(t.truncate.options, PGO_TRUNCATE_CASCADE);
	ck_assert(has_relid(&t, items.relation.relid));
	ck_assert(has_relid(&t, orders.relation.relid));

	/* TRUNCATE audit, docs RESTART IDENTITY */
	t = decode_ok("truncate_restart_identity.bin", 'T');
	ck_assert_uint_eq(t.truncate.nrels, 2);
	ck_assert_uint_eq(t.truncate.options, PGO_TRUNCATE_RESTART_IDENTITY);
	ck_assert(has_relid(&t, audit.relation.relid));
	ck_assert(has_relid(&t, docs.relation.relid));
}
END_TEST

START_TEST(test_messages)
{
	struct PgoMessage c = decode_ok("commit.bin", 'C');
	struct PgoMessage tx = decode_ok("message_tx.bin", 'M');
	struct PgoMessage nontx = decode_ok("message_nontx.bin", 'M');
	struct PgoMessage bin = decode_ok("message_bytea.bin", 'M');

	ck_assert_uint_eq(tx.message.flags, PGO_MESSAGE_TRANSACTIONAL);
	ck_assert_str_eq(tx.message.prefix, "tablecast");
	ck_assert_uint_eq(tx.message.len, strlen("hello from a transaction"));
	ck_assert_mem_eq(tx.message.content, "hello from a transaction", tx.message.len);

	ck_assert_uint_eq(nontx.message.flags, 0);
	ck_assert_str_eq(nontx.message.prefix, "tablecast");
	ck_assert_uint_eq(nontx.message.len, strlen("outside any transaction"));
	ck_assert_mem_eq(nontx.message.content, "outside any transaction", nontx.message.len);

	/* Content is bytes, not a string: NUL and invalid UTF-8 survive. */
	ck_assert_uint_eq(bin.message.flags, 0);
	ck_assert_str_eq(bin.message.prefix, "tablecast.bin");
	ck_assert_uint_eq(bin.message.len, 5);
	ck_assert_mem_eq(bin.message.content, "\x00\xff\x80\xfe\x0a", 5);

	/* The capture ran these steps in this order, after the first transaction. */
	ck_assert_uint_gt(tx.message.lsn, c.commit.end_lsn);
	ck_assert_uint_gt(nontx.message.lsn, tx.message.lsn);
	ck_assert_uint_gt(bin.message.lsn, nontx.message.lsn);
}
END_TEST

/* The list above is what the loop tests below cover: keep it complete. */
START_TEST(test_fixture_list_complete)
{
	DIR *dir = opendir(FIXTURES "/pgoutput");
	ck_assert_ptr_nonnull(dir);
	int seen = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 4, ".bin") != 0)
			continue;
		bool listed = false;
		for (int i = 0; i < NFIXTURES; i++)
			listed = listed || strcmp(fixtures[i], e->d_name) == 0;
		ck_assert_msg(listed, "fixture %s is not in the test list", e->d_name);
		seen++;
	}
	closedir(dir);
	ck_assert_int_eq(seen, NFIXTURES);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

/* The byte offset an error names: "... at offset N". */
static size_t error_offset(const char *err)
{
	const char *p = strstr(err, " at offset ");
	ck_assert_msg(p != NULL, "error names no offset: %s", err);
	return (size_t)strtoul(p + strlen(" at offset "), NULL, 10);
}

/*
 * Every proper prefix of a real message is an error that names the message
 * type and an offset inside the prefix. Each prefix gets its own allocation
 * of exactly that size, so ASan catches a read of even one byte too many.
 */
START_TEST(test_every_prefix_fails)
{
	size_t len;
	const uint8_t *whole = load(fixtures[_i], &len);
	char want[32];
	snprintf(want, sizeof(want), "pgoutput message '%c': ", whole[0]);

	for (size_t n = 1; n < len; n++) {
		uint8_t *prefix = malloc(n);
		ck_assert_ptr_nonnull(prefix);
		memcpy(prefix, whole, n);
		const char *err = decode_fails(prefix, n);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s[:%zu]: %s", fixtures[_i],
			      n, err);
		ck_assert_msg(error_offset(err) <= n, "%s[:%zu]: %s", fixtures[_i], n, err);
		free(prefix);
		arena_reset(arena);
	}
}
END_TEST

/* One byte more than the message is an error too, at the message's end. */
START_TEST(test_trailing_byte_fails)
{
	size_t len;
	const uint8_t *whole = load(fixtures[_i], &len);
	uint8_t *longer = malloc(len + 1);
	ck_assert_ptr_nonnull(longer);
	memcpy(longer, whole, len);
	longer[len] = 0;

	const char *err = decode_fails(longer, len + 1);
	ck_assert_msg(strstr(err, "trailing bytes") != NULL, "%s: %s", fixtures[_i], err);
	ck_assert_uint_eq(error_offset(err), len);
	free(longer);
}
END_TEST

START_TEST(test_empty_buffer)
{
	uint8_t *one = malloc(1);
	ck_assert_ptr_nonnull(one);
	const char *err = decode_fails(one, 0);
	ck_assert_str_eq(err, "pgoutput message: empty at offset 0");
	decode_fails(NULL, 0);
	free(one);
}
END_TEST

START_TEST(test_unknown_message_type)
{
	/* 'S' is Stream Start, which needs proto_version 2 and streaming on. */
	static const uint8_t stream_start[] = {'S', 0, 0, 2, 0xdd, 1};
	ck_assert_str_eq(decode_fails(stream_start, sizeof(stream_start)),
			 "pgoutput message 'S': unknown message type at offset 0");
	static const uint8_t binary[] = {0x01, 'B'};
	ck_assert_str_eq(decode_fails(binary, sizeof(binary)),
			 "pgoutput message 0x01: unknown message type at offset 0");
}
END_TEST

/* A copy of a fixture with one byte replaced, the original length. */
static uint8_t *patched(const char *name, size_t *len, size_t at, uint8_t byte)
{
	const uint8_t *orig = load(name, len);
	ck_assert_uint_lt(at, *len);
	uint8_t *copy = malloc(*len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, orig, *len);
	copy[at] = byte;
	ck_assert_uint_lt(nbuffers, sizeof(buffers) / sizeof(buffers[0]));
	buffers[nbuffers++] = copy;
	return copy;
}

/* Insert: Byte1 'I', Int32 relid, Byte1 'N', Int16 ncols at 6, first column kind at 8. */
#define INSERT_TAG_AT 5
#define INSERT_NCOLS_AT 6
#define INSERT_COL0_AT 8

START_TEST(test_unknown_tuple_kind)
{
	size_t len;
	uint8_t *buf = patched("insert_default.bin", &len, INSERT_COL0_AT, 'x');
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'I': unknown tuple column kind at offset 8");
	/* A NUL kind byte is not a kind either (strchr would find the terminator). */
	buf = patched("insert_default.bin", &len, INSERT_COL0_AT, 0);
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'I': unknown tuple column kind at offset 8");
}
END_TEST

START_TEST(test_unexpected_tuple_tag)
{
	size_t len;
	uint8_t *buf = patched("insert_default.bin", &len, INSERT_TAG_AT, 'K');
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'I': unexpected tuple tag at offset 5");
	buf = patched("delete_default.bin", &len, INSERT_TAG_AT, 'N');
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'D': unexpected tuple tag at offset 5");
	buf = patched("update_default.bin", &len, INSERT_TAG_AT, 0);
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'U': unexpected tuple tag at offset 5");
}
END_TEST

START_TEST(test_column_count_exceeds_message)
{
	size_t len;
	/* 0xff05 columns in a 44-byte message: refused before allocating for them. */
	uint8_t *buf = patched("insert_default.bin", &len, INSERT_NCOLS_AT, 0xff);
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'I': tuple column count exceeds message at offset 8");

	/* One column more than sent: the sixth is missing at the end. */
	buf = patched("insert_default.bin", &len, INSERT_NCOLS_AT + 1, 6);
	const char *err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "truncated tuple column") != NULL, "%s", err);
	ck_assert_uint_eq(error_offset(err), len);

	/* One column fewer: the last one is left over. */
	buf = patched("insert_default.bin", &len, INSERT_NCOLS_AT + 1, 4);
	err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "trailing bytes") != NULL, "%s", err);

	/* Relation: Int16 natts right after "public\0items\0" and the identity byte. */
	const size_t natts_at = 1 + 4 + sizeof("public") + sizeof("items") + 1;
	buf = patched("relation_default.bin", &len, natts_at, 0x7f);
	err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "'R': column count exceeds message") != NULL, "%s", err);

	/* Truncate: Int32 nrels at 1. */
	buf = patched("truncate.bin", &len, 1, 0x40);
	err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "'T': relation count exceeds message") != NULL, "%s", err);
}
END_TEST

START_TEST(test_lengths_past_end)
{
	size_t len;
	/* First column: 't' then Int32 length at 9; 0xff...: must not wrap around. */
	uint8_t *buf = patched("insert_default.bin", &len, INSERT_COL0_AT + 1, 0xff);
	const char *err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "'I': column value past end of message at offset 13") != NULL,
		      "%s", err);

	/* Message: Byte1 flags, Int64 lsn, "tablecast\0", Int32 length. */
	const size_t len_at = 1 + 1 + 8 + sizeof("tablecast");
	buf = patched("message_tx.bin", &len, len_at, 0x80);
	err = decode_fails(buf, len);
	ck_assert_msg(strstr(err, "'M': content past end of message") != NULL, "%s", err);
}
END_TEST

START_TEST(test_unterminated_string)
{
	size_t len;
	/* Origin: the name's NUL is the last byte. */
	uint8_t *buf = patched("origin.bin", &len, 0, 'O');
	buf[len - 1] = 'x';
	ck_assert_str_eq(decode_fails(buf, len),
			 "pgoutput message 'O': unterminated origin name at offset 9");
}
END_TEST

START_TEST(test_small_error_buffer)
{
	static const uint8_t bad[] = {'Z'};
	char err[8];
	struct PgoMessage m;
	ck_assert_int_eq(pgo_decode(bad, sizeof(bad), arena, &m, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "pgoutpu"); /* cut, but terminated */
}
END_TEST

/* ---- replication framing and status updates ----------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* XLogData wrapping a real Begin message. */
START_TEST(test_frame_xlogdata)
{
	size_t blen;
	const uint8_t *begin = load("begin.bin", &blen);
	size_t len = 25 + blen;
	uint8_t *frame = malloc(len);
	ck_assert_ptr_nonnull(frame);
	frame[0] = 'w';
	put64(frame + 1, UINT64_C(0x16B3748));
	put64(frame + 9, UINT64_C(0x100000000));
	put64(frame + 17, (uint64_t)INT64_C(-5)); /* a clock before 2000 is still a clock */
	memcpy(frame + 25, begin, blen);

	struct PgoFrame f;
	char err[256] = "";
	ck_assert_msg(pgo_decode_frame(frame, len, &f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(f.kind, 'w');
	ck_assert_uint_eq(f.wal_start, UINT64_C(0x16B3748));
	ck_assert_uint_eq(f.wal_end, UINT64_C(0x100000000));
	ck_assert_int_eq(f.send_time, -5);
	ck_assert(!f.reply_requested);
	ck_assert_ptr_eq(f.data, frame + 25);
	ck_assert_uint_eq(f.len, blen);

	struct PgoMessage m;
	ck_assert_msg(pgo_decode(f.data, f.len, arena, &m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(m.kind, 'B');

	/* An empty payload is a frame; pgo_decode then says the message is empty. */
	ck_assert_int_eq(pgo_decode_frame(frame, 25, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.len, 0);

	/* Any cut inside the 25-byte header is an error naming 'w' and an offset. */
	for (size_t n = 1; n < 25; n++) {
		uint8_t *cut = malloc(n);
		ck_assert_ptr_nonnull(cut);
		memcpy(cut, frame, n);
		ck_assert_int_eq(pgo_decode_frame(cut, n, &f, err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "replication frame 'w': ", 23) == 0, "%s", err);
		ck_assert_uint_le(error_offset(err), n);
		free(cut);
	}
	free(frame);
}
END_TEST

START_TEST(test_frame_keepalive)
{
	uint8_t frame[18];
	frame[0] = 'k';
	put64(frame + 1, UINT64_C(0xFFFFFFFF00000001));
	put64(frame + 9, UINT64_C(790000000000000));
	frame[17] = 1;

	struct PgoFrame f;
	char err[256] = "";
	ck_assert_msg(pgo_decode_frame(frame, sizeof(frame), &f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(f.kind, 'k');
	ck_assert_uint_eq(f.wal_end, UINT64_C(0xFFFFFFFF00000001));
	ck_assert_int_eq(f.send_time, INT64_C(790000000000000));
	ck_assert(f.reply_requested);
	ck_assert_uint_eq(f.len, 0);

	frame[17] = 0;
	ck_assert_int_eq(pgo_decode_frame(frame, sizeof(frame), &f, err, sizeof(err)), 0);
	ck_assert(!f.reply_requested);

	for (size_t n = 1; n < sizeof(frame); n++) {
		uint8_t *cut = malloc(n);
		ck_assert_ptr_nonnull(cut);
		memcpy(cut, frame, n);
		ck_assert_int_eq(pgo_decode_frame(cut, n, &f, err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "replication frame 'k': ", 23) == 0, "%s", err);
		ck_assert_uint_le(error_offset(err), n);
		free(cut);
	}

	uint8_t longer[19];
	memcpy(longer, frame, sizeof(frame));
	longer[18] = 0;
	ck_assert_int_eq(pgo_decode_frame(longer, sizeof(longer), &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "replication frame 'k': trailing bytes at offset 18");
}
END_TEST

START_TEST(test_frame_bad)
{
	struct PgoFrame f;
	char err[256];
	uint8_t *one = malloc(1);
	ck_assert_ptr_nonnull(one);
	ck_assert_int_eq(pgo_decode_frame(one, 0, &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "replication frame: empty at offset 0");
	free(one);

	/* 'r' goes the other way (client to server); the server never sends it. */
	static const uint8_t status[] = {'r', 0, 0};
	ck_assert_int_eq(pgo_decode_frame(status, sizeof(status), &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "replication frame 'r': unknown frame type at offset 0");
}
END_TEST

START_TEST(test_encode_status)
{
	uint8_t out[PGO_STATUS_LEN];
	static const uint8_t want[PGO_STATUS_LEN] = {
		'r',
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* write */
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* flush */
		0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* apply */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* clock: -2 */
		1, /* reply requested */
	};

	memset(out, 0xaa, sizeof(out));
	pgo_encode_status(out, UINT64_C(0x0102030405060708), UINT64_C(0x1112131415161718),
			  UINT64_C(0x2122232425262728), -2, true);
	ck_assert_mem_eq(out, want, PGO_STATUS_LEN);

	pgo_encode_status(out, 0, 0, 0, 0, false);
	ck_assert_int_eq(out[0], 'r');
	for (int i = 1; i < PGO_STATUS_LEN; i++)
		ck_assert_int_eq(out[i], 0);
}
END_TEST

/* ---- LSN text ----------------------------------------------------------- */

START_TEST(test_lsn_format)
{
	char buf[PGO_LSN_BUFSIZE];
	ck_assert_str_eq(pgo_lsn_format(0, buf), "0/0");
	ck_assert_str_eq(pgo_lsn_format(UINT64_C(0x16B3748), buf), "0/16B3748");
	ck_assert_str_eq(pgo_lsn_format(UINT64_C(0x100000000), buf), "1/0");
	ck_assert_str_eq(pgo_lsn_format(UINT64_MAX, buf), "FFFFFFFF/FFFFFFFF");
	ck_assert_ptr_eq(pgo_lsn_format(1, buf), buf);
}
END_TEST

START_TEST(test_lsn_round_trip)
{
	static const uint64_t lsns[] = {
		0, 1, UINT64_C(0x16B3748), UINT64_C(0xFFFFFFFF), UINT64_C(0x100000000),
		UINT64_C(0xABCDEF0123456789), UINT64_MAX,
	};
	char buf[PGO_LSN_BUFSIZE];
	for (size_t i = 0; i < sizeof(lsns) / sizeof(lsns[0]); i++) {
		uint64_t back = ~lsns[i];
		ck_assert(pgo_lsn_parse(pgo_lsn_format(lsns[i], buf), &back));
		ck_assert_uint_eq(back, lsns[i]);
	}
	/* The decoder's own LSNs, as PostgreSQL would print them. */
	struct PgoMessage c = decode_ok("commit.bin", 'C');
	uint64_t back = 0;
	ck_assert(pgo_lsn_parse(pgo_lsn_format(c.commit.end_lsn, buf), &back));
	ck_assert_uint_eq(back, c.commit.end_lsn);
	/* Lower case and leading zeros are PostgreSQL input too. */
	ck_assert(pgo_lsn_parse("0/16b3748", &back));
	ck_assert_uint_eq(back, UINT64_C(0x16B3748));
	ck_assert(pgo_lsn_parse("00000001/00000000", &back));
	ck_assert_uint_eq(back, UINT64_C(0x100000000));
}
END_TEST

START_TEST(test_lsn_parse_rejects)
{
	static const char *const bad[] = {
		"", "/", "0", "0/", "/0", "0/0/0", "0//0", "g/0", "0/g", " 0/0", "0/0 ",
		"-1/0", "+1/0", "0x1/0", "123456789/0", "0/123456789", "0/0\n", "0:0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t out = 42;
		ck_assert_msg(!pgo_lsn_parse(bad[i], &out), "accepted \"%s\"", bad[i]);
		ck_assert_msg(out == 42, "\"%s\" clobbered the output", bad[i]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pgoutput");

	TCase *tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_begin_commit);
	tcase_add_test(tc, test_origin);
	tcase_add_test(tc, test_relation_default);
	tcase_add_test(tc, test_relation_full);
	tcase_add_test(tc, test_type_enum);
	tcase_add_test(tc, test_insert_text_and_null);
	tcase_add_test(tc, test_insert_utf8);
	tcase_add_test(tc, test_insert_binary);
	tcase_add_test(tc, test_update_without_old);
	tcase_add_test(tc, test_update_key_changed);
	tcase_add_test(tc, test_update_full_old);
	tcase_add_test(tc, test_update_toast_unchanged);
	tcase_add_test(tc, test_delete_key);
	tcase_add_test(tc, test_delete_full);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_fixture_list_complete);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_every_prefix_fails, 0, NFIXTURES);
	tcase_add_loop_test(tc, test_trailing_byte_fails, 0, NFIXTURES);
	tcase_add_test(tc, test_empty_buffer);
	tcase_add_test(tc, test_unknown_message_type);
	tcase_add_test(tc, test_unknown_tuple_kind);
	tcase_add_test(tc, test_unexpected_tuple_tag);
	tcase_add_test(tc, test_column_count_exceeds_message);
	tcase_add_test(tc, test_lengths_past_end);
	tcase_add_test(tc, test_unterminated_string);
	tcase_add_test(tc, test_small_error_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_frame_xlogdata);
	tcase_add_test(tc, test_frame_keepalive);
	tcase_add_test(tc, test_frame_bad);
	tcase_add_test(tc, test_encode_status);
	tcase_add_test(tc, test_lsn_format);
	tcase_add_test(tc, test_lsn_round_trip);
	tcase_add_test(tc, test_lsn_parse_rejects);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
