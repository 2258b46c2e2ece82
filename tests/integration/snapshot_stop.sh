#!/usr/bin/env bash
# A snapshot stopped with SIGTERM while its threads publish: the run exits
# cleanly, records only chunks Kafka acknowledged, and the next run reads
# exactly the rest. A consumer that keeps the last event per key ends with
# the table, row by row.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/items.sh"

ROWS=${SNAPSHOT_ROWS:-400000}
pg_start
broker_start --topic items:24
psql -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text, secret text);
INSERT INTO items SELECT g, g % 1000, 'item ' || g, 'not for events' FROM generate_series(1, $ROWS) g;
ANALYZE items;
SQL
items_setup "$TC_TMP/snap.cfg" 'snapshot_workers = 2;'

snapshot() {
	"$top_builddir/tablecast" snapshot --config "$TC_TMP/snap.cfg" >/dev/null 2>>"$TC_TMP/tablecast.log" &
	TC_PID=$!
	tc_on_exit "kill -9 $TC_PID; wait $TC_PID"
}
marker="$TC_TMP/state/tablecast.snapshot"

snapshot
wait_for 60 grep -q "snapshot .*chunks" "$TC_TMP/tablecast.log" || tc_fail "no snapshot started"
some_done() { grep -q "^done" "$marker" 2>/dev/null; }
wait_for 120 some_done || true
kill -TERM "$TC_PID"
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 0 ] || tc_fail "tablecast snapshot exited $rc on SIGTERM (see tablecast.log)"
grep -q "stopped during the snapshot" "$TC_TMP/tablecast.log" || tc_fail "no word of the stop"
[ -e "$marker" ] || tc_fail "the stopped snapshot left no marker"

# The rows of the chunks the marker calls done: the next run must read all the others.
done_rows=0
while read -r _ _ _ first end; do
	range="ctid >= '($first,0)'::tid"
	[ "$end" = 0 ] || range="$range AND ctid < '($end,0)'::tid"
	done_rows=$((done_rows + $(psql -Atq -c "SELECT count(*) FROM items WHERE $range")))
done < <(grep "^done" "$marker")
tc_log "stopped with $(grep -c "^done" "$marker") chunks ($done_rows rows) acknowledged"

snapshot
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 0 ] || tc_fail "the resumed snapshot exited $rc (see tablecast.log)"
[ ! -e "$marker" ] || tc_fail "snapshot marker left behind"
read_rows=$(grep -o "[0-9]* rows from 1 tables" "$TC_TMP/tablecast.log" | tail -n 1 | cut -d' ' -f1)
[ "$read_rows" = $((ROWS - done_rows)) ] ||
	tc_fail "the resumed snapshot read $read_rows rows; $((ROWS - done_rows)) were not acknowledged"

items_verify initial
echo "snapshot_stop: SIGTERM mid-snapshot exits 0; the resumed run read the $read_rows unacknowledged rows; the consumer has all $ROWS"
