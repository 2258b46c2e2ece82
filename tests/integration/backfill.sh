#!/usr/bin/env bash
# Ad-hoc backfill while streaming: `tablecast backfill` re-emits a table's
# rows between watermarks while a workload updates the same rows, with a
# kill -9 in the middle. A consumer keeping the last event per key must end
# with exactly the table; a bad request is refused with one line. The
# request's row records its status, counts and times, requests take
# consecutive ids, a refused request is marked with its reason, deleting a
# row cancels its request, and ended rows go after source.backfill_retention.
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

items_setup "$TC_TMP/bf.cfg" 'signal_table = "public.tablecast_signal"; backfill_chunk = 2048; backfill_retention = 8;'

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
row_status() { psql -Atc "SELECT status FROM tablecast_signal WHERE id = $1"; }
running() { [ "$(row_status 1)" = running ]; }
wait_for 30 running || tc_fail "request 1 is not marked running: $(row_status 1)"

# kill -9 once some progress is kept, then restart: the backfill resumes.
# (State lines: id, table, condition, the last key confirmed, rows, skipped.)
progress_kept() { awk -F '\t' '$4 != "\\N" { found = 1 } END { exit !found }' "$TC_TMP/state/tablecast.backfill" 2>/dev/null; }
wait_for 60 progress_kept || tc_fail "no backfill progress kept"
kill -9 "$TC_PID"
wait "$TC_PID" 2>/dev/null || true
tc_log "killed during the backfill"
tc_start "$TC_TMP/bf.cfg"
wait_for 30 grep -q "reading .* rows at a time, resuming" "$TC_TMP/tablecast.log" || tc_fail "the backfill did not resume"
wait_for 300 grep -q "backfill 1 of public.items: done" "$TC_TMP/tablecast.log" ||
	tc_fail "the backfill did not finish"
wait "$writer_pid"
finished() { [ ! -s "$TC_TMP/state/tablecast.backfill" ]; }
wait_for 30 finished || tc_fail "the request was not retired: $(cat "$TC_TMP/state/tablecast.backfill")"
# Its row says so: done, with the rows emitted and skipped over both runs
# (chunks confirmed once each, whatever the kill), and its times.
done_1() { [ "$(row_status 1)" = done ]; }
wait_for 30 done_1 || tc_fail "request 1 is not marked done: $(row_status 1)"
read -r emitted skipped timed <<<"$(psql -At -F ' ' -c "SELECT rows_emitted, rows_skipped,
  started_at IS NOT NULL AND finished_at >= started_at AND watermark IS NULL FROM tablecast_signal WHERE id = 1")"
[ "$timed" = t ] || tc_fail "request 1's times or watermark are wrong: $(psql -Atc 'SELECT * FROM tablecast_signal WHERE id = 1')"
table_rows=$(psql -Atc "SELECT count(*) FROM items")
# Every row that existed through the backfill was emitted or skipped for a newer change;
# rows inserted or deleted meanwhile may or may not have been.
[ $((emitted + skipped)) -ge $((ROWS - 200)) ] && [ $((emitted + skipped)) -le $((table_rows + 200)) ] ||
	tc_fail "request 1 counts $emitted emitted + $skipped skipped for a table of $table_rows rows"
grep -q "backfill 1 of public.items: done, $emitted rows emitted, $skipped skipped" "$TC_TMP/tablecast.log" ||
	tc_fail "the log and the signal table disagree: $(grep 'backfill 1 of public.items: done' "$TC_TMP/tablecast.log")"
[ "$(psql -Atc 'SELECT count(*) FROM tablecast_signal')" -eq 1 ] || tc_fail "watermark rows were left in the signal table"
"$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --status >"$TC_TMP/status.out" ||
	tc_fail "backfill --status failed: $(cat "$TC_TMP/status.out")"
grep -q "^1 .*public.items .*done .*$emitted" "$TC_TMP/status.out" || tc_fail "backfill --status: $(cat "$TC_TMP/status.out")"

items_verify backfill

# The next request takes the next id, and its counts are its own.
"$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --table public.items --where "id <= 5000" --wait 120 \
	>"$TC_TMP/request2.out" || tc_fail "the second backfill did not end done: $(cat "$TC_TMP/request2.out")"
grep -q "backfill 2 of public.items requested" "$TC_TMP/request2.out" || tc_fail "request ids are not consecutive: $(cat "$TC_TMP/request2.out")"
[ "$(psql -Atc "SELECT rows_emitted + rows_skipped FROM tablecast_signal WHERE id = 2")" -eq "$(psql -Atc "SELECT count(*) FROM items WHERE id <= 5000")" ] ||
	tc_fail "request 2 counts $(psql -Atc "SELECT rows_emitted, rows_skipped FROM tablecast_signal WHERE id = 2") for $(psql -Atc "SELECT count(*) FROM items WHERE id <= 5000") rows"

# A request the daemon refuses (inserted by any client) is marked with its reason.
refused_id=$(psql -qAt -c "INSERT INTO tablecast_signal (kind, target) VALUES ('backfill', 'public.nope') RETURNING id")
[ "$refused_id" -eq 3 ] || tc_fail "the third request got id $refused_id"
is_refused() { [ "$(row_status "$refused_id")" = refused ]; }
wait_for 30 is_refused || tc_fail "a refused request is not marked: $(row_status "$refused_id")"
psql -Atc "SELECT reason FROM tablecast_signal WHERE id = $refused_id" | grep -q 'declared on = \["snapshot"\]' ||
	tc_fail "the refusal's reason is not recorded"
rc=0
"$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --status --id "$refused_id" --wait 5 >"$TC_TMP/status3.out" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "backfill --status --wait on a refused request: exit $rc"

# Deleting a request's row cancels it.
cancel_id=$(psql -qAt -c "INSERT INTO tablecast_signal (kind, target) VALUES ('backfill', 'public.items') RETURNING id")
wait_for 30 grep -q "backfill $cancel_id of public.items: reading" "$TC_TMP/tablecast.log" || tc_fail "request $cancel_id did not start"
psql -q -c "DELETE FROM tablecast_signal WHERE id = $cancel_id"
wait_for 30 grep -q "backfill $cancel_id of public.items: its row in the signal table was deleted: cancelled" "$TC_TMP/tablecast.log" ||
	grep -q "backfill $cancel_id of public.items: done" "$TC_TMP/tablecast.log" || tc_fail "deleting request $cancel_id's row did not cancel it"

# Ended rows are deleted source.backfill_retention (8 s here) after they ended, when the next request ends.
sleep 9
psql -qAt -c "INSERT INTO tablecast_signal (kind, target) VALUES ('backfill', 'public.nope')" >/dev/null
aged_out() { [ "$(psql -Atc "SELECT count(*) FROM tablecast_signal WHERE id <= $refused_id")" -eq 0 ]; }
wait_for 30 aged_out || tc_fail "ended requests outlived source.backfill_retention: $(psql -Atc 'SELECT id, status, finished_at FROM tablecast_signal')"

# Whoever may insert a request writes what --status prints: its control
# characters are shown as \xNN, never sent to the terminal.
psql -qAt -c "INSERT INTO tablecast_signal (kind, target, condition) VALUES ('backfill', E'public.nope\\x1b[2J', E'id = 1\\x1b]0;owned\\x07')" >/dev/null
"$top_builddir/tablecast" backfill --config "$TC_TMP/bf.cfg" --status >"$TC_TMP/status-hostile.out" ||
	tc_fail "backfill --status: $(cat "$TC_TMP/status-hostile.out")"
! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TC_TMP/status-hostile.out" || tc_fail "backfill --status printed a control character"
grep -qF 'public.nope\x1b[2J' "$TC_TMP/status-hostile.out" || tc_fail "the hostile target is not shown escaped: $(cat -v "$TC_TMP/status-hostile.out")"

# Rows of chunks sent again after the kill carry the ids they had (a consumer
# drops them as duplicates), and no id names two keys (items_verify).
tc_log "ce_ids repeated by rows sent again: $(sed -n 's/^ids repeated\t//p' "$TC_TMP/state.tsv.stats")"
grep "backfill .* done" "$TC_TMP/tablecast.log" | sed 's/^/  /'
echo "backfill: $(wc -l <"$TC_TMP/expected.tsv") rows match the table after a kill -9 mid-backfill"
