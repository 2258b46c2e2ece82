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
def short(v):
    v = v if isinstance(v, str) else json.dumps(v)
    return v[:12] + "..." if len(v) > 40 else v
for line in sys.stdin:
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    ce = ev["ce"]
    name, _, version = ce["type"].rpartition(".")
    kind = name.rsplit(".", 1)[-1] + " " + version
    data = ev.get("data") or ev.get("dead_letter") or {}
    body = "  ".join(k + "=" + short(v) for k, v in data.items())
    print(ce["time"][11:19], " ", c(36, ev["topic"].ljust(15)), c(33, kind.ljust(24)), body)
'
}

echo "== starting a throwaway PostgreSQL 15 and a local Kafka-protocol broker"
# pg_stat_statements: what `tablecast audit` reads.
pg_start "shared_preload_libraries = 'pg_stat_statements'"
broker_start --topic shop.changes:1
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/schema.sql"
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/roles.sql"

sed -e "s|@CONNINFO@|$TC_CONNINFO|" -e "s|@STATE_DIR@|$TC_TMP/state|" \
	-e "s|@KAFKA@|$KAFKA_BOOTSTRAP|" "$top_srcdir/conf/demo.cfg" >"$TC_TMP/demo.cfg"

tc_start "$TC_TMP/demo.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" ||
	tc_fail "tablecast did not start (see tablecast.log)"
sed 's/^/   /' "$TC_TMP/tablecast.log"

# A consumer: tablecast tail decodes what is on the topics with the same
# configuration. Job control gives it a process group of its own, so
# cleanup ends the whole pipeline and Ctrl-C reaches only this script.
set -m
"$top_builddir/tablecast" tail --config "$TC_TMP/demo.cfg" --from-beginning 2>>"$TC_TMP/tail.log" |
	tee "$TC_TMP/consumed.jsonl" | pretty &
consumer=$!
tc_on_exit "kill -TERM -- -$consumer; wait $consumer"
set +m

echo "== two apps write to the shared tables; their changes arrive as domain events through Kafka:"
for n in $(seq 1 "$ROUNDS"); do
	PGUSER=storefront psql -q -v ON_ERROR_STOP=1 -v n="$n" -f "$top_srcdir/conf/demo/storefront.sql"
	[ $((n % 2)) -eq 0 ] && PGUSER=warehouse psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/warehouse.sql"
	sleep 0.4
done

# Done writing: a clean stop drains Kafka; then wait for the consumer to see it all.
tc_stop
produced=$(sed -n 's/.* row changes, \([0-9]*\) events, \([0-9]*\) dead letters.*/\1 + \2/p' "$TC_TMP/tablecast.log" | tail -n 1)
produced=$((produced))
caught_up() { [ "$(wc -l <"$TC_TMP/consumed.jsonl")" -ge "$produced" ]; }
wait_for 30 caught_up ||
	tc_fail "the consumer fell behind: $(wc -l <"$TC_TMP/consumed.jsonl") of $produced events"
sleep 0.3
echo "== $(wc -l <"$TC_TMP/consumed.jsonl") events delivered:"
python3 -c '
import collections, json, sys
counts = collections.Counter(json.loads(l)["ce"]["type"] for l in open(sys.argv[1]))
for t, n in sorted(counts.items()): print(f"   {n:4}  {t}")' "$TC_TMP/consumed.jsonl"
echo "== never published: customers.full_name, storefront_sessions ($(psql -Atc 'SELECT count(*) FROM storefront_sessions') rows)"
"$top_builddir/tablecast" schema generate --config "$TC_TMP/demo.cfg" --out "$TC_TMP/proto"
echo "== consumers get these schemas (tablecast schema generate):"
(cd "$TC_TMP/proto" && find . -name '*.proto' | sort | sed 's|^\./|   |')
echo "== who still reads and writes the shared tables (tablecast audit):"
"$top_builddir/tablecast" audit --config "$TC_TMP/demo.cfg" | sed -n '/^public\.\(orders\|customers\) /,/^$/p' | sed 's/^/   /'
echo "== stopping; nothing is left running"
