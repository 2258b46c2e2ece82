/* Schema lock: the published contract of every event version, and the changes that break it. */
#ifndef TABLECAST_SRC_LOCK_H
#define TABLECAST_SRC_LOCK_H

#include <stddef.h>

#include "config.h"
#include "strbuf.h"

/*
 * A lock lists, for every event version, what its consumers depend on:
 * the full name, the generated package, every field (number, name, type,
 * repeated, enum labels in number order) and the reserved numbers and
 * names. It is written as a line format sorted by event, version and field
 * number, so the same configuration always gives the same bytes and a
 * review sees a contract change as a diff:
 *
 *	# comment lines and blank lines are ignored
 *	tablecast-lock 1
 *	event shop.orders.OrderShipped v2
 *	  package shop.orders.v2
 *	  field 1 order_id int64
 *	  field 3 carrier enum
 *	    value 1 "DHL"
 *	  field 8 tags string repeated
 *	  reserved 5
 *	  reserved "total"
 *
 * Words are separated by single spaces, leading spaces are indentation
 * only; enum labels are double-quoted with \" \\ and \xHH escapes (any
 * byte below 0x20 or 0x7f is written as \xHH). The module does no I/O.
 */
typedef struct Lock Lock;

/* The lock of a loaded configuration; its lines (for messages) are the configuration's. */
Lock *lock_from_events(const struct EventDef *events, size_t nevents, const char *path)
	__attribute__((warn_unused_result));

/*
 * Parse len bytes of lock text (not NUL-terminated) read from path. A
 * malformed file is refused as a whole: NULL with "path:line: reason" in
 * err. Bounded: at most LOCK_MAX_BYTES of text.
 */
#define LOCK_MAX_BYTES (8 * 1024 * 1024)
Lock *lock_parse(const char *text, size_t len, const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

void lock_free(Lock *lock);

/* Append the lock's text to out (check sb_ok). */
void lock_format(const Lock *lock, struct StrBuf *out);

/*
 * Append one line per change from locked to next that breaks wire or JSON
 * compatibility of a version locked lists (buf's WIRE_JSON category), each
 * "file:line: event NAME vN: what (RULE); declare version N+1 instead"
 * ending in '\n', the file and line pointing at the change in next's
 * configuration or, for what it no longer has, at locked. Additions (new
 * versions, new fields, new enum labels, new reserved entries) and the
 * settings that are not part of the wire contract (table, when, values,
 * topic) break nothing. Returns the number of lines.
 *
 * Field types are compatible when equal, and int32 <-> uint32 and
 * int64 <-> uint64 (buf's FIELD_WIRE_JSON_COMPATIBLE_TYPE). Stricter than
 * buf: date, decimal, json and uuid are strings on the wire, but each
 * promises its consumers a format, so changing among them and string is
 * refused too.
 */
size_t lock_compare(const Lock *locked, const Lock *next, struct StrBuf *out);

#endif
