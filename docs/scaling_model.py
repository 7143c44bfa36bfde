#!/usr/bin/env python3
"""The scaling model of docs/SCALING.md: its constants fitted to one benchmark run (JSON lines
of ranks_bench, from ./run.sh bench), its predictions printed as a table and drawn.

    docs/scaling_model.py RESULTS.jsonl [MORE.jsonl ...] [--plot FILE.png]

Rows of a later file replace those of the same workload, variant, backend and engines.

The model (one controller on a core of its own, one engine per core; see SCALING.md):
  s   the controller's time per message (a part sent, its reply received and recorded)
  o   an engine's time per part besides the task (receive, decode, reply)
  one task per message:    E(N, t) = t / (t + o) * min(1, t / (N s))
  automatic chunks:        parts of at least max(t, P(N)), the queue's floor P(N) = max(100 us,
                           N s' / 0.9) with s' = 0.64 us (include/ranks/detail/jobs.hpp), so
                           E(N, t) = min(1, max(t, P(N)) / (N s))  (o spread over a part)
  controller memory:       M(N, q) = M0 + m N + b q   (q tasks waiting in its queue)
  reduce among engines:    R(N) = r0 + r1 ceil(log2 N) with one engine per core (a tree: each
                           step a transfer and a sum of the vector); here, where every engine
                           shares two cores, all N - 1 steps queue: R(N) = r0 + r1 (N - 1),
                           which is what the run fits (dview.reduce of 1 M doubles per engine)
"""
import math
import argparse
import json
import statistics
import subprocess

LENGTHS = [10e-6, 100e-6, 1e-3, 10e-3, 100e-3, 1.0]  # task lengths, seconds
COUNTS = [2, 8, 16, 32, 64, 256, 1024, 4096]
FLOOR = 100e-6  # kMinPartNs of the dynamic queue (include/ranks/detail/jobs.hpp)
PER_PART = 0.64e-6  # its kControllerNsPerPart: the floor grows to keep the controller < 90 % busy


def floor(n):
    return max(FLOOR, n * PER_PART / 0.9)


def load(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rows[(r["workload"], r["variant"], r["backend"], r["workers"])] = r
    return list(rows.values())


def pick(rows, workload, variant, backend="dynamic", workers=None):
    return [r for r in rows if r["workload"] == workload and r["variant"] == variant and
            r["backend"] == backend and (workers is None or r["workers"] == workers)]


def fit(rows):
    """The model's constants from one run."""
    c = {}
    tiny = pick(rows, "tiny", "chunksize-1", workers=2)
    # Tiny tasks one per message on 2 engines: the controller sends and receives every one; the
    # engines' work is nothing. Its rate bounds the controller's time per message from above
    # (the engines may be the limit): predictions from it are on the safe side.
    c["s"] = 1.0 / tiny[0]["median"] if tiny else 0.6e-6
    c["o"] = c["s"]  # an engine does the mirror image of the controller's work per message
    rss = sorted((r["workers"], r["median"]) for r in pick(rows, "footprint", "controller-rss"))
    if len(rss) >= 2:
        c["m_mb"], c["m0_mb"] = line([x for x, _ in rss], [v for _, v in rss])
    per_task = [r["median"] for r in pick(rows, "footprint", "per-queued-task")]
    if per_task:
        c["b_bytes"] = statistics.median(per_task)
    engine = [r["median"] for r in pick(rows, "footprint", "engine-rss")]
    if engine:
        c["engine_mb"] = statistics.median(engine)
    red = sorted({r["workers"]: r["median"] for r in pick(rows, "reduce", "reduce", "static")}.items())
    if len(red) >= 2:
        steps = [n - 1 for n, _ in red]
        ms = [t for _, t in red]
        c["r1_ms"], c["r0_ms"] = line(steps, ms)
    return c


def line(x, y):
    """Least-squares slope and intercept."""
    mx, my = statistics.mean(x), statistics.mean(y)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    return slope, my - slope * mx


def reduce_ms(c, n):
    """The reduce among n engines, one per core: a tree of ceil(log2 n) steps."""
    return c["r0_ms"] + c["r1_ms"] * math.ceil(math.log2(n))


def efficiency(c, n, t, chunked):
    if chunked:
        return min(1.0, max(t, floor(n)) / (n * c["s"]))
    return t / (t + c["o"]) * min(1.0, t / (n * c["s"]))


def label(t):
    return f"{t * 1e6:g} us" if t < 1e-3 else (f"{t * 1e3:g} ms" if t < 1 else f"{t:g} s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results", nargs="+")
    p.add_argument("--plot")
    a = p.parse_args()
    c = fit(load(a.results))
    print("constants: " + ", ".join(f"{k} = {v:.4g}" for k, v in c.items()))
    for chunked in (False, True):
        print("\nefficiency, " + ("automatic chunks" if chunked else "one task per message"))
        print(f"{'engines':>8} " + " ".join(f"{label(t):>8}" for t in LENGTHS))
        for n in COUNTS:
            print(f"{n:>8} " + " ".join(f"{efficiency(c, n, t, chunked):>8.3f}" for t in LENGTHS))
    if "m_mb" in c:
        print("\ncontroller memory (MB) with 10 queued tasks per engine")
        for n in COUNTS:
            print(f"{n:>8} {c['m0_mb'] + c['m_mb'] * n + c.get('b_bytes', 0) * 10 * n / 2**20:>10.1f}")
    if "r1_ms" in c:
        print("\nreduce of 1 M doubles per engine (ms), one engine per core")
        for n in COUNTS:
            print(f"{n:>8} {reduce_ms(c, n):>10.1f}")
    if a.plot:
        lines = []
        for chunked in (False, True):
            for t in LENGTHS:
                pts = "\n".join(f"{n} {efficiency(c, n, t, chunked)}" for n in COUNTS)
                lines.append((f"{label(t)}, {'chunks' if chunked else 'one per message'}", pts))
        data = "\n".join(pts + "\ne" for _, pts in lines)
        plots = ", ".join(f"'-' with linespoints title '{name}'" for name, _ in lines)
        subprocess.run(["gnuplot"], input=f"""
set terminal png size 1000,560
set output '{a.plot}'
set title 'model: dynamic queue efficiency against engines (controller on a core of its own)'
set xlabel 'engines'
set ylabel 'efficiency'
set logscale x 2
set yrange [0:1.05]
set key outside right
plot {plots}
{data}
""", text=True, check=True)


if __name__ == "__main__":
    main()
