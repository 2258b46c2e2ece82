#!/usr/bin/env bash
# Capture real pgoutput messages from a throwaway PostgreSQL 15 into tests/fixtures/pgoutput, one message per file.
#
#   tests/capture-fixtures.sh [OUTPUT_DIR]
#
# The unit tests and the fuzzer's seed corpus read these bytes, so no test
# needs a server. Relation and type OIDs, xids, LSNs and timestamps differ on
# every run: tests read OIDs from the relation fixtures and check LSNs and
# xids for consistency, never for exact values. Re-run this script only when
# the workload changes, and commit the fixtures together with the tests.
#
# Each step below runs some SQL, then consumes what the slot decoded since the
# previous step with pg_logical_slot_get_binary_changes (the consuming twin of
# pg_logical_slot_peek_binary_changes: same output, but each step sees only
# its own messages). Every call starts a fresh decoding session, so pgoutput
# re-sends the Relation (and Type) messages a step needs: each step's output
# is complete on its own.

top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$top_srcdir/tests/lib/servers.sh"

out=${1:-$top_srcdir/tests/fixtures/pgoutput}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Start clean: a fixture this script no longer writes must not linger.
rm -f "$out"/*.bin "$out/README"

slot=tc_fixtures
publication=tc_fixtures
# Text values below contain UTF-8; do not let the locale of root's shell pick SQL_ASCII.
export PGCLIENTENCODING=UTF8
# Keep NOTICEs such as "truncate cascades to table" out of the output.
export PGOPTIONS='-c client_min_messages=warning'

# shellcheck disable=SC2119 # pg_start's own settings (wal_level = logical) are all we need
pg_start

run_sql() { psql -X -q -v ON_ERROR_STOP=1 "$@" >/dev/null; }

run_sql <<'SQL'
CREATE TYPE mood AS ENUM ('happy', 'sad');
-- REPLICA IDENTITY DEFAULT (the primary key). xid records the inserting
-- transaction, so a test can check it against the Begin message's xid.
CREATE TABLE items (
	id int PRIMARY KEY,
	name text,
	note text,
	mood mood,
	xid xid8 DEFAULT pg_current_xact_id()
);
CREATE TABLE orders (id int PRIMARY KEY, item_id int REFERENCES items (id));
CREATE TABLE audit (id int PRIMARY KEY, body text, note text);
ALTER TABLE audit REPLICA IDENTITY FULL;
-- EXTERNAL: stored out of line and uncompressed, so an UPDATE that leaves
-- body alone sends it as 'u' (unchanged TOAST) instead of its bytes.
CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
-- 128 kB of md5 hex: incompressible enough, and far over the TOAST threshold.
INSERT INTO docs SELECT 1, 'v1', string_agg(md5(random()::text), '') FROM generate_series(1, 4000);
CREATE PUBLICATION tc_fixtures FOR ALL TABLES;
SELECT pg_create_logical_replication_slot('tc_fixtures', 'pgoutput');
SQL

# The docs row must really be out of line, or the 'u' fixture would not be one.
toast_table=$(psql -X -At -c "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'docs'::regclass")
chunks=$(psql -X -At -c "SELECT count(*) FROM $toast_table")
[ "$chunks" -gt 0 ] || tc_fail "docs.body is not stored out of line"

manifest=$TC_TMP/manifest
: >"$manifest"

# step NAME [EXTRA_OPTIONS] <<SQL: run the SQL, keep the decoded messages as
# "lsn hex" lines in $TC_TMP/NAME.msgs and the SQL in $TC_TMP/NAME.sql.
step() {
	local name=$1 extra=${2:-}
	cat >"$TC_TMP/$name.sql"
	run_sql -f "$TC_TMP/$name.sql"
	psql -X -At -F ' ' -v ON_ERROR_STOP=1 >"$TC_TMP/$name.msgs" <<SQL
SELECT lsn, encode(data, 'hex')
  FROM pg_logical_slot_get_binary_changes('$slot', NULL, NULL,
       'proto_version', '1', 'publication_names', '$publication',
       'messages', 'true'$extra);
SQL
	[ -s "$TC_TMP/$name.msgs" ] || tc_fail "step $name decoded nothing"
}

hexof() { printf '%s' "$1" | xxd -p | tr -d '\n'; }

# save STEP TYPE FILE [NTH] [HEX]: write the NTH (default 1) message of TYPE
# from STEP whose bytes contain HEX (optional) to FILE, and note it for README.
save() {
	local name=$1 type=$2 file=$3 nth=${4:-1} want_hex=${5:-}
	local type_hex lsn hex
	type_hex=$(hexof "$type")
	read -r lsn hex < <(awk -v t="$type_hex" -v w="$want_hex" -v n="$nth" \
		'substr($2, 1, 2) == t && (w == "" || index($2, w)) && ++seen == n { print; exit }' \
		"$TC_TMP/$name.msgs") || true
	[ -n "${hex:-}" ] || tc_fail "step $name: no message '$type' #$nth${want_hex:+ containing $want_hex}"
	printf '%s' "$hex" | xxd -r -p >"$out/$file"
	printf '%s\t%s\t%s\t%s\n' "$file" "$type" "$name" "$lsn" >>"$manifest"
}

step insert <<'SQL'
INSERT INTO items (id, name, note, mood) VALUES
	(1, 'widget', NULL, 'happy'),
	(2, 'Grüße, "quoted" \ back', 'a note', 'sad');
SQL
save insert B begin.bin
save insert Y type_enum.bin
save insert R relation_default.bin
save insert I insert_default.bin 1
save insert I insert_utf8.bin 2
save insert C commit.bin

step update_default <<'SQL'
UPDATE items SET name = 'gadget' WHERE id = 1;
SQL
save update_default U update_default.bin

step update_key <<'SQL'
UPDATE items SET id = 10 WHERE id = 1;
SQL
save update_key U update_key_changed.bin

step delete_default <<'SQL'
DELETE FROM items WHERE id = 10;
SQL
save delete_default D delete_default.bin

step insert_full <<'SQL'
INSERT INTO audit VALUES (1, 'first', NULL);
SQL
save insert_full R relation_full.bin
save insert_full I insert_full.bin

step update_full <<'SQL'
UPDATE audit SET body = 'second' WHERE id = 1;
SQL
save update_full U update_full_old.bin

step delete_full <<'SQL'
DELETE FROM audit WHERE id = 1;
SQL
save delete_full D delete_full.bin

step update_toast <<'SQL'
UPDATE docs SET title = 'v2' WHERE id = 1;
SQL
save update_toast R relation_toast.bin
save update_toast U update_toast_unchanged.bin

step truncate <<'SQL'
TRUNCATE audit;
SQL
save truncate T truncate.bin

step truncate_cascade <<'SQL'
TRUNCATE items CASCADE;
SQL
# Two Relation messages precede the Truncate; pick orders' by its names.
save truncate_cascade R relation_orders.bin 1 "$(hexof public)00$(hexof orders)00"
save truncate_cascade T truncate_cascade.bin

step truncate_restart <<'SQL'
TRUNCATE audit, docs RESTART IDENTITY;
SQL
save truncate_restart T truncate_restart_identity.bin

step message_tx <<'SQL'
BEGIN;
SELECT pg_logical_emit_message(true, 'tablecast', 'hello from a transaction');
COMMIT;
SQL
save message_tx M message_tx.bin

# PostgreSQL 15 does not flush WAL after a non-transactional message, and
# decoding stops at the flush point: wait for the WAL writer to flush it.
wait_flushed="DO \$\$ DECLARE target pg_lsn := pg_current_wal_insert_lsn(); BEGIN
	WHILE pg_current_wal_flush_lsn() < target LOOP PERFORM pg_sleep(0.01); END LOOP;
END \$\$;"

step message_nontx <<SQL
SELECT pg_logical_emit_message(false, 'tablecast', 'outside any transaction');
$wait_flushed
SQL
save message_nontx M message_nontx.bin

step message_bytea <<SQL
SELECT pg_logical_emit_message(false, 'tablecast.bin', '\\x00ff80fe0a'::bytea);
$wait_flushed
SQL
save message_bytea M message_bytea.bin

# A transaction replayed from another server carries its origin's name and
# commit LSN; pgoutput sends an Origin message right after Begin.
step origin <<'SQL'
SELECT pg_replication_origin_create('upstream');
SELECT pg_replication_origin_session_setup('upstream');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF0', now());
INSERT INTO audit VALUES (2, 'replicated', NULL);
COMMIT;
SQL
save origin O origin.bin

step binary ", 'binary', 'true'" <<'SQL'
INSERT INTO items (id, name, note, mood) VALUES (20, 'binary row', NULL, 'sad');
SQL
save binary I insert_binary.bin

# The manifest, generated so it always matches the bytes.
{
	cat <<EOF
pgoutput fixtures: real messages captured from PostgreSQL $(psql -X -At -c 'SHOW server_version')
by tests/capture-fixtures.sh, one message per file, bytes exactly as
pgoutput sent them (the "data" column of pg_logical_slot_get_binary_changes,
options proto_version '1', publication_names 'tc_fixtures', messages 'true';
insert_binary.bin also binary 'true'). The tests and the fuzzer's seed
corpus use them; no server is needed to run the tests.

OIDs, xids, LSNs and timestamps change on every capture: tests read relation
OIDs from the relation_*.bin fixtures and check LSNs and xids for
consistency. Steps ran in the order below, so a later step's LSNs are larger.

Schema (created before the slot):
$(sed -n '/^CREATE TYPE/,/^SELECT pg_create/p' "${BASH_SOURCE[0]}" | sed 's/^/    /')

Files (name, message type, capture LSN, then the SQL of the step):
EOF
	local_step=
	while IFS=$'\t' read -r file type name lsn; do
		if [ "$name" != "$local_step" ]; then
			printf '\nstep %s:\n' "$name"
			sed 's/^/    /' "$TC_TMP/$name.sql"
			local_step=$name
		fi
		printf '  %-30s %s  %s\n' "$file" "$type" "$lsn"
	done <"$manifest"
} >"$out/README"

tc_log "wrote $(wc -l <"$manifest") fixtures to $out"
