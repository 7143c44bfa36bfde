#!/usr/bin/env python3
"""door_strangers.py PROFILE_JSON: knocks at a started cluster's door the wrong ways and checks
that each connection is refused (closed by the hub) within a few seconds: a wrong key, no key,
random bytes, a connection left silent, a flood of silent connections, and a greeting with the
right key followed by garbage. The caller then checks that a real client is still served."""
import json
import os
import socket
import sys
import time

LIMIT = 5.0  # seconds: refusing is promised within about one; this only catches a hang


def door(profile):
    host, port = profile["door"].rsplit(":", 1)
    return host, int(port)


def closed_within(sock, limit=LIMIT):
    """Seconds until the peer closed the connection, or None if it did not within limit."""
    t0 = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - t0 < limit:
        try:
            data = sock.recv(4096)
            if not data:
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
    return None


def connect(addr):
    return socket.create_connection(addr, timeout=2)


def main():
    profile = json.load(open(sys.argv[1]))
    addr = door(profile)
    key = bytes.fromhex(profile["key"])
    wrong = bytes(b ^ 1 for b in key)
    cases = {
        "a wrong key": b"RANKSD01" + wrong + b"\0\0\0\x02{}",
        "no key": b"RANKSD01",
        "random bytes": os.urandom(4096),
        "a silent connection": b"",
        "the key, then no frame": b"RANKSD01" + key,
        "the key, then a frame that is not JSON": b"RANKSD01" + key + b"\0\0\0\x05hello",
        "the key, then a frame too long": b"RANKSD01" + key + b"\x7f\xff\xff\xff",
    }
    failed = 0
    for name, payload in cases.items():
        s = connect(addr)
        if payload:
            s.sendall(payload)
        t = closed_within(s)
        s.close()
        if t is None:
            print(f"FAIL: {name}: still open after {LIMIT} s")
            failed += 1
        else:
            print(f"refused {name} in {t:.2f} s")
    # A flood: many silent connections at once; every one is closed, none lingers.
    flood = [connect(addr) for _ in range(150)]
    t0 = time.monotonic()
    lingering = sum(1 for s in flood if closed_within(s, LIMIT + 2) is None)
    for s in flood:
        s.close()
    if lingering:
        print(f"FAIL: a flood of 150: {lingering} connections still open")
        failed += 1
    else:
        print(f"refused a flood of 150 connections in {time.monotonic() - t0:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
