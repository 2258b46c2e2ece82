#!/usr/bin/env bash
# The broker goes down for 30 s under load: tablecast applies backpressure
# (memory bounded, WAL reading paused, status updates still sent, so
# wal_sender_timeout never fires) and never confirms past unacknowledged
# events. After source.release_after (20 s, the default) without an
# acknowledgement it closes the replication connection, so that the
# walsender could let PostgreSQL shut down; it reconnects once Kafka
# acknowledges again. The first acknowledgement comes within 2 s of the
# broker's return; nothing is lost, and only events in flight when the
# outage began may come twice.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

OUTAGE=${OUTAGE_SECONDS:-30}
RELEASE=20
RECOVERY_LIMIT=2.0
pg_start "wal_sender_timeout = 10s"
# A small local queue, so the outage reaches backpressure quickly.
if [ -n "${TC_EXACTLY_ONCE:-}" ]; then
	# Exactly-once (outage_exactly_once.sh): the Kafka transaction open at
	# the outage cannot commit; its commit waits for the broker in the
	# background, and a read_committed consumer sees no duplicate.
	broker_start --topic accounts:3 --topic dlq:1 --topic tablecast.offsets:1
	bank_setup dead_letter ', "queue.buffering.max.messages=2000"' 'exactly_once = true; transaction_ms = 50;'
else
	broker_start --topic accounts:3 --topic dlq:1
	bank_setup dead_letter ', "queue.buffering.max.messages=2000"'
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

confirmed() { psql -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'tablecast'"; }
slot_active() { [ "$(psql -Atc "SELECT active FROM pg_replication_slots WHERE slot_name = 'tablecast'")" = t ]; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$TC_PID/status"; }

bank_writer 300
bank_writer 5000 0.005 &
writer=$!
tc_on_exit "kill $writer"
sleep 1
down=$(date +%s.%N)
kill -USR1 "$TC_BROKER_PID"
tc_log "broker down"
inflight=$(bank_outage_inflight)
[ -n "$inflight" ] || tc_fail "the outage was not logged"
sleep 3 # deliveries in flight when it went down may still be reported
held=$(confirmed)
peak=0
released_seen=0
deadline=$((SECONDS + OUTAGE - 3))
while ((SECONDS < deadline)); do
	sleep 1
	r=$(rss_kb)
	[ "$r" -gt "$peak" ] && peak=$r
	[ "$(confirmed)" = "$held" ] || tc_fail "confirmed_flush_lsn moved from $held to $(confirmed) while the broker was down"
	slot_active || released_seen=1
done
kill -0 "$TC_PID" || tc_fail "tablecast died during the outage"
[ "$released_seen" -eq 1 ] || tc_fail "the walsender was never released during a ${OUTAGE}s outage"
release=$(bank_log_time "closing the replication connection") || tc_fail "the release was not logged"
python3 -c "import sys; sys.exit(0 if $release - $down >= $RELEASE - 1 else 1)" ||
	tc_fail "released $(python3 -c "print(round($release - $down, 1))") s into the outage, before source.release_after"
lag=$(psql -Atc "SELECT pg_current_wal_lsn() - '$held'::pg_lsn")
up=$(date +%s.%N)
kill -USR2 "$TC_BROKER_PID"
tc_log "broker up after $(python3 -c "print(round($up - $down, 1))") s; WAL written meanwhile: $lag bytes; peak RSS ${peak} kB"
wait_for 30 grep -q "kafka: brokers reachable again" "$TC_TMP/tablecast.log" || tc_fail "the broker's return was not logged"
acked=$(bank_log_time "kafka: brokers reachable again")
recovery=$(python3 -c "print(f'{$acked - $up:.2f}')")
python3 -c "import sys; sys.exit(0 if $recovery <= $RECOVERY_LIMIT else 1)" ||
	tc_fail "the first acknowledgement came ${recovery} s after the broker returned (limit ${RECOVERY_LIMIT} s)"
wait_for 30 grep -q "kafka acknowledges again" "$TC_TMP/tablecast.log" || tc_fail "no reconnect after the release"
wait_for 30 slot_active || tc_fail "tablecast did not stream again"
wait "$writer"
if [ -n "${TC_EXACTLY_ONCE:-}" ]; then
	bank_verify --no-duplicates --committed-only
else
	bank_verify --max-duplicates "$inflight"
fi
[ "$peak" -lt $((256 * 1024)) ] || tc_fail "RSS reached ${peak} kB during the outage"
grep -q "replication connection lost\|replication stream ended" "$TC_TMP/tablecast.log" &&
	tc_fail "the replication connection was lost during backpressure"
[ "$(grep -c "kafka: all brokers are down" "$TC_TMP/tablecast.log")" -eq 1 ] || tc_fail "the outage was logged more than once"
echo "outage: $(python3 -c "print(round($up - $down))") s outage, nothing lost, slot held at $held, walsender released after $(python3 -c "print(round($release - $down, 1))") s, first acknowledgement ${recovery} s after the broker returned, ${inflight} events in flight at its start, peak RSS ${peak} kB, same process"
