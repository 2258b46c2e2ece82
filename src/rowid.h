/* Row ids: what a snapshot or backfill row's ce_id is made of, the same every time it is read. */
#ifndef TABLECAST_SRC_ROWID_H
#define TABLECAST_SRC_ROWID_H

#include <stddef.h>
#include <stdint.h>

#include "pgoutput.h"

#define ROWID_SECRET_BYTES 16

/*
 * A row read again (a snapshot chunk or backfill chunk after a crash) must
 * repeat the ce_id it had, so that consumers drop it as a duplicate, and
 * two rows must never share one. The id is a digest of the table and the
 * row's key (primary key or replica identity index), not the key itself:
 * a 128-bit SipHash keyed with a secret that is never published, so it
 * reveals nothing of a key column no event maps.
 */
struct RowId {
	uint8_t secret[ROWID_SECRET_BYTES];
	uint8_t *buf; /* the serialised key, grown as needed */
	size_t cap;
};

/*
 * The secret kept at path (0600), made when there is none. Returns 0, or
 * -1 with err.
 */
int rowid_load(struct RowId *r, const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* "<prefix><32 hex digits>": the digest of relid and the key columns keys[0..nkeys) of cols. */
void rowid_format(struct RowId *r, char *out, size_t outlen, const char *prefix, uint32_t relid,
		  const struct PgoValue *cols, const uint16_t *keys, uint16_t nkeys);

void rowid_free(struct RowId *r);

#endif
