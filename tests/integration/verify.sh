#!/usr/bin/env bash
# tablecast verify: after a load with kill -9 restarts the topic equals the
# table (run as a role with only REPLICATION and SELECT); then another
# producer writes a wrong value for one key and an event for a key that has
# no row, and a row inserted while the event's `when` excluded it has no
# event: each is reported with exact counts, and verify exits 1.
. "$(dirname "$0")/../lib/servers.sh"

pg_start
broker_start --topic items:3 --topic dlq:1
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text);
INSERT INTO items SELECT g, g % 7, 'item ' || g FROM generate_series(1, 300) g;
CREATE ROLE verifier LOGIN REPLICATION;
GRANT SELECT ON items TO verifier;
SQL

# write_config FILE CONNINFO WHEN
write_config() {
	cat >"$1" <<CFG
log_level = "info";
state_dir = "$TC_TMP/state";
source = { conninfo = "$2"; create_slot = true; create_publication = true;
           tables = ["public.items"]; status_interval = 1; snapshot = "initial"; };
sink = { type = "kafka"; dead_letter_topic = "dlq";
         kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP", "topic.metadata.refresh.interval.ms=1000"]; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "public.items";
    on = ["snapshot", "insert", "update"]; topic = "items"; key = "new.id"; $3
    fields = (
      { name = "id";    number = 1; type = "int64";  value = "new.id"; },
      { name = "qty";   number = 2; type = "int64";  value = "new.qty"; },
      { name = "label"; number = 3; type = "string"; value = "new.label"; }
    ); },
  { name = "acme.items.ItemRemoved"; version = 1; table = "public.items"; on = ["delete"];
    topic = "items"; key = "old.id";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.id"; } ); }
);
CFG
}
hide='when = "new.label IS DISTINCT FROM '"'hidden'"'";'
write_config "$TC_TMP/run.cfg" "$TC_CONNINFO" "$hide"
least="host=127.0.0.1 port=$PGPORT user=verifier dbname=postgres"
write_config "$TC_TMP/least.cfg" "$least" "$hide"
# The event as it is declared later, no longer excluding any row.
write_config "$TC_TMP/wide.cfg" "$least" ""

tc_start "$TC_TMP/run.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# A load of inserts, updates and deletes (never a hidden label), and three kill -9 restarts.
load() {
	local i id
	for i in $(seq 1 600); do
		id=$((RANDOM % 400 + 1))
		case $((RANDOM % 4)) in
		0) echo "INSERT INTO items VALUES ($id, $i, 'new $i') ON CONFLICT (id) DO UPDATE SET qty = $i;" ;;
		1 | 2) echo "UPDATE items SET qty = qty + 1, label = 'upd $i' WHERE id = $id;" ;;
		3) echo "DELETE FROM items WHERE id = $id;" ;;
		esac
		[ $((i % 10)) -ne 0 ] || echo "SELECT pg_sleep(0.1);"
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null
}
load &
loader=$!
tc_on_exit "kill $loader"
for k in 1 2 3; do
	sleep "1.$((RANDOM % 10))"
	kill -9 "$TC_PID"
	wait "$TC_PID" 2>/dev/null || true
	tc_start "$TC_TMP/run.cfg"
done
wait "$loader"
streams() { [ "$(grep -c "streaming slot" "$TC_TMP/tablecast.log")" -ge 4 ]; }
wait_for 30 streams || tc_fail "tablecast did not stream after each restart"

# verify [CONFIG]: its report in verify.out, its exit status in $vrc.
verify() {
	vrc=0
	"$top_builddir/tablecast" verify --config "${1:-$TC_TMP/least.cfg}" --timeout 30 \
		>"$TC_TMP/verify.out" 2>"$TC_TMP/verify.log" || vrc=$?
	cat "$TC_TMP/verify.out" >&2
}
counts() { sed -n 's/^  \(equal .*\) (keys).*/\1/p' "$TC_TMP/verify.out"; }

rows=$(psql -Atc "SELECT count(*) FROM items")
deletes=$(psql -Atc "SELECT count(*) FROM generate_series(1, 400) g WHERE g NOT IN (SELECT id FROM items)")
verify
[ "$vrc" -eq 0 ] || tc_fail "verify exited $vrc after the load (see verify.log)"
[ "$(counts)" = "equal $rows, missing 0, extra 0, different 0" ] ||
	tc_fail "after the load: $(counts), expected equal $rows"
deleted=$(sed -n 's/.*(keys); \([0-9]*\) deleted.*/\1/p' "$TC_TMP/verify.out")
[ "$deleted" -gt 0 ] && [ "$deleted" -le "$deletes" ] || tc_fail "$deleted keys counted deleted, expected 1..$deletes"
grep -q "verify: equal" "$TC_TMP/verify.out" || tc_fail "no verdict"

# Another producer: a wrong quantity for an existing key, and a key that has no row.
victim=$(psql -Atc "SELECT id FROM items ORDER BY id LIMIT 1 OFFSET 5")
victim_label=$(psql -Atc "SELECT label FROM items WHERE id = $victim")
victim_qty=$(psql -Atc "SELECT qty FROM items WHERE id = $victim")
/usr/bin/python3 - "$KAFKA_BOOTSTRAP" "$victim" "$victim_label" "$((victim_qty + 1000))" <<'PY'
import sys
from confluent_kafka import Producer

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)

def item(id_, qty, label):
    text = label.encode()
    return (b"\x08" + varint(id_) + b"\x10" + varint(qty) +
            b"\x1a" + varint(len(text)) + text)

bootstrap, victim, label, qty = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
p = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
headers = [("ce_specversion", "1.0"), ("ce_type", "acme.items.ItemStocked.v1"),
           ("ce_source", "/another/producer"), ("content-type", "application/protobuf")]
p.produce("items", key=str(victim), value=item(victim, qty, label),
          headers=headers + [("ce_id", "another-1")])
p.produce("items", key="100000", value=item(100000, 1, "nobody"),
          headers=headers + [("ce_id", "another-2")])
if p.flush(10) != 0:
    sys.exit("not delivered")
PY
# A row inserted while the event's `when` excluded it: no event.
hidden=$(psql -Atc "INSERT INTO items VALUES (100001, 5, 'hidden') RETURNING id")

verify "$TC_TMP/wide.cfg"
[ "$vrc" -eq 1 ] || tc_fail "verify exited $vrc with differences, expected 1 (see verify.log)"
[ "$(counts)" = "equal $((rows - 1)), missing 1, extra 1, different 1" ] ||
	tc_fail "with differences: $(counts), expected equal $((rows - 1)), missing 1, extra 1, different 1"
grep -q "^  missing \"$hidden\": no event" "$TC_TMP/verify.out" || tc_fail "the missing key is not shown"
grep -q "^  extra \"100000\": no row; the event (partition [0-9]*, offset [0-9]*): {\"id\":\"100000\",\"qty\":\"1\",\"label\":\"nobody\"}" \
	"$TC_TMP/verify.out" || tc_fail "the extra key is not shown"
grep -q "^  different \"$victim\" (partition [0-9]*, offset [0-9]*): qty: table \"$victim_qty\", event \"$((victim_qty + 1000))\"$" \
	"$TC_TMP/verify.out" || tc_fail "the field difference is not shown"
grep -q "verify: differences found" "$TC_TMP/verify.out" || tc_fail "no verdict"

# The configuration as the running tablecast has it still excludes the hidden row.
verify
[ "$vrc" -eq 1 ] && [ "$(counts)" = "equal $((rows - 1)), missing 0, extra 1, different 1" ] ||
	tc_fail "with the running configuration: exit $vrc, $(counts)"

# Without a running tablecast nothing confirms the point: a clear refusal, exit 1.
tc_stop
vrc=0
"$top_builddir/tablecast" verify --config "$TC_TMP/least.cfg" --timeout 2 >/dev/null 2>"$TC_TMP/verify.log" || vrc=$?
[ "$vrc" -eq 1 ] && grep -q "did not confirm" "$TC_TMP/verify.log" ||
	tc_fail "verify without tablecast: exit $vrc, $(cat "$TC_TMP/verify.log")"
[ "$(psql -Atc "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'tablecast_verify%'")" = 0 ] ||
	tc_fail "a temporary slot was left behind"
# Usage errors: an event that carries no row's state, an unknown one.
for ev in acme.items.ItemRemoved no.such.Event; do
	vrc=0
	"$top_builddir/tablecast" verify --config "$TC_TMP/least.cfg" --event "$ev" >/dev/null 2>"$TC_TMP/verify.log" || vrc=$?
	[ "$vrc" -eq 2 ] || tc_fail "verify --event $ev exited $vrc: $(cat "$TC_TMP/verify.log")"
done
grep -q "no configured event is called no.such.Event" "$TC_TMP/verify.log" || tc_fail "$(cat "$TC_TMP/verify.log")"
echo "verify: $rows rows equal after 3 kills; 1 missing, 1 extra, 1 different found"
