#!/usr/bin/env python3
"""Prints the comparison table of one benchmark run (JSON lines from ranks_bench and the
peers), the targets ranks aims at as ratios measured in this run, and draws the plots.

    compare.py results.jsonl [--plot DIR]
"""
import argparse
import collections
import json
import os
import subprocess


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def table(rows):
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["workload"], r["variant"])].append(r)
    print(f"{'workload':<10} {'variant':<24} {'backend':<20} {'workers':>7} {'median':>13} "
          f"{'min - max':>25}  unit")
    for key in sorted(by):
        for r in sorted(by[key], key=lambda r: (r["backend"], r["workers"])):
            rng = f"{r['min']:.4g} - {r['max']:.4g}"
            print(f"{r['workload']:<10} {r['variant']:<24} {r['backend']:<20} {r['workers']:>7} "
                  f"{r['median']:>13.5g} {rng:>25}  {r['unit']}")


def value(rows, workload, variant, backend, n=None, field="median"):
    """The first row's field for the workload, variant and backend (with n workers, if given:
    the many-engines sweep has one row per count)."""
    for r in rows:
        if (r["workload"], r["variant"], r["backend"]) == (workload, variant, backend) and \
                n in (None, r["workers"]):
            return r.get(field)
    return None


def workers(rows):
    """The engines of the run (those of the in-job dynamic rows)."""
    for r in rows:
        if r["backend"] == "dynamic" and r["workload"] == "tiny":
            return r["workers"]
    return 2


def targets(rows):
    """The ratios ranks aims at, each measured within this run."""
    v = lambda *k: value(rows, *k)
    checks = []

    def ratio(name, num, den, goal, higher=True):
        if num is None or den is None or den == 0:
            checks.append((name, None, goal, None))
            return
        x = num / den
        checks.append((name, x, goal, x >= goal if higher else x <= goal))

    dyn_auto = v("tiny", "auto-chunk", "dynamic")
    dyn_one = v("tiny", "chunksize-1", "dynamic")
    ratio("tiny auto: dynamic / multiprocessing", dyn_auto, v("tiny", "auto-chunk", "multiprocessing"), 20)
    ratio("tiny auto: dynamic / mpi4py.futures", dyn_auto, v("tiny", "auto-chunk", "mpi4py.futures"), 20)
    ratio("tiny auto: dynamic / mpi-raw scatter-gather", dyn_auto, v("tiny", "auto-chunk", "mpi-raw"), 0.25)
    ratio("tiny chunk 1: dynamic / multiprocessing", dyn_one, v("tiny", "chunksize-1", "multiprocessing"), 5)
    ratio("tiny chunk 1: dynamic / mpi4py.futures", dyn_one, v("tiny", "chunksize-1", "mpi4py.futures"), 50)
    ratio("tiny chunk 1: dynamic / ipyparallel", dyn_one, v("tiny", "chunksize-1", "ipyparallel"), 1000)
    ratio("tiny chunk 1: dynamic / dask", dyn_one, v("tiny", "chunksize-1", "dask"), 1000)
    ratio("tiny chunk 1: dynamic / mpi-raw queue", dyn_one, v("tiny", "chunksize-1", "mpi-raw"), 0.40)
    ratio("latency: dynamic / mpi-raw ping-pong", v("latency", "apply", "dynamic"),
          v("latency", "ping-pong", "mpi-raw"), 2, higher=False)
    eff = v("imbalance", "efficiency", "dynamic")
    checks.append(("imbalance: dynamic efficiency", eff, 0.97, None if eff is None else eff >= 0.97))
    thr = v("imbalance", "efficiency", "threads")
    if eff is not None and thr is not None:
        checks.append(("imbalance: threads - dynamic", thr - eff, 0.02, thr - eff <= 0.02))
    # Short busy tasks on the engines of the run: efficiency against the ideal time.
    for variant, backend, goal in (("10us", "dynamic", 0.90),
                                   ("100us", "dynamic-chunksize-1", 0.85)):
        eff = v("task-length", variant, backend)
        checks.append((f"task-length {variant} {backend}: efficiency", eff, goal,
                       None if eff is None else eff >= goal))
    raw_bw = v("bandwidth", "send-recv", "mpi-raw")
    # Into fresh vectors (what apply and pull return), then into memory both sides already own.
    ratio("bandwidth apply: dynamic / mpi-raw", v("bandwidth", "apply", "dynamic"), raw_bw, 0.80)
    ratio("bandwidth push-pull: static / mpi-raw", v("bandwidth", "push-pull", "static"), raw_bw,
          0.80)
    ratio("bandwidth push(span)-pull_into: static / mpi-raw",
          v("bandwidth", "push-pull-into", "static"), raw_bw, 0.80)
    # Across three emulated hosts (TCP between network namespaces), against raw MPI there.
    raw_bw3 = v("bandwidth", "send-recv", "mpi-raw@3hosts")
    ratio("3 hosts: latency dynamic / mpi-raw ping-pong", v("latency", "apply", "dynamic@3hosts"),
          v("latency", "ping-pong", "mpi-raw@3hosts"), 1.5, higher=False)
    ratio("3 hosts: bandwidth apply / mpi-raw", v("bandwidth", "apply", "dynamic@3hosts"), raw_bw3,
          0.90)
    ratio("3 hosts: bandwidth push(span)-pull_into / mpi-raw",
          v("bandwidth", "push-pull-into", "static@3hosts"), raw_bw3, 0.90)
    ratio("3 hosts: tiny chunk 1 dynamic / mpi-raw queue",
          v("tiny", "chunksize-1", "dynamic@3hosts"), v("tiny", "chunksize-1", "mpi-raw@3hosts"),
          0.40)
    # A vector of 1 M doubles on every engine, summed: times, so the ratios are theirs / ours.
    red = v("reduce", "reduce", "static")
    ratio("reduce: gather-then-sum on the controller / MPI_Reduce among engines (ms)",
          v("reduce", "pull-then-sum", "static"), red, 1.0)
    ratio("reduce: ipyparallel pull-then-sum / ranks reduce (ms)",
          v("reduce", "pull-then-sum", "ipyparallel-direct"), red, 1.0)
    ratio("startup under mpirun: ranks / bare MPI", v("startup", "mpirun", "dynamic"),
          v("startup", "mpirun", "mpi-raw"), 1.5, higher=False)
    # A started cluster: its start, a program's first result attached, and attached work
    # against the same work in-job.
    start4 = v("cluster-start", "-n 4", "ranks")
    checks.append(("cluster start -n 4 to engines waiting (s)", start4, 2.0,
                   None if start4 is None else start4 < 2.0))
    ratio("attached first result / bare mpirun's (from its launch)",
          v("startup", "attach", "attached"), v("startup", "mpirun-launch", "mpi-raw"), 1.0,
          higher=False)
    ratio("attached latency / in-job latency", v("latency", "apply", "attached"),
          v("latency", "apply", "dynamic"), 1.1, higher=False)
    ratio("attached chunksize-1 / in-job chunksize-1", v("tiny", "chunksize-1", "attached"),
          v("tiny", "chunksize-1", "dynamic"), 0.9)
    ratio("ipcluster start / ranks cluster start", v("cluster-start", f"-n {workers(rows)}",
                                                     "ipyparallel"),
          v("cluster-start", f"-n {workers(rows)}", "ranks"), 1.0)
    idle = v("idle", "sleep", "dynamic")
    checks.append(("idle: cores used by the whole cluster", idle, 0.05,
                   None if idle is None else idle < 0.05))
    # Many engines, sleeping tasks: ranks against a thread pool of as many threads.
    for n in sorted({r["workers"] for r in rows if r["workload"] == "many"}):
        for us in (10000, 1000):
            thr = value(rows, "many", f"{us}us-chunksize-1", "threads", n)
            for chunks in ("chunksize-1", "auto"):
                dyn = value(rows, "many", f"{us}us-{chunks}", "dynamic", n)
                name = f"many {n}, {us // 1000} ms {chunks}: threads - dynamic"
                if thr is None or dyn is None:
                    checks.append((name, None, 0.02, None))
                else:
                    checks.append((name, thr - dyn, 0.02, thr - dyn <= 0.02))
        thr = value(rows, "many", "100us-chunksize-1", "threads", n, "tasks_per_s")
        for chunks in ("chunksize-1", "auto"):
            ratio(f"many {n}, 100 us {chunks}: dynamic / threads tasks/s",
                  value(rows, "many", f"100us-{chunks}", "dynamic", n, "tasks_per_s"), thr, 0.8)
        ratio(f"start-up {n}: dynamic / bare MPI, from mpirun's start",
              value(rows, "startup", "mpirun-launch", "dynamic", n),
              value(rows, "startup", "mpirun-launch", "mpi-raw", n), 1.5, higher=False)
        idle = value(rows, "idle", "sleep", "dynamic", n)
        checks.append((f"idle {n} engines: cores in all", idle, 0.1,
                       None if idle is None else idle <= 0.1))
    print("\ntargets (ratios from this run)")
    for name, x, goal, ok in checks:
        shown = "n/a" if x is None else f"{x:.3g}"
        verdict = "missing" if ok is None else ("met" if ok else "NOT met")
        print(f"  {name:<48} {shown:>10}  (goal {goal})  {verdict}")


def plot(rows, out):
    os.makedirs(out, exist_ok=True)
    for workload, variant, unit, log in [("tiny", "auto-chunk", "tasks/s", True),
                                         ("tiny", "chunksize-1", "tasks/s", True),
                                         ("latency", "apply", "us", True),
                                         ("bandwidth", "apply", "GB/s", True),
                                         ("imbalance", "efficiency", "ideal/wall", False)]:
        data = [r for r in rows if r["workload"] == workload and r["variant"] == variant]
        if workload == "latency":
            data += [r for r in rows if r["workload"] == "latency" and r["variant"] == "ping-pong"]
        if workload == "bandwidth":
            data = [r for r in rows if r["workload"] == "bandwidth"]
        if not data:
            continue
        dat = os.path.join(out, f"{workload}-{variant}.dat")
        with open(dat, "w") as f:
            for r in sorted(data, key=lambda r: r["median"]):
                label = r["backend"] if workload != "bandwidth" else f"{r['backend']} {r['variant']}"
                f.write(f"\"{label}\" {r['median']} {r['min']} {r['max']}\n")
        png = os.path.join(out, f"{workload}-{variant}.png")
        title = (f"{workload} ({variant}), {data[0]['workers']} workers" if workload != "bandwidth"
                 else "bandwidth: a 64 MiB vector to one engine and back")
        script = f"""
set terminal png size 900,500
set output '{png}'
set title '{title}: median, min-max'
set ylabel '{unit}'
set style data histogram
set style fill solid 0.6
set boxwidth 0.7
set xtics rotate by -30
{'set logscale y' if log else 'set yrange [0:1.05]'}
plot '{dat}' using 0:2:xtic(1) with boxes notitle, '' using 0:2:3:4 with yerrorbars notitle lc rgb 'black'
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    for workload, variant_key, xlabel, ylabel, title, xlog in [
        ("scaling", "workers", "workers", "speedup against serial", "scaling", False),
        ("task-length", "task_ms", "task length (ms)", "efficiency (ideal/wall)",
         "efficiency against task length", True)]:
        data = [r for r in rows if r["workload"] == workload]
        if not data:
            continue
        series = sorted({(r["variant"], r["backend"]) for r in data}) if workload == "scaling" \
            else sorted({("", r["backend"]) for r in data})
        dat = os.path.join(out, f"{workload}.dat")
        with open(dat, "w") as f:
            for variant, backend in series:
                f.write(f"# {variant} {backend}\n")
                pts = [r for r in data if r["backend"] == backend and
                       (workload != "scaling" or r["variant"] == variant)]
                for r in sorted(pts, key=lambda r: r.get(variant_key, r["workers"])):
                    f.write(f"{r.get(variant_key, r['workers'])} {r['median']}\n")
                f.write("\n\n")
        png = os.path.join(out, f"{workload}.png")
        plots = ", ".join(f"'{dat}' index {i} with linespoints title '{(v + ' ' + b).strip()}'"
                          for i, (v, b) in enumerate(series))
        ideal = "x title 'ideal' dt 2, " if workload == "scaling" else ""
        subprocess.run(["gnuplot"], input=f"""
set terminal png size 900,500
set output '{png}'
set title '{title}'
set xlabel '{xlabel}'
set ylabel '{ylabel}'
{'set logscale x' if xlog else ''}
set key left top
plot {ideal}{plots}
""", text=True, check=True)
    many = [r for r in rows if r["workload"] == "many"]
    for us in sorted({r["task_us"] for r in many}, reverse=True):
        data = [r for r in many if r["task_us"] == us]
        series = sorted({(r["variant"].split("-", 1)[1], r["backend"]) for r in data})
        dat = os.path.join(out, f"many-{int(us)}us.dat")
        with open(dat, "w") as f:
            for chunks, backend in series:
                f.write(f"# {backend} {chunks}\n")
                for r in sorted((r for r in data if r["backend"] == backend and
                                 r["variant"].endswith(chunks)), key=lambda r: r["workers"]):
                    f.write(f"{r['workers']} {r['median']}\n")
                f.write("\n\n")
        plots = ", ".join(f"'{dat}' index {i} with linespoints title '{b} {c}'"
                          for i, (c, b) in enumerate(series))
        subprocess.run(["gnuplot"], input=f"""
set terminal png size 900,500
set output '{os.path.join(out, f"many-{int(us)}us.png")}'
set title 'tasks sleeping {us / 1000:g} ms: efficiency against engines (threads) on 2 cores'
set xlabel 'engines'
set ylabel 'efficiency (ideal/wall)'
set logscale x 2
set yrange [0:1.05]
set key left bottom
plot {plots}
""", text=True, check=True)
    print(f"\nplots written to {out}/")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--plot")
    a = p.parse_args()
    rows = load(a.results)
    table(rows)
    targets(rows)
    if a.plot:
        plot(rows, a.plot)


if __name__ == "__main__":
    main()
