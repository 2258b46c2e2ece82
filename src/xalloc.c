/* Allocation that cannot fail: out of memory, the process aborts with one line. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void out_of_memory(void)
{
	fputs("tablecast: out of memory\n", stderr);
	abort();
}

char *xstrdup(const char *s)
{
	char *c = strdup(s ? s : "");
	if (!c)
		out_of_memory();
	return c;
}

char *xstrndup(const void *s, size_t len)
{
	char *p = malloc(len + 1);
	if (!p)
		out_of_memory();
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		out_of_memory();
	return p;
}
