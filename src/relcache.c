/* Relation cache: what each relation OID looks like, from Relation and Type messages. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relcache.h"

struct TypeEntry {
	uint32_t typoid;
	char *name; /* "nsp.name" */
};

/*
 * Open addressing keyed by OID; OIDs are never 0 (InvalidOid), so 0 marks
 * an empty slot. A shared database has hundreds of tables at most: the
 * tables grow by doubling and never shrink.
 */
struct RelCache {
	struct Relation **rels;
	size_t rel_cap;
	size_t rel_count;
	struct TypeEntry *types;
	size_t type_cap;
	size_t type_count;
};

static size_t hash_oid(uint32_t oid, size_t cap)
{
	return (size_t)(oid * 2654435761u) & (cap - 1);
}

RelCache *rel_new(void)
{
	return calloc(1, sizeof(RelCache));
}

static void relation_free(struct Relation *rel)
{
	if (!rel)
		return;
	for (uint16_t i = 0; i < rel->natts; i++)
		free(rel->atts[i].name);
	free(rel->atts);
	free(rel->nspname);
	free(rel->relname);
	free(rel->qualname);
	free(rel);
}

void rel_clear(RelCache *cache)
{
	for (size_t i = 0; i < cache->rel_cap; i++) {
		relation_free(cache->rels[i]);
		cache->rels[i] = NULL;
	}
	for (size_t i = 0; i < cache->type_cap; i++) {
		free(cache->types[i].name);
		cache->types[i] = (struct TypeEntry){0};
	}
	cache->rel_count = 0;
	cache->type_count = 0;
}

void rel_free(RelCache *cache)
{
	if (!cache)
		return;
	rel_clear(cache);
	free(cache->rels);
	free(cache->types);
	free(cache);
}

static struct Relation **rel_slot(struct Relation **rels, size_t cap, uint32_t relid)
{
	size_t i = hash_oid(relid, cap);
	while (rels[i] && rels[i]->relid != relid)
		i = (i + 1) & (cap - 1);
	return &rels[i];
}

static int rel_grow(RelCache *cache)
{
	size_t cap = cache->rel_cap ? cache->rel_cap * 2 : 64;
	struct Relation **rels = calloc(cap, sizeof(*rels));
	if (!rels)
		return -1;
	for (size_t i = 0; i < cache->rel_cap; i++)
		if (cache->rels[i])
			*rel_slot(rels, cap, cache->rels[i]->relid) = cache->rels[i];
	free(cache->rels);
	cache->rels = rels;
	cache->rel_cap = cap;
	return 0;
}

const struct Relation *rel_get(const RelCache *cache, uint32_t relid)
{
	if (!cache->rel_cap)
		return NULL;
	return *rel_slot(cache->rels, cache->rel_cap, relid);
}

static bool same_definition(const struct Relation *a, const struct Relation *b)
{
	if (a->natts != b->natts || a->replident != b->replident ||
	    strcmp(a->nspname, b->nspname) != 0 || strcmp(a->relname, b->relname) != 0)
		return false;
	for (uint16_t i = 0; i < a->natts; i++) {
		const struct RelColumn *x = &a->atts[i], *y = &b->atts[i];
		if (x->typoid != y->typoid || x->typmod != y->typmod || x->key != y->key ||
		    strcmp(x->name, y->name) != 0)
			return false;
	}
	return true;
}

int rel_update(RelCache *cache, const struct PgoMessage *msg, bool *changed)
{
	*changed = false;
	if ((cache->rel_count + 1) * 2 > cache->rel_cap && rel_grow(cache) < 0)
		return -1;

	struct Relation *rel = calloc(1, sizeof(*rel));
	if (!rel)
		return -1;
	rel->relid = msg->relation.relid;
	rel->replident = msg->relation.replident;
	rel->natts = msg->relation.natts;
	rel->nspname = strdup(msg->relation.nspname);
	rel->relname = strdup(msg->relation.relname);
	rel->atts = calloc(rel->natts ? rel->natts : 1, sizeof(struct RelColumn));
	size_t qlen = strlen(msg->relation.nspname) + strlen(msg->relation.relname) + 2;
	rel->qualname = malloc(qlen);
	if (!rel->nspname || !rel->relname || !rel->atts || !rel->qualname) {
		relation_free(rel);
		return -1;
	}
	snprintf(rel->qualname, qlen, "%s.%s", rel->nspname, rel->relname);
	for (uint16_t i = 0; i < rel->natts; i++) {
		const struct PgoColumn *c = &msg->relation.atts[i];
		rel->atts[i] = (struct RelColumn){
			.name = strdup(c->name),
			.typoid = c->typoid,
			.typmod = c->typmod,
			.key = (c->flags & PGO_ATT_KEY) != 0,
		};
		if (!rel->atts[i].name) {
			relation_free(rel);
			return -1;
		}
	}

	struct Relation **slot = rel_slot(cache->rels, cache->rel_cap, rel->relid);
	if (*slot) {
		/* pgoutput re-sends unchanged definitions after a reconnect or cache flush. */
		*changed = !same_definition(*slot, rel);
		rel->generation = (*slot)->generation + (*changed ? 1 : 0);
		relation_free(*slot);
	} else {
		rel->generation = 1;
		cache->rel_count++;
	}
	*slot = rel;
	return 0;
}

static struct TypeEntry *type_slot(struct TypeEntry *types, size_t cap, uint32_t typoid)
{
	size_t i = hash_oid(typoid, cap);
	while (types[i].typoid && types[i].typoid != typoid)
		i = (i + 1) & (cap - 1);
	return &types[i];
}

int rel_update_type(RelCache *cache, const struct PgoMessage *msg)
{
	/* OID 0 (InvalidOid) marks empty slots: no real type has it. */
	if (msg->type.typoid == 0)
		return 0;
	if ((cache->type_count + 1) * 2 > cache->type_cap) {
		size_t cap = cache->type_cap ? cache->type_cap * 2 : 32;
		struct TypeEntry *types = calloc(cap, sizeof(*types));
		if (!types)
			return -1;
		for (size_t i = 0; i < cache->type_cap; i++)
			if (cache->types[i].typoid)
				*type_slot(types, cap, cache->types[i].typoid) = cache->types[i];
		free(cache->types);
		cache->types = types;
		cache->type_cap = cap;
	}

	size_t len = strlen(msg->type.nspname) + strlen(msg->type.typname) + 2;
	char *name = malloc(len);
	if (!name)
		return -1;
	snprintf(name, len, "%s.%s", msg->type.nspname, msg->type.typname);

	struct TypeEntry *e = type_slot(cache->types, cache->type_cap, msg->type.typoid);
	if (e->typoid)
		free(e->name);
	else
		cache->type_count++;
	e->typoid = msg->type.typoid;
	e->name = name;
	return 0;
}

const char *rel_type_name(const RelCache *cache, uint32_t typoid)
{
	if (!cache->type_cap || typoid == 0)
		return NULL;
	const struct TypeEntry *e = type_slot(cache->types, cache->type_cap, typoid);
	return e->typoid ? e->name : NULL;
}
