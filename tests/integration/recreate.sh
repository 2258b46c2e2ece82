#!/usr/bin/env bash
# source.on_table_recreated = "readd_and_backfill": a table dropped and
# re-created under load (a migration that copies its rows) is put back into
# the publication tablecast owns and backfilled, so a consumer keeping the
# last event per key ends with exactly the table; the same when it happens
# while tablecast is stopped.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/items.sh"

ROWS=2000
pg_start
broker_start --topic items:4
TABLE="CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text)"
psql -q -v ON_ERROR_STOP=1 -c "$TABLE" -c "INSERT INTO items SELECT g, g, 'item ' || g FROM generate_series(1, $ROWS) g"
items_setup "$TC_TMP/tc.cfg" 'signal_table = "public.tablecast_signal"; on_table_recreated = "readd_and_backfill"; guard_interval = 1;'
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
oid=$(psql -Atc "SELECT 'items'::regclass::oid")

# Updates and inserts all along; errors while the table is swapped are fine (the row is not there either).
writer() {
	local i
	for i in $(seq 1 600); do
		echo "UPDATE items SET qty = qty + 1, label = 'w$i' WHERE id = $((RANDOM % ROWS + 1));"
		[ $((i % 5)) -ne 0 ] || echo "INSERT INTO items VALUES ($((ROWS + i)), $i, 'new $i');"
		[ $((i % 20)) -ne 0 ] || echo "SELECT pg_sleep(0.02);"
	done | psql -q >/dev/null 2>&1 || true
}
writer &
writer_pid=$!
tc_on_exit "kill $writer_pid"
sleep 1
psql -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
ALTER TABLE items RENAME TO items_old;
$TABLE;
INSERT INTO items SELECT * FROM items_old;
DROP TABLE items_old;
COMMIT;
SQL
newoid=$(psql -Atc "SELECT 'items'::regclass::oid")
wait "$writer_pid"
wait_for 30 grep -q "added public.items (OID $newoid) to publication \"tablecast\" again" "$TC_TMP/tablecast.log" ||
	tc_fail "not re-added: $(tail -n 5 "$TC_TMP/tablecast.log")"
grep -q "relation public.items was re-created (OID $oid, now $newoid)" "$TC_TMP/tablecast.log" || tc_fail "the re-creation was not logged"
wait_for 60 grep -q "backfill 1 of public.items: done," "$TC_TMP/tablecast.log" || tc_fail "the backfill did not finish"
items_verify backfill
kill -0 "$TC_PID" || tc_fail "tablecast stopped"

# Re-created again while tablecast is stopped: the start finds it, re-adds and backfills it.
tc_stop
psql -q -c "UPDATE items SET qty = 0 WHERE id <= 10" -c "DELETE FROM items WHERE id = 11"
psql -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
ALTER TABLE items RENAME TO items_old;
$TABLE;
INSERT INTO items SELECT id, qty, label || ' again' FROM items_old;
DROP TABLE items_old;
COMMIT;
SQL
oid=$newoid
newoid=$(psql -Atc "SELECT 'items'::regclass::oid")
tc_start "$TC_TMP/tc.cfg"
streams_again() { [ "$(grep -c "streaming slot" "$TC_TMP/tablecast.log")" -ge 2 ]; }
wait_for 30 streams_again || tc_fail "no restart: $(tail -n 3 "$TC_TMP/tablecast.log")"
grep -q "relation public.items was re-created (OID $oid, now $newoid)" "$TC_TMP/tablecast.log" || tc_fail "the start did not see the re-creation"
backfilled_twice() { [ "$(grep -c "of public.items: done," "$TC_TMP/tablecast.log")" -ge 2 ]; }
wait_for 60 backfilled_twice || tc_fail "the second backfill did not finish"
items_verify backfill
kill -0 "$TC_PID" || tc_fail "tablecast stopped after the restart: $(tail -n 3 "$TC_TMP/tablecast.log")"
rows=$(wc -l <"$TC_TMP/expected.tsv")

# A halt first delivers and confirms what came before it: a big transaction,
# then at once a row that cannot become its event (qty now numeric, the
# field int64). The consumer gets the big one while tablecast is halted.
psql -q -c "UPDATE items SET qty = qty + 1000, label = 'last'"
before=$(psql -Atc "SELECT pg_current_wal_lsn()")
psql -q -c "ALTER TABLE items ALTER qty TYPE numeric" -c "INSERT INTO items VALUES (999999, 1, 'halts')"
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "halt: exit $rc"
grep -q 'error: event acme.items.ItemStocked v1: relation public.items: column "qty" read by field "qty" (int64) changed type from integer to numeric, which is not compatible .*(insert of public.items at ' "$TC_TMP/tablecast.log" ||
	tc_fail "halt message: $(grep error: "$TC_TMP/tablecast.log" | tail -n 1)"
confirmed=$(psql -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots")
[ "$(psql -Atc "SELECT '$confirmed'::pg_lsn >= '$before'")" = t ] ||
	tc_fail "the transactions before the halt were not confirmed: slot at $confirmed, they end before $before"
psql -q -c "DELETE FROM items WHERE id = 999999"
items_verify backfill
echo "recreate: re-added and backfilled under load and while stopped; $rows rows match the table; a halt delivered and confirmed what came before"
