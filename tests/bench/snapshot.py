"""Snapshot benchmark: tablecast snapshot (COPY, translation, Kafka acknowledgements)
against the raw pipe psql COPY ... TO STDOUT | kcat -P into the same broker (the
practical limit: every row read and published, nothing translated), and against
psql's COPY ... TO STDOUT > /dev/null (the server's own limit), on the same table.

usage: snapshot.py TABLECAST_BINARY ROWS RUNS OUT_MARKDOWN
Runs inside tests/lib/servers.sh's environment (PG*, KAFKA_BOOTSTRAP, TC_TMP).
Refuses to report when a run published fewer rows than the table holds.
"""
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import conninfo, kafka, measure, psql, tmp

tablecast, rows, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
psql("CREATE TABLE snap_bench (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(12,2), "
     "name text, note text, at timestamptz NOT NULL DEFAULT now())")
psql(f"INSERT INTO snap_bench SELECT g, g % 1000, (g % 10000) / 100.0, 'item ' || g, "
     f"CASE WHEN g % 10 = 0 THEN repeat('x', 200) END, now() FROM generate_series(1, {rows}) g")
psql("VACUUM ANALYZE snap_bench")
psql("CREATE PUBLICATION snapbench FOR TABLE snap_bench")
size = psql("SELECT pg_size_pretty(pg_relation_size('snap_bench'))")

config = f"{tmp}/snapshot-bench.cfg"
with open(config, "w") as f:
    f.write(f'''log_level = "info";
state_dir = "{tmp}/snapshot-state";
source = {{ conninfo = "{conninfo}"; slot = "snap_bench"; publication = "snapbench";
           create_slot = true; snapshot_workers = 2; }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}"]; }};
events = (
  {{ name = "bench.stock.ItemListed"; version = 1; table = "public.snap_bench"; on = ["snapshot"];
     topic = "snapbench"; key = "new.id";
     fields = (
       {{ name = "id";    number = 1; type = "int64";     value = "new.id"; }},
       {{ name = "qty";   number = 2; type = "int32";     value = "new.qty"; }},
       {{ name = "price"; number = 3; type = "decimal";   value = "new.price"; }},
       {{ name = "name";  number = 4; type = "string";    value = "new.name"; }},
       {{ name = "note";  number = 5; type = "string";    value = "new.note"; }},
       {{ name = "at";    number = 6; type = "timestamp"; value = "new.at"; }}
     ); }}
);
''')

results = {"copy": [], "pipe": [], "pipe_headers": [], "tablecast": []}
log_path = f"{tmp}/snapshot-bench.log"
# kcat -P sends each line as a message and waits for every delivery report before it exits.
pipe = (f"set -o pipefail; psql -Atq -c 'COPY snap_bench TO STDOUT' | "
        f"kcat -P -b '{kafka}' -t snapbench_pipe")
for run in range(runs):
    results["copy"].append(measure(["psql", "-Atq", "-c", "COPY snap_bench TO STDOUT"],
                                   stdout="/dev/null", log=log_path))
    results["pipe"].append(measure(["bash", "-c", pipe], log=log_path))
    results["tablecast"].append(measure([tablecast, "snapshot", "--config", config], log=log_path))
    published = [int(m) for m in re.findall(r"snapshot \S+: (\d+) rows from", open(log_path).read())]
    if not published or published[-1] != rows:
        sys.exit(f"run {run + 1}: tablecast published {published[-1:] or 0} of {rows} rows; not reporting")
    # The same pipe with the CloudEvents headers of tablecast's first record on every record:
    # what librdkafka itself costs for headers, with nothing translated.
    first = subprocess.run(["kcat", "-C", "-b", kafka, "-t", "snapbench", "-p", "0", "-o", "beginning",
                            "-c", "1", "-e", "-q", "-f", "%h"], check=True, capture_output=True,
                           text=True, timeout=30).stdout.strip()
    headers = [h for h in first.split(",") if "=" in h]
    if not any(h.startswith("ce_id=") for h in headers):
        sys.exit(f"run {run + 1}: expected CloudEvents headers on the first record, got {first!r}")
    results["pipe_headers"].append(measure(
        ["bash", "-c", pipe + "".join(f" -H '{h}'" for h in headers)], log=log_path))
    psql("SELECT pg_drop_replication_slot('snap_bench')")
    subprocess.run(["rm", "-rf", f"{tmp}/snapshot-state"], check=True)

copy_wall = statistics.median(w for w, _, _ in results["copy"])
pipe_wall = statistics.median(w for w, _, _ in results["pipe"])
pipe_cpu = statistics.median(c for _, c, _ in results["pipe"])
ph_wall = statistics.median(w for w, _, _ in results["pipe_headers"])
ph_cpu = statistics.median(c for _, c, _ in results["pipe_headers"])
tc_wall = statistics.median(w for w, _, _ in results["tablecast"])
tc_cpu = statistics.median(c for _, c, _ in results["tablecast"])
tc_rss = statistics.median(r for _, _, r in results["tablecast"]) / 1024
ratio = pipe_wall / tc_wall
lines = [
    f"{rows} rows ({size}, six columns, every tenth row with a 200-byte note), median of {runs}.",
    "",
    f"| reader | wall s | rows/s | CPU µs/row | peak RSS MiB | rate vs pipe |",
    "|---|---:|---:|---:|---:|---:|",
    f"| psql COPY snap_bench TO STDOUT > /dev/null | {copy_wall:.2f} | {rows / copy_wall:,.0f} | | | "
    f"{pipe_wall / copy_wall:.2f}x |",
    f"| raw pipe: psql COPY snap_bench TO STDOUT into kcat -P | {pipe_wall:.2f} | "
    f"{rows / pipe_wall:,.0f} | {pipe_cpu * 1e6 / rows:.2f} | | 1.00x |",
    f"| the raw pipe with tablecast's {len(headers)} CloudEvents headers on every record (kcat -H) | "
    f"{ph_wall:.2f} | {rows / ph_wall:,.0f} | {ph_cpu * 1e6 / rows:.2f} | | {pipe_wall / ph_wall:.2f}x |",
    f"| tablecast snapshot (2 connections, translation, Kafka acks) | {tc_wall:.2f} | {rows / tc_wall:,.0f} | "
    f"{tc_cpu * 1e6 / rows:.2f} | {tc_rss:.1f} | {ratio:.2f}x |",
    "",
    f"Targets: at least 0.5x the raw pipe ({'met' if ratio >= 0.5 else 'missed'}), peak RSS at most "
    f"64 MiB ({'met' if tc_rss <= 64 else 'missed'}) and 200k rows/s "
    f"({'met' if rows / tc_wall >= 200000 else 'missed'}). tablecast's time includes creating the slot "
    "(with its exported snapshot) and waiting for Kafka to acknowledge the last event; the pipe's "
    "CPU is psql's and kcat's together. "
    f"tablecast against the pipe with headers: {ph_wall / tc_wall:.2f}x.",
]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
