/* Check: validate the configuration against the source database's live catalog. */
#ifndef TABLECAST_SRC_CHECK_H
#define TABLECAST_SRC_CHECK_H

#include <stdio.h>

#include "config.h"

/*
 * Connect (a normal connection, read-only queries) and check every event:
 * its table and columns exist, expression types fit the declared field
 * types, old.<col> reads have the replica identity they need, TOAST-able
 * columns read from updates without REPLICA IDENTITY FULL, and that the
 * publication covers the tables; and compare tables and column types
 * with what run recorded (docs/SCHEMA-DRIFT.md). Writes one line per finding to out
 * ("file:line: error: ..." or "file:line: warning: ..."). Returns the
 * number of errors, or -1 with err set when the database cannot be asked.
 */
int chk_run(const struct Config *cfg, FILE *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The same checks when `run` starts, except the comparison with the
 * recorded schema (the stream makes it, row by row): findings go to the
 * log. Returns the number of errors (run refuses to start on any), or -1
 * with err when the database cannot be asked.
 */
int chk_start(const struct Config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Can the shard's key split its table (shard.h)? It must exist, be an
 * integer, NOT NULL (a NULL key matches no filter) and in the replica
 * identity (else PostgreSQL 15 refuses the table's UPDATEs and DELETEs
 * once the filtered publication exists). Plain queries, so conn may be a
 * replication connection. 0 when it can; -1 with the reason and the fix
 * in err; -2 when the catalog cannot be read.
 */
struct pg_conn; /* libpq's PGconn */
int chk_shard_key(struct pg_conn *conn, const struct ShardDef *sh, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
