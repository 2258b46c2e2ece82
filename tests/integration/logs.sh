#!/usr/bin/env bash
# Log lines carry a UTC timestamp unless stderr is the journal (JOURNAL_STREAM
# naming stderr itself, not merely inherited); tail --idle-exit ends a run
# whose broker never answers, with or without a consumer group; a first
# snapshot is not a resumption; one-time warnings stay one-time across a
# reconnect; the shutdown line and /metrics count the same row changes.
. "$(dirname "$0")/../lib/servers.sh"

port=$(tc_free_port)
cat >"$TC_TMP/nowhere.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "host=127.0.0.1 port=$port user=nobody connect_timeout=5"; };
sink = { type = "kafka"; kafka = ["bootstrap.servers=127.0.0.1:$port"]; };
events = ( { name = "acme.logs.Thing"; version = 1; table = "public.things"; on = ["insert"];
             topic = "things"; fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); } );
CFG
run_nowhere() { "$top_builddir/tablecast" run --config "$TC_TMP/nowhere.cfg" 2>"$TC_TMP/$1" && return 1 || return 0; }

# 1. A file: every line starts with the time, to the millisecond, in UTC.
run_nowhere plain.log || tc_fail "tablecast run against nothing succeeded"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z tablecast: error: ' "$TC_TMP/plain.log" ||
	tc_fail "no timestamped error line: $(cat "$TC_TMP/plain.log")"

# 2. An inherited JOURNAL_STREAM that names another stream changes nothing.
JOURNAL_STREAM=1:2 run_nowhere inherited.log
grep -Eq '^[0-9]{4}-.*Z tablecast: error: ' "$TC_TMP/inherited.log" ||
	tc_fail "an inherited JOURNAL_STREAM took the timestamps away: $(cat "$TC_TMP/inherited.log")"

# 3. stderr is the stream JOURNAL_STREAM names: syslog priorities, no timestamp.
touch "$TC_TMP/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TC_TMP/journal.log") run_nowhere journal.log
grep -q '^<3>' "$TC_TMP/journal.log" || tc_fail "no priority prefix for the journal: $(cat "$TC_TMP/journal.log")"
grep -Eq '^[0-9]{4}-' "$TC_TMP/journal.log" && tc_fail "timestamps in the journal"

# 4. tail against a broker that never answers: --idle-exit 3 ends it (status 1).
for mode in "" --no-group; do
	start=$SECONDS
	rc=0
	timeout 30 "$top_builddir/tablecast" tail --config "$TC_TMP/nowhere.cfg" --idle-exit 3 $mode \
		>/dev/null 2>"$TC_TMP/tail.log" || rc=$?
	took=$((SECONDS - start))
	[ "$rc" -eq 1 ] || tc_fail "tail $mode: exit $rc, expected 1 (timeout gives 124)"
	[ "$took" -le 8 ] || tc_fail "tail $mode --idle-exit 3 took ${took} s against an unreachable broker"
	grep -q "no broker answered within 3 s" "$TC_TMP/tail.log" || tc_fail "tail $mode: $(tail -n 1 "$TC_TMP/tail.log")"
done

# 5. Against a server: a first `tablecast snapshot` on a new slot is not a
# resumption; a reconnect does not repeat the one-time warnings; the row
# changes in the shutdown line are tablecast_changes_total, TRUNCATE included.
pg_start
psql -q -c "CREATE TABLE things (id int PRIMARY KEY)" -c "INSERT INTO things VALUES (1), (2)"
mport=$(tc_free_port)
cat >"$TC_TMP/things.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.things"]; status_interval = 1; };
sink = { type = "stdout"; };
metrics = { listen = "127.0.0.1:$mport"; };
events = (
  { name = "acme.logs.ThingAdded"; version = 1; table = "public.things"; on = ["snapshot", "insert"];
    topic = "things"; fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); },
  { name = "acme.logs.ThingsCleared"; version = 1; table = "public.things"; on = ["truncate"];
    topic = "things"; fields = ( { name = "cleared"; number = 1; type = "bool"; value = "true"; } ); }
);
CFG
"$top_builddir/tablecast" snapshot --config "$TC_TMP/things.cfg" >"$TC_TMP/snapshot.jsonl" 2>"$TC_TMP/snapshot.log" ||
	tc_fail "tablecast snapshot: $(cat "$TC_TMP/snapshot.log")"
grep -q "snapshot complete" "$TC_TMP/snapshot.log" || tc_fail "no snapshot: $(cat "$TC_TMP/snapshot.log")"
grep -q "resuming the snapshot" "$TC_TMP/snapshot.log" && tc_fail "a first snapshot on a new slot claims to resume an earlier one"

tc_start "$TC_TMP/things.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
psql -q -c "INSERT INTO things SELECT g FROM generate_series(3, 7) g" -c "TRUNCATE things" \
	-c "INSERT INTO things VALUES (1), (2), (3)"
events_out() { [ "$(grep -c '"acme.logs.Thing' "$TC_TMP/changes.jsonl")" -ge 9 ]; }
wait_for 30 events_out || tc_fail "events missing: $(grep -c '"acme.logs' "$TC_TMP/changes.jsonl")"
pg_restart
streamed_twice() { [ "$(grep -c "streaming slot" "$TC_TMP/tablecast.log")" -ge 2 ]; }
wait_for 60 streamed_twice || tc_fail "tablecast did not stream again after the restart"
[ "$(grep -c "max_slot_wal_keep_size is unlimited" "$TC_TMP/tablecast.log")" -eq 1 ] ||
	tc_fail "the max_slot_wal_keep_size warning was repeated at the reconnect"
counted=$(/usr/bin/python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if line.startswith("tablecast_changes_total "):
        print(int(float(line.split()[1])))' "http://127.0.0.1:$mport/metrics")
tc_stop
[ "$counted" -eq 9 ] || tc_fail "tablecast_changes_total is $counted, expected 9 (8 rows and 1 truncated table)"
grep -q "info: $counted row changes," "$TC_TMP/tablecast.log" ||
	tc_fail "the shutdown line differs from tablecast_changes_total ($counted): $(grep "row changes" "$TC_TMP/tablecast.log")"
echo "logs: timestamps outside the journal, priorities in it; tail --idle-exit ends without a broker; a first snapshot is not a resumption; one warning across a reconnect; $counted row changes in both the shutdown line and /metrics"
