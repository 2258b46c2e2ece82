#!/usr/bin/env bash
# Kafka publishing loses nothing: retried produce errors keep order, a row
# that cannot become its event becomes a readable dead letter (or halts
# without confirming), and SIGTERM under load stops cleanly without
# redelivering what was acknowledged.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

pg_start
broker_start --topic accounts:3 --topic dlq:1
# One request in flight: the test broker's idempotence does not reject a
# later batch that overtakes a retried one (a real broker answers
# OUT_OF_ORDER_SEQUENCE), and then takes the retry for a duplicate. With
# several in flight an injected error can make it drop a batch that the
# producer rightly counts as delivered.
bank_setup dead_letter ", \"max.in.flight.requests.per.connection=1\""
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
psql -q -c "UPDATE accounts SET version = version + 1" # 50 events in one transaction

# 1. Produce requests fail (retriable errors) while a workload runs.
bank_writer 150 &
writer=$!
sleep 0.3
kill -HUP "$TC_BROKER_PID"
wait "$writer"
wait_for 10 grep -q "next 6 Produce requests fail" "$TC_TMP/broker.log" || tc_fail "no errors were injected"

# 2. A value that overflows its field: a dead letter, and the stream goes on.
psql -q -c "UPDATE accounts SET amount = 3000000000 WHERE id = 7"
psql -q -c "UPDATE accounts SET amount = 0, version = version + 1 WHERE id = 7"
bank_writer 50
bank_verify --no-duplicates
/usr/bin/python3 - "$TC_TMP/collected.jsonl" "$TC_TMP/py" <<'PY'
import base64, json, sys
sys.path.insert(0, sys.argv[2])
from tablecast.v1 import change_pb2
dead = [json.loads(l) for l in open(sys.argv[1]) if '"topic": "dlq"' in l]
assert len(dead) == 1, f"{len(dead)} dead letters"
d = dead[0]
assert d["headers"]["ce_type"] == "tablecast.v1.DeadLetter", d["headers"]
dl = change_pb2.DeadLetter()
dl.ParseFromString(base64.b64decode(d["value"]))
assert dl.event == "acme.bank.AccountChanged" and dl.version == 1, dl
assert 'field "amount" (int32): 3000000000 out of range' in dl.error, dl.error
assert dl.change.relation == "public.accounts" and dl.change.op == change_pb2.RowChange.OP_UPDATE
row = {c.name: c.text for c in getattr(dl.change, "new")}
assert row["id"] == "7" and row["amount"] == "3000000000", row
print("kafka: dead letter:", dl.error)
PY
grep -q "dead letter: event acme.bank.AccountChanged v1" "$TC_TMP/tablecast.log" || tc_fail "dead letter not logged"

# 3. SIGTERM under load: exit 0 within the flush timeout; a restart sends nothing twice.
bank_writer 300 &
writer=$!
sleep 1
start=$(date +%s)
tc_stop
[ $(($(date +%s) - start)) -le 25 ] || tc_fail "SIGTERM took longer than the flush timeout"
tc_start "$TC_TMP/bank.cfg"
wait "$writer"
bank_verify --no-duplicates

# tablecast tail reads the topics back with the configuration's schemas
# (partitions assigned directly: a slow group join is not what this tests).
"$top_builddir/tablecast" tail --config "$TC_TMP/bank.cfg" --from-beginning --no-group --idle-exit 3 \
	>"$TC_TMP/tail.jsonl" 2>"$TC_TMP/tail.log" || tc_fail "tail: $(cat "$TC_TMP/tail.log")"
/usr/bin/python3 - "$TC_TMP/tail.jsonl" "$TC_TMP/expected.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
events = [l for l in lines if l["ce"].get("type") == "acme.bank.AccountChanged.v1"]
dead = [l for l in lines if l["ce"].get("type") == "tablecast.v1.DeadLetter"]
final = {r["id"]: r["version"] for r in map(json.loads, open(sys.argv[2]))}
last = {}
for e in events:
    d = e["data"]
    assert e["key"] == d["id"] and e["ce"]["specversion"] == "1.0", e
    last[int(d["id"])] = int(d["version"])
assert last == final, "tail's last version per account differs from the table"
assert len(dead) == 1 and "out of range" in dead[0]["dead_letter"]["error"], dead
print(f"kafka: tail decoded {len(events)} events and {len(dead)} dead letter")
PY

# 4. on_error = "halt": tablecast stops on the row and the slot stays before it.
tc_stop
sed -i 's/on_error = "dead_letter"/on_error = "halt"/' "$TC_TMP/bank.cfg"
before=$(psql -Atc "SELECT pg_current_wal_lsn()")
psql -q -c "UPDATE accounts SET amount = 5000000000 WHERE id = 9"
rc=0
timeout 60 "$top_builddir/tablecast" run --config "$TC_TMP/bank.cfg" 2>"$TC_TMP/halt.log" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "halt: exit $rc, expected 1"
grep -q 'error: event acme.bank.AccountChanged v1: field "amount" (int32): 5000000000 out of range (update of public.accounts at' "$TC_TMP/halt.log" ||
	tc_fail "halt: $(cat "$TC_TMP/halt.log")"
[ "$(psql -Atc "SELECT confirmed_flush_lsn <= '$before' FROM pg_replication_slots")" = t ] ||
	tc_fail "halt: the slot moved past the failed row"
rc=0
timeout 60 "$top_builddir/tablecast" run --config "$TC_TMP/bank.cfg" 2>>"$TC_TMP/halt.log" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "halt: a restart went past the failed row (exit $rc)"
echo "kafka: halt stops on the row, twice, without confirming it"
