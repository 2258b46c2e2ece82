"""What the benchmark scripts share: the test servers' environment, psql, and
measuring a process (wall time, CPU time and peak RSS from wait4)."""
import os
import subprocess
import sys
import time

tmp = os.environ["TC_TMP"]
conninfo = os.environ["TC_CONNINFO"]
kafka = os.environ["KAFKA_BOOTSTRAP"]
pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def psql(sql):
    return subprocess.run(["psql", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def measure(argv, until=None, stdout=None, log=None):
    """Run argv until it exits (which must be with status 0) or until() is true
    (then SIGTERM); return wall seconds, CPU seconds and peak RSS in KiB.
    stdout: a file to write its output to; log: a file its stderr goes to."""
    log = log or f"{tmp}/bench.err"
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=open(stdout, "w") if stdout else subprocess.DEVNULL,
                            stderr=open(log, "a"))
    if until:
        while not until():
            time.sleep(0.05)
            if proc.poll() is not None:
                sys.exit(f"{argv[0]} exited early, see {log}")
        wall = time.monotonic() - start
        proc.terminate()
    _, status, usage = os.wait4(proc.pid, 0)
    if not until:
        wall = time.monotonic() - start
        if status != 0:
            sys.exit(f"{argv[0]} failed (status {status}), see {log}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss
