/* Table reader: the columns a table's snapshot events need, read with COPY and translated. */
#ifndef TABLECAST_SRC_READER_H
#define TABLECAST_SRC_READER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "relcache.h"
#include "translator.h"

/*
 * One table as a snapshot or backfill reads it. rel describes only the
 * columns selected (those the table's on = ["snapshot"] events use, plus
 * the key when asked for), in select order, so the translator binds to it
 * like to a Relation message.
 */
/*
 * A leaf partition of a partitioned table. Page ranges (ctid) exist only in
 * plain tables, so a partitioned table is read partition by partition, each
 * split like a table of its own; its rows are the partitioned table's.
 */
struct ReadPart {
	uint32_t relid;
	uint32_t filenode;
	uint64_t blocks;
	double reltuples;
	char *from; /* "ONLY \"nsp\".\"leaf\"" */
};

struct ReadTable {
	struct Relation rel;
	char *from; /* "ONLY \"nsp\".\"rel\"" (no ONLY for a partitioned table) */
	struct ReadPart *parts; /* a partitioned table's leaf partitions, by OID */
	size_t nparts;
	char *select_list; /* quoted column names, comma-separated */
	bool partitioned;
	bool published; /* in source.publication */
	uint32_t filenode; /* pg_relation_filenode: changes when the table is rewritten */
	uint64_t blocks; /* pages at load time; 0 for a backfill, which needs no size */
	double reltuples; /* the planner's estimate; < 0 when never analysed */
	uint16_t nkeys; /* key columns (primary key or replica identity index) */
	uint16_t keys[32]; /* their positions in rel.atts */
	char *key_types[32]; /* their format_type, for literals */
};

/* What a table is read for: what rd_load looks up. */
enum rd_purpose {
	/*
	 * A snapshot: page ranges, so the size and a partitioned table's
	 * partitions, and the key's columns when there is a key (row ids).
	 */
	RD_SNAPSHOT,
	/*
	 * A backfill: in key order, so a key is required; no size, since
	 * pg_relation_size would wait, in the main loop, behind a table lock.
	 */
	RD_BACKFILL,
};

/*
 * Look up qualname ("schema.table") on conn and pick the columns cfg's
 * snapshot events read, and the key's columns (primary key or replica
 * identity index). Returns 0, -1 with err (missing table, no columns).
 */
int rd_load(PGconn *conn, const struct Config *cfg, const char *qualname, enum rd_purpose purpose,
	    struct ReadTable *t, char *err, size_t errlen) __attribute__((warn_unused_result));
void rd_free(struct ReadTable *t);

/* Split "schema.table" (which configuration loading made sure of) into its two names. */
void rd_split_name(const char *qualname, char nsp[256], char rel[256]);

/* The role's privileges on a table, read from the catalog by name. */
struct TablePrivileges {
	bool exists;
	bool select, insert, update, del, truncate;
};

/* Returns 0 (exists false when there is no such table), or -1 with err. */
int rd_privileges(PGconn *conn, const char *qualname, struct TablePrivileges *out, char *err,
		  size_t errlen) __attribute__((warn_unused_result));

/* Tables with an event declared on = ["snapshot"], each once, in configuration order. */
size_t rd_snapshot_tables(const struct Config *cfg, const char ***out);

/*
 * One COPY text row of t (a CopyData message, modified in place) through
 * xl as a snapshot read. cols has room for t->rel.natts values. Returns 0,
 * or -1 with err (a malformed row, or the translator's halt).
 */
int rd_row(Translator *xl, const struct ReadTable *t, uint8_t *row, size_t len,
	   struct PgoValue *cols, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
