"""Drain-rate benchmark: pg_recvlogical (pgoutput to /dev/null), a hand-written
Python bridge (wal2json, confluent-kafka) and tablecast (full translation,
Kafka acknowledgements, LSN confirmed) on the same changes. Refuses to
report when a run did not deliver every change.

usage: drain.py TABLECAST_BINARY CHANGES RUNS OUT_MARKDOWN
Runs inside tests/lib/servers.sh's environment (PG*, KAFKA_BOOTSTRAP, TC_TMP).
"""
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import conninfo, kafka, measure, pg_bin, psql, tmp

tablecast, changes, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
psql("CREATE TABLE IF NOT EXISTS bench (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(12,2), "
     "note text, at timestamptz NOT NULL DEFAULT now())")
psql("CREATE PUBLICATION bench FOR TABLE bench")
results = {"pg_recvlogical": [], "python bridge (psycopg2 + wal2json + confluent-kafka)": [],
           "tablecast": []}
config = f"{tmp}/bench.cfg"
with open(config, "w") as f:
    f.write(f'''log_level = "info";
state_dir = "{tmp}/state";
source = {{ conninfo = "{conninfo}"; slot = "bench_tc"; publication = "bench"; status_interval = 1; }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}"]; }};
events = (
  {{ name = "bench.stock.ItemChanged"; version = 1; table = "bench"; on = ["insert", "update"];
     topic = "bench"; key = "new.id"; subject = "'item/' || new.id";
     fields = (
       {{ name = "id";    number = 1; type = "int64";     value = "new.id"; }},
       {{ name = "qty";   number = 2; type = "int32";     value = "new.qty"; }},
       {{ name = "price"; number = 3; type = "decimal";   value = "new.price"; }},
       {{ name = "total"; number = 4; type = "decimal";   value = "new.qty * new.price"; }},
       {{ name = "note";  number = 5; type = "string";    value = "new.note"; }},
       {{ name = "at";    number = 6; type = "timestamp"; value = "new.at"; }}
     ); }}
);
''')

for run in range(runs):
    psql("TRUNCATE bench")
    for slot in ("bench_rl", "bench_tc"):
        psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')")
    psql("SELECT pg_create_logical_replication_slot('bench_py', 'wal2json')")
    half = changes // 2
    # Inserts then updates, mixed sizes (short and ~1 kB notes), in 10k-row transactions.
    for lo in range(0, half, 10000):
        psql(f"INSERT INTO bench (id, qty, price, note) SELECT g, g % 100, (g % 997) / 7.0, "
             f"repeat('x', CASE WHEN g % 10 = 0 THEN 1000 ELSE 20 END) "
             f"FROM generate_series({lo + 1}, {min(lo + 10000, half)}) g")
    for lo in range(0, half, 10000):
        psql(f"UPDATE bench SET qty = qty + 1 WHERE id > {lo} AND id <= {min(lo + 10000, half)}")
    end = psql("SELECT pg_current_wal_lsn()")

    def recvlogical():
        results["pg_recvlogical"].append(measure(
            [f"{pg_bin}/pg_recvlogical", "-d", conninfo, "--slot", "bench_rl", "--start",
             "-o", "proto_version=1", "-o", "publication_names=bench", "--endpos", end,
             "-f", "/dev/null", "--no-loop"]))

    def confirmed():
        return psql(f"SELECT confirmed_flush_lsn >= '{end}' FROM pg_replication_slots "
                    "WHERE slot_name = 'bench_tc'") == "t"

    def tablecast_run():
        results["tablecast"].append(measure([tablecast, "run", "--config", config], until=confirmed))
        counts = re.findall(r"(\d+) row changes, (\d+) events", open(f"{tmp}/bench.err").read())
        if not counts or counts[-1] != (str(changes), str(changes)):
            sys.exit(f"tablecast run {run + 1}: {counts[-1:] or 'no count'} of {changes} changes and events; not reporting")

    def bridge_run():
        with open(f"{tmp}/bridge.out", "w") as out:
            pass
        results["python bridge (psycopg2 + wal2json + confluent-kafka)"].append(measure(
            ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "bridge.py"), conninfo,
             "bench_py", kafka, "bench_py", str(changes)],
            stdout=f"{tmp}/bridge.out"))
        if open(f"{tmp}/bridge.out").read().strip() != f"delivered {changes}":
            sys.exit(f"bridge run {run + 1} did not deliver {changes} changes; not reporting")

    # Rotate who reads the freshly written WAL first, so caches favour none.
    steps = [recvlogical, bridge_run, tablecast_run]
    for step in steps[run % 3:] + steps[:run % 3]:
        step()
    for slot in ("bench_rl", "bench_tc", "bench_py"):
        psql(f"SELECT pg_drop_replication_slot('{slot}')")

base = statistics.median(w for w, _, _ in results["pg_recvlogical"])
lines = ["| tool | wall s (median of %d) | changes/s | CPU µs/change | peak RSS MiB | rate vs pg_recvlogical |" % runs,
         "|---|---:|---:|---:|---:|---:|"]
for tool, rs in results.items():
    wall = statistics.median(w for w, _, _ in rs)
    cpu = statistics.median(c for _, c, _ in rs)
    rss = max(r for _, _, r in rs) / 1024
    lines.append(f"| {tool} | {wall:.2f} | {changes / wall:,.0f} | {cpu * 1e6 / changes:.2f} | "
                 f"{rss:.1f} | {base / wall:.2f}× |")
tc_wall = statistics.median(w for w, _, _ in results["tablecast"])
tc_cpu = statistics.median(c for _, c, _ in results["tablecast"]) * 1e6 / changes
tc_rss = max(r for _, _, r in results["tablecast"]) / 1024
def verdict(ok):
    return "met" if ok else "**missed**"
lines += ["", "| target | measured | |", "|---|---:|---|",
          f"| drain rate ≥ 0.95× pg_recvlogical | {base / tc_wall:.2f}× | {verdict(base / tc_wall >= 0.95)} |",
          f"| ≤ 3 µs process CPU per change | {tc_cpu:.2f} µs | {verdict(tc_cpu <= 3)} |",
          f"| peak RSS ≤ 64 MiB | {tc_rss:.1f} MiB | {verdict(tc_rss <= 64)} |"]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
