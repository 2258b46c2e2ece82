#!/usr/bin/env bash
# Every committed change arrives, whole transactions in commit order, with
# concurrent writers across several tables and one transaction of 200k
# rows; memory stays flat while the big transaction streams.
. "$(dirname "$0")/../lib/servers.sh"

BIG=${STREAM_BIG_ROWS:-200000}
# AddressSanitizer holds freed memory in a 256 MiB quarantine, which would
# read as growth here; keep it small so RSS shows what tablecast retains.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
pg_start
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, version int NOT NULL, note text);
CREATE TABLE ledger (id bigserial PRIMARY KEY, account int NOT NULL, amount numeric NOT NULL);
CREATE TABLE bulk (id int PRIMARY KEY, payload text NOT NULL);
ALTER TABLE accounts REPLICA IDENTITY FULL;
INSERT INTO accounts SELECT g, 0, NULL FROM generate_series(1, 50) g;
SQL
tc_config "$TC_TMP/tc.cfg" 'tables = ["public.accounts", "public.ledger", "public.bulk"];'
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# Two concurrent writers: each transaction bumps an account's version and
# appends to the ledger, so per-row versions must arrive strictly increasing.
writer() {
	local w=$1 i
	for i in $(seq 1 150); do
		echo "BEGIN;
UPDATE accounts SET version = version + 1, note = 'w$w-$i' WHERE id = $(((i * 7 + w) % 50 + 1));
INSERT INTO ledger (account, amount) VALUES ($w, $i.25);
COMMIT;"
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null
}
writer 1 &
w1=$!
writer 2 &
w2=$!

# Memory before the big transaction, then during it.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$TC_PID/status"; }
sleep 1
rss_before=$(rss_kb)
psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO bulk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, $BIG) g"
wait "$w1" "$w2"

expected=$((300 * 2 + BIG))
peak=0
while :; do
	rss=$(rss_kb)
	[ "$rss" -gt "$peak" ] && peak=$rss
	n=$(wc -l <"$TC_TMP/changes.jsonl")
	[ "$n" -ge "$expected" ] && break
	kill -0 "$TC_PID" 2>/dev/null || tc_fail "tablecast died"
	sleep 0.2
done
tc_stop

python3 - "$TC_TMP/changes.jsonl" "$BIG" <<'PY'
import json, sys
path, big = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
# Transactions arrive whole: an xid never reappears after another began.
seen, last = set(), None
for r in rows:
    if r["xid"] != last:
        assert r["xid"] not in seen, f"transaction {r['xid']} interleaved"
        seen.add(r["xid"]); last = r["xid"]
# Commit order: each account's versions strictly increase, none missing.
versions = {}
for r in rows:
    if r["relation"] == "public.accounts":
        a, v = r["new"]["id"], r["new"]["version"]
        assert r["old"]["version"] == v - 1, f"account {a}: old version {r['old']['version']} for {v}"
        assert versions.get(a, 0) == v - 1, f"account {a}: version {v} after {versions.get(a, 0)}"
        versions[a] = v
assert sum(versions.values()) == 300, f"account updates: {sum(versions.values())}"
ledger = [r for r in rows if r["relation"] == "public.ledger"]
assert len(ledger) == 300 and len({r["new"]["id"] for r in ledger}) == 300
bulk = [r["new"]["id"] for r in rows if r["relation"] == "public.bulk"]
assert bulk == list(range(1, big + 1)), "bulk rows missing or out of order"
assert len({r["xid"] for r in rows if r["relation"] == "public.bulk"}) == 1
print(f"stream: {len(rows)} changes in {len(seen)} transactions, all present and in order")
PY

growth=$(((peak - rss_before) / 1024))
echo "stream: RSS ${rss_before} kB before the ${BIG}-row transaction, peak ${peak} kB (+${growth} MiB)"
# The big transaction must stream through, not accumulate: a few MiB of
# allocator noise is fine, anything near the transaction's size is not.
[ "$growth" -lt 24 ] || tc_fail "RSS grew by ${growth} MiB during one transaction"
