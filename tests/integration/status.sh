#!/usr/bin/env bash
# tablecast status in each state an operator meets, with its exit status:
# healthy (0), lagging while Kafka is down (1), standby while another
# connection (pg_recvlogical) holds the slot and the daemon waits (1),
# halted on a translation error and by the publication guard (3, with the
# error), down (3); --json
# agrees with the text; with metrics off, the database's view alone.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
cp "$TC_TMP/bank.cfg" "$TC_TMP/nometrics.cfg"
port=$(tc_free_port)
echo "metrics = { listen = \"127.0.0.1:$port\"; max_slot_lag = 100000; };" >>"$TC_TMP/bank.cfg"
echo "metrics = { max_slot_lag = 100000; };" >>"$TC_TMP/nometrics.cfg"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# status [CONFIG]: the text in $TC_TMP/status.txt, the JSON in status.json; prints the exit status.
status() {
	local cfg=${1:-$TC_TMP/bank.cfg} rc=0 jrc=0
	"$top_builddir/tablecast" status --config "$cfg" >"$TC_TMP/status.txt" 2>&1 || rc=$?
	"$top_builddir/tablecast" status --config "$cfg" --json >"$TC_TMP/status.json" 2>&1 || jrc=$?
	# Both views from one moment would be nicer; both exit statuses must at least be states.
	case "$rc$jrc" in *2*) tc_fail "status exit 2: $(cat "$TC_TMP/status.txt")" ;; esac
	echo "$rc"
}
# field KEY...: a value from status.json (daemon.streaming, state, ...)
field() {
	/usr/bin/python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k] if v is not None else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$TC_TMP/status.json" "$1"
}
is_state() { # is_state EXIT WORD [CONFIG]
	[ "$(status "${3:-}")" = "$1" ] && head -n 1 "$TC_TMP/status.txt" | grep -q "^tablecast: $2 " &&
		[ "$(field state)" = "$2" ]
}
show() { cat "$TC_TMP/status.txt" >&2; }

# Usage errors are 2.
rc=0; "$top_builddir/tablecast" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || tc_fail "status without --config exited $rc"
rc=0; "$top_builddir/tablecast" status --config /nonexistent >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || tc_fail "status with a missing file exited $rc"

# Healthy: streaming, Kafka reachable, lag under the limit.
bank_writer 50
wait_for 30 is_state 0 healthy || { show; tc_fail "not healthy"; }
grep -q "(this daemon: active)" "$TC_TMP/status.txt" || { show; tc_fail "role"; }
grep -q "held by    pid [0-9]* (tablecast from 127.0.0.1): this daemon" "$TC_TMP/status.txt" || { show; tc_fail "holder"; }
[ "$(field daemon.streaming)" = true ] && [ "$(field daemon.kafka_reachable)" = true ] &&
	[ "$(field role)" = active ] && [ "$(field last_error)" = null ] || tc_fail "json: $(cat "$TC_TMP/status.json")"
[ "$(field daemon.changes)" -ge 50 ] || tc_fail "changes: $(field daemon.changes)"
# Metrics off: the database's view alone still says the slot is streamed.
wait_for 10 is_state 0 healthy "$TC_TMP/nometrics.cfg" || { show; tc_fail "not healthy without metrics"; }
grep -q "metrics off" "$TC_TMP/status.txt" || { show; tc_fail "metrics off not said"; }
echo "healthy: ok" >&2

# Lagging: Kafka down, the slot holds more than max_slot_lag.
kill -USR1 "$TC_BROKER_PID"
sleep 1
bank_writer 1500
wait_for 60 is_state 1 lagging || { show; tc_fail "not lagging"; }
[ "$(field database.lag_bytes)" -gt 100000 ] || tc_fail "lag_bytes: $(field database.lag_bytes)"
grep -q "over metrics.max_slot_lag" "$TC_TMP/status.txt" || { show; tc_fail "lag problem not named"; }
show
wait_for 30 grep -q "kafka unreachable" "$TC_TMP/status.txt" || { show; tc_fail "kafka unreachable not said"; }
kill -USR2 "$TC_BROKER_PID"
wait_for 90 is_state 0 healthy || { show; tc_fail "not healthy after Kafka returned"; }
echo "lagging: ok" >&2

# Standby: another connection holds the slot; the daemon runs and waits.
recv_pid=
grab_slot() {
	if [ -z "$recv_pid" ] || ! kill -0 "$recv_pid" 2>/dev/null; then
		"$PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -S tablecast \
			--start -o proto_version=1 -o publication_names=tablecast -f /dev/null \
			2>>"$TC_TMP/recvlogical.log" &
		recv_pid=$!
	fi
	psql -q -At -c "SELECT pg_terminate_backend(s.active_pid) FROM pg_replication_slots s
		JOIN pg_stat_replication r ON r.pid = s.active_pid
		WHERE s.slot_name = 'tablecast' AND r.application_name <> 'pg_recvlogical'" >/dev/null
	sleep 1
	[ "$(psql -At -c "SELECT r.application_name FROM pg_replication_slots s
		JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = 'tablecast'")" = pg_recvlogical ]
}
wait_for 60 grab_slot || tc_fail "pg_recvlogical did not get the slot (see recvlogical.log)"
tc_on_exit "kill $recv_pid"
wait_for 30 is_state 1 standby || { show; tc_fail "not standby"; }
grep -q "(this daemon: standby)" "$TC_TMP/status.txt" &&
	grep -q "slot held by pid [0-9]* (pg_recvlogical from 127.0.0.1) on another connection; this daemon is not streaming" "$TC_TMP/status.txt" ||
	{ show; tc_fail "standby text"; }
show
[ "$(field role)" = standby ] && [ "$(field database.holder_application)" = pg_recvlogical ] &&
	[ "$(field daemon.streaming)" = false ] || tc_fail "standby json: $(cat "$TC_TMP/status.json")"
kill "$recv_pid"
wait "$recv_pid" 2>/dev/null || true
wait_for 90 is_state 0 healthy || { show; tc_fail "the daemon did not take the slot back"; }
echo "standby: ok" >&2

# Down: no daemon answers.
tc_stop
wait_for 10 is_state 3 down || { show; tc_fail "not down"; }
grep -q "no tablecast answers on 127.0.0.1:$port" "$TC_TMP/status.txt" || { show; tc_fail "down text"; }
[ "$(field role)" = stopped ] || tc_fail "down role: $(field role)"
echo "down: ok" >&2

# Halted: on_error = "halt" and a value that does not fit its int32 field.
sed 's/on_error = "dead_letter"/on_error = "halt"/' "$TC_TMP/bank.cfg" >"$TC_TMP/halt.cfg"
tc_start "$TC_TMP/halt.cfg"
psql -q -c "UPDATE accounts SET version = version + 1, amount = 3000000000 WHERE id = 7"
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "tablecast exited $rc on a translation halt"
is_state 3 halted "$TC_TMP/halt.cfg" || { show; tc_fail "not halted"; }
grep -q "^last error   [0-9T:-]*Z (translation): event acme.bank.AccountChanged v1: .*public.accounts" "$TC_TMP/status.txt" ||
	{ show; tc_fail "last error"; }
[ "$(field last_error.kind)" = translation ] || tc_fail "halt json: $(cat "$TC_TMP/status.json")"
show
# Restarted as it is, it halts again and says so while it runs.
tc_start "$TC_TMP/halt.cfg"
halted_metric() { /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' \
	"http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^tablecast_halted{kind="translation"} 1'; }
wait_for 20 halted_metric || true # the run may be over before a request gets in
wait "$TC_PID" || true
# Fixed (the row goes to the dead-letter topic): the halt is past, the record goes.
tc_start "$TC_TMP/bank.cfg"
wait_for 60 is_state 0 healthy || { show; tc_fail "not healthy after the fix"; }
[ "$(field last_error)" = null ] && [ "$(field daemon.dead_letters)" = 1 ] || tc_fail "after the fix: $(cat "$TC_TMP/status.json")"
[ ! -e "$TC_TMP/state/tablecast.halt" ] || tc_fail "the halt record stayed"
echo "halted: ok" >&2

# The publication guard's halt is a halt too, of its own kind.
psql -q -c "ALTER PUBLICATION tablecast DROP TABLE accounts"
rc=0
wait "$TC_PID" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "tablecast exited $rc when the table left the publication"
is_state 3 halted || { show; tc_fail "not halted by the guard"; }
[ "$(field last_error.kind)" = publication ] && grep -q "(publication): relation public.accounts" "$TC_TMP/status.txt" ||
	{ show; tc_fail "guard halt"; }
echo "status: healthy 0, lagging 1, standby 1, down 3, halted 3 with its error (translation, publication); cleared after the fix"
