#!/usr/bin/env bash
# TLS to PostgreSQL: sslmode=verify-full against a CA made here; the
# replication connection really is encrypted (pg_stat_ssl), plain
# connections are refused, and a certificate from another CA is rejected
# with one clear line.
. "$(dirname "$0")/../lib/servers.sh"

cd "$TC_TMP"
make_ca() { # make_ca NAME
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.crt" 2>/dev/null
}
make_ca test-ca
make_ca other-ca
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA test-ca.crt -CAkey test-ca.key -CAcreateserial -days 2 \
	-extfile san.ext -out server.crt 2>/dev/null
cd - >/dev/null

chmod 600 "$TC_TMP/server.key"
if [ "$(id -u)" -eq 0 ]; then chown "${TC_PG_USER:-postgres}" "$TC_TMP/server.key"; fi
pg_start "ssl = on" "ssl_cert_file = '$TC_TMP/server.crt'" "ssl_key_file = '$TC_TMP/server.key'"
# Refuse anything unencrypted, replication included.
sed -i '1i hostnossl all all 127.0.0.1/32 reject\nhostnossl replication all 127.0.0.1/32 reject' "$TC_PGDATA/pg_hba.conf"
pg_restart
export PGSSLMODE=require

psql -q -c "CREATE TABLE t (id int PRIMARY KEY)"
tls="host=localhost hostaddr=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=verify-full"
TC_CONNINFO="$tls sslrootcert=$TC_TMP/test-ca.crt" tc_config "$TC_TMP/tc.cfg"
tc_start "$TC_TMP/tc.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not stream over TLS"
psql -q -c "INSERT INTO t VALUES (1), (2)"
two() { [ "$(count_lines '"op":"insert"')" -eq 2 ]; }
wait_for 20 two || tc_fail "changes did not arrive over TLS"
[ "$(psql -Atc "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_replication r USING (pid)")" = t ] ||
	tc_fail "the replication connection is not encrypted"
tc_stop

# The same without TLS is refused; another CA's view of the server is rejected.
rc=0
TC_CONNINFO="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=disable" tc_config "$TC_TMP/plain.cfg"
"$top_builddir/tablecast" run --config "$TC_TMP/plain.cfg" 2>"$TC_TMP/plain.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no encryption" "$TC_TMP/plain.err" || tc_fail "plain connection: $(cat "$TC_TMP/plain.err")"
rc=0
TC_CONNINFO="$tls sslrootcert=$TC_TMP/other-ca.crt" tc_config "$TC_TMP/other.cfg"
"$top_builddir/tablecast" run --config "$TC_TMP/other.cfg" 2>"$TC_TMP/other.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$TC_TMP/other.err")" -eq 1 ] && grep -q "certificate verify failed" "$TC_TMP/other.err" ||
	tc_fail "wrong CA: $(cat "$TC_TMP/other.err")"
echo "tls: verify-full streams encrypted; plain refused; $(cut -c1-90 "$TC_TMP/other.err")..."
