#!/usr/bin/env bash
# kill -9 at random moments under a steady workload, restarting each time:
# every committed change's event arrives, per-key order holds, and every
# duplicate carries the ce_id (and bytes) of its original.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

KILLS=${CRASH_KILLS:-10}
pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

bank_crash_loop "$KILLS" 120
bank_verify
echo "crash: $KILLS kills survived"
