#!/usr/bin/env bash
# The broker goes down, then PostgreSQL restarts (pg_ctl restart -m fast
# -t 60) under load. A walsender that is shutting down waits until its
# client confirms all the WAL it sent, which tablecast cannot do while Kafka
# is down: it closes the replication connection when its publication guard
# loses its own connection to the stopping server, or at the latest after
# source.release_after (20 s by default) of Kafka's silence, and the restart
# completes within pg_ctl's timeout.
# When the broker returns the consumer has every change; duplicates (by
# ce_id) are at most the events in flight when the outage began, although
# PostgreSQL 15 restarts the slot from an older position.
# With TC_EXACTLY_ONCE=1 (restart_outage_exactly_once.sh) the same holds in
# exactly-once mode, where a Kafka transaction's commit or abort waits for
# the broker in the background, and a read_committed consumer sees no
# duplicate at all.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

pg_start
if [ -n "${TC_EXACTLY_ONCE:-}" ]; then
	broker_start --topic accounts:3 --topic dlq:1 --topic tablecast.offsets:1
	bank_setup dead_letter "" 'exactly_once = true; transaction_ms = 50;'
	verify_args=(--no-duplicates --committed-only)
else
	broker_start --topic accounts:3 --topic dlq:1
	bank_setup dead_letter
fi
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

bank_writer_retrying 100000 0.005 &
writer=$!
tc_on_exit "kill $writer"
sleep 5
kill -USR1 "$TC_BROKER_PID"
tc_log "broker down"
inflight=$(bank_outage_inflight)
[ -n "$inflight" ] || tc_fail "the outage was not logged"
[ -n "${TC_EXACTLY_ONCE:-}" ] || verify_args=(--max-duplicates "$inflight")
sleep 5 # events pile up in librdkafka's queue; the server will send them again
start=$(date +%s)
as_pg "$PG_BIN/pg_ctl" -D "$TC_PGDATA" -l "$TC_TMP/postgres.log" -m fast -w -t 60 restart >/dev/null ||
	tc_fail "pg_ctl restart -m fast -t 60 failed while the broker was down"
took=$(($(date +%s) - start))
tc_log "PostgreSQL restarted in ${took} s"
grep -q "closing the replication connection" "$TC_TMP/tablecast.log" ||
	tc_fail "PostgreSQL restarted without tablecast releasing its walsender: nothing was tested"
sleep 3 # still down: tablecast waits for Kafka, the slot unused
kill -USR2 "$TC_BROKER_PID"
tc_log "broker up"
# Released because Kafka was silent (source.release_after), tablecast
# reconnects once Kafka acknowledges again. Released because the publication
# guard lost its connection to the stopping server, it reconnected at once.
if grep -q "kafka has acknowledged nothing for" "$TC_TMP/tablecast.log"; then
	wait_for 30 grep -q "kafka acknowledges again" "$TC_TMP/tablecast.log" || tc_fail "no reconnect after the release"
fi
wait_for 30 grep -q "streaming slot.*skipped if the server sends it" "$TC_TMP/tablecast.log" ||
	tc_fail "tablecast did not stream again"
sleep 5
bank_writer_stop "$writer"
bank_verify "${verify_args[@]}"
kill -0 "$TC_PID" || tc_fail "tablecast died"
skipped=$(awk '{ for (i = 1; i < NF; i++) if ($i == "skipped" && $(i + 2) == "transactions") n += $(i + 1) } END { print n + 0 }' "$TC_TMP/tablecast.log")
echo "restart_outage: pg_ctl restart took ${took} s with the broker down; ${inflight} events in flight at the outage's start; ${skipped:-0} transactions the server sent again were skipped"
