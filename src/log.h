/* Logging: one line per event worth logging, to stderr. */
#ifndef TABLECAST_SRC_LOG_H
#define TABLECAST_SRC_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Lines above this level are dropped; default LOG_INFO. */
void log_set_level(enum log_level level);

/*
 * Rewrite every control character of the NUL-terminated text as \xNN, in
 * place (cut to size), as log lines are: text a user wrote can neither
 * start a line of its own nor send escape sequences to a terminal.
 */
void log_escape_controls(char *text, size_t size);

/*
 * Replace every control character of the NUL-terminated text with '?', in
 * place: one line, whatever a file or a name held, in messages and reports
 * that show a short value rather than quote it exactly.
 */
void log_mask_controls(char *text);
enum log_level log_get_level(void);

/* Parse "error", "warning", "info" or "debug"; false when unknown. */
bool log_parse_level(const char *name, enum log_level *out);

/*
 * Write one line to stderr: "2026-01-31T12:00:00.123Z tablecast: LEVEL:
 * message" (UTC). When stderr is the journal (JOURNAL_STREAM names stderr's
 * device and inode) the line carries a <N> priority prefix instead, so
 * journald files it under the right level and adds its own timestamp.
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A warning about something that does not change while running: once per process, not per reconnect. */
#define log_warning_once(...)                        \
	do {                                         \
		static bool log_warned_;             \
		if (!log_warned_) {                  \
			log_warned_ = true;          \
			log_warning(__VA_ARGS__);    \
		}                                    \
	} while (0)

#endif
