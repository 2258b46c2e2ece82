#!/usr/bin/env bash
# Ad-hoc backfill while streaming: `tablecast backfill` re-emits a table's
# rows between watermarks while a workload updates the same rows, with a
# kill -9 in the middle. A consumer keeping the last event per key must end
# with exactly the table; a bad request is refused with one line.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/items.sh"

ROWS=${BACKFILL_ROWS:-200000}
pg_start
# The test broker keeps about 5 MB per partition: enough partitions hold every event.
broker_start --topic items:32
psql -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text);
INSERT INTO items SELECT g, g % 1000, 'item ' || g FROM generate_series(1, $ROWS) g;
SQL

items_setup "$TC_TMP/bf.cfg" 'signal_table = "public.tablecast_signal"; backfill_chunk = 2048;'

tc_start "$TC_TMP/bf.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
grep -q "created signal table public.tablecast_signal" "$TC_TMP/tablecast.log" || tc_fail "no signal table"

# Bad requests: one clear line each, nothing sent.
out=$("$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --table public.nope 2>&1) && tc_fail "unknown table accepted"
echo "$out" | grep -q 'no event of table public.nope is declared on = \["snapshot"\]' || tc_fail "unclear refusal: $out"
# A table the daemon could not read in key order is refused where it is asked for.
psql -q -c "CREATE TABLE nokey (id int, v text)"
cat >"$TC_TMP/nokey.cfg" <<CFG
source = { conninfo = "$TC_CONNINFO"; signal_table = "public.tablecast_signal"; };
sink = { type = "stdout"; };
events = ( { name = "acme.items.NoKey"; version = 1; table = "public.nokey"; on = ["snapshot"]; topic = "items";
             fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); } );
CFG
rc=0
out=$("$top_builddir/tablecast" backfill --config "$TC_TMP/nokey.cfg" --table public.nokey 2>&1) || rc=$?
[ "$rc" -eq 2 ] || tc_fail "a table without a key: exit $rc: $out"
echo "$out" | grep -q 'table public.nokey has no primary key or replica identity index' || tc_fail "unclear refusal: $out"
[ "$(psql -Atc "SELECT count(*) FROM tablecast_signal WHERE target = 'public.nokey'")" -eq 0 ] ||
	tc_fail "a refused request was written to the signal table"

# Hot rows spread over the table, updated all through the backfill; a
# few inserts and deletes too.
writer() {
	local i
	for i in $(seq 1 "${BACKFILL_WRITES:-3000}"); do
		echo "UPDATE items SET qty = qty + 1, label = 'w$i' WHERE id IN ($(( (RANDOM % 100 + 1) * (ROWS / 100) )), $((RANDOM * 7 % ROWS + 1)));"
		[ $((i % 50)) -ne 0 ] || echo "INSERT INTO items VALUES ($((ROWS + i)), $i, 'new $i');"
		[ $((i % 60)) -ne 0 ] || echo "DELETE FROM items WHERE id = $((RANDOM * 11 % ROWS + 1));"
		[ $((i % 10)) -ne 0 ] || echo "SELECT pg_sleep(0.01);"
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null
}
writer &
writer_pid=$!
tc_on_exit "kill $writer_pid"

"$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --table public.items >"$TC_TMP/request.out" ||
	tc_fail "backfill request failed"
grep -q "backfill 1 of public.items requested" "$TC_TMP/request.out" || tc_fail "no request id: $(cat "$TC_TMP/request.out")"
wait_for 30 grep -q "backfill 1 of public.items: reading" "$TC_TMP/tablecast.log" || tc_fail "backfill did not start"

# kill -9 once some progress is kept, then restart: the backfill resumes.
progress_kept() { [ -s "$TC_TMP/state/tablecast.backfill" ] && grep -qv '\\N$' "$TC_TMP/state/tablecast.backfill"; }
wait_for 60 progress_kept || tc_fail "no backfill progress kept"
kill -9 "$TC_PID"
wait "$TC_PID" 2>/dev/null || true
tc_log "killed during the backfill"
tc_start "$TC_TMP/bf.cfg"
wait_for 30 grep -q "reading .* rows at a time, resuming" "$TC_TMP/tablecast.log" || tc_fail "the backfill did not resume"
wait_for 300 grep -q "backfill 1 of public.items: every row read" "$TC_TMP/tablecast.log" ||
	tc_fail "the backfill did not finish"
wait "$writer_pid"
finished() { [ ! -s "$TC_TMP/state/tablecast.backfill" ]; }
wait_for 30 finished || tc_fail "the request was not retired: $(cat "$TC_TMP/state/tablecast.backfill")"
signals_gone() { [ "$(psql -Atc 'SELECT count(*) FROM tablecast_signal')" -eq 0 ]; }
wait_for 30 signals_gone || tc_fail "signal rows left behind"

items_verify backfill
# Rows of chunks sent again after the kill carry the ids they had (a consumer
# drops them as duplicates), and no id names two keys (items_verify).
tc_log "ce_ids repeated by rows sent again: $(sed -n 's/^ids repeated\t//p' "$TC_TMP/state.tsv.stats")"
grep "every row read" "$TC_TMP/tablecast.log" | sed 's/^/  /'
echo "backfill: $(wc -l <"$TC_TMP/expected.tsv") rows match the table after a kill -9 mid-backfill"
