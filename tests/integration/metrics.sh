#!/usr/bin/env bash
# /metrics parses as Prometheus text (python3-prometheus-client's parser),
# /healthz and /readyz answer, and the slot-lag gauge rises while Kafka is
# down and falls once it is back; over metrics.max_slot_lag, /readyz fails
# and the log says so.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
port=$(tc_free_port)
cat >>"$TC_TMP/bank.cfg" <<CFG
metrics = { listen = "127.0.0.1:$port"; max_slot_lag = 100000; };
CFG
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# get PATH: prints "STATUS BODY"
get() {
	/usr/bin/python3 - "http://127.0.0.1:$port$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
PY
}
# metric NAME: its value, from a real Prometheus text parser
metric() {
	/usr/bin/python3 -c '
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
          if not s.labels}
print(int(values[sys.argv[2]]))' "http://127.0.0.1:$port/metrics" "$1"
}

[ "$(get /healthz)" = "200 ok" ] || tc_fail "/healthz: $(get /healthz)"
ready_now() { [ "$(get /readyz)" = "200 ready" ]; }
wait_for 20 ready_now || tc_fail "/readyz: $(get /readyz)"
bank_writer 200
counted() { [ "$(metric tablecast_changes_total)" -ge 200 ]; }
wait_for 20 counted || tc_fail "changes_total: $(metric tablecast_changes_total)"
/usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
	"http://127.0.0.1:$port/metrics" >"$TC_TMP/metrics.txt"
grep -q 'tablecast_events_total{event="acme.bank.AccountChanged",version="1"} 200' "$TC_TMP/metrics.txt" ||
	tc_fail "per-event counter: $(grep events_total "$TC_TMP/metrics.txt")"
# Commit-to-ack latency: one sample per acknowledged event, a histogram the parser accepts.
acked() { [ "$(metric tablecast_commit_to_ack_seconds_count)" -ge 200 ]; }
wait_for 20 acked || tc_fail "commit_to_ack count: $(metric tablecast_commit_to_ack_seconds_count)"
grep -q '^tablecast_commit_to_ack_seconds_bucket{le="0.01"} ' "$TC_TMP/metrics.txt" ||
	tc_fail "no latency histogram: $(grep commit_to_ack "$TC_TMP/metrics.txt")"
grep -q '^tablecast_commit_to_ack_p99_seconds ' "$TC_TMP/metrics.txt" || tc_fail "no p99"
low_lag() { [ "$(metric tablecast_slot_lag_bytes)" -lt 50000 ]; }
wait_for 20 low_lag || tc_fail "lag did not settle: $(metric tablecast_slot_lag_bytes)"

# Kafka down: nothing is acknowledged, the slot holds the WAL.
kill -USR1 "$TC_BROKER_PID"
sleep 2
psql -q -c "UPDATE accounts SET version = version + 1" -c "UPDATE accounts SET version = version + 1"
bank_writer 1500
high_lag() { [ "$(metric tablecast_slot_lag_bytes)" -gt 100000 ]; }
wait_for 20 high_lag || tc_fail "lag did not grow: $(metric tablecast_slot_lag_bytes)"
get /readyz | grep -q "^503 " || tc_fail "/readyz while lagging: $(get /readyz)"
wait_for 10 grep -q "over metrics.max_slot_lag" "$TC_TMP/tablecast.log" || tc_fail "no lag warning"

# Kafka back: everything is acknowledged, the lag falls, ready again.
kill -USR2 "$TC_BROKER_PID"
wait_for 60 low_lag || tc_fail "lag did not fall: $(metric tablecast_slot_lag_bytes)"
wait_for 20 ready_now || tc_fail "/readyz after recovery: $(get /readyz)"
bank_verify --no-duplicates
echo "metrics: parsed by prometheus_client; lag rose over 100000 bytes and fell back"
