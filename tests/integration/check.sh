#!/usr/bin/env bash
# `tablecast check` reads the live catalog: missing tables and columns,
# types that do not fit, old.<col> without the replica identity it needs,
# TOAST-able columns, publication coverage; one line each, file:line.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total numeric(12,2), notes text);
CREATE TABLE customers (id bigint PRIMARY KEY, email text);
ALTER TABLE customers REPLICA IDENTITY FULL;
CREATE PUBLICATION tablecast FOR TABLE orders;
SQL

# write_cfg FILE STATUS_TYPE TOTAL_CONDITION [LEGACY_EVENT]
write_cfg() {
	cat >"$1" <<CFG
source = { conninfo = "$TC_CONNINFO"; };
events = (
  { name = "shop.orders.OrderShipped"; version = 1; table = "orders"; on = ["update"];
    when = "old.status <> new.status AND new.status = 'shipped'";
    topic = "orders"; key = "new.id";
    fields = (
      { name = "order_id"; number = 1; type = "int64";   value = "new.id"; },
      { name = "status";   number = 2; type = "$2";   value = "new.status"; },
      { name = "notes";    number = 3; type = "string";  value = "new.notes"; },
      { name = "carrier";  number = 4; type = "string";  value = "new.carrier"; }
    ); },
  { name = "shop.orders.OrderTotalled"; version = 1; table = "orders"; on = ["insert"];
    when = "$3";
    topic = "orders";
    fields = ( { name = "total"; number = 1; type = "decimal"; value = "new.total"; } ); },
  { name = "shop.customers.EmailChanged"; version = 1; table = "customers"; on = ["update"];
    when = "old.email IS DISTINCT FROM new.email";
    topic = "customers";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); }${4:-}
);
CFG
}
write_cfg "$TC_TMP/bad.cfg" int32 "new.total + 1" ',
  { name = "shop.legacy.Thing"; version = 1; table = "legacy_things"; on = ["insert"]; topic = "t";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); }'

rc=0
"$TC" check --config "$TC_TMP/bad.cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
cat "$TC_TMP/check.out"
[ "$rc" -eq 1 ] || tc_fail "check: exit $rc, expected 1"
expect() { grep -q -- "$1" "$TC_TMP/check.out" || tc_fail "missing finding: $1"; }
expect "bad.cfg:4: error: event shop.orders.OrderShipped v1: when: old.status needs REPLICA IDENTITY FULL on public.orders"
expect "bad.cfg:8: error: event shop.orders.OrderShipped v1: field \"status\": a text value does not fit int32"
expect "bad.cfg:4: warning: event shop.orders.OrderShipped v1: when: new.status can be an unchanged TOAST value"
expect "bad.cfg:9: warning: event shop.orders.OrderShipped v1: notes: new.notes can be an unchanged TOAST value"
expect "bad.cfg:10: error: event shop.orders.OrderShipped v1: carrier: column new.carrier does not exist in public.orders"
expect "bad.cfg:13: error: event shop.orders.OrderTotalled v1: when: the condition is not a boolean"
expect "bad.cfg:16: error: event shop.customers.EmailChanged v1: publication \"tablecast\" does not include public.customers"
expect "bad.cfg:20: error: event shop.legacy.Thing v1: table public.legacy_things does not exist"
expect "bad.cfg:1: warning: role \"postgres\" is a superuser: tablecast needs REPLICATION and SELECT on the tables it reads"
expect "bad.cfg: 6 errors, 3 warnings"

# Fixed: FULL identity, types that fit, everything published, the old table gone.
psql -q -c "ALTER TABLE orders REPLICA IDENTITY FULL" -c "ALTER PUBLICATION tablecast ADD TABLE customers" \
	-c "ALTER TABLE orders ADD COLUMN carrier text"
write_cfg "$TC_TMP/good.cfg" string "new.total > 0"
"$TC" check --config "$TC_TMP/good.cfg" >"$TC_TMP/good.out" 2>&1 || tc_fail "check of the fixed configuration: $(cat "$TC_TMP/good.out")"
# The only warning left: the test connects as a superuser (privileges.sh checks a least-privilege role).
grep -q "good.cfg: 0 errors, 1 warning$" "$TC_TMP/good.out" || tc_fail "$(cat "$TC_TMP/good.out")"

# A malformed file is exit 2 with file:line, before any connection.
printf 'source = { conninfo = "x"; };\nevents = ( { name = "a.B"; version = 1; table = "t"; on = ["insert"];\n  topic = "t"; fields = ( { name = "f"; number = 1; type = "int64"; value = "new.a +"; } ); } );\n' >"$TC_TMP/syntax.cfg"
rc=0
"$TC" check --config "$TC_TMP/syntax.cfg" 2>"$TC_TMP/syntax.err" || rc=$?
[ "$rc" -eq 2 ] || tc_fail "malformed: exit $rc"
grep -q 'syntax.cfg:3: event a.B: field "f" value: syntax error at end of input at position 8' "$TC_TMP/syntax.err" ||
	tc_fail "$(cat "$TC_TMP/syntax.err")"
echo "check: every finding on its line; the fixed configuration passes"
