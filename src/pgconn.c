/* PostgreSQL connections with the session settings tablecast reads values under. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"

void pgc_first_line(const char *msg, char *out, size_t outlen)
{
	static const char *const severities[] = {"ERROR:  ", "FATAL:  ", NULL};
	size_t n = 0;

	if (!msg || !*msg)
		msg = "unknown error";
	while (*msg && *msg != '\n' && n + 1 < outlen) {
		bool skipped = false;
		for (const char *const *s = severities; *s && !skipped; s++) {
			if (strncmp(msg, *s, strlen(*s)) == 0) {
				msg += strlen(*s);
				skipped = true;
			}
		}
		if (!skipped && *msg && *msg != '\n')
			out[n++] = *msg++;
	}
	out[n] = '\0';
}

/* Appended to any options the conninfo already has. */
static const char session_options[] =
	"-c datestyle=ISO,YMD -c timezone=UTC -c extra_float_digits=3 -c bytea_output=hex "
	"-c intervalstyle=postgres";

PGconn *pgc_connect(const char *conninfo, bool replication, const char *appname, char *err,
		    size_t errlen)
{
	return pgc_connect_keepalive(conninfo, replication, appname, NULL, err, errlen);
}

PGconn *pgc_connect_keepalive(const char *conninfo, bool replication, const char *appname,
			      const struct PgcKeepalive *ka, char *err, size_t errlen)
{
	char line[512], *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	if (!opts) {
		pgc_first_line(perr ? perr : "out of memory", line, sizeof(line));
		snprintf(err, errlen, "source.conninfo: %s", line);
		PQfreemem(perr);
		return NULL;
	}
	const char *user_options = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val)
			user_options = o->val;
	/*
	 * Keepalives on the server's end of the socket (tcp_keepalives_*), so
	 * that it notices a client host that vanished and frees what the
	 * session held, the replication slot first. They come before the
	 * conninfo's own options, which win.
	 */
	char server_ka[160] = "", idle[16], interval[16], count[16];
	if (ka) {
		snprintf(server_ka, sizeof(server_ka),
			 "-c tcp_keepalives_idle=%d -c tcp_keepalives_interval=%d -c tcp_keepalives_count=%d ",
			 ka->idle_s, ka->interval_s, ka->count);
		snprintf(idle, sizeof(idle), "%d", ka->idle_s);
		snprintf(interval, sizeof(interval), "%d", ka->interval_s);
		snprintf(count, sizeof(count), "%d", ka->count);
	}
	size_t len = strlen(server_ka) + sizeof(session_options) +
		     (user_options ? strlen(user_options) + 1 : 0);
	char *options = malloc(len);
	if (!options) {
		PQconninfoFree(opts);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(options, len, "%s%s%s%s", server_ka, user_options ? user_options : "",
		 user_options ? " " : "", session_options);
	PQconninfoFree(opts);

	/*
	 * expand_dbname: the first "dbname" is the whole conninfo; later keys
	 * override it. libpq's keepalives make this end notice a server host
	 * that vanished.
	 */
	const char *keys[9] = {"dbname", "fallback_application_name", "options"};
	const char *vals[9] = {conninfo, appname, options};
	size_t n = 3;
	if (replication) {
		keys[n] = "replication";
		vals[n++] = "database";
	}
	if (ka) {
		keys[n] = "keepalives";
		vals[n++] = "1";
		keys[n] = "keepalives_idle";
		vals[n++] = idle;
		keys[n] = "keepalives_interval";
		vals[n++] = interval;
		keys[n] = "keepalives_count";
		vals[n++] = count;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	free(options);
	if (PQstatus(conn) == CONNECTION_OK)
		return conn;
	pgc_first_line(PQerrorMessage(conn), line, sizeof(line));
	snprintf(err, errlen, "connecting to PostgreSQL: %s", line);
	PQfinish(conn);
	return NULL;
}

int pgc_exec(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
	char line[512];
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	pgc_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), line, sizeof(line));
	PQclear(res);
	snprintf(err, errlen, "%s: %s", what, line);
	return -1;
}

char *pgc_table_name(PGconn *conn, const char *qualname)
{
	const char *dot = strchr(qualname, '.');
	if (!dot)
		return NULL;
	char *nsp = PQescapeIdentifier(conn, qualname, (size_t)(dot - qualname));
	char *rel = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
	char *out = NULL;
	if (nsp && rel) {
		size_t len = strlen(nsp) + strlen(rel) + 2;
		out = malloc(len);
		if (out)
			snprintf(out, len, "%s.%s", nsp, rel);
	}
	PQfreemem(nsp);
	PQfreemem(rel);
	return out;
}
