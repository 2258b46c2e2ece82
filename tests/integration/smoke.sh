#!/usr/bin/env bash
# Smoke: changes flow from a real PostgreSQL through tablecast, and its
# output round-trips through the Kafka-protocol test broker (kcat).
. "$(dirname "$0")/../lib/servers.sh"

pg_start
broker_start --topic changes:1

psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(12,2));
SQL
tc_config "$TC_TMP/tc.cfg"
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start streaming"

for t in $(seq 1 10); do
	psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series($(((t - 1) * 10 + 1)), $((t * 10))) g"
done
psql -q -c "UPDATE items SET price = price + 1 WHERE id % 2 = 0" -c "DELETE FROM items WHERE id > 95"

all_arrived() { [ "$(wc -l <"$TC_TMP/changes.jsonl")" -ge 155 ]; }
wait_for 30 all_arrived ||
	tc_fail "expected 155 changes, got $(wc -l <"$TC_TMP/changes.jsonl")"
tc_stop

[ "$(count_lines '"op":"insert"')" -eq 100 ] || tc_fail "inserts: $(count_lines '"op":"insert"')"
[ "$(count_lines '"op":"update"')" -eq 50 ] || tc_fail "updates: $(count_lines '"op":"update"')"
[ "$(count_lines '"op":"delete"')" -eq 5 ] || tc_fail "deletes: $(count_lines '"op":"delete"')"
grep -q '"new":{"id":42,"name":"item 42","price":"63.00"}' "$TC_TMP/changes.jsonl" ||
	tc_fail "row 42 not as inserted"

# Through the broker and back, with a client we did not write.
kcat -P -b "$KAFKA_BOOTSTRAP" -t changes -l "$TC_TMP/changes.jsonl"
kcat -C -b "$KAFKA_BOOTSTRAP" -t changes -o beginning -e -q >"$TC_TMP/consumed.jsonl"
cmp "$TC_TMP/changes.jsonl" "$TC_TMP/consumed.jsonl" || tc_fail "broker returned different data"
echo "smoke: 155 changes streamed and round-tripped through the broker"
