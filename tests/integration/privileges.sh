#!/usr/bin/env bash
# Least privilege: every command works as a role that has exactly the GRANTs
# docs/SECURITY.md lists, and no more; `check` says when a role has more;
# a role that lacks one is refused before anything is created on the server.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start
broker_start --topic items-snap:1 --topic items-tablecast:1 --topic items-created:1
# The application's tables, owned by the application's role; a second
# schema tablecast's role may not even use (as pg_toast is).
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE app LOGIN;
CREATE SCHEMA hidden;
CREATE TABLE hidden.other (id int);
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text);
INSERT INTO items SELECT g, g % 10, 'item ' || g FROM generate_series(1, 100) g;
ALTER TABLE items OWNER TO app;
SQL

# write_cfg FILE USER SLOT PUBLICATION CREATE SIGNAL_TABLE [SOURCE_EXTRA]
write_cfg() {
	cat >"$1" <<CFG
log_level = "info";
state_dir = "$TC_TMP/state-$3";
source = { conninfo = "host=127.0.0.1 port=$PGPORT user=$2 dbname=postgres";
           slot = "$3"; publication = "$4"; create_slot = $5; create_publication = $5;
           tables = ["public.items"]; status_interval = 1;
           signal_table = "$6"; backfill_chunk = 16; ${7:-} };
sink = { type = "kafka"; kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP"]; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "public.items";
    on = ["snapshot", "insert", "update"]; topic = "items-$3"; key = "new.id";
    fields = (
      { name = "id";  number = 1; type = "int64"; value = "new.id"; },
      { name = "qty"; number = 2; type = "int64"; value = "new.qty"; }
    ); }
);
CFG
}

# Events on a topic, as a consumer we did not write counts them.
count_topic() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c . || true
}

# ---- 1. The publication, slot and signal table made by the DBA -------------
# Exactly the GRANTs of docs/SECURITY.md, "Without create_slot/create_publication".
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE public.tablecast_signal (id bigserial PRIMARY KEY, kind text NOT NULL,
  target text NOT NULL, condition text, created_at timestamptz NOT NULL DEFAULT now());
CREATE PUBLICATION tablecast FOR TABLE public.items, public.tablecast_signal;
SELECT pg_create_logical_replication_slot('tablecast', 'pgoutput') \g /dev/null
CREATE ROLE tablecast LOGIN REPLICATION;
GRANT SELECT ON public.items TO tablecast;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.tablecast_signal TO tablecast;
GRANT USAGE ON SEQUENCE public.tablecast_signal_id_seq TO tablecast;
CREATE ROLE requester LOGIN;
GRANT INSERT, SELECT (id) ON public.tablecast_signal TO requester;
GRANT USAGE ON SEQUENCE public.tablecast_signal_id_seq TO requester;
SQL
write_cfg "$TC_TMP/dba.cfg" tablecast tablecast tablecast false public.tablecast_signal
write_cfg "$TC_TMP/snap.cfg" tablecast snap tablecast true ""
sed -i 's/create_publication = true; /create_publication = false; /' "$TC_TMP/snap.cfg"

# The signal table lacks the status columns (the shape an older version
# documented): check names the ALTER TABLE its owner must run, which works.
rc=0
"$TC" check --config "$TC_TMP/dba.cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || tc_fail "check accepted a signal table without status columns: $(cat "$TC_TMP/check.out")"
alter=$(sed -n 's/.*lacks the columns that record a request.s status, and only its owner may add them: \(ALTER TABLE .*\)/\1/p' "$TC_TMP/check.out")
[ -n "$alter" ] || tc_fail "check did not name the fix: $(cat "$TC_TMP/check.out")"
psql -q -v ON_ERROR_STOP=1 -c "$alter" || tc_fail "the ALTER TABLE check printed failed: $alter"

# check: no error, no warning.
"$TC" check --config "$TC_TMP/dba.cfg" >"$TC_TMP/check.out" 2>&1 || tc_fail "check: $(cat "$TC_TMP/check.out")"
grep -q "dba.cfg: 0 errors, 0 warnings" "$TC_TMP/check.out" || tc_fail "check: $(cat "$TC_TMP/check.out")"
tc_log "check as the least-privilege role: $(tail -n 1 "$TC_TMP/check.out")"

# snapshot (creates its own slot: REPLICATION is all that takes).
timeout 60 "$TC" snapshot --config "$TC_TMP/snap.cfg" >"$TC_TMP/snapshot.out" 2>&1 ||
	tc_fail "snapshot: $(tail -n 3 "$TC_TMP/snapshot.out")"
n=$(count_topic items-snap)
[ "$n" -eq 100 ] || tc_fail "snapshot: $n events, expected 100"
tc_log "snapshot as the least-privilege role: $n events"

# run with the signal table, and a backfill requested by a role that may only insert.
tc_start "$TC_TMP/dba.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "run: $(tail -n 3 "$TC_TMP/tablecast.log")"
psql -q -c "SET ROLE app; INSERT INTO items VALUES (101, 1, 'new')"
sed 's/user=tablecast/user=requester/' "$TC_TMP/dba.cfg" >"$TC_TMP/requester.cfg"
"$TC" backfill --config "$TC_TMP/requester.cfg" --table public.items --where "qty = 3" >"$TC_TMP/request.out" 2>&1 ||
	tc_fail "backfill request: $(cat "$TC_TMP/request.out")"
wait_for 60 grep -q "done, 10 rows emitted" "$TC_TMP/tablecast.log" ||
	tc_fail "backfill: $(grep backfill "$TC_TMP/tablecast.log" | tail -n 3)"
marked_done() { [ "$(psql -Atc "SELECT status || ' ' || rows_emitted FROM tablecast_signal")" = "done 10" ]; }
wait_for 30 marked_done || tc_fail "the request's row was not marked done: $(psql -Atc "SELECT * FROM tablecast_signal")"
have() { [ "$(count_topic items-tablecast)" -ge "$1" ]; }
wait_for 30 have 11 || tc_fail "run: $(count_topic items-tablecast) events, expected 11"
tc_stop
! grep -q "permission denied" "$TC_TMP/tablecast.log" || tc_fail "$(grep "permission denied" "$TC_TMP/tablecast.log")"
tc_log "run and backfill as the least-privilege role: $(count_topic items-tablecast) events"

# ---- 2. A role that lacks a GRANT: refused, and nothing created ------------
# refused COMMAND SLOT MESSAGE: a config for SLOT (create_slot, no publication
# made) is refused with exit 1 and MESSAGE, and the slot does not exist.
refused() {
	local cmd=$1 slot=$2 message=$3 signal=${4:-} rc=0
	write_cfg "$TC_TMP/$slot.cfg" tablecast "$slot" tablecast true "$signal"
	sed -i 's/create_publication = true; /create_publication = false; /' "$TC_TMP/$slot.cfg"
	timeout 30 "$TC" "$cmd" --config "$TC_TMP/$slot.cfg" >/dev/null 2>"$TC_TMP/$slot.err" || rc=$?
	[ "$rc" -eq 1 ] || tc_fail "$cmd as $slot: exit $rc"
	grep -q "$message" "$TC_TMP/$slot.err" || tc_fail "unclear refusal: $(cat "$TC_TMP/$slot.err")"
	[ "$(psql -Atc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'")" -eq 0 ] ||
		tc_fail "$cmd as $slot: a slot was created before the refusal"
	tc_log "a missing GRANT: $(head -n 1 "$TC_TMP/$slot.err")"
}
psql -q -c "REVOKE DELETE ON public.tablecast_signal FROM tablecast"
refused run lacking "signal table public.tablecast_signal: this role lacks DELETE" public.tablecast_signal
rc=0
"$TC" check --config "$TC_TMP/lacking.cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "error: signal table public.tablecast_signal: this role lacks DELETE" "$TC_TMP/check.out" ||
	tc_fail "check did not see the missing GRANT: $(cat "$TC_TMP/check.out")"
psql -q -c "GRANT DELETE ON public.tablecast_signal TO tablecast" -c "REVOKE SELECT ON public.items FROM tablecast"
refused snapshot nosel "snapshot: this role may not read table public.items: GRANT SELECT ON public.items TO tablecast"
psql -q -c "GRANT SELECT ON public.items TO tablecast"

# ---- 3. create_slot and create_publication ---------------------------------
# "With create_slot/create_publication": CREATE on the database, the tables'
# owner, CREATE on the signal table's schema.
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE tc_create LOGIN REPLICATION;
GRANT CREATE ON DATABASE postgres TO tc_create;
GRANT app TO tc_create;
GRANT CREATE ON SCHEMA public TO tc_create;
SQL
write_cfg "$TC_TMP/create.cfg" tc_create created created true public.created_signal
"$TC" check --config "$TC_TMP/create.cfg" >"$TC_TMP/check.out" 2>&1 || tc_fail "check (create): $(cat "$TC_TMP/check.out")"
grep -q "create.cfg: 0 errors, 0 warnings" "$TC_TMP/check.out" || tc_fail "check (create): $(cat "$TC_TMP/check.out")"
: >"$TC_TMP/tablecast.log"
tc_start "$TC_TMP/create.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "run (create): $(tail -n 3 "$TC_TMP/tablecast.log")"
grep -q 'created publication "created"' "$TC_TMP/tablecast.log" || tc_fail "no publication created"
grep -q "created signal table public.created_signal" "$TC_TMP/tablecast.log" || tc_fail "no signal table created"
psql -q -c "SET ROLE app; UPDATE items SET qty = qty + 1 WHERE id <= 5"
have_created() { [ "$(count_topic items-created)" -ge 5 ]; }
wait_for 30 have_created || tc_fail "run (create): $(count_topic items-created) events, expected 5"
"$TC" backfill --config "$TC_TMP/create.cfg" --table public.items --where "id > 95" >/dev/null ||
	tc_fail "backfill request (create)"
wait_for 60 grep -q "done, 6 rows emitted" "$TC_TMP/tablecast.log" ||
	tc_fail "backfill (create): $(grep backfill "$TC_TMP/tablecast.log" | tail -n 3)"
tc_stop
tc_log "run with create_slot and create_publication: $(count_topic items-created) events"

# ---- 4. check warns about a role with more than it needs --------------------
psql -q -c "GRANT INSERT, UPDATE ON public.items TO tablecast" -c "ALTER ROLE tablecast CREATEDB"
"$TC" check --config "$TC_TMP/dba.cfg" >"$TC_TMP/check.out" 2>&1 || tc_fail "check: $(cat "$TC_TMP/check.out")"
for w in 'role "tablecast" has CREATEDB' 'role "tablecast" may INSERT public.items' 'role "tablecast" may UPDATE public.items'; do
	grep -q "warning: $w, which tablecast does not need" "$TC_TMP/check.out" || tc_fail "no warning: $w: $(cat "$TC_TMP/check.out")"
done
rc=0
"$TC" check --config "$TC_TMP/requester.cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q 'error: role "requester" lacks REPLICATION: ALTER ROLE "requester" REPLICATION' "$TC_TMP/check.out" ||
	tc_fail "check as a role without REPLICATION: $(cat "$TC_TMP/check.out")"
sed 's/user=tablecast/user=postgres/' "$TC_TMP/dba.cfg" >"$TC_TMP/super.cfg"
"$TC" check --config "$TC_TMP/super.cfg" >"$TC_TMP/check.out" 2>&1 || tc_fail "check: $(cat "$TC_TMP/check.out")"
grep -q 'warning: role "postgres" is a superuser' "$TC_TMP/check.out" || tc_fail "no superuser warning: $(cat "$TC_TMP/check.out")"

# ---- 5. check prints a server's refusal as one "error:" line ----------------
sed 's/user=tablecast/user=nobody/' "$TC_TMP/dba.cfg" >"$TC_TMP/nobody.cfg"
rc=0
"$TC" check --config "$TC_TMP/nobody.cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || tc_fail "check as a missing role: exit $rc"
[ "$(wc -l <"$TC_TMP/check.out")" -eq 1 ] || tc_fail "check: not one line: $(cat "$TC_TMP/check.out")"
grep -Eq '^([0-9T:.Z-]+ )?tablecast: error: connecting to PostgreSQL: .*role "nobody" does not exist$' "$TC_TMP/check.out" ||
	tc_fail "check: $(cat "$TC_TMP/check.out")"
! grep -q "FATAL" "$TC_TMP/check.out" || tc_fail "check printed the raw severity: $(cat "$TC_TMP/check.out")"
echo "privileges: check, snapshot, run, backfill and run with create_slot/create_publication pass as least-privilege roles; a missing GRANT is refused before anything is created"
