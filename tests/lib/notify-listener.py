"""Stand in for systemd's notification socket: append every sd_notify datagram to a file.

usage: notify-listener.py SOCKET_PATH OUTFILE [stamp]   (runs until SIGTERM)
Each datagram becomes one line, its newlines replaced by spaces; with
"stamp", after the monotonic time of its arrival in seconds.
"""
import os
import signal
import socket
import sys
import time

path, outfile = sys.argv[1], sys.argv[2]
stamp = sys.argv[3:] == ["stamp"]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
with open(outfile, "a", buffering=1) as out:
    while True:
        data = sock.recv(4096)
        line = data.decode().replace("\n", " ")
        out.write(("%.3f %s" % (time.monotonic(), line) if stamp else line) + "\n")
