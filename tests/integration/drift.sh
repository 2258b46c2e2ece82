#!/usr/bin/env bash
# Schema drift: a column an event reads is dropped or changes type. With
# on_error = "dead_letter" the rows become dead letters naming table,
# column and event; with "halt" tablecast stops there, unconfirmed.
. "$(dirname "$0")/../lib/servers.sh"

pg_start
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE orders (id bigint PRIMARY KEY, status text, carrier text, weight int)"
write_cfg() {
	cat >"$1" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
sink = { type = "stdout"; dead_letter_topic = "dead"; };
events = (
  { name = "shop.orders.OrderShipped"; version = 1; table = "orders"; on = ["insert", "update"];
    topic = "orders"; key = "new.id"; on_error = "$2";
    fields = (
      { name = "id";      number = 1; type = "int64";  value = "new.id"; },
      { name = "carrier"; number = 2; type = "string"; value = "new.carrier"; },
      { name = "weight";  number = 3; type = "int32";  value = "new.weight"; }
    ); }
);
CFG
}
write_cfg "$TC_TMP/dl.cfg" dead_letter
tc_start "$TC_TMP/dl.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

psql -q -c "INSERT INTO orders VALUES (1, 'placed', 'DHL', 5)"
psql -q -c "ALTER TABLE orders ALTER weight TYPE numeric" -c "INSERT INTO orders VALUES (2, 'placed', 'UPS', 6)"
psql -q -c "ALTER TABLE orders DROP COLUMN carrier" -c "INSERT INTO orders VALUES (3, 'placed', 7)"
three() { [ "$(wc -l <"$TC_TMP/changes.jsonl")" -ge 3 ]; }
wait_for 30 three || tc_fail "expected 3 lines: $(cat "$TC_TMP/changes.jsonl")"
tc_stop
grep -q '"topic":"orders".*"data":{"id":"1","carrier":"DHL","weight":5}' "$TC_TMP/changes.jsonl" ||
	tc_fail "event 1: $(head -n 1 "$TC_TMP/changes.jsonl")"
grep -q '"topic":"dead".*"error":"event shop.orders.OrderShipped v1: relation public.orders: column \\"weight\\" changed type from OID 23 to OID 1700 (event shop.orders.OrderShipped v1) (insert of public.orders at' "$TC_TMP/changes.jsonl" ||
	tc_fail "no dead letter for the type change: $(sed -n 2p "$TC_TMP/changes.jsonl")"
grep -q '"topic":"dead".*column \\"carrier\\" vanished (event shop.orders.OrderShipped v1)' "$TC_TMP/changes.jsonl" ||
	tc_fail "no dead letter for the dropped column: $(sed -n 3p "$TC_TMP/changes.jsonl")"

# The same drift under "halt": tablecast stops on the first drifted row.
psql -q -c "SELECT pg_drop_replication_slot('tablecast')"
rm -rf "$TC_TMP/state"
psql -q -c "ALTER TABLE orders ADD COLUMN carrier text"
write_cfg "$TC_TMP/halt.cfg" halt
tc_start "$TC_TMP/halt.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
psql -q -c "INSERT INTO orders (id, status, weight, carrier) VALUES (4, 'placed', 1, 'DHL')"
psql -q -c "ALTER TABLE orders DROP COLUMN carrier" -c "INSERT INTO orders VALUES (5, 'placed', 7)"
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "halt: exit $rc"
grep -q 'error: event shop.orders.OrderShipped v1: relation public.orders: column "carrier" vanished' "$TC_TMP/tablecast.log" ||
	tc_fail "halt: $(tail -n 2 "$TC_TMP/tablecast.log")"
echo "drift: dead letters name table, column and event; halt stops on the row"
