/* Arena: bump allocation for data that lives as long as one message or transaction. */
#include "autoconf.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK_SIZE (64 * 1024)
/*
 * Blocks start small and double up to ARENA_BLOCK_SIZE: a configuration
 * holds one arena per compiled expression, mostly a few hundred bytes, and
 * thousands of 64 KiB blocks made a large file cost gigabytes.
 */
#define ARENA_FIRST_BLOCK_SIZE 1024

struct ArenaBlock {
	struct ArenaBlock *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct Arena {
	struct ArenaBlock *head; /* current block; older ones follow via next */
	size_t footprint;
};

Arena *arena_new(void)
{
	return calloc(1, sizeof(Arena));
}

static void free_blocks(struct ArenaBlock *block)
{
	while (block) {
		struct ArenaBlock *next = block->next;
		free(block);
		block = next;
	}
}

void arena_free(Arena *arena)
{
	if (!arena)
		return;
	free_blocks(arena->head);
	free(arena);
}

void *arena_alloc(Arena *arena, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct ArenaBlock *block = arena->head;

	if (size > SIZE_MAX - align - sizeof(struct ArenaBlock))
		return NULL;
	size = (size + align - 1) & ~(align - 1);

	if (!block || block->size - block->used < size) {
		size_t grow = block ? block->size * 2 : ARENA_FIRST_BLOCK_SIZE;
		if (grow > ARENA_BLOCK_SIZE)
			grow = ARENA_BLOCK_SIZE;
		size_t want = size > grow ? size : grow;
		block = malloc(sizeof(*block) + want);
		if (!block)
			return NULL;
		block->size = want;
		block->used = 0;
		block->next = arena->head;
		arena->head = block;
		arena->footprint += want;
	}
	void *p = block->data + block->used;
	block->used += size;
	return p;
}

void arena_reset(Arena *arena)
{
	struct ArenaBlock *block = arena->head;

	if (!block)
		return;
	/*
	 * Keep the largest block of at most the standard size, so steady state
	 * does not call malloc; an oversized one goes too, or one huge row would
	 * hold its memory for ever.
	 */
	struct ArenaBlock *keep = NULL;
	for (struct ArenaBlock *b = block; b; b = b->next)
		if (b->size <= ARENA_BLOCK_SIZE && (!keep || b->size > keep->size))
			keep = b;
	while (block) {
		struct ArenaBlock *next = block->next;
		if (block != keep) {
			arena->footprint -= block->size;
			free(block);
		}
		block = next;
	}
	arena->head = keep;
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
}

size_t arena_footprint(const Arena *arena)
{
	return arena->footprint;
}

char *arena_strndup(Arena *arena, const void *s, size_t len)
{
	char *p = arena_alloc(arena, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}
