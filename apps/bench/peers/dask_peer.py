"""Dask distributed futures on a LocalCluster of single-threaded worker processes."""
import math

from dask.distributed import Client, LocalCluster, wait

from common import (IMBALANCE_N, args, efficiency, emit, identity, imbalance_tasks, many, nap,
                    nap_chunk, payload,
                    per_call_us, rate, repeat, round_trip_gbs, spin, square)

B = "dask"


def main():
    a = args()
    w, r = a.workers, min(a.repeat, 3)
    with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        if a.workload == "many":
            def run(tasks, size):
                if size == 1:
                    return client.gather(client.map(nap, tasks, pure=False))
                k = math.ceil(len(tasks) / (4 * w))  # Dask cuts no chunks: lists of k as tasks
                chunks = [tasks[i:i + k] for i in range(0, len(tasks), k)]
                return client.gather(client.map(nap_chunk, chunks, pure=False))
            return many(B, w, r, a.quick, run, max_tasks=500)  # 1-20 ms a task
        n1 = 200 if a.quick else 2000

        def one_task_per_element():
            futures = client.map(square, range(n1), pure=False)
            client.gather(futures)

        emit("tiny", "chunksize-1", B, w, "tasks/s",
             repeat(r, lambda: rate(n1, one_task_per_element)), n=n1)
        m = 50 if a.quick else 200
        emit("latency", "apply", B, w, "us",
             repeat(r, lambda: per_call_us(m, lambda i: client.submit(square, i, pure=False).result())),
             n=m)
        tasks = imbalance_tasks()[: 40 if a.quick else IMBALANCE_N]

        def run_tasks():
            client.gather(client.map(spin, tasks, pure=False))

        emit("imbalance", "efficiency", B, w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, run_tasks)))
        data = payload(a.quick)
        emit("bandwidth", "apply", B, 1, "GB/s",
             repeat(r, lambda: round_trip_gbs(
                 data, lambda d: client.submit(identity, d, pure=False).result())))


if __name__ == "__main__":
    main()
