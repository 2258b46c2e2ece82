/* String buffer: a growable byte buffer for building output lines. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgoutput.h"
#include "strbuf.h"

static bool reserve(struct StrBuf *sb, size_t extra)
{
	if (sb->broken)
		return false;
	if (sb->cap - sb->len > extra)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap - sb->len <= extra) {
		if (cap > SIZE_MAX / 2) {
			sb->broken = true;
			return false;
		}
		cap *= 2;
	}
	char *data = realloc(sb->data, cap);
	if (!data) {
		sb->broken = true;
		return false;
	}
	sb->data = data;
	sb->cap = cap;
	return true;
}

void sb_reset(struct StrBuf *sb)
{
	sb->len = 0;
	sb->broken = false;
}

void sb_free(struct StrBuf *sb)
{
	free(sb->data);
	*sb = (struct StrBuf){0};
}

bool sb_ok(const struct StrBuf *sb)
{
	return !sb->broken;
}

void sb_append(struct StrBuf *sb, const void *data, size_t len)
{
	if (!reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void sb_puts(struct StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void sb_putc(struct StrBuf *sb, char c)
{
	sb_append(sb, &c, 1);
}

void sb_printf(struct StrBuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[128];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->broken = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sb_append(sb, small, (size_t)n);
		return;
	}
	if (!reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_json_string(struct StrBuf *sb, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;

	/* Worst case every byte becomes \u00XX. */
	if (len > (SIZE_MAX - 2) / 6 || !reserve(sb, len * 6 + 2))
		return;
	char *out = sb->data + sb->len;
	*out++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		switch (c) {
		case '"':
			*out++ = '\\';
			*out++ = '"';
			break;
		case '\\':
			*out++ = '\\';
			*out++ = '\\';
			break;
		case '\n':
			*out++ = '\\';
			*out++ = 'n';
			break;
		case '\r':
			*out++ = '\\';
			*out++ = 'r';
			break;
		case '\t':
			*out++ = '\\';
			*out++ = 't';
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(out, "\\u00", 4);
				out[4] = hex[c >> 4];
				out[5] = hex[c & 15];
				out += 6;
			} else {
				*out++ = (char)c;
			}
		}
	}
	*out++ = '"';
	sb->len = (size_t)(out - sb->data);
	sb->data[sb->len] = '\0';
}

void sb_base64(struct StrBuf *sb, const void *data, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;

	if (!reserve(sb, (len + 2) / 3 * 4))
		return;
	char *out = sb->data + sb->len;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = alphabet[(v >> 6) & 63];
		*out++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	sb->len = (size_t)(out - sb->data);
	sb->data[sb->len] = '\0';
}

void sb_timestamp(struct StrBuf *sb, int64_t pg_us)
{
	int64_t unix_us = pg_us + PGO_EPOCH_OFFSET_US;
	int64_t secs = unix_us / 1000000;
	int64_t frac = unix_us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		sb_puts(sb, "invalid");
		return;
	}
	sb_printf(sb, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}
