/*
 * LD_PRELOAD shim for tests: time() answers the same second in every
 * process, as for processes started within one second of each other.
 * Only time() is replaced; clock_gettime and gettimeofday, which timeouts
 * and librdkafka's threads rely on, are left alone.
 */
#include <time.h>

time_t time(time_t *t)
{
	time_t now = 1767225600; /* 2026-01-01 00:00:00 UTC */
	if (t)
		*t = now;
	return now;
}
