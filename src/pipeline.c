/* Pipeline: the one poll loop that moves changes from the source through the sink. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "audit.h"
#include "backfill.h"
#include "checkpoint.h"
#include "contract.h"
#include "daemon.h"
#include "guard.h"
#include "halt.h"
#include "http.h"
#include "json_sink.h"
#include "kafka_sink.h"
#include "log.h"
#include "metrics.h"
#include "mono.h"
#include "outbox.h"
#include "pgoutput.h"
#include "pipeline.h"
#include "pipeline_internal.h"
#include "relcache.h"
#include "resume.h"
#include "snapshot.h"
#include "source.h"
#include "translator.h"

/* Frames handled per wake-up before timers get a look in. */
#define FRAMES_PER_ROUND 4096
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* A newly confirmed LSN is reported this soon, without a status message per transaction. */
#define CONFIRM_DELAY_MS 200
/* The resume state file follows the confirmed LSN at most this often (one fsync each). */
#define RESUME_SAVE_MS 200
/* Exactly-once: how often a Kafka commit under way is advanced while WAL waits. */
#define TXN_WAIT_MS 50
/* Handover: suppressed translator events are logged this often (and at exit). */
#define HANDOVER_REPORT_MS 60000


/* Write the resume state when the confirmed LSN moved (at most every RESUME_SAVE_MS unless forced). */
static void save_resume(struct Pipeline *p, bool force)
{
	char err[1024];
	uint64_t lsn = ckpt_confirmed(p->ckpt);

	if (!p->identity.system_id || lsn == p->resume_saved || (!force && mono_ms() < p->next_resume_save_ms))
		return;
	p->next_resume_save_ms = mono_ms() + RESUME_SAVE_MS;
	if (rsm_save(p->opts->cfg, &p->identity, lsn, err, sizeof(err)) < 0) {
		if (!p->resume_save_failed)
			log_warning("%s; a restart resumes from the slot's position and may repeat events",
				    err);
		p->resume_save_failed = true;
		return;
	}
	p->resume_save_failed = false;
	p->resume_saved = lsn;
}

/*
 * Read the state file at the first connect. A slot created just now owes
 * nothing older; a file that cannot be trusted is ignored, which repeats
 * events at worst.
 */
static void load_resume(struct Pipeline *p)
{
	char err[1024], lsn_text[PGO_LSN_BUFSIZE], server[PGO_LSN_BUFSIZE];
	uint64_t lsn;

	p->identity = (struct ResumeIdentity){.system_id = src_system_id(p->src),
					      .timeline = src_timeline(p->src),
					      .slot = p->opts->cfg->source.slot};
	if (p->resume_loaded)
		return;
	p->resume_loaded = true;
	if (src_created_slot(p->src))
		return;
	int rc = rsm_load(p->opts->cfg, &p->identity, &lsn, err, sizeof(err));
	if (rc < 0) {
		log_warning("resume state %s: ignored; resuming from the slot's position, events Kafka has may be sent again",
			    err);
		return;
	}
	if (rc == 0)
		return;
	if (src_server_lsn(p->src) && lsn > src_server_lsn(p->src)) {
		log_warning("resume state: acked_lsn %s is past the server's WAL (%s): a restored backup? ignored; resuming from the slot's position",
			    pgo_lsn_format(lsn, lsn_text), pgo_lsn_format(src_server_lsn(p->src), server));
		return;
	}
	p->resume_saved = lsn;
	if (lsn > p->resume_lsn)
		p->resume_lsn = lsn;
}

/* For messages: who has the events. */
static const char *sink_name(const struct Pipeline *p)
{
	return p->kafka ? "Kafka" : "the sink";
}

/* Log the transactions skipped since the connect, once the skipping is over. */
static void skipped_done(struct Pipeline *p)
{
	char first[PGO_LSN_BUFSIZE], last[PGO_LSN_BUFSIZE];

	if (!p->skipped)
		return;
	log_info("skipped %" PRIu64 " transactions committed from %s to %s: %s already has their events",
		 p->skipped, pgo_lsn_format(p->skipped_first, first),
		 pgo_lsn_format(p->skipped_last, last), sink_name(p));
	p->skipped = 0;
}

/* A session ended: drop what the server will send again. */
static void end_session(struct Pipeline *p)
{
	src_close(p->src);
	p->src = NULL;
	p->streaming = false;
	if (p->backfill)
		bf_reset(p->backfill);
	if (p->kafka && ksink_transactional(p->kafka)) {
		/*
		 * A batch that holds part of the open PostgreSQL transaction is
		 * aborted; one of complete transactions is committed. Either ends
		 * in the background (a broker may be away), and the next session
		 * starts only once it has (see pipe_run). Everything unconfirmed
		 * comes again; what the commit covers is skipped then
		 * (connect_source).
		 */
		char why[512];
		if (p->in_txn && p->txn_events > 0)
			ksink_txn_abort(p->kafka);
		else if (ksink_txn_commit(p->kafka, why, sizeof(why)) < 0)
			log_warning("%s", why);
		ckpt_clear(p->ckpt);
		p->in_txn = false;
		/* Only what a committed Kafka transaction holds may be skipped when it comes again. */
		p->skip_until = ckpt_confirmed(p->ckpt) > p->resume_lsn ? ckpt_confirmed(p->ckpt)
									  : p->resume_lsn;
	}
	/*
	 * The open transaction comes again from the server, whole. Its events
	 * that the sink holds are not waited for (the sink may be down): they
	 * are delivered as duplicates and confirm nothing.
	 */
	if (p->in_txn)
		ckpt_drop_open(p->ckpt);
	p->in_txn = false;
	p->skipping = false;
	skipped_done(p);
	save_resume(p, true);
}

/* A session ended by a failure: wait before reconnecting. */
static void disconnect(struct Pipeline *p)
{
	char lsn[PGO_LSN_BUFSIZE];

	end_session(p);

	/* Full jitter: a fleet of instances must not reconnect in lockstep. */
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	int wait = p->backoff_ms / 2 + rand() % (p->backoff_ms / 2 + 1);
	p->next_connect_ms = mono_ms() + wait;
	log_warning("reconnecting in %d ms; resuming after %s", wait,
		    pgo_lsn_format(ckpt_confirmed(p->ckpt), lsn));
}

static int backfill_produce(void *ctx, const struct Event *ev, char *err, size_t errlen);

/* Ask the publication guard now; a halt or failure is fatal, a catalog out of reach is not. */
static enum src_status guard_check(struct Pipeline *p)
{
	if (!p->guard)
		return SRC_OK;
	enum grd_status gs = grd_check(p->guard, p->err, sizeof(p->err));
	p->next_guard_ms =
		mono_ms() + grd_next_check_ms(p->guard, p->opts->cfg->source.guard_interval_ms);
	switch (gs) {
	case GRD_OK:
	case GRD_UNKNOWN:
		return SRC_OK;
	case GRD_UNREACHABLE: {
		/* Release the walsender too: a server that is stopping must not wait for us. */
		size_t n = strlen(p->err);
		snprintf(p->err + n, sizeof(p->err) - n,
			 "; closing the replication connection as well, so that a server that is stopping is not held");
		return SRC_RETRY;
	}
	case GRD_HALT:
		p->guard_halted = true;
		return SRC_FATAL;
	case GRD_FATAL:
		break;
	}
	return SRC_FATAL;
}

/*
 * Another process holds the slot: say so once (log, systemd, metrics), and
 * ask again after source.standby_poll_interval.
 */
static void enter_standby(struct Pipeline *p, const char *holder)
{
	const struct Config *cfg = p->opts->cfg;

	p->next_connect_ms = mono_ms() + cfg->source.standby_poll_ms;
	if (p->standby)
		return;
	p->standby = true;
	p->standby_since_ms = mono_ms();
	log_info("standby: slot \"%s\" is held by %s; taking it over when it is free (asking every %d s)",
		 cfg->source.slot, holder, cfg->source.standby_poll_ms / 1000);
	char status[256];
	snprintf(status, sizeof(status), "standby: slot %s held by another process",
		 cfg->source.slot);
	daemon_ready(status);
	/* systemd hears "streaming" again after the takeover. */
	p->ready = false;
	if (p->kafka && ksink_transactional(p->kafka)) {
		/* Fenced by the new active: a takeover makes a new producer. */
		ksink_free(p->kafka);
		p->kafka = NULL;
	}
}

/*
 * The start-up lock is ours: read what the previous active left. An
 * exactly-once producer is made now, and its transactional.id fences the
 * previous active's before the offsets topic is read, so that nothing can
 * commit after that read. Backfill requests and progress are read again.
 */
static enum src_status take_over(struct Pipeline *p)
{
	const struct Config *cfg = p->opts->cfg;
	char lsn[PGO_LSN_BUFSIZE];
	enum src_status fail = p->streamed ? SRC_RETRY : SRC_FATAL;

	if (cfg->sink.type == SINK_KAFKA && !p->kafka) {
		p->kafka = ksink_new(cfg, p->ckpt, p->err, sizeof(p->err));
		if (!p->kafka)
			return fail;
		if (ksink_transactional(p->kafka)) {
			uint64_t committed;
			if (ksink_committed_lsn(cfg, &committed, p->err, sizeof(p->err)) < 0) {
				/* The next attempt reads it again, with a new producer. */
				ksink_free(p->kafka);
				p->kafka = NULL;
				return fail;
			}
			if (committed > p->resume_lsn)
				p->resume_lsn = committed;
			log_info("exactly-once: Kafka has every transaction ending at or before %s",
				 pgo_lsn_format(committed, lsn));
		}
	}
	if (p->standby && p->backfill) {
		Backfill *bf = bf_new(cfg, backfill_produce, p, p->err, sizeof(p->err));
		if (!bf)
			return SRC_FATAL;
		bf_free(p->backfill);
		p->backfill = bf;
		p->backfill_ready = false;
	}
	return SRC_OK;
}

static enum src_status connect_source(struct Pipeline *p)
{
	const struct Config *cfg = p->opts->cfg;
	struct SourceOptions so = {.cfg = cfg,
				   .recreate_slot = p->opts->recreate_slot,
				   .export_snapshot = cfg->source.snapshot_initial ||
						      p->opts->snapshot_only};
	char lsn[PGO_LSN_BUFSIZE];

	/* Whatever can refuse the start is checked before the slot or publication is made. */
	if (!p->checked) {
		if (p->backfill && bf_prepare(p->backfill, false, p->err, sizeof(p->err)) < 0)
			return SRC_FATAL;
		if ((so.export_snapshot || snap_pending(cfg)) && snap_check(cfg, p->err, sizeof(p->err)) < 0)
			return SRC_FATAL;
		p->checked = true;
	}
	enum src_status st;
	if (!p->waiting && (st = src_connect(&so, &p->waiting, p->err, sizeof(p->err))) != SRC_OK)
		return st;
	char holder[256];
	/* Who holds it is asked once, for the log line. */
	holder[0] = '\0';
	st = src_acquire(p->waiting, p->standby ? NULL : holder, sizeof(holder), p->err,
			 sizeof(p->err));
	if (st == SRC_BUSY && p->opts->snapshot_only) {
		snprintf(p->err, sizeof(p->err),
			 "slot \"%s\" is in use by %s: stop tablecast run before tablecast snapshot",
			 cfg->source.slot, holder);
		return SRC_FATAL;
	}
	if (st == SRC_BUSY) {
		enter_standby(p, holder);
		return st;
	}
	p->src = p->waiting;
	p->waiting = NULL;
	if (st != SRC_OK)
		return st;
	if ((st = take_over(p)) != SRC_OK)
		return st;
	load_resume(p);
	/* A Kafka transaction committed since the last session ended (end_session). */
	if (p->kafka && ksink_txn_committed_lsn(p->kafka) > p->resume_lsn)
		p->resume_lsn = ksink_txn_committed_lsn(p->kafka);
	ckpt_set_confirmed(p->ckpt, src_start_lsn(p->src));
	/* What the offsets topic or the state file says Kafka has is safe to confirm. */
	ckpt_set_confirmed(p->ckpt, p->resume_lsn);
	if (p->skip_until < ckpt_confirmed(p->ckpt))
		p->skip_until = ckpt_confirmed(p->ckpt);
	/* A slot created now has its snapshot marked owed already: that one is not a resumption. */
	if (p->opts->snapshot_only && snap_pending(cfg) && !src_created_slot(p->src))
		log_info("resuming the snapshot an earlier run left unfinished");
	else if (p->opts->snapshot_only && snap_mark_pending(cfg, p->err, sizeof(p->err)) < 0)
		return SRC_FATAL;
	if (snap_pending(cfg)) {
		if ((st = pipe_snapshot_run(p)) != SRC_OK)
			return st;
		if (p->opts->snapshot_only) {
			p->snapshot_done = true;
			log_info("snapshot complete; tablecast run streams slot \"%s\" from %s",
				 cfg->source.slot, pgo_lsn_format(src_start_lsn(p->src), lsn));
			return SRC_OK;
		}
	}
	if (p->backfill && !p->backfill_ready) {
		if (bf_prepare(p->backfill, true, p->err, sizeof(p->err)) < 0)
			return SRC_FATAL;
		p->backfill_ready = true;
	}
	/* At start and on every reconnect: are the tables still the ones the record names? */
	if (p->guard) {
		grd_start_at(p->guard, src_start_lsn(p->src));
		if ((st = guard_check(p)) != SRC_OK)
			return st;
	}
	if ((st = src_start(p->src, p->err, sizeof(p->err))) == SRC_BUSY) {
		/* Streamed by a client that does not take the start-up lock. */
		src_close(p->src);
		p->src = NULL;
		enter_standby(p, p->err);
		return st;
	}
	if (st != SRC_OK)
		return st;
	if (p->standby) {
		double waited = (double)(mono_ms() - p->standby_since_ms) / 1000.0;
		log_info("taking over slot \"%s\" after %.1f s as a standby",
			 p->opts->cfg->source.slot, waited);
		p->standby = false;
	}
	p->streaming = true;
	p->sent_flush_lsn = src_start_lsn(p->src);
	p->received_lsn = p->sent_flush_lsn;
	/* pgoutput sends every Relation again in a new session. */
	rel_clear(p->rels);
	if (p->xl)
		xl_rebind(p->xl);
	p->streamed = true;
	p->backoff_ms = 0;
	p->first_txn = true;
	p->next_status_ms = mono_ms() + p->opts->cfg->source.status_interval_ms;
	if (p->skip_until > src_start_lsn(p->src)) {
		char skip[PGO_LSN_BUFSIZE];
		log_info("streaming slot \"%s\" publication \"%s\" from %s; %s has everything up to %s, which is skipped if the server sends it",
			 p->opts->cfg->source.slot, p->opts->cfg->source.publication,
			 pgo_lsn_format(src_start_lsn(p->src), lsn), sink_name(p),
			 pgo_lsn_format(p->skip_until, skip));
	} else {
		log_info("streaming slot \"%s\" publication \"%s\" from %s", p->opts->cfg->source.slot,
			 p->opts->cfg->source.publication, pgo_lsn_format(src_start_lsn(p->src), lsn));
	}
	return SRC_OK;
}

/*
 * What may be confirmed to PostgreSQL: what Kafka acknowledged, no further
 * than the publication guard allows (guard.h), and never less than what
 * the server was already told.
 */
static uint64_t confirmable(const struct Pipeline *p)
{
	uint64_t lsn = ckpt_confirmed(p->ckpt);
	if (p->guard && lsn > grd_limit(p->guard))
		lsn = grd_limit(p->guard);
	return lsn > p->sent_flush_lsn ? lsn : p->sent_flush_lsn;
}

/* When the next status update is due. */
static int64_t status_due_ms(const struct Pipeline *p)
{
	if (p->reply_now)
		return 0;
	if (confirmable(p) != p->sent_flush_lsn &&
	    p->last_status_ms + CONFIRM_DELAY_MS < p->next_status_ms)
		return p->last_status_ms + CONFIRM_DELAY_MS;
	return p->next_status_ms;
}

static enum src_status send_status(struct Pipeline *p)
{
	if (!p->streaming)
		return SRC_OK;
	uint64_t flush = confirmable(p);
	enum src_status st = src_send_status(p->src, p->received_lsn, flush, p->err, sizeof(p->err));
	if (st == SRC_OK) {
		if (flush != p->sent_flush_lsn) {
			char lsn[PGO_LSN_BUFSIZE];
			log_debug("confirmed %s", pgo_lsn_format(flush, lsn));
		}
		p->sent_flush_lsn = flush;
		p->reply_now = false;
		p->last_status_ms = mono_ms();
		p->next_status_ms = p->last_status_ms + p->opts->cfg->source.status_interval_ms;
	}
	return st;
}

static const struct Relation *relation_for(struct Pipeline *p, uint32_t relid, char kind)
{
	const struct Relation *rel = rel_get(p->rels, relid);
	if (!rel)
		snprintf(p->err, sizeof(p->err),
			 "pgoutput message '%c' for relation OID %u before its Relation message", kind,
			 relid);
	return rel;
}

/* Kafka has acknowledged nothing for source.release_after while events wait. */
static bool release_due(const struct Pipeline *p)
{
	int limit = p->opts->cfg->source.release_after_ms;
	return limit > 0 && p->kafka && ksink_stalled_ms(p->kafka, mono_ms()) >= limit;
}

/*
 * Kafka's queue is full: serve delivery reports until there is room, and
 * keep the server's status updates going meanwhile (wal_sender_timeout).
 * WAL is not read, so TCP pushes back on the walsender. Returns -1 when a
 * stop request or a failure ends the wait.
 */
static int wait_for_sink(struct Pipeline *p, char *err, size_t errlen)
{
	/* Waiting for Kafka is work, not a hang: keep the watchdog fed and metrics served. */
	daemon_watchdog();
	if (p->http)
		http_run(p->http);
	ksink_poll(p->kafka, 100);
	if (ksink_failed(p->kafka, err, errlen))
		return -1;
	if (*p->opts->stop) {
		p->stopping = true;
		snprintf(err, errlen, "stopping while waiting for Kafka");
		return -1;
	}
	if (release_due(p)) {
		p->releasing = true;
		snprintf(err, errlen, "kafka acknowledges nothing");
		return -1;
	}
	if (mono_ms() >= status_due_ms(p) && send_status(p) != SRC_OK) {
		snprintf(err, errlen, "%s", p->err);
		return -1;
	}
	return 0;
}

/* Hand one event of ring entry seq to the sink. */
int pipe_produce_event(struct Pipeline *p, const struct Event *ev, uint64_t seq, char *err,
		       size_t errlen)
{
	if (!p->kafka) {
		if (jsink_write_event(p->sink, ev) < 0) {
			snprintf(err, errlen, "sink: write failed: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	for (;;) {
		switch (ksink_produce(p->kafka, ev, seq)) {
		case KSINK_OK:
			return 0;
		case KSINK_FAILED:
			ksink_failed(p->kafka, err, errlen);
			return -1;
		case KSINK_FULL:
			if (wait_for_sink(p, err, errlen) < 0)
				return -1;
			break;
		}
	}
}

/* The translator's emit callback: an event of the transaction being read. */
static int emit_event(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	struct Pipeline *p = ctx;
	p->txn_events++;
	return pipe_produce_event(p, ev, p->txn_seq, err, errlen);
}

/* Backfill rows belong to the transaction whose high watermark released them. */
static int backfill_produce(void *ctx, const struct Event *ev, char *err, size_t errlen)
{
	struct Pipeline *p = ctx;
	if (p->skipping)
		return 0; /* exactly-once: Kafka has this transaction, these rows included */
	p->txn_events++;
	return pipe_produce_event(p, ev, p->txn_seq, err, errlen);
}

static int sink_failed(struct Pipeline *p)
{
	snprintf(p->err, sizeof(p->err), "sink: write failed: %s", strerror(errno));
	return -1;
}

/*
 * A non-transactional outbox message: not in commit order with the data,
 * so it is refused with a dead letter. It arrives between transactions
 * and gets a ring entry of its own, ending at its LSN, so that confirming
 * keeps commit order; a restart before that may repeat the dead letter.
 */
static int refuse_message(struct Pipeline *p, const struct PgoMessage *m)
{
	if (p->in_txn) {
		snprintf(p->err, sizeof(p->err),
			 "pgoutput: a non-transactional message inside a transaction at %" PRIu64,
			 m->message.lsn);
		return -1;
	}
	if (m->message.lsn < p->skip_until)
		return 0;
	uint64_t seq = ckpt_begin(p->ckpt);
	struct TxnInfo txn = {.commit_lsn = m->message.lsn};
	p->txn_seq = seq;
	p->in_txn = true;
	xl_begin(p->xl, &txn);
	int rc = xl_message_refused(p->xl, m->message.content, m->message.len, m->message.lsn,
				    p->err, sizeof(p->err));
	p->in_txn = false;
	if (rc < 0)
		return -1;
	if (p->sink && jsink_flush(p->sink, p->err, sizeof(p->err)) < 0)
		return -1;
	if (p->kafka && ksink_transactional(p->kafka))
		ksink_txn_add(p->kafka, seq, m->message.lsn);
	ckpt_commit(p->ckpt, seq, m->message.lsn);
	if (!(p->kafka && ksink_transactional(p->kafka)) && m->message.lsn > p->skip_until)
		p->skip_until = m->message.lsn;
	return 0;
}

/* One pgoutput message. Returns 0, or -1 with p->err set: fatal, nothing confirmed past it. */
static int handle_message(struct Pipeline *p, const struct PgoMessage *m, uint64_t lsn)
{
	const struct Relation *rel;
	bool changed;

	p->origin.lsn = lsn;
	switch (m->kind) {
	case 'B':
		p->in_txn = true;
		p->txn_seq = ckpt_begin(p->ckpt);
		p->txn_events = 0;
		ckpt_set_commit_time(p->ckpt, p->txn_seq, m->begin.commit_time + PGO_EPOCH_OFFSET_US);
		p->origin.xid = m->begin.xid;
		p->origin.commit_time = m->begin.commit_time;
		/*
		 * A transaction that commits before skip_until (an end LSN) is in
		 * Kafka already, or in librdkafka's queue: skip it whole. Its ring
		 * entry stays, with no events, so confirming keeps commit order.
		 */
		p->skipping = m->begin.final_lsn < p->skip_until;
		if (p->first_txn) {
			char at[PGO_LSN_BUFSIZE];
			p->first_txn = false;
			if (p->skipping)
				log_info("the server streams from the transaction committed at %s; %s already has it",
					 pgo_lsn_format(m->begin.final_lsn, at), sink_name(p));
		}
		if (p->skipping) {
			if (p->skipped++ == 0)
				p->skipped_first = m->begin.final_lsn;
			p->skipped_last = m->begin.final_lsn;
			p->skipped_total++;
		} else {
			skipped_done(p);
		}
		if (p->xl) {
			struct TxnInfo txn = {.commit_lsn = m->begin.final_lsn,
					      .xid = m->begin.xid,
					      .commit_time = m->begin.commit_time};
			xl_begin(p->xl, &txn);
		}
		return 0;
	case 'C':
		if (!p->in_txn) {
			snprintf(p->err, sizeof(p->err), "pgoutput Commit without Begin at %" PRIu64, lsn);
			return -1;
		}
		/* Handover: the translator's held events that no outbox record replaced. */
		if (p->xl && !p->skipping && xl_commit(p->xl, p->err, sizeof(p->err)) < 0)
			return -1;
		/* A file sink has taken the transaction once it is flushed; Kafka acknowledges later. */
		if (p->sink && jsink_flush(p->sink, p->err, sizeof(p->err)) < 0)
			return -1;
		if (p->kafka && ksink_transactional(p->kafka))
			ksink_txn_add(p->kafka, p->txn_seq, m->commit.end_lsn);
		ckpt_commit(p->ckpt, p->txn_seq, m->commit.end_lsn);
		/*
		 * At-least-once: librdkafka delivers what it was handed or the sink
		 * fails for good, so this process never sends a committed
		 * transaction twice. (Exactly-once: only a Kafka commit counts.)
		 */
		if (!(p->kafka && ksink_transactional(p->kafka)) && m->commit.end_lsn > p->skip_until)
			p->skip_until = m->commit.end_lsn;
		if (p->backfill)
			bf_commit(p->backfill, m->commit.end_lsn);
		p->in_txn = false;
		p->skipping = false;
		p->last_commit_ms = mono_ms();
		if (p->kafka && ksink_txn_due(p->kafka, mono_ms()) &&
		    ksink_txn_commit(p->kafka, p->err, sizeof(p->err)) < 0)
			return -1;
		return 0;
	case 'R':
		if (rel_update(p->rels, m, &changed) < 0) {
			snprintf(p->err, sizeof(p->err), "out of memory in the relation cache");
			return -1;
		}
		if (changed)
			log_info("relation %s.%s: definition changed", m->relation.nspname,
				 m->relation.relname);
		return 0;
	case 'Y':
		if (rel_update_type(p->rels, m) < 0) {
			snprintf(p->err, sizeof(p->err), "out of memory in the relation cache");
			return -1;
		}
		return 0;
	case 'I':
	case 'U':
	case 'D':
		if (!p->skipping)
			p->changes++; /* once each: not again when the server repeats it */
		if (!(rel = relation_for(p, m->change.relid, m->kind)))
			return -1;
		if (p->backfill && bf_is_signal(p->backfill, rel))
			return bf_signal(p->backfill, rel, m, p->err, sizeof(p->err));
		if (p->backfill)
			bf_change(p->backfill, rel, m);
		if (p->skipping)
			return 0;
		if (p->xl) {
			uint64_t errors = xl_stats(p->xl)->translation_errors;
			int rc = xl_change(p->xl, rel, m, lsn, p->err, sizeof(p->err));
			if (rc < 0 && xl_stats(p->xl)->translation_errors > errors)
				p->translation_failed = true;
			return rc;
		}
		if (jsink_write_change(p->sink, &p->origin, rel, m) < 0)
			return sink_failed(p);
		return 0;
	case 'T':
		if (p->skipping)
			return 0;
		p->changes += m->truncate.nrels; /* one per table, as the translators count them */
		for (uint32_t i = 0; i < m->truncate.nrels; i++) {
			if (!(rel = relation_for(p, m->truncate.relids[i], 'T')))
				return -1;
			if (p->xl) {
				if (xl_truncate(p->xl, rel, lsn, p->err, sizeof(p->err)) < 0)
					return -1;
				continue;
			}
			if (jsink_write_truncate(p->sink, &p->origin, rel, m->truncate.options) < 0)
				return sink_failed(p);
		}
		return 0;
	case 'M':
		/* Outbox records; other prefixes are not tablecast's. */
		if (p->xl) {
			if (strcmp(m->message.prefix, OBX_MESSAGE_PREFIX) != 0)
				return 0;
			if (m->message.flags & PGO_MESSAGE_TRANSACTIONAL)
				return p->skipping ? 0
						   : xl_message(p->xl, m->message.content,
								m->message.len, m->message.lsn, p->err,
								sizeof(p->err));
			return refuse_message(p, m);
		}
		if (m->message.flags & PGO_MESSAGE_TRANSACTIONAL) {
			if (p->skipping)
				return 0;
			if (jsink_write_message(p->sink, &p->origin, m) < 0)
				return sink_failed(p);
			return 0;
		}
		/* Outside any transaction: delivered now, and nothing to confirm for it. */
		struct ChangeOrigin alone = {.lsn = m->message.lsn};
		if (jsink_write_message(p->sink, &alone, m) < 0)
			return sink_failed(p);
		return jsink_flush(p->sink, p->err, sizeof(p->err));
	case 'O':
		log_debug("transaction replicated from origin \"%s\"", m->origin.name);
		return 0;
	}
	snprintf(p->err, sizeof(p->err), "unexpected pgoutput message '%c'", m->kind);
	return -1;
}

/* One CopyData frame. Returns SRC_OK or SRC_FATAL (p->err set). */
static enum src_status handle_frame(struct Pipeline *p, const uint8_t *data, size_t len)
{
	struct PgoFrame frame;
	struct PgoMessage msg;

	if (pgo_decode_frame(data, len, &frame, p->err, sizeof(p->err)) < 0)
		return SRC_FATAL;
	if (frame.wal_end > p->server_wal_end)
		p->server_wal_end = frame.wal_end;
	if (frame.kind == 'k') {
		if (!p->in_txn)
			ckpt_idle(p->ckpt, frame.wal_end);
		/* Caught up with the server: whatever was skipped is behind. */
		if (!p->in_txn && frame.wal_end >= p->skip_until)
			skipped_done(p);
		if (frame.reply_requested)
			p->reply_now = true;
		return SRC_OK;
	}
	if (frame.wal_start > p->received_lsn)
		p->received_lsn = frame.wal_start;
	arena_reset(p->arena);
	if (pgo_decode(frame.data, frame.len, p->arena, &msg, p->err, sizeof(p->err)) < 0)
		return SRC_FATAL;
	if (handle_message(p, &msg, frame.wal_start) < 0)
		return SRC_FATAL;
	return SRC_OK;
}

/* Drain what libpq has buffered. */
static enum src_status read_frames(struct Pipeline *p)
{
	enum src_status st = src_consume(p->src, p->err, sizeof(p->err));
	if (st != SRC_OK)
		return st;
	for (int i = 0; i < FRAMES_PER_ROUND && !*p->opts->stop; i++) {
		/* Backpressure: no new transaction until the ring has room or a Kafka commit is over. */
		if (!p->in_txn && (ckpt_full(p->ckpt) || (p->kafka && ksink_txn_ending(p->kafka))))
			break;
		const uint8_t *data;
		size_t len;
		int n = src_next(p->src, &data, &len, p->err, sizeof(p->err));
		if (n < 0)
			return (enum src_status)n;
		if (n == 0)
			break;
		if ((st = handle_frame(p, data, len)) != SRC_OK)
			return st;
	}
	return SRC_OK;
}

/* WAL the slot holds: the server's end of WAL past what tablecast confirmed. */
static uint64_t slot_lag(const struct Pipeline *p)
{
	uint64_t confirmed = ckpt_confirmed(p->ckpt);
	return p->server_wal_end > confirmed ? p->server_wal_end - confirmed : 0;
}

/* The pipeline's state as metrics.c renders it. */
static void metrics_view(const struct Pipeline *p, struct MetricsView *v)
{
	*v = (struct MetricsView){
		.cfg = p->opts->cfg,
		.events = p->reloaded ? p->reloaded : p->opts->cfg,
		.streaming = p->src != NULL,
		.standby = p->standby,
		.ckpt = p->ckpt,
		.kafka = p->kafka,
		.xl = p->xl,
		.snapshot = p->snapshot,
		.snapshot_stats = &p->snapshot_stats,
		.backfill = p->backfill,
		.audit = p->audit,
		.changes = p->changes,
		.started_s = p->started_s,
		.halted = p->halted,
		.halt_kind = p->halt_kind,
		.released = p->released,
		.skipped_total = p->skipped_total,
		.server_wal_end = p->server_wal_end,
		.slot_lag = slot_lag(p),
		.last_commit_ms = p->last_commit_ms,
	};
}

/* http_metrics_fn */
static void render_metrics(void *ctx, struct StrBuf *sb)
{
	struct MetricsView v;
	metrics_view(ctx, &v);
	metrics_render(&v, sb);
}

/* http_ready_fn */
static bool is_ready(void *ctx, char *reason, size_t reasonlen)
{
	struct MetricsView v;
	metrics_view(ctx, &v);
	return metrics_ready(&v, reason, reasonlen);
}

/* Say once when the slot starts to hold more WAL than allowed, and once when it recovers. */
static void watch_lag(struct Pipeline *p)
{
	bool over = slot_lag(p) > (uint64_t)p->opts->cfg->metrics.max_slot_lag;
	if (over && !p->lag_warned)
		log_warning("slot \"%s\" holds %llu bytes of WAL, over metrics.max_slot_lag (%lld): the sink is behind",
			    p->opts->cfg->source.slot, (unsigned long long)slot_lag(p),
			    p->opts->cfg->metrics.max_slot_lag);
	else if (!over && p->lag_warned)
		log_info("slot \"%s\" lag back under metrics.max_slot_lag", p->opts->cfg->source.slot);
	p->lag_warned = over;
}

/* One turn of the loop while connected. */
/*
 * The tablecast_audit_* gauges: the queries block the loop for their time
 * (well under a second on a catalog of thousands of tables), like the
 * guard's, and run between transactions' frames, every
 * metrics.audit_interval. A failure keeps the last figures; the
 * seconds-since-success gauge shows their age.
 */
static void audit_tick(struct Pipeline *p)
{
	const struct Config *cfg = p->reloaded ? p->reloaded : p->opts->cfg;
	char err[512];
	p->next_audit_ms = mono_ms() + (int64_t)p->opts->cfg->metrics.audit_interval_s * 1000;
	if (audit_gauges_update(p->audit, cfg, err, sizeof(err)) == 0) {
		if (p->audit_error[0])
			log_info("audit gauges: pg_stat_statements read again");
		p->audit_error[0] = '\0';
		return;
	}
	if (strcmp(err, p->audit_error) != 0)
		log_warning("audit gauges: %s", err);
	snprintf(p->audit_error, sizeof(p->audit_error), "%s", err);
}

static enum src_status stream_once(struct Pipeline *p)
{
	struct pollfd pfd[4] = {{.fd = src_socket(p->src)}, {.fd = -1}, {.fd = -1}, {.fd = -1}};
	int64_t now = mono_ms();
	int64_t due = status_due_ms(p);
	int timeout = due > now ? (int)(due - now) : 0;

	/*
	 * Backpressure: no new transaction until the ring has room, nor while
	 * a Kafka transaction is being committed (exactly-once), which is then
	 * advanced at least every TXN_WAIT_MS.
	 */
	bool ending = p->kafka && ksink_txn_ending(p->kafka);
	if ((!ckpt_full(p->ckpt) && !ending) || p->in_txn)
		pfd[0].events |= POLLIN;
	if (src_flush(p->src))
		pfd[0].events |= POLLOUT;
	if (p->kafka) {
		pfd[1].fd = ksink_fd(p->kafka);
		pfd[1].events = POLLIN;
	}
	if (ending && timeout > TXN_WAIT_MS)
		timeout = TXN_WAIT_MS;
	if (timeout > 1000)
		timeout = 1000;
	if (timeout > daemon_watchdog_period_ms())
		timeout = daemon_watchdog_period_ms();
	if (p->http) {
		pfd[2].fd = http_fd(p->http);
		pfd[2].events = POLLIN;
		timeout = http_timeout_ms(p->http, timeout);
	}
	if (p->backfill) {
		pfd[3].fd = bf_socket(p->backfill);
		pfd[3].events = POLLIN;
	}
	if (poll(pfd, 4, timeout) < 0 && errno != EINTR) {
		snprintf(p->err, sizeof(p->err), "poll: %s", strerror(errno));
		return SRC_FATAL;
	}
	if (p->http)
		http_run(p->http);
	watch_lag(p);
	if (p->kafka) {
		if ((pfd[1].revents & POLLIN) || ksink_txn_ending(p->kafka))
			ksink_poll(p->kafka, 0);
		if (ksink_failed(p->kafka, p->err, sizeof(p->err)))
			return SRC_FATAL;
		/* A quiet spell ends the batch: commit what is complete. */
		if (!p->in_txn && ksink_txn_due(p->kafka, mono_ms()) &&
		    ksink_txn_commit(p->kafka, p->err, sizeof(p->err)) < 0)
			return SRC_FATAL;
		/* Between transactions: a half-read one would come again, its events twice. */
		if (!p->in_txn && release_due(p)) {
			p->releasing = true;
			return SRC_RETRY;
		}
	}
	save_resume(p, false);
	/* Frames may already sit in libpq's buffer: read even when poll saw nothing. */
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) || pfd[0].events & POLLIN) {
		enum src_status st = read_frames(p);
		if (st != SRC_OK)
			return st;
	}
	if (p->backfill && bf_work(p->backfill, p->sent_flush_lsn, p->err, sizeof(p->err)) < 0)
		return SRC_FATAL;
	if (p->guard && mono_ms() >= p->next_guard_ms) {
		enum src_status st = guard_check(p);
		if (st != SRC_OK)
			return st;
	}
	if (p->audit && mono_ms() >= p->next_audit_ms)
		audit_tick(p);
	if (p->xl && mono_ms() >= p->next_handover_report_ms) {
		if (p->next_handover_report_ms)
			xl_handover_report(p->xl);
		p->next_handover_report_ms = mono_ms() + HANDOVER_REPORT_MS;
	}
	if (!p->ready && (!p->kafka || ksink_reachable(p->kafka))) {
		char status[256];
		snprintf(status, sizeof(status), "streaming slot %s", p->opts->cfg->source.slot);
		daemon_ready(status);
		p->ready = true;
	}
	if (mono_ms() >= status_due_ms(p))
		return send_status(p);
	return SRC_OK;
}

/*
 * SIGHUP: read the configuration again. What translation needs (events,
 * CloudEvents settings, dead-letter topic, log level) changes now, between
 * transactions; what the connection and the sink were built from needs a
 * restart, and the log says so. A broken file changes nothing.
 */
static void reload(struct Pipeline *p)
{
	char err[1024], fixed[512];

	daemon_reloading();
	/* The main loop waits for the load: keep the watchdog fed, let a stop end it. */
	struct CfgLoadHooks hooks = {.stop = p->opts->stop, .tick = daemon_watchdog};
	struct Config *next = cfg_load_hooked(p->opts->config_path, &hooks, err, sizeof(err));
	if (!next && *p->opts->stop) {
		log_info("reload: stopped while loading %s", p->opts->config_path);
		return;
	}
	if (!next) {
		log_error("reload: %s; keeping the running configuration", err);
		daemon_ready(p->standby ? "standby (reload failed)"
					: "streaming (reload failed)");
		return;
	}
	cfg_fixed_differences(p->opts->cfg, next, fixed, sizeof(fixed));
	if (fixed[0])
		log_warning("reload: %s cannot change while running; restart tablecast to apply",
			    fixed);
	if (p->xl) {
		Translator *xl = next->sink.raw_changes ? NULL : xl_new(next, emit_event, p);
		if (!xl) {
			log_error("reload: the new configuration declares no events for this sink; keeping the running one");
			cfg_free(next);
			daemon_ready(p->standby ? "standby (reload failed)"
					: "streaming (reload failed)");
			return;
		}
		if (p->ctr)
			xl_set_contract(xl, p->ctr, p->rels);
		xl_free(p->xl);
		p->xl = xl;
	}
	cfg_free(p->reloaded);
	p->reloaded = next;
	log_set_level(next->log_level);
	log_info("reload: %zu events from %s", next->nevents, p->opts->config_path);
	daemon_ready(p->standby ? "standby (reloaded)" : "streaming (reloaded)");
}

/* Wait up to the flush timeout for Kafka's outstanding deliveries, still answering the server. */
void pipe_drain_kafka(struct Pipeline *p)
{
	int64_t deadline = mono_ms() + p->opts->cfg->sink.flush_timeout_ms;

	while (ksink_outstanding(p->kafka) > 0 && mono_ms() < deadline &&
	       !ksink_failed(p->kafka, p->err, sizeof(p->err))) {
		daemon_watchdog();
		ksink_poll(p->kafka, 100);
		if (p->src && mono_ms() >= status_due_ms(p) && send_status(p) != SRC_OK)
			break;
	}
	if (ksink_outstanding(p->kafka) > 0)
		log_warning("%zu events not acknowledged by Kafka at shutdown: they will be sent again",
			    ksink_outstanding(p->kafka));
}

/* The sink stalled for source.release_after: end the session and wait for Kafka (see struct Pipeline). */
static void release_source(struct Pipeline *p)
{
	char lsn[PGO_LSN_BUFSIZE];
	int64_t stalled = ksink_stalled_ms(p->kafka, mono_ms());

	p->releasing = false;
	p->released = true;
	p->released_ms = mono_ms();
	p->silent_since_ms = p->released_ms - stalled;
	log_warning("kafka has acknowledged nothing for %.1f s (%zu events waiting): closing the replication connection so that PostgreSQL can stop or restart; slot \"%s\" keeps WAL from %s, and tablecast reconnects when Kafka acknowledges again",
		    (double)stalled / 1000.0, ksink_outstanding(p->kafka), p->opts->cfg->source.slot,
		    pgo_lsn_format(ckpt_confirmed(p->ckpt), lsn));
	end_session(p);
}

/*
 * No session: serve Kafka's delivery reports and metrics for up to
 * timeout_ms. Returns -1 when the sink failed for good (p->err set).
 */
static int idle_wait(struct Pipeline *p, int timeout_ms)
{
	struct pollfd pfd[2] = {{.fd = p->http ? http_fd(p->http) : -1, .events = POLLIN},
				{.fd = p->kafka ? ksink_fd(p->kafka) : -1, .events = POLLIN}};
	int timeout = timeout_ms > 200 ? 200 : timeout_ms;
	if (p->http)
		timeout = http_timeout_ms(p->http, timeout); /* its idle and request deadlines */
	if (poll(pfd, 2, timeout) >= 0 && p->http)
		http_run(p->http);
	if (p->kafka) {
		ksink_poll(p->kafka, 0);
		if (ksink_failed(p->kafka, p->err, sizeof(p->err)))
			return -1;
	}
	save_resume(p, false);
	return 0;
}

/* Released: true once Kafka acknowledged something since, and the session may start again. */
static bool release_over(struct Pipeline *p)
{
	int64_t acked = ksink_last_ack_ms(p->kafka);
	if ((acked <= p->released_ms && ksink_outstanding(p->kafka) > 0) ||
	    ksink_txn_ending(p->kafka))
		return false;
	log_info("kafka acknowledges again after %.1f s of silence: reconnecting to PostgreSQL (the replication connection was closed for %.1f s)",
		 (double)(mono_ms() - p->silent_since_ms) / 1000.0,
		 (double)(mono_ms() - p->released_ms) / 1000.0);
	p->released = false;
	p->next_connect_ms = 0;
	return true;
}

/*
 * Stop streaming: deliver what was read (bounded by sink.flush_timeout),
 * and tell PostgreSQL what Kafka acknowledged. A halt on a row that cannot
 * become its event comes here too: the transactions before it are
 * delivered and confirmed, the failing one stays open in the ring and so is
 * not. After the guard halted, nothing past its limit may be confirmed, so
 * no fence moves it.
 */
static void shutdown_stream(struct Pipeline *p, const char *how)
{
	char lsn[PGO_LSN_BUFSIZE], why[1024];

	daemon_stopping();
	if (p->sink && jsink_flush(p->sink, p->err, sizeof(p->err)) < 0)
		log_error("%s", p->err);
	if (p->kafka && ksink_transactional(p->kafka)) {
		/*
		 * Commit the complete transactions. A half-read one that already
		 * produced events is in the Kafka transaction too, so then all is
		 * aborted and comes again; one that produced nothing (a halt on its
		 * first row, typically) stays out of the commit and unconfirmed.
		 */
		if (p->in_txn && p->txn_events > 0)
			ksink_txn_abort(p->kafka);
		if (ksink_txn_finish(p->kafka, p->opts->cfg->sink.flush_timeout_ms, p->err,
				     sizeof(p->err)) != 0)
			log_error("%s", p->err);
	}
	if (p->kafka)
		pipe_drain_kafka(p);
	save_resume(p, true);
	if (!p->src)
		return;
	/* Two catalog checks, so that what the stream already brought may be confirmed. */
	if (p->guard && !p->guard_halted && p->streaming) {
		enum grd_status gs = grd_fence(p->guard, why, sizeof(why));
		/* Out of reach: already warned, and the limit simply stays. */
		if (gs == GRD_HALT || gs == GRD_FATAL)
			log_error("%s", why);
	}
	/* The final status: everything acknowledged so far is confirmed. */
	if (send_status(p) != SRC_OK)
		log_warning("final status update: %s", p->err);
	while (src_flush(p->src)) {
		struct pollfd pfd = {.fd = src_socket(p->src), .events = POLLOUT};
		if (poll(&pfd, 1, 1000) <= 0)
			break;
	}
	log_info("%s; confirmed %s", how, pgo_lsn_format(p->sent_flush_lsn, lsn));
}

/* A run ends for a person: keep why, for the next start's metrics and for `tablecast status`. */
static void record_halt(struct Pipeline *p, const char *message)
{
	char why[256];
	struct HaltRecord rec = {.time = (int64_t)time(NULL),
				 .kind = p->guard_halted	  ? HALT_PUBLICATION
					 : p->translation_failed ? HALT_TRANSLATION
								 : HALT_OTHER,
				 .confirmed_lsn = ckpt_confirmed(p->ckpt)};
	snprintf(rec.message, sizeof(rec.message), "%s", message);
	p->halted = true;
	p->halt_kind = rec.kind;
	p->halt_lsn = rec.confirmed_lsn;
	if (p->opts->snapshot_only)
		return;
	if (halt_save(p->opts->cfg, &rec, why, sizeof(why)) < 0)
		log_warning("%s", why);
}

/* The previous run halted: say so until this one confirms past where it stopped. */
static void load_halt(struct Pipeline *p)
{
	struct HaltRecord rec;
	char why[256];
	int rc = halt_load(p->opts->cfg, &rec, why, sizeof(why));
	if (rc < 0)
		log_warning("%s", why);
	if (rc <= 0)
		return;
	p->halted = true;
	p->halt_kind = rec.kind;
	p->halt_lsn = rec.confirmed_lsn;
}

static void clear_halt(struct Pipeline *p)
{
	char why[256];
	if (!p->halted || ckpt_confirmed(p->ckpt) <= p->halt_lsn)
		return;
	p->halted = false;
	if (halt_clear(p->opts->cfg, why, sizeof(why)) < 0)
		log_warning("%s", why);
}

int pipe_run(const struct RunOptions *opts)
{
	struct Pipeline p = {.opts = opts};
	int rc = 1;

	srand((unsigned)mono_ms());
	p.started_s = (int64_t)time(NULL);
	if (!opts->snapshot_only)
		load_halt(&p);
	p.ckpt = ckpt_new((size_t)opts->cfg->source.max_in_flight);
	p.rels = rel_new();
	p.arena = arena_new();
	if (!opts->cfg->sink.raw_changes)
		p.xl = xl_new(opts->cfg, emit_event, &p);
	if (!p.ckpt || !p.rels || !p.arena || (!opts->cfg->sink.raw_changes && !p.xl)) {
		log_error("out of memory");
		goto out;
	}
	if (p.xl && !opts->snapshot_only) {
		p.ctr = ctr_open(opts->cfg, p.err, sizeof(p.err));
		if (!p.ctr) {
			log_error("%s", p.err);
			goto out;
		}
		xl_set_contract(p.xl, p.ctr, p.rels);
		p.guard = grd_new(opts->cfg, p.ctr, opts->resync_tables, opts->nresync_tables);
		if (!p.guard) {
			log_error("out of memory");
			goto out;
		}
	}
	/* An exactly-once producer would fence a live active: made at the takeover (take_over). */
	bool deferred = opts->cfg->sink.type == SINK_KAFKA && opts->cfg->sink.exactly_once;
	if (opts->cfg->sink.type == SINK_KAFKA && !deferred)
		p.kafka = ksink_new(opts->cfg, p.ckpt, p.err, sizeof(p.err));
	else if (opts->cfg->sink.type != SINK_KAFKA)
		p.sink = jsink_open(opts->cfg, p.err, sizeof(p.err));
	if (!p.sink && !p.kafka && !deferred) {
		log_error("%s", p.err);
		goto out;
	}
	if (opts->cfg->source.signal_table[0] && !opts->snapshot_only) {
		p.backfill = bf_new(opts->cfg, backfill_produce, &p, p.err, sizeof(p.err));
		if (!p.backfill) {
			log_error("%s", p.err);
			goto out;
		}
	}
	if (opts->cfg->metrics.listen[0]) {
		p.http = http_new(opts->cfg->metrics.listen, render_metrics, is_ready, &p, p.err,
				  sizeof(p.err));
		if (!p.http) {
			log_error("%s", p.err);
			goto out;
		}
	}
	if (p.http && opts->cfg->metrics.audit_interval_s > 0 && !opts->snapshot_only)
		p.audit = audit_gauges_new();

	while (!*opts->stop) {
		enum src_status st;
		daemon_watchdog();
		clear_halt(&p);
		if (opts->reload && *opts->reload && !p.in_txn) {
			*opts->reload = 0;
			reload(&p);
		}
		if (!p.src) {
			int64_t wait = p.released && !release_over(&p) ? 200 : p.next_connect_ms - mono_ms();
			/* Exactly-once: a new session waits until the last batch is committed or aborted. */
			if (wait <= 0 && p.kafka && ksink_txn_ending(p.kafka))
				wait = 200;
			if (wait > 0) {
				if (idle_wait(&p, (int)wait) < 0) {
					log_error("%s", p.err);
					goto out;
				}
				continue;
			}
			st = connect_source(&p);
			if (st == SRC_OK && p.snapshot_done)
				break;
			if (st == SRC_BUSY)
				continue;
			if (st != SRC_OK && !p.streamed && !p.standby && !p.stopping) {
				/* A first start that fails needs a person (or systemd's restart). */
				log_error("%s", p.err);
				record_halt(&p, p.err);
				goto out;
			}
		} else {
			st = stream_once(&p);
		}
		if (st == SRC_FATAL && p.stopping) {
			/* A stop request ended a wait for Kafka or a snapshot: still a clean stop. */
			log_info("%s", p.err);
			break;
		}
		if (st != SRC_OK && p.releasing) {
			release_source(&p);
			continue;
		}
		if (st == SRC_FATAL) {
			log_error("%s", p.err);
			char fatal[sizeof(p.err)];
			snprintf(fatal, sizeof(fatal), "%s", p.err);
			/* Deliver and confirm what came before the failure; nothing after it. */
			if (p.streaming)
				shutdown_stream(&p, "halted");
			/* After: the record holds what the slot was left at. */
			record_halt(&p, fatal);
			goto out;
		}
		if (st == SRC_RETRY) {
			log_warning("%s", p.err);
			src_close(p.waiting);
			p.waiting = NULL;
			if (p.src || p.streamed || p.standby)
				disconnect(&p);
		}
	}
	shutdown_stream(&p, "stopped");
	rc = 0;
out:
	src_close(p.src);
	src_close(p.waiting);
	if (p.xl) {
		/* The row changes read, as tablecast_changes_total counts them. */
		const struct XlStats *st = xl_stats(p.xl);
		xl_handover_report(p.xl);
		log_info("%" PRIu64 " row changes, %" PRIu64 " events, %" PRIu64
			 " dead letters, %" PRIu64 " unchanged TOAST values unavailable",
			 p.changes, st->events, st->dead_letters, st->toast_unavailable);
	}
	xl_free(p.xl);
	grd_free(p.guard);
	audit_gauges_free(p.audit);
	ctr_free(p.ctr);
	bf_free(p.backfill);
	cfg_free(p.reloaded);
	http_free(p.http);
	ksink_free(p.kafka);
	jsink_close(p.sink);
	arena_free(p.arena);
	rel_free(p.rels);
	ckpt_free(p.ckpt);
	return rc;
}
