# shellcheck shell=bash
# A small "bank" workload for the Kafka tests: accounts whose version
# counts their updates, an event per change, a consumer alongside.
#   . tests/lib/servers.sh; . tests/lib/bank.sh
#   bank_setup [ON_ERROR [KAFKA_PROPERTIES [SINK_SETTINGS]]]
#   # table, config ($TC_TMP/bank.cfg), schema, a collector reading alongside

bank_setup() {
	local on_error=${1:-dead_letter} kafka_extra=${2:-} sink_extra=${3:-}
	psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, version int NOT NULL, amount bigint NOT NULL DEFAULT 0);
-- Version 0 predates the slot: every event after it counts up from 1.
INSERT INTO accounts (id, version) SELECT g, 0 FROM generate_series(1, 50) g;
SQL
	cat >"$TC_TMP/bank.cfg" <<CFG
log_level = "${TC_LOG_LEVEL:-info}";
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.accounts"]; status_interval = 1; };
sink = { type = "kafka"; dead_letter_topic = "dlq"; flush_timeout = 20; $sink_extra
         kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP", "topic.metadata.refresh.interval.ms=1000"$kafka_extra]; };
events = (
  { name = "acme.bank.AccountChanged"; version = 1; table = "accounts"; on = ["insert", "update"];
    topic = "accounts"; key = "new.id"; on_error = "$on_error";
    fields = (
      { name = "id";      number = 1; type = "int64"; value = "new.id"; },
      { name = "version"; number = 2; type = "int64"; value = "new.version"; },
      { name = "amount";  number = 3; type = "int32"; value = "new.amount"; }
    ); }
);
CFG
	"$top_builddir/tablecast" schema generate --config "$TC_TMP/bank.cfg" --out "$TC_TMP/proto"
	mkdir -p "$TC_TMP/py"
	protoc --proto_path="$TC_TMP/proto" --python_out="$TC_TMP/py" acme/bank/v1/account_changed.proto
	protoc --proto_path="$top_srcdir/proto" --python_out="$TC_TMP/py" tablecast/v1/change.proto
	/usr/bin/python3 "$top_srcdir/tests/lib/kafka-collect.py" "$KAFKA_BOOTSTRAP" "$TC_TMP/collected.jsonl" \
		accounts dlq tablecast.offsets 2>>"$TC_TMP/collect.log" &
	local collector=$!
	tc_on_exit "kill $collector; wait $collector"
}

# bank_writer TRANSACTIONS [PAUSE_SECONDS]: random single-account updates,
# one transaction each, optionally paced (background-safe).
bank_writer() {
	local n=$1 pause=${2:-} i
	for i in $(seq 1 "$n"); do
		echo "UPDATE accounts SET version = version + 1 WHERE id = $((RANDOM % 50 + 1));"
		[ -z "$pause" ] || echo "SELECT pg_sleep($pause);"
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null
}

# bank_writer_retrying TRANSACTIONS [PAUSE_SECONDS]: bank_writer in
# sessions of 20 transactions, carrying on while the server restarts
# (background-safe). Whatever committed is in the table, and the stream
# must show it; what did not commit never happened. bank_writer_stop ends
# it after its current session.
bank_writer_retrying() {
	local n=$1 pause=${2:-} done=0
	rm -f "$TC_TMP/writer.stop"
	while [ "$done" -lt "$n" ] && [ ! -e "$TC_TMP/writer.stop" ]; do
		bank_writer 20 "$pause" 2>/dev/null || sleep 0.2
		done=$((done + 20))
	done
}

# bank_writer_stop PID: stop a background bank_writer_retrying and wait for it.
bank_writer_stop() {
	touch "$TC_TMP/writer.stop"
	wait "$1" 2>/dev/null || true
}

# bank_outage_inflight: wait until tablecast logs that the brokers are down
# and print how many events it had in flight then.
bank_outage_inflight() {
	wait_for 30 grep -q "kafka: all brokers are down" "$TC_TMP/tablecast.log" || tc_fail "the outage was not logged"
	sed -n 's/.*kafka: all brokers are down .*; \([0-9]*\) events in flight.*/\1/p' "$TC_TMP/tablecast.log" | head -n 1
}

# bank_log_time PATTERN: the epoch seconds of the first tablecast.log line
# matching PATTERN (lines start with a UTC timestamp outside the journal).
bank_log_time() {
	/usr/bin/python3 - "$TC_TMP/tablecast.log" "$1" <<'PY'
import datetime, re, sys
for line in open(sys.argv[1], errors="replace"):
    if re.search(sys.argv[2], line):
        stamp = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
        print(f"{stamp.replace(tzinfo=datetime.timezone.utc).timestamp():.3f}")
        break
else:
    sys.exit(1)
PY
}

# bank_crash_loop KILLS TRANSACTIONS_PER_KILL [RESTART_DELAY]: a paced
# writer in the background, tablecast killed with -9 at random moments and
# restarted (at once, or after RESTART_DELAY seconds), KILLS times; returns
# when the writer is done.
bank_crash_loop() {
	local kills=$1 per_kill=$2 delay=${3:-} k writer
	bank_writer $((kills * per_kill)) 0.008 &
	writer=$!
	tc_on_exit "kill $writer"
	for k in $(seq 1 "$kills"); do
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		kill -9 "$TC_PID"
		wait "$TC_PID" 2>/dev/null || true
		[ -z "$delay" ] || sleep "$delay"
		tc_start "$TC_TMP/bank.cfg"
	done
	wait "$writer"
}

bank_expected() { psql -At -c "SELECT json_build_object('id', id, 'version', version) FROM accounts" >"$TC_TMP/expected.jsonl"; }

# Distinct AccountChanged events the consumer has seen [--committed-only:
# in Kafka transactions whose offsets record was written, see check-stream.py].
bank_events_seen() {
	/usr/bin/python3 -c '
import base64, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
if "--committed-only" in sys.argv:
    done = {base64.b64decode(r["value"]).decode().split()[1]
            for r in records if r["topic"] == "tablecast.offsets"}
    records = [r for r in records if r["headers"].get("tablecast_txn") in done]
print(len({r["headers"].get("ce_id") for r in records
           if r["headers"].get("ce_type") == "acme.bank.AccountChanged.v1"}))' \
		"$TC_TMP/collected.jsonl" "$@"
}

# bank_verify [--no-duplicates] [--max-duplicates N] [--committed-only]: wait until the consumer
# has every account's final version, then check the whole stream.
bank_verify() {
	bank_expected
	BANK_WANT=$(psql -At -c "SELECT sum(version) FROM accounts")
	BANK_ARGS=("$@")
	bank_caught_up() { [ "$(bank_events_seen "${BANK_ARGS[@]}")" -ge "$BANK_WANT" ]; }
	wait_for 90 bank_caught_up ||
		tc_fail "the consumer has $(bank_events_seen "$@") of $BANK_WANT events"
	/usr/bin/python3 "$top_srcdir/tests/lib/check-stream.py" "$TC_TMP/collected.jsonl" "$TC_TMP/py" \
		"$TC_TMP/expected.jsonl" "$@"
}
