#!/usr/bin/env bash
# The demo: a throwaway shop database with two apps writing to it, tablecast
# streaming its changes through a local Kafka-protocol broker, and a
# consumer printing what arrives. Ends by itself; Ctrl-C also cleans up.
. "$(dirname "$0")/lib/servers.sh"

ROUNDS=${DEMO_ROUNDS:-12}

pretty() {
	python3 -u -c '
import json, sys
tty = sys.stdout.isatty()
def c(code, s): return f"\033[{code}m{s}\033[0m" if tty else s
for line in sys.stdin:
    try:
        ch = json.loads(line)
    except ValueError:
        continue
    op = ch["op"].upper()
    rel = ch.get("relation", "").removeprefix("public.")
    t = ch.get("commit_time", "")[11:19]
    new, old = ch.get("new", {}), ch.get("old", {})
    if op == "UPDATE" and old:
        body = "  ".join(f"{k}: {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v)
        body = "id=%s  %s" % (new.get("id", "?"), body)
    else:
        body = "  ".join(f"{k}={v}" for k, v in (new or old or ch.get("key", {})).items()
                         if v is not None and not k.endswith("_at"))
    print(f"{t}  {c(36, rel.ljust(12))} {c(33, op.ljust(7))} {body}")
'
}

echo "== starting a throwaway PostgreSQL 15 and a local Kafka-protocol broker"
pg_start
broker_start --topic shop.changes:1
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/schema.sql"

sed -e "s|@CONNINFO@|$TC_CONNINFO|" -e "s|@STATE_DIR@|$TC_TMP/state|" \
	"$top_srcdir/conf/demo.cfg" >"$TC_TMP/demo.cfg"

# tablecast -> relay (librdkafka) -> broker -> kcat consumer -> screen. Each
# pipeline runs in its own process group (job control), so cleanup can end
# every process in it, and Ctrl-C reaches only this script, which then does.
set -m
"$top_builddir/tablecast" run --config "$TC_TMP/demo.cfg" 2>"$TC_TMP/tablecast.log" |
	tee "$TC_TMP/changes.jsonl" |
	/usr/bin/python3 "$top_srcdir/tests/lib/kafka-relay.py" "$KAFKA_BOOTSTRAP" shop.changes 2>>"$TC_TMP/kcat.log" &
streamer=$!
tc_on_exit "kill -TERM -- -$streamer; wait $streamer"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" ||
	tc_fail "tablecast did not start (see tablecast.log)"
sed 's/^/   /' "$TC_TMP/tablecast.log"

kcat -C -b "$KAFKA_BOOTSTRAP" -t shop.changes -o beginning -u -q 2>>"$TC_TMP/kcat.log" |
	tee "$TC_TMP/consumed.jsonl" | pretty &
consumer=$!
tc_on_exit "kill -TERM -- -$consumer; wait $consumer"
set +m

echo "== two apps write to the shared tables; changes arrive through Kafka:"
for n in $(seq 1 "$ROUNDS"); do
	psql -q -v ON_ERROR_STOP=1 -v n="$n" -f "$top_srcdir/conf/demo/storefront.sql"
	[ $((n % 2)) -eq 0 ] && psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/warehouse.sql"
	sleep 0.4
done

# Done writing: wait until everything tablecast printed came back from Kafka.
wait_for 30 bash -c '[ -s "$2" ] && [ "$(wc -l <"$1")" -ge "$(wc -l <"$2")" ]' _ \
	"$TC_TMP/consumed.jsonl" "$TC_TMP/changes.jsonl" ||
	tc_fail "the consumer fell behind: $(wc -l <"$TC_TMP/consumed.jsonl") of $(wc -l <"$TC_TMP/changes.jsonl") changes"
sleep 0.5
echo "== $(wc -l <"$TC_TMP/consumed.jsonl") changes delivered; storefront_sessions rows written: $(psql -Atc 'SELECT count(*) FROM storefront_sessions'), published: $(grep -c storefront_sessions "$TC_TMP/changes.jsonl" || true)"
echo "== stopping; nothing is left running"
