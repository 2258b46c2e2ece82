#!/usr/bin/env bash
# The database password as a systemd credential: the unit's
# PGPASSFILE=%d/pgpass, with the pgpass file systemd would place in the
# credentials directory (mode 0400), lets a password role stream with no
# password in the configuration; without it the same start fails. State
# files are created 0600. The units, with the documented drop-in, verify.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE t (id serial PRIMARY KEY, note text);
CREATE PUBLICATION tablecast FOR TABLE t;
CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'the-secret';
GRANT SELECT ON t TO pwuser;
SQL
sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$TC_PGDATA/pg_hba.conf"
psql -q -c "SELECT pg_reload_conf()" >/dev/null

TC_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser" tc_config "$TC_TMP/tc.cfg"
sed -i 's/create_publication = true/create_publication = false/' "$TC_TMP/tc.cfg"
grep -q 'the-secret' "$TC_TMP/tc.cfg" && tc_fail "the password is in the configuration"

# Without the credential: no password, exit 1.
rc=0
timeout 60 "$TC" run --config "$TC_TMP/tc.cfg" >/dev/null 2>"$TC_TMP/nocred.err" || rc=$?
[ "$rc" -eq 1 ] || tc_fail "without the credential: exit $rc: $(cat "$TC_TMP/nocred.err")"
grep -q 'password' "$TC_TMP/nocred.err" || tc_fail "without the credential: $(cat "$TC_TMP/nocred.err")"

# What systemd does for LoadCredential=pgpass:...: a 0400 file in $CREDENTIALS_DIRECTORY;
# the unit's own Environment= line, with %d expanded, points libpq at it.
creds="$TC_TMP/credentials"
mkdir -m 0700 "$creds"
echo "127.0.0.1:$PGPORT:*:pwuser:the-secret" >"$creds/pgpass"
chmod 0400 "$creds/pgpass"
env_line=$(sed -n 's/^Environment=//p' "$top_srcdir/packaging/tablecast.service")
[ -n "$env_line" ] || tc_fail "no Environment= in the unit"
pgpassfile=$(echo "$env_line" | sed -n "s|^PGPASSFILE=%d|$creds|p")
[ "$pgpassfile" = "$creds/pgpass" ] || tc_fail "unexpected unit line: $env_line"
CREDENTIALS_DIRECTORY="$creds" PGPASSFILE="$pgpassfile" tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start with the credential"
psql -q -c "INSERT INTO t (note) VALUES ('with a credential')"
wait_for 30 grep -q 'with a credential' "$TC_TMP/changes.jsonl" || tc_fail "no change streamed"
tc_stop
grep -q 'the-secret' "$TC_TMP/tablecast.log" && tc_fail "the password was logged"
echo "ok: streamed as pwuser with the password from the credentials directory only"

# State files: the service's own, whatever the umask.
[ -n "$(find "$TC_TMP/state" -type f)" ] || tc_fail "no state files"
loose=$(find "$TC_TMP/state" -type f ! -perm 0600)
[ -z "$loose" ] || tc_fail "state files not 0600: $(ls -l $loose)"
echo "ok: state files are 0600: $(find "$TC_TMP/state" -type f -printf '%f ')"

# The units as shipped, and with the documented drop-in.
if command -v systemd-analyze >/dev/null; then
	units="$TC_TMP/units"
	mkdir -p "$units/tablecast.service.d"
	cp "$top_srcdir/packaging/tablecast.service" "$top_srcdir/packaging/tablecast@.service" "$units/"
	sed -i "s|/usr/bin/tablecast|$(cd "$top_builddir" && pwd)/tablecast|" "$units"/*.service
	printf '[Service]\nLoadCredential=pgpass:/etc/tablecast/pgpass\n' >"$units/tablecast.service.d/credential.conf"
	for u in tablecast.service tablecast@.service; do
		# Documentation= names man pages that may not be installed here.
		SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify --man=no "$units/$u" 2>&1 |
			grep -v '^$' && tc_fail "systemd-analyze verify $u"
	done
	grep -q '^RestartPreventExitStatus=2$' "$units/tablecast.service" || tc_fail "no RestartPreventExitStatus=2"
	echo "ok: units verify, with the credential drop-in"
fi
