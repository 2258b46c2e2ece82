/* COPY text format: one row of COPY ... TO STDOUT into column values. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "copy_text.h"
#include "strbuf.h"
#include "value.h"

/*
 * Undo the escapes of one field in place (the result is never longer):
 * \b \f \n \r \t \v, \ followed by 1-3 octal digits, \x followed by 1-2 hex
 * digits, and \ before any other byte stands for that byte. Returns the new
 * length.
 */
static size_t unescape(uint8_t *p, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		uint8_t c = p[in++];
		if (c != '\\' || in == len) {
			p[out++] = c;
			continue;
		}
		c = p[in++];
		switch (c) {
		case 'b': p[out++] = '\b'; break;
		case 'f': p[out++] = '\f'; break;
		case 'n': p[out++] = '\n'; break;
		case 'r': p[out++] = '\r'; break;
		case 't': p[out++] = '\t'; break;
		case 'v': p[out++] = '\v'; break;
		case 'x':
			if (in < len && value_hex_digit((char)p[in]) >= 0) {
				int v = value_hex_digit((char)p[in++]);
				if (in < len && value_hex_digit((char)p[in]) >= 0)
					v = v * 16 + value_hex_digit((char)p[in++]);
				p[out++] = (uint8_t)v;
			} else {
				p[out++] = 'x';
			}
			break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';
				for (int i = 0; i < 2 && in < len && p[in] >= '0' && p[in] <= '7'; i++)
					v = v * 8 + (p[in++] - '0');
				p[out++] = (uint8_t)v;
			} else {
				p[out++] = c;
			}
		}
	}
	return out;
}

int copy_parse_row(uint8_t *buf, size_t len, struct PgoValue *cols, uint16_t ncols, char *err,
		   size_t errlen)
{
	if (len == 0 || buf[len - 1] != '\n') {
		snprintf(err, errlen, "COPY row of %zu bytes does not end in a newline", len);
		return -1;
	}
	len--;
	if (ncols == 0) {
		if (len == 0)
			return 0;
		snprintf(err, errlen, "COPY row has columns, none were asked for");
		return -1;
	}
	size_t start = 0;
	uint16_t n = 0;
	for (size_t i = 0; i <= len; i++) {
		/* A tab inside a value is always escaped, so a raw one ends the field. */
		if (i < len && buf[i] != '\t')
			continue;
		if (n == ncols) {
			snprintf(err, errlen, "COPY row has more than the %u columns asked for", ncols);
			return -1;
		}
		size_t flen = i - start;
		if (flen == 2 && buf[start] == '\\' && buf[start + 1] == 'N') {
			cols[n] = (struct PgoValue){.kind = 'n'};
		} else {
			cols[n] = (struct PgoValue){.kind = 't',
						    .len = (uint32_t)unescape(buf + start, flen),
						    .data = buf + start};
		}
		n++;
		start = i + 1;
	}
	if (n != ncols) {
		snprintf(err, errlen, "COPY row has %u columns, %u were asked for", n, ncols);
		return -1;
	}
	return 0;
}

void copy_escape(struct StrBuf *out, const char *data, size_t len)
{
	if (!data) {
		sb_puts(out, "\\N");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		switch (data[i]) {
		case '\\': sb_puts(out, "\\\\"); break;
		case '\t': sb_puts(out, "\\t"); break;
		case '\n': sb_puts(out, "\\n"); break;
		case '\r': sb_puts(out, "\\r"); break;
		default: sb_putc(out, data[i]);
		}
	}
}
