/* `tablecast status`: the slot as the database sees it, and the daemon's own view. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "halt.h"
#include "http.h"
#include "pgconn.h"
#include "status.h"
#include "strbuf.h"

/* What the database says about the slot. */
struct SlotView {
	bool reached;
	char error[256]; /* when not reached */
	bool exists;
	bool active;
	long long active_pid;
	char confirmed[32]; /* confirmed_flush_lsn */
	char wal_end[32]; /* pg_current_wal_lsn() */
	long long lag_bytes; /* -1: unknown */
	double lag_seconds; /* pg_stat_replication.flush_lag; -1: unknown */
	char wal_status[16]; /* reserved, extended, unreserved, lost */
	long long safe_wal_size; /* -1: unlimited or unknown */
	char holder_app[64]; /* the active walsender's application_name */
	char holder_addr[64];
};

/* The metrics status reads; NAN-free: each has a "seen" flag. */
enum metric_id {
	M_STREAMING,
	M_RELEASED,
	M_SINK,
	M_READY,
	M_INFLIGHT_TXN,
	M_INFLIGHT_EVENTS,
	M_LAG,
	M_LAG_LIMIT,
	M_DEAD_LETTERS,
	M_TRANSLATION_ERRORS,
	M_P99,
	M_CHANGES,
	M_START,
	M_HALTED,
	M_STANDBY,
	M_COUNT
};

static const char *const metric_names[M_COUNT] = {
	"tablecast_streaming",
	"tablecast_source_released",
	"tablecast_sink_connected",
	"tablecast_ready",
	"tablecast_inflight_transactions",
	"tablecast_inflight_events",
	"tablecast_slot_lag_bytes",
	"tablecast_slot_lag_limit_bytes",
	"tablecast_dead_letters_total",
	"tablecast_translation_errors_total",
	"tablecast_commit_to_ack_p99_seconds",
	"tablecast_changes_total",
	"tablecast_start_time_seconds",
	"tablecast_halted",
	"tablecast_standby",
};

/* What the daemon says about itself. */
struct DaemonView {
	bool enabled; /* metrics.listen is set */
	char address[80];
	bool reached;
	char error[256];
	bool ready;
	char not_ready[256]; /* /readyz's reason */
	double value[M_COUNT];
	bool seen[M_COUNT];
	char halt_kind[32]; /* tablecast_halted's kind label */
};

#define HTTP_TIMEOUT_S 3

/*
 * GET path from host:port with HTTP/1.0 (the server closes after the
 * answer): the status code, the body in body. Returns 0, or -1 with err.
 */
static int http_get(const char *listen, const char *path, int *code, struct StrBuf *body, char *err,
		    size_t errlen)
{
	struct sockaddr_in addr;
	if (http_parse_listen(listen, &addr, err, errlen) < 0)
		return -1;
	/* A daemon listening on every address answers on loopback. */
	if (addr.sin_addr.s_addr == htonl(INADDR_ANY))
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	struct timeval tv = {.tv_sec = HTTP_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, listen);
	if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
		close(fd);
		return -1;
	}
	struct StrBuf raw = {0};
	char buf[8192];
	ssize_t got;
	while ((got = recv(fd, buf, sizeof(buf), 0)) > 0 && raw.len < 16 * 1024 * 1024)
		sb_append(&raw, buf, (size_t)got);
	int rerrno = errno;
	close(fd);
	if (got < 0 || !sb_ok(&raw) || raw.len == 0) {
		snprintf(err, errlen, "no answer to GET %s%s%s", path, got < 0 ? ": " : "",
			 got < 0 ? strerror(rerrno) : "");
		sb_free(&raw);
		return -1;
	}
	sb_putc(&raw, '\0');
	const char *head_end = strstr(raw.data, "\r\n\r\n");
	if (sscanf(raw.data, "HTTP/%*d.%*d %d", code) != 1 || !head_end) {
		snprintf(err, errlen, "not an HTTP answer to GET %s", path);
		sb_free(&raw);
		return -1;
	}
	sb_reset(body);
	sb_puts(body, head_end + 4);
	sb_free(&raw);
	return 0;
}

/* Pick the samples status shows out of the Prometheus text exposition. */
static void parse_metrics(struct DaemonView *d, const char *text)
{
	for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		if (*line == '#' || *line == '\n')
			continue;
		size_t name_len = strcspn(line, "{ \n");
		for (int i = 0; i < M_COUNT; i++) {
			if (strlen(metric_names[i]) != name_len || strncmp(line, metric_names[i], name_len) != 0)
				continue;
			const char *rest = line + name_len;
			if (*rest == '{') {
				const char *kind = strstr(rest, "kind=\"");
				const char *close = strchr(rest, '}');
				if (i == M_HALTED && kind && close && kind < close)
					snprintf(d->halt_kind, sizeof(d->halt_kind), "%.*s",
						 (int)strcspn(kind + 6, "\""), kind + 6);
				rest = close ? close + 1 : rest;
			}
			char *end;
			double v = strtod(rest, &end);
			if (end != rest) {
				d->value[i] = v;
				d->seen[i] = true;
			}
		}
	}
}

static void look_at_daemon(const struct Config *cfg, struct DaemonView *d)
{
	struct StrBuf body = {0};
	int code = 0;

	if (!cfg->metrics.listen || !cfg->metrics.listen[0])
		return;
	d->enabled = true;
	snprintf(d->address, sizeof(d->address), "%s", cfg->metrics.listen);
	if (http_get(cfg->metrics.listen, "/metrics", &code, &body, d->error, sizeof(d->error)) < 0)
		goto out;
	if (code != 200) {
		snprintf(d->error, sizeof(d->error), "GET /metrics answered %d", code);
		goto out;
	}
	parse_metrics(d, body.data ? body.data : "");
	if (!d->seen[M_STREAMING]) {
		snprintf(d->error, sizeof(d->error), "/metrics has no tablecast_streaming");
		goto out;
	}
	d->reached = true;
	if (http_get(cfg->metrics.listen, "/readyz", &code, &body, d->not_ready,
		     sizeof(d->not_ready)) < 0)
		goto out;
	d->ready = code == 200;
	if (!d->ready)
		snprintf(d->not_ready, sizeof(d->not_ready), "%.*s",
			 (int)strcspn(body.data ? body.data : "", "\r\n"), body.data ? body.data : "");
out:
	sb_free(&body);
}

static void copy_field(PGresult *res, int col, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

static void look_at_slot(const struct Config *cfg, struct SlotView *s)
{
	s->lag_bytes = -1;
	s->lag_seconds = -1;
	s->safe_wal_size = -1;
	/* A status that hangs on a dead host is worse than one that says so. */
	setenv("PGCONNECT_TIMEOUT", "5", 0);
	PGconn *conn = pgc_connect(cfg->source.conninfo, false, "tablecast status", s->error,
				   sizeof(s->error));
	if (!conn)
		return;
	s->reached = true;
	const char *sql =
		"SELECT s.active, s.active_pid, s.confirmed_flush_lsn::text, w.lsn::text,"
		" pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::bigint, s.wal_status,"
		" s.safe_wal_size, r.application_name, host(r.client_addr),"
		" extract(epoch FROM r.flush_lag)::float8"
		" FROM pg_replication_slots s"
		" CROSS JOIN (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
		"             ELSE pg_current_wal_lsn() END AS lsn) w"
		" LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid"
		" WHERE s.slot_name = $1";
	const char *params[] = {cfg->source.slot};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[200];
		pgc_first_line(PQresultErrorMessage(res), line, sizeof(line));
		snprintf(s->error, sizeof(s->error), "reading pg_replication_slots: %s", line);
		s->reached = false;
	} else if (PQntuples(res) == 1) {
		s->exists = true;
		s->active = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		s->active_pid = PQgetisnull(res, 0, 1) ? 0 : atoll(PQgetvalue(res, 0, 1));
		copy_field(res, 2, s->confirmed, sizeof(s->confirmed));
		copy_field(res, 3, s->wal_end, sizeof(s->wal_end));
		if (!PQgetisnull(res, 0, 4))
			s->lag_bytes = atoll(PQgetvalue(res, 0, 4));
		copy_field(res, 5, s->wal_status, sizeof(s->wal_status));
		if (!PQgetisnull(res, 0, 6))
			s->safe_wal_size = atoll(PQgetvalue(res, 0, 6));
		copy_field(res, 7, s->holder_app, sizeof(s->holder_app));
		copy_field(res, 8, s->holder_addr, sizeof(s->holder_addr));
		/* flush_lag is the latest measurement: stale once nothing is behind. */
		if (s->lag_bytes == 0)
			s->lag_seconds = 0;
		else if (!PQgetisnull(res, 0, 9))
			s->lag_seconds = atof(PQgetvalue(res, 0, 9));
	}
	PQclear(res);
	PQfinish(conn);
}

/*
 * This daemon's part: "active" (it streams the slot), "standby" (it runs,
 * and another connection holds the slot), "waiting" (it runs, nobody
 * streams), "stopped" (no answer), "unknown" (metrics off).
 */
static const char *role_of(const struct SlotView *s, const struct DaemonView *d)
{
	if (!d->enabled)
		return "unknown";
	if (!d->reached)
		return "stopped";
	if (d->value[M_STREAMING] > 0)
		return "active";
	/* The daemon's own word covers a holder that is not streaming yet (its snapshot). */
	if (d->seen[M_STANDBY] && d->value[M_STANDBY] > 0)
		return "standby";
	return s->exists && s->active ? "standby" : "waiting";
}

/* The verdict: a state word, the exit status, and every problem seen. */
struct Verdict {
	const char *state; /* healthy, lagging, standby, degraded, halted, down */
	int code;
	char problems[8][320];
	int nproblems;
};

static void problem(struct Verdict *v, const char *state, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Note a problem; the worst one names the state (down and halted over degraded ones). */
static void problem(struct Verdict *v, const char *state, int code, const char *fmt, ...)
{
	if (v->nproblems < 8) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->problems[v->nproblems++], sizeof(v->problems[0]), fmt, ap);
		va_end(ap);
	}
	if (code > v->code || (code == v->code && strcmp(v->state, "healthy") == 0)) {
		v->code = code;
		v->state = state;
	}
}

static void judge(const struct Config *cfg, const struct SlotView *s, const struct DaemonView *d,
		  const struct HaltRecord *halt, bool halted, struct Verdict *v)
{
	long long limit = cfg->metrics.max_slot_lag;
	*v = (struct Verdict){.state = "healthy", .code = STATUS_HEALTHY};

	if (halted || (d->reached && d->seen[M_HALTED] && d->value[M_HALTED] > 0))
		problem(v, "halted", STATUS_DOWN, "halted (%s): %s",
			halted ? halt_kind_name(halt->kind) : d->halt_kind,
			halted ? halt->message : "see the daemon's log");
	if (!s->reached)
		problem(v, "down", STATUS_DOWN, "database: %s", s->error);
	else if (!s->exists)
		problem(v, "down", STATUS_DOWN, "slot \"%s\" does not exist", cfg->source.slot);
	else if (strcmp(s->wal_status, "lost") == 0)
		problem(v, "down", STATUS_DOWN,
			"slot \"%s\" is invalidated (wal_status lost): the WAL it needed is gone",
			cfg->source.slot);
	else if (strcmp(s->wal_status, "unreserved") == 0)
		problem(v, "lagging", STATUS_DEGRADED,
			"slot \"%s\" is past max_slot_wal_keep_size (wal_status unreserved): it will be invalidated at the next checkpoint",
			cfg->source.slot);

	if (d->enabled && !d->reached) {
		if (s->exists && s->active)
			problem(v, "down", STATUS_DOWN,
				"no tablecast answers on %s (%s); the slot is held by pid %lld%s%s",
				d->address, d->error, s->active_pid, s->holder_app[0] ? ", " : "",
				s->holder_app);
		else
			problem(v, "down", STATUS_DOWN, "no tablecast answers on %s (%s)", d->address,
				d->error);
	} else if (d->enabled) {
		bool streaming = d->value[M_STREAMING] > 0;
		if (!streaming && s->exists && s->active)
			problem(v, "standby", STATUS_DEGRADED,
				"slot held by pid %lld (%s%s%s) on another connection; this daemon is not streaming",
				s->active_pid, s->holder_app[0] ? s->holder_app : "unknown client",
				s->holder_addr[0] ? " from " : "", s->holder_addr);
		else if (!streaming && d->seen[M_STANDBY] && d->value[M_STANDBY] > 0)
			problem(v, "standby", STATUS_DEGRADED,
				"this daemon is a standby: another process holds the slot's start-up lock (creating the slot or reading a snapshot)");
		else if (!streaming && d->seen[M_RELEASED] && d->value[M_RELEASED] > 0)
			problem(v, "degraded", STATUS_DEGRADED,
				"replication connection released: Kafka acknowledges nothing");
		else if (!streaming)
			problem(v, "degraded", STATUS_DEGRADED, "the daemon runs but does not stream");
		if (d->seen[M_SINK] && d->value[M_SINK] == 0)
			problem(v, "degraded", STATUS_DEGRADED, "kafka unreachable");
		if (!d->ready && d->not_ready[0] && strcmp(d->not_ready, "kafka unreachable") != 0 &&
		    strcmp(d->not_ready, "not streaming") != 0 &&
		    strncmp(d->not_ready, "slot lag", 8) != 0 && strncmp(d->not_ready, "standby", 7) != 0)
			problem(v, "degraded", STATUS_DEGRADED, "not ready: %s", d->not_ready);
	} else if (s->exists && !s->active) {
		problem(v, "down", STATUS_DOWN, "slot \"%s\" is inactive: nothing streams it",
			cfg->source.slot);
	}
	if (s->lag_bytes > limit)
		problem(v, "lagging", STATUS_DEGRADED,
			"slot lag %lld bytes over metrics.max_slot_lag (%lld)", s->lag_bytes, limit);
	/* Lagging names the state among degraded ones: it is what fills the disk. */
	if (v->code == STATUS_DEGRADED && s->lag_bytes > limit)
		v->state = "lagging";
}

static void human_bytes(long long n, char *out, size_t outlen)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double x = (double)n;
	int u = 0;
	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%lld B", n);
	else
		snprintf(out, outlen, "%.1f %s", x, units[u]);
}

static void print_text(const struct Config *cfg, const struct SlotView *s,
		       const struct DaemonView *d, const struct HaltRecord *halt, bool halted,
		       const struct Verdict *v, FILE *out)
{
	char a[32], b[32];

	fprintf(out, "tablecast: %s (this daemon: %s)\n", v->state, role_of(s, d));
	fprintf(out, "slot         \"%s\", publication \"%s\"\n", cfg->source.slot,
		cfg->source.publication);
	if (!s->reached)
		fprintf(out, "  database   unreachable: %s\n", s->error);
	else if (!s->exists)
		fprintf(out, "  database   no such slot\n");
	else {
		if (s->active)
			fprintf(out, "  held by    pid %lld (%s%s%s)%s\n", s->active_pid,
				s->holder_app[0] ? s->holder_app : "unknown client",
				s->holder_addr[0] ? " from " : "", s->holder_addr,
				d->reached ? (d->value[M_STREAMING] > 0 ? ": this daemon"
									: ": not this daemon")
					   : "");
		else
			fprintf(out, "  held by    nobody (inactive)\n");
		human_bytes(s->lag_bytes < 0 ? 0 : s->lag_bytes, a, sizeof(a));
		human_bytes(cfg->metrics.max_slot_lag, b, sizeof(b));
		fprintf(out, "  confirmed  %s of %s: lag %s (limit %s)", s->confirmed, s->wal_end, a, b);
		if (s->lag_seconds >= 0)
			fprintf(out, ", %.1f s\n", s->lag_seconds);
		else
			fprintf(out, "\n");
		if (s->safe_wal_size >= 0) {
			human_bytes(s->safe_wal_size, a, sizeof(a));
			fprintf(out, "  wal        %s, %s left before max_slot_wal_keep_size\n",
				s->wal_status, a);
		} else {
			fprintf(out, "  wal        %s, no max_slot_wal_keep_size\n", s->wal_status);
		}
	}
	if (!d->enabled) {
		fprintf(out, "daemon       metrics off (metrics.listen): the database's view only\n");
	} else if (!d->reached) {
		fprintf(out, "daemon       %s: no answer: %s\n", d->address, d->error);
	} else {
		fprintf(out, "daemon       %s: %s%s%s\n", d->address, d->ready ? "ready" : "not ready",
			d->ready ? "" : ": ", d->ready ? "" : d->not_ready);
		if (d->seen[M_START]) {
			time_t t = (time_t)d->value[M_START];
			struct tm tm;
			char when[32];
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			fprintf(out, "  started    %s\n", when);
		}
		fprintf(out, "  streaming  %s, kafka %s\n", d->value[M_STREAMING] > 0 ? "yes" : "no",
			d->value[M_SINK] > 0 ? "reachable" : "unreachable");
		fprintf(out, "  in flight  %.0f transactions, %.0f events\n", d->value[M_INFLIGHT_TXN],
			d->value[M_INFLIGHT_EVENTS]);
		fprintf(out, "  errors     %.0f dead letters, %.0f translation errors\n",
			d->value[M_DEAD_LETTERS], d->value[M_TRANSLATION_ERRORS]);
		if (d->seen[M_P99])
			fprintf(out, "  latency    commit-to-ack p99 %.1f ms since start\n",
				d->value[M_P99] * 1000);
	}
	if (halted) {
		time_t t = (time_t)halt->time;
		struct tm tm;
		char when[32];
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "last error   %s (%s): %s\n", when, halt_kind_name(halt->kind),
			halt->message);
	}
	for (int i = 0; i < v->nproblems; i++)
		fprintf(out, "%s %s\n", i == 0 ? "problems    " : "            ", v->problems[i]);
}

static void json_str(struct StrBuf *sb, const char *key, const char *value)
{
	sb_printf(sb, "\"%s\":", key);
	sb_json_string(sb, value, strlen(value));
	sb_putc(sb, ',');
}

static void json_num(struct StrBuf *sb, const char *key, bool known, double value)
{
	if (known)
		sb_printf(sb, "\"%s\":%.17g,", key, value);
	else
		sb_printf(sb, "\"%s\":null,", key);
}

static void print_json(const struct Config *cfg, const struct SlotView *s,
		       const struct DaemonView *d, const struct HaltRecord *halt, bool halted,
		       const struct Verdict *v, FILE *out)
{
	struct StrBuf sb = {0};

	sb_putc(&sb, '{');
	json_str(&sb, "state", v->state);
	json_num(&sb, "exit_status", true, v->code);
	json_str(&sb, "role", role_of(s, d));
	json_str(&sb, "slot", cfg->source.slot);
	sb_printf(&sb, "\"database\":{\"reachable\":%s,", s->reached ? "true" : "false");
	if (!s->reached)
		json_str(&sb, "error", s->error);
	sb_printf(&sb, "\"slot_exists\":%s,\"active\":%s,", s->exists ? "true" : "false",
		  s->active ? "true" : "false");
	json_num(&sb, "active_pid", s->active, (double)s->active_pid);
	json_str(&sb, "holder_application", s->holder_app);
	json_str(&sb, "holder_address", s->holder_addr);
	json_str(&sb, "confirmed_lsn", s->confirmed);
	json_str(&sb, "wal_end_lsn", s->wal_end);
	json_num(&sb, "lag_bytes", s->lag_bytes >= 0, (double)s->lag_bytes);
	json_num(&sb, "lag_seconds", s->lag_seconds >= 0, s->lag_seconds);
	json_num(&sb, "lag_limit_bytes", true, (double)cfg->metrics.max_slot_lag);
	json_str(&sb, "wal_status", s->wal_status);
	json_num(&sb, "safe_wal_size", s->safe_wal_size >= 0, (double)s->safe_wal_size);
	sb.len--; /* the last comma */
	sb_printf(&sb, "},\"daemon\":{\"metrics\":%s,", d->enabled ? "true" : "false");
	sb_printf(&sb, "\"reachable\":%s,", d->reached ? "true" : "false");
	json_str(&sb, "address", d->address);
	if (d->enabled && !d->reached)
		json_str(&sb, "error", d->error);
	if (d->reached) {
		sb_printf(&sb, "\"ready\":%s,", d->ready ? "true" : "false");
		json_str(&sb, "not_ready", d->ready ? "" : d->not_ready);
		sb_printf(&sb, "\"streaming\":%s,\"kafka_reachable\":%s,",
			  d->value[M_STREAMING] > 0 ? "true" : "false",
			  d->value[M_SINK] > 0 ? "true" : "false");
		json_num(&sb, "inflight_transactions", d->seen[M_INFLIGHT_TXN], d->value[M_INFLIGHT_TXN]);
		json_num(&sb, "inflight_events", d->seen[M_INFLIGHT_EVENTS], d->value[M_INFLIGHT_EVENTS]);
		json_num(&sb, "dead_letters", d->seen[M_DEAD_LETTERS], d->value[M_DEAD_LETTERS]);
		json_num(&sb, "translation_errors", d->seen[M_TRANSLATION_ERRORS],
			 d->value[M_TRANSLATION_ERRORS]);
		json_num(&sb, "commit_to_ack_p99_seconds", d->seen[M_P99], d->value[M_P99]);
		json_num(&sb, "changes", d->seen[M_CHANGES], d->value[M_CHANGES]);
		json_num(&sb, "start_time", d->seen[M_START], d->value[M_START]);
	}
	sb.len--;
	sb_puts(&sb, "},\"last_error\":");
	if (halted) {
		sb_printf(&sb, "{\"time\":%" PRId64 ",", halt->time);
		json_str(&sb, "kind", halt_kind_name(halt->kind));
		json_str(&sb, "message", halt->message);
		sb.len--;
		sb_putc(&sb, '}');
	} else {
		sb_puts(&sb, "null");
	}
	sb_puts(&sb, ",\"problems\":[");
	for (int i = 0; i < v->nproblems; i++) {
		if (i)
			sb_putc(&sb, ',');
		sb_json_string(&sb, v->problems[i], strlen(v->problems[i]));
	}
	sb_puts(&sb, "]}\n");
	if (sb_ok(&sb))
		fwrite(sb.data, 1, sb.len, out);
	sb_free(&sb);
}

int status_run(const struct Config *cfg, bool json, FILE *out)
{
	struct SlotView slot = {0};
	struct DaemonView daemon = {0};
	struct HaltRecord halt;
	struct Verdict verdict;
	char err[256];

	look_at_slot(cfg, &slot);
	look_at_daemon(cfg, &daemon);
	int rc = halt_load(cfg, &halt, err, sizeof(err));
	if (rc < 0) {
		/* Another user's state_dir (systemd's DynamicUser): the daemon's metrics still say. */
		memset(&halt, 0, sizeof(halt));
	}
	judge(cfg, &slot, &daemon, &halt, rc == 1, &verdict);
	if (json)
		print_json(cfg, &slot, &daemon, &halt, rc == 1, &verdict, out);
	else
		print_text(cfg, &slot, &daemon, &halt, rc == 1, &verdict, out);
	return verdict.code;
}
