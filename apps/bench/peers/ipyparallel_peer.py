"""ipyparallel (LoadBalancedView, DirectView) on the benchmark's workloads, and what a started
cluster costs: ipcluster's start to engines ready, and a client in a process of its own from its
start to its first result."""
import math
import os
import subprocess
import sys
import time

import ipyparallel as ipp

from common import (IMBALANCE_N, REDUCE_N, TINY_N, args, efficiency, emit, identity, imbalance_tasks, log,
                    payload, per_call_us, rate, repeat, round_trip_gbs, spin, square)

B = "ipyparallel"


# A client of the running cluster, in a process of its own: seconds from the process's start to
# its first result.
CLIENT = """
import os, sys, time
import ipyparallel as ipp
rc = ipp.Client(cluster_id=sys.argv[1], profile_dir=sys.argv[2])
rc.load_balanced_view().apply_sync(abs, -1)
start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])
boot = time.clock_gettime(time.CLOCK_BOOTTIME)
print(boot - start / os.sysconf('SC_CLK_TCK'))
"""


def main():
    a = args()
    # The engines unpickle the tasks' functions from this folder's common.py.
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    w, r = a.workers, min(a.repeat, 3)
    t0 = time.perf_counter()
    cluster = ipp.Cluster(n=w, log_level=40)
    rc = cluster.start_and_connect_sync()
    try:
        rc.wait_for_engines(w, timeout=120)
        emit("cluster-start", f"-n {w}", B, w, "s", [time.perf_counter() - t0])
        attach = [float(subprocess.run([sys.executable, "-c", CLIENT, cluster.cluster_id,
                                        cluster.profile_dir], capture_output=True, text=True,
                                       check=True).stdout) for _ in range(r)]
        emit("startup", "attach", B, w, "s", attach)
        lview = rc.load_balanced_view()
        dview = rc[:]
        dview.execute("import time").get()
        n = 10_000 if a.quick else TINY_N
        auto = math.ceil(n / (4 * w))
        emit("tiny", "auto-chunk", B, w, "tasks/s",
             repeat(r, lambda: rate(n, lambda: lview.map_sync(square, range(n), chunksize=auto))))
        n1 = 200 if a.quick else 1000
        emit("tiny", "chunksize-1", B, w, "tasks/s",
             repeat(r, lambda: rate(n1, lambda: lview.map_sync(square, range(n1)))), n=n1)
        m = 50 if a.quick else 200
        emit("latency", "apply", B, w, "us",
             repeat(r, lambda: per_call_us(m, lambda i: lview.apply_sync(square, i))), n=m)
        tasks = imbalance_tasks()[: 40 if a.quick else IMBALANCE_N]
        emit("imbalance", "efficiency", B, w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, lambda: lview.map_sync(spin, tasks))))
        emit("imbalance", "efficiency", B + "-direct", w, "ideal/wall",
             repeat(r, lambda: efficiency(tasks, w, lambda: dview.map_sync(spin, tasks))))
        data = payload(a.quick)
        e0 = rc[0]
        emit("bandwidth", "apply", B, 1, "GB/s",
             repeat(r, lambda: round_trip_gbs(data, lambda d: e0.apply_sync(identity, d))))

        def push_pull(d):
            e0.push({"v": d}, block=True)
            return e0.pull("v", block=True)

        emit("bandwidth", "push-pull", B + "-direct", 1, "GB/s",
             repeat(r, lambda: round_trip_gbs(data, push_pull)))

        # A vector on every engine, summed element by element: ipyparallel's way is to pull
        # them all and sum on the client.
        n = 1 << 16 if a.quick else REDUCE_N
        dview.execute(f"import numpy; rv = numpy.full({n}, 1.5)", block=True)

        def pull_sum():
            t0 = time.perf_counter()
            total = sum(dview.pull("rv", block=True))
            assert len(total) == n
            return (time.perf_counter() - t0) * 1000

        emit("reduce", "pull-then-sum", B + "-direct", w, "ms", repeat(r, pull_sum), n=n)
    finally:
        rc.close()
        cluster.stop_cluster_sync()


if __name__ == "__main__":
    main()
