#!/usr/bin/env bash
# Publication membership: pgoutput says nothing when a table leaves the
# publication (DROP TABLE + CREATE TABLE of the same name, ALTER
# PUBLICATION ... DROP TABLE), so the guard asks the catalog at start and
# every guard_interval. Streaming, restarted, with the change made while
# stopped and on a reconnect, tablecast halts with the slot not confirmed past the first LSN
# whose rows may be missing, naming the table, its old and new OID and the
# fix; after the fix (ALTER PUBLICATION ... ADD TABLE, run --resync-table,
# which backfills the table) the consumer's state equals the table.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/ddl.sh"

pg_start
TABLE="CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL, label text)"
psql -q -v ON_ERROR_STOP=1 -c "$TABLE"
cat >"$TC_TMP/tc.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1;
           guard_interval = 1; signal_table = "public.tablecast_signal"; };
sink = { type = "stdout"; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "items"; on = ["snapshot", "insert", "update"];
    topic = "items"; key = "new.id";
    fields = (
      { name = "id";    number = 1; type = "int64";  value = "new.id"; },
      { name = "qty";   number = 2; type = "int64";  value = "new.qty"; },
      { name = "label"; number = 3; type = "string"; value = "new.label"; }
    ); },
  { name = "acme.items.ItemRemoved"; version = 1; table = "items"; on = ["delete"];
    topic = "items"; key = "old.id";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.id"; } ); }
);
CFG
FIELDS="id qty label"
ALL="SELECT id, qty, label FROM items ORDER BY id"
FIX='Fix: ALTER PUBLICATION "tablecast" ADD TABLE public.items (if it is not in it), then tablecast run --resync-table public.items, which queues a backfill of it'

ddl_start "$TC_TMP/tc.cfg"
psql -q -c "SELECT 1 FROM pg_publication_tables WHERE pubname = 'tablecast' AND tablename = 'tablecast_signal'" | grep -q 1 ||
	tc_fail "the signal table is not in the publication: $(psql -Atc "SELECT tablename FROM pg_publication_tables")"
[ "$(psql -Atc "SELECT puballtables FROM pg_publication WHERE pubname = 'tablecast'")" = f ] || tc_fail "created FOR ALL TABLES"
psql -q -c "INSERT INTO items SELECT g, g, 'old ' || g FROM generate_series(1, 5) g"
ddl_verify items "$FIELDS" "$ALL"
oid=$(psql -Atc "SELECT 'items'::regclass::oid")

# 1. DROP TABLE + CREATE TABLE while streaming (a migration that copies the rows over).
psql -q -c "BEGIN; ALTER TABLE items RENAME TO items_old; $TABLE; COMMIT"
after=$(ddl_lsn)
psql -q -c "INSERT INTO items SELECT id, qty + 100, 'new ' || id FROM items_old" -c "DROP TABLE items_old" \
	-c "INSERT INTO items VALUES (6, 6, 'new 6')"
ddl_expect_gap "$after" "relation public.items was re-created (OID $oid, now $(psql -Atc "SELECT 'items'::regclass::oid")) and publication \"tablecast\" does not have the new one" \
	"stopped without confirming past" "$FIX"
grep -qP "^gap\tpublic.items\t" "$TC_TMP/state/tablecast.schema" || tc_fail "no gap recorded"
# ... restarted: the recorded gap halts it again at start.
ddl_start "$TC_TMP/tc.cfg"
ddl_expect_gap "$after" "relation public.items was re-created (OID $oid, now " "$FIX"
"$top_builddir/tablecast" check --config "$TC_TMP/tc.cfg" >"$TC_TMP/check.out" 2>&1 && tc_fail "check passed"
grep -q "error: event acme.items.ItemStocked v1: table public.items was re-created (OID $oid, now" "$TC_TMP/check.out" || tc_fail "check: $(cat "$TC_TMP/check.out")"
# The fix, as the message says: the consumer ends with the new table's rows.
psql -q -c "ALTER PUBLICATION tablecast ADD TABLE items"
ddl_start "$TC_TMP/tc.cfg" --resync-table public.items
ddl_verify items "$FIELDS" "$ALL"
wait_for 30 grep -q "backfill .* of public.items: done," "$TC_TMP/tablecast.log" || tc_fail "no backfill"
psql -q -c "UPDATE items SET qty = 7 WHERE id = 1"
ddl_verify items "$FIELDS" "$ALL"
tc_log "re-created table: halted streaming and restarted; --resync-table backfilled it"

# 2. ALTER PUBLICATION ... DROP TABLE while streaming.
oid=$(psql -Atc "SELECT 'items'::regclass::oid")
psql -q -c "ALTER PUBLICATION tablecast DROP TABLE items"
after=$(ddl_lsn)
psql -q -c "INSERT INTO items VALUES (7, 7, 'unpublished')"
ddl_expect_gap "$after" "relation public.items (OID $oid) is no longer in publication \"tablecast\"" "$FIX"
ddl_start "$TC_TMP/tc.cfg"
ddl_expect_gap "$after" "relation public.items (OID $oid) is no longer in publication \"tablecast\""
# Added back while stopped: the gap is still there until resynced.
psql -q -c "ALTER PUBLICATION tablecast ADD TABLE items"
ddl_start "$TC_TMP/tc.cfg"
ddl_expect_gap "$after" "relation public.items (OID $oid) is no longer in publication \"tablecast\" (recorded earlier): its rows from"
ddl_start "$TC_TMP/tc.cfg" --resync-table public.items
ddl_verify items "$FIELDS" "$ALL"
tc_stop
tc_log "dropped from the publication: halted streaming, restarted, and after re-adding; resynced"

# 3. DROP TABLE + CREATE TABLE while tablecast is stopped.
psql -q -c "CREATE TABLE before_drop AS SELECT * FROM items" -c "DROP TABLE items" -c "$TABLE"
after=$(ddl_lsn)
psql -q -c "INSERT INTO items VALUES (1, 1, 'again'), (8, 8, 'new 8')"
ddl_start "$TC_TMP/tc.cfg"
ddl_expect_gap "$after" "relation public.items was re-created (OID $oid, now " "$FIX"
psql -q -c "ALTER PUBLICATION tablecast ADD TABLE items"
ddl_start "$TC_TMP/tc.cfg" --resync-table public.items
# Keys of the old table that the new one lacks got no delete event: the
# consumer keeps them (docs/SCHEMA-DRIFT.md); every row of the new table is there.
ddl_verify items "$FIELDS" "SELECT id, qty, label FROM items UNION ALL
	SELECT id, qty, label FROM before_drop WHERE id NOT IN (SELECT id FROM items) ORDER BY id"
backfill_done() { ddl_log | grep -q "backfill .* of public.items: done,"; }
wait_for 30 backfill_done || tc_fail "no backfill"
tc_stop

# 4. On reconnect: with checks an hour apart, only the reconnect after the
# walsender is terminated finds the table gone from the publication.
sed 's/guard_interval = 1;/guard_interval = 3600;/' "$TC_TMP/tc.cfg" >"$TC_TMP/slow.cfg"
ddl_start "$TC_TMP/slow.cfg"
sleep 1 # the start's pair of checks is done
oid=$(psql -Atc "SELECT 'items'::regclass::oid")
psql -q -c "ALTER PUBLICATION tablecast DROP TABLE items"
after=$(ddl_lsn)
psql -q -c "INSERT INTO items VALUES (20, 20, 'unseen')"
sleep 2
kill -0 "$TC_PID" || tc_fail "halted before the reconnect: $(ddl_log | tail -n 2)"
psql -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_replication" >/dev/null
ddl_expect_gap "$after" "relation public.items (OID $oid) is no longer in publication \"tablecast\"" "$FIX"
ddl_log | grep -q "reconnecting" || tc_fail "no reconnect"
echo "membership: re-created and unpublished tables halt before the gap, streaming, restarted, while stopped and on reconnect; resync backfills"
