/* Audit SQL: which tables one SQL statement reads and writes, from PostgreSQL's own parse tree. */
#ifndef TABLECAST_SRC_AUDIT_SQL_H
#define TABLECAST_SRC_AUDIT_SQL_H

#include <stddef.h>

/* AuditRef.access bits. */
#define ASQL_READ 1u
#define ASQL_WRITE 2u

/* A table (or view) a statement names, as written: not yet resolved through the catalog. */
struct AuditRef {
	char *schema; /* NULL when the name is unqualified (search_path decides) */
	char *name;
	unsigned access; /* ASQL_READ | ASQL_WRITE */
};

struct AuditRefs {
	struct AuditRef *refs; /* one per distinct (schema, name), in order of appearance */
	size_t n;
	size_t cap;
};

/*
 * Parse sql (one statement, as pg_stat_statements keeps it: constants
 * replaced by $n) with libpg_query and collect the relations it names:
 * FROM, JOIN, subqueries anywhere and CTE bodies are reads; the target of
 * INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY ... FROM, SELECT INTO and
 * CREATE TABLE AS is a write; COPY ... TO reads. A CTE's name is not a
 * table where the CTE is visible. Other utility statements name no tables.
 * Several statements in one text are all collected. Returns 0 (refs
 * appended to out, which starts zeroed), or -1 with the parser's message
 * in err. Main thread only (libpg_query keeps per-thread state).
 */
int asql_tables(const char *sql, struct AuditRefs *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

void asql_refs_free(struct AuditRefs *refs);

#endif
