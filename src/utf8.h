/* UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
#ifndef TABLECAST_SRC_UTF8_H
#define TABLECAST_SRC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes in the well-formed UTF-8 sequence at s (at most n bytes, n > 0), or 0. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Length of the valid UTF-8 at the start of the len bytes at s. */
size_t utf8_valid_prefix(const void *s, size_t len);

/* Are the len bytes at s valid UTF-8 throughout? */
bool utf8_valid(const void *s, size_t len);

#endif
