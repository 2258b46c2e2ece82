#!/usr/bin/env bash
# docs/MIGRATION.md, step 7, as written: the demo's OrderPlaced declared with
# handover = "outbox"; three orders from the old storefront, three from the
# next version (conf/demo/storefront-outbox.sql) that writes the outbox.
# One OrderPlaced per order, the same fields either way, no dead letter.
. "$(dirname "$0")/../lib/servers.sh"
pg_start
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/schema.sql" >/dev/null
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/outbox.sql" >/dev/null
python3 - "$top_srcdir/conf/demo.cfg" "$TC_TMP/demo.cfg" "$TC_CONNINFO" "$TC_TMP/state" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = s.replace("@CONNINFO@", sys.argv[3]).replace("@STATE_DIR@", sys.argv[4])
s = re.sub(r'sink = \{.*?\};', 'sink = { type = "stdout"; dead_letter_topic = "shop.dead_letters"; };', s, flags=re.S)
s = s.replace('tables = ["public.customers", "public.orders", "public.order_lines"];',
              'tables = ["public.customers", "public.orders", "public.order_lines", "public.outbox"];')
i = s.index('name = "shop.orders.OrderPlaced";')
s = s[:i] + 'outbox = "public.outbox"; handover = "outbox";\n    ' + s[i:]
open(sys.argv[2], "w").write(s)
PY
"$top_builddir/tablecast" check --config "$TC_TMP/demo.cfg" >"$TC_TMP/check.out" ||
	tc_fail "check refused step 7's configuration: $(cat "$TC_TMP/check.out")"
tc_start "$TC_TMP/demo.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "no start"
for n in 1 2 3; do psql -q -v ON_ERROR_STOP=1 -v n=$n -f "$top_srcdir/conf/demo/storefront.sql"; done
for n in 4 5 6; do psql -q -v ON_ERROR_STOP=1 -v n=$n -f "$top_srcdir/conf/demo/storefront-outbox.sql"; done
six_placed() { [ "$(count_lines OrderPlaced.v1)" -ge 6 ]; }
wait_for 30 six_placed || tc_fail "$(count_lines OrderPlaced.v1) OrderPlaced events of 6"
sleep 1 # room for a duplicate to show
tc_stop
/usr/bin/python3 - "$TC_TMP/changes.jsonl" <<'PY' || tc_fail "step 7's stream is wrong (see above)"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
placed = [e for e in events if e["ce"]["type"] == "shop.orders.OrderPlaced.v1"]
keys = [e["key"] for e in placed]
print("OrderPlaced keys:", keys)
ok = sorted(keys, key=int) == [str(k) for k in range(1, 7)]
ok &= all(set(e["data"]) == {"orderId", "customerId", "total", "placedAt"} for e in placed)
ok &= all(e["ce"].get("subject") == "order/" + e["key"] for e in placed)
ok &= not [e for e in events if e["topic"] == "shop.dead_letters"]
sys.exit(0 if ok else 1)
PY
grep -q "handover: 3 translator events replaced by the outbox, 3 published from the translator" "$TC_TMP/tablecast.log" ||
	tc_fail "the handover report is not 3 and 3: $(grep handover "$TC_TMP/tablecast.log")"
[ "$(psql -At -c "SELECT count(*) FROM outbox")" -eq 0 ] || tc_fail "the outbox is not empty"
