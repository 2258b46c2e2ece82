#!/usr/bin/env bash
# The migration of docs/MIGRATION.md, end to end, on the demo shop: the
# warehouse stops reading the storefront's `orders` and reads a model of its
# own, built from the events. Each step prints what a person should see and
# the script stops with a non-zero exit when a step does not show it, so
# tests/integration/migration.sh runs it as a test. Ctrl-C cleans up too.
. "$(dirname "$0")/lib/servers.sh"

ROUNDS=${MIGRATION_ROUNDS:-6}
TC=$top_builddir/tablecast
PY=/usr/bin/python3
APP=$top_srcdir/conf/demo
CFG=$TC_TMP/demo.cfg
MODEL=$TC_TMP/warehouse.sqlite
n=0

step() { printf '\n== %s\n' "$*"; }
indent() { sed 's/^./   &/'; }
# The lines of an audit about public.orders (in FILE).
orders_section() { sed -n '/^public\.orders /,/^$/{/^$/!p}' "$1"; }

storefront() {
	n=$((n + 1))
	PGUSER=storefront psql -q -v ON_ERROR_STOP=1 -v n="$n" -f "$APP/storefront.sql"
}
# The warehouse before the migration: reads orders to find its work.
warehouse_old() { PGUSER=warehouse psql -q -v ON_ERROR_STOP=1 -f "$APP/warehouse.sql"; }
# After it: finds its work in its own read model, sets the status by id.
warehouse_new() {
	local id
	id=$(model next --status placed)
	[ -z "$id" ] || PGUSER=warehouse psql -q -v ON_ERROR_STOP=1 -v id="$id" -v status=paid -f "$APP/warehouse-migrated.sql"
	id=$(model next --status paid)
	[ -z "$id" ] || PGUSER=warehouse psql -q -v ON_ERROR_STOP=1 -v id="$id" -v status=shipped -f "$APP/warehouse-migrated.sql"
}
model() {
	local cmd=$1
	shift
	case $cmd in
	build) set -- --proto "$TC_TMP/py" --brokers "$KAFKA_BOOTSTRAP" "$@" ;;
	esac
	"$PY" "$APP/warehouse-read-model.py" "$cmd" --db "$MODEL" "$@"
}

# Wait until the running tablecast's slot has confirmed everything written
# so far: Kafka has acknowledged every event of it.
slot_at() {
	[ "$(psql -Atc "SELECT confirmed_flush_lsn >= '$1' FROM pg_replication_slots WHERE slot_name = 'tablecast_demo'")" = t ]
}
published() {
	local lsn
	lsn=$(psql -Atc 'SELECT pg_current_wal_insert_lsn()')
	wait_for 30 slot_at "$lsn" || tc_fail "tablecast did not publish up to $lsn (see tablecast.log)"
}

# The table as the model keeps it: compared line by line with model dump.
table_dump() {
	psql -At -F '|' -c "SELECT id, customer_id, status, total,
	    to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
	    to_char(shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), carrier
	  FROM orders ORDER BY id"
}
model_equals_table() {
	table_dump >"$TC_TMP/table.txt"
	model dump >"$TC_TMP/model.txt"
	diff "$TC_TMP/table.txt" "$TC_TMP/model.txt" >"$TC_TMP/model.diff" || {
		indent <"$TC_TMP/model.diff" | head -n 20
		tc_fail "the read model differs from public.orders (table <, model >)"
	}
	echo "   read model equals public.orders: $(wc -l <"$TC_TMP/model.txt") orders, every field"
}

echo "== a throwaway PostgreSQL 15 (with pg_stat_statements) and a local Kafka-protocol broker"
pg_start "shared_preload_libraries = 'pg_stat_statements'"
broker_start --topic shop.orders:3 --topic shop.customers:1 --topic shop.dead_letters:1
psql -q -v ON_ERROR_STOP=1 -f "$APP/schema.sql"
psql -q -v ON_ERROR_STOP=1 -f "$APP/roles.sql"
sed -e "s|@CONNINFO@|$TC_CONNINFO|" -e "s|@STATE_DIR@|$TC_TMP/state|" \
	-e "s|@KAFKA@|$KAFKA_BOOTSTRAP|" "$top_srcdir/conf/demo.cfg" >"$CFG"

echo "== the shop runs as before: the storefront places orders, the warehouse reads and updates them"
for i in $(seq 1 "$ROUNDS"); do
	storefront
	[ $((i % 2)) -eq 1 ] || warehouse_old
done

step "1. who reads orders? (tablecast audit)"
rc=0
"$TC" audit --config "$CFG" >"$TC_TMP/audit1.txt" || rc=$?
[ "$rc" -eq 0 ] || tc_fail "audit exited $rc: $(cat "$TC_TMP/audit1.txt")"
orders_section "$TC_TMP/audit1.txt" | indent
orders_section "$TC_TMP/audit1.txt" | grep -Eq '^public\.orders  owner storefront: 1 reader and 1 writer left$' ||
	tc_fail "the audit does not show one foreign reader and writer of public.orders"
orders_section "$TC_TMP/audit1.txt" | grep -Eq '^  read  warehouse ' ||
	tc_fail "the audit does not show the warehouse reading public.orders"

step "2. publish the events (tablecast snapshot: the existing orders; tablecast run: every change after them)"
echo '   $ tablecast snapshot --config demo.cfg'
"$TC" snapshot --config "$CFG" >"$TC_TMP/snapshot.log" 2>&1 || {
	indent <"$TC_TMP/snapshot.log"
	tc_fail "tablecast snapshot failed"
}
grep -E 'replication slot|rows from' "$TC_TMP/snapshot.log" | indent
echo '   $ tablecast run --config demo.cfg'
tc_start "$CFG"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" ||
	tc_fail "tablecast did not start (see tablecast.log)"
grep -E 'streaming slot' "$TC_TMP/tablecast.log" | indent
# The shop goes on meanwhile; the storefront removes an order placed by mistake.
for i in $(seq 1 "$ROUNDS"); do
	storefront
	[ $((i % 2)) -eq 1 ] || warehouse_old
done
PGUSER=storefront psql -q -v ON_ERROR_STOP=1 <<'SQL'
DELETE FROM order_lines WHERE order_id = (SELECT max(id) FROM orders WHERE status = 'placed');
DELETE FROM orders WHERE id = (SELECT max(id) FROM orders WHERE status = 'placed');
SQL
published
"$TC" tail --config "$CFG" --from-beginning --no-group --idle-exit 2 \
	>"$TC_TMP/events.jsonl" 2>"$TC_TMP/tail.log" || tc_fail "tablecast tail failed: $(cat "$TC_TMP/tail.log")"
# What tablecast tail reads back: the events on shop.orders by type. The
# snapshot published the orders that existed before tablecast started.
"$PY" - "$TC_TMP/events.jsonl" "$ROUNDS" <<'PY' | indent || tc_fail "the snapshot did not publish each existing order once"
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["topic"] == "shop.orders":
        counts[(ev["ce"]["type"], ev["ce"].get("tablecastsnapshot", ""))] += 1
print(f"{sum(counts.values())} events on shop.orders:")
for (t, snap), k in sorted(counts.items()):
    print(f"{k:5}  {t}" + (f"  (tablecastsnapshot={snap}: the existing orders)" if snap else ""))
sys.exit(counts[("shop.orders.OrderState.v1", "initial")] != int(sys.argv[2]))
PY
orders=$(psql -Atc 'SELECT count(*) FROM orders')

step "3. the warehouse builds its own read model from the events (conf/demo/warehouse-read-model.py)"
"$TC" schema generate --config "$CFG" --out "$TC_TMP/proto"
mkdir -p "$TC_TMP/py"
(cd "$TC_TMP/proto" && find . -name '*.proto' -print0 | xargs -0 protoc --proto_path=. --proto_path=/usr/include --python_out="$TC_TMP/py") ||
	tc_fail "protoc refused the generated schemas"
echo "   \$ warehouse-read-model.py build --db warehouse.sqlite --proto py --brokers $KAFKA_BOOTSTRAP"
model build >"$TC_TMP/build1.txt" || tc_fail "the read model was not built: $(cat "$TC_TMP/build1.txt")"
indent <"$TC_TMP/build1.txt"
grep -q "^read model: $orders orders " "$TC_TMP/build1.txt" ||
	tc_fail "the read model does not hold the table's $orders orders"
grep -Eq '[0-9]+ deleted' "$TC_TMP/build1.txt" || tc_fail "the read model did not apply the deleted order"
echo "   \$ warehouse-read-model.py build ... --from-beginning     # the same events again"
model build --from-beginning >"$TC_TMP/build2.txt" || tc_fail "reading again failed: $(cat "$TC_TMP/build2.txt")"
indent <"$TC_TMP/build2.txt"
read_first=$(sed -n 's/^read \([0-9]*\) events.*/\1/p' "$TC_TMP/build1.txt")
grep -q "^read $read_first events .*: $read_first duplicate$" "$TC_TMP/build2.txt" ||
	tc_fail "reading the topic again applied something: not every event was dropped by its ce_id"

step "4. prove the read model equal (tablecast verify: the events against the table, at one WAL point)"
rc=0
"$TC" verify --config "$CFG" --timeout 30 >"$TC_TMP/verify1.txt" 2>&1 || rc=$?
indent <"$TC_TMP/verify1.txt"
[ "$rc" -eq 0 ] || tc_fail "tablecast verify exited $rc"
model_equals_table

step "5. revoke the warehouse's SELECT on orders (after a baseline audit)"
rc=0
"$TC" audit --config "$CFG" >"$TC_TMP/audit2.txt" || rc=$?
[ "$rc" -eq 0 ] || tc_fail "the baseline audit exited $rc"
orders_section "$TC_TMP/audit2.txt" | grep -E '^public|^  (read|write) ' | indent
orders_section "$TC_TMP/audit2.txt" | grep -Eq '^  read  warehouse .*[0-9]Z$' ||
	tc_fail "the baseline audit does not show the warehouse reading public.orders"
echo '   $ psql -c "REVOKE SELECT ON orders FROM warehouse; GRANT SELECT (id) ON orders TO warehouse;"'
psql -v ON_ERROR_STOP=1 -c "REVOKE SELECT ON orders FROM warehouse; GRANT SELECT (id) ON orders TO warehouse;" | indent
echo '   $ PGUSER=warehouse psql -f conf/demo/warehouse.sql     # the old code'
if warehouse_old >"$TC_TMP/old.txt" 2>&1; then
	tc_fail "the old warehouse code still reads orders"
fi
sed "s|$APP/|conf/demo/|" "$TC_TMP/old.txt" | indent
grep -q 'permission denied for table orders' "$TC_TMP/old.txt" ||
	tc_fail "the old warehouse code failed, but not for want of SELECT on orders"
echo "   the warehouse now runs conf/demo/warehouse-migrated.sql, with its work from the read model:"
for i in $(seq 1 "$ROUNDS"); do
	storefront
	published
	model build >>"$TC_TMP/rounds.txt" || tc_fail "the read model was not updated: $(tail -n 3 "$TC_TMP/rounds.txt")"
	warehouse_new
done

step "6. no foreign reader left (tablecast audit --since-last)"
rc=0
"$TC" audit --config "$CFG" --since-last >"$TC_TMP/audit3.txt" || rc=$?
sed -n '1p' "$TC_TMP/audit3.txt" | indent
orders_section "$TC_TMP/audit3.txt" | indent
sed -n '/^since the previous audit/,$p' "$TC_TMP/audit3.txt" | indent
[ "$rc" -eq 0 ] || tc_fail "audit --since-last exited $rc"
orders_section "$TC_TMP/audit3.txt" | grep -Eq '^public\.orders  owner storefront: 1 writer left$' ||
	tc_fail "public.orders still has a foreign reader (or lost its foreign writer)"
orders_section "$TC_TMP/audit3.txt" | grep -Eq '^  read  warehouse .*\(idle\)$' ||
	tc_fail "the warehouse's reads of public.orders are not idle"
grep -Eq '^  stopped warehouse reading public\.orders$' "$TC_TMP/audit3.txt" ||
	tc_fail "the audit does not say the warehouse stopped reading public.orders"

step "and the read model still equals the table"
published
model build | indent
rc=0
"$TC" verify --config "$CFG" --timeout 30 >"$TC_TMP/verify2.txt" 2>&1 || rc=$?
grep -v '^$' "$TC_TMP/verify2.txt" | tail -n 1 | indent
[ "$rc" -eq 0 ] || { indent <"$TC_TMP/verify2.txt"; tc_fail "tablecast verify exited $rc after the cutover"; }
model_equals_table

tc_stop
echo
echo "== done: the warehouse reads its own model; nothing is left running"
