#!/usr/bin/env python3
"""The soak's own clients (scripts/soak.sh runs this): ledger clients whose every INCR is
counted, and hostile clients, all at once against one carriaged, for SECONDS.

  soak-clients.py PORT MEMCACHED_PORT SECONDS MAX_CONNECTIONS REQUEST_TIMEOUT

Ledgers: two request/response clients and one pipelining client (16 in flight) on the line
protocol, one memcached client; each owns its key, so every reply must be exactly its own
count, and at the end a fresh connection reads every key back. Hostile clients, one act at
a time on each of 6 threads: reset mid-line, reset mid-data-block, half-close, never read,
trickle bytes (must be closed by --request-timeout), connect beyond --max-connections (must
read BUSY), garbage. Prints one JSON line of counts; exit status 1 if any check failed.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

port, mc_port, seconds, max_connections, request_timeout = (int(a) for a in sys.argv[1:6])
deadline = time.monotonic() + seconds
lock = threading.Lock()
counts = {}
failures = []


def count(name, n=1):
    with lock:
        counts[name] = counts.get(name, 0) + n


def fail(message):
    with lock:
        if len(failures) < 20:
            failures.append(message)


def connect(p, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", p), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Lines:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode()


# --- Ledgers ---

ledgers = {}


def ledger_line(key, pipeline):
    s = connect(port)
    r = Lines(s)
    n = 0
    while time.monotonic() < deadline:
        s.sendall(("INCR %s\n" % key).encode() * pipeline)
        for _ in range(pipeline):
            n += 1
            reply = r.line()
            if reply != "OK %d" % n:
                fail("ledger %s: reply %r to INCR number %d" % (key, reply, n))
                return
    with lock:
        ledgers[key] = n
    s.close()


def ledger_memcached(key):
    s = connect(mc_port)
    r = Lines(s)
    s.sendall(("set %s 0 0 1\r\n0\r\n" % key).encode())
    if r.line() != "STORED":
        fail("ledger %s: set failed" % key)
        return
    n = 0
    while time.monotonic() < deadline:
        s.sendall(("incr %s 1\r\n" % key).encode())
        n += 1
        reply = r.line()
        if reply != str(n):
            fail("ledger %s: reply %r to incr number %d" % (key, reply, n))
            return
    with lock:
        ledgers[key] = n
    s.close()


# --- Hostile acts: each returns quietly or records a failure ---

def reset_mid_line():
    s = connect(port)
    s.sendall(b"SET soak:partial " + b"x" * random.randint(1, 5000))
    reset(s)


def reset_mid_block():
    s = connect(mc_port)
    s.sendall(b"set soak:block 0 0 1000\r\n" + b"y" * random.randint(0, 999))
    reset(s)


def half_close():
    s = connect(port)
    s.sendall(b"PING\nECHO soak\n")
    s.shutdown(socket.SHUT_WR)
    r = Lines(s)
    first = r.line()
    if first == "BUSY too many connections":
        count("busy")
    elif first != "OK PONG" or r.line() != "OK soak" or r.line() is not None:
        fail("half-close: unexpected replies starting %r" % first)
    s.close()


def never_read():
    s = connect(port)
    s.setblocking(False)
    request = b"GET soak:big\n" * 1000
    end = time.monotonic() + random.uniform(0.5, 3)
    while time.monotonic() < end:
        try:
            s.send(request)
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break  # closed by the server for holding too much: allowed
    reset(s)


def trickle():
    s = connect(port, timeout=request_timeout + 10)
    start = time.monotonic()
    try:
        while time.monotonic() - start < request_timeout + 8:
            s.send(b"z")
            time.sleep(0.5)
        fail("trickle: still open %.1f s after its first byte" % (time.monotonic() - start))
    except OSError:
        count("trickle_closed")
    s.close()


def over_max_connections():
    """Opens connections a burst at a time until one reads BUSY; holds them half a second."""
    held = []
    try:
        while len(held) <= max_connections + 10 and time.monotonic() < deadline:
            for _ in range(20):
                held.append(connect(port))
            readable, _, _ = select.select(held[-20:], [], [], 0.1)
            if any(s.recv(100).startswith(b"BUSY too many connections") for s in readable):
                count("busy_seen")
                time.sleep(0.5)
                return
        if time.monotonic() < deadline:
            fail("over-max: %d connections and no BUSY" % len(held))
    finally:
        for s in held:
            s.close()


def garbage():
    s = connect(random.choice([port, mc_port]))
    s.sendall(os.urandom(random.randint(1, 20000)))
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


acts = [reset_mid_line, reset_mid_block, half_close, never_read, trickle, garbage]


def hostile(index):
    while time.monotonic() < deadline:
        act = over_max_connections if index == 0 else random.choice(acts)
        try:
            act()
            count(act.__name__)
        except (ConnectionResetError, BrokenPipeError):
            count(act.__name__ + "_reset")  # the server closed a hostile client: allowed
        except Exception as error:  # noqa: BLE001 - any other surprise is a finding
            fail("%s: %r" % (act.__name__, error))
        if index == 0:
            time.sleep(5)


def main():
    setup = connect(port)
    setup.sendall(b"SET soak:big " + b"b" * 10000 + b"\n")
    Lines(setup).line()
    setup.close()
    threads = [threading.Thread(target=ledger_line, args=("ledger:rr:%d" % i, 1)) for i in range(2)]
    threads.append(threading.Thread(target=ledger_line, args=("ledger:pipe", 16)))
    threads.append(threading.Thread(target=ledger_memcached, args=("ledger:mc",)))
    threads += [threading.Thread(target=hostile, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every ledger, read back on a fresh connection.
    check = connect(port)
    r = Lines(check)
    for key, n in sorted(ledgers.items()):
        check.sendall(("GET %s\n" % key).encode())
        reply = r.line()
        if reply != "OK %d" % n:
            fail("ledger %s: client counted %d INCRs, server holds %r" % (key, n, reply))
    check.close()
    print(json.dumps({"ledgers": ledgers, "acts": counts, "failures": failures}))
    sys.exit(1 if failures or len(ledgers) != 4 else 0)


main()
