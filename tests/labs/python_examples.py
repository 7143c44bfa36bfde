from multiprocessing import Process, Queue, Pipe, Manager, Value, Array, Lock
def f(q): q.put([42, None, 'hello'])
def g(conn):
    conn.send([42, None, 'hello']); conn.close()
def h(d, l):
    d[1] = '1'; d['2'] = 2; d[0.25] = None; l.reverse()
def k(n, a):
    n.value = 3.1415927
    for i in range(len(a)): a[i] = -a[i]
def m(l, i):
    l.acquire()
    try: print('hello world', i)
    finally: l.release()
if __name__ == '__main__':
    q = Queue(); p = Process(target=f, args=(q,)); p.start(); print(q.get()); p.join()
    a, b = Pipe(); p = Process(target=g, args=(b,)); p.start(); print(a.recv()); p.join()
    with Manager() as manager:
        d = manager.dict(); l = manager.list(range(10))
        p = Process(target=h, args=(d, l)); p.start(); p.join(); print(d); print(l)
    num = Value('d', 0.0); arr = Array('i', range(10))
    p = Process(target=k, args=(num, arr)); p.start(); p.join(); print(num.value); print(arr[:])
    lock = Lock()  # the lines come in any order: lab75_lock.out has them sorted
    for num in range(10): Process(target=m, args=(lock, num)).start()
