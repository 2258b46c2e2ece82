#!/usr/bin/env bash
# Partitioned tables: events declared on the partitioned table, a
# publication that publishes through the partition root, range partitions
# with a hash-partitioned level below. The snapshot reads every partition in
# page ranges over two connections and is killed mid-way; rows move between
# partitions all through it; a partition is attached and another detached
# while streaming. A consumer keeping the last event per key ends with
# exactly the table, and rows read again after the kill keep their ids.
# Then a publication tablecast creates itself carries changes the same way.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/items.sh"

ROWS=${PARTITION_ROWS:-200000}
pg_start
broker_start --topic items:32
# 200-byte rows: each partition spans several 8 MiB chunks.
psql -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE items (id int NOT NULL, zone int NOT NULL, qty int NOT NULL, label text, filler text,
  PRIMARY KEY (id, zone)) PARTITION BY RANGE (zone);
CREATE TABLE items_z0 PARTITION OF items FOR VALUES FROM (0) TO (1) PARTITION BY HASH (id);
CREATE TABLE items_z0_h0 PARTITION OF items_z0 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE items_z0_h1 PARTITION OF items_z0 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE items_z1 PARTITION OF items FOR VALUES FROM (1) TO (2);
INSERT INTO items SELECT g, g % 2, g % 1000, 'item ' || g, repeat('x', 200) FROM generate_series(1, $ROWS) g;
ANALYZE items;
CREATE PUBLICATION tablecast FOR TABLE items;
SQL

items_setup "$TC_TMP/parts.cfg" 'snapshot = "initial"; snapshot_workers = 2;'

# A publication that sends the rows under each partition's name would leave
# the events on the partitioned table silent: check says so, run refuses.
fix="ALTER PUBLICATION tablecast SET (publish_via_partition_root = true)"
"$top_builddir/tablecast" check --config "$TC_TMP/parts.cfg" >"$TC_TMP/check.out" 2>&1 &&
	tc_fail "check accepted a publication without publish_via_partition_root"
grep -q "public.items is a partitioned table.*($fix)" "$TC_TMP/check.out" ||
	tc_fail "check did not name the fix: $(cat "$TC_TMP/check.out")"
rc=0
timeout 60 "$top_builddir/tablecast" run --config "$TC_TMP/parts.cfg" 2>"$TC_TMP/refused.log" || rc=$?
[ "$rc" -eq 2 ] || tc_fail "run started with events that can never fire (exit $rc): $(cat "$TC_TMP/refused.log")"
grep -q "($fix)" "$TC_TMP/refused.log" || tc_fail "run did not name the fix: $(cat "$TC_TMP/refused.log")"
[ "$(psql -Atc 'SELECT count(*) FROM pg_replication_slots')" -eq 0 ] || tc_fail "a refused start created a slot"
rm -rf "$TC_TMP/state"
psql -q -v ON_ERROR_STOP=1 -c "$fix"

# Writes throughout: updates, rows moving to the other zone (a DELETE from
# one partition and an INSERT into another), inserts, deletes.
writer() {
	local i id
	for i in $(seq 1 300); do
		id=$((RANDOM * 7 % ROWS + 1))
		echo "UPDATE items SET qty = qty + 1, label = 'w$i' WHERE id = $((RANDOM * 3 % ROWS + 1));"
		echo "UPDATE items SET zone = 1 - zone, label = 'moved $i' WHERE id = $id;"
		echo "INSERT INTO items VALUES ($((ROWS + i)), $((i % 2)), $i, 'new $i', 'x');"
		[ $((i % 7)) -ne 0 ] || echo "DELETE FROM items WHERE id = $((RANDOM * 5 % ROWS + 1));"
		echo "SELECT pg_sleep(0.02);"
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null
}
writer &
writer_pid=$!
tc_on_exit "kill $writer_pid"

tc_start "$TC_TMP/parts.cfg"
wait_for 60 grep -q "snapshot .*chunks" "$TC_TMP/tablecast.log" || tc_fail "no snapshot started"
chunks=$(sed -n 's/.*snapshot [^:]*: 1 tables, \([0-9]*\) chunks.*/\1/p' "$TC_TMP/tablecast.log" | head -n 1)
[ "${chunks:-0}" -ge 4 ] || tc_fail "the partitioned table was not split over its partitions: ${chunks:-no} chunks"
some_done() { grep -q "^done" "$TC_TMP/state/tablecast.snapshot" 2>/dev/null; }
wait_for 120 some_done || true
kill -9 "$TC_PID"
wait "$TC_PID" 2>/dev/null || true
tc_log "killed during the snapshot of $chunks chunks"
tc_start "$TC_TMP/parts.cfg"
wait_for 300 grep -q "rows from 1 tables" "$TC_TMP/tablecast.log" || tc_fail "the snapshot did not finish"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "no streaming after the snapshot"
wait "$writer_pid"
items_verify initial
if grep -q "acknowledged by an earlier run" "$TC_TMP/tablecast.log"; then
	grep -q "^ids repeated" "$TC_TMP/state.tsv.stats" || tc_fail "rows read again after the kill got new ce_ids"
fi

# Attach a partition while streaming: its rows from then on are the table's.
psql -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE items_z2 (id int NOT NULL, zone int NOT NULL, qty int NOT NULL, label text, filler text,
  PRIMARY KEY (id, zone));
ALTER TABLE items ATTACH PARTITION items_z2 FOR VALUES FROM (2) TO (3);
INSERT INTO items SELECT g, 2, 7, 'zone 2', 'x' FROM generate_series($((ROWS + 1000)), $((ROWS + 1099))) g;
UPDATE items SET zone = 2, label = 'to zone 2' WHERE id BETWEEN 1 AND 50;
SQL
items_verify initial

# Detach it: PostgreSQL writes no row change for that, so its rows stay in
# the consumer's state; what is written to the detached table afterwards
# is no longer the table's and is not published.
psql -q -v ON_ERROR_STOP=1 <<SQL
ALTER TABLE items DETACH PARTITION items_z2;
CREATE TABLE z2_detached AS SELECT id, qty, label FROM items_z2;
UPDATE items_z2 SET label = 'after detach';
UPDATE items SET label = 'last' WHERE id = $((ROWS + 1));
SQL
items_verify initial "SELECT id, qty, label FROM items UNION ALL SELECT * FROM z2_detached ORDER BY id"
tc_stop

# A publication tablecast creates publishes partitioned tables through their root.
sed -e 's/slot = "tablecast"; //' -e 's/source = {/source = { slot = "parts2"; publication = "parts2";/' \
	-e 's/tables = \["public.items"\];//' -e 's/snapshot = "initial";//' "$TC_TMP/parts.cfg" >"$TC_TMP/parts2.cfg"
tc_start "$TC_TMP/parts2.cfg"
wait_for 30 grep -q 'created publication "parts2"' "$TC_TMP/tablecast.log" || tc_fail "no publication created"
[ "$(psql -Atc "SELECT pubviaroot FROM pg_publication WHERE pubname = 'parts2'")" = t ] ||
	tc_fail "the publication tablecast created does not publish through the partition root"
[ "$(psql -Atc "SELECT string_agg(schemaname || '.' || tablename, ',') FROM pg_publication_tables WHERE pubname = 'parts2'")" = public.items ] ||
	tc_fail "the created publication does not list exactly public.items"
wait_for 30 grep -q 'streaming slot "parts2"' "$TC_TMP/tablecast.log" || tc_fail "parts2 did not stream"
# Changes in every partition, and moves between them, reach the consumer through it too.
psql -q -v ON_ERROR_STOP=1 <<SQL
UPDATE items SET qty = qty + 100, label = 'via parts2' WHERE id % 97 = 0;
UPDATE items SET zone = 1 - zone, label = 'moved via parts2' WHERE id % 101 = 0;
DELETE FROM items WHERE id % 103 = 0;
INSERT INTO items SELECT g, g % 2, 1, 'parts2 ' || g, 'x' FROM generate_series($((ROWS + 2000)), $((ROWS + 2099))) g;
SQL
items_verify initial "SELECT id, qty, label FROM items UNION ALL SELECT * FROM z2_detached ORDER BY id"
tc_stop
echo "partitions: $(wc -l <"$TC_TMP/expected.tsv") rows match after a kill -9 mid-snapshot of $chunks chunks, rows moving between partitions, an attach and a detach"
