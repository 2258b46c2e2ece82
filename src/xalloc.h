/* Allocation that cannot fail: out of memory, the process aborts with one line. */
#ifndef TABLECAST_SRC_XALLOC_H
#define TABLECAST_SRC_XALLOC_H

#include <stddef.h>

/*
 * For what a process cannot go on without (configuration, catalog rows,
 * report entries): "tablecast: out of memory" on stderr, then abort().
 * Hot paths allocate from an arena and report failure instead.
 */

/* A copy of s; NULL copies as "". */
char *xstrdup(const char *s) __attribute__((returns_nonnull));

/* The len bytes at s, NUL-terminated. */
char *xstrndup(const void *s, size_t len) __attribute__((returns_nonnull));

/* calloc of n elements (at least one). */
void *xcalloc(size_t n, size_t size) __attribute__((returns_nonnull));

#endif
