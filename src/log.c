/* Logging: one line per event worth logging, to stderr. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum log_level max_level = LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

/* syslog priorities, for journald's <N> prefix */
static const int level_priority[] = {3, 4, 6, 7};

void log_set_level(enum log_level level)
{
	max_level = level;
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

void log_msg(enum log_level level, const char *fmt, ...)
{
	static int journal = -1;
	char line[2048];
	va_list ap;

	if (level > max_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (journal)
		fprintf(stderr, "<%d>%s\n", level_priority[level], line);
	else
		fprintf(stderr, "tablecast: %s: %s\n", level_names[level], line);
}
