/* pgoutput decoder: replication CopyData frames and pgoutput messages, bytes to structs. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pgoutput.h"

/*
 * A bounds-checked big-endian reader. Every read checks the remaining length
 * first; the first failure records what was being read and where, and later
 * reads become no-ops, so a decoder can read a whole layout and check once.
 */
struct Reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	const char *context; /* "pgoutput message" or "replication frame", for errors */
	char kind; /* message type, for errors */
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct Reader *r, const char *what)
{
	if (r->failed)
		return;
	r->failed = true;
	if (r->kind >= 0x20 && r->kind < 0x7f)
		snprintf(r->err, r->errlen, "%s '%c': %s at offset %zu", r->context, r->kind,
			 what, r->pos);
	else
		snprintf(r->err, r->errlen, "%s 0x%02x: %s at offset %zu", r->context,
			 (unsigned char)r->kind, what, r->pos);
}

static bool need(struct Reader *r, size_t n, const char *what)
{
	if (r->failed)
		return false;
	if (r->len - r->pos < n) {
		fail(r, what);
		return false;
	}
	return true;
}

static uint8_t read_u8(struct Reader *r, const char *what)
{
	if (!need(r, 1, what))
		return 0;
	return r->buf[r->pos++];
}

static uint16_t read_u16(struct Reader *r, const char *what)
{
	if (!need(r, 2, what))
		return 0;
	const uint8_t *p = r->buf + r->pos;
	r->pos += 2;
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t read_u32(struct Reader *r, const char *what)
{
	if (!need(r, 4, what))
		return 0;
	const uint8_t *p = r->buf + r->pos;
	r->pos += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t read_u64(struct Reader *r, const char *what)
{
	/* Check all 8 bytes first so a cut field is reported at its start. */
	if (!need(r, 8, what))
		return 0;
	uint64_t hi = read_u32(r, what);
	return hi << 32 | read_u32(r, what);
}

/* A NUL-terminated string, returned in place. */
static const char *read_string(struct Reader *r, const char *what)
{
	if (r->failed)
		return "";
	const uint8_t *start = r->buf + r->pos;
	const uint8_t *nul = memchr(start, '\0', r->len - r->pos);
	if (!nul) {
		fail(r, what);
		return "";
	}
	r->pos += (size_t)(nul - start) + 1;
	return (const char *)start;
}

static const uint8_t *read_bytes(struct Reader *r, size_t n, const char *what)
{
	if (!need(r, n, what))
		return NULL;
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static void *reader_alloc(struct Reader *r, Arena *arena, size_t n)
{
	if (r->failed)
		return NULL;
	void *p = arena_alloc(arena, n ? n : 1);
	if (!p)
		fail(r, "out of memory");
	return p;
}

/*
 * TupleData:
 *   Int16  number of columns
 *   per column:
 *     Byte1  'n' NULL | 'u' unchanged TOASTed value (nothing follows) |
 *            't' text | 'b' binary
 *     for 't' and 'b': Int32 length, then that many bytes
 */
static void read_tuple(struct Reader *r, Arena *arena, struct PgoTuple *tuple)
{
	tuple->ncols = read_u16(r, "truncated tuple column count");
	/* Each column takes at least one byte: reject counts the buffer cannot hold before allocating. */
	if (!r->failed && tuple->ncols > r->len - r->pos) {
		fail(r, "tuple column count exceeds message");
		return;
	}
	tuple->cols = reader_alloc(r, arena, sizeof(struct PgoValue) * tuple->ncols);
	for (uint16_t i = 0; i < tuple->ncols && !r->failed; i++) {
		struct PgoValue *v = &tuple->cols[i];
		v->kind = (char)read_u8(r, "truncated tuple column");
		v->len = 0;
		v->data = NULL;
		switch (v->kind) {
		case 'n':
		case 'u':
			break;
		case 't':
		case 'b':
			v->len = read_u32(r, "truncated column length");
			v->data = read_bytes(r, v->len, "column value past end of message");
			break;
		default:
			if (!r->failed) {
				r->pos--;
				fail(r, "unknown tuple column kind");
			}
		}
	}
}

/* Byte1 'K' | 'O' | 'N' introducing a tuple; returns the byte or 0 on error. */
static char read_tuple_tag(struct Reader *r, const char *allowed)
{
	uint8_t tag = read_u8(r, "truncated tuple tag");
	if (r->failed)
		return 0;
	if (tag == 0 || !strchr(allowed, tag)) {
		r->pos--;
		fail(r, "unexpected tuple tag");
		return 0;
	}
	return (char)tag;
}

static void decode_begin(struct Reader *r, struct PgoMessage *m)
{
	/* Int64 final LSN of the transaction, Int64 commit time, Int32 xid */
	m->begin.final_lsn = read_u64(r, "truncated final LSN");
	m->begin.commit_time = (int64_t)read_u64(r, "truncated commit time");
	m->begin.xid = read_u32(r, "truncated xid");
}

static void decode_commit(struct Reader *r, struct PgoMessage *m)
{
	/* Int8 flags (unused, 0), Int64 commit LSN, Int64 end LSN, Int64 commit time */
	m->commit.flags = read_u8(r, "truncated flags");
	m->commit.commit_lsn = read_u64(r, "truncated commit LSN");
	m->commit.end_lsn = read_u64(r, "truncated end LSN");
	m->commit.commit_time = (int64_t)read_u64(r, "truncated commit time");
}

static void decode_origin(struct Reader *r, struct PgoMessage *m)
{
	/* Int64 LSN of the commit on the origin server, String origin name */
	m->origin.commit_lsn = read_u64(r, "truncated origin LSN");
	m->origin.name = read_string(r, "unterminated origin name");
}

static void decode_relation(struct Reader *r, Arena *arena, struct PgoMessage *m)
{
	/*
	 * Int32 relation OID, String namespace (empty for pg_catalog),
	 * String relation name, Int8 replica identity setting,
	 * Int16 number of columns, then per column:
	 *   Int8 flags (1 = part of the key), String name, Int32 type OID, Int32 typmod
	 */
	m->relation.relid = read_u32(r, "truncated relation OID");
	m->relation.nspname = read_string(r, "unterminated namespace");
	m->relation.relname = read_string(r, "unterminated relation name");
	m->relation.replident = (char)read_u8(r, "truncated replica identity");
	m->relation.natts = read_u16(r, "truncated column count");
	/* A column takes at least 10 bytes. */
	if (!r->failed && m->relation.natts > (r->len - r->pos) / 10) {
		fail(r, "column count exceeds message");
		return;
	}
	m->relation.atts = reader_alloc(r, arena, sizeof(struct PgoColumn) * m->relation.natts);
	for (uint16_t i = 0; i < m->relation.natts && !r->failed; i++) {
		struct PgoColumn *c = &m->relation.atts[i];
		c->flags = read_u8(r, "truncated column flags");
		c->name = read_string(r, "unterminated column name");
		c->typoid = read_u32(r, "truncated column type");
		c->typmod = (int32_t)read_u32(r, "truncated column typmod");
	}
}

static void decode_type(struct Reader *r, struct PgoMessage *m)
{
	/* Int32 type OID, String namespace, String type name */
	m->type.typoid = read_u32(r, "truncated type OID");
	m->type.nspname = read_string(r, "unterminated type namespace");
	m->type.typname = read_string(r, "unterminated type name");
}

static void decode_insert(struct Reader *r, Arena *arena, struct PgoMessage *m)
{
	/* Int32 relation OID, Byte1 'N', TupleData new row */
	m->change.relid = read_u32(r, "truncated relation OID");
	m->change.old_kind = 0;
	m->change.has_new = true;
	read_tuple_tag(r, "N");
	read_tuple(r, arena, &m->change.new_tuple);
}

static void decode_update(struct Reader *r, Arena *arena, struct PgoMessage *m)
{
	/*
	 * Int32 relation OID, then optionally Byte1 'K' (old key columns; the
	 * key changed, REPLICA IDENTITY DEFAULT/INDEX) or 'O' (whole old row,
	 * REPLICA IDENTITY FULL) with a TupleData, then Byte1 'N' and the new row.
	 */
	m->change.relid = read_u32(r, "truncated relation OID");
	m->change.old_kind = 0;
	m->change.has_new = true;
	char tag = read_tuple_tag(r, "KON");
	if (tag == 'K' || tag == 'O') {
		m->change.old_kind = tag;
		read_tuple(r, arena, &m->change.old_tuple);
		read_tuple_tag(r, "N");
	}
	read_tuple(r, arena, &m->change.new_tuple);
}

static void decode_delete(struct Reader *r, Arena *arena, struct PgoMessage *m)
{
	/* Int32 relation OID, Byte1 'K' or 'O', TupleData old key or old row */
	m->change.relid = read_u32(r, "truncated relation OID");
	m->change.has_new = false;
	m->change.old_kind = read_tuple_tag(r, "KO");
	read_tuple(r, arena, &m->change.old_tuple);
}

static void decode_truncate(struct Reader *r, Arena *arena, struct PgoMessage *m)
{
	/* Int32 number of relations, Int8 options (1 CASCADE, 2 RESTART IDENTITY), Int32 OID each */
	m->truncate.nrels = read_u32(r, "truncated relation count");
	m->truncate.options = read_u8(r, "truncated options");
	if (!r->failed && m->truncate.nrels > (r->len - r->pos) / 4) {
		fail(r, "relation count exceeds message");
		return;
	}
	m->truncate.relids = reader_alloc(r, arena, sizeof(uint32_t) * m->truncate.nrels);
	for (uint32_t i = 0; i < m->truncate.nrels && !r->failed; i++)
		m->truncate.relids[i] = read_u32(r, "truncated relation OID");
}

static void decode_message(struct Reader *r, struct PgoMessage *m)
{
	/* Int8 flags (1 = transactional), Int64 LSN, String prefix, Int32 length, bytes */
	m->message.flags = read_u8(r, "truncated flags");
	m->message.lsn = read_u64(r, "truncated message LSN");
	m->message.prefix = read_string(r, "unterminated prefix");
	m->message.len = read_u32(r, "truncated content length");
	m->message.content = read_bytes(r, m->message.len, "content past end of message");
}

int pgo_decode(const uint8_t *buf, size_t len, Arena *arena, struct PgoMessage *out, char *err,
	       size_t errlen)
{
	struct Reader r = {
		.buf = buf, .len = len, .context = "pgoutput message", .err = err, .errlen = errlen};

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errlen, "pgoutput message: empty at offset 0");
		return -1;
	}
	r.kind = (char)buf[0];
	r.pos = 1;
	out->kind = r.kind;

	switch (r.kind) {
	case 'B':
		decode_begin(&r, out);
		break;
	case 'C':
		decode_commit(&r, out);
		break;
	case 'O':
		decode_origin(&r, out);
		break;
	case 'R':
		decode_relation(&r, arena, out);
		break;
	case 'Y':
		decode_type(&r, out);
		break;
	case 'I':
		decode_insert(&r, arena, out);
		break;
	case 'U':
		decode_update(&r, arena, out);
		break;
	case 'D':
		decode_delete(&r, arena, out);
		break;
	case 'T':
		decode_truncate(&r, arena, out);
		break;
	case 'M':
		decode_message(&r, out);
		break;
	default:
		r.pos = 0;
		fail(&r, "unknown message type");
		break;
	}
	if (!r.failed && r.pos != r.len)
		fail(&r, "trailing bytes");
	return r.failed ? -1 : 0;
}

int pgo_decode_frame(const uint8_t *buf, size_t len, struct PgoFrame *out, char *err,
		     size_t errlen)
{
	struct Reader r = {
		.buf = buf, .len = len, .context = "replication frame", .err = err, .errlen = errlen};

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errlen, "replication frame: empty at offset 0");
		return -1;
	}
	r.kind = (char)buf[0];
	r.pos = 1;
	out->kind = r.kind;

	switch (r.kind) {
	case 'w':
		/* Int64 WAL start of the data, Int64 current end of WAL, Int64 send time, Byte n payload */
		out->wal_start = read_u64(&r, "truncated XLogData start");
		out->wal_end = read_u64(&r, "truncated XLogData end");
		out->send_time = (int64_t)read_u64(&r, "truncated send time");
		out->data = buf + r.pos;
		out->len = r.failed ? 0 : len - r.pos;
		r.pos = len;
		break;
	case 'k':
		/* Int64 current end of WAL, Int64 send time, Byte1 1 = reply requested */
		out->wal_end = read_u64(&r, "truncated keepalive end");
		out->send_time = (int64_t)read_u64(&r, "truncated send time");
		out->reply_requested = read_u8(&r, "truncated reply flag") != 0;
		break;
	default:
		r.pos = 0;
		fail(&r, "unknown frame type");
		break;
	}
	if (!r.failed && r.pos != r.len)
		fail(&r, "trailing bytes");
	return r.failed ? -1 : 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void pgo_encode_status(uint8_t out[PGO_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
		       uint64_t apply_lsn, int64_t now, bool reply_requested)
{
	/*
	 * Byte1 'r', Int64 last WAL byte received (write), Int64 flushed — what
	 * the slot's confirmed_flush_lsn moves to, Int64 applied, Int64 client
	 * clock (µs since 2000-01-01), Byte1 1 = server should reply at once.
	 */
	out[0] = 'r';
	put_u64(out + 1, write_lsn);
	put_u64(out + 9, flush_lsn);
	put_u64(out + 17, apply_lsn);
	put_u64(out + 25, (uint64_t)now);
	out[33] = reply_requested ? 1 : 0;
}

const char *pgo_lsn_format(uint64_t lsn, char buf[PGO_LSN_BUFSIZE])
{
	snprintf(buf, PGO_LSN_BUFSIZE, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
	return buf;
}

/* Up to 8 hex digits ending at stop; returns the position after them or NULL. */
static const char *parse_hex32(const char *p, char stop, uint64_t *out)
{
	int digits = 0;

	*out = 0;
	for (; *p != stop; p++, digits++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0'
			: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0 || digits >= 8)
			return NULL;
		*out = *out << 4 | (uint64_t)d;
	}
	return digits ? p : NULL;
}

bool pgo_lsn_parse(const char *text, uint64_t *out)
{
	uint64_t hi, lo;
	const char *p = parse_hex32(text, '/', &hi);

	if (!p || !parse_hex32(p + 1, '\0', &lo))
		return false;
	*out = hi << 32 | lo;
	return true;
}
