#!/usr/bin/env bash
# A real Prometheus (Debian's prometheus package) on loopback, with its own
# port and data directory, loads packaging/prometheus/tablecast.rules.yml,
# scrapes a running tablecast, and has a series for every metric name the
# rules read and a value for every recording rule: the rules watch what exists.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

command -v prometheus >/dev/null || tc_fail "prometheus is missing (Debian package prometheus)"
rules="$top_srcdir/packaging/prometheus/tablecast.rules.yml"

pg_start
broker_start --topic accounts:3 --topic dlq:1
bank_setup dead_letter
port=$(tc_free_port)
echo "metrics = { listen = \"127.0.0.1:$port\"; };" >>"$TC_TMP/bank.cfg"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

prom_port=$(tc_free_port)
mkdir -p "$TC_TMP/prometheus"
cp "$rules" "$TC_TMP/prometheus/tablecast.rules.yml"
cat >"$TC_TMP/prometheus/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - tablecast.rules.yml
scrape_configs:
  - job_name: tablecast
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file="$TC_TMP/prometheus/prometheus.yml" \
	--storage.tsdb.path="$TC_TMP/prometheus/data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$TC_TMP/prometheus.log" 2>&1 &
prom_pid=$!
tc_on_exit "kill $prom_pid; wait $prom_pid"

# query PROMQL: the number of series in the instant vector
query() {
	/usr/bin/python3 - "http://127.0.0.1:$prom_port/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    body = json.load(urllib.request.urlopen(url, timeout=5))
except Exception:
    print(-1)
    sys.exit(0)
print(len(body["data"]["result"]) if body.get("status") == "success" else -1)
PY
}
scraped() { [ "$(query 'up{job="tablecast"} == 1')" = 1 ]; }
wait_for 60 scraped || tc_fail "prometheus did not scrape tablecast (see prometheus.log)"
rules_loaded() {
	/usr/bin/python3 -c '
import json, sys, urllib.request
groups = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))["data"]["groups"]
print(sum(len(g["rules"]) for g in groups))' "http://127.0.0.1:$prom_port/api/v1/rules"
}
nrules=$(rules_loaded)
[ "$nrules" -eq "$(grep -cE '^ *- (alert|record): ' "$rules")" ] || tc_fail "prometheus loaded $nrules rules"

# Traffic, so that the latency histogram and the per-event counters move.
bank_writer 200 0.01
names=$(grep -v '^ *#' "$rules" | grep -o 'tablecast_[a-z0-9_]*' | sort -u)
[ "$(echo "$names" | wc -l)" -ge 10 ] || tc_fail "too few metric names in the rules: $names"
for name in $names; do
	seen() { [ "$(query "$name")" -ge 1 ]; }
	wait_for 20 seen || tc_fail "prometheus has no series $name"
done
for rec in $(sed -n 's/^ *- record: //p' "$rules"); do
	seen() { [ "$(query "$rec")" -ge 1 ]; }
	wait_for 30 seen || tc_fail "recording rule $rec has no value"
done
# The names of the alerts pending or firing, for the failure message.
alert_names() {
	/usr/bin/python3 -c '
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": "ALERTS"})
print(" ".join(r["metric"].get("alertname", "?") + "/" + r["metric"].get("alertstate", "?")
               for r in json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]))' \
		"http://127.0.0.1:$prom_port/api/v1/query"
}
# The healthy daemon fires nothing (pending or firing).
firing=$(query 'ALERTS{alertname=~"Tablecast.*"}')
[ "$firing" = 0 ] || tc_fail "alerts on a healthy daemon: $(alert_names)"
echo "prometheus: scraped tablecast; $(echo "$names" | wc -l) metric names and every recording rule have series; no alert"
