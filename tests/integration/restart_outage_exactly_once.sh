#!/usr/bin/env bash
# restart_outage.sh in exactly-once mode: the walsender is released although
# a Kafka transaction cannot commit while the broker is away, and a
# read_committed consumer sees every change once.
TC_EXACTLY_ONCE=1 exec bash "$(dirname "$0")/restart_outage.sh"
