/* Logging: one line per event worth logging, to stderr. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level max_level = LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

/* syslog priorities, for journald's <N> prefix */
static const int level_priority[] = {3, 4, 6, 7};

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

bool log_parse_level(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

/* One message, one line: a control character from anywhere (a signal row, a server message quoting one). */
void log_escape_controls(char *line, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char out[2048];
	size_t n = 0;

	if (!strpbrk(line, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
			   "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"))
		return;
	for (const unsigned char *p = (const unsigned char *)line; *p && n + 5 < sizeof(out); p++) {
		if (*p < 0x20 || *p == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
	snprintf(line, size, "%s", out);
}

void log_mask_controls(char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			*text = '?';
}

/*
 * systemd sets JOURNAL_STREAM to "<device>:<inode>" of the stream it
 * connected to stderr. Children inherit the variable even when their stderr
 * goes elsewhere (a test harness, a pipe to a file), so it counts only when
 * stderr is that very stream.
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	/* Snapshot threads log too: whichever asks first finds the same answer. */
	static _Atomic int journal = -1;
	char line[2048], stamp[32];
	va_list ap;

	if (level > max_level)
		return;
	if (journal < 0)
		journal = stderr_is_journal();

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_escape_controls(line, sizeof(line));

	if (journal)
		fprintf(stderr, "<%d>%s\n", level_priority[level], line);
	else {
		/* Outside the journal nothing else dates the line: UTC, to the millisecond. */
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
		fprintf(stderr, "%s tablecast: %s: %s\n", stamp, level_names[level], line);
	}
}
