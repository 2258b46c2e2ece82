/* libFuzzer target: parse arbitrary bytes as a lock file; what parses writes back to itself. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A parsed lock is compatible with itself, and its text parses again to a
 * lock that writes the same text: the writer escapes everything the
 * parser reads back. Any difference aborts, which libFuzzer reports.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	Lock *lock = lock_parse((const char *)data, size, "fuzz.lock", err, sizeof(err));
	if (!lock) {
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	struct StrBuf a = {0}, b = {0}, out = {0};
	lock_format(lock, &a);
	if (!sb_ok(&a))
		abort();
	Lock *again = lock_parse(a.data, a.len, "again.lock", err, sizeof(err));
	if (!again)
		abort();
	lock_format(again, &b);
	if (!sb_ok(&b) || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	if (lock_compare(lock, again, &out) != 0 || lock_compare(again, lock, &out) != 0)
		abort();
	sb_free(&a);
	sb_free(&b);
	sb_free(&out);
	lock_free(lock);
	lock_free(again);
	return 0;
}
