/* Test fixtures: load a file captured under tests/fixtures into memory. */
#ifndef TABLECAST_TESTS_UNIT_FIXTURE_H
#define TABLECAST_TESTS_UNIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read FIXTURES/name (e.g. "pgoutput/begin.bin") into a malloc'd buffer of
 * exactly its size, so AddressSanitizer flags any read past its end; the
 * caller frees it. A missing or unreadable file fails the current Check test.
 */
uint8_t *fixture_load(const char *name, size_t *len);

#endif
