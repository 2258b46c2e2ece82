#!/usr/bin/env bash
# Hostile configurations (tests/fixtures/hostile-config, plus the deep and
# huge ones generate.py writes): each gives exit 2 and exactly one
# "file:line: reason" line from check-config and from run, quickly and with
# no sanitizer report; the same files sent to a running tablecast by SIGHUP
# leave it streaming with its configuration.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
MAX_CPU=${MAX_CPU:-2.0}
dir="$TC_TMP/hostile"
mkdir -p "$dir"
cp "$top_srcdir"/tests/fixtures/hostile-config/*.cfg "$top_srcdir"/tests/fixtures/hostile-config/*.inc "$dir/"
/usr/bin/python3 "$top_srcdir/tests/fixtures/hostile-config/generate.py" "$dir"
mkfifo "$dir/include-fifo.inc"
# Includes are found from the working directory, as libconfig does.
cd "$dir"
files=$(ls ./*.cfg | sed 's|^\./||' | sort)
n=$(echo "$files" | wc -l)
[ "$n" -ge 30 ] || tc_fail "only $n hostile configurations"

# expect_refused WHAT FILE COMMAND...: exit 2, one "tablecast: file:line: reason" line.
max_wall=0 max_cpu=0 slowest=
expect_refused() {
	local what=$1 file=$2 rc wall cpu
	shift 2
	read -r rc wall cpu < <(/usr/bin/python3 "$top_srcdir/tests/lib/timed.py" "$TC_TMP/out" "$@")
	[ "$rc" -eq 2 ] || tc_fail "$what $file: exit $rc: $(head -c 2000 "$TC_TMP/out")"
	[ "$(wc -l <"$TC_TMP/out")" -eq 1 ] || tc_fail "$what $file: not one line: $(head -c 2000 "$TC_TMP/out")"
	grep -Eq '^tablecast: [^: ]+:[0-9]+: [^ ]' "$TC_TMP/out" || tc_fail "$what $file: no file:line: $(cat "$TC_TMP/out")"
	awk -v c="$cpu" -v m="$MAX_CPU" 'BEGIN { exit !(c <= m) }' || tc_fail "$what $file: ${cpu} s of CPU"
	awk -v w="$wall" 'BEGIN { exit !(w <= 30) }' || tc_fail "$what $file: ${wall} s"
	if awk -v c="$cpu" -v m="$max_cpu" 'BEGIN { exit !(c > m) }'; then
		max_cpu=$cpu slowest="$what $file"
	fi
	if awk -v w="$wall" -v m="$max_wall" 'BEGIN { exit !(w > m) }'; then
		max_wall=$wall
	fi
	return 0
}

for f in $files; do
	expect_refused check-config "$f" "$TC" check-config "$f"
	want=$(sed 's/^tablecast: //' "$TC_TMP/out")
	echo "ok: $want"
	expect_refused run "$f" "$TC" run --config "$f"
	[ "$(sed 's/^tablecast: //' "$TC_TMP/out")" = "$want" ] ||
		tc_fail "run and check-config disagree on $f: $(cat "$TC_TMP/out")"
done
echo "ok: $n files refused by check-config and run in ${SECONDS} s; most CPU ${max_cpu} s ($slowest), longest ${max_wall} s"

# The same files by SIGHUP: the running configuration stays, rows keep flowing.
pg_start
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE t (id serial PRIMARY KEY, note text)"
tc_config "$TC_TMP/good.cfg"
cp "$TC_TMP/good.cfg" live.cfg
# Under a watchdog of 4 s (a ping every 2 s): no reload may keep the main loop from its pings that long.
/usr/bin/python3 "$top_srcdir/tests/lib/notify-listener.py" "$TC_TMP/notify.sock" "$TC_TMP/notify.log" stamp &
listener=$!
tc_on_exit "kill $listener"
wait_for 10 test -S "$TC_TMP/notify.sock" || tc_fail "no notification socket"
NOTIFY_SOCKET="$TC_TMP/notify.sock" WATCHDOG_USEC=4000000 tc_start live.cfg
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
i=0
for f in $files; do
	i=$((i + 1))
	cp "$f" live.cfg
	kill -HUP "$TC_PID"
	refused() { [ "$(grep -c 'keeping the running configuration' "$TC_TMP/tablecast.log")" -ge "$i" ]; }
	wait_for 30 refused || tc_fail "no reload verdict for $f: $(tail -3 "$TC_TMP/tablecast.log")"
	psql -q -c "INSERT INTO t (note) VALUES ('after $f')"
	arrived() { [ "$(count_lines "after $f")" -eq 1 ]; }
	wait_for 30 arrived || tc_fail "not streaming after $f"
done
kill -0 "$TC_PID" || tc_fail "tablecast died"
[ "$(grep -c 'keeping the running configuration' "$TC_TMP/tablecast.log")" -eq "$n" ] ||
	tc_fail "reload verdicts: $(grep -c 'keeping the running configuration' "$TC_TMP/tablecast.log") of $n"
# A reload verdict is one line, with the file and line, like check-config's.
grep 'keeping the running configuration' "$TC_TMP/tablecast.log" | grep -Evq '^([0-9T:.Z-]+ )?tablecast: error: reload: [^: ]+:[0-9]+: ' &&
	tc_fail "reload verdict without file:line: $(grep 'keeping the running' "$TC_TMP/tablecast.log" | grep -Ev 'reload: [^: ]+:[0-9]+: ' | head -2)"
gap=$(awk '/WATCHDOG=1/ { if (last) { d = $1 - last; if (d > max) max = d } last = $1 } END { printf "%.3f", max }' "$TC_TMP/notify.log")
pings=$(grep -c 'WATCHDOG=1' "$TC_TMP/notify.log")
[ "$pings" -ge 3 ] || tc_fail "only $pings watchdog pings"
awk -v g="$gap" 'BEGIN { exit !(g < 4) }' || tc_fail "the watchdog went ${gap} s without a ping"
echo "ok: $n hostile reloads refused; $n rows streamed after them (at ${SECONDS} s); longest watchdog gap ${gap} s ($pings pings)"
cp "$TC_TMP/good.cfg" live.cfg
tc_stop
