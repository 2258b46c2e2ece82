/* Relation cache: what each relation OID looks like, from Relation and Type messages. */
#ifndef TABLECAST_SRC_RELCACHE_H
#define TABLECAST_SRC_RELCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgoutput.h"

/*
 * pgoutput sends a Relation message before the first change of a relation
 * in a session and again whenever its definition changed. The cache owns
 * copies of every name, so entries outlive the message buffer.
 */
typedef struct RelCache RelCache;

struct RelColumn {
	char *name;
	uint32_t typoid;
	int32_t typmod;
	bool key; /* part of the replica identity */
};

struct Relation {
	uint32_t relid;
	char *nspname;
	char *relname;
	char *qualname; /* "nsp.rel", for messages */
	char replident; /* d default, n nothing, f full, i index */
	uint16_t natts;
	struct RelColumn *atts;
	uint32_t generation; /* bumped on every schema change, starts at 1 */
};

RelCache *rel_new(void);
void rel_free(RelCache *cache);

/*
 * Store a decoded Relation message. *changed is set when the relation was
 * known before with a different definition (columns, types, names or
 * replica identity). Returns 0, or -1 when out of memory.
 */
int rel_update(RelCache *cache, const struct PgoMessage *msg, bool *changed)
	__attribute__((warn_unused_result));

/* The relation with this OID, or NULL when no Relation message named it. */
const struct Relation *rel_get(const RelCache *cache, uint32_t relid);

/* Store a decoded Type message (custom types: enums, domains, composites). Returns 0 or -1. */
int rel_update_type(RelCache *cache, const struct PgoMessage *msg)
	__attribute__((warn_unused_result));

/* "nsp.name" of a type announced by a Type message, or NULL. */
const char *rel_type_name(const RelCache *cache, uint32_t typoid);

/* Forget everything, e.g. on a new replication session. */
void rel_clear(RelCache *cache);

#endif
