#!/usr/bin/env bash
# Exactly-once mode: Kafka transactions carry the events and the slot's
# end LSN in the offsets topic together. kill -9 at random moments under
# a workload, restarting each time: every change's event is committed
# exactly once, in order per key.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

KILLS=${CRASH_KILLS:-10}
pg_start
broker_start --topic accounts:3 --topic dlq:1 --topic tablecast.offsets:1
bank_setup dead_letter "" 'exactly_once = true; transaction_ms = 50;'
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# A real broker fences the killed producer when the new one initialises its
# transactions, so requests still in flight from the dead process cannot
# land afterwards. The test broker does not fence: give those requests a
# moment to land before the restart reads the offsets topic (a whole second:
# with ASan under a loaded CI runner, half a second was once too short).
bank_crash_loop "$KILLS" 120 1
# The producer is made once the slot is taken, so the last restart may still be on its way.
read_offsets() { grep -q "exactly-once: Kafka has every transaction ending at or before 0/[1-9A-F]" "$TC_TMP/tablecast.log"; }
wait_for 60 read_offsets || tc_fail "restarts did not read the offsets topic"
bank_verify --no-duplicates --committed-only

# Transaction ids never repeat across processes, even for processes started
# within the same second: each process below sees one and the same second
# from time() (tests/lib/same-second.c), commits a Kafka transaction, and is
# killed and replaced. (Duplicates are expected here: the test broker does
# not fence.)
offsets_records() { grep -c '"topic": *"tablecast.offsets"' "$TC_TMP/collected.jsonl" || true; }
for k in 1 2 3 4 5; do
	kill -9 "$TC_PID"
	wait "$TC_PID" 2>/dev/null || true
	before=$(offsets_records)
	LD_PRELOAD="$top_builddir/tests/same-second.so" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" tc_start "$TC_TMP/bank.cfg"
	bank_writer 2
	more_offsets() { [ "$(offsets_records)" -gt "$before" ]; }
	wait_for 30 more_offsets || tc_fail "no Kafka transaction committed after restart $k"
done
/usr/bin/python3 - "$TC_TMP/collected.jsonl" <<'PY' || tc_fail "a Kafka transaction id was used twice"
import base64, collections, json, sys
ids = [base64.b64decode(r["value"]).decode().split()[1]
       for r in map(json.loads, open(sys.argv[1])) if r["topic"] == "tablecast.offsets"]
repeated = [i for i, n in collections.Counter(ids).items() if n > 1]
print(f"{len(ids)} committed Kafka transactions, {len(repeated)} ids repeated {repeated[:3]}")
sys.exit(1 if repeated else 0)
PY
tc_stop
echo "exactly_once: $KILLS kills, no duplicates among committed records; 5 processes in one second, no transaction id reused"
