/* HTTP: Prometheus metrics and health endpoints, served from the main loop. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct Http {
	struct MHD_Daemon *daemon;
	int fd;
	http_metrics_fn metrics;
	http_ready_fn ready;
	void *ctx;
	struct StrBuf body;
};

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
	(void)upload_data_size;
	(void)req_cls;

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

Http *http_new(const char *listen, http_metrics_fn metrics, http_ready_fn ready, void *ctx,
	       char *err, size_t errlen)
{
	struct sockaddr_in addr;

	if (http_parse_listen(listen, &addr, err, errlen) < 0)
		return NULL;

	Http *http = calloc(1, sizeof(*http));
	if (!http) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	http->metrics = metrics;
	http->ready = ready;
	http->ctx = ctx;
	/* No thread of its own: requests are served from the main loop's poll. */
	http->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
					on_request, http, MHD_OPTION_SOCK_ADDR, &addr,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16, MHD_OPTION_END);
	if (!http->daemon) {
		snprintf(err, errlen, "metrics.listen \"%s\": cannot listen there", listen);
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

void http_run(Http *http)
{
	MHD_run(http->daemon);
}
