#!/usr/bin/env bash
# make bench: performance figures on a throwaway PostgreSQL and the local
# broker, written to docs/PERFORMANCE.md (and docs/performance.png). Uses an
# optimised build without sanitizers (bench-build/), never the test build.
. "$(dirname "$0")/../lib/servers.sh"

CHANGES=${BENCH_CHANGES:-400000}
RUNS=${BENCH_RUNS:-3}

# What only the benchmark needs: the peer bridge's parts and the chart.
extra=(postgresql-15-wal2json python3-psycopg2 gnuplot-nox)
missing=()
for p in "${extra[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
			>"$TC_TMP/apt.log" 2>&1 || tc_fail "could not install ${missing[*]} (see apt.log)"
	else
		tc_fail "make bench needs: apt-get install ${missing[*]}"
	fi
fi

# From the release tarball, so the configured (maybe sanitized) tree is untouched.
build="$top_builddir/bench-build"
{
	rm -rf "$build" && mkdir -p "$build" &&
		(cd "$top_builddir" && make -s dist) &&
		tar -xzf "$top_builddir"/tablecast-*.tar.gz -C "$build" --strip-components=1 &&
		(cd "$build" && ./configure -q CFLAGS="-O2 -g" && make -s -j2 tablecast tests/kafka-broker)
} >"$TC_TMP/build.log" 2>&1 || tc_fail "bench build failed (see build.log)"

# Debian's PostgreSQL 15.20 and later load only listed output plugins besides
# pgoutput; earlier point releases do not know the setting and refuse it.
plugins=()
if "$PG_BIN/postgres" --describe-config 2>/dev/null | grep -q '^output_plugin_libraries'; then
	plugins=("output_plugin_libraries = 'pgoutput,wal2json'")
fi
pg_start "max_wal_size = 4GB" "checkpoint_timeout = 30min" "${plugins[@]}"
# The mock cluster keeps 5 MB of each partition: 64 hold the verify benchmark's million records.
top_builddir="$build" broker_start --topic bench:3 --topic bench_py:3 --topic verifybench:64
bench() { /usr/bin/python3 "$top_srcdir/tests/bench/$1" "$build/tablecast" "${@:2}" || tc_fail "$1 failed"; }
bench drain.py "$CHANGES" "$RUNS" "$TC_TMP/drain.md"
bench largetxn.py "${BENCH_TXN_ROWS:-1000000}" "$RUNS" "$TC_TMP/largetxn.md"
bench latency.py "${BENCH_RATE:-5000}" "${BENCH_LATENCY_SECONDS:-20}" "$RUNS" "$TC_TMP/latency.md"
bench snapshot.py "${BENCH_SNAPSHOT_ROWS:-1000000}" "$RUNS" "$TC_TMP/snapshot.md"
bench verify.py "${BENCH_VERIFY_ROWS:-1000000}" "$RUNS" "$TC_TMP/verify.md"
bench scaleout.py "$CHANGES" "$RUNS" "$TC_TMP/scaleout.md" 1 2

# The chart: each reader's rate, as a multiple of its baseline.
{
	awk -F'|' '/^\| (pg_recvlogical|python bridge|tablecast) / {gsub(/ /, "", $3); gsub(/,/, "", $4);
		name = $2; sub(/^ /, "", name); sub(/ \(.*/, "", name); sub(/ $/, "", name);
		printf "\"drain: %s\" %s\n", name, $4}' "$TC_TMP/drain.md"
	awk -F'|' '/^\| (pg_recvlogical|tablecast) / {gsub(/,/, "", $4); name = $2; gsub(/ /, "", name);
		printf "\"drain, old rows: %s\" %s\n", name, $4}' "$TC_TMP/drain-full.md"
	awk -F'|' '/^\| (raw pipe|tablecast snapshot)/ {gsub(/,/, "", $4);
		printf "\"snapshot: %s\" %s\n", ($2 ~ /pipe/ ? "COPY | kcat" : "tablecast"), $4}' "$TC_TMP/snapshot.md"
} >"$TC_TMP/chart.dat"
gnuplot <<GP || tc_fail "gnuplot failed"
set terminal pngcairo size 900,420 font "sans,10"
set output "$top_srcdir/docs/performance.png"
set title "Rows or changes per second (higher is better), make bench $(date -u +%Y-%m-%d)"
set style fill solid 0.8
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set xtics rotate by -20
set format y "%.1s%c"
unset key
plot "$TC_TMP/chart.dat" using 0:2:xtic(1) with boxes lc rgb "#3b6ea5", \
     "" using 0:2:(sprintf("%.0fk", \$2/1000)) with labels offset 0,0.7
GP

soak=$(sed -n '/^## Soak/,$p' "$top_srcdir/docs/PERFORMANCE.md" 2>/dev/null || true)
{
	echo "# tablecast performance"
	echo
	echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
	echo "PostgreSQL $(psql -Atc 'SHOW server_version' | cut -d' ' -f1), librdkafka's mock cluster as the broker, optimised build without sanitizers)."
	echo "Every scenario runs $RUNS times and reports the median; the script stops without"
	echo "writing this file when a run did not deliver every change."
	echo
	echo "![rates](performance.png)"
	echo
	echo "## Drain rate"
	echo
	echo "$CHANGES committed changes (inserts, then updates; one row in ten carries 1 kB)"
	echo "in 10k-row transactions, read from slots created before the workload."
	echo "pg_recvlogical writes pgoutput to /dev/null (the walsender's own limit). The"
	echo "Python bridge is what a team would write instead (tests/bench/bridge.py):"
	echo "psycopg2 reads wal2json, each change becomes a JSON event produced with"
	echo "confluent-kafka, the slot is confirmed after each flush. tablecast translates"
	echo "every change into a 6-field protobuf event (exact numeric product, timestamp),"
	echo "publishes it with CloudEvents headers and waits for the acknowledgements until"
	echo "the slot's confirmed_flush_lsn reaches the end of the workload (polled every"
	echo "20 ms over one open connection, which counts against tablecast). The three take"
	echo "turns reading the fresh WAL first. CPU is the process's user + system time"
	echo "(wait4), \"of it kernel\" the system time alone; the walsender's own CPU is not"
	echo "included for any. Peak RSS is the process's own (VmHWM)."
	echo
	cat "$TC_TMP/drain.md"
	echo
	echo "### Updates with old rows"
	echo
	echo "The same number of changes on a table with REPLICA IDENTITY FULL: inserts, then"
	echo "as many updates, each carrying its old row. Two events: the one above for every"
	echo "change, and one whose \`when\` and fields read old and new"
	echo "(\`old.qty <> new.qty AND new.status = 'open'\`, a decimal from both rows), which"
	echo "fires for a third of the updates."
	echo
	cat "$TC_TMP/drain-full.md"
	echo
	echo "tablecast keeps up with the walsender, whose decoding sets the pace for every"
	echo "reader. The CPU per change target is missed, and the reason is in the table:"
	echo "this machine's kernel is dear: pg_recvlogical, which only reads the stream and"
	echo "writes it to /dev/null, spends about as much CPU per change as tablecast, two"
	echo "thirds of it in the kernel. About a third of tablecast's CPU is kernel time (reading the"
	echo "replication connection, librdkafka's sockets and wake-ups). What is left in user"
	echo "space is mostly librdkafka's per-record work (a copy of each CloudEvents header,"
	echo "the broker thread writing each record into a produce request, lz4) and the"
	echo "translation. The profiles, before and after each change, and what was tried and"
	echo "not kept are in docs/PROFILE.md."
	echo
	echo "## Large transaction"
	echo
	cat "$TC_TMP/largetxn.md"
	echo
	echo "## Latency"
	echo
	cat "$TC_TMP/latency.md"
	echo
	echo "## Snapshot"
	echo
	echo "\`tablecast snapshot\` on a fresh slot: the table read with COPY under the slot's"
	echo "exported snapshot, every row translated into a 6-field event and published,"
	echo "against the raw pipe \`psql -c 'COPY snap_bench TO STDOUT' | kcat -P\` into the"
	echo "same broker (every row read and published as it is, without headers: the"
	echo "practical limit, and the reference), and psql copying the table to /dev/null"
	echo "(the server's own limit)."
	echo
	cat "$TC_TMP/snapshot.md"
	echo
	echo "Each snapshot connection has a thread that parses, translates and encodes its"
	echo "rows into batches; the main thread produces them and serves the delivery"
	echo "reports. The pipe sends no headers; tablecast sends the CloudEvents attributes as"
	echo "headers on every record, and librdkafka copies each header into an allocation of"
	echo "its own. The third row measures that cost without tablecast: the same pipe, with"
	echo "the headers of a record tablecast published added to every record by kcat. The"
	echo "rate of tablecast against that pipe is under the table. Per thread"
	echo "(docs/PROFILE.md), librdkafka's broker thread and the main thread, which"
	echo "produces, are the two that handle every record, and both spend their time in"
	echo "librdkafka's per-record path."
	echo
	echo "## Verify"
	echo
	echo "\`tablecast verify\`: a temporary slot's snapshot of the table, every record of the"
	echo "topic read into a 16-byte digest per key, every row translated, encoded and"
	echo "compared (src/verify.c; tests/bench/verify.py)."
	echo
	cat "$TC_TMP/verify.md"
	echo
	echo "The producer in this benchmark batches for 100 ms (\`linger.ms\`): the mock cluster"
	echo "answers a fetch with one producer batch per partition, where a real broker sends"
	echo "up to \`max.partition.fetch.bytes\`, so the default 2 ms batches of a snapshot would"
	echo "measure the mock's round trips rather than verify. Peak RSS is mostly librdkafka's"
	echo "prefetch queue; the key map takes about 72 bytes a key."
	echo
	echo "## Scale-out"
	echo
	echo "The drain's $CHANGES changes read by one instance over one slot, then by two"
	echo "instances, each over its own slot and a publication of one shard of the table"
	echo "(\`source.shard\`, row filter \`abs(id % 2) = i\`; docs/SCALING.md); all slots are"
	echo "created before the workload. Wall time runs until every slot confirmed the end"
	echo "of the workload; the instances' counts must add up to every change once."
	echo "tablecast CPU is all instances' user + system time (wait4); walsender CPU is"
	echo "utime + stime from /proc/PID/stat of each slot's active_pid, read before"
	echo "tablecast stops."
	echo
	cat "$TC_TMP/scaleout.md"
	echo
	echo "Each walsender decodes the whole WAL of the database and drops the other"
	echo "shards' rows only at its output, so the walsenders' CPU grows with the number"
	echo "of slots while each tablecast's share shrinks. On $(nproc) cores, two"
	echo "walsenders and two tablecasts compete with each other (and with PostgreSQL's"
	echo "other processes) for the same cores: N = 2 cannot double the rate there. It"
	echo "pays where cores are free and one tablecast or one walsender is the limit."
	# The soak's section comes from make soak, not from here: keep it.
	[ -z "$soak" ] || printf '\n%s\n' "$soak"
} >"$top_srcdir/docs/PERFORMANCE.md"
cat "$top_srcdir/docs/PERFORMANCE.md"
