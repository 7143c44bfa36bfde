"""The door's handshake (src/door/handshake.hpp), played from Python for the tests: either side,
right or wrong.

  client -> hub  hello      b"RANKSD02" | client nonce (32)
  hub -> client  challenge  b"RANKSD02" | hub nonce (32) | HMAC(key, b"hub" | cn | hn)
  client -> hub  proof      HMAC(key, b"client" | hn | cn)

then frames: a 32-bit big-endian length and that many bytes of JSON."""
import hashlib
import hmac
import json
import os
import socket
import struct

PREAMBLE = b"RANKSD02"
HELLO = len(PREAMBLE) + 32
CHALLENGE = HELLO + 32


class Refused(Exception):
    pass


def address(profile):
    host, port = profile["door"].rsplit(":", 1)
    return host, int(port)


def mac(key, label, first, second):
    return hmac.new(key, label + first + second, hashlib.sha256).digest()


def hello(nonce):
    return PREAMBLE + nonce


def read_exactly(sock, n):
    out = b""
    while len(out) < n:
        got = sock.recv(n - len(out))
        if not got:
            raise Refused(f"closed after {len(out)} of {n} bytes")
        out += got
    return out


def client_handshake(sock, key, check_hub=True, nonce=None):
    """Plays the program's side with key; raises Refused when the hub's proof does not hold
    (only checked with check_hub). Returns (client nonce, hub nonce)."""
    cn = nonce or os.urandom(32)
    sock.sendall(hello(cn))
    ch = read_exactly(sock, CHALLENGE)
    if ch[: len(PREAMBLE)] != PREAMBLE:
        raise Refused(f"no door preamble: {ch[:8]!r}")
    hn = ch[len(PREAMBLE) : HELLO]
    if check_hub and not hmac.compare_digest(ch[HELLO:], mac(key, b"hub", cn, hn)):
        raise Refused("the hub's proof does not hold")
    sock.sendall(mac(key, b"client", hn, cn))
    return cn, hn


def send_frame(sock, message):
    body = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def read_frame(sock):
    (n,) = struct.unpack(">I", read_exactly(sock, 4))
    return json.loads(read_exactly(sock, n))


def ping(addr, key):
    """Whether the hub answers a ping after a handshake with key."""
    try:
        with socket.create_connection(addr, timeout=3) as s:
            client_handshake(s, key)
            send_frame(s, {"op": "ping"})
            return read_frame(s).get("ok", False)
    except (OSError, Refused, ValueError):
        return False
