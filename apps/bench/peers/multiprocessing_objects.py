"""Python's multiprocessing Queue, Pipe and Manager doing what objects_bench does with ranks's
(the same counts, one JSON object per measurement, backend "multiprocessing")."""
import multiprocessing as mp
import time

from common import args, emit, repeat

B = "multiprocessing"


def put_ints(q, first, n):
    for i in range(n):
        q.put(first + i)


def get_ints(q, n):
    s = 0
    for _ in range(n):
        s += q.get()
    return s


def echo(conn, n):
    for _ in range(n):
        conn.send(conn.recv())


def bounce(conn, times):
    for _ in range(times):
        conn.send_bytes(conn.recv_bytes())


def dict_work(d, ident, n):
    for i in range(n):
        d[ident * n + i] = i
        assert d[ident * n + i] == i


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    a = args()
    scale = 10 if a.quick else 1
    r = a.repeat

    def queue_into_parent(producers, total):
        per = total // scale // producers
        q = mp.Queue()
        ps = [mp.Process(target=put_ints, args=(q, e * per, per)) for e in range(producers)]
        t0 = time.perf_counter()
        for p in ps:
            p.start()
        for _ in range(producers * per):
            q.get()
        s = producers * per / (time.perf_counter() - t0)
        for p in ps:
            p.join()
        return s
    emit("queue", "1-engine-put", B, 1, "items/s",
         repeat(r, lambda: queue_into_parent(1, 1_000_000)))
    emit("queue", "4-engines-put", B, 4, "items/s",
         repeat(r, lambda: queue_into_parent(4, 1_000_000)))

    def queue_between():
        n = 200_000 // scale
        q = mp.Queue()
        getter = mp.Process(target=get_ints, args=(q, n))
        putter = mp.Process(target=put_ints, args=(q, 0, n))
        t0 = time.perf_counter()
        getter.start()
        putter.start()
        putter.join()
        getter.join()
        return n / (time.perf_counter() - t0)
    emit("queue", "engine-to-engine", B, 2, "items/s", repeat(r, queue_between))

    def pipe_round_trip():
        n = 20_000 // scale
        a_end, b_end = mp.Pipe()
        p = mp.Process(target=echo, args=(b_end, n))
        p.start()
        a_end.send(0)  # the child is up
        a_end.recv()
        t0 = time.perf_counter()
        for i in range(n - 1):
            a_end.send(i)
            a_end.recv()
        us = (time.perf_counter() - t0) / (n - 1) * 1e6
        p.join()
        return us
    emit("pipe", "round-trip", B, 2, "us", repeat(r, pipe_round_trip))

    def pipe_blocks():
        times = 1 if a.quick else 3
        block = b"x" * (64 << 20)
        a_end, b_end = mp.Pipe()
        p = mp.Process(target=bounce, args=(b_end, times))
        p.start()
        t0 = time.perf_counter()
        for _ in range(times):
            a_end.send_bytes(block)
            block = a_end.recv_bytes()
        gbs = 2 * len(block) * times / (time.perf_counter() - t0) / 1e9
        p.join()
        return gbs
    emit("pipe", "64MiB-each-way", B, 2, "GB/s", repeat(r, pipe_blocks))

    with mp.Manager() as manager:
        def dict_four():
            per = 20_000 // scale
            d = manager.dict()
            ps = [mp.Process(target=dict_work, args=(d, e, per)) for e in range(4)]
            t0 = time.perf_counter()
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            return 4 * 2 * per / (time.perf_counter() - t0)
        emit("manager", "dict-set-get", B, 4, "ops/s", repeat(r, dict_four))


if __name__ == "__main__":
    main()
