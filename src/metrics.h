/* Metrics: the Prometheus text exposition and the /readyz answer, from the pipeline's state. */
#ifndef TABLECAST_SRC_METRICS_H
#define TABLECAST_SRC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "backfill.h"
#include "checkpoint.h"
#include "config.h"
#include "halt.h"
#include "kafka_sink.h"
#include "snapshot.h"
#include "strbuf.h"
#include "translator.h"

/*
 * What the pipeline shows, as of the moment it is rendered. The modules are
 * only read; a NULL one (no Kafka, no translator, no snapshot running, no
 * backfill, no audit gauges) leaves its samples out.
 */
struct MetricsView {
	const struct Config *cfg; /* the configuration the run started with: limits */
	const struct Config *events; /* the events' configuration: cfg, or what a SIGHUP loaded */
	bool streaming; /* the replication stream is open */
	Checkpoint *ckpt;
	KafkaSink *kafka;
	Translator *xl;
	Snapshot *snapshot; /* while one runs */
	const struct SnapshotStats *snapshot_stats; /* of the latest, when none runs */
	Backfill *backfill;
	AuditGauges *audit;
	uint64_t changes; /* row changes read */
	int64_t started_s; /* wall-clock start */
	bool halted;
	enum halt_kind halt_kind;
	bool released; /* the replication connection is closed until Kafka acknowledges */
	uint64_t skipped_total;
	uint64_t server_wal_end;
	uint64_t slot_lag; /* server WAL end minus confirmed */
	int64_t last_commit_ms; /* monotonic time of the latest COMMIT read; 0 before */
};

/* The Prometheus text exposition, appended to sb. */
void metrics_render(const struct MetricsView *v, struct StrBuf *sb);

/*
 * /readyz: streaming, sink reachable, slot lag under metrics.max_slot_lag.
 * false with the first reason that fails in reason.
 */
bool metrics_ready(const struct MetricsView *v, char *reason, size_t reasonlen);

#endif
