/* `tablecast status`: the slot as the database sees it, and the daemon's own view. */
#ifndef TABLECAST_SRC_STATUS_H
#define TABLECAST_SRC_STATUS_H

#include <stdbool.h>
#include <stdio.h>

struct Config;

/* Exit statuses of `tablecast status` (2 is a usage or configuration error, as everywhere). */
#define STATUS_HEALTHY 0
#define STATUS_DEGRADED 1 /* lagging, standby, not ready, Kafka unreachable */
#define STATUS_DOWN 3     /* halted, no daemon, slot missing or lost, database unreachable */

/*
 * Look at the slot (pg_replication_slots, pg_stat_replication), the
 * daemon's /metrics and /readyz when metrics.listen is set, and the last
 * halt's record in state_dir; print one screen (or one JSON object with
 * json) to out. Returns STATUS_HEALTHY, STATUS_DEGRADED or STATUS_DOWN:
 * what it cannot reach is part of the answer, not an error.
 */
int status_run(const struct Config *cfg, bool json, FILE *out);

#endif
