#!/usr/bin/env bash
# outage.sh in exactly-once mode: a Kafka transaction that cannot commit
# while the broker is away does not keep the walsender, and a
# read_committed consumer sees every change once.
TC_EXACTLY_ONCE=1 exec bash "$(dirname "$0")/outage.sh"
