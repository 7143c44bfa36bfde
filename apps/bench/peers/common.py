"""The benchmark's workloads and reporting, shared by the Python peers.

Same definitions as apps/bench/workloads.hpp, so that every tool runs the same tasks; each
peer prints one JSON object per measurement (the fields ranks_bench writes).
"""
import json
import statistics
import sys
import time

TINY_N = 100_000
LATENCY_N = 2000
IMBALANCE_N = 400
BANDWIDTH_BYTES = 64 << 20
REDUCE_N = 1_000_000  # doubles per engine, summed elementwise


def square(x):
    return x * x


def spin(ms):
    """Busy-waits (spins on a monotonic clock, never sleeps) for ms milliseconds."""
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass
    return ms


def nap(us):
    """Sleeps us microseconds (needs no core: many workers share two)."""
    time.sleep(us / 1e6)
    return us


def nap_chunk(chunk):
    """A chunk of sleeping tasks as one task (for tools that do not cut chunks themselves)."""
    return [nap(us) for us in chunk]


def nap_count(us, workers, seconds):
    """How many sleeping tasks of us keep workers busy for about seconds (4 to 200 000)."""
    return int(min(max(seconds * 1e6 / us * workers, 4 * workers), 200_000))


def many(backend, workers, r, quick, run, max_tasks=20_000):
    """The many-engines workload (ranks_bench --workload many): tasks sleeping 10 ms, 1 ms and
    100 us, one per message and in automatic chunks; run(tasks, chunksize) maps nap over tasks
    (chunksize None: the tool's own or ceil(n / (4 workers))). At most max_tasks a run (the
    Python tools manage tens of thousands of tasks a second at best; one that pays about a
    millisecond a task gives fewer), so that the sweep stays within minutes."""
    for us in (10_000.0, 1000.0, 100.0):
        n = min(nap_count(us, workers, 0.05 if quick else 0.5), max_tasks)
        tasks = [us] * n
        ideal = us * 1e-6 * n / workers
        for chunks, size in (("chunksize-1", 1), ("auto", None)):
            def once():
                t0 = time.perf_counter()
                run(tasks, size)
                return ideal / (time.perf_counter() - t0)
            once()  # warm: workers started, modules imported
            samples = repeat(min(r, 3), once)
            emit("many", f"{int(us)}us-{chunks}", backend, workers, "ideal/wall", samples,
                 task_us=us, tasks=n, tasks_per_s=statistics.median(samples) * n / ideal)


def identity(x):
    return x


def payload(quick):
    """The bandwidth workload's data: 64 MiB of doubles (1 MiB with --quick), as numpy holds it."""
    import numpy
    return numpy.full((1 << 20 if quick else BANDWIDTH_BYTES) // 8, 1.5)


def round_trip_gbs(data, fn):
    """GB/s of a round trip of data: 2 x bytes / seconds."""
    t0 = time.perf_counter()
    back = fn(data)
    seconds = time.perf_counter() - t0
    assert len(back) == len(data)
    return 2.0 * data.nbytes / seconds / 1e9


def task_ms(i):
    return 0.1 + 4.9 * ((i * 7919) % IMBALANCE_N) / 399.0


def imbalance_tasks():
    order = sorted(range(IMBALANCE_N), key=lambda i: (i * 2654435761) % 2**32)
    return [task_ms(i) for i in order]


def emit(workload, variant, backend, workers, unit, samples, **extra):
    row = dict(extra)
    row.update(workload=workload, variant=variant, backend=backend, workers=workers,
               median=statistics.median(samples), min=min(samples), max=max(samples),
               unit=unit, repeat=len(samples))
    print(json.dumps(row), flush=True)


def repeat(n, fn):
    return [fn() for _ in range(n)]


def rate(n, fn):
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def per_call_us(n, fn):
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t0) * 1e6 / n


def efficiency(tasks, workers, fn):
    ideal = sum(tasks) / 1000.0 / workers
    t0 = time.perf_counter()
    fn()
    return ideal / (time.perf_counter() - t0)


def args():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--workload", default="",
                   help="many: only the many-engines workload (else every other one)")
    a = p.parse_args()
    return a


def log(*what):
    print(*what, file=sys.stderr, flush=True)
