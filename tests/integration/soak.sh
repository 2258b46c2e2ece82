#!/usr/bin/env bash
# A bounded soak (make check-long): SOAK_SECONDS (600) of mixed load
# (single-row updates, 50-row updates, inserts) with a broker outage of
# SOAK_OUTAGE seconds (15) every SOAK_OUTAGE_EVERY (90) and a SIGHUP reload
# every 30 s. Every 10 s it records RSS, open descriptors and the
# commit-to-ack p99 of the events acknowledged since the previous sample
# (soak-sample.py), and reports the p99 apart for the samples an outage or
# its first 10 s of recovery touched; it fails on an upward trend in RSS or descriptors, or on
# any lost event. The samples go to SOAK_CSV when set; the summary is
# Markdown for docs/PERFORMANCE.md.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

DURATION=${SOAK_SECONDS:-600}
OUTAGE=${SOAK_OUTAGE:-15}
OUTAGE_EVERY=${SOAK_OUTAGE_EVERY:-90}
RELOAD_EVERY=30
WARMUP=$((DURATION / 10 > 60 ? 60 : DURATION / 10))

# Under ASan, freed memory waits in a quarantine (256 MiB by default) that
# would read as a rising RSS: keep it small, as outage.sh does.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
port=$(tc_free_port)
echo "metrics = { listen = \"127.0.0.1:$port\"; };" >>"$TC_TMP/bank.cfg"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# The load: until the stop file appears, sessions of mixed transactions.
load() {
	local n=0 i
	while [ -d "$TC_TMP" ] && [ ! -e "$TC_TMP/load.stop" ]; do
		n=$((n + 1))
		{
			for i in $(seq 1 40); do
				echo "UPDATE accounts SET version = version + 1 WHERE id = $((RANDOM % 50 + 1));"
				echo "SELECT pg_sleep(0.01);"
			done
			echo "UPDATE accounts SET version = version + 1 WHERE id <= 50;"
			echo "INSERT INTO accounts (id, version) VALUES ($((1000 + n)), 1);"
		} | psql -q -v ON_ERROR_STOP=1 >/dev/null || sleep 0.2
	done
}
load &
loader=$!
tc_on_exit "touch $TC_TMP/load.stop; wait $loader"

csv=${SOAK_CSV:-$TC_TMP/soak.csv}
/usr/bin/python3 "$top_srcdir/tests/lib/soak-sample.py" sample "$TC_PID" \
	"http://127.0.0.1:$port/metrics" 10 "$DURATION" "$csv" &
sampler=$!
tc_on_exit "kill $sampler"

start=$SECONDS
outages=0 reloads=0
: >"$TC_TMP/outages.txt"
next_outage=$((start + OUTAGE_EVERY / 2))
next_reload=$((start + RELOAD_EVERY))
while ((SECONDS - start < DURATION)); do
	sleep 1
	kill -0 "$TC_PID" 2>/dev/null || tc_fail "tablecast died (see tablecast.log)"
	if ((SECONDS >= next_reload)); then
		kill -HUP "$TC_PID"
		reloads=$((reloads + 1))
		next_reload=$((SECONDS + RELOAD_EVERY))
	fi
	if ((SECONDS >= next_outage && SECONDS - start + OUTAGE < DURATION)); then
		kill -USR1 "$TC_BROKER_PID"
		down=$(date +%s.%N)
		sleep "$OUTAGE"
		kill -USR2 "$TC_BROKER_PID"
		echo "$down $(date +%s.%N)" >>"$TC_TMP/outages.txt"
		outages=$((outages + 1))
		next_outage=$((SECONDS + OUTAGE_EVERY - OUTAGE))
	fi
done
wait "$sampler" || tc_fail "the sampler failed"
touch "$TC_TMP/load.stop"
wait "$loader" || true
[ "$reloads" -ge 1 ] || tc_fail "no reload happened"
wait_for 10 grep -q "reload" "$TC_TMP/tablecast.log" || tc_fail "no reload logged"

# Nothing lost: every account's every version reached the consumer, in order.
bank_verify
rc=0
/usr/bin/python3 "$top_srcdir/tests/lib/soak-sample.py" judge "$csv" "$WARMUP" "$TC_TMP/outages.txt" >"$TC_TMP/soak.md" || rc=$?
cat "$TC_TMP/soak.md"
echo "| run | ${DURATION} s, $outages broker outages of ${OUTAGE} s, $reloads reloads, $(psql -At -c "SELECT sum(version) FROM accounts") events, none lost |"
[ "$rc" -eq 0 ] || tc_fail "a leak (above)"
echo "soak: ${DURATION} s, flat RSS and descriptors, nothing lost"
