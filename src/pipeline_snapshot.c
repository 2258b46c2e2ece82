/* Pipeline, snapshot: the loop's adapter for an initial snapshot (struct SnapshotIo) and its wait loop. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "daemon.h"
#include "http.h"
#include "json_sink.h"
#include "kafka_sink.h"
#include "log.h"
#include "mono.h"
#include "pipeline_internal.h"
#include "snapshot.h"
#include "source.h"

static bool snapshot_full(void *ctx)
{
	struct Pipeline *p = ctx;
	return ckpt_full(p->ckpt);
}

static uint64_t snapshot_begin(void *ctx)
{
	struct Pipeline *p = ctx;
	return ckpt_begin(p->ckpt);
}

static int snapshot_produce(void *ctx, const struct Event *ev, uint64_t seq, char *err,
			    size_t errlen)
{
	return pipe_produce_event(ctx, ev, seq, err, errlen);
}

/* A chunk is read: like a COMMIT at the slot's position, which confirms nothing new. */
static int snapshot_end(void *ctx, uint64_t seq, char *err, size_t errlen)
{
	struct Pipeline *p = ctx;
	uint64_t lsn = src_start_lsn(p->src);

	if (p->sink && jsink_flush(p->sink, err, errlen) < 0)
		return -1;
	if (p->kafka && ksink_transactional(p->kafka))
		ksink_txn_add(p->kafka, seq, lsn);
	ckpt_commit(p->ckpt, seq, lsn);
	return 0;
}

static uint64_t snapshot_oldest(void *ctx)
{
	struct Pipeline *p = ctx;
	return ckpt_oldest(p->ckpt);
}

/*
 * Read the owed snapshot before streaming: the slot waits at its
 * consistent point meanwhile. A stop request drains what Kafka has and
 * records it, so the next start resumes.
 */
enum src_status pipe_snapshot_run(struct Pipeline *p)
{
	struct SnapshotOptions so = {
		.cfg = p->opts->cfg,
		.exported = src_exported_snapshot(p->src),
		.io = {p, snapshot_full, snapshot_begin, snapshot_produce, snapshot_end,
		       snapshot_oldest, p->kafka != NULL},
	};
	enum src_status st = SRC_OK;

	p->snapshot = snap_open(&so, p->err, sizeof(p->err));
	if (!p->snapshot)
		return SRC_RETRY;
	daemon_ready("reading the initial snapshot");
	for (;;) {
		struct pollfd pfd[20];
		int n = snap_pollfds(p->snapshot, pfd, 16);
		int kafka_at = -1, http_at = -1;
		if (p->kafka) {
			kafka_at = n;
			pfd[n++] = (struct pollfd){.fd = ksink_fd(p->kafka), .events = POLLIN};
		}
		if (p->http) {
			http_at = n;
			pfd[n++] = (struct pollfd){.fd = http_fd(p->http), .events = POLLIN};
		}
		daemon_watchdog();
		/* The snapshot's threads publish only while this one waits. */
		snap_release(p->snapshot);
		int ready = poll(pfd, (nfds_t)n, p->http ? http_timeout_ms(p->http, 100) : 100);
		int poll_errno = errno;
		snap_acquire(p->snapshot);
		if (ready < 0 && poll_errno != EINTR) {
			snprintf(p->err, sizeof(p->err), "poll: %s", strerror(poll_errno));
			st = SRC_FATAL;
			break;
		}
		if (http_at >= 0)
			http_run(p->http);
		if (p->kafka) {
			if (pfd[kafka_at].revents & POLLIN)
				ksink_poll(p->kafka, 0);
			if (ksink_failed(p->kafka, p->err, sizeof(p->err))) {
				st = SRC_FATAL;
				break;
			}
			if (ksink_txn_due(p->kafka, mono_ms()) &&
			    ksink_txn_commit(p->kafka, p->err, sizeof(p->err)) < 0) {
				st = SRC_FATAL;
				break;
			}
		}
		if (*p->opts->stop) {
			p->stopping = true;
			snprintf(p->err, sizeof(p->err), "stopped during the snapshot; the next start resumes it");
			st = SRC_FATAL;
			break;
		}
		int rc = snap_work(p->snapshot, p->err, sizeof(p->err));
		if (rc == 1)
			break;
		if (rc < 0 && p->stopping) {
			/* Also when the stop came while a full Kafka queue was waited for. */
			snprintf(p->err, sizeof(p->err), "stopped during the snapshot; the next start resumes it");
			st = SRC_FATAL;
			break;
		}
		if (rc < 0) {
			st = SRC_RETRY;
			break;
		}
	}
	if (st != SRC_OK) {
		/* Keep what Kafka has: commit (exactly-once), wait, and record it. */
		char why[512];
		if (p->kafka && ksink_transactional(p->kafka) &&
		    ksink_txn_finish(p->kafka, p->opts->cfg->sink.flush_timeout_ms, why, sizeof(why)) != 0)
			log_warning("%s", why);
		if (p->kafka)
			pipe_drain_kafka(p);
		if (snap_finish(p->snapshot, why, sizeof(why)) < 0)
			log_warning("snapshot: %s", why);
		/* What was not acknowledged is read again: nothing of it may count. */
		ckpt_clear(p->ckpt);
	}
	p->snapshot_stats = *snap_stats(p->snapshot);
	snap_close(p->snapshot);
	p->snapshot = NULL;
	return st;
}
