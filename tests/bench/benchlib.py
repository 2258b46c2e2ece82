"""What the benchmark scripts share: the test servers' environment, psql, a
cheap poll of the server, and measuring a process (wall time, CPU time and
peak RSS from wait4)."""
import os
import subprocess
import sys
import time

import psycopg2

tmp = os.environ["TC_TMP"]
conninfo = os.environ["TC_CONNINFO"]
kafka = os.environ["KAFKA_BOOTSTRAP"]
pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def psql(sql):
    return subprocess.run(["psql", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


_poll_conn = None


def poll_rows(sql):
    """The rows of sql, over one connection kept open.
    For the loops that wait on the server while a measured process runs: a
    psql per check costs ~65 ms of CPU here (process start, connection, a new
    backend), which on two cores slowed the walsender that tablecast reads."""
    global _poll_conn
    if _poll_conn is None:
        _poll_conn = psycopg2.connect(conninfo)
        _poll_conn.autocommit = True
    with _poll_conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def slot_confirmed(slot, lsn):
    """Whether slot's confirmed_flush_lsn reached lsn."""
    return poll_rows(f"SELECT confirmed_flush_lsn >= '{lsn}' FROM pg_replication_slots "
                      f"WHERE slot_name = '{slot}'") == [(True,)]


class Measured(tuple):
    """(wall seconds, CPU seconds, peak RSS in KiB); .system: the CPU seconds
    spent in the kernel on the process's behalf."""


def peak_rss(pid):
    """The process's own peak RSS in KiB so far (VmHWM), 0 once it is gone.
    Not wait4's ru_maxrss: that counts the memory of the forking parent,
    this script, which is larger than some of the processes it measures."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(argv, until=None, stdout=None, log=None):
    """Run argv until it exits (which must be with status 0) or until() is true
    (then SIGTERM); return its Measured.
    stdout: a file to write its output to; log: a file its stderr goes to."""
    log = log or f"{tmp}/bench.err"
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=open(stdout, "w") if stdout else subprocess.DEVNULL,
                            stderr=open(log, "a"))
    peak = 0
    if until:
        while not until():
            peak = max(peak, peak_rss(proc.pid))
            time.sleep(0.02)
            if proc.poll() is not None:
                sys.exit(f"{argv[0]} exited early, see {log}")
        wall = time.monotonic() - start
        peak = max(peak, peak_rss(proc.pid))
        proc.terminate()
        _, status, usage = os.wait4(proc.pid, 0)
    else:
        # Polled rather than waited for, to read the peak while the process lives.
        while True:
            peak = max(peak, peak_rss(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.005)
        wall = time.monotonic() - start
        if status != 0:
            sys.exit(f"{argv[0]} failed (status {status}), see {log}")
    m = Measured((wall, usage.ru_utime + usage.ru_stime, peak))
    m.system = usage.ru_stime
    return m
