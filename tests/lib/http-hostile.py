#!/usr/bin/env python3
"""Hostile HTTP clients against tablecast's metrics listener.

    http-hostile.py PORT checks        partial and idle requests are cut off,
                                       1 MB headers get 431, pipelining works
    http-hostile.py PORT hold SECONDS  keep 100 idle and slow-drip clients
                                       connected while probing /healthz

Prints one "ok: ..." line per finding and exits 1 on the first failure.
"""
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
PROBE = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def connect():
    return socket.create_connection((HOST, PORT), timeout=5)


def closed_within(sock, seconds):
    """Seconds until the server closes sock (reading and discarding), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
    return None


def probe(timeout=1.0):
    """Latency of one /healthz on a fresh connection; raises on failure or timeout."""
    start = time.monotonic()
    with socket.create_connection((HOST, PORT), timeout=timeout) as s:
        s.sendall(PROBE)
        data = b""
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TimeoutError("no answer within %.1f s" % timeout)
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    if not data.startswith(b"HTTP/1.1 200") or not data.endswith(b"ok\n"):
        raise RuntimeError("bad answer %r" % data[:80])
    return time.monotonic() - start


def checks():
    # A request whose headers never end, and a client that says nothing.
    partial = connect()
    partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    idle = connect()
    t = closed_within(partial, 15)
    if t is None:
        fail("a partial request stayed open 15 s")
    print("ok: partial request closed after %.1f s" % t)
    t2 = closed_within(idle, 15)
    if t2 is None:
        fail("an idle connection stayed open 15 s")
    print("ok: idle connection closed after %.1f s" % (t + t2))

    # A body that comes a byte at a time is cut off too.
    body = connect()
    body.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    start = time.monotonic()
    body.settimeout(1)
    closed = None
    while time.monotonic() - start < 15:
        try:
            body.send(b"x")
            if body.recv(4096) == b"":
                closed = time.monotonic() - start
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            closed = time.monotonic() - start
            break
    if closed is None:
        fail("a slow body kept its connection 15 s")
    print("ok: slow body closed after %.1f s" % closed)

    # A 1 MB header: 431, then the connection closes.
    s = connect()
    answer = b""
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    if not answer.startswith(b"HTTP/1.1 431"):
        fail("1 MB header answered %r" % answer[:60])
    print("ok: 1 MB header answered 431")

    # 1000 pipelined requests, sent at once: 1000 answers.
    s = connect()
    n = 1000
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * n)
    got, data, deadline = 0, b"", time.monotonic() + 20
    s.settimeout(1)
    while got < n and time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
        got = data.count(b"HTTP/1.1 200")
    if got < n:
        fail("%d of %d pipelined requests answered" % (got, n))
    print("ok: %d pipelined requests answered" % n)
    print("ok: probe %.3f s" % probe())


def hold(seconds, nclients=100):
    """Keep nclients hostile connections open (reconnecting those cut off) and probe."""
    sel = selectors.DefaultSelector()
    clients = {}  # socket -> kind
    opened = cut = 0

    def open_one(kind):
        nonlocal opened
        s = socket.create_connection((HOST, PORT), timeout=5)
        s.setblocking(False)
        if kind == "drip":
            s.send(b"G")
        clients[s] = kind
        sel.register(s, selectors.EVENT_READ)
        opened += 1

    for i in range(nclients):
        open_one("idle" if i % 2 else "drip")
    latencies, start = [], time.monotonic()
    next_drip = next_probe = start
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_drip:  # one byte a second: never idle, never done
            for s, kind in list(clients.items()):
                if kind == "drip":
                    try:
                        s.send(b"E")
                    except OSError:
                        pass
            next_drip = now + 1
        if now >= next_probe:
            try:
                latencies.append(probe(1.0))
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                fail("/healthz with %d hostile clients after %.1f s: %s"
                     % (len(clients), now - start, e))
            next_probe = now + 0.25
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # cut off by the server: come back at once
                kind = clients.pop(s)
                sel.unregister(s)
                s.close()
                cut += 1
                open_one(kind)
    for s in clients:
        s.close()
    # Once they leave, the listener answers at once (it once stayed unavailable 30 s).
    try:
        after = probe(1.0)
    except Exception as e:  # noqa: BLE001
        fail("/healthz right after the hostile clients left: %s" % e)
    print("ok: probe right after the hostile clients left: %.3f s" % after)
    latencies.sort()
    print("ok: %d probes with %d hostile clients held for %d s: max %.3f s, median %.3f s; "
          "%d hostile connections opened, %d cut off by the server"
          % (len(latencies), nclients, seconds, latencies[-1], latencies[len(latencies) // 2],
             opened, cut), flush=True)
    if latencies[-1] >= 1.0:
        fail("a probe took %.3f s" % latencies[-1])


if sys.argv[2] == "checks":
    checks()
else:
    hold(int(sys.argv[3]))
