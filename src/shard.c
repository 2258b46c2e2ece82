/* Shards: one table's rows split over several publications by a generated row filter. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

/* Residues checked at most: counts up to SHARD_MAX_COUNT whose lcm stays this small. */
#define SHARD_MAX_RESIDUES (1 << 20)

int shard_filter_sql(const struct ShardDef *sh, char *buf, size_t len)
{
	return snprintf(buf, len, "abs(\"%s\" %% %d) = %d", sh->key, sh->count, sh->index);
}

/* A decimal number without sign or leading zeros, at most 9 digits; advances *s. */
static bool parse_number(const char **s, int *out)
{
	const char *p = *s;
	int v = 0, digits = 0;

	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	while (*p >= '0' && *p <= '9' && digits < 9) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || (*p >= '0' && *p <= '9'))
		return false;
	*s = p;
	*out = v;
	return true;
}

static bool skip(const char **s, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* The key as PostgreSQL prints it: bare, or quoted when it is a keyword. */
static bool skip_key(const char **s, const char *key)
{
	const char *p = *s;
	bool quoted = *p == '"';
	p += quoted;
	if (!skip(&p, key) || (quoted && !skip(&p, "\"")))
		return false;
	*s = p;
	return true;
}

bool shard_parse_rowfilter(const char *rowfilter, const char *key, int *count, int *index)
{
	char text[512];
	size_t n = 0;
	int c, i;

	if (!rowfilter)
		return false;
	/* Whitespace is only the printer's layout: a key never holds any. */
	for (const char *p = rowfilter; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n')
			continue;
		if (n + 1 >= sizeof(text))
			return false;
		text[n++] = *p;
	}
	text[n] = '\0';

	const char *s = text;
	if (!skip(&s, "(abs("))
		return false;
	if (skip(&s, "((")) {
		/* smallint: (abs(((id)::integer % 2)) = 1) */
		if (!skip_key(&s, key) || !skip(&s, ")::integer%") || !parse_number(&s, &c) ||
		    !skip(&s, "))"))
			return false;
	} else if (skip(&s, "(")) {
		if (!skip_key(&s, key) || !skip(&s, "%"))
			return false;
		if (skip(&s, "(")) {
			/* bigint: (abs((id % (2)::bigint)) = 1) */
			if (!parse_number(&s, &c) || !skip(&s, ")::bigint))"))
				return false;
		} else if (!parse_number(&s, &c) || !skip(&s, "))")) {
			return false;
		}
	} else {
		return false;
	}
	if (!skip(&s, "=") || !parse_number(&s, &i) || !skip(&s, ")") || *s)
		return false;
	if (c < 2 || c > SHARD_MAX_COUNT || i >= c)
		return false;
	*count = c;
	*index = i;
	return true;
}

static long gcd(long a, long b)
{
	while (b) {
		long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

int shard_cover(const char *table, const char *key, const struct ShardPart *parts, size_t nparts,
		bool *gap_only, char *err, size_t errlen)
{
	long lcm = 1;

	*gap_only = false;
	for (size_t p = 0; p < nparts; p++) {
		if (parts[p].count < 1 || parts[p].index < 0 || parts[p].index >= parts[p].count) {
			snprintf(err, errlen, "%s: publication \"%s\" has shard %d of %d, which no row has",
				 table, parts[p].publication, parts[p].index, parts[p].count);
			return -1;
		}
		lcm = lcm / gcd(lcm, parts[p].count) * parts[p].count;
		if (lcm > SHARD_MAX_RESIDUES) {
			snprintf(err, errlen,
				 "%s: the shard counts of its publications have a least common multiple above %d, too many residues to prove a cover; give every instance the same source.shard.count",
				 table, SHARD_MAX_RESIDUES);
			return -1;
		}
	}
	if (nparts == 0) {
		snprintf(err, errlen, "%s: no publication carries any of its shards", table);
		*gap_only = true;
		return -1;
	}

	/*
	 * Shard of a key k: abs(k % n) = abs(k) mod n, so a row's shards
	 * depend only on r = abs(k) mod lcm, and r mod n is its residue for
	 * every part. Each r must be in exactly one part.
	 */
	int32_t *owner = malloc((size_t)lcm * sizeof(*owner));
	if (!owner) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (long r = 0; r < lcm; r++)
		owner[r] = -1;
	int rc = 0;
	for (size_t p = 0; p < nparts && rc == 0; p++)
		for (long r = parts[p].index; r < lcm; r += parts[p].count) {
			if (owner[r] >= 0) {
				const struct ShardPart *o = &parts[owner[r]];
				snprintf(err, errlen,
					 "shard filters of %s overlap: rows with abs(%s %% %ld) = %ld are in publications \"%s\" (shard %d of %d) and \"%s\" (shard %d of %d) and would be sent twice; give every instance the same source.shard.count and its own index",
					 table, key, lcm, r, o->publication, o->index, o->count,
					 parts[p].publication, parts[p].index, parts[p].count);
				rc = -1;
				break;
			}
			owner[r] = (int32_t)p;
		}
	for (long r = 0; r < lcm && rc == 0; r++)
		if (owner[r] < 0) {
			snprintf(err, errlen,
				 "shard filters of %s leave a gap: rows with abs(%s %% %ld) = %ld are in no publication, so no slot records their changes; start the instance with source.shard count = %ld and index = %ld (it creates its publication), or CREATE PUBLICATION ... FOR TABLE %s WHERE (abs(\"%s\" %% %ld) = %ld)",
				 table, key, lcm, r, lcm, r, table, key, lcm, r);
			*gap_only = true;
			rc = -1;
		}
	free(owner);
	return rc;
}
