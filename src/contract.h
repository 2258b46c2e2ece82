/* Contract: the source schema each event was validated against, kept in the state directory. */
#ifndef TABLECAST_SRC_CONTRACT_H
#define TABLECAST_SRC_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * A translator is a contract between a table and its consumers. What an
 * event was validated against (for every column it reads: the type and
 * typmod) is recorded in <state_dir>/<slot>.schema, so a restart compares
 * the stream with that record and not with whatever the new process
 * happens to see first. Each column keeps its versions with the LSN from
 * which they hold: a stream replayed from before a compatible change still
 * matches the older version. The same file keeps, per table, the relation
 * OID the events read and any gap the publication guard found (a table
 * re-created or dropped from the publication), so both survive a restart
 * until the operator resyncs the table.
 *
 * The file is small (one line per event column, per table, per gap),
 * written whole with file_replace (mode 0600).
 */
typedef struct Contract Contract;

/* A column's type as recorded. */
struct CtrType {
	uint32_t typoid;
	int32_t typmod;   /* -1: none */
	const char *name; /* as format_type prints it, e.g. "character varying(20)" */
};

/* Load the record of cfg's slot (none yet: empty). NULL with err when it cannot be read. */
Contract *ctr_open(const struct Config *cfg, char *err, size_t errlen);

/* A record kept in memory only (snapshot and backfill translators, tests). */
Contract *ctr_new_memory(void);
void ctr_free(Contract *ctr);

/*
 * The recorded type of event's column of table that holds at lsn (the
 * latest version starting at or before it); false when none is recorded.
 */
bool ctr_lookup(const Contract *ctr, const char *event, const char *table, const char *column,
                uint64_t lsn, struct CtrType *out);

/* Record type as the version of event's column holding from lsn on. Returns 0 or -1 (memory). */
int ctr_record(Contract *ctr, const char *event, const char *table, const char *column,
               uint64_t lsn, const struct CtrType *type) __attribute__((warn_unused_result));

/* The relation OID recorded for table, 0 when none. */
uint32_t ctr_relid(const Contract *ctr, const char *table);
int ctr_set_relid(Contract *ctr, const char *table, uint32_t relid)
    __attribute__((warn_unused_result));

/* A gap recorded for table: the first LSN whose rows may be missing, and why. */
bool ctr_gap(const Contract *ctr, const char *table, uint64_t *lsn, const char **reason);
int ctr_set_gap(Contract *ctr, const char *table, uint64_t lsn, const char *reason)
    __attribute__((warn_unused_result));
void ctr_clear_gap(Contract *ctr, const char *table);

/* Write the record if it changed (a memory record: nothing). Returns 0, or -1 with err. */
int ctr_save(Contract *ctr, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Is a column that changed type from `from` to `to` still a faithful
 * source for its use? field is the event field whose value expression
 * reads the column, or NULL for when, key and subject. The rules are the
 * table in docs/SCHEMA-DRIFT.md:
 *   - same type, other typmod (varchar(n), numeric(p,s), timestamp(p)): yes
 *   - text <-> character varying: yes
 *   - smallint -> integer -> bigint (widening): when every value of the
 *     new type fits the field (int64, sint64, string, decimal; int32,
 *     sint32 and double hold integer; float holds smallint), or for when,
 *     key and subject
 *   - real -> double precision: for double, string and decimal fields, when, key, subject
 *   - anything else: no
 */
bool ctr_compatible(const struct CtrType *from, const struct CtrType *to,
                    const struct EventField *field);

/*
 * A type's name as PostgreSQL's format_type prints it, typmod included
 * ("integer", "character varying(20)", "numeric(12,2)", "text[]"); custom
 * is the name a Type message gave (NULL when none). Unknown types print as
 * "type OID <n>".
 */
void ctr_type_format(uint32_t typoid, int32_t typmod, const char *custom, char *out, size_t outlen);

#endif
