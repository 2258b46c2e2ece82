/* String buffer: a growable byte buffer for building output lines. */
#ifndef TABLECAST_SRC_STRBUF_H
#define TABLECAST_SRC_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Appends never fail visibly: on allocation failure the buffer is marked
 * broken and later appends do nothing; check sb_ok before using the bytes.
 * Reused across lines with sb_reset, so steady state does not allocate.
 */
struct StrBuf {
	char *data;
	size_t len;
	size_t cap;
	bool broken;
};

void sb_reset(struct StrBuf *sb);
void sb_free(struct StrBuf *sb);
bool sb_ok(const struct StrBuf *sb);

void sb_append(struct StrBuf *sb, const void *data, size_t len);
void sb_puts(struct StrBuf *sb, const char *s);
void sb_putc(struct StrBuf *sb, char c);
void sb_printf(struct StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append data as a JSON string literal, quotes included. */
void sb_json_string(struct StrBuf *sb, const void *data, size_t len);

/* Append data as standard base64 (RFC 4648, padded). */
void sb_base64(struct StrBuf *sb, const void *data, size_t len);

/* Append a PostgreSQL timestamp (µs since 2000-01-01 UTC) as RFC 3339 with microseconds. */
void sb_timestamp(struct StrBuf *sb, int64_t pg_us);

#endif
