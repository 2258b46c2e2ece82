/* AsyncAPI: a 3.0 document of the configured topics, events, keys and CloudEvents headers. */
#ifndef TABLECAST_SRC_ASYNCAPI_H
#define TABLECAST_SRC_ASYNCAPI_H

#include <stddef.h>

#include "config.h"
#include "strbuf.h"

/*
 * Append an AsyncAPI 3.0.0 document (JSON, which is also YAML) describing
 * what `run` publishes for cfg: one channel per topic, one message per event
 * version (id and name = its ce_type, "shop.orders.OrderShipped.v2") whose
 * payload is the protobuf schema `schema generate` writes (schemaFormat
 * application/vnd.google.protobuf;version=3), whose headers are the
 * CloudEvents Kafka headers with their fixed values, and whose Kafka binding
 * describes the record key; the dead-letter topic with tablecast.v1.DeadLetter
 * (proto/tablecast/v1/change.proto) when an event sends dead letters; one send
 * operation per channel. Same configuration, same bytes. Returns 0, or -1
 * with a reason in err.
 */
int aapi_render(const struct Config *cfg, struct StrBuf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* aapi_render into the file at path (replaced whole). Returns 0, or -1 with err. */
int aapi_generate(const struct Config *cfg, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
