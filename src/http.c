/* HTTP: Prometheus metrics and health endpoints, served from the main loop. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "mono.h"

/*
 * Hostile or broken clients must not keep probes out. libmicrohttpd's
 * CONNECTION_TIMEOUT is an idle timeout: a client that sends one byte every
 * few seconds never reaches it. So each request also gets a deadline for
 * its headers (and body), from the connection's start or the end of the
 * previous request, after which the socket is shut down (libmicrohttpd then closes
 * it as if the client had). And when connections pile up, the oldest one
 * still waiting for its headers makes room for the newcomer, so a probe
 * (whose headers come at once) is always served.
 */
#define IDLE_TIMEOUT_S 10
#define HEADER_DEADLINE_MS 5000
#define MAX_CONNECTIONS 256
#define EVICT_AT 192 /* below MAX_CONNECTIONS: libmicrohttpd refuses beyond that */
#define MEMORY_PER_CONNECTION (32 * 1024) /* longer headers get 431 */

/* One accepted connection, in the order they came. */
struct Client {
	struct Client *prev, *next;
	int fd;
	int64_t deadline_ms; /* for the whole request; 0 while its answer is sent */
};

struct Http {
	struct MHD_Daemon *daemon;
	int fd;
	http_metrics_fn metrics;
	http_ready_fn ready;
	void *ctx;
	struct StrBuf body;
	struct Client *first, *last;
	size_t nclients;
};

/* libmicrohttpd's messages, as ours: one prefixed line each, through the logger. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	log_debug("metrics listener: %s", msg);
}

/* Cut a connection off: libmicrohttpd sees the end of the stream and closes it. */
static void cut_off(struct Client *c)
{
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	c->deadline_ms = 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	Http *http = cls;
	struct Client *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if (http->nclients >= EVICT_AT) {
			for (struct Client *old = http->first; old; old = old->next)
				if (old->deadline_ms) {
					log_debug("metrics listener: %zu connections: closing the "
						  "oldest one waiting for its request",
						  http->nclients);
					cut_off(old);
					break;
				}
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			return;
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = info ? info->connect_fd : -1;
		c->deadline_ms = mono_ms() + HEADER_DEADLINE_MS;
		c->prev = http->last;
		if (http->last)
			http->last->next = c;
		else
			http->first = c;
		http->last = c;
		http->nclients++;
		*socket_context = c;
	} else if (c) {
		if (c->prev)
			c->prev->next = c->next;
		else
			http->first = c->next;
		if (c->next)
			c->next->prev = c->prev;
		else
			http->last = c->prev;
		http->nclients--;
		free(c);
		*socket_context = NULL;
	}
}

static struct Client *client_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* A request is over: the next one on a kept-alive connection has its own deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)req_cls;
	(void)toe;
	struct Client *c = client_of(conn);
	if (c)
		c->deadline_ms = mono_ms() + HEADER_DEADLINE_MS;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	Http *http = cls;
	(void)version;
	(void)upload_data;

	/*
	 * The first call has the headers only. libmicrohttpd 0.9.75 closes the
	 * connection after a response queued then (the request might have a
	 * body left), which ends keep-alive and drops pipelined requests: answer
	 * from the second call, when the request is complete.
	 */
	static int headers_seen;
	if (!*req_cls) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0; /* a body is read and ignored, within the deadline */
		return MHD_YES;
	}
	/* The request is in: no deadline while the answer is sent. */
	struct Client *c = client_of(conn);
	if (c)
		c->deadline_ms = 0;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (strcmp(url, "/metrics") == 0) {
		sb_reset(&http->body);
		http->metrics(http->ctx, &http->body);
		if (!sb_ok(&http->body))
			return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "no memory\n", 10);
		return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", http->body.data,
			     http->body.len);
	}
	if (strcmp(url, "/healthz") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
	if (strcmp(url, "/readyz") == 0) {
		char reason[256] = "";
		if (http->ready(http->ctx, reason, sizeof(reason)))
			return reply(conn, MHD_HTTP_OK, "text/plain", "ready\n", 6);
		size_t n = strlen(reason);
		if (n + 1 < sizeof(reason))
			reason[n++] = '\n';
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", reason, n);
	}
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

int http_parse_listen(const char *listen, struct sockaddr_in *addr, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "metrics.listen \"%.80s\": expected host:port", listen);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
		snprintf(err, errlen, "metrics.listen \"%.80s\": expected an IPv4 address and a port",
			 listen);
		return -1;
	}
	addr->sin_port = htons((uint16_t)port);
	return 0;
}

Http *http_new(const char *address, http_metrics_fn metrics, http_ready_fn ready, void *ctx,
	       char *err, size_t errlen)
{
	struct sockaddr_in addr;

	if (http_parse_listen(address, &addr, err, errlen) < 0)
		return NULL;

	Http *http = calloc(1, sizeof(*http));
	if (!http) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	http->metrics = metrics;
	http->ready = ready;
	http->ctx = ctx;

	/* Our own socket, so that a bind error names the address and the reason. */
	int sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(sock, 64) < 0) {
		snprintf(err, errlen, "metrics.listen \"%s\": %s", address, strerror(errno));
		if (sock >= 0)
			close(sock);
		free(http);
		return NULL;
	}
	/* No thread of its own: requests are served from the main loop's poll. */
	http->daemon = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, http,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, http, MHD_OPTION_LISTEN_SOCKET, sock,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_PER_CONNECTION,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, http, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, http, MHD_OPTION_END);
	if (!http->daemon) {
		snprintf(err, errlen, "metrics.listen \"%s\": cannot start the HTTP listener", address);
		close(sock);
		free(http);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	http->fd = info ? info->epoll_fd : -1;
	return http;
}

void http_free(Http *http)
{
	if (!http)
		return;
	MHD_stop_daemon(http->daemon);
	sb_free(&http->body);
	free(http);
}

int http_fd(const Http *http)
{
	return http->fd;
}

int http_timeout_ms(const Http *http, int timeout)
{
	MHD_UNSIGNED_LONG_LONG mhd;
	if (MHD_get_timeout(http->daemon, &mhd) == MHD_YES && mhd < (MHD_UNSIGNED_LONG_LONG)timeout)
		timeout = (int)mhd;
	int64_t now = mono_ms();
	for (const struct Client *c = http->first; c; c = c->next)
		if (c->deadline_ms && c->deadline_ms - now < timeout)
			timeout = c->deadline_ms > now ? (int)(c->deadline_ms - now) : 0;
	return timeout;
}

void http_run(Http *http)
{
	/* Also when nothing is readable: timeouts and pipelined requests need the call. */
	MHD_run(http->daemon);
	int64_t now = mono_ms();
	for (struct Client *c = http->first; c; c = c->next)
		if (c->deadline_ms && c->deadline_ms <= now) {
			log_debug("metrics listener: no request within %d ms: closing the connection",
				  HEADER_DEADLINE_MS);
			cut_off(c);
		}
}
