/* Logging: one line per event worth logging, to stderr. */
#ifndef TABLECAST_SRC_LOG_H
#define TABLECAST_SRC_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Lines above this level are dropped; default LOG_INFO. */
void log_set_level(enum log_level level);

/* Parse "error", "warning", "info" or "debug"; false when unknown. */
bool log_parse_level(const char *name, enum log_level *out);

/*
 * Write one line to stderr: "tablecast: LEVEL: message". When stderr is the
 * journal (JOURNAL_STREAM set) the line carries a <N> priority prefix instead,
 * so journald files it under the right level.
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
