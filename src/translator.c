/* Translators: row changes to versioned domain events, as the configuration declares them. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "contract.h"
#include "log.h"
#include "outbox.h"
#include "schema.h"
#include "strbuf.h"
#include "tablecast/v1/change.pb-c.h"
#include "translator.h"
#include "wire.h"

/*
 * An expression of an event with its columns bound to the attribute
 * numbers of the relation as it is now. Slot 0 is `when`, 1 `key`, 2
 * `subject`, then one per field; absent expressions have expr == NULL.
 */
struct ExprSlot {
	const Expr *expr;
	size_t ncols;
	const struct ExprColumn *cols;
	int *attnum; /* per column; -1 when the relation has no such column */
};

#define SLOT_WHEN 0
#define SLOT_KEY 1
#define SLOT_SUBJECT 2
#define SLOT_FIELDS 3

struct EventState {
	const struct EventDef *def;
	struct ExprSlot *slots;
	size_t nslots;
	uint32_t bound_relid;
	uint32_t bound_generation;
	char drift[1024]; /* why the current relation cannot feed this event; "" when it can */
	char dataschema[1024];
	char type[256]; /* ce_type: name.v<version> */
	char type_url[320]; /* structured mode: the Any type URL of the event message */
	char label[256]; /* "name v<version>", for messages */
	uint64_t emitted;
	uint64_t failed;
	uint64_t suppressed; /* handover: translator events an outbox record replaced */
	uint64_t held_published; /* handover: translator events published at commit */
	uint64_t reported_suppressed, reported_published; /* as of the last xl_handover_report */
};

/*
 * Handover. A translator event of a handover event is held until COMMIT,
 * because the outbox record that replaces it may come before or after
 * the row change in the transaction. The bytes (key, subject, payload)
 * live in Translator.held_bytes, at offsets, since the buffer grows.
 */
struct Held {
	size_t es; /* index into Translator.events */
	uint32_t index; /* the event's place in the transaction: its ce_id */
	bool has_key, has_subject;
	size_t key_off, key_len, subject_off, subject_len, payload_off, payload_len;
};

/* An (event, key) that had an outbox record in the transaction. */
struct OutboxKey {
	size_t es;
	bool has_key;
	size_t key_off, key_len;
	const char *key; /* resolved at COMMIT, when held_bytes no longer moves */
};

/*
 * A transaction may hold at most this many bytes of translator events of
 * handover events. Past it the run halts: spilling them to disk is not
 * worth it for a state that lasts only while a rolling deploy does, and a
 * transaction that large is better split or left to the outbox alone.
 */
#define HELD_MAX_BYTES (64u * 1024 * 1024)

struct Translator {
	const struct Config *cfg;
	xl_emit_fn emit;
	void *ctx;
	struct EventState *events;
	size_t nevents;
	struct TxnInfo txn;
	uint32_t event_index; /* within the transaction, for ce_id */
	/* "<commit LSN>-" ("<commit LSN>-<slot>-" when sharded): every ce_id of the transaction starts so */
	char txn_id[PGO_LSN_BUFSIZE + 72];
	size_t txn_id_len;
	char read_id[256]; /* snapshot reads: the ce_id base and '-'; "" for the stream */
	size_t read_id_len;
	int64_t read_time_us;
	const char *read_kind; /* "initial" or "backfill" while reading; NULL for the stream */
	Arena *arena; /* per change */
	struct Value *values; /* per field, sized for the widest event */
	struct StrBuf payload;
	struct StrBuf envelope; /* structured mode: the CloudEvent around the payload */
	struct XlStats stats;
	Contract *ctr; /* what each event was validated against */
	bool own_ctr; /* ctr is this translator's memory record */
	const RelCache *rels; /* for the names of custom types; may be NULL */
	struct Held *held;
	size_t nheld, held_cap;
	struct OutboxKey *okeys;
	size_t nokeys, okeys_cap;
	struct StrBuf held_bytes;
	Arena *commit_arena; /* values of held events decoded again at COMMIT */
};

static void slot_init(struct ExprSlot *slot, const Expr *expr)
{
	slot->expr = expr;
	slot->ncols = expr ? expr_columns(expr, &slot->cols) : 0;
	slot->attnum = calloc(slot->ncols ? slot->ncols : 1, sizeof(int));
	if (!slot->attnum)
		abort();
}

Translator *xl_new(const struct Config *cfg, xl_emit_fn emit, void *ctx)
{
	Translator *xl = calloc(1, sizeof(*xl));
	size_t widest = 1;

	if (!xl)
		return NULL;
	xl->cfg = cfg;
	xl->txn_id_len = (size_t)snprintf(xl->txn_id, sizeof(xl->txn_id), "0/0-");
	xl->emit = emit;
	xl->ctx = ctx;
	xl->arena = arena_new();
	xl->commit_arena = arena_new();
	xl->ctr = ctr_new_memory();
	xl->own_ctr = true;
	xl->nevents = cfg->nevents;
	xl->events = calloc(cfg->nevents ? cfg->nevents : 1, sizeof(struct EventState));
	if (!xl->arena || !xl->commit_arena || !xl->events || !xl->ctr) {
		xl_free(xl);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nevents; i++) {
		const struct EventDef *def = &cfg->events[i];
		struct EventState *es = &xl->events[i];
		es->def = def;
		es->nslots = SLOT_FIELDS + def->nfields;
		es->slots = calloc(es->nslots, sizeof(struct ExprSlot));
		if (!es->slots) {
			xl_free(xl);
			return NULL;
		}
		slot_init(&es->slots[SLOT_WHEN], def->when);
		slot_init(&es->slots[SLOT_KEY], def->key);
		slot_init(&es->slots[SLOT_SUBJECT], def->subject);
		for (size_t f = 0; f < def->nfields; f++)
			slot_init(&es->slots[SLOT_FIELDS + f], def->fields[f].value);
		if (def->nfields > widest)
			widest = def->nfields;

		snprintf(es->type, sizeof(es->type), "%s.v%d", def->name, def->version);
		snprintf(es->label, sizeof(es->label), "%s v%d", def->name, def->version);
		char full[290];
		enc_message_full_name(def, full, sizeof(full));
		snprintf(es->type_url, sizeof(es->type_url), ENC_TYPE_URL_PREFIX "%s", full);
		if (cfg->cloudevents.dataschema_base[0]) {
			char path[512];
			schema_proto_path(def, path, sizeof(path));
			snprintf(es->dataschema, sizeof(es->dataschema), "%s/%s",
				 cfg->cloudevents.dataschema_base, path);
		}
	}
	xl->values = calloc(widest, sizeof(struct Value));
	if (!xl->values) {
		xl_free(xl);
		return NULL;
	}
	return xl;
}

void xl_free(Translator *xl)
{
	if (!xl)
		return;
	for (size_t i = 0; i < xl->nevents; i++) {
		struct EventState *es = &xl->events[i];
		for (size_t s = 0; es->slots && s < es->nslots; s++)
			free(es->slots[s].attnum);
		free(es->slots);
	}
	free(xl->events);
	free(xl->values);
	if (xl->own_ctr)
		ctr_free(xl->ctr);
	sb_free(&xl->payload);
	sb_free(&xl->envelope);
	sb_free(&xl->held_bytes);
	free(xl->held);
	free(xl->okeys);
	arena_free(xl->arena);
	arena_free(xl->commit_arena);
	free(xl);
}

void xl_set_contract(Translator *xl, Contract *ctr, const RelCache *rels)
{
	if (xl->own_ctr)
		ctr_free(xl->ctr);
	xl->ctr = ctr;
	xl->own_ctr = false;
	xl->rels = rels;
	/* The record may say something else than the memory one did. */
	xl_rebind(xl);
}

void xl_rebind(Translator *xl)
{
	for (size_t i = 0; i < xl->nevents; i++)
		xl->events[i].bound_relid = 0;
}

void xl_begin(Translator *xl, const struct TxnInfo *txn)
{
	xl->txn = *txn;
	xl->event_index = 0;
	/* Formatted once per transaction, not once per event. */
	char lsn[PGO_LSN_BUFSIZE];
	/*
	 * Sibling instances of a sharded table see the same transaction, each
	 * its own part of it, at the same commit LSN: the slot keeps their
	 * ce_ids apart (CloudEvents: source + id unique per event).
	 */
	if (xl->cfg->source.nshards)
		xl->txn_id_len = (size_t)snprintf(xl->txn_id, sizeof(xl->txn_id), "%s-%s-",
						  pgo_lsn_format(txn->commit_lsn, lsn),
						  xl->cfg->source.slot);
	else
		xl->txn_id_len = (size_t)snprintf(xl->txn_id, sizeof(xl->txn_id), "%s-",
						  pgo_lsn_format(txn->commit_lsn, lsn));
	xl->read_id[0] = '\0';
	xl->read_kind = NULL;
	xl->nheld = 0;
	xl->nokeys = 0;
	/* A large transaction's buffer is not kept for the small ones after it. */
	if (xl->held_bytes.cap > 1024 * 1024)
		sb_free(&xl->held_bytes);
	sb_reset(&xl->held_bytes);
}

void xl_begin_read(Translator *xl, const char *id_base, int64_t time_us, const char *kind)
{
	/* Once per row read: no printf. */
	size_t len = strlen(id_base);
	if (len > sizeof(xl->read_id) - 2)
		len = sizeof(xl->read_id) - 2;
	memcpy(xl->read_id, id_base, len);
	xl->read_id[len] = '-';
	xl->read_id[len + 1] = '\0';
	xl->read_id_len = len + 1;
	xl->read_time_us = time_us;
	xl->read_kind = kind;
	xl->event_index = 0;
}

const struct XlStats *xl_stats(const Translator *xl)
{
	return &xl->stats;
}

uint64_t xl_event_suppressed(const Translator *xl, size_t i)
{
	return xl->events[i].suppressed;
}

void xl_event_stats(const Translator *xl, size_t i, uint64_t *emitted, uint64_t *failed)
{
	*emitted = xl->events[i].emitted;
	*failed = xl->events[i].failed;
}

/* What reads a slot's columns, for messages: "field \"carrier\"", "when", "key", "subject". */
static void slot_use(const struct EventState *es, size_t s, char *out, size_t outlen)
{
	if (s >= SLOT_FIELDS)
		snprintf(out, outlen, "field \"%s\" (%s%s)", es->def->fields[s - SLOT_FIELDS].name,
			 es->def->fields[s - SLOT_FIELDS].repeated ? "repeated " : "",
			 field_type_name(es->def->fields[s - SLOT_FIELDS].type));
	else
		snprintf(out, outlen, "%s", s == SLOT_WHEN ? "when" : s == SLOT_KEY ? "key" : "subject");
}

/* rel's columns with their types, "id bigint, status text", for a message about a vanished one. */
static void describe_columns(const Translator *xl, const struct Relation *rel, char *out,
			     size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint16_t a = 0; a < rel->natts && n + 1 < outlen; a++) {
		char type[128];
		ctr_type_format(rel->atts[a].typoid, rel->atts[a].typmod,
				xl->rels ? rel_type_name(xl->rels, rel->atts[a].typoid) : NULL, type,
				sizeof(type));
		int w = snprintf(out + n, outlen - n, "%s%s %s", a ? ", " : "", rel->atts[a].name, type);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

/*
 * Compare one column an event reads with the contract: what this event
 * was validated against (the record in the state directory, which
 * survives restarts), never merely what this process saw first. The
 * first sight of a column records it; a compatible change (the table in
 * docs/SCHEMA-DRIFT.md) is logged once and recorded as a new version from
 * lsn on, so a stream replayed from before it still matches the older
 * one; anything else is drift, and the record keeps the old type so a
 * restart finds the same drift. Returns 0 (es->drift set on drift), or
 * -1 with err when the record cannot be kept.
 */
static int bind_column(Translator *xl, struct EventState *es, const struct Relation *rel,
		       size_t s, size_t c, uint64_t lsn, char *err, size_t errlen)
{
	struct ExprSlot *slot = &es->slots[s];
	const char *name = slot->cols[c].name;
	const struct EventField *field = s >= SLOT_FIELDS ? &es->def->fields[s - SLOT_FIELDS] : NULL;
	struct CtrType was, now;
	char use[160], now_name[128];
	bool recorded = ctr_lookup(xl->ctr, es->label, rel->qualname, name, lsn, &was);

	slot_use(es, s, use, sizeof(use));
	if (slot->attnum[c] < 0) {
		char cols[300];
		describe_columns(xl, rel, cols, sizeof(cols));
		snprintf(es->drift, sizeof(es->drift),
			 "relation %s: column \"%s\"%s%s%s read by %s vanished; the table now has: %s",
			 rel->qualname, name, recorded ? " (" : "", recorded ? was.name : "",
			 recorded ? ")" : "", use, cols);
		return 0;
	}
	const struct RelColumn *att = &rel->atts[slot->attnum[c]];
	ctr_type_format(att->typoid, att->typmod, xl->rels ? rel_type_name(xl->rels, att->typoid) : NULL,
			now_name, sizeof(now_name));
	now = (struct CtrType){att->typoid, att->typmod, now_name};
	if (recorded && was.typoid == now.typoid && was.typmod == now.typmod)
		return 0;
	if (recorded && !ctr_compatible(&was, &now, field)) {
		snprintf(es->drift, sizeof(es->drift),
			 "relation %s: column \"%s\" read by %s changed type from %s to %s, which is not compatible (docs/SCHEMA-DRIFT.md); the record keeps %s",
			 rel->qualname, name, use, was.name, now.name, was.name);
		return 0;
	}
	if (recorded) {
		char at[PGO_LSN_BUFSIZE];
		log_info("relation %s: column \"%s\" read by %s of event %s changed type from %s to %s at %s: compatible, recorded",
			 rel->qualname, name, use, es->label, was.name, now.name,
			 lsn == UINT64_MAX ? "a snapshot read" : pgo_lsn_format(lsn, at));
	}
	if (ctr_record(xl->ctr, es->label, rel->qualname, name, lsn == UINT64_MAX ? 0 : lsn, &now) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Bind every expression column of es to rel's attribute numbers and
 * compare each with the contract. On drift the reason is kept in
 * es->drift and every row of the relation fails with it, under the
 * event's error policy, until the definition is fixed. Returns 0, or -1
 * with err when the record cannot be written (fatal).
 */
static int bind(Translator *xl, struct EventState *es, const struct Relation *rel, uint64_t lsn,
		char *err, size_t errlen)
{
	es->bound_relid = rel->relid;
	es->bound_generation = rel->generation;
	es->drift[0] = '\0';
	for (size_t s = 0; s < es->nslots; s++) {
		struct ExprSlot *slot = &es->slots[s];
		for (size_t c = 0; c < slot->ncols; c++) {
			slot->attnum[c] = -1;
			for (uint16_t a = 0; a < rel->natts; a++) {
				if (strcmp(rel->atts[a].name, slot->cols[c].name) == 0) {
					slot->attnum[c] = a;
					break;
				}
			}
			if (!es->drift[0] && bind_column(xl, es, rel, s, c, lsn, err, errlen) < 0)
				return -1;
		}
	}
	return ctr_save(xl->ctr, err, errlen);
}

/* The change being translated, with its column values converted at most once. */
struct Row {
	const struct Relation *rel;
	const struct PgoMessage *msg; /* NULL for a truncate */
	uint64_t lsn;
	char op; /* I U D T */
	struct Value *cache; /* [2 * natts]: old then new */
	bool *cached;
};

/* old.<attnum> or new.<attnum> as a Value. */
static int column_value(Translator *xl, struct Row *row, bool old, int attnum, struct Value *out,
			char *err, size_t errlen)
{
	size_t idx = (old ? 0 : row->rel->natts) + (size_t)attnum;
	if (row->cached[idx]) {
		*out = row->cache[idx];
		return 0;
	}

	const struct PgoMessage *m = row->msg;
	const struct PgoTuple *tuple = NULL;
	if (old && m->change.old_kind)
		tuple = &m->change.old_tuple;
	else if (!old && m->change.has_new)
		tuple = &m->change.new_tuple;

	const struct PgoValue *col = NULL;
	static const struct PgoValue null_col = {.kind = 'n'};
	if (tuple && attnum < tuple->ncols)
		col = &tuple->cols[attnum];
	if (!col) {
		/* No such image (old row under REPLICA IDENTITY DEFAULT): NULL, as `tablecast check` warns. */
		col = &null_col;
	} else if (col->kind == 'u') {
		/*
		 * Unchanged TOAST: the server did not send the value. The old row
		 * has it under REPLICA IDENTITY FULL; otherwise it is unknown and
		 * reads as NULL, so a field fed by it is left absent.
		 */
		const struct PgoValue *prev = NULL;
		if (m->change.old_kind == 'O' && attnum < m->change.old_tuple.ncols)
			prev = &m->change.old_tuple.cols[attnum];
		if (prev && prev->kind != 'u') {
			col = prev;
		} else {
			col = &null_col;
			xl->stats.toast_unavailable++;
		}
	}
	if (value_from_column(col, row->rel->atts[attnum].typoid, xl->arena, out, err, errlen) < 0)
		return -1;
	row->cache[idx] = *out;
	row->cached[idx] = true;
	return 0;
}

static int eval_slot(Translator *xl, struct Row *row, const struct ExprSlot *slot,
		     struct Value *out, char *err, size_t errlen)
{
	struct Value cols[64];
	struct Value *colv = cols;

	if (slot->ncols > sizeof(cols) / sizeof(cols[0])) {
		colv = arena_alloc(xl->arena, slot->ncols * sizeof(struct Value));
		if (!colv) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	for (size_t c = 0; c < slot->ncols; c++) {
		if (row->op == 'T') {
			colv[c] = (struct Value){.kind = VAL_NULL};
			continue;
		}
		char cerr[256];
		if (column_value(xl, row, slot->cols[c].old, slot->attnum[c], &colv[c], cerr,
				 sizeof(cerr)) < 0) {
			snprintf(err, errlen, "%s.%s: %s", slot->cols[c].old ? "old" : "new",
				 slot->cols[c].name, cerr);
			return -1;
		}
	}
	struct ExprRow er = {.cols = colv, .ncols = slot->ncols};
	return expr_eval(slot->expr, &er, xl->arena, out, err, errlen);
}

/* A text value of key or subject, which the configuration wraps in ::text. */
static const char *text_of(const struct Value *v, size_t *len)
{
	if (v->kind != VAL_TEXT) {
		*len = 0;
		return NULL;
	}
	*len = v->s.len;
	return v->s.p;
}

static int64_t unix_us(int64_t pg_us)
{
	return pg_us + PGO_EPOCH_OFFSET_US;
}

static void set_ce(Translator *xl, struct Event *ev, const char *type, char *id, size_t idlen)
{
	/*
	 * Deterministic: the same transaction replayed, or the same row read
	 * again, yields the same ids. The prefix and the index in decimal,
	 * without printf.
	 */
	const char *prefix = xl->read_kind ? xl->read_id : xl->txn_id;
	size_t prefix_len = xl->read_kind ? xl->read_id_len : xl->txn_id_len;
	char digits[10];
	size_t n = 0;
	uint32_t v = xl->event_index;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (prefix_len + n >= idlen)
		prefix_len = idlen - n - 1;
	memcpy(id, prefix, prefix_len);
	for (size_t i = 0; i < n; i++)
		id[prefix_len + i] = digits[n - 1 - i];
	id[prefix_len + n] = '\0';
	ev->ce.time_us = xl->read_kind ? xl->read_time_us : unix_us(xl->txn.commit_time);
	ev->ce.snapshot = xl->read_kind;
	ev->ce.id = id;
	ev->ce.source = xl->cfg->cloudevents.source;
	ev->ce.type = type;
	ev->ce.datacontenttype = "application/protobuf";
	ev->content_type = "application/protobuf";
}

/*
 * Structured mode (the CloudEvents protobuf format): put ev's payload, a
 * protobuf message whose Any type URL is type_url, into a CloudEvent and
 * make that the payload. The format says dataschema SHOULD be the type URL
 * and datacontenttype MAY be application/protobuf; the Kafka record's
 * content-type becomes the format's media type, which is how a receiver
 * tells structured from binary mode. Returns 0, or -1 when out of memory.
 */
static int wrap_structured(Translator *xl, struct Event *ev, const char *type_url)
{
	sb_reset(&xl->envelope);
	ev->ce.dataschema = type_url;
	ev->ce.datacontenttype = "application/protobuf";
	if (enc_cloudevent(&ev->ce, type_url, ev->payload, ev->payload_len, &xl->envelope) < 0 ||
	    !sb_ok(&xl->envelope))
		return -1;
	ev->payload = (const uint8_t *)xl->envelope.data;
	ev->payload_len = xl->envelope.len;
	ev->content_type = "application/cloudevents+protobuf";
	return 0;
}

/* Pack a tuple of the raw change into tablecast.v1.ColumnValues; false when out of memory. */
static bool dead_letter_columns(Translator *xl, const struct Relation *rel,
				const struct PgoTuple *tuple, Tablecast__V1__ColumnValue ***out,
				size_t *n)
{
	Tablecast__V1__ColumnValue **cols =
		arena_alloc(xl->arena, sizeof(*cols) * (tuple->ncols ? tuple->ncols : 1));
	Tablecast__V1__ColumnValue *vals =
		arena_alloc(xl->arena, sizeof(*vals) * (tuple->ncols ? tuple->ncols : 1));
	*n = 0;
	*out = cols;
	if (!cols || !vals)
		return false;
	for (uint16_t i = 0; i < tuple->ncols && i < rel->natts; i++) {
		Tablecast__V1__ColumnValue *cv = &vals[i];
		tablecast__v1__column_value__init(cv);
		cv->name = rel->atts[i].name;
		cv->type_oid = rel->atts[i].typoid;
		const struct PgoValue *v = &tuple->cols[i];
		if (v->kind == 'n') {
			cv->value_case = TABLECAST__V1__COLUMN_VALUE__VALUE_IS_NULL;
			cv->is_null = 1;
		} else if (v->kind == 'u') {
			cv->value_case = TABLECAST__V1__COLUMN_VALUE__VALUE_UNCHANGED_TOAST;
			cv->unchanged_toast = 1;
		} else {
			cv->value_case = TABLECAST__V1__COLUMN_VALUE__VALUE_TEXT;
			cv->text = arena_strndup(xl->arena, (const char *)v->data, v->len);
			if (!cv->text)
				return false;
		}
		cols[(*n)++] = cv;
	}
	return true;
}

/*
 * Publish a dead letter: the raw change of row (or the content of a
 * logical decoding message) and the reason line, to the dead-letter topic.
 */
static int dead_letter(Translator *xl, const char *event, int version, const char *label,
		       const struct Row *row, const uint8_t *message, size_t message_len,
		       uint64_t lsn_at, const char *line, char *err, size_t errlen)
{
	char lsn[PGO_LSN_BUFSIZE], id[320];
	static const char message_relation[] = "pg_logical_emit_message";

	Tablecast__V1__RowChange change = TABLECAST__V1__ROW_CHANGE__INIT;
	change.relation = row ? row->rel->qualname : (char *)message_relation;
	if (row)
		change.op = row->op == 'I'   ? TABLECAST__V1__ROW_CHANGE__OP__OP_INSERT
			    : row->op == 'U' ? TABLECAST__V1__ROW_CHANGE__OP__OP_UPDATE
			    : row->op == 'D' ? TABLECAST__V1__ROW_CHANGE__OP__OP_DELETE
			    : row->op == 'S' ? TABLECAST__V1__ROW_CHANGE__OP__OP_SNAPSHOT
					     : TABLECAST__V1__ROW_CHANGE__OP__OP_TRUNCATE;
	pgo_lsn_format(row ? row->lsn : lsn_at, lsn);
	change.lsn = lsn;
	change.xid = xl->txn.xid;
	change.commit_time_us = unix_us(xl->txn.commit_time);
	bool ok = true;
	if (row && row->msg && row->msg->change.old_kind)
		ok = dead_letter_columns(xl, row->rel, &row->msg->change.old_tuple, &change.old,
					 &change.n_old);
	if (ok && row && row->msg && row->msg->change.has_new)
		ok = dead_letter_columns(xl, row->rel, &row->msg->change.new_tuple, &change.new_,
					 &change.n_new_);

	Tablecast__V1__DeadLetter dl = TABLECAST__V1__DEAD_LETTER__INIT;
	dl.event = (char *)(event ? event : "");
	dl.version = version > 0 ? (uint32_t)version : 0;
	dl.error = (char *)line;
	dl.change = &change;
	if (message) {
		dl.message.data = (uint8_t *)message;
		dl.message.len = message_len;
	}
	size_t len = tablecast__v1__dead_letter__get_packed_size(&dl);
	uint8_t *buf = arena_alloc(xl->arena, len ? len : 1);
	if (!buf || !ok) {
		snprintf(err, errlen, "out of memory building a dead letter");
		return -1;
	}
	tablecast__v1__dead_letter__pack(&dl, buf);

	struct Event ev = {
		.topic = xl->cfg->sink.dead_letter_topic,
		.key = change.relation,
		.key_len = strlen(change.relation),
		.payload = buf,
		.payload_len = len,
		.error = line,
		.failed_event = label,
	};
	set_ce(xl, &ev, "tablecast.v1.DeadLetter", id, sizeof(id));
	ev.ce.subject = label;
	if (xl->cfg->cloudevents.structured &&
	    wrap_structured(xl, &ev, ENC_TYPE_URL_PREFIX "tablecast.v1.DeadLetter") < 0) {
		snprintf(err, errlen, "out of memory building a dead letter");
		return -1;
	}
	xl->event_index++;
	xl->stats.dead_letters++;
	return xl->emit(xl->ctx, &ev, err, errlen);
}

/*
 * A row that cannot become its event: publish the raw change and the reason
 * to the dead-letter topic, or stop (halt) with the reason.
 */
static int translation_failed(Translator *xl, struct EventState *es, struct Row *row,
			      const char *reason, char *err, size_t errlen)
{
	char lsn[PGO_LSN_BUFSIZE], line[1024];
	const char *op = row->op == 'I' ? "insert" : row->op == 'U' ? "update"
			 : row->op == 'D' ? "delete" : row->op == 'S' ? "snapshot read" : "truncate";

	xl->stats.translation_errors++;
	es->failed++;
	if (row->op == 'S')
		snprintf(line, sizeof(line), "event %s: %s (%s of %s, %.*s)", es->label, reason, op,
			 row->rel->qualname, (int)xl->read_id_len - 1, xl->read_id);
	else
		snprintf(line, sizeof(line), "event %s: %s (%s of %s at %s)", es->label, reason, op,
			 row->rel->qualname, pgo_lsn_format(row->lsn, lsn));
	if (es->def->on_error == ON_ERROR_HALT) {
		snprintf(err, errlen, "%s", line);
		return -1;
	}
	log_warning("dead letter: %s", line);
	return dead_letter(xl, es->def->name, es->def->version, es->label, row, NULL, 0, 0, line,
			   err, errlen);
}

/*
 * What the handover keeps for the transaction: held events and the keys of
 * its outbox records. Returns -1 with err past HELD_MAX_BYTES.
 */
static int held_room(const Translator *xl, const struct EventState *es, size_t more, char *err,
		     size_t errlen)
{
	size_t used = xl->held_bytes.len + xl->nheld * sizeof(struct Held) +
		      xl->nokeys * sizeof(struct OutboxKey);
	if (used + more <= HELD_MAX_BYTES)
		return 0;
	char lsn[PGO_LSN_BUFSIZE];
	snprintf(err, errlen,
		 "event %s: the transaction committing at %s holds more than %u MiB of translator events and outbox keys for the handover check; split the transaction, or remove the translator once the outbox publishes the event (docs/MIGRATION.md)",
		 es->label, pgo_lsn_format(xl->txn.commit_lsn, lsn), HELD_MAX_BYTES >> 20);
	return -1;
}

/* Hold a translator event of a handover event until COMMIT (struct Held). */
static int hold(Translator *xl, struct EventState *es, const struct Event *ev, char *err,
		size_t errlen)
{
	size_t subject_len = ev->ce.subject ? strlen(ev->ce.subject) : 0;
	if (held_room(xl, es, sizeof(struct Held) + ev->key_len + subject_len + ev->payload_len, err,
		      errlen) < 0)
		return -1;
	if (xl->nheld == xl->held_cap) {
		size_t cap = xl->held_cap ? 2 * xl->held_cap : 64;
		struct Held *h = realloc(xl->held, cap * sizeof(*h));
		if (!h) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		xl->held = h;
		xl->held_cap = cap;
	}
	struct Held *h = &xl->held[xl->nheld];
	*h = (struct Held){.es = (size_t)(es - xl->events), .index = xl->event_index};
	h->has_key = ev->key != NULL;
	h->key_off = xl->held_bytes.len;
	h->key_len = ev->key_len;
	if (ev->key)
		sb_append(&xl->held_bytes, ev->key, ev->key_len);
	h->has_subject = ev->ce.subject != NULL;
	h->subject_off = xl->held_bytes.len;
	h->subject_len = subject_len;
	if (ev->ce.subject)
		sb_append(&xl->held_bytes, ev->ce.subject, h->subject_len);
	h->payload_off = xl->held_bytes.len;
	h->payload_len = ev->payload_len;
	sb_append(&xl->held_bytes, ev->payload, ev->payload_len);
	if (!sb_ok(&xl->held_bytes)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	xl->nheld++;
	xl->event_index++;
	return 0;
}

/* Wrap ev in a CloudEvent in structured mode, and hand it to the sink. */
static int publish(Translator *xl, struct EventState *es, struct Event *ev, char *err,
		   size_t errlen)
{
	if (xl->cfg->cloudevents.structured && wrap_structured(xl, ev, es->type_url) < 0) {
		snprintf(err, errlen, "out of memory encoding event %s", es->label);
		return -1;
	}
	xl->event_index++;
	xl->stats.events++;
	es->emitted++;
	return xl->emit(xl->ctx, ev, err, errlen);
}

/* Evaluate and publish one event for row. */
static int translate(Translator *xl, struct EventState *es, struct Row *row, char *err,
		     size_t errlen)
{
	const struct EventDef *def = es->def;
	char reason[512], id[320];
	struct Value when, key = {.kind = VAL_NULL}, subject = {.kind = VAL_NULL};

	if ((es->bound_relid != row->rel->relid || es->bound_generation != row->rel->generation) &&
	    bind(xl, es, row->rel, row->op == 'S' ? UINT64_MAX : row->lsn, err, errlen) < 0)
		return -1;
	if (es->drift[0])
		return translation_failed(xl, es, row, es->drift, err, errlen);

	if (def->when) {
		if (eval_slot(xl, row, &es->slots[SLOT_WHEN], &when, reason, sizeof(reason)) < 0)
			goto failed;
		if (when.kind == VAL_NULL || (when.kind == VAL_BOOL && !when.b))
			return 0;
		if (when.kind != VAL_BOOL) {
			snprintf(reason, sizeof(reason), "when: condition is not a boolean");
			goto failed;
		}
	}
	if (def->key && eval_slot(xl, row, &es->slots[SLOT_KEY], &key, reason, sizeof(reason)) < 0)
		goto failed;
	if (def->subject &&
	    eval_slot(xl, row, &es->slots[SLOT_SUBJECT], &subject, reason, sizeof(reason)) < 0)
		goto failed;
	for (size_t f = 0; f < def->nfields; f++) {
		char ferr[400];
		if (eval_slot(xl, row, &es->slots[SLOT_FIELDS + f], &xl->values[f], ferr,
			      sizeof(ferr)) < 0) {
			snprintf(reason, sizeof(reason), "field \"%s\": %s", def->fields[f].name, ferr);
			goto failed;
		}
	}
	sb_reset(&xl->payload);
	if (enc_protobuf(def, xl->values, &xl->payload, reason, sizeof(reason)) < 0)
		goto failed;
	if (!sb_ok(&xl->payload)) {
		snprintf(err, errlen, "out of memory encoding event %s", es->label);
		return -1;
	}

	struct Event ev = {
		.topic = def->topic,
		.payload = (const uint8_t *)xl->payload.data,
		.payload_len = xl->payload.len,
		.def = def,
		.values = xl->values,
		.all_partitions = row->op == 'T',
	};
	ev.key = text_of(&key, &ev.key_len);
	set_ce(xl, &ev, es->type, id, sizeof(id));
	size_t subject_len;
	const char *subject_text = text_of(&subject, &subject_len);
	if (subject_text)
		ev.ce.subject = arena_strndup(xl->arena, subject_text, subject_len);
	ev.ce.dataschema = es->dataschema[0] ? es->dataschema : NULL;
	if (def->handover && !xl->read_kind && row->op != 'T')
		return hold(xl, es, &ev, err, errlen);
	return publish(xl, es, &ev, err, errlen);

failed:
	return translation_failed(xl, es, row, reason, err, errlen);
}

static int translate_row(Translator *xl, struct Row *row, unsigned op_bit, char *err,
			 size_t errlen)
{
	int rc = 0;

	xl->stats.changes++;
	for (size_t i = 0; i < xl->nevents && rc == 0; i++) {
		struct EventState *es = &xl->events[i];
		if (es->def->outbox_only || !(es->def->ops & op_bit) ||
		    strcmp(es->def->table, row->rel->qualname) != 0)
			continue;
		rc = translate(xl, es, row, err, errlen);
	}
	arena_reset(xl->arena);
	return rc;
}

/* A change (op I U D) or a snapshot read (op S, msg an insert of the row). */
static int change_row(Translator *xl, const struct Relation *rel, const struct PgoMessage *msg,
		      char op, uint64_t lsn, unsigned op_bit, char *err, size_t errlen)
{
	size_t n = 2 * (size_t)rel->natts;
	struct Row row = {.rel = rel, .msg = msg, .lsn = lsn, .op = op};
	row.cache = arena_alloc(xl->arena, sizeof(struct Value) * (n ? n : 1));
	row.cached = arena_alloc(xl->arena, n ? n : 1);
	if (!row.cache || !row.cached) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(row.cached, 0, n);
	return translate_row(xl, &row, op_bit, err, errlen);
}

static int outbox_row(Translator *xl, const struct Relation *rel, const struct PgoMessage *msg,
		      uint64_t lsn, char *err, size_t errlen);

/* Whether qualname is an outbox table of some event. */
static bool is_outbox(const Translator *xl, const char *qualname)
{
	for (size_t i = 0; i < xl->nevents; i++)
		if (xl->events[i].def->outbox && strcmp(xl->events[i].def->outbox, qualname) == 0)
			return true;
	return false;
}

int xl_change(Translator *xl, const struct Relation *rel, const struct PgoMessage *msg,
	      uint64_t lsn, char *err, size_t errlen)
{
	if (is_outbox(xl, rel->qualname)) {
		if (msg->kind == 'I')
			return outbox_row(xl, rel, msg, lsn, err, errlen);
		/* "Insert then delete in the same transaction" keeps the table empty. */
		xl->stats.outbox_ignored++;
		return 0;
	}
	unsigned bit = msg->kind == 'I' ? OP_INSERT : msg->kind == 'U' ? OP_UPDATE : OP_DELETE;
	return change_row(xl, rel, msg, msg->kind, lsn, bit, err, errlen);
}

int xl_snapshot_row(Translator *xl, const struct Relation *rel, const struct PgoTuple *tuple,
		    char *err, size_t errlen)
{
	struct PgoMessage msg = {.kind = 'I'};
	msg.change.relid = rel->relid;
	msg.change.has_new = true;
	msg.change.new_tuple = *tuple;
	return change_row(xl, rel, &msg, 'S', 0, OP_SNAPSHOT, err, errlen);
}

int xl_truncate(Translator *xl, const struct Relation *rel, uint64_t lsn, char *err, size_t errlen)
{
	struct Row row = {.rel = rel, .lsn = lsn, .op = 'T'};
	return translate_row(xl, &row, OP_TRUNCATE, err, errlen);
}

/* ---- the outbox ---- */

/* The event an outbox record names: declared with an outbox (that outbox, for a row). */
static struct EventState *outbox_event(Translator *xl, const struct OutboxRecord *rec,
				       const char *table)
{
	for (size_t i = 0; i < xl->nevents; i++) {
		const struct EventDef *def = xl->events[i].def;
		if (def->outbox && def->version == rec->version && strcmp(def->name, rec->event) == 0 &&
		    (!table || strcmp(def->outbox, table) == 0))
			return &xl->events[i];
	}
	return NULL;
}

/*
 * An outbox record that cannot be published: its event's on_error decides;
 * a record of no declared event goes to the dead-letter topic when there
 * is one, and halts otherwise.
 */
static int outbox_failed(Translator *xl, struct EventState *es, const struct OutboxRecord *rec,
			 const struct Row *row, const uint8_t *message, size_t message_len,
			 uint64_t lsn, const char *reason, char *err, size_t errlen)
{
	char at[PGO_LSN_BUFSIZE], line[1024], label[300];

	xl->stats.translation_errors++;
	if (es) {
		es->failed++;
		snprintf(label, sizeof(label), "%s", es->label);
	} else if (rec && rec->event) {
		snprintf(label, sizeof(label), "%s v%d", rec->event, rec->version);
	} else {
		snprintf(label, sizeof(label), "unknown");
	}
	snprintf(line, sizeof(line), "outbox record %s: %s (%s at %s)", label, reason,
		 row ? row->rel->qualname : "logical decoding message", pgo_lsn_format(lsn, at));
	if ((es && es->def->on_error == ON_ERROR_HALT) || !xl->cfg->sink.dead_letter_topic[0]) {
		snprintf(err, errlen, "%s", line);
		return -1;
	}
	log_warning("dead letter: %s", line);
	return dead_letter(xl, rec ? rec->event : NULL, rec ? rec->version : 0, label, row, message,
			   message_len, lsn, line, err, errlen);
}

/* Remember that the transaction had an outbox record for es and key (handover). */
static int note_outbox_key(Translator *xl, struct EventState *es, const struct OutboxRecord *rec,
			   char *err, size_t errlen)
{
	if (held_room(xl, es, sizeof(struct OutboxKey) + rec->key_len, err, errlen) < 0)
		return -1;
	if (xl->nokeys == xl->okeys_cap) {
		size_t cap = xl->okeys_cap ? 2 * xl->okeys_cap : 64;
		struct OutboxKey *k = realloc(xl->okeys, cap * sizeof(*k));
		if (!k) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		xl->okeys = k;
		xl->okeys_cap = cap;
	}
	xl->okeys[xl->nokeys++] = (struct OutboxKey){.es = (size_t)(es - xl->events),
						     .has_key = rec->key != NULL,
						     .key_off = xl->held_bytes.len,
						     .key_len = rec->key_len};
	if (rec->key)
		sb_append(&xl->held_bytes, rec->key, rec->key_len);
	if (!sb_ok(&xl->held_bytes)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Publish one outbox record as its event: the topic, key and CloudEvents
 * attributes a translator event gets (the ce_id from the commit LSN and
 * the place in the transaction), the payload untouched once it is known to
 * be a message of the event as declared.
 */
static int outbox_record(Translator *xl, const struct OutboxRecord *rec, const char *table,
			 const struct Row *row, const uint8_t *message, size_t message_len,
			 uint64_t lsn, char *err, size_t errlen)
{
	char reason[512], id[320];
	struct EventState *es = outbox_event(xl, rec, table);

	if (!es) {
		snprintf(reason, sizeof(reason), "no event %s v%d is declared with %s%s", rec->event,
			 rec->version, table ? "outbox = " : "an outbox", table ? table : "");
		return outbox_failed(xl, NULL, rec, row, message, message_len, lsn, reason, err,
				     errlen);
	}
	if (obx_validate(es->def, rec->payload, rec->payload_len, reason, sizeof(reason)) < 0)
		return outbox_failed(xl, es, rec, row, message, message_len, lsn, reason, err, errlen);
	/* The values, for a sink that prints them; what obx_validate accepts decodes. */
	if (!wire_decode_event(es->def, rec->payload, rec->payload_len, xl->arena, xl->values)) {
		snprintf(reason, sizeof(reason), "payload: does not decode as %s", es->label);
		return outbox_failed(xl, es, rec, row, message, message_len, lsn, reason, err, errlen);
	}
	struct Event ev = {
		.topic = es->def->topic,
		.key = rec->key,
		.key_len = rec->key_len,
		.payload = rec->payload,
		.payload_len = rec->payload_len,
		.def = es->def,
		.values = xl->values,
		.headers = rec->headers,
		.nheaders = rec->nheaders,
	};
	set_ce(xl, &ev, es->type, id, sizeof(id));
	ev.ce.subject = rec->subject;
	ev.ce.dataschema = es->dataschema[0] ? es->dataschema : NULL;
	if (es->def->handover && note_outbox_key(xl, es, rec, err, errlen) < 0)
		return -1;
	xl->stats.outbox_records++;
	return publish(xl, es, &ev, err, errlen);
}

static int outbox_row(Translator *xl, const struct Relation *rel, const struct PgoMessage *msg,
		      uint64_t lsn, char *err, size_t errlen)
{
	char reason[512];
	struct OutboxRecord rec;
	struct Row row = {.rel = rel, .msg = msg, .lsn = lsn, .op = 'I'};
	int rc;

	xl->stats.changes++;
	if (obx_from_row(rel, &msg->change.new_tuple, xl->arena, &rec, reason, sizeof(reason)) < 0)
		rc = outbox_failed(xl, NULL, rec.event ? &rec : NULL, &row, NULL, 0, lsn, reason, err,
				   errlen);
	else
		rc = outbox_record(xl, &rec, rel->qualname, &row, NULL, 0, lsn, err, errlen);
	arena_reset(xl->arena);
	return rc;
}

int xl_message(Translator *xl, const uint8_t *data, size_t len, uint64_t lsn, char *err,
	       size_t errlen)
{
	char reason[512];
	struct OutboxRecord rec;
	int rc;

	if (obx_from_message(data, len, xl->arena, &rec, reason, sizeof(reason)) < 0)
		rc = outbox_failed(xl, NULL, rec.event ? &rec : NULL, NULL, data, len, lsn, reason, err,
				   errlen);
	else
		rc = outbox_record(xl, &rec, NULL, NULL, data, len, lsn, err, errlen);
	arena_reset(xl->arena);
	return rc;
}

int xl_message_refused(Translator *xl, const uint8_t *data, size_t len, uint64_t lsn, char *err,
		       size_t errlen)
{
	struct OutboxRecord rec;
	char reason[512];
	struct EventState *es = NULL;
	bool known = obx_from_message(data, len, xl->arena, &rec, reason, sizeof(reason)) == 0;

	if (known)
		es = outbox_event(xl, &rec, NULL);
	snprintf(reason, sizeof(reason),
		 "not transactional: pg_logical_emit_message(false, ...) is not in commit order with the data; write it with transactional = true");
	/* The event's own policy does not apply: halting on it would stop the stream for good. */
	if (es)
		es->failed++;
	int rc = outbox_failed(xl, NULL, known ? &rec : NULL, NULL, data, len, lsn, reason, err,
			       errlen);
	arena_reset(xl->arena);
	return rc;
}

static int by_event_key(const void *pa, const void *pb)
{
	const struct OutboxKey *a = pa, *b = pb;
	if (a->es != b->es)
		return (a->es > b->es) - (a->es < b->es);
	if (a->has_key != b->has_key)
		return (int)a->has_key - (int)b->has_key;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = n ? memcmp(a->key, b->key, n) : 0;
	return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

int xl_commit(Translator *xl, char *err, size_t errlen)
{
	/* Empty keys and payloads may leave the buffer unallocated. */
	const char *bytes = xl->held_bytes.data ? xl->held_bytes.data : "";
	uint32_t next_index = xl->event_index;
	int rc = 0;

	if (!xl->nheld)
		return 0;
	for (size_t i = 0; i < xl->nokeys; i++)
		xl->okeys[i].key = bytes + xl->okeys[i].key_off;
	if (xl->nokeys)
		qsort(xl->okeys, xl->nokeys, sizeof(*xl->okeys), by_event_key);
	for (size_t i = 0; i < xl->nheld && rc == 0; i++) {
		const struct Held *h = &xl->held[i];
		struct EventState *es = &xl->events[h->es];
		struct OutboxKey probe = {.es = h->es, .has_key = h->has_key,
					  .key = bytes + h->key_off, .key_len = h->key_len};
		if (xl->nokeys && bsearch(&probe, xl->okeys, xl->nokeys, sizeof(*xl->okeys), by_event_key)) {
			es->suppressed++;
			xl->stats.handover_suppressed++;
			continue;
		}
		const uint8_t *payload = (const uint8_t *)bytes + h->payload_off;
		if (!wire_decode_event(es->def, payload, h->payload_len, xl->commit_arena, xl->values)) {
			snprintf(err, errlen, "event %s: a held event does not decode again", es->label);
			rc = -1;
			break;
		}
		char id[320];
		struct Event ev = {
			.topic = es->def->topic,
			.key = h->has_key ? bytes + h->key_off : NULL,
			.key_len = h->key_len,
			.payload = payload,
			.payload_len = h->payload_len,
			.def = es->def,
			.values = xl->values,
		};
		xl->event_index = h->index;
		set_ce(xl, &ev, es->type, id, sizeof(id));
		if (h->has_subject)
			ev.ce.subject = arena_strndup(xl->commit_arena, bytes + h->subject_off, h->subject_len);
		ev.ce.dataschema = es->dataschema[0] ? es->dataschema : NULL;
		es->held_published++;
		rc = publish(xl, es, &ev, err, errlen);
		arena_reset(xl->commit_arena);
	}
	arena_reset(xl->commit_arena);
	xl->event_index = next_index;
	xl->nheld = 0;
	xl->nokeys = 0;
	return rc;
}

void xl_handover_report(Translator *xl)
{
	for (size_t i = 0; i < xl->nevents; i++) {
		struct EventState *es = &xl->events[i];
		if (!es->def->handover)
			continue;
		uint64_t suppressed = es->suppressed - es->reported_suppressed;
		uint64_t published = es->held_published - es->reported_published;
		if (!suppressed && !published)
			continue;
		log_info("event %s: handover: %" PRIu64 " translator events replaced by the outbox, %" PRIu64 " published from the translator since the last report%s",
			 es->label, suppressed, published,
			 published ? "" : "; the translator is idle: remove it once no writer needs it");
		es->reported_suppressed = es->suppressed;
		es->reported_published = es->held_published;
	}
}
