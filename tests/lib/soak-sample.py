"""Sample a running tablecast for the soak test, then judge the samples.

usage: soak-sample.py sample PID METRICS_URL INTERVAL SECONDS OUT.csv
       soak-sample.py judge OUT.csv WARMUP_SECONDS OUTAGES

sample: every INTERVAL seconds, one CSV row: seconds since the start, RSS
(kB, /proc/PID/status), open file descriptors (/proc/PID/fd), the
commit-to-ack p99 of the events acknowledged since the previous row (from
the tablecast_commit_to_ack_seconds histogram's bucket deltas, the way
Prometheus's histogram_quantile interpolates; empty when none), those
events, whether Kafka was reachable (tablecast_sink_connected), and the
Unix time.

judge: after WARMUP_SECONDS, fit a least-squares line to RSS and to the
descriptor count; a leak is a line that rises over the run by more than
the allowance (RSS: 10% of its mean and 8 MiB; descriptors: 3). OUTAGES
holds one "down up" pair of Unix times a line: samples whose window
touches an outage or the 10 s after it report their p99 apart. Prints a
Markdown summary; exits 1 on a leak.
"""
import csv
import os
import sys
import time
import urllib.request


def metrics(url):
    buckets, values = {}, {}
    for line in urllib.request.urlopen(url, timeout=5).read().decode().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        if name.startswith("tablecast_commit_to_ack_seconds_bucket{le=\""):
            le = name.split('"')[1]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(value)
        else:
            values[name] = float(value)
    return buckets, values


def quantile(q, prev, cur):
    """histogram_quantile over the increase from prev to cur."""
    bounds = sorted(cur)
    inc = [cur[b] - prev.get(b, 0) for b in bounds]
    total = inc[-1] if inc else 0
    if total <= 0:
        return None, 0
    rank = q * total
    lower, below = 0.0, 0.0
    for b, c in zip(bounds, inc):
        if c >= rank:
            if b == float("inf"):
                return lower, total
            return lower + (b - lower) * (rank - below) / max(c - below, 1e-9), total
        lower, below = b, c
    return bounds[-2], total


def sample(pid, url, interval, seconds, out):
    start = time.monotonic()
    prev, _ = metrics(url)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "rss_kb", "fds", "p99_ms", "acked", "kafka", "epoch"])
        n = 1
        while time.monotonic() - start < seconds:
            time.sleep(max(0, start + n * interval - time.monotonic()))
            n += 1
            rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            cur, values = metrics(url)
            p99, acked = quantile(0.99, prev, cur)
            prev = cur
            w.writerow([round(time.monotonic() - start), rss, fds,
                        "" if p99 is None else round(p99 * 1000, 1), int(acked),
                        int(values.get("tablecast_sink_connected", 0)), round(time.time(), 1)])
            f.flush()


def slope(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def judge(path, warmup, outages_path):
    rows = [r for r in csv.DictReader(open(path))]
    outages = [tuple(map(float, l.split())) for l in open(outages_path) if l.strip()]
    for i, r in enumerate(rows):
        end = float(r["epoch"])
        begin = float(rows[i - 1]["epoch"]) if i else end - 10
        r["outage"] = any(begin < up + 10 and end > down for down, up in outages)
    steady = [r for r in rows if int(r["t"]) > warmup]
    if len(steady) < 3:
        print(f"soak: only {len(steady)} samples after the warm-up")
        return 1
    t = [int(r["t"]) for r in steady]
    rss = [int(r["rss_kb"]) for r in steady]
    fds = [int(r["fds"]) for r in steady]
    span = t[-1] - t[0]
    rss_growth = slope(t, rss) * span
    fd_growth = slope(t, fds) * span
    rss_allow = max(0.10 * sum(rss) / len(rss), 8192)
    p99_up = sorted(float(r["p99_ms"]) for r in steady if r["p99_ms"] and not r["outage"])
    acked = sum(int(r["acked"]) for r in rows)
    every = int(rows[1]["t"]) - int(rows[0]["t"]) if len(rows) > 1 else "?"
    print(f"| samples | {len(rows)}, every {every} s; {len(steady)} after a {warmup} s warm-up |")
    print(f"| events acknowledged while sampled | {acked} |")
    print(f"| RSS | {min(rss) / 1024:.1f} to {max(rss) / 1024:.1f} MiB; fitted trend {rss_growth / 1024:+.2f} MiB over {span} s (allowed {rss_allow / 1024:.1f}) |")
    print(f"| file descriptors | {min(fds)} to {max(fds)}; fitted trend {fd_growth:+.2f} over {span} s (allowed 3) |")
    if p99_up:
        print(f"| commit-to-ack p99 per sample, away from outages | {len(p99_up)} samples: median {p99_up[len(p99_up) // 2]:.1f} ms, max {p99_up[-1]:.1f} ms |")
    down = sorted(float(r["p99_ms"]) for r in steady if r["p99_ms"] and r["outage"])
    if down:
        print(f"| commit-to-ack p99 per sample, during an outage or its first 10 s after | {len(down)} samples: median {down[len(down) // 2]:.1f} ms, max {down[-1]:.1f} ms |")
    bad = []
    if rss_growth > rss_allow:
        bad.append(f"RSS grows {rss_growth / 1024:.1f} MiB over the run")
    if fd_growth > 3:
        bad.append(f"descriptors grow {fd_growth:.1f} over the run")
    for b in bad:
        print(f"soak: leak: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(judge(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
