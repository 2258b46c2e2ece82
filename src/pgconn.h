/* PostgreSQL connections with the session settings tablecast reads values under. */
#ifndef TABLECAST_SRC_PGCONN_H
#define TABLECAST_SRC_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Connect with conninfo plus the settings that make text values
 * unambiguous to parse (ISO dates, UTC, round-trip floats, hex bytea), so a
 * row read with COPY prints exactly as the replication stream sends it.
 * replication: a walsender connection (replication=database). Returns the
 * connection, or NULL with "connecting to PostgreSQL: <first line>" in err.
 */
PGconn *pgc_connect(const char *conninfo, bool replication, const char *appname, char *err,
		    size_t errlen);

/* TCP keepalive timing, in seconds (libpq's keepalives_* and the server's tcp_keepalives_*). */
struct PgcKeepalive {
	int idle_s;
	int interval_s;
	int count;
};

/*
 * pgc_connect with TCP keepalives on both ends of the socket: libpq's on
 * this side, the session's tcp_keepalives_* on the server's. ka NULL:
 * pgc_connect.
 */
PGconn *pgc_connect_keepalive(const char *conninfo, bool replication, const char *appname,
			      const struct PgcKeepalive *ka, char *err, size_t errlen);

/*
 * The first line of a libpq message, without the "ERROR:  " or "FATAL:  "
 * severity that libpq puts at its start or after "connection ... failed: ".
 */
void pgc_first_line(const char *msg, char *out, size_t outlen);

/* Run sql, expecting no error; on one, "<what>: <first line>" in err and -1. */
int pgc_exec(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * A configured "schema.table" as SQL: both parts quoted as identifiers
 * ("public"."Orders"). malloc'd; NULL when out of memory or without a dot.
 */
char *pgc_table_name(PGconn *conn, const char *qualname);

#endif
