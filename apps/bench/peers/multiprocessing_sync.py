"""Python's multiprocessing Lock, Value and Barrier doing what sync_bench does with ranks's (the
same counts, four processes, one JSON object per measurement, backend "multiprocessing")."""
import multiprocessing as mp
import time

from common import args, emit, repeat

B = "multiprocessing"
W = 4


# Each worker times its own loop, from when all are up (as sync_bench's tasks do).
def locked_increments(lock, v, n, start, out, i):
    start.wait()
    t0 = time.perf_counter()
    for _ in range(n):
        with lock:
            v.value += 1
    out[i] = time.perf_counter() - t0


def get_lock_increments(v, n, start, out, i):
    start.wait()
    t0 = time.perf_counter()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    out[i] = time.perf_counter() - t0


def barrier_waits(b, n, out, i):
    b.wait()  # everyone is up
    t0 = time.perf_counter()
    for _ in range(n):
        b.wait()
    out[i] = (time.perf_counter() - t0) / n * 1e6


def run_all(target, argsets):
    ps = [mp.Process(target=target, args=a) for a in argsets]
    for p in ps:
        p.start()
    for p in ps:
        p.join()


def main():
    a = args()
    scale = 10 if a.quick else 1
    r = a.repeat

    def lock_value():
        per = 10_000 // scale
        lock, v = mp.Lock(), mp.Value("q", 0, lock=False)
        start, out = mp.Barrier(W), mp.Array("d", W)
        run_all(locked_increments, [(lock, v, per, start, out, i) for i in range(W)])
        assert v.value == W * per
        return W * per / max(out)
    emit("sync", "lock-value-increment", B, W, "ops/s", repeat(r, lock_value))

    def get_lock_value():
        per = 100_000 // scale
        v = mp.Value("q", 0)
        start, out = mp.Barrier(W), mp.Array("d", W)
        run_all(get_lock_increments, [(v, per, start, out, i) for i in range(W)])
        assert v.value == W * per
        return W * per / max(out)
    emit("sync", "value-fetch-add", B, W, "ops/s", repeat(r, get_lock_value))

    def barrier():
        n = 2_000 // scale
        b, out = mp.Barrier(W), mp.Array("d", W)
        run_all(barrier_waits, [(b, n, out, i) for i in range(W)])
        return max(out)
    emit("sync", "barrier-wait", B, W, "us", repeat(r, barrier))


if __name__ == "__main__":
    main()
