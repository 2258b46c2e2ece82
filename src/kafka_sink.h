/* Kafka sink: events to Kafka with librdkafka, acknowledged into the checkpoint ring. */
#ifndef TABLECAST_SRC_KAFKA_SINK_H
#define TABLECAST_SRC_KAFKA_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "config.h"
#include "translator.h"

/*
 * An idempotent producer (acks=all, ordered retries). Each event is
 * produced with its transaction's checkpoint sequence number as opaque;
 * the delivery report acknowledges it in the ring, so the confirmed LSN
 * moves only over what the brokers have. A message that finally fails is
 * never skipped: the sink turns fatal and the run stops unconfirmed.
 */
typedef struct KafkaSink KafkaSink;

struct rd_kafka_conf_s;

/*
 * Apply sink.kafka ("name=value", verbatim) to a librdkafka configuration.
 * skip_unknown: ignore properties this client type rejects (a consumer
 * reading with a producer's settings). Returns 0, or -1 with err.
 */
int ksink_apply_properties(struct rd_kafka_conf_s *conf, const struct Config *cfg,
			   bool skip_unknown, char *err, size_t errlen)
	__attribute__((warn_unused_result));

KafkaSink *ksink_new(const struct Config *cfg, Checkpoint *ckpt, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void ksink_free(KafkaSink *sink);

/* Result of ksink_produce. */
enum ksink_status {
	KSINK_OK = 0,
	KSINK_FULL = 1, /* the local queue is full: serve deliveries, then retry */
	KSINK_FAILED = -1, /* see ksink_error */
};

/* Produce ev for transaction seq, with the CloudEvents ce_ headers and its content-type. */
enum ksink_status ksink_produce(KafkaSink *sink, const struct Event *ev, uint64_t seq)
	__attribute__((warn_unused_result));

/* A file descriptor that becomes readable when delivery reports wait; poll it. */
int ksink_fd(const KafkaSink *sink);

/* Serve waiting delivery reports, waiting up to timeout_ms for one. */
void ksink_poll(KafkaSink *sink, int timeout_ms);

/* True once a delivery failed for good or the producer hit a fatal error; err says why. */
bool ksink_failed(const KafkaSink *sink, char *err, size_t errlen);

/* Whether a broker answers (a metadata request within 100 ms). */
bool ksink_reachable(KafkaSink *sink);

/* Messages produced and not yet reported. */
size_t ksink_outstanding(const KafkaSink *sink);

/*
 * How long events have been waiting with no acknowledgement at all (CLOCK_MONOTONIC
 * milliseconds; 0 when none wait). A slow broker that still acknowledges is
 * not stalled; one that is down is.
 */
int64_t ksink_stalled_ms(const KafkaSink *sink, int64_t now_ms);

/* CLOCK_MONOTONIC milliseconds of the latest successful delivery report (0 = none yet). */
int64_t ksink_last_ack_ms(const KafkaSink *sink);

/* Wait up to timeout_ms for every outstanding message; 0 when all were reported. */
int ksink_flush(KafkaSink *sink, int timeout_ms);

/*
 * Exactly-once mode (sink.exactly_once): events go into Kafka transactions,
 * each also writing (slot -> end LSN) to the offsets topic, and are
 * acknowledged in the ring only when their transaction commits. Several
 * PostgreSQL transactions share one Kafka transaction (sink.transaction_ms).
 */
bool ksink_transactional(const KafkaSink *sink);

/* PostgreSQL transaction seq, ending at end_lsn, is complete: its events belong to the open batch. */
void ksink_txn_add(KafkaSink *sink, uint64_t seq, uint64_t end_lsn);

/* True when the open batch has collected long enough to commit. */
bool ksink_txn_due(const KafkaSink *sink, int64_t now_ms);

/*
 * Write the offsets record and start committing the open Kafka
 * transaction; on success every event of its PostgreSQL transactions is
 * acknowledged. The commit waits for the coordinator, which a broker
 * outage can make take minutes, so it only starts here and runs one short
 * step: ksink_poll and ksink_produce advance it, and nothing new is
 * produced (KSINK_FULL) until it is over. Returns 0 when committed (or
 * nothing was open), 1 while it is under way, or -1 with err: the run stops
 * and restarts from the confirmed LSN.
 */
int ksink_txn_commit(KafkaSink *sink, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Advance a commit or abort under way, blocking at most timeout_ms: 0 over, 1 under way, -1 failed. */
int ksink_txn_step(KafkaSink *sink, int timeout_ms, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Commit the open transaction, or finish the end under way, waiting up to timeout_ms (shutdown). */
int ksink_txn_finish(KafkaSink *sink, int timeout_ms, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A commit or abort is under way. */
bool ksink_txn_ending(const KafkaSink *sink);

/* End LSN of the latest Kafka transaction this process committed (0 = none). */
uint64_t ksink_txn_committed_lsn(const KafkaSink *sink);

/*
 * Start aborting the open Kafka transaction (its events were never visible
 * to read_committed consumers); the abort finishes like a commit. A commit
 * already under way is left to finish.
 */
void ksink_txn_abort(KafkaSink *sink);

/*
 * The end LSN the offsets topic records as committed for this slot (0 when
 * none), read with isolation.level=read_committed. Returns 0, or -1 with err.
 */
int ksink_committed_lsn(const struct Config *cfg, uint64_t *lsn, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Commit-to-acknowledgement latency: per event, from the PostgreSQL commit
 * time to its delivery report (exactly-once: per transaction, to the Kafka
 * commit). Snapshot rows are not counted.
 */
struct Histogram;
const struct Histogram *ksink_latency(const KafkaSink *sink);

#endif
