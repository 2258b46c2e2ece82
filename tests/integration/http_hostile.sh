#!/usr/bin/env bash
# The metrics listener survives hostile clients: partial and idle requests
# are cut off, 1 MB headers get 431, 1000 pipelined requests get 1000
# answers, and with 100 idle and slow-drip clients held open for 30 s
# /healthz answers every probe within 1 s while changes keep flowing.
# libmicrohttpd's messages go through tablecast's logger, and a busy port
# is reported with its address.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
HOLD_SECONDS=${HOLD_SECONDS:-30}
pg_start
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE t (id serial PRIMARY KEY, note text)"
port=$(tc_free_port)
TC_LOG_LEVEL=debug tc_config "$TC_TMP/tc.cfg"
echo "metrics = { listen = \"127.0.0.1:$port\"; };" >>"$TC_TMP/tc.cfg"
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

/usr/bin/python3 "$top_srcdir/tests/lib/http-hostile.py" "$port" checks || tc_fail "hostile HTTP checks"

# Rows keep coming while the listener is under siege.
( for i in $(seq 1 $((HOLD_SECONDS * 2))); do
	psql -q -c "INSERT INTO t (note) VALUES ('during the siege')" || exit 1
	sleep 0.5
done ) &
writer=$!
tc_on_exit "kill $writer"
/usr/bin/python3 "$top_srcdir/tests/lib/http-hostile.py" "$port" hold "$HOLD_SECONDS" || tc_fail "/healthz under siege"
wait "$writer" || tc_fail "the writer failed"
rows=$((HOLD_SECONDS * 2))
streamed() { [ "$(count_lines 'during the siege')" -eq "$rows" ]; }
wait_for 30 streamed || tc_fail "$(count_lines 'during the siege') of $rows rows streamed"
echo "ok: $rows rows streamed during the siege"
kill -0 "$TC_PID" || tc_fail "tablecast died"

# Everything on stderr is tablecast's: one prefixed line each.
# Every line is tablecast's own (after its timestamp outside the journal).
stray=$(grep -Evc '^([0-9T:.Z-]+ )?tablecast: ' "$TC_TMP/tablecast.log" || true)
[ "$stray" -eq 0 ] || tc_fail "unprefixed lines on stderr: $(grep -Ev '^([0-9T:.Z-]+ )?tablecast: ' "$TC_TMP/tablecast.log" | head -3)"
grep -q 'metrics listener: ' "$TC_TMP/tablecast.log" || tc_fail "no listener messages in the log"

# A second instance on the same port: exit 1, one line naming the address and why.
sed "s/slot = \"tablecast\"/slot = \"second\"/" "$TC_TMP/tc.cfg" >"$TC_TMP/second.cfg"
rc=0
timeout 60 "$TC" run --config "$TC_TMP/second.cfg" >/dev/null 2>"$TC_TMP/second.err" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "busy port: exit $rc: $(cat "$TC_TMP/second.err")"
grep -q "metrics.listen \"127.0.0.1:$port\": Address already in use" "$TC_TMP/second.err" ||
	tc_fail "busy port: $(cat "$TC_TMP/second.err")"
echo "ok: $(grep -v ': info: ' "$TC_TMP/second.err")"
tc_stop
