#!/usr/bin/env python3
"""check_live.py URL TASKS ENGINES: checks the dashboard of tests/programs/observed.cpp, whose
work is done (TASKS map tasks, a failed apply and a Process, ENGINES engines) and which waits:
its JSON says what the run did, its page is served as it should be, and clients that misbehave
(floods, huge or slow requests, too many connections, a foreign Host) are dropped while the
dashboard goes on answering."""
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fail(text):
    print("check_live: " + text)
    sys.exit(1)


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.read()


def status(base):
    code, headers, body = get(base + "api/status")
    if code != 200 or "application/json" not in headers.get("Content-Type", ""):
        fail("api/status answered %d %s" % (code, headers.get("Content-Type")))
    return json.loads(body)


def raw(host, port, data, wait=10.0):
    """Sends data on a new connection; returns what came back before the server closed it."""
    s = socket.create_connection((host, port), timeout=wait)
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        s.close()


def main(base, tasks, engines):
    u = urllib.parse.urlparse(base)
    host, port = u.hostname, u.port
    s = status(base)
    if s.get("ranks_dashboard") != 1:
        fail("not a ranks dashboard: %r" % s)
    alive = [e for e in s["engines"] if e["alive"]]
    if engines > 0 and len(s["engines"]) != engines:
        fail("%d engines listed, not %d" % (len(s["engines"]), engines))
    ran = sum(e["tasks"] for e in s["engines"])
    if ran != tasks + 2:
        fail("the engines say they ran %d tasks, not %d" % (ran, tasks + 2))
    if any(e["busy"] for e in alive):
        fail("an engine is busy in an idle program: %r" % s["engines"])
    if any(not e["rss_bytes"] for e in alive):
        fail("an engine on this host without its memory: %r" % s["engines"])
    stream = s["stream"]
    if stream["total"] != tasks + 2 or stream["shown"] != len(stream["tasks"]):
        fail("the stream counts %d tasks (%d shown of %d listed), not %d"
             % (stream["total"], stream["shown"], len(stream["tasks"]), tasks + 2))
    if sum(1 for t in stream["tasks"] if not t["ok"]) != 1:
        fail("not one failed task in the stream")
    for t in stream["tasks"]:
        if not (0 <= t["start_s"] <= t["end_s"] <= stream["now_s"]):
            fail("a task outside the stream's window: %r" % t)
    if s["calls"]:
        fail("calls in flight in an idle program: %r" % s["calls"])
    kinds = {o["kind"]: o for o in s["objects"]}
    if kinds.get("Queue", {}).get("size") != 1 or "Event" not in kinds:
        fail("the objects are not the queue of one item and the event: %r" % s["objects"])
    print("check_live: %d engines, %d tasks run, %d in the stream, objects %s"
          % (len(s["engines"]), ran, stream["total"], sorted(kinds)))

    code, headers, page = get(base)
    if code != 200 or b"<html" not in page.lower() or "Content-Security-Policy" not in headers:
        fail("the page: %d, CSP %r" % (code, headers.get("Content-Security-Policy")))
    # Nothing fetched from elsewhere (the SVG namespace is a name, not a fetch).
    if re.search(rb"""(src|href|action)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""",
                 page, re.I):
        fail("the page fetches from another address")
    for path, want, hdr in (("nope", 404, {}), ("", 403, {"Host": "rebound.example"})):
        try:
            get(base + path, hdr)
            fail("%s answered 200" % (path or "a foreign Host"))
        except urllib.error.HTTPError as e:
            if e.code != want:
                fail("%s answered %d, not %d" % (path or "a foreign Host", e.code, want))
    answer = raw(host, port, b"POST /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2"
                 b"\r\nConnection: close\r\n\r\n{}")
    if not answer.startswith(b"HTTP/1.1 405"):
        fail("a POST was answered %r" % answer[:40])

    # A request of 100 KiB of headers: dropped, unanswered.
    big = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
    if raw(host, port, big).startswith(b"HTTP/1.1 200"):
        fail("a 100 KiB request was answered")
    # A flood on one connection: dropped after the tenth request of the second.
    one = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answered = raw(host, port, one * 100).count(b"HTTP/1.1 200")
    if not 1 <= answered <= 10:
        fail("a flood of 100 requests got %d answers" % answered)
    # Too many connections at once: those beyond 32 are closed at once.
    idle = [socket.create_connection((host, port), timeout=10) for _ in range(40)]
    time.sleep(0.5)
    closed = 0
    for c in idle:
        c.setblocking(False)
        try:
            closed += 1 if c.recv(1) == b"" else 0
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    if closed < 8:
        fail("of 40 connections at once, %d were turned away (32 are kept)" % closed)
    # A connection that says nothing is dropped after 5 s.
    t0 = time.monotonic()
    idle[0].setblocking(True)
    idle[0].settimeout(15)
    try:
        idle[0].recv(1)
    except ConnectionResetError:
        pass
    waited = time.monotonic() - t0
    for c in idle:
        c.close()
    if waited > 10:
        fail("a silent connection was kept %.1f s" % waited)
    # And the dashboard still answers.
    after = status(base)
    if sum(e["tasks"] for e in after["engines"]) != tasks + 2:
        fail("the dashboard changed its count after the misbehaving clients")
    print("check_live: page, 404, 403, 405; a huge request, a flood, 40 connections and a silent "
          "one dropped (after %.1f s); still answering" % waited)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
