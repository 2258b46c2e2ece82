#!/usr/bin/env bash
# Every way a start can go wrong ends with one clear line, a non-zero exit
# and nothing created half-way on the server.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE t (id int PRIMARY KEY);
CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'right';
CREATE ROLE norepl LOGIN;
SQL
# Password authentication for pwuser; everyone else stays trusted.
sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$TC_PGDATA/pg_hba.conf"
psql -q -c "SELECT pg_reload_conf()" >/dev/null

# expect_fail EXIT PATTERN CONFIG [args]: tablecast fails with exactly one
# error line matching PATTERN.
expect_fail() {
	local want=$1 pattern=$2 cfg=$3 rc=0
	shift 3
	timeout 60 "$TC" run --config "$cfg" "$@" >"$TC_TMP/out" 2>"$TC_TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || tc_fail "exit $rc, expected $want: $(cat "$TC_TMP/err")"
	grep -q -- "$pattern" "$TC_TMP/err" || tc_fail "expected \"$pattern\", got: $(cat "$TC_TMP/err")"
	[ "$(grep -vEc ': (info|warning): ' "$TC_TMP/err")" -eq 1 ] || tc_fail "not one error line: $(cat "$TC_TMP/err")"
	echo "ok: $(grep -vE ': (info|warning): ' "$TC_TMP/err")"
}
nothing_created() {
	[ "$(psql -Atc 'SELECT count(*) FROM pg_publication') $(psql -Atc 'SELECT count(*) FROM pg_replication_slots')" = "0 0" ] ||
		tc_fail "a failed start left a publication or slot behind"
}
config() { # config FILE CONNINFO [source lines...]
	local file=$1
	TC_CONNINFO=$2 tc_config "$@"
	sed -i "s|conninfo = .*|conninfo = \"$2\";|" "$file"
	sed -i "/^  $2\$/d" "$file"
}
base="host=127.0.0.1 port=$PGPORT dbname=postgres"

# Usage and configuration errors: exit 2.
rc=0; "$TC" run >/dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ] || tc_fail "run without --config: exit $rc"
rc=0; "$TC" frobnicate >/dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ] || tc_fail "unknown command: exit $rc"
printf 'source = {\n  conninfo = "x";\n  slott = "a";\n};\n' >"$TC_TMP/typo.cfg"
expect_fail 2 "typo.cfg:3: unknown setting \"slott\" in source" "$TC_TMP/typo.cfg"

# Connection problems.
config "$TC_TMP/pw.cfg" "$base user=pwuser password=wrong"
expect_fail 1 'password authentication failed for user "pwuser"' "$TC_TMP/pw.cfg"
grep -q wrong "$TC_TMP/err" && tc_fail "the password appeared in the error"
config "$TC_TMP/norepl.cfg" "$base user=norepl"
expect_fail 1 'ALTER ROLE ... REPLICATION' "$TC_TMP/norepl.cfg"
config "$TC_TMP/nodb.cfg" "host=127.0.0.1 port=$PGPORT dbname=nosuchdb user=postgres"
expect_fail 1 'database "nosuchdb" does not exist' "$TC_TMP/nodb.cfg"
nothing_created

# Missing objects that config does not allow to create.
config "$TC_TMP/nopub.cfg" "$base user=postgres"
sed -i 's/create_publication = true/create_publication = false/' "$TC_TMP/nopub.cfg"
expect_fail 1 'publication "tablecast" does not exist' "$TC_TMP/nopub.cfg"
nothing_created
psql -q -c "CREATE PUBLICATION tablecast FOR TABLE t"
sed -i 's/create_slot = true/create_slot = false/' "$TC_TMP/nopub.cfg"
expect_fail 1 'replication slot "tablecast" does not exist: set source.create_slot = true' "$TC_TMP/nopub.cfg"
[ "$(psql -Atc 'SELECT count(*) FROM pg_replication_slots')" -eq 0 ] || tc_fail "slot created against config"
psql -q -c "DROP PUBLICATION tablecast"

# A slot tablecast created that vanished: refuse, until told to accept the gap.
config "$TC_TMP/ok.cfg" "$base user=postgres"
tc_start "$TC_TMP/ok.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"
tc_stop
psql -q -c "SELECT pg_drop_replication_slot('tablecast')"
expect_fail 1 'replication slot "tablecast" (created at .*) no longer exists' "$TC_TMP/ok.cfg"
[ "$(psql -Atc 'SELECT count(*) FROM pg_replication_slots')" -eq 0 ] || tc_fail "slot silently re-created"
tc_start "$TC_TMP/ok.cfg" --recreate-slot
streamed_twice() { [ "$(grep -c 'streaming slot' "$TC_TMP/tablecast.log")" -eq 2 ]; }
wait_for 30 streamed_twice || tc_fail "--recreate-slot did not stream"
[ "$(grep -c 'created replication slot "tablecast"' "$TC_TMP/tablecast.log")" -eq 2 ] || tc_fail "--recreate-slot did not create the slot"
tc_stop

# An invalidated slot (the server dropped WAL it needed): refuse to resume across the gap.
echo "max_slot_wal_keep_size = 1MB" >>"$TC_PGDATA/tablecast-test.conf"
pg_restart
for i in 1 2 3; do
	psql -q -c "INSERT INTO t SELECT g FROM generate_series($((i * 100000)), $((i * 100000 + 20000))) g" -c "SELECT pg_switch_wal()" >/dev/null
done
psql -q -c "CHECKPOINT"
[ "$(psql -Atc "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tablecast'")" = lost ] ||
	tc_fail "could not invalidate the slot: $(psql -Atc 'SELECT wal_status FROM pg_replication_slots')"
expect_fail 1 'replication slot "tablecast" was invalidated' "$TC_TMP/ok.cfg"
tc_start "$TC_TMP/ok.cfg" --recreate-slot
streamed_thrice() { [ "$(grep -c 'streaming slot' "$TC_TMP/tablecast.log")" -eq 3 ]; }
wait_for 30 streamed_thrice || tc_fail "--recreate-slot did not replace the invalidated slot"
tc_stop
[ "$(psql -Atc "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tablecast'")" != lost ] ||
	tc_fail "the slot is still invalidated"
sed -i '/max_slot_wal_keep_size/d' "$TC_PGDATA/tablecast-test.conf"

# wal_level below logical (the server refuses to start with a logical slot then).
psql -q -c "SELECT pg_drop_replication_slot('tablecast')" >/dev/null
sed -i 's/wal_level = logical/wal_level = replica/' "$TC_PGDATA/tablecast-test.conf"
pg_restart
expect_fail 1 'wal_level is replica: set wal_level = logical' "$TC_TMP/ok.cfg"
echo "bad_input: every failure was one clear line"
