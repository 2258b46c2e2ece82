/* Test fixtures: load a file captured under tests/fixtures into memory. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

uint8_t *fixture_load(const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);

	FILE *f = fopen(path, "rb");
	if (!f)
		ck_abort_msg("fixture %s: %s (tests/capture-fixtures.sh writes it)", path,
			     strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0)
		ck_abort_msg("fixture %s: cannot seek: %s", path, strerror(errno));
	long size = ftell(f);
	if (size <= 0 || fseek(f, 0, SEEK_SET) != 0)
		ck_abort_msg("fixture %s: empty or unreadable", path);

	uint8_t *buf = malloc((size_t)size);
	ck_assert_ptr_nonnull(buf);
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		ck_abort_msg("fixture %s: short read", path);
	fclose(f);
	*len = (size_t)size;
	return buf;
}
