#!/usr/bin/env bash
# The broker goes down for 30 s under load: tablecast applies backpressure
# (memory bounded, WAL reading paused, status updates still sent), never
# confirms past unacknowledged events, and recovers without a restart.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

OUTAGE=${OUTAGE_SECONDS:-30}
pg_start "wal_sender_timeout = 10s"
broker_start --topic accounts:3 --topic dlq:1
# A small local queue, so the outage reaches backpressure quickly.
bank_setup dead_letter ', "queue.buffering.max.messages=2000"'
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

confirmed() { psql -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'tablecast'"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$TC_PID/status"; }

bank_writer 300
bank_writer 5000 0.005 &
writer=$!
tc_on_exit "kill $writer"
sleep 1
kill -USR1 "$TC_BROKER_PID"
tc_log "broker down"
sleep 3 # deliveries in flight when it went down may still be reported
held=$(confirmed)
peak=0
for i in $(seq 1 $((OUTAGE - 3))); do
	sleep 1
	r=$(rss_kb)
	[ "$r" -gt "$peak" ] && peak=$r
	[ "$(confirmed)" = "$held" ] || tc_fail "confirmed_flush_lsn moved from $held to $(confirmed) while the broker was down"
done
kill -0 "$TC_PID" || tc_fail "tablecast died during the outage"
lag=$(psql -Atc "SELECT pg_current_wal_lsn() - '$held'::pg_lsn")
kill -USR2 "$TC_BROKER_PID"
tc_log "broker up; WAL written meanwhile: $lag bytes; peak RSS ${peak} kB"
wait "$writer"
bank_verify
[ "$peak" -lt $((256 * 1024)) ] || tc_fail "RSS reached ${peak} kB during the outage"
grep -q "reconnecting" "$TC_TMP/tablecast.log" && tc_fail "the replication connection was lost during backpressure"
echo "outage: ${OUTAGE}s outage, nothing lost, slot held at $held, peak RSS ${peak} kB, same process"
