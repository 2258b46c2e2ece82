"""Verify benchmark: tablecast verify of a table whose rows a running tablecast
published with its initial snapshot, one key per row.

usage: verify.py TABLECAST_BINARY ROWS RUNS OUT_MARKDOWN
Runs inside tests/lib/servers.sh's environment (PG*, KAFKA_BOOTSTRAP, TC_TMP);
the broker must have the topic verifybench with enough partitions to keep
every record (the mock cluster keeps 5 MB a partition).
Refuses to report when a run did not find every key equal.
"""
import re
import statistics
import subprocess
import sys
import time

from benchlib import conninfo, kafka, measure, psql, tmp

tablecast, rows, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
psql("CREATE TABLE verify_bench (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(12,2), "
     "name text, note text, at timestamptz NOT NULL DEFAULT now())")
psql(f"INSERT INTO verify_bench SELECT g, g % 1000, (g % 10000) / 100.0, 'item ' || g, "
     f"CASE WHEN g % 10 = 0 THEN repeat('x', 200) END, now() FROM generate_series(1, {rows}) g")
psql("VACUUM ANALYZE verify_bench")
psql("CREATE PUBLICATION verifybench FOR TABLE verify_bench")

config = f"{tmp}/verify-bench.cfg"
with open(config, "w") as f:
    f.write(f'''log_level = "info";
state_dir = "{tmp}/verify-state";
source = {{ conninfo = "{conninfo}"; slot = "verify_bench"; publication = "verifybench";
           create_slot = true; snapshot = "initial"; snapshot_workers = 2; status_interval = 1; }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}", "linger.ms=100", "batch.num.messages=10000"]; }};
events = (
  {{ name = "bench.stock.ItemListed"; version = 1; table = "public.verify_bench";
     on = ["snapshot", "insert", "update"]; topic = "verifybench"; key = "new.id";
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

# The daemon publishes the table with its initial snapshot and keeps streaming.
run_log = f"{tmp}/verify-run.log"
daemon = subprocess.Popen([tablecast, "run", "--config", config], stdout=subprocess.DEVNULL,
                          stderr=open(run_log, "w"))
deadline = time.monotonic() + 600
while "streaming slot" not in open(run_log).read():
    if daemon.poll() is not None or time.monotonic() > deadline:
        sys.exit(f"tablecast run did not finish its snapshot, see {run_log}")
    time.sleep(0.2)

results = []
phases = {"wait": [], "kafka": [], "table": []}
log_path = f"{tmp}/verify-bench.log"
report = f"{tmp}/verify-bench.out"
try:
    for run in range(runs):
        open(log_path, "w").close()
        results.append(measure([tablecast, "verify", "--config", config], stdout=report,
                               log=log_path))
        text = open(report).read()
        if f"equal {rows}, missing 0, extra 0, different 0" not in text:
            sys.exit(f"run {run + 1}: not every key equal: {text.strip()}; not reporting")
        log = open(log_path).read()
        phases["wait"].append(float(re.search(r"confirmed \S+ after ([0-9.]+) s", log).group(1)))
        phases["kafka"].append(float(re.search(r"read \d+ records .* in ([0-9.]+) s", log).group(1)))
        phases["table"].append(float(re.search(r"translated \d+ rows .* in ([0-9.]+) s", log).group(1)))
finally:
    daemon.terminate()
    daemon.wait()

wall = statistics.median(w for w, _, _ in results)
cpu = statistics.median(c for _, c, _ in results)
rss = statistics.median(r for _, _, r in results) / 1024
wait, read, table = (statistics.median(phases[k]) for k in ("wait", "kafka", "table"))
lines = [
    f"{rows} keys: the snapshot benchmark's table and event, published by `tablecast run`",
    f"(initial snapshot) to a topic of 64 partitions; `tablecast verify` while it streams, median of {runs}.",
    "",
    "| wall s | keys/s | CPU µs/key | peak RSS MiB | waiting for the slot s | reading Kafka s | reading and translating the table s |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    f"| {wall:.2f} | {rows / wall:,.0f} | {cpu * 1e6 / rows:.2f} | {rss:.1f} | {wait:.2f} | {read:.2f} | {table:.2f} |",
    "",
    f"Target: {rows} keys in under 30 s ({'met' if wall < 30 else 'missed'}). The wall time includes",
    "creating the temporary slot, waiting for the running tablecast to confirm its point",
    "(its status interval and publication guard), reading every record and every row.",
]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
