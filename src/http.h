/* HTTP: Prometheus metrics and health endpoints, served from the main loop. */
#ifndef TABLECAST_SRC_HTTP_H
#define TABLECAST_SRC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

typedef struct Http Http;

/* Append the Prometheus text exposition of every metric to out. */
typedef void (*http_metrics_fn)(void *ctx, struct StrBuf *out);

/* Whether the service is ready; if not, one line saying why goes to reason. */
typedef bool (*http_ready_fn)(void *ctx, char *reason, size_t reasonlen);

struct sockaddr_in;

/*
 * Parse "a.b.c.d:port" (metrics.listen) into addr. Returns 0, or -1 with a
 * one-line reason in err. Configuration loading uses it too, so that
 * check-config refuses what http_new would.
 */
int http_parse_listen(const char *listen, struct sockaddr_in *addr, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Listen on "host:port" (libmicrohttpd, epoll, no thread of its own):
 * GET /metrics, /healthz (the process answers), /readyz (200 or 503 with
 * the reason). Returns NULL with err set when the address is unusable.
 */
Http *http_new(const char *listen, http_metrics_fn metrics, http_ready_fn ready, void *ctx,
	       char *err, size_t errlen) __attribute__((warn_unused_result));
void http_free(Http *http);

/* A file descriptor that becomes readable when requests wait: poll it, then call http_run. */
int http_fd(const Http *http);

/*
 * The poll timeout (ms) to use instead of timeout when sooner: when
 * libmicrohttpd has buffered requests or a connection's time is up.
 */
int http_timeout_ms(const Http *http, int timeout);

/*
 * Serve whatever requests are ready and enforce the timeouts, without
 * blocking. Call it after every poll, whether the fd was readable or not.
 */
void http_run(Http *http);

#endif
