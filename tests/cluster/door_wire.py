#!/usr/bin/env python3
"""door_wire.py: what crosses the door's wire, for the tests of tests/cluster/run.sh.

  proxy DOOR PORT_FILE CAPTURE_DIR   listens on 127.0.0.1, writes its port, passes each
                                     connection on to DOOR and records both directions
                                     (N.up: what the program sent, N.down: what the hub sent)
  no_key CAPTURE_DIR KEY_HEX         the key appears in no capture, as bytes or digits
  replay DOOR CAPTURE_DIR            sends each recorded program's bytes again on a new
                                     connection: the hub answers the hello with a fresh nonce,
                                     then must refuse the recorded proof and answer no frame
  fake_hub PROFILE_DIR MODE CAPTURE_DIR
                                     writes a profile (state ready) whose door is a listener of
                                     its own that does not know the profile's key, and records
                                     what programs send it (N.in, N.done once closed); MODE
                                     wrong_key: answers the hello with a proof under another
                                     key; no_magic: answers with bytes that are no door's
  told_nothing CAPTURE_DIR TEXT      every connection to the fake hub sent the hello alone,
                                     nothing after it, and TEXT nowhere"""
import base64
import json
import os
import pathlib
import secrets
import socket
import sys
import threading
import time

import door_protocol as door

LIMIT = 5.0


def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with open(record, "ab") as f:
                f.write(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy(target, port_file, capture):
    host, port = target.rsplit(":", 1)
    capture = pathlib.Path(capture)
    capture.mkdir(parents=True, exist_ok=True)
    listener = socket.create_server(("127.0.0.1", 0))
    tmp = port_file + ".tmp"
    pathlib.Path(tmp).write_text(str(listener.getsockname()[1]))
    os.rename(tmp, port_file)
    n = 0
    while True:
        down, _ = listener.accept()
        up = socket.create_connection((host, int(port)))
        n += 1
        (capture / f"{n}.up").touch()
        (capture / f"{n}.down").touch()
        threading.Thread(target=pump, args=(down, up, capture / f"{n}.up"), daemon=True).start()
        threading.Thread(target=pump, args=(up, down, capture / f"{n}.down"), daemon=True).start()


def no_key(capture, key_hex):
    key = bytes.fromhex(key_hex)
    forms = {
        "the key's bytes": key,
        "its digits": key_hex.lower().encode(),
        "its digits in capitals": key_hex.upper().encode(),
        "its base64": base64.b64encode(key),
        "its first half": key[:16],
        "its last half": key[16:],
    }
    files = sorted(pathlib.Path(capture).glob("*.*"))
    total = 0
    found = []
    for f in files:
        data = f.read_bytes()
        total += len(data)
        for what, form in forms.items():
            if form in data:
                found.append(f"{what} in {f.name}")
    if not files or total == 0:
        print("FAIL: nothing was captured")
        return 1
    if found:
        print("FAIL: the key crossed the wire: " + ", ".join(found))
        return 1
    print(f"the key is in none of {len(files)} captures ({total} bytes, both directions)")
    return 0


def closed_after(sock):
    """(bytes received, whether the peer closed within LIMIT)."""
    got = b""
    sock.settimeout(0.1)
    t0 = time.monotonic()
    while time.monotonic() - t0 < LIMIT:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return got, True
        if not data:
            return got, True
        got += data
    return got, False


def replay(target, capture):
    addr = door.address({"door": target})
    failed = 0
    replayed = 0
    for up in sorted(pathlib.Path(capture).glob("*.up")):
        recorded = up.read_bytes()
        if len(recorded) < door.HELLO + 32:
            continue
        old_hub_nonce = up.with_suffix(".down").read_bytes()[len(door.PREAMBLE) : door.HELLO]
        s = socket.create_connection(addr, timeout=3)
        s.sendall(recorded[: door.HELLO])
        challenge = door.read_exactly(s, door.CHALLENGE)
        fresh = challenge[len(door.PREAMBLE) : door.HELLO] != old_hub_nonce
        try:
            s.sendall(recorded[door.HELLO :])
        except OSError:
            pass
        after, closed = closed_after(s)
        s.close()
        replayed += 1
        if not fresh:
            print(f"FAIL: {up.name}: the hub's nonce was the recorded one")
            failed += 1
        elif after:
            print(f"FAIL: {up.name}: the hub answered a replay with {len(after)} bytes")
            failed += 1
        elif not closed:
            print(f"FAIL: {up.name}: the replay was still open after {LIMIT} s")
            failed += 1
        else:
            print(f"replayed {up.name} ({len(recorded)} bytes): a fresh nonce, then refused, "
                  "no frame answered")
    if not replayed:
        print("FAIL: no recorded handshake to replay")
        return 1
    return 1 if failed else 0


def fake_hub(profile_dir, mode, capture):
    capture = pathlib.Path(capture)
    capture.mkdir(parents=True, exist_ok=True)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    d = pathlib.Path(profile_dir)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    profile = {
        "name": d.name,
        "state": "ready",
        "door": f"127.0.0.1:{port}",
        "key": secrets.token_hex(32),
        "engines": 2,
        "mpi": {"ompi_server": "", "mode": "connect", "client_mca": {}},
        "pids": {"ompi_server": 0, "mpirun": 0, "hub": 0, "hub_host": ""},
        "engine_list": [],
    }
    tmp = d / ".cluster.json.tmp"
    tmp.write_text(json.dumps(profile, indent=2))
    tmp.chmod(0o600)
    tmp.rename(d / "cluster.json")
    its_key = secrets.token_bytes(32)  # not the profile's
    n = 0
    while True:
        s, _ = listener.accept()
        n += 1
        threading.Thread(target=serve_fake, args=(s, mode, its_key, capture / str(n)),
                         daemon=True).start()


def serve_fake(s, mode, its_key, record):
    got = b""
    answered = False
    s.settimeout(5)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
            with open(f"{record}.in", "wb") as f:
                f.write(got)
            if not answered and len(got) >= door.HELLO:
                answered = True
                cn, hn = got[len(door.PREAMBLE) : door.HELLO], secrets.token_bytes(32)
                if mode == "no_magic":
                    s.sendall(secrets.token_bytes(door.CHALLENGE))
                else:
                    s.sendall(door.PREAMBLE + hn + door.mac(its_key, b"hub", cn, hn))
    except OSError:
        pass
    with open(f"{record}.in", "wb") as f:
        f.write(got)
    pathlib.Path(f"{record}.done").touch()
    s.close()


def told_nothing(capture, text):
    capture = pathlib.Path(capture)
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        ins = sorted(capture.glob("*.in"))
        if ins and all(i.with_suffix(".done").exists() for i in ins):
            break
        time.sleep(0.05)
    ins = sorted(capture.glob("*.in"))
    if not ins:
        print("FAIL: nobody came to the fake hub")
        return 1
    failed = 0
    for i in ins:
        data = i.read_bytes()
        if not i.with_suffix(".done").exists():
            print(f"FAIL: connection {i.stem} is still open")
            failed += 1
        elif len(data) != door.HELLO or not data.startswith(door.PREAMBLE):
            print(f"FAIL: connection {i.stem} sent {len(data)} bytes, not the hello alone: "
                  f"{data[:200]!r}")
            failed += 1
        elif text.encode() in data:
            print(f"FAIL: connection {i.stem} sent {text}")
            failed += 1
    if not failed:
        print(f"{len(ins)} connection(s) to the fake hub: each sent its hello and nothing more")
    return 1 if failed else 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "proxy":
        return proxy(*args)
    if cmd == "no_key":
        return no_key(*args)
    if cmd == "replay":
        return replay(*args)
    if cmd == "fake_hub":
        return fake_hub(*args)
    if cmd == "told_nothing":
        return told_nothing(*args)
    print(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
