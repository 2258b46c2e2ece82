#!/usr/bin/env bash
# A TRUNCATE reaches every consumer: its event is one record per partition
# of the topic (same ce_id), so whichever partitions a consumer reads, it
# sees the truncate after every keyed event committed before it and before
# every one committed after it.
. "$(dirname "$0")/../lib/servers.sh"

PARTITIONS=4
pg_start
broker_start --topic stock:$PARTITIONS
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE stock (sku int PRIMARY KEY, qty int NOT NULL)"
cat >"$TC_TMP/stock.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.stock"]; status_interval = 1; };
sink = { type = "kafka"; kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP"]; };
events = (
  { name = "acme.stock.StockCounted"; version = 1; table = "public.stock"; on = ["insert"];
    topic = "stock"; key = "new.sku";
    fields = ( { name = "sku"; number = 1; type = "int64"; value = "new.sku"; },
               { name = "qty"; number = 2; type = "int64"; value = "new.qty"; } ); },
  { name = "acme.stock.StockCleared"; version = 1; table = "public.stock"; on = ["truncate"];
    topic = "stock";
    fields = ( { name = "reason"; number = 1; type = "string"; value = "'truncate'"; } ); }
);
CFG
/usr/bin/python3 "$top_srcdir/tests/lib/kafka-collect.py" "$KAFKA_BOOTSTRAP" "$TC_TMP/collected.jsonl" \
	stock 2>>"$TC_TMP/collect.log" &
collector=$!
tc_on_exit "kill $collector; wait $collector"

tc_start "$TC_TMP/stock.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
# Keys spread over every partition, the truncate, then new rows, each in its own transaction.
psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO stock SELECT g, 1 FROM generate_series(1, 40) g"
psql -q -v ON_ERROR_STOP=1 -c "TRUNCATE stock"
psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO stock SELECT g, 2 FROM generate_series(1, 40) g"
collected() { [ "$(grep -c '"topic"' "$TC_TMP/collected.jsonl" 2>/dev/null || true)" -ge $((80 + PARTITIONS)) ]; }
wait_for 60 collected || tc_fail "the consumer has $(grep -c . "$TC_TMP/collected.jsonl") of $((80 + PARTITIONS)) records"
tc_stop

/usr/bin/python3 - "$TC_TMP/collected.jsonl" "$PARTITIONS" <<'PY'
import base64, collections, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
partitions = int(sys.argv[2])
by_partition = collections.defaultdict(list)
for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
    by_partition[r["partition"]].append(r)
clears = [r for r in records if r["headers"]["ce_type"] == "acme.stock.StockCleared.v1"]
assert sorted(r["partition"] for r in clears) == list(range(partitions)), \
    f"truncate records in partitions {sorted(r['partition'] for r in clears)}, want each of {partitions} once"
assert len({r["headers"]["ce_id"] for r in clears}) == 1, "truncate records with different ce_ids"
for p, recs in by_partition.items():
    kinds = ["T" if r["headers"]["ce_type"].endswith("StockCleared.v1") else
             str(base64.b64decode(r["value"])[-1]) for r in recs]
    # Each keyed record's qty (1 before the truncate, 2 after) is its payload's last byte.
    cut = kinds.index("T")
    assert all(k == "1" for k in kinds[:cut]) and all(k == "2" for k in kinds[cut + 1:]), \
        f"partition {p}: {''.join(kinds)}"
    assert cut > 0 and cut < len(kinds) - 1, f"partition {p} has no keyed event on one side: {kinds}"
print(f"truncate: one record in each of {partitions} partitions, in order with {len(records) - partitions} keyed events")
PY
