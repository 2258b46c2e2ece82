/* Arena: bump allocation for data that lives as long as one message or transaction. */
#ifndef TABLECAST_SRC_ARENA_H
#define TABLECAST_SRC_ARENA_H

#include <stddef.h>

typedef struct Arena Arena;

Arena *arena_new(void);
void arena_free(Arena *arena);

/*
 * Return size bytes aligned for any type, or NULL when memory is exhausted.
 * The memory stays valid until arena_reset or arena_free.
 */
void *arena_alloc(Arena *arena, size_t size) __attribute__((warn_unused_result));

/* A NUL-terminated copy of len bytes of s, or NULL when memory is exhausted. */
char *arena_strndup(Arena *arena, const void *s, size_t len) __attribute__((warn_unused_result));

/* Forget every allocation; keeps the first block so steady state does not call malloc. */
void arena_reset(Arena *arena);

/* Bytes currently held from malloc, for tests and metrics. */
size_t arena_footprint(const Arena *arena);

#endif
