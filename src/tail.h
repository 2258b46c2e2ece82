/* Tail: read events back from Kafka and print them as JSON lines, decoded with the configuration. */
#ifndef TABLECAST_SRC_TAIL_H
#define TABLECAST_SRC_TAIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"

struct TailOptions {
	const struct Config *cfg;
	const char *event; /* only this event name (any version); NULL = all */
	bool from_beginning; /* else only what arrives from now on */
	long max_count; /* stop after this many records; 0 = no limit */
	int idle_exit_ms; /* stop after this long without a record (or a broker); 0 = never */
	bool no_group; /* assign every partition directly: no consumer group to join */
	volatile sig_atomic_t *stop;
	FILE *out;
};

/*
 * Consume the topics of the configured events (and the dead-letter topic)
 * with the sink's Kafka properties and print one JSON line per record:
 *   {"topic":..,"partition":..,"offset":..,"key":..,"ce":{headers},"data":{..}}
 * where data is the payload decoded with the event's schema (matched by
 * the ce_type header) in the protobuf JSON mapping; dead letters print
 * their event, error and raw change. Returns 0, or -1 with err.
 */
int tail_run(const struct TailOptions *opts, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
