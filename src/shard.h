/* Shards: one table's rows split over several publications by a generated row filter. */
#ifndef TABLECAST_SRC_SHARD_H
#define TABLECAST_SRC_SHARD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * source.shard: this instance's publication carries the rows of table
 * whose abs(key % count) = index. The filter is generated, never written
 * by hand: abs() because PostgreSQL's remainder takes the dividend's sign
 * (-7 % 2 = -1), and an integer key because only that is both immutable
 * and stable across major versions. Every sibling instance has the same
 * table, key and count, and its own index.
 */
struct ShardDef {
	char *table; /* "schema.table" */
	char *key; /* a column name: lower-case letters, digits and _ */
	int count; /* 2..SHARD_MAX_COUNT */
	int index; /* 0..count-1 */
	int line; /* in the configuration file */
};

#define SHARD_MAX_COUNT 1024

/* The row filter, without WHERE: "abs(\"id\" % 2) = 0". Returns its length (snprintf's). */
int shard_filter_sql(const struct ShardDef *sh, char *buf, size_t len);

/*
 * Read a row filter as PostgreSQL prints it (pg_publication_tables.rowfilter)
 * back into count and index, if it is one shard_filter_sql generated for
 * key: "(abs((id % 2)) = 1)", "(abs(((id)::integer % 2)) = 1)" for a
 * smallint key, "(abs((id % (2)::bigint)) = 1)" for a bigint one. Anything
 * else, even an equivalent filter, is false: only a generated filter is
 * known to split every row (negative keys included) exactly once.
 */
bool shard_parse_rowfilter(const char *rowfilter, const char *key, int *count, int *index);

/* One publication's part of a table: rows with abs(key % count) = index. */
struct ShardPart {
	const char *publication;
	int count;
	int index;
};

/*
 * Do the parts cover every row exactly once? Counts may differ (2 index 0
 * plus 4 index 1 and 4 index 3 is a cover): each residue of abs(key)
 * modulo the least common multiple is checked. Returns 0 when they do;
 * -1 with one line in err naming the first gap or overlap (what of both
 * is found first: overlaps, then gaps) and *gap_only set when nothing
 * overlaps, so a caller can tolerate a sibling that is not there yet.
 */
int shard_cover(const char *table, const char *key, const struct ShardPart *parts, size_t nparts,
		bool *gap_only, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
