/* Translators: row changes to versioned domain events, as the configuration declares them. */
#ifndef TABLECAST_SRC_TRANSLATOR_H
#define TABLECAST_SRC_TRANSLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "contract.h"
#include "encoder.h"
#include "pgoutput.h"
#include "relcache.h"
#include "value.h"

typedef struct Translator Translator;

/* One event ready for a sink; everything in it is valid only during the emit call. */
struct Event {
	const char *topic;
	const char *key; /* NULL: no key */
	size_t key_len;
	const uint8_t *payload; /* the protobuf message (or CloudEvent in structured mode) */
	size_t payload_len;
	struct CloudEventAttrs ce;
	/*
	 * The record's content-type: the data's media type in binary mode,
	 * "application/cloudevents+protobuf" in structured mode.
	 */
	const char *content_type;
	const struct EventDef *def; /* NULL for a dead letter */
	const struct Value *values; /* def->nfields values, for printing */
	const char *error; /* dead letters: why the row could not become its event */
	const char *failed_event; /* dead letters: "name v<version>" */
	/*
	 * TRUNCATE: one record per partition of the topic, so that a consumer
	 * of any partition sees it in order with the keyed events it reads.
	 */
	bool all_partitions;
	/* Extra Kafka headers of an outbox record: name, value pairs. */
	const char *const *headers;
	size_t nheaders;
};

/* Hand an event to the sink. Returns 0, or -1 with a reason in err (stops the run). */
typedef int (*xl_emit_fn)(void *ctx, const struct Event *ev, char *err, size_t errlen);

/* The transaction changes belong to, from its BEGIN message. */
struct TxnInfo {
	uint64_t commit_lsn; /* Begin's final LSN: the commit record's LSN */
	uint32_t xid;
	int64_t commit_time; /* µs since 2000-01-01 */
};

struct XlStats {
	uint64_t changes; /* row changes looked at */
	uint64_t events; /* events emitted */
	uint64_t dead_letters;
	uint64_t translation_errors; /* rows that could not become an event (either policy) */
	uint64_t toast_unavailable; /* unchanged TOAST values with no old value to fill in */
	uint64_t outbox_records; /* outbox rows and messages published as their events */
	uint64_t outbox_ignored; /* updates and deletes of outbox rows: not records */
	uint64_t handover_suppressed; /* translator events replaced by an outbox record */
};

Translator *xl_new(const struct Config *cfg, xl_emit_fn emit, void *ctx);
void xl_free(Translator *xl);

/*
 * Compare relations with ctr (the record in the state directory, which
 * the caller owns and which outlives the translator) instead of a record
 * in memory; rels names custom types in messages (may be NULL).
 */
void xl_set_contract(Translator *xl, Contract *ctr, const RelCache *rels);

/*
 * A new replication session: the relation cache starts over with the same
 * OIDs and generations, so bind every event again at its next row.
 */
void xl_rebind(Translator *xl);

/* A new transaction: event numbering (the ce_id suffix) restarts. */
void xl_begin(Translator *xl, const struct TxnInfo *txn);

/*
 * Translate one I, U or D message of rel at lsn into every event declared
 * for it. A row that cannot become an event goes to the dead-letter topic
 * or, with on_error = "halt", makes this return -1 with the reason in err;
 * nothing past it may be confirmed then.
 */
int xl_change(Translator *xl, const struct Relation *rel, const struct PgoMessage *msg,
	      uint64_t lsn, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Rows read by a snapshot or backfill follow: their ce_ids are
 * "<id_base>-<n>", ce_time is time_us (µs since 1970), and they carry the
 * tablecastsnapshot extension with kind ("initial" or "backfill").
 * xl_begin ends this.
 */
void xl_begin_read(Translator *xl, const char *id_base, int64_t time_us, const char *kind);

/*
 * Translate one row of rel as read by a snapshot (tuple in rel's column
 * order) into every event declared on = ["snapshot"]; errors as xl_change.
 */
int xl_snapshot_row(Translator *xl, const struct Relation *rel, const struct PgoTuple *tuple,
		    char *err, size_t errlen) __attribute__((warn_unused_result));

/* A TRUNCATE of rel: events declared on = ["truncate"]. */
int xl_truncate(Translator *xl, const struct Relation *rel, uint64_t lsn, char *err,
		size_t errlen) __attribute__((warn_unused_result));

/*
 * The transaction's COMMIT: the translator's events of handover events
 * that were held back are published now, in the order they were made,
 * except those whose event and key had an outbox record in the same
 * transaction. Errors as xl_change.
 */
int xl_commit(Translator *xl, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * A transactional logical decoding message with the prefix
 * OBX_MESSAGE_PREFIX at lsn: an outbox record. Errors as xl_change; a
 * record that cannot be published follows its event's on_error (or, for
 * an unknown event, goes to the dead-letter topic when there is one).
 */
int xl_message(Translator *xl, const uint8_t *data, size_t len, uint64_t lsn, char *err,
	       size_t errlen) __attribute__((warn_unused_result));

/*
 * A logical decoding message with the prefix OBX_MESSAGE_PREFIX that is
 * not transactional: it cannot be in commit order with the data, so it is
 * refused, to the dead-letter topic or (without one) by halting. Call it
 * between xl_begin and xl_commit of a transaction of its own.
 */
int xl_message_refused(Translator *xl, const uint8_t *data, size_t len, uint64_t lsn, char *err,
		       size_t errlen) __attribute__((warn_unused_result));

/*
 * Log, per handover event, the translator events suppressed and
 * published since the previous call (nothing when neither happened).
 */
void xl_handover_report(Translator *xl);

const struct XlStats *xl_stats(const Translator *xl);

/* Per event definition i: translator events suppressed by an outbox record (handover). */
uint64_t xl_event_suppressed(const Translator *xl, size_t i);

/* Per event definition i (as in the configuration): events emitted and rows that failed. */
void xl_event_stats(const Translator *xl, size_t i, uint64_t *emitted, uint64_t *failed);

#endif
