"""Scale-out benchmark: the same changes drained by one tablecast instance over
one slot, and by N instances each over its own slot and a row-filtered
publication of one shard (source.shard). Reports the aggregate rate (all
changes over the wall time until every slot confirmed the end of the
workload), tablecast's CPU (wait4) and the walsenders' CPU (utime + stime
from /proc/<pid>/stat of each slot's active_pid, read before tablecast
stops). Refuses to report when the instances together did not publish every
change exactly once.

usage: scaleout.py TABLECAST_BINARY CHANGES RUNS OUT_MARKDOWN [N...]
Runs inside tests/lib/servers.sh's environment (PG*, KAFKA_BOOTSTRAP, TC_TMP).
"""
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import conninfo, kafka, poll_rows, psql, tmp

tablecast, changes, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
counts = [int(n) for n in sys.argv[5:]] or [1, 2]
ticks = os.sysconf("SC_CLK_TCK")

psql("CREATE TABLE IF NOT EXISTS scale (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(12,2), "
     "note text, at timestamptz NOT NULL DEFAULT now())")


def slots(n):
    """The slots and publications of n instances: one unfiltered, or n shards."""
    return [f"scale_{n}_{i}" for i in range(n)]


def config(n, i):
    path = f"{tmp}/scale_{n}_{i}.cfg"
    shard = (f'shard = {{ table = "public.scale"; key = "id"; count = {n}; index = {i}; }};'
             if n > 1 else "")
    with open(path, "w") as f:
        f.write(f'''log_level = "info";
state_dir = "{tmp}/state_scale_{n}_{i}";
source = {{ conninfo = "{conninfo}"; slot = "scale_{n}_{i}"; publication = "scale_{n}_{i}";
           status_interval = 1; {shard} }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}"]; }};
events = (
  {{ name = "bench.stock.ItemChanged"; version = 1; table = "scale"; on = ["insert", "update"];
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
    return path


for n in counts:
    for i, name in enumerate(slots(n)):
        # The filter tablecast generates (shard.h), so check at start finds it its own.
        where = f' WHERE (abs("id" % {n}) = {i})' if n > 1 else ""
        psql(f"DROP PUBLICATION IF EXISTS {name}")
        psql(f"CREATE PUBLICATION {name} FOR TABLE scale{where} WITH (publish_via_partition_root = true)")


def proc_cpu(pid):
    """utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return None


def drain(n, end):
    """Run n instances until every slot confirmed end: wall, tablecast CPU, walsender CPU."""
    names = slots(n)
    logs = [f"{tmp}/scale_{n}_{i}.log" for i in range(n)]
    for log in logs:
        open(log, "w").close()
    start = time.monotonic()
    procs = [subprocess.Popen([tablecast, "run", "--config", config(n, i)], stdout=subprocess.DEVNULL,
                              stderr=open(logs[i], "a")) for i in range(n)]
    walsenders = {}
    in_list = ", ".join(f"'{s}'" for s in names)
    while True:
        rows = poll_rows(f"SELECT slot_name, coalesce(active_pid, 0), confirmed_flush_lsn >= '{end}' "
                         f"FROM pg_replication_slots WHERE slot_name IN ({in_list})")
        done = 0
        for slot, pid, ok in rows:
            if pid:
                walsenders[slot] = pid
            done += ok is True
        if done == n:
            break
        for p, log in zip(procs, logs):
            if p.poll() is not None:
                sys.exit(f"tablecast exited early, see {log}")
        time.sleep(0.02)
    wall = time.monotonic() - start
    # A walsender exits with its connection: its CPU is read while tablecast still holds it.
    wal_cpu = [proc_cpu(pid) for pid in walsenders.values()]
    if len(wal_cpu) != n or None in wal_cpu:
        sys.exit(f"could not read the CPU of {n} walsenders ({walsenders}); not reporting")
    tc_cpu = 0.0
    for p in procs:
        p.terminate()
        _, status, usage = os.wait4(p.pid, 0)
        tc_cpu += usage.ru_utime + usage.ru_stime
    published = 0
    for i, log in enumerate(logs):
        found = re.findall(r"(\d+) row changes, (\d+) events", open(log).read())
        if not found or found[-1][0] != found[-1][1]:
            sys.exit(f"instance {i} of {n}: {found[-1:] or 'no count'}; not reporting")
        published += int(found[-1][1])
    if published != changes:
        sys.exit(f"{n} instances published {published} of {changes} changes; not reporting")
    return wall, tc_cpu, sum(wal_cpu)


results = {n: [] for n in counts}
for run in range(runs):
    psql("TRUNCATE scale")
    for n in counts:
        for name in slots(n):
            psql(f"SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')")
    half = changes // 2
    # Inserts then updates, mixed sizes (short and ~1 kB notes), in 10k-row transactions.
    for lo in range(0, half, 10000):
        psql(f"INSERT INTO scale (id, qty, price, note) SELECT g, g % 100, (g % 997) / 7.0, "
             f"repeat('x', CASE WHEN g % 10 = 0 THEN 1000 ELSE 20 END) "
             f"FROM generate_series({lo + 1}, {min(lo + 10000, half)}) g")
    for lo in range(0, half, 10000):
        psql(f"UPDATE scale SET qty = qty + 1 WHERE id > {lo} AND id <= {min(lo + 10000, half)}")
    end = psql("SELECT pg_current_wal_lsn()")
    # Rotate who reads the freshly written WAL first, so caches favour none.
    order = counts[run % len(counts):] + counts[:run % len(counts)]
    for n in order:
        results[n].append(drain(n, end))
    for n in counts:
        for name in slots(n):
            psql(f"SELECT pg_drop_replication_slot('{name}')")

base = statistics.median(w for w, _, _ in results[counts[0]])
lines = ["| instances (slots) | wall s (median of %d) | aggregate changes/s | tablecast CPU µs/change "
         "(all instances) | walsender CPU µs/change (all slots) | rate vs %d |" % (runs, counts[0]),
         "|---:|---:|---:|---:|---:|---:|"]
for n, rs in results.items():
    wall = statistics.median(w for w, _, _ in rs)
    tc = statistics.median(c for _, c, _ in rs)
    ws = statistics.median(c for _, _, c in rs)
    lines.append(f"| {n} | {wall:.2f} | {changes / wall:,.0f} | {tc * 1e6 / changes:.2f} | "
                 f"{ws * 1e6 / changes:.2f} | {base / wall:.2f}× |")
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
