#!/usr/bin/env python3
"""A stand-in for the dashboard's HTTP server: serves src/dashboard/page.html at /
and a generated status JSON at /api/status, on 127.0.0.1 only.

    python3 tests/dashboard/sample_server.py PORT [--engines N] [--tasks N]
                                                  [--empty] [--flaky] [--moving]
                                                  [--json FILE] [--page FILE]

The sample has 4 engines (one lost by SIGKILL), a few hundred tasks of three calls
(some failed), two calls in flight and two shared objects. The clock runs (uptime_s,
now_s, ages) but the counts stay the same from one request to the next, so that a
test can compare the page with the JSON. --empty: nobody attached, no engine, no task,
no call, nothing lost, no object. --flaky: every third request of /api/status is a
503 (the page shows "connection lost" and keeps polling). --moving: each request of
/api/status has one task fewer (as tasks leave the window of an idle program), to try
a test against counts that change while it runs. --json FILE: serve that file as the
status instead (read at each request; a status saved from a real program, say). The page is read again at
each request, so that an edit shows on reload.
"""

import argparse
import http.server
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PAGE = os.path.join(HERE, "..", "..", "src", "dashboard", "page.html")

START = time.monotonic()


def sample(args, uptime, served=0):
    """The status JSON at this uptime (seconds). Counts depend only on args."""
    if args.empty:
        return {
            "ranks_dashboard": 1,
            "title": "ranks cluster default (nobody attached)",
            "program": None,
            "cluster": {"name": "default"},
            "uptime_s": round(uptime, 3),
            "engines": [],
            "stream": {"window_s": 60, "now_s": round(uptime, 3), "total": 0,
                       "shown": 0, "tasks": []},
            "calls": [],
            "lost": [],
            "objects": [],
        }

    rng = random.Random(62)
    n = args.engines
    window = 60.0
    # The run is pretended to have started 45 s ago, so that the stream fills most
    # of the window whatever the real uptime; every time below is relative to now.
    now = uptime + 45.0
    lost_id = 2 if n > 2 else None
    lost_at = now - 21.7
    hosts = ["node0", "node1", "node2"]
    engines = []
    for i in range(n):
        alive = i != lost_id
        engines.append({
            "id": i,
            "host": hosts[(i * len(hosts)) // max(n, 1)],
            "pid": 41200 + 7 * i,
            "alive": alive,
            "busy": alive and i % 3 != 1,
            "tasks": 0,
            "rss_bytes": None if i == 3 else 18_000_000 + 1_234_567 * i,
            "signal": 0 if alive else 9,
        })

    # Tasks: call 3 (a map of small tasks), call 4 (an apply-style batch of longer
    # ones, some failed), call 5 (a map still in flight, ending at now).
    tasks = []
    for e in engines:
        t = now - 44.0 + rng.random() * 0.3
        stop = lost_at if not e["alive"] else now
        while t < stop:
            if t < now - 30:
                call, kind, dur, ok = 3, "map", rng.uniform(0.05, 0.4), True
            elif t < now - 14:
                call, kind = 4, "apply"
                dur = rng.uniform(0.3, 1.6)
                ok = rng.random() > 0.06
            else:
                call, kind, dur, ok = 5, "map", rng.uniform(0.08, 0.7), True
            end = min(t + dur, stop)
            tasks.append({"engine": e["id"], "start_s": round(t, 4),
                          "end_s": round(end, 4), "kind": kind, "call": call,
                          "ok": ok})
            e["tasks"] += 1
            t = end + rng.uniform(0.002, 0.05)
    # As the server does: the newest tasks are shown, at most --tasks of them; the
    # total also counts tasks of the window that are not sent.
    tasks.sort(key=lambda x: x["start_s"])
    total = len(tasks) + 1234
    tasks = tasks[-args.tasks:] if args.tasks > 0 else []
    if args.moving:
        gone = min(served, len(tasks))
        tasks, total = tasks[gone:], total - gone
    for e in engines:
        e["tasks"] += 50 * (e["id"] + 1)

    return {
        "ranks_dashboard": 1,
        "title": "lab66_load_balanced (pid 41190 on node0)",
        "program": {"name": "lab66_load_balanced", "pid": 41190, "host": "node0"},
        "cluster": None,
        "uptime_s": round(now, 3),
        "engines": engines,
        "stream": {"window_s": window, "now_s": round(now, 3), "total": total,
                   "shown": len(tasks), "tasks": tasks},
        "calls": [
            {"call": 5, "kind": "map", "done": 37 + int(uptime) % 60, "total": 100,
             "unit": "items", "age_s": round(14.2 + uptime, 2)},
            {"call": 6, "kind": "apply", "done": 0, "total": 1, "unit": "tasks",
             "age_s": round(0.8 + uptime % 5, 2)},
        ],
        "lost": ([{"id": lost_id, "host": engines[lost_id]["host"],
                   "pid": engines[lost_id]["pid"], "signal": 9,
                   "at_s": round(lost_at, 3)}] if lost_id is not None else []),
        "objects": [
            {"id": "7", "kind": "Queue", "size": 3, "detail": "3 items"},
            {"id": "12", "kind": "Lock", "size": None,
             "detail": "held by engine 1 <b>&amp;</b>"},  # text, never markup
        ],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--engines", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=2000, help="tasks shown at most")
    ap.add_argument("--empty", action="store_true")
    ap.add_argument("--flaky", action="store_true")
    ap.add_argument("--moving", action="store_true")
    ap.add_argument("--json", help="serve this file as /api/status")
    ap.add_argument("--page", default=DEFAULT_PAGE)
    args = ap.parse_args()
    served = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def send(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                with open(args.page, "rb") as f:
                    self.send(200, "text/html; charset=utf-8", f.read())
            elif path == "/api/status":
                served["n"] += 1
                if args.flaky and served["n"] % 3 == 0:
                    self.send(503, "text/plain", b"unavailable\n")
                    return
                if args.json:
                    with open(args.json, "rb") as f:
                        body = f.read()
                else:
                    body = json.dumps(sample(args, time.monotonic() - START,
                                             served["n"])).encode()
                self.send(200, "application/json", body)
            else:
                self.send(404, "text/plain", b"not found\n")

        do_HEAD = do_GET

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"serving on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
