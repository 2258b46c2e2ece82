#!/usr/bin/env bash
# `tablecast audit`: the demo shop's apps, a reporting role reading a view,
# a write-only importer and pgbench run under roles of their own; the audit
# (as a least-privilege role) must attribute each statement to the right
# tables, reads and writes apart, the view to its base table, unqualified
# names through each role's search_path; and `--since-last` must exit 1
# when a new role starts reading an owned table.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start "shared_preload_libraries = 'pg_stat_statements'"

cat >"$TC_TMP/audit.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "host=127.0.0.1 port=$PGPORT user=auditor dbname=postgres"; };
sink = { type = "stdout"; format = "changes"; };
owners = (
  { table = "public.orders";    role = "storefront"; },
  { table = "public.customers"; role = "storefront"; }
);
CFG

psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/schema.sql"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE auditor LOGIN;
-- Before the extension exists the audit refuses, saying how to enable it.
SQL

# 1. No pg_stat_statements: a clear refusal, exit 3.
rc=0
"$TC" audit --config "$TC_TMP/audit.cfg" >"$TC_TMP/out" 2>"$TC_TMP/err" || rc=$?
[ "$rc" -eq 3 ] || tc_fail "audit without pg_stat_statements: exit $rc, expected 3"
grep -q "has no pg_stat_statements: add shared_preload_libraries = 'pg_stat_statements'.*CREATE EXTENSION pg_stat_statements" "$TC_TMP/err" ||
	tc_fail "audit without pg_stat_statements: $(cat "$TC_TMP/err")"
tc_log "without the extension: $(cat "$TC_TMP/err")"

psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_stat_statements;
GRANT pg_read_all_stats TO auditor;
CREATE ROLE storefront LOGIN;
CREATE ROLE warehouse LOGIN;
CREATE ROLE reporting LOGIN;
CREATE ROLE importer LOGIN;
CREATE ROLE bench LOGIN;
CREATE ROLE nostats LOGIN;
GRANT SELECT, INSERT, UPDATE ON customers, orders, order_lines, storefront_sessions TO storefront;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO storefront, importer;
GRANT SELECT, UPDATE ON orders TO warehouse;
GRANT INSERT ON customers TO importer;
-- reporting reads a view in its own schema, found through its search_path.
CREATE SCHEMA reports;
CREATE VIEW reports.open_orders AS SELECT id, customer_id, total FROM public.orders WHERE status <> 'shipped';
GRANT USAGE ON SCHEMA reports TO reporting;
GRANT SELECT ON reports.open_orders TO reporting;
ALTER ROLE reporting SET search_path = reports, public;
-- importer's path starts with a schema it may not use: PostgreSQL skips it,
-- so its "customers" is public's, not secret's.
CREATE SCHEMA secret;
CREATE TABLE secret.customers (id int);
ALTER ROLE importer SET search_path = secret, public;
-- pgbench works in a schema of its own, the "$user" of the default search_path,
-- which also holds a table named like the shop's.
CREATE SCHEMA bench AUTHORIZATION bench;
CREATE TABLE bench.orders (id int);
ALTER TABLE bench.orders OWNER TO bench;
SQL

as_role() {
	local role=$1
	shift
	PGUSER=$role psql -q -v ON_ERROR_STOP=1 "$@" >/dev/null
}

# The demo apps, each under its own role, as tests/demo.sh runs them.
for n in 1 2 3 4 5 6; do
	as_role storefront -v n="$n" -f "$top_srcdir/conf/demo/storefront.sql"
	[ $((n % 2)) -eq 0 ] && as_role warehouse -f "$top_srcdir/conf/demo/warehouse.sql"
done
for n in 1 2 3; do
	as_role reporting -c "SELECT count(*), sum(total) FROM open_orders WHERE customer_id > $n"
	as_role importer -c "INSERT INTO customers (email, full_name, country) VALUES ('import$n@example.com', 'Imported $n', 'DE')"
done
PGUSER=bench "$PG_BIN/pgbench" -q -i -s 1 >"$TC_TMP/pgbench.log" 2>&1 || tc_fail "pgbench -i: $(tail -n 3 "$TC_TMP/pgbench.log")"
PGUSER=bench "$PG_BIN/pgbench" -n -t 30 >>"$TC_TMP/pgbench.log" 2>&1 || tc_fail "pgbench: $(tail -n 3 "$TC_TMP/pgbench.log")"
as_role bench -c "SELECT count(*) FROM orders"

# 2. A role without pg_read_all_stats sees only its own statements: said clearly.
sed 's/user=auditor/user=nostats/' "$TC_TMP/audit.cfg" >"$TC_TMP/nostats.cfg"
sed -i "s|$TC_TMP/state|$TC_TMP/state-nostats|" "$TC_TMP/nostats.cfg"
"$TC" audit --config "$TC_TMP/nostats.cfg" >"$TC_TMP/nostats.out" 2>&1 || tc_fail "audit as nostats: $(cat "$TC_TMP/nostats.out")"
grep -q "^warning: [0-9]* statements of other roles are hidden from this role: GRANT pg_read_all_stats" "$TC_TMP/nostats.out" ||
	tc_fail "audit as nostats did not say what is hidden: $(head -n 5 "$TC_TMP/nostats.out")"
grep -q "^public.orders  owner storefront: unknown: [0-9]* statements of other roles are hidden from this role" "$TC_TMP/nostats.out" ||
	tc_fail "audit as nostats claims more than it sees: $(grep '^public.orders' "$TC_TMP/nostats.out")"

# 3. The audit: who reads and writes what.
start=$(date +%s.%N)
"$TC" audit --config "$TC_TMP/audit.cfg" --json >"$TC_TMP/audit1.json" 2>"$TC_TMP/err" ||
	tc_fail "audit: $(cat "$TC_TMP/err")"
tc_log "audit took $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)") s"

python3 - "$TC_TMP/audit1.json" <<'PY' || tc_fail "audit report (above)"
import json, sys
doc = json.load(open(sys.argv[1]))
tables = {t["table"]: t for t in doc["tables"]}
def access(table):
    return {(a["role"], a["access"]) for a in tables.get(table, {}).get("access", [])}
def check(cond, msg):
    if not cond:
        print("FAIL:", msg, file=sys.stderr)
        sys.exit(1)
check(doc["hidden_statements"] == 0, "statements hidden from an auditor with pg_read_all_stats")
check(doc["unattributed_statements"] == 0, "unattributed statements: %d" % doc["unattributed_statements"])
orders = access("public.orders")
# The storefront inserts and updates orders (its CTE "o" is no table; an
# UPDATE's target is written, not read); the warehouse reads them (a
# subquery) and writes them; reporting reads them through its view;
# importer and bench never touch them.
check(orders == {("storefront", "write"), ("warehouse", "read"),
                 ("warehouse", "write"), ("reporting", "read")}, "public.orders: %s" % sorted(orders))
rep = [a for a in tables["public.orders"]["access"] if a["role"] == "reporting"][0]
check(rep["via"] == ["reports.open_orders"] and rep["calls"] == 3, "reporting via the view: %s" % rep)
check("reports.open_orders" not in tables, "a view is reported as a table")
check(tables["public.orders"]["owner"] == "storefront", "owner")
check(tables["public.orders"]["status"] == "2 readers and 1 writer left", "status: " + tables["public.orders"]["status"])
wh = {a["access"]: a for a in tables["public.orders"]["access"] if a["role"] == "warehouse"}
check(wh["write"]["calls"] == 6 and wh["write"]["rows"] > 0, "warehouse writes: %s" % wh["write"])
# The importer only writes customers.
cust = access("public.customers")
check(("importer", "write") in cust and ("importer", "read") not in cust, "public.customers: %s" % sorted(cust))
check(tables["public.customers"]["status"] == "1 reader and 1 writer left" or
      tables["public.customers"]["status"] == "1 writer left", "customers status: " + tables["public.customers"]["status"])
# pgbench's tables are bench's, in its own schema ("$user"), read and written.
acc = access("bench.pgbench_accounts")
check(acc == {("bench", "read"), ("bench", "write")}, "bench.pgbench_accounts: %s" % sorted(acc))
check(access("bench.pgbench_history") == {("bench", "write")}, "pgbench_history: %s" % sorted(access("bench.pgbench_history")))
check(not any(t.startswith("public.pgbench") for t in tables), "pgbench tables resolved to public")
# An unqualified "orders" of bench is bench.orders, by its search_path.
check(access("bench.orders") == {("bench", "read")}, "bench.orders: %s" % sorted(access("bench.orders")))
check(tables["bench.orders"]["owner"] is None and tables["bench.orders"]["status"] == "no owner declared", "no owner")
# Catalog reads (psql's, pgbench's) are never reported; nor the CTE.
check(not any(t.startswith("pg_catalog.") or t.endswith(".o") for t in tables), "catalog or CTE in: %s" % sorted(tables))
check("public.storefront_sessions" in tables and access("public.storefront_sessions") >= {("storefront", "write")}, "sessions")
check(tables["public.orders"]["table_stats"]["n_tup_ins"] == 6, "pg_stat_user_tables: %s" % tables["public.orders"]["table_stats"])
print("# audit: %d tables, %d statements" % (len(tables), doc["statements"]), file=sys.stderr)
PY

# 4. --since-last: nothing ran since the previous audit: exit 0, who stopped.
rc=0
"$TC" audit --config "$TC_TMP/audit.cfg" --since-last >"$TC_TMP/since1.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || tc_fail "audit --since-last with nothing new: exit $rc: $(cat "$TC_TMP/since1.txt")"
sed 's/^/    /' "$TC_TMP/since1.txt" >&2
grep -q "stopped warehouse reading public.orders" "$TC_TMP/since1.txt" ||
	tc_fail "no 'stopped' in: $(sed -n '/since the previous/,$p' "$TC_TMP/since1.txt")"
grep -q "^public.orders  owner storefront: no foreign access since the last audit (3 idle)" "$TC_TMP/since1.txt" ||
	tc_fail "status: $(grep '^public.orders' "$TC_TMP/since1.txt")"
[ "$(stat -c %a "$TC_TMP/state/audit.last")" = 600 ] || tc_fail "audit.last is not 0600"

# 5. A new role starts reading an owned table: exit 1, naming it.
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE snoop LOGIN; GRANT SELECT ON orders TO snoop;"
as_role snoop -c "SELECT id, status FROM public.orders o WHERE o.total > 0"
# A role whose name holds a tab and a newline: exact in JSON and in the state
# file, and no forged line in the text report.
odd=$'odd\tone\nFOREIGN x'
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE \"$odd\" LOGIN; GRANT SELECT ON customers TO \"$odd\";"
as_role "$odd" -c "SELECT count(*) FROM customers"
as_role storefront -v n=7 -f "$top_srcdir/conf/demo/storefront.sql"
rc=0
"$TC" audit --config "$TC_TMP/audit.cfg" --since-last --json >"$TC_TMP/since2.json" 2>"$TC_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "audit --since-last after a new reader: exit $rc, expected 1 ($(cat "$TC_TMP/err"))"
python3 - "$TC_TMP/since2.json" <<'PY' || tc_fail "since-last report"
import json, sys
doc = json.load(open(sys.argv[1]))
started = {(s["table"], s["role"], s["access"], s["foreign"]) for s in doc["started"]}
if ("public.orders", "snoop", "read", True) not in started or not all(s["new"] for s in doc["started"] if s["role"] == "snoop"):
    sys.exit("FAIL: snoop not among started: %s" % sorted(started))
# The owner resuming is reported, but is not foreign.
if any(s[1] == "storefront" and s[3] for s in started):
    sys.exit("FAIL: the owner counted as foreign: %s" % sorted(started))
if ("public.customers", "odd\tone\nFOREIGN x", "read", True) not in started:
    sys.exit("FAIL: the odd role not among started: %s" % sorted(started))
t = [t for t in doc["tables"] if t["table"] == "public.orders"][0]
if t["status"] != "1 reader left":
    sys.exit("FAIL: status %s" % t["status"])
PY
# The alarm is raised once: the next audit, with nothing new, exits 0.
rc=0
"$TC" audit --config "$TC_TMP/audit.cfg" --since-last >"$TC_TMP/since3.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || tc_fail "audit --since-last after the alarm: exit $rc: $(tail -n 5 "$TC_TMP/since3.txt")"
grep -q "stopped snoop reading public.orders" "$TC_TMP/since3.txt" || tc_fail "snoop not stopped: $(tail -n 5 "$TC_TMP/since3.txt")"
grep -q "stopped odd?one?FOREIGN x reading public.customers" "$TC_TMP/since3.txt" ||
	tc_fail "the odd role: $(tail -n 5 "$TC_TMP/since3.txt")"
! grep -q "^FOREIGN" "$TC_TMP/since3.txt" || tc_fail "a role name forged a line"

# 6. Only the owner keeps working: exit 0.
as_role storefront -v n=8 -f "$top_srcdir/conf/demo/storefront.sql"
rc=0
"$TC" audit --config "$TC_TMP/audit.cfg" --since-last >"$TC_TMP/since4.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || tc_fail "audit --since-last with only the owner active: exit $rc: $(cat "$TC_TMP/since4.txt")"
grep -q "^public.orders  owner storefront: no foreign access since the last audit" "$TC_TMP/since4.txt" ||
	tc_fail "status: $(grep '^public.orders' "$TC_TMP/since4.txt")"

# 7. Usage and configuration errors: exit 2.
rc=0
"$TC" audit >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || tc_fail "audit without --config: exit $rc"
printf 'source = { conninfo = "x"; };\nsink = { format = "changes"; };\nowners = ( { table = "a"; } );\n' >"$TC_TMP/bad.cfg"
rc=0
"$TC" audit --config "$TC_TMP/bad.cfg" 2>"$TC_TMP/err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.cfg:3: owners: role is required" "$TC_TMP/err" ||
	tc_fail "bad owners: exit $rc: $(cat "$TC_TMP/err")"
# 8. The running daemon's gauges (metrics.audit_interval), parsed by a real
# Prometheus text parser: only roles whose counts move are counted.
tc_config "$TC_TMP/run.cfg"
port=$(tc_free_port)
cat >>"$TC_TMP/run.cfg" <<CFG
metrics = { listen = "127.0.0.1:$port"; audit_interval = 1; };
owners = ( { table = "public.orders"; role = "storefront"; } );
CFG
tc_start "$TC_TMP/run.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "run: $(tail -n 3 "$TC_TMP/tablecast.log")"
# sample 'NAME{labels}': the value, or -2 when absent
sample() {
	/usr/bin/python3 -c '
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
want = sys.argv[2]
for f in text_string_to_metric_families(text):
    for s in f.samples:
        labels = ",".join("%s=\"%s\"" % kv for kv in sorted(s.labels.items()))
        if (s.name + ("{" + labels + "}" if labels else "")) == want:
            print(int(s.value)); sys.exit(0)
print(-2)' "http://127.0.0.1:$port/metrics" "$1"
}
readers() { sample 'tablecast_audit_foreign_readers{table="public.orders"}'; }
audited() { [ "$(sample tablecast_audit_seconds_since_success)" -ge 0 ]; }
wait_for 20 audited || tc_fail "no audit gauges: $(grep audit "$TC_TMP/tablecast.log")"
# Nothing moves: no foreign reader, once two audits have compared.
idle() { [ "$(readers)" -eq 0 ]; }
wait_for 10 idle || tc_fail "foreign readers while idle: $(readers)"
# The warehouse works for a while: one foreign reader.
before=$(sample 'tablecast_audit_calls_total{access="read",role="warehouse",table="public.orders"}')
busy() { as_role warehouse -f "$top_srcdir/conf/demo/warehouse.sql"; [ "$(readers)" -eq 1 ]; }
wait_for 15 busy || tc_fail "foreign readers while the warehouse works: $(readers)"
after=$(sample 'tablecast_audit_calls_total{access="read",role="warehouse",table="public.orders"}')
[ "$after" -gt "$before" ] || tc_fail "warehouse read calls: $before, then $after"
wait_for 10 idle || tc_fail "foreign readers after the warehouse stopped: $(readers)"
tc_log "gauges: warehouse reads counted $before -> $after"
tc_stop
tc_log "audit: ok"
