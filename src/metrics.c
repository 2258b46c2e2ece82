/* Metrics: the Prometheus text exposition and the /readyz answer, from the pipeline's state. */
#include "autoconf.h"

#include <stdio.h>

#include "audit.h"
#include "histogram.h"
#include "metrics.h"
#include "mono.h"

static void metric(struct StrBuf *sb, const char *name, const char *type, const char *help,
		   double value)
{
	sb_printf(sb, "# HELP tablecast_%s %s\n# TYPE tablecast_%s %s\ntablecast_%s %.17g\n", name,
		  help, name, type, name, value);
}

/* Commit to Kafka acknowledgement: a Prometheus histogram, and quantiles since start. */
static void latency_metrics(struct StrBuf *sb, const struct Histogram *h)
{
	static const uint64_t bounds_us[] = {1000,   2500,   5000,    10000,   25000,   50000,  100000,
					     250000, 500000, 1000000, 2500000, 5000000, 10000000};
	const char *name = "tablecast_commit_to_ack_seconds";

	sb_printf(sb, "# HELP %s PostgreSQL commit to Kafka acknowledgement, per event.\n"
		      "# TYPE %s histogram\n", name, name);
	for (size_t i = 0; i < sizeof(bounds_us) / sizeof(bounds_us[0]); i++)
		sb_printf(sb, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds_us[i] / 1e6,
			  (unsigned long long)hist_count_le(h, bounds_us[i]));
	sb_printf(sb, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		  (unsigned long long)h->count, name, (double)h->sum_us / 1e6, name,
		  (unsigned long long)h->count);
	metric(sb, "commit_to_ack_p50_seconds", "gauge", "Median commit-to-ack latency since start.",
	       (double)hist_quantile(h, 0.5) / 1e6);
	metric(sb, "commit_to_ack_p99_seconds", "gauge", "99th percentile commit-to-ack latency since start.",
	       (double)hist_quantile(h, 0.99) / 1e6);
	metric(sb, "commit_to_ack_max_seconds", "gauge", "Longest commit-to-ack latency since start.",
	       (double)h->max_us / 1e6);
}

/* A counter with one sample per event type and version: emitted, or failed rows. */
static void per_event(const struct MetricsView *v, struct StrBuf *sb, const char *name,
		      const char *help, bool failures)
{
	const struct Config *events = v->events;

	sb_printf(sb, "# HELP tablecast_%s %s\n# TYPE tablecast_%s counter\n", name, help, name);
	for (size_t i = 0; i < events->nevents; i++) {
		uint64_t emitted, failed;
		xl_event_stats(v->xl, i, &emitted, &failed);
		sb_printf(sb, "tablecast_%s{event=\"%s\",version=\"%d\"} %llu\n", name,
			  events->events[i].name, events->events[i].version,
			  (unsigned long long)(failures ? failed : emitted));
	}
}

void metrics_render(const struct MetricsView *v, struct StrBuf *sb)
{
	const struct Config *cfg = v->cfg;

	metric(sb, "changes_total", "counter",
	       "Row changes read from the replication stream (a TRUNCATE once per table; not again when the server repeats what the sink has).",
	       (double)v->changes);
	metric(sb, "start_time_seconds", "gauge", "When this process started, in Unix seconds.",
	       (double)v->started_s);
	metric(sb, "streaming", "gauge", "1 while the replication stream is open.", v->streaming ? 1 : 0);
	char why[256];
	metric(sb, "ready", "gauge", "1 when /readyz answers 200.", metrics_ready(v, why, sizeof(why)) ? 1 : 0);
	sb_printf(sb, "# HELP tablecast_halted 1 after a halt that needs a person (kind: translation, publication, other), until a run confirms past it.\n"
		      "# TYPE tablecast_halted gauge\n");
	if (v->halted)
		sb_printf(sb, "tablecast_halted{kind=\"%s\"} 1\n", halt_kind_name(v->halt_kind));
	else
		sb_printf(sb, "tablecast_halted 0\n");
	metric(sb, "source_released", "gauge",
	       "1 while the replication connection is closed because Kafka acknowledges nothing.",
	       v->released ? 1 : 0);
	metric(sb, "skipped_transactions_total", "counter",
	       "Transactions the server sent again that Kafka already had.",
	       (double)v->skipped_total);
	metric(sb, "sink_connected", "gauge", "1 when the sink answers.",
	       !v->kafka || ksink_reachable(v->kafka) ? 1 : 0);
	metric(sb, "confirmed_lsn", "gauge", "LSN confirmed to PostgreSQL, as a byte position.",
	       (double)ckpt_confirmed(v->ckpt));
	metric(sb, "server_wal_end_lsn", "gauge", "The server's end of WAL at its latest message.",
	       (double)v->server_wal_end);
	metric(sb, "slot_lag_bytes", "gauge", "WAL the slot holds: server WAL end minus confirmed.",
	       (double)v->slot_lag);
	metric(sb, "slot_lag_limit_bytes", "gauge", "metrics.max_slot_lag.",
	       (double)cfg->metrics.max_slot_lag);
	metric(sb, "inflight_transactions", "gauge", "Transactions read and not yet confirmed.",
	       (double)ckpt_in_flight(v->ckpt));
	metric(sb, "inflight_events", "gauge", "Events handed to the sink and not yet acknowledged.",
	       (double)ckpt_pending_events(v->ckpt));
	metric(sb, "kafka_queue_messages", "gauge", "Messages in librdkafka's queue.",
	       v->kafka ? (double)ksink_outstanding(v->kafka) : 0);
	if (v->kafka)
		latency_metrics(sb, ksink_latency(v->kafka));
	const struct SnapshotStats *snap = v->snapshot ? snap_stats(v->snapshot) : v->snapshot_stats;
	metric(sb, "snapshot_running", "gauge", "1 while an initial snapshot is being read.",
	       v->snapshot ? 1 : 0);
	metric(sb, "snapshot_rows_total", "counter", "Rows read by the initial snapshot.",
	       (double)snap->rows);
	metric(sb, "snapshot_rows_estimated", "gauge",
	       "Rows the snapshot tables hold, by the planner's statistics.", snap->rows_estimate);
	metric(sb, "snapshot_chunks", "gauge", "Chunks the snapshot is read in.",
	       (double)snap->chunks);
	metric(sb, "snapshot_chunks_done", "gauge", "Snapshot chunks acknowledged by the sink.",
	       (double)snap->chunks_done);
	if (v->backfill) {
		const struct BackfillStats *bs = bf_stats(v->backfill);
		metric(sb, "backfill_rows_total", "counter", "Rows emitted by backfills.",
		       (double)bs->rows);
		metric(sb, "backfill_rows_skipped_total", "counter",
		       "Backfill rows dropped because the stream had a newer change.",
		       (double)bs->skipped);
		metric(sb, "backfill_chunks_total", "counter", "Backfill chunks emitted.",
		       (double)bs->chunks);
		metric(sb, "backfill_requests_pending", "gauge", "Backfill requests waiting or running.",
		       (double)bs->pending);
		metric(sb, "backfill_requests_completed_total", "counter", "Backfill requests finished.",
		       (double)bs->completed);
		metric(sb, "backfill_requests_failed_total", "counter",
		       "Backfill requests refused or failed (logged with the reason; not retried).",
		       (double)bs->failed);
	}
	if (v->audit)
		audit_gauges_render(v->audit, v->events, sb);
	metric(sb, "seconds_since_last_commit", "gauge",
	       "Seconds since the latest transaction arrived (-1 before the first).",
	       v->last_commit_ms ? (double)(mono_ms() - v->last_commit_ms) / 1000.0 : -1);
	if (!v->xl)
		return;
	const struct XlStats *st = xl_stats(v->xl);
	metric(sb, "dead_letters_total", "counter", "Rows published to the dead-letter topic.",
	       (double)st->dead_letters);
	metric(sb, "translation_errors_total", "counter", "Rows that could not become an event.",
	       (double)st->translation_errors);
	metric(sb, "toast_unavailable_total", "counter",
	       "Unchanged TOAST values with no old value to fill in.",
	       (double)st->toast_unavailable);
	metric(sb, "outbox_records_total", "counter",
	       "Outbox rows and messages published as their events.", (double)st->outbox_records);
	metric(sb, "outbox_rows_ignored_total", "counter",
	       "Updates and deletes of outbox rows (not records).", (double)st->outbox_ignored);
	per_event(v, sb, "events_total", "Events handed to the sink, per event type.", false);
	per_event(v, sb, "event_failures_total",
		  "Rows that failed to become an event, per event type.", true);
	const struct Config *events = v->events;
	bool any = false;
	for (size_t i = 0; i < events->nevents; i++) {
		if (!events->events[i].handover)
			continue;
		if (!any)
			sb_printf(sb, "# HELP tablecast_handover_suppressed_total Translator events replaced by an outbox record in the same transaction (handover = \"outbox\").\n# TYPE tablecast_handover_suppressed_total counter\n");
		any = true;
		sb_printf(sb, "tablecast_handover_suppressed_total{event=\"%s\",version=\"%d\"} %llu\n",
			  events->events[i].name, events->events[i].version,
			  (unsigned long long)xl_event_suppressed(v->xl, i));
	}
}

bool metrics_ready(const struct MetricsView *v, char *reason, size_t reasonlen)
{
	if (!v->streaming) {
		snprintf(reason, reasonlen, "not streaming");
		return false;
	}
	if (v->kafka && !ksink_reachable(v->kafka)) {
		snprintf(reason, reasonlen, "kafka unreachable");
		return false;
	}
	if (v->slot_lag > (uint64_t)v->cfg->metrics.max_slot_lag) {
		snprintf(reason, reasonlen, "slot lag %llu bytes over metrics.max_slot_lag",
			 (unsigned long long)v->slot_lag);
		return false;
	}
	return true;
}
