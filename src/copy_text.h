/* COPY text format: one row of COPY ... TO STDOUT into column values. */
#ifndef TABLECAST_SRC_COPY_TEXT_H
#define TABLECAST_SRC_COPY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "pgoutput.h"

/*
 * Split one row (one CopyData message: columns separated by tab, ending in
 * newline) into ncols values, undoing COPY's backslash escapes in place, so
 * each value is the column's text output exactly as pgoutput would send it:
 * kind 't' pointing into buf, or kind 'n' for \N. Pure: no I/O, no
 * allocation. Returns 0, or -1 with a one-line reason (column count,
 * missing newline) in err.
 */
int copy_parse_row(uint8_t *buf, size_t len, struct PgoValue *cols, uint16_t ncols, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/*
 * Append one value in COPY text form (backslash, tab, newline and carriage
 * return escaped; NULL as \N), so copy_parse_row reads it back.
 */
struct StrBuf;
void copy_escape(struct StrBuf *out, const char *data, size_t len);

#endif
