"""Python's multiprocessing.Pool on the benchmark's workloads."""
import math
import multiprocessing as mp

from common import (IMBALANCE_N, LATENCY_N, TINY_N, args, efficiency, emit, identity,
                    imbalance_tasks, many, nap, payload, per_call_us, rate, repeat, round_trip_gbs, spin,
                    square)

B = "multiprocessing"


def main():
    a = args()
    w, r = a.workers, a.repeat
    n = 10_000 if a.quick else TINY_N
    with mp.Pool(w) as pool:
        if a.workload == "many":
            return many(B, w, r, a.quick, lambda tasks, size: pool.map(
                nap, tasks, chunksize=size or math.ceil(len(tasks) / (4 * w))))
        emit("tiny", "auto-chunk", B, w, "tasks/s",
             repeat(r, lambda: rate(n, lambda: pool.map(square, range(n)))))
        emit("tiny", "chunksize-1", B, w, "tasks/s",
             repeat(r, lambda: rate(n, lambda: pool.map(square, range(n), chunksize=1))))
        m = 200 if a.quick else LATENCY_N
        emit("latency", "apply", B, w, "us",
             repeat(r, lambda: per_call_us(m, lambda i: pool.apply(square, (i,)))))
        tasks = imbalance_tasks()[: 40 if a.quick else IMBALANCE_N]
        emit("imbalance", "efficiency", B, w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, lambda: pool.map(spin, tasks))))
        emit("imbalance", "efficiency-chunksize-1", B, w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, lambda: pool.map(spin, tasks, chunksize=1))))
        data = payload(a.quick)
        emit("bandwidth", "apply", B, 1, "GB/s",
             repeat(r, lambda: round_trip_gbs(data, lambda d: pool.apply(identity, (d,)))))


if __name__ == "__main__":
    main()
