"""Latency benchmark: PostgreSQL commit to Kafka acknowledgement at a steady rate,
read from tablecast's own histogram (tablecast_commit_to_ack_* on /metrics).

usage: latency.py TABLECAST_BINARY RATE SECONDS RUNS OUT_MARKDOWN
pgbench commits RATE single-row transactions per second for SECONDS; each
row is one event. Refuses to report when tablecast did not acknowledge
every committed transaction.
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from benchlib import conninfo, kafka, pg_bin, psql, tmp

tablecast, rate, seconds, runs, out = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                       int(sys.argv[4]), sys.argv[5])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(tablecast_commit_to_ack_\w+?)(?:\{[^}]*\})? (\S+)$", text, re.M)
            if "{" not in m.group(0)}


psql("CREATE TABLE lat_bench (id bigserial PRIMARY KEY, qty int NOT NULL, at timestamptz NOT NULL DEFAULT now())")
psql("CREATE PUBLICATION latbench FOR TABLE lat_bench")
with open(f"{tmp}/latency.sql", "w") as f:
    f.write("INSERT INTO lat_bench (qty) VALUES (1);\n")

samples = []
for run in range(runs):
    port = free_port()
    config = f"{tmp}/latency.cfg"
    with open(config, "w") as f:
        f.write(f'''log_level = "warning";
state_dir = "{tmp}/latency-state";
source = {{ conninfo = "{conninfo}"; slot = "lat_bench"; publication = "latbench"; create_slot = true;
           status_interval = 1; }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}"]; }};
metrics = {{ listen = "127.0.0.1:{port}"; }};
events = (
  {{ name = "bench.stock.ItemCounted"; version = 1; table = "public.lat_bench"; on = ["insert"];
     topic = "latbench"; key = "new.id";
     fields = (
       {{ name = "id";  number = 1; type = "int64";     value = "new.id"; }},
       {{ name = "qty"; number = 2; type = "int32";     value = "new.qty"; }},
       {{ name = "at";  number = 3; type = "timestamp"; value = "new.at"; }}
     ); }}
);
''')
    proc = subprocess.Popen([tablecast, "run", "--config", config], stdout=subprocess.DEVNULL,
                            stderr=open(f"{tmp}/latency.err", "a"))
    deadline = time.monotonic() + 30
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit("tablecast did not become ready for the latency benchmark")
        time.sleep(0.2)
    bench = subprocess.run([f"{pg_bin}/pgbench", "-n", "-c", "4", "-j", "2", "-R", str(rate), "-T",
                            str(seconds), "-f", f"{tmp}/latency.sql"],
                           capture_output=True, text=True, check=True).stdout
    committed = int(re.search(r"number of transactions actually processed: (\d+)", bench).group(1))
    deadline = time.monotonic() + 30
    while metrics(port).get("tablecast_commit_to_ack_seconds_count", 0) < committed:
        if time.monotonic() > deadline:
            sys.exit(f"run {run + 1}: tablecast acknowledged "
                     f"{metrics(port).get('tablecast_commit_to_ack_seconds_count', 0):.0f} of {committed} events; not reporting")
        time.sleep(0.2)
    m = metrics(port)
    proc.terminate()
    proc.wait()
    samples.append((committed / seconds, m["tablecast_commit_to_ack_p50_seconds"] * 1e3,
                    m["tablecast_commit_to_ack_p99_seconds"] * 1e3,
                    m["tablecast_commit_to_ack_max_seconds"] * 1e3, committed))
    psql("SELECT pg_drop_replication_slot('lat_bench')")
    subprocess.run(["rm", "-rf", f"{tmp}/latency-state"], check=True)

med = [statistics.median(s[i] for s in samples) for i in range(4)]
lines = [
    f"pgbench commits {rate} single-row transactions per second for {seconds} s (4 clients); median of {runs} runs.",
    "",
    "| events/s | p50 ms | p99 ms | max ms | events per run |",
    "|---:|---:|---:|---:|---:|",
    f"| {med[0]:,.0f} | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.1f} | {samples[0][4]:,} |",
    "",
    f"Target p99 ≤ 10 ms: {'met' if med[2] <= 10 else '**missed**'}. Quantiles come from tablecast's own histogram "
    "(buckets of 10 µs below 1 ms, 100 µs below 100 ms), the commit time from the transaction's BEGIN "
    "message, the acknowledgement time from librdkafka's delivery report; both clocks are this host's.",
]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
