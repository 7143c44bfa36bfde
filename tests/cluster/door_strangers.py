#!/usr/bin/env python3
"""door_strangers.py PROFILE_JSON: knocks at a started cluster's door the wrong ways and checks
that each connection is refused (closed by the hub) within a few seconds: a wrong key (a whole
handshake with it), no magic word, another version of the door, random bytes, a connection left
silent, half a hello, a hello and no proof (a client that stops halfway), a flood of silent
connections, and a right handshake followed by no frame, a frame that is not JSON, a frame too
long. A client playing the handshake with the right key is served (ping) before and after. The
caller then checks the hub's log and that a real client is still served."""
import json
import os
import socket
import sys
import time

import door_protocol as door

LIMIT = 5.0  # seconds: refusing is promised within about one; this only catches a hang


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


def main():
    profile = json.load(open(sys.argv[1]))
    addr = door.address(profile)
    key = bytes.fromhex(profile["key"])
    wrong = bytes(b ^ 1 for b in key)
    if not door.ping(addr, key):
        print("FAIL: a client with the right key is not served")
        return 1
    print("served a client playing the handshake with the right key")
    # Each case: what is sent first, and (for a whole handshake) the key its proof uses and
    # what follows the proof.
    cases = {
        "a wrong key": (None, wrong, b"\0\0\0\x02{}"),
        "no magic word": (b"RANKSX02" + os.urandom(32), None, b""),
        "another version of the door (the key in clear, as version 01 sent it)":
            (b"RANKSD01" + key, None, b""),
        "random bytes": (os.urandom(4096), None, b""),
        "a silent connection": (b"", None, b""),
        "half a hello": (door.hello(os.urandom(32))[:20], None, b""),
        "a hello and no proof (a client that stops halfway)":
            (door.hello(os.urandom(32)), None, b""),
        "the handshake, then no frame": (None, key, b""),
        "the handshake, then a frame that is not JSON": (None, key, b"\0\0\0\x05hello"),
        "the handshake, then a frame too long": (None, key, b"\x7f\xff\xff\xff"),
    }
    failed = 0
    for name, (raw, proof_key, then) in cases.items():
        s = socket.create_connection(addr, timeout=2)
        if raw is not None:
            if raw:
                s.sendall(raw)
        else:
            try:
                door.client_handshake(s, proof_key, check_hub=proof_key == key)
            except door.Refused as e:
                print(f"FAIL: {name}: {e}")
                failed += 1
                continue
            if then:
                s.sendall(then)
        t = closed_within(s)
        s.close()
        if t is None:
            print(f"FAIL: {name}: still open after {LIMIT} s")
            failed += 1
        else:
            print(f"refused {name} in {t:.2f} s")
    # A flood: many silent connections at once; every one is closed, none lingers.
    flood = [socket.create_connection(addr, timeout=2) for _ in range(150)]
    t0 = time.monotonic()
    lingering = sum(1 for s in flood if closed_within(s, LIMIT + 2) is None)
    for s in flood:
        s.close()
    if lingering:
        print(f"FAIL: a flood of 150: {lingering} connections still open")
        failed += 1
    else:
        print(f"refused a flood of 150 connections in {time.monotonic() - t0:.2f} s")
    if not door.ping(addr, key):
        print("FAIL: the hub no longer serves a client with the right key")
        failed += 1
    else:
        print("served a client with the right key after the strangers")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
