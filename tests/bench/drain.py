"""Drain-rate benchmark: pg_recvlogical (pgoutput to /dev/null), a hand-written
Python bridge (wal2json, confluent-kafka) and tablecast (full translation,
Kafka acknowledgements, LSN confirmed) on the same changes. Refuses to
report when a run did not deliver every change.

Two workloads, each a table of results and targets: mixed's in OUT_MARKDOWN,
the other's beside it (drain.md, drain-full.md):
  mixed   inserts then updates (one row in ten carries 1 kB), one event;
          all three readers.
  full    inserts then updates under REPLICA IDENTITY FULL (every update
          carries its old row), two events: one per change and one whose
          `when` and fields read old and new; pg_recvlogical and tablecast.

usage: drain.py TABLECAST_BINARY CHANGES RUNS OUT_MARKDOWN [WORKLOAD...]
Runs inside tests/lib/servers.sh's environment (PG*, KAFKA_BOOTSTRAP, TC_TMP).
"""
import os
import re
import statistics
import sys

from benchlib import conninfo, kafka, measure, pg_bin, psql, slot_confirmed, tmp

tablecast, changes, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
workloads = sys.argv[5:] or ["mixed", "full"]

# The events every workload's table feeds: a 6-field protobuf event per change.
ITEM_CHANGED = '''
  {{ name = "bench.stock.ItemChanged"; version = 1; table = "{table}"; on = ["insert", "update"];
     topic = "bench"; key = "new.id"; subject = "'item/' || new.id";
     fields = (
       {{ name = "id";    number = 1; type = "int64";     value = "new.id"; }},
       {{ name = "qty";   number = 2; type = "int32";     value = "new.qty"; }},
       {{ name = "price"; number = 3; type = "decimal";   value = "new.price"; }},
       {{ name = "total"; number = 4; type = "decimal";   value = "new.qty * new.price"; }},
       {{ name = "note";  number = 5; type = "string";    value = "new.note"; }},
       {{ name = "at";    number = 6; type = "timestamp"; value = "new.at"; }}
     ); }}'''
# Only the full workload: an update event over the old and the new row.
QTY_CHANGED = '''
  { name = "bench.stock.QtyChanged"; version = 1; table = "bench_full"; on = ["update"];
     when = "old.qty <> new.qty AND new.status = 'open'";
     topic = "bench"; key = "new.id";
     fields = (
       { name = "id";     number = 1; type = "int64";   value = "new.id"; },
       { name = "before"; number = 2; type = "int32";   value = "old.qty"; },
       { name = "after";  number = 3; type = "int32";   value = "new.qty"; },
       { name = "delta";  number = 4; type = "decimal"; value = "(new.qty - old.qty) * new.price"; }
     ); }'''


def mixed_workload():
    """Inserts then updates, mixed sizes (short and ~1 kB notes), in 10k-row transactions."""
    half = changes // 2
    for lo in range(0, half, 10000):
        psql(f"INSERT INTO bench (id, qty, price, note) SELECT g, g % 100, (g % 997) / 7.0, "
             f"repeat('x', CASE WHEN g % 10 = 0 THEN 1000 ELSE 20 END) "
             f"FROM generate_series({lo + 1}, {min(lo + 10000, half)}) g")
    for lo in range(0, half, 10000):
        psql(f"UPDATE bench SET qty = qty + 1 WHERE id > {lo} AND id <= {min(lo + 10000, half)}")
    return changes


def full_workload():
    """Inserts, then as many updates, each with its old row: odd ids change
    qty, a third of the rows are 'closed', so the second event fires for a
    third of the updates."""
    half = changes // 2
    for lo in range(0, half, 10000):
        psql(f"INSERT INTO bench_full (id, qty, price, status, note) SELECT g, g % 100, "
             f"(g % 997) / 7.0, CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END, "
             f"repeat('x', CASE WHEN g % 10 = 0 THEN 200 ELSE 20 END) "
             f"FROM generate_series({lo + 1}, {min(lo + 10000, half)}) g")
    for lo in range(0, half, 10000):
        psql(f"UPDATE bench_full SET qty = qty + (id % 2)::int "
             f"WHERE id > {lo} AND id <= {min(lo + 10000, half)}")
    # Events: one per change, plus one per update of an odd id whose row is open.
    return changes + sum(1 for g in range(1, half + 1) if g % 2 == 1 and g % 3 != 0)


WORKLOADS = {
    "mixed": {
        "table": "bench",
        "create": "CREATE TABLE IF NOT EXISTS bench (id bigint PRIMARY KEY, qty int NOT NULL, "
                  "price numeric(12,2), note text, at timestamptz NOT NULL DEFAULT now())",
        "events": ITEM_CHANGED.format(table="bench"),
        "fill": mixed_workload,
        "bridge": True,
    },
    "full": {
        "table": "bench_full",
        "create": "CREATE TABLE IF NOT EXISTS bench_full (id bigint PRIMARY KEY, qty int NOT NULL, "
                  "price numeric(12,2), status text NOT NULL, note text, "
                  "at timestamptz NOT NULL DEFAULT now()); "
                  "ALTER TABLE bench_full REPLICA IDENTITY FULL",
        "events": ITEM_CHANGED.format(table="bench_full") + "," + QTY_CHANGED,
        "fill": full_workload,
        "bridge": False,
    },
}
BRIDGE = "python bridge (psycopg2 + wal2json + confluent-kafka)"


def run_workload(name):
    w = WORKLOADS[name]
    table = w["table"]
    psql(w["create"])
    psql(f"CREATE PUBLICATION {table} FOR TABLE {table}")
    results = {"pg_recvlogical": []}
    if w["bridge"]:
        results[BRIDGE] = []
    results["tablecast"] = []
    config = f"{tmp}/bench-{name}.cfg"
    with open(config, "w") as f:
        f.write(f'''log_level = "info";
state_dir = "{tmp}/state-{name}";
source = {{ conninfo = "{conninfo}"; slot = "bench_tc"; publication = "{table}"; status_interval = 1; }};
sink = {{ type = "kafka"; kafka = ["bootstrap.servers={kafka}"]; }};
events = ({w["events"]}
);
''')

    for run in range(runs):
        psql(f"TRUNCATE {table}")
        for slot in ("bench_rl", "bench_tc"):
            psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')")
        if w["bridge"]:
            psql("SELECT pg_create_logical_replication_slot('bench_py', 'wal2json')")
        events = w["fill"]()
        end = psql("SELECT pg_current_wal_lsn()")

        def recvlogical():
            results["pg_recvlogical"].append(measure(
                [f"{pg_bin}/pg_recvlogical", "-d", conninfo, "--slot", "bench_rl", "--start",
                 "-o", "proto_version=1", "-o", f"publication_names={table}", "--endpos", end,
                 "-f", "/dev/null", "--no-loop"]))

        def confirmed():
            return slot_confirmed("bench_tc", end)

        def tablecast_run():
            open(f"{tmp}/bench.err", "w").close()
            results["tablecast"].append(measure([tablecast, "run", "--config", config], until=confirmed))
            counts = re.findall(r"(\d+) row changes, (\d+) events", open(f"{tmp}/bench.err").read())
            if not counts or counts[-1] != (str(changes), str(events)):
                sys.exit(f"{name} tablecast run {run + 1}: {counts[-1:] or 'no count'} of {changes} "
                         f"changes and {events} events; not reporting")

        def bridge_run():
            with open(f"{tmp}/bridge.out", "w") as out:
                pass
            results[BRIDGE].append(measure(
                ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "bridge.py"), conninfo,
                 "bench_py", kafka, "bench_py", str(changes)],
                stdout=f"{tmp}/bridge.out"))
            if open(f"{tmp}/bridge.out").read().strip() != f"delivered {changes}":
                sys.exit(f"bridge run {run + 1} did not deliver {changes} changes; not reporting")

        # Rotate who reads the freshly written WAL first, so caches favour none.
        steps = [recvlogical] + ([bridge_run] if w["bridge"] else []) + [tablecast_run]
        k = run % len(steps)
        for step in steps[k:] + steps[:k]:
            step()
        for slot in ("bench_rl", "bench_tc") + (("bench_py",) if w["bridge"] else ()):
            psql(f"SELECT pg_drop_replication_slot('{slot}')")
    psql(f"DROP PUBLICATION {table}")

    base = statistics.median(wall for wall, _, _ in results["pg_recvlogical"])
    lines = [f"| tool | wall s (median of {runs}) | changes/s | CPU µs/change | of it kernel | peak RSS MiB | rate vs pg_recvlogical |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for tool, rs in results.items():
        wall = statistics.median(wall for wall, _, _ in rs)
        cpu = statistics.median(c for _, c, _ in rs)
        kernel = statistics.median(m.system for m in rs)
        rss = max(r for _, _, r in rs) / 1024
        lines.append(f"| {tool} | {wall:.2f} | {changes / wall:,.0f} | {cpu * 1e6 / changes:.2f} | "
                     f"{kernel * 1e6 / changes:.2f} | {rss:.1f} | {base / wall:.2f}× |")
    tc_wall = statistics.median(wall for wall, _, _ in results["tablecast"])
    tc_cpu = statistics.median(c for _, c, _ in results["tablecast"]) * 1e6 / changes
    tc_rss = max(r for _, _, r in results["tablecast"]) / 1024

    def verdict(ok):
        return "met" if ok else "**missed**"
    lines += ["", "| target | measured | |", "|---|---:|---|",
              f"| drain rate ≥ 1.0× pg_recvlogical | {base / tc_wall:.2f}× | {verdict(base / tc_wall >= 1.0)} |",
              f"| ≤ 2.5 µs process CPU per change | {tc_cpu:.2f} µs | {verdict(tc_cpu <= 2.5)} |",
              f"| peak RSS ≤ 64 MiB | {tc_rss:.1f} MiB | {verdict(tc_rss <= 64)} |"]
    return lines


for name in workloads:
    lines = run_workload(name)
    print(f"{name}:\n" + "\n".join(lines))
    path = out if name == "mixed" else re.sub(r"(\.md)?$", f"-{name}.md", out, count=1)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
