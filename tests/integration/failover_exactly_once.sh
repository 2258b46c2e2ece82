#!/usr/bin/env bash
# failover.sh in exactly-once mode: the new active's transactional producer
# (transactional.id tablecast-<slot>, the same in every instance) is made
# only once it holds the slot, fences the old one, then reads the offsets
# topic; a read_committed view of the topic has every change once.
FAILOVER_EOS=1 FAILOVER_KILLS=${FAILOVER_KILLS:-3} exec "$(dirname "$0")/failover.sh"
