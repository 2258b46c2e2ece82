/*
 * ascii.h: character classes by bytes, never by locale.
 *
 * PostgreSQL's output formats, protobuf JSON and numeric text are ASCII
 * grammars: <ctype.h> would follow LC_CTYPE and take signed chars as
 * undefined behaviour.
 */
#ifndef TABLECAST_ASCII_H
#define TABLECAST_ASCII_H

#include <stdbool.h>

static inline bool ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* PostgreSQL's scanner_isspace: the blanks its input functions skip. */
static inline bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool ascii_hex(char c)
{
	return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#endif
