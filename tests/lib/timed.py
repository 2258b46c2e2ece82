#!/usr/bin/env python3
"""timed.py OUT COMMAND...: run COMMAND with stdout and stderr into OUT; print
"EXIT WALL CPU" (seconds; CPU = user + system of the command)."""
import resource
import subprocess
import sys
import time

with open(sys.argv[1], "wb") as out:
    start = time.monotonic()
    rc = subprocess.call(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%d %.3f %.3f" % (rc, wall, usage.ru_utime + usage.ru_stime))
