"""mpi4py.futures.MPIPoolExecutor on the benchmark's workloads.

Run as: mpirun -np W+1 python3 -m mpi4py.futures mpi4py_peer.py --workers W
"""
import math

from mpi4py.futures import MPIPoolExecutor

from common import (IMBALANCE_N, LATENCY_N, TINY_N, args, efficiency, emit, identity,
                    imbalance_tasks, many, nap, payload, per_call_us, rate, repeat, round_trip_gbs, spin,
                    square)

B = "mpi4py.futures"


def main():
    a = args()
    w, r = a.workers, a.repeat
    n = 10_000 if a.quick else TINY_N
    with MPIPoolExecutor() as ex:
        if a.workload == "many":
            return many(B, w, r, a.quick, lambda tasks, size: list(ex.map(
                nap, tasks, chunksize=size or math.ceil(len(tasks) / (4 * w)))))
        auto = math.ceil(n / (4 * w))
        emit("tiny", "auto-chunk", B, w, "tasks/s",
             repeat(r, lambda: rate(n, lambda: list(ex.map(square, range(n), chunksize=auto)))))
        n1 = 2000 if a.quick else 20_000
        emit("tiny", "chunksize-1", B, w, "tasks/s",
             repeat(r, lambda: rate(n1, lambda: list(ex.map(square, range(n1))))), n=n1)
        m = 200 if a.quick else LATENCY_N
        emit("latency", "apply", B, w, "us",
             repeat(r, lambda: per_call_us(m, lambda i: ex.submit(square, i).result())))
        tasks = imbalance_tasks()[: 40 if a.quick else IMBALANCE_N]
        emit("imbalance", "efficiency", B, w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, lambda: list(ex.map(spin, tasks)))))
        data = payload(a.quick)
        emit("bandwidth", "apply", B, 1, "GB/s",
             repeat(r, lambda: round_trip_gbs(data, lambda d: ex.submit(identity, d).result())))


if __name__ == "__main__":
    main()
