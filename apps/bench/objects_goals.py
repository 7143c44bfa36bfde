#!/usr/bin/env python3
"""objects_goals.py RESULTS: the goals of the objects shared between processes (queues, pipes, a
manager; locks, values, barriers, arrays), as ratios of measurements taken in the same run
(objects_bench, sync_bench and the multiprocessing peers, multiprocessing_objects.py and
multiprocessing_sync.py): one table, each row with its goal and whether it is met."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def median(workload, variant, backend):
    for r in rows:
        if (r["workload"], r["variant"], r["backend"]) == (workload, variant, backend):
            return r["median"]
    return None


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


goals = [
    ("Queue, one engine puts, the program gets", "queue", "1-engine-put", "multiprocessing",
     "items/s", ">=", 10),
    ("Queue, four engines put, the program gets", "queue", "4-engines-put", "multiprocessing",
     "items/s", ">=", 10),
    ("Queue, engine to engine (through the controller)", "queue", "engine-to-engine",
     "multiprocessing", "items/s", None, None),
    ("Pipe round trip between two engines (vs raw MPI)", "pipe", "round-trip", "mpi-raw", "us",
     "<=", 2),
    ("Pipe, 64 MiB each way, recv (vs raw MPI)", "pipe", "64MiB-each-way", "mpi-raw", "GB/s",
     ">=", 0.8),
    # Raw MPI receives into its buffer, as recv_into does; recv makes a new vector each time.
    ("Pipe, 64 MiB each way, recv_into (vs raw MPI)", "pipe",
     ("64MiB-each-way-recv_into", "64MiB-each-way"), "mpi-raw", "GB/s", ">=", 0.8),
    ("Manager dict, four engines set and get", "manager", "dict-set-get", "multiprocessing",
     "ops/s", ">=", 10),
    # sync_bench and multiprocessing_sync.py: four engines (processes) on one host.
    ("Lock + Value increment, 4 x 10 000", "sync", "lock-value-increment", "multiprocessing",
     "ops/s", ">=", 1),
    ("Value::fetch_add (vs get_lock() increment), 4 x 100 000", "sync", "value-fetch-add",
     "multiprocessing", "ops/s", ">=", 10),
    # Times: the ratio is theirs over ours (how many times faster).
    ("Barrier(4).wait() (times faster)", "sync", "barrier-wait", "multiprocessing", "us-faster",
     ">=", 10),
    ("Array<double> 128 MiB: 4 engines write, program reads (vs raw MPI)", "sync",
     "array-128MiB", "mpi-raw", "GB/s", ">=", 0.8),
    ("the same, its first round (pages mapped in)", "sync",
     ("array-128MiB-first", "array-128MiB"), "mpi-raw", "GB/s", None, None),
]
print(f'{"between processes":52} {"ranks":>11} {"against":>11} {"ratio":>7}  goal')
for name, w, v, against, unit, op, goal in goals:
    mine_v, theirs_v = v if isinstance(v, tuple) else (v, v)
    mine, theirs = median(w, mine_v, "ranks"), median(w, theirs_v, against)
    q = ratio(theirs, mine) if unit == "us-faster" else ratio(mine, theirs)
    cell = lambda x: f"{x:11.4g}" if x is not None else f'{"-":>11}'
    if q is None:
        verdict = "not measured"
    elif op is None:
        verdict = f"measured ({against})"
    else:
        met = q >= goal if op == ">=" else q <= goal
        verdict = f"{op} {goal}x {against}: {'met' if met else 'NOT met'}"
    print(f"{name:52} {cell(mine)} {cell(theirs)} {q if q is None else round(q, 2)!s:>7}  {verdict}"
          f"  [{unit}]")
for v, goal in (("1M-ints-queued", "<= 64 MB"), ("1M-put-get-growth", "no growth")):
    m = median("queue", v, "ranks")
    print(f'{"memory: " + v:52} {m if m is None else round(m, 1)!s:>11} {"":11} {"":7}  {goal} [MB]')
