#!/usr/bin/env bash
# Under systemd (a stand-in notification socket): READY=1 once streaming,
# WATCHDOG=1 from the main loop, RELOADING=1 on SIGHUP, STOPPING=1 on
# SIGTERM. A broken configuration on SIGHUP keeps the running one and logs
# file:line; a good one changes the events without a restart.
. "$(dirname "$0")/../lib/servers.sh"

pg_start
psql -q -c "CREATE TABLE t (id int PRIMARY KEY, name text)"
/usr/bin/python3 "$top_srcdir/tests/lib/notify-listener.py" "$TC_TMP/notify.sock" "$TC_TMP/notify.log" &
listener=$!
tc_on_exit "kill $listener"
wait_for 10 test -S "$TC_TMP/notify.sock" || tc_fail "no notification socket"

write_cfg() { # write_cfg EVENT_NAME
	cat >"$TC_TMP/tc.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
sink = { type = "stdout"; };
events = (
  { name = "acme.things.$1"; version = 1; table = "t"; on = ["insert"]; topic = "things";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); }
);
CFG
}
write_cfg ThingAdded
NOTIFY_SOCKET="$TC_TMP/notify.sock" WATCHDOG_USEC=400000 tc_start "$TC_TMP/tc.cfg"
has() { grep -q -- "$1" "$TC_TMP/notify.log" 2>/dev/null; }
wait_for 30 has "READY=1" || tc_fail "no READY=1: $(cat "$TC_TMP/notify.log")"
grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "READY=1 before streaming"
sleep 1.5
[ "$(grep -c 'WATCHDOG=1' "$TC_TMP/notify.log")" -ge 3 ] || tc_fail "too few WATCHDOG=1: $(cat "$TC_TMP/notify.log")"

# A broken file: RELOADING=1, an error with file:line, the old events go on.
cp "$TC_TMP/tc.cfg" "$TC_TMP/good.cfg"
printf 'source = {\n  conninfo = "x"\n' >"$TC_TMP/tc.cfg"
kill -HUP "$TC_PID"
wait_for 10 grep -q "reload: .*tc.cfg:3: syntax error.*keeping the running configuration" "$TC_TMP/tablecast.log" ||
	tc_fail "broken reload not reported: $(tail -n 3 "$TC_TMP/tablecast.log")"
wait_for 5 has "RELOADING=1" || tc_fail "no RELOADING=1"
psql -q -c "INSERT INTO t VALUES (1, 'a')"
wait_for 10 grep -q '"type":"acme.things.ThingAdded.v1"' "$TC_TMP/changes.jsonl" || tc_fail "the running events stopped"

# A good file with another event: applied without a restart.
write_cfg ThingCreated
kill -HUP "$TC_PID"
wait_for 10 grep -q "reload: 1 events from" "$TC_TMP/tablecast.log" || tc_fail "good reload not applied"
psql -q -c "INSERT INTO t VALUES (2, 'b')"
wait_for 10 grep -q '"type":"acme.things.ThingCreated.v1"' "$TC_TMP/changes.jsonl" || tc_fail "the new events did not apply"
[ "$(grep -c '"topic":"things"' "$TC_TMP/changes.jsonl")" -eq 2 ] || tc_fail "events lost or doubled across reloads"

# A setting that cannot change live is named, and the rest still applies.
sed -i 's/status_interval = 1;/status_interval = 2;/' "$TC_TMP/tc.cfg"
kill -HUP "$TC_PID"
wait_for 10 grep -q "reload: source.status_interval cannot change while running" "$TC_TMP/tablecast.log" ||
	tc_fail "fixed setting not named: $(tail -n 2 "$TC_TMP/tablecast.log")"

tc_stop
wait_for 5 has "STOPPING=1" || tc_fail "no STOPPING=1"
echo "systemd: READY, WATCHDOG, RELOADING (broken and good), STOPPING"
