# shellcheck shell=bash
# Throwaway servers for tests and the demo: a PostgreSQL 15 cluster and a
# Kafka-protocol broker, both on loopback, both removed when the script
# exits for any reason (success, failure, Ctrl-C, SIGTERM).
#
#   . "$top_srcdir/tests/lib/servers.sh"
#   pg_start            # exports PGHOST PGPORT PGUSER PGDATABASE, TC_CONNINFO
#   broker_start        # exports KAFKA_BOOTSTRAP
#   psql -c '...'
#
# PostgreSQL refuses to run as root: as root the cluster runs as the
# "postgres" user (override with TC_PG_USER).

set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
TC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tablecast-test.XXXXXX")
chmod 755 "$TC_TMP"
export TC_TMP

tc_cleanups=()

# Run "$@" when the script ends; the last registered runs first.
tc_on_exit() { tc_cleanups+=("$*"); }

tc_cleanup() {
	local status=$? i
	# Finish cleaning up even if Ctrl-C or SIGTERM comes again.
	trap "" INT TERM
	trap - EXIT
	for ((i = ${#tc_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${tc_cleanups[i]}" >/dev/null 2>&1 || true
	done
	if [ "$status" -ne 0 ] && [ -z "${TC_KEEP_TMP:-}" ]; then
		# Show what the servers said before their logs go.
		for f in "$TC_TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "---- tail of $(basename "$f") ----" >&2
			tail -n 20 "$f" >&2 || true
		done
	fi
	[ -n "${TC_KEEP_TMP:-}" ] || rm -rf "$TC_TMP"
	exit "$status"
}
trap tc_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tc_log() { echo "# $*" >&2; }

tc_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ "$(id -u)" -eq 0 ]; then
	TC_PG_USER=${TC_PG_USER:-postgres}
	# From /, so the server's user never inherits a directory it cannot enter
	# (root's home), which PostgreSQL's tools would warn about on every call.
	as_pg() { (cd / && runuser -u "$TC_PG_USER" -- "$@"); }
else
	as_pg() { "$@"; }
fi

# A TCP port nobody listens on, below the kernel's ephemeral range (the
# broker and every client take ports from that range, so a port picked
# there can be taken between this check and its use).
tc_free_port() {
	local port low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 12000 ] || low=32768
	while :; do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# pg_start [extra postgresql.conf lines...]
pg_start() {
	local data="$TC_TMP/pgdata" tries
	mkdir -p "$data"
	[ "$(id -u)" -ne 0 ] || chown "$TC_PG_USER" "$data"
	as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$TC_TMP/initdb.log" 2>&1 || tc_fail "initdb failed (see initdb.log)"
	for tries in 1 2 3 4 5; do
		PGPORT=$(tc_free_port)
		{
			echo "listen_addresses = '127.0.0.1'"
			echo "port = $PGPORT"
			echo "unix_socket_directories = '$data'"
			echo "wal_level = logical"
			echo "max_wal_senders = 10"
			echo "max_replication_slots = 10"
			echo "fsync = off"
			echo "full_page_writes = off"
			echo "shared_buffers = 64MB"
			echo "log_min_messages = warning"
			local line
			for line in "$@"; do echo "$line"; done
		} >"$data/tablecast-test.conf"
		grep -q tablecast-test.conf "$data/postgresql.conf" ||
			echo "include 'tablecast-test.conf'" >>"$data/postgresql.conf"
		touch "$TC_TMP/postgres.log"
		[ "$(id -u)" -ne 0 ] || chown "$TC_PG_USER" "$TC_TMP/postgres.log"
		if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$TC_TMP/postgres.log" -w -t 60 start >/dev/null; then
			break
		fi
		[ "$tries" -lt 5 ] || tc_fail "PostgreSQL did not start (see postgres.log)"
	done
	tc_on_exit pg_stop
	export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres
	export TC_PGDATA="$data"
	export TC_CONNINFO="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
}

pg_stop() {
	[ -n "${TC_PGDATA:-}" ] || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$TC_PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
}

# Restart the cluster (same port and data), e.g. to test reconnection.
pg_restart() {
	as_pg "$PG_BIN/pg_ctl" -D "$TC_PGDATA" -l "$TC_TMP/postgres.log" -m fast -w -t 60 restart >/dev/null
}

# broker_start [kafka-broker options...]
broker_start() {
	local bin="$top_builddir/tests/kafka-broker" i
	[ -x "$bin" ] || tc_fail "$bin is not built (run make)"
	"$bin" "$@" >"$TC_TMP/broker.addr" 2>"$TC_TMP/broker.log" &
	TC_BROKER_PID=$!
	tc_on_exit "kill $TC_BROKER_PID; wait $TC_BROKER_PID"
	for i in $(seq 1 100); do
		if [ -s "$TC_TMP/broker.addr" ]; then
			KAFKA_BOOTSTRAP=$(head -n 1 "$TC_TMP/broker.addr")
			export KAFKA_BOOTSTRAP TC_BROKER_PID
			return 0
		fi
		kill -0 "$TC_BROKER_PID" 2>/dev/null || tc_fail "kafka-broker exited (see broker.log)"
		sleep 0.05
	done
	tc_fail "kafka-broker printed no address"
}

# Start tablecast in the background: tc_start CONFIG [args...]; sets TC_PID.
tc_start() {
	local cfg=$1
	shift
	touch "$TC_TMP/changes.jsonl" "$TC_TMP/tablecast.log"
	"$top_builddir/tablecast" run --config "$cfg" "$@" \
		>>"$TC_TMP/changes.jsonl" 2>>"$TC_TMP/tablecast.log" &
	TC_PID=$!
	tc_on_exit "kill -9 $TC_PID; wait $TC_PID"
}

# Stop tablecast with SIGTERM and check it exits 0.
tc_stop() {
	kill -TERM "$TC_PID"
	local rc=0
	wait "$TC_PID" || rc=$?
	[ "$rc" -eq 0 ] || tc_fail "tablecast exited $rc on SIGTERM (see tablecast.log)"
}

# Write a configuration for the test cluster: tc_config FILE [extra source lines]
tc_config() {
	local file=$1
	shift
	cat >"$file" <<CFG
log_level = "${TC_LOG_LEVEL:-info}";
state_dir = "$TC_TMP/state";
source = {
  conninfo = "$TC_CONNINFO";
  slot = "tablecast";
  publication = "tablecast";
  create_slot = true;
  create_publication = true;
  status_interval = 1;
$(for l in "$@"; do echo "  $l"; done)
$(case "$*" in *tables*) ;; *) echo "  all_tables = true;" ;; esac)
};
sink = { type = "stdout"; format = "changes"; };
CFG
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		if "$@"; then return 0; fi
		sleep 0.1
	done
	"$@"
}

# Lines of the JSON change log that match a jq-free grep pattern.
count_lines() { grep -c -- "$1" "${2:-$TC_TMP/changes.jsonl}" 2>/dev/null || true; }
