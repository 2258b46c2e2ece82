/* JSON validation: is a text one JSON value (RFC 8259), as a json field promises consumers? */
#ifndef TABLECAST_SRC_JSON_VALID_H
#define TABLECAST_SRC_JSON_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* Deeper nesting is refused: the check recurses, and no event needs more. */
#define JSON_VALID_MAX_DEPTH 256

/*
 * Is text[0..len) exactly one JSON value, with optional whitespace around
 * it? On false, *offset is the byte where it goes wrong and *why a short
 * reason ("unexpected character", "unterminated string", ...). Pure: no
 * allocation. UTF-8 is checked elsewhere (string fields).
 */
bool json_valid(const char *text, size_t len, size_t *offset, const char **why);

/* The first byte of [p, end) that is not JSON whitespace (RFC 8259: space, tab, LF, CR). */
const char *json_skip_space(const char *p, const char *end);

#endif
