/* Audit: who reads and writes each shared table, from PostgreSQL's own statistics. */
#ifndef TABLECAST_SRC_AUDIT_H
#define TABLECAST_SRC_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "strbuf.h"

struct AuditOptions {
	const struct Config *cfg;
	bool json; /* one JSON document instead of text */
	bool since_last; /* compare with <state_dir>/audit.last and report who started and stopped */
	FILE *out;
};

/* audit_run's results. */
#define AUDIT_OK 0
#define AUDIT_NEW_FOREIGN 1 /* since_last: a role other than the owner started using an owned table */
#define AUDIT_FAILED (-1) /* err says why: no pg_stat_statements, connection, state file */

/*
 * Read pg_stat_statements, pg_stat_user_tables and the catalog of the
 * database source.conninfo names; attribute each statement to the tables
 * it reads and writes (unqualified names resolved with each role's
 * search_path, views to their base tables), print the report, and keep it
 * in <state_dir>/audit.last for the next comparison. Main thread only.
 */
int audit_run(const struct AuditOptions *opts, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Prometheus gauges for the running daemon (metrics.audit_interval): the
 * same attribution, compared with this process's previous audit (never
 * with audit.last, which belongs to the command), no connection held
 * between audits.
 */
typedef struct AuditGauges AuditGauges;

AuditGauges *audit_gauges_new(void);
void audit_gauges_free(AuditGauges *g);

/* Audit now; -1 with err (the previous figures stay). Blocks for the queries' time. */
int audit_gauges_update(AuditGauges *g, const struct Config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The tablecast_audit_* samples, in the Prometheus text format. */
void audit_gauges_render(AuditGauges *g, const struct Config *cfg, struct StrBuf *sb);

/*
 * The schemas a search_path value names, in order: unquoted names folded
 * to lower case, quoted ones kept, "$user" replaced by role, empty items
 * dropped. Returns the count (at most max) with malloc'd names in out.
 * Exposed for the unit tests.
 */
size_t audit_search_path(const char *value, const char *role, char **out, size_t max);

#endif
