#!/usr/bin/env bash
# Nothing is lost across a clean stop, kill -9 at random moments and a
# PostgreSQL restart; an idle publication does not pin the server's WAL.
. "$(dirname "$0")/../lib/servers.sh"

BATCHES=${RESUME_BATCHES:-300}
pg_start
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE noise (id serial PRIMARY KEY, x text);
SQL
tc_config "$TC_TMP/tc.cfg" 'tables = ["public.t"];'
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# A steady writer: one 20-row transaction per batch, retried across
# server restarts (ON CONFLICT makes a retry harmless).
writer() {
	local b
	for b in $(seq 0 $((BATCHES - 1))); do
		until psql -q -c "INSERT INTO t SELECT g, g FROM generate_series($((b * 20 + 1)), $((b * 20 + 20))) g ON CONFLICT DO NOTHING" >/dev/null 2>&1; do
			sleep 0.2
		done
		sleep 0.02
	done
}
writer &
writer_pid=$!
tc_on_exit "kill $writer_pid"

# 1. A clean stop (SIGTERM exits 0), a gap while changes pile up, a restart.
sleep 1
tc_stop
sleep 1
tc_start "$TC_TMP/tc.cfg"

# 2. kill -9 at random moments, restarting at once.
for k in 1 2 3; do
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$TC_PID"
	wait "$TC_PID" 2>/dev/null || true
	tc_start "$TC_TMP/tc.cfg"
done

# 3. The server restarts under tablecast, which reconnects by itself.
sleep 1
pg_restart
tc_log "PostgreSQL restarted"
wait "$writer_pid"
expected=$((BATCHES * 20))
[ "$(psql -Atc 'SELECT count(*) FROM t')" -eq "$expected" ] || tc_fail "writer did not finish"

all_seen() {
	python3 - "$TC_TMP/changes.jsonl" "$expected" <<'PY'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue  # a line cut short by kill -9
    if r.get("relation") == "public.t":
        ids.add(r["new"]["id"])
missing = set(range(1, int(sys.argv[2]) + 1)) - ids
sys.exit(1 if missing else 0)
PY
}
wait_for 60 all_seen || tc_fail "changes missing after restarts"
kill -0 "$TC_PID" || tc_fail "tablecast died after the PostgreSQL restart"
grep -q "reconnecting" "$TC_TMP/tablecast.log" || tc_fail "no reconnect logged"
total=$(grep -c '"relation":"public.t"' "$TC_TMP/changes.jsonl")
echo "resume: all $expected inserts arrived ($((total - expected)) repeated after crashes)"

# 4. Idle publication, busy server: the slot must follow the WAL.
lsn_ge() { [ "$(psql -Atc "SELECT confirmed_flush_lsn >= '$1' FROM pg_replication_slots WHERE slot_name = 'tablecast'")" = t ]; }
for i in $(seq 1 50); do psql -q -c "INSERT INTO noise (x) VALUES (repeat('x', 1000))"; done
target=$(psql -Atc "SELECT pg_current_wal_lsn()")
wait_for 30 lsn_ge "$target" ||
	tc_fail "confirmed_flush_lsn stuck at $(psql -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots") below $target"
grep -q '"relation":"public.noise"' "$TC_TMP/changes.jsonl" && tc_fail "an unpublished table leaked"
echo "resume: confirmed_flush_lsn reached $target while only unpublished tables changed"
tc_stop
