/*
 * pipeline_internal.h: the poll loop's state, shared by pipeline.c (the loop)
 * and pipeline_snapshot.c (the initial snapshot's adapter and wait loop).
 * Nothing outside the pipeline includes it: pipeline.h is the interface.
 */
#ifndef TABLECAST_SRC_PIPELINE_INTERNAL_H
#define TABLECAST_SRC_PIPELINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "audit.h"
#include "backfill.h"
#include "checkpoint.h"
#include "contract.h"
#include "guard.h"
#include "halt.h"
#include "http.h"
#include "json_sink.h"
#include "kafka_sink.h"
#include "pipeline.h"
#include "relcache.h"
#include "resume.h"
#include "snapshot.h"
#include "source.h"
#include "translator.h"

struct Pipeline {
	const struct RunOptions *opts;
	Source *src;
	Checkpoint *ckpt;
	RelCache *rels;
	Arena *arena; /* reset after every message */
	JsonSink *sink; /* stdout or file; NULL with Kafka */
	KafkaSink *kafka;
	Translator *xl; /* NULL when the sink takes raw changes */
	struct Config *reloaded; /* the events' configuration after a SIGHUP; owned */
	bool ready; /* systemd was told: streaming, sink reachable */
	Http *http; /* metrics and health; NULL when off */
	uint64_t server_wal_end; /* the server's WAL end, from its latest frame */
	int64_t last_commit_ms; /* monotonic time of the latest COMMIT read */
	uint64_t changes; /* row changes read */
	bool lag_warned;
	bool stopping; /* a stop request interrupted a wait for the sink */

	/*
	 * Resuming exactly. The server may stream from an older point than the
	 * one tablecast confirmed (a reconnect, PostgreSQL 15 forgetting the
	 * slot's position at restart), so every transaction it sends is checked:
	 * one that commits before skip_until is in Kafka already, or will be
	 * from librdkafka's queue, and is skipped whole. skip_until only grows,
	 * except in exactly-once mode, where an aborted Kafka transaction takes
	 * its events back and it falls to what was committed.
	 */
	uint64_t skip_until;
	bool skipping; /* the current transaction is one of those */
	uint64_t resume_lsn; /* what Kafka has by the offsets topic or the state file: confirmable */
	struct ResumeIdentity identity; /* of the server, once connected */
	bool resume_loaded; /* the state file was read (at the first connect) */
	uint64_t resume_saved; /* the LSN the state file holds */
	int64_t next_resume_save_ms;
	bool resume_save_failed;
	bool first_txn; /* no transaction yet since START_REPLICATION */
	uint64_t skipped, skipped_first, skipped_last; /* since the connect */
	uint64_t skipped_total;

	/*
	 * Releasing the walsender: a walsender that is shutting down waits until
	 * its client confirms everything it sent, and tablecast confirms only
	 * what Kafka acknowledged. When Kafka acknowledges nothing for
	 * source.release_after, the replication connection is closed so that a
	 * PostgreSQL shutdown or restart can proceed; librdkafka keeps its queue
	 * and tablecast reconnects at the first acknowledgement.
	 */
	bool releasing; /* the sink stalled: end the session */
	bool released; /* the session ended for that; waiting for an acknowledgement */
	int64_t released_ms;
	int64_t silent_since_ms; /* when Kafka last acknowledged, as of the release */

	bool streaming; /* START_REPLICATION succeeded on p->src: status updates may flow */
	Snapshot *snapshot; /* while one runs */
	Backfill *backfill; /* NULL without source.signal_table */
	bool backfill_ready; /* the signal table is checked */
	struct SnapshotStats snapshot_stats; /* of the latest */
	bool snapshot_done; /* snapshot_only: finished */

	Contract *ctr; /* the source schema events were validated against; NULL without events */
	Guard *guard; /* publication membership; NULL without events */
	int64_t next_guard_ms;
	AuditGauges *audit; /* metrics.audit_interval: who uses the tables; NULL when off */
	int64_t next_audit_ms;
	int64_t next_handover_report_ms;
	char audit_error[512]; /* the last failure logged, so a lasting one is logged once */
	bool guard_halted; /* the guard stopped the run: confirm nothing more */

	/*
	 * Halts, for alerts and `tablecast status`: a process that halts exits
	 * within seconds, so the reason is also kept in <state_dir>/<slot>.halt
	 * and the next start reports it (tablecast_halted) until it confirms past
	 * the position the halt left the slot at.
	 */
	int64_t started_s; /* wall-clock start, tablecast_start_time_seconds */
	bool halted; /* this run halted, or the previous one did and this one is not past it */
	enum halt_kind halt_kind;
	uint64_t halt_lsn; /* confirmed when it halted */
	bool translation_failed; /* the latest fatal error is a row that could not become an event */

	/*
	 * Active/standby. Every instance of a configuration connects and asks
	 * for the slot's start-up lock (src_acquire); the one that gets it
	 * streams, the others are standbys: they keep their connection, ask
	 * again every source.standby_poll_interval and change nothing on the
	 * server, in Kafka or in state_dir meanwhile. What the previous active
	 * wrote (the resume position, the offsets topic, snapshot and backfill
	 * progress) is read only after the lock is taken, and an exactly-once
	 * producer is created only then: its transactional.id fences the
	 * previous active's, which a standby must not do to a live one.
	 */
	Source *waiting; /* a standby's connection; NULL otherwise */
	bool standby; /* another process holds the slot */
	int64_t standby_since_ms;
	bool checked; /* the checks before anything is created ran (connect_source) */

	bool streamed; /* a session has started once: later failures are retried */
	int backoff_ms;
	int64_t next_connect_ms;
	int64_t next_status_ms;
	int64_t last_status_ms;
	bool reply_now;

	bool in_txn;
	uint64_t txn_seq;
	uint32_t txn_events; /* events the open transaction handed to the sink */
	struct ChangeOrigin origin;
	uint64_t received_lsn;
	uint64_t sent_flush_lsn;

	char err[1024];
};

/* Hand one event of ring entry seq to the sink. */
int pipe_produce_event(struct Pipeline *p, const struct Event *ev, uint64_t seq, char *err,
		       size_t errlen);

/* Wait up to the flush timeout for Kafka's outstanding deliveries, still answering the server. */
void pipe_drain_kafka(struct Pipeline *p);

/* Read the owed snapshot before streaming (pipeline_snapshot.c). */
enum src_status pipe_snapshot_run(struct Pipeline *p);

#endif
