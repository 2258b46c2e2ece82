#!/usr/bin/env bash
# Schema drift against a streaming tablecast and then a restarted one: each
# change ends in one of two outcomes. Compatible changes (an unmapped
# column added or dropped, int to bigint for an int64 field, text to
# varchar and back) are logged once and recorded, and the consumer's state
# equals the table. Incompatible ones (int to bigint for an int32 field,
# text to integer, a mapped column dropped or renamed) halt with the slot
# not confirmed past the first affected row and a message that names
# table, column, event, both types and the LSN; a restart, which compares
# with the record in the state directory, halts the same way. The rows
# before the change are delivered first.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/ddl.sh"

pg_start
TABLE="CREATE TABLE stock (id bigint PRIMARY KEY, qty int, note text, small int)"
psql -q -v ON_ERROR_STOP=1 -c "$TABLE"

# write_cfg FILE SMALL_FIELD_TYPE
write_cfg() {
	cat >"$1" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
sink = { type = "stdout"; };
events = (
  { name = "acme.stock.StockChanged"; version = 1; table = "stock"; on = ["insert", "update"];
    topic = "stock"; key = "new.id";
    fields = (
      { name = "id";    number = 1; type = "int64";  value = "new.id"; },
      { name = "qty";   number = 2; type = "int64";  value = "new.qty"; },
      { name = "note";  number = 3; type = "string"; value = "new.note"; },
      { name = "small"; number = 4; type = "$2";     value = "new.small"; }
    ); },
  { name = "acme.stock.StockRemoved"; version = 1; table = "stock"; on = ["delete"];
    topic = "stock"; key = "old.id";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.id"; } ); }
);
CFG
}
write_cfg "$TC_TMP/tc.cfg" int32
FIELDS="id qty note small"
ALL="SELECT id, qty, note, small FROM stock ORDER BY id"
EVENT="event acme.stock.StockChanged v1: relation public.stock: column"

# 1. Compatible changes while streaming: the consumer's state equals the table.
ddl_start "$TC_TMP/tc.cfg"
psql -q -c "INSERT INTO stock VALUES (1, 10, 'a', 1)"
psql -q -c "ALTER TABLE stock ADD COLUMN unmapped text" -c "INSERT INTO stock VALUES (2, 20, 'b', 2, 'x')"
psql -q -c "ALTER TABLE stock ALTER qty TYPE bigint" -c "INSERT INTO stock VALUES (3, 5000000000, 'c', 3)"
psql -q -c "ALTER TABLE stock ALTER note TYPE varchar(40)" -c "UPDATE stock SET note = 'a2' WHERE id = 1"
psql -q -c "ALTER TABLE stock DROP COLUMN unmapped" -c "INSERT INTO stock VALUES (4, 40, 'd', 4)"
ddl_verify stock "$FIELDS" "$ALL"
ddl_log | grep -q 'column "qty" read by field "qty" (int64) of event acme.stock.StockChanged v1 changed type from integer to bigint at .*: compatible, recorded' ||
	tc_fail "int to bigint not logged: $(ddl_log | tail -n 3)"
ddl_log | grep -q 'column "note" read by field "note" (string) of event acme.stock.StockChanged v1 changed type from text to character varying(40) at .*: compatible, recorded' ||
	tc_fail "text to varchar not logged"
[ "$(ddl_log | grep -c 'column "qty" .*compatible, recorded')" -eq 1 ] || tc_fail "a compatible change was logged more than once"
grep -qP '^column\tacme.stock.StockChanged v1\tpublic.stock\tqty\t[0-9A-F/]+\t20\t-1\tbigint$' "$TC_TMP/state/tablecast.schema" ||
	tc_fail "bigint not recorded: $(cat "$TC_TMP/state/tablecast.schema")"
[ "$(stat -c %a "$TC_TMP/state/tablecast.schema")" = 600 ] || tc_fail "the schema record is not 0600"
tc_stop

# ... and while stopped (varchar back to text, an unmapped column added): a
# restart compares with the record, and goes on.
psql -q -c "ALTER TABLE stock ALTER note TYPE text" -c "INSERT INTO stock VALUES (5, 50, 'e', 5)" -c "DELETE FROM stock WHERE id = 2" \
	-c "ALTER TABLE stock ADD COLUMN later int DEFAULT 1" -c "INSERT INTO stock VALUES (9, 90, 'i', 9, 2)"
ddl_start "$TC_TMP/tc.cfg"
ddl_verify stock "$FIELDS" "$ALL"
ddl_log | grep -q 'column "note" .* changed type from character varying(40) to text at .*: compatible, recorded' ||
	tc_fail "varchar to text after the restart not logged: $(ddl_log | tail -n 3)"
! ddl_log | grep -q 'error: ' || tc_fail "errors after compatible changes: $(ddl_log | grep 'error: ')"
tc_log "compatible changes: the consumer's state equals the table, streaming and restarted"

# 2. int to bigint for an int32 field, while streaming: delivered up to the row, then a halt.
psql -q -c "INSERT INTO stock VALUES (6, 60, 'f', 6)"
before=$(ddl_lsn)
psql -q -c "ALTER TABLE stock ALTER small TYPE bigint" -c "INSERT INTO stock VALUES (7, 70, 'g', 7)"
ddl_expect_halt "$before" "$EVENT \"small\" read by field \"small\" (int32) changed type from integer to bigint, which is not compatible" \
	"(insert of public.stock at "
ddl_verify stock "$FIELDS" "SELECT id, qty, note, small FROM stock WHERE id <> 7 ORDER BY id"
# ... restarted: the record still says integer, so the same halt (not a 5 s hiccup).
ddl_start "$TC_TMP/tc.cfg"
ddl_expect_halt "$before" "$EVENT \"small\" read by field \"small\" (int32) changed type from integer to bigint, which is not compatible"
# `check` reports it against the live catalog, from the record.
"$top_builddir/tablecast" check --config "$TC_TMP/tc.cfg" >"$TC_TMP/check.out" 2>&1 && tc_fail "check passed after an incompatible change"
grep -q 'error: event acme.stock.StockChanged v1: column public.stock.small changed type from integer to bigint since it was recorded, which is not compatible with field "small"' "$TC_TMP/check.out" ||
	tc_fail "check: $(cat "$TC_TMP/check.out")"
# The fix: an int64 field, for which the change is compatible.
write_cfg "$TC_TMP/fixed.cfg" int64
ddl_start "$TC_TMP/fixed.cfg"
ddl_verify stock "$FIELDS" "$ALL"
ddl_log | grep -q 'column "small" read by field "small" (int64) .* changed type from integer to bigint .*compatible, recorded' ||
	tc_fail "the fixed field did not record the change"
tc_stop
tc_log "int to bigint for int32: halted streaming and restarted; an int64 field takes it"

# 3. text to integer for a string field, made while tablecast is stopped.
before=$(ddl_lsn)
psql -q -c "ALTER TABLE stock ALTER note TYPE integer USING length(note)" -c "INSERT INTO stock VALUES (8, 80, 8, 8)"
ddl_start "$TC_TMP/fixed.cfg"
ddl_expect_halt "$before" "$EVENT \"note\" read by field \"note\" (string) changed type from text to integer, which is not compatible" \
	"(insert of public.stock at "
ddl_log | grep -q 'warning: .*fixed.cfg:[0-9]*: warning: event acme.stock.StockChanged v1: column public.stock.note changed type from text to integer since it was recorded, which is not compatible with field "note" (docs/SCHEMA-DRIFT.md); the stream stops at the first row written after the change' ||
	tc_fail "the start did not compare with the record: $(ddl_log | head -n 5)"
ddl_start "$TC_TMP/fixed.cfg"
ddl_expect_halt "$before" "$EVENT \"note\" read by field \"note\" (string) changed type from text to integer"
tc_log "text to integer while stopped: halted at the row, twice"

# vanish CHANGE ROW OP TABLE_NOW: a mapped column disappears by CHANGE; the
# next ROW (an OP) halts, streaming and restarted; the message lists what
# the table has now.
vanish() {
	ddl_reset
	psql -q -c "DROP TABLE stock" -c "$TABLE"
	ddl_start "$TC_TMP/tc.cfg"
	psql -q -c "INSERT INTO stock VALUES (1, 10, 'a', 1)"
	before=$(ddl_lsn)
	psql -q -c "$1" -c "$2"
	local vanished="$EVENT \"note\" (text) read by field \"note\" (string) vanished; the table now has: $4"
	ddl_expect_halt "$before" "$vanished" "($3 of public.stock at "
	ddl_verify stock "$FIELDS" "SELECT 1, 10, 'a', 1"
	ddl_start "$TC_TMP/tc.cfg"
	ddl_expect_halt "$before" "$vanished"
}

# 4. A mapped column dropped, streaming then restarted.
vanish "ALTER TABLE stock DROP COLUMN note" "INSERT INTO stock VALUES (2, 20, 2)" insert \
	"id bigint, qty integer, small integer"
tc_log "dropped column: halted, streaming and restarted"

# 5. A mapped column renamed: the new name shows in the table's columns.
vanish "ALTER TABLE stock RENAME note TO remark" "UPDATE stock SET qty = 11 WHERE id = 1" update \
	"id bigint, qty integer, remark text, small integer"
tc_log "renamed column: halted, streaming and restarted"

# 6. run refuses a configuration that can never translate, like check does.
sed -e 's/type = "int32";     value = "new.small"/type = "bool"; value = "new.remark"/' \
	-e "s|$TC_TMP/state|$TC_TMP/never-state|" "$TC_TMP/tc.cfg" >"$TC_TMP/never.cfg"
rc=0
"$top_builddir/tablecast" run --config "$TC_TMP/never.cfg" >/dev/null 2>"$TC_TMP/never.log" || rc=$?
[ "$rc" -eq 2 ] || tc_fail "run with an impossible mapping: exit $rc; $(cat "$TC_TMP/never.log")"
grep -q 'never.cfg:[0-9]*: error: event acme.stock.StockChanged v1: field "small": a text value does not fit bool' "$TC_TMP/never.log" ||
	tc_fail "no finding: $(cat "$TC_TMP/never.log")"
grep -q 'error: .*never.cfg: 2 errors against the live catalog.*not starting' "$TC_TMP/never.log" || tc_fail "$(cat "$TC_TMP/never.log")"
# 7. Text for a json field must be JSON: invalid text is a dead letter (on_error), valid text passes.
ddl_reset
psql -q -c "CREATE TABLE docs (id bigint PRIMARY KEY, body text)"
cat >"$TC_TMP/json.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
sink = { type = "stdout"; dead_letter_topic = "dead"; };
events = (
  { name = "acme.docs.DocSaved"; version = 1; table = "docs"; on = ["insert"]; topic = "docs"; key = "new.id";
    on_error = "dead_letter";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; },
               { name = "body"; number = 2; type = "json"; value = "new.body"; } ); }
);
CFG
ddl_start "$TC_TMP/json.cfg"
psql -q -c "INSERT INTO docs VALUES (1, '{\"a\": [1, 2]}')" -c "INSERT INTO docs VALUES (2, '{\"a\": ')"
two() { [ "$(grep -c '"topic":"d' "$TC_TMP/changes.jsonl")" -ge 2 ]; }
wait_for 30 two || tc_fail "json: $(cat "$TC_TMP/changes.jsonl")"
tc_stop
grep -q '"topic":"docs".*"data":{"id":"1","body":"{\\"a\\": \[1, 2\]}"}' "$TC_TMP/changes.jsonl" || tc_fail "valid json: $(cat "$TC_TMP/changes.jsonl")"
grep '"topic":"dead"' "$TC_TMP/changes.jsonl" | grep -F 'field \"body\" (json): ' |
	grep -qF 'is not JSON: unexpected end at byte 6 (insert of public.docs at ' ||
	tc_fail "invalid json: $(grep dead "$TC_TMP/changes.jsonl")"

echo "drift: compatible changes recorded, incompatible ones halt at the row, streaming and after restarts"
