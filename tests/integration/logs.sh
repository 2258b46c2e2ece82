#!/usr/bin/env bash
# Log lines carry a UTC timestamp unless stderr is the journal (JOURNAL_STREAM
# naming stderr itself, not merely inherited); tail --idle-exit ends a run
# whose broker never answers, with or without a consumer group.
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
echo "logs: timestamps outside the journal, priorities in it; tail --idle-exit ends without a broker"
