/* Schema: generate one .proto per event version, and an index, from the configuration. */
#ifndef TABLECAST_SRC_SCHEMA_H
#define TABLECAST_SRC_SCHEMA_H

#include <stddef.h>

#include "config.h"
#include "strbuf.h"

/*
 * Write <outdir>/<package dirs>/v<version>/<message_snake>.proto for every
 * event (e.g. shop.orders.OrderShipped v2 → shop/orders/v2/order_shipped.proto,
 * package shop.orders.v2, message OrderShipped) and <outdir>/README.md, an
 * index of them all; directories are created as needed. Same events give
 * byte-identical files, and a file whose content is unchanged is not
 * rewritten. Every event is checked before anything is written: a name
 * without a package or an UpperCamelCase message, names protoc would reject
 * or find clashing, and two events mapping to one file are errors.
 * Returns 0, or -1 with a one-line reason in err.
 */
int schema_generate(const struct EventDef *events, size_t nevents, const char *outdir, char *err,
                    size_t errlen) __attribute__((warn_unused_result));

/*
 * The checks schema_generate makes of one event (its name, and names
 * protoc would reject or find clashing), so that a configuration is
 * refused at load rather than at generation. Returns 0, or -1 with a
 * one-line reason in err.
 */
int schema_check_event(const struct EventDef *ev, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The event's .proto path relative to the output directory
 * ("shop/orders/v2/order_shipped.proto"), as ce_dataschema ends. Truncated
 * to fit len like snprintf; best effort for a name schema_generate rejects.
 */
void schema_proto_path(const struct EventDef *ev, char *buf, size_t len);

/*
 * Append the .proto text schema_generate writes for ev. Returns 0, or -1
 * when out ran out of memory.
 */
int schema_render_proto(const struct EventDef *ev, struct StrBuf *out)
	__attribute__((warn_unused_result));

/* Append an OP_* bit set as "insert, update" ("none" when empty). */
void schema_put_ops(struct StrBuf *out, unsigned ops);

#endif
