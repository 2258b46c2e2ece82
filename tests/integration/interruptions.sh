#!/usr/bin/env bash
# Under a steady load, PostgreSQL restarts and tablecast is killed with -9,
# three times each, one after the other. Nothing is lost, and no
# interruption repeats more than one in-flight window of events, WINDOW
# below: one second of the workload (the writer commits at most 100
# transactions a second, one event each). tablecast records the LSN Kafka
# acknowledged within 200 ms, and librdkafka holds milliseconds of events,
# so a kill repeats well under a second of them; a PostgreSQL restart
# repeats none, although PostgreSQL 15 restarts the slot from its last
# persisted position (often its creation), which without the resume state
# meant the whole history again.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

ROUNDS=${INTERRUPTION_ROUNDS:-3}
WINDOW=100
pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

streams() { grep -c "streaming slot" "$TC_TMP/tablecast.log"; }
streamed_since() { [ "$(streams)" -gt "$1" ]; }
# Between interruptions the writer commits PHASE transactions, however
# loaded the machine: the history must stay well above the bound.
PHASE=150
written() { psql -Atc "SELECT sum(version) FROM accounts" 2>/dev/null || echo 0; }
grown() { [ "$(written)" -ge "$1" ]; }
phase() {
	local target=$(($(written) + PHASE))
	wait_for 180 grown "$target" || tc_fail "the writer stalled at $(written) of $target"
}
bank_writer_retrying 100000 0.01 &
writer=$!
tc_on_exit "kill $writer"
for r in $(seq 1 "$ROUNDS"); do
	phase
	n=$(streams)
	pg_restart || tc_fail "pg_ctl restart failed"
	tc_log "PostgreSQL restarted ($r)"
	wait_for 60 streamed_since "$n" || tc_fail "tablecast did not stream again after restart $r"
	phase
	kill -9 "$TC_PID"
	wait "$TC_PID" 2>/dev/null || true
	tc_log "tablecast killed ($r)"
	n=$(streams)
	tc_start "$TC_TMP/bank.cfg"
	wait_for 60 streamed_since "$n" || tc_fail "tablecast did not stream again after kill $r"
done
phase
bank_writer_stop "$writer"
bound=$((2 * ROUNDS * WINDOW))
bank_verify --max-duplicates "$bound"
events=$(bank_events_seen)
[ "$events" -gt "$bound" ] || tc_fail "only $events events: too few for the duplicate bound ($bound) to mean anything"
echo "interruptions: $ROUNDS PostgreSQL restarts and $ROUNDS kill -9, $events events, none lost, duplicates within $bound"
