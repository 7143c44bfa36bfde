from multiprocessing import Process, Queue, Pipe, Manager
def f(q): q.put([42, None, 'hello'])
def g(conn):
    conn.send([42, None, 'hello']); conn.close()
def h(d, l):
    d[1] = '1'; d['2'] = 2; d[0.25] = None; l.reverse()
if __name__ == '__main__':
    q = Queue(); p = Process(target=f, args=(q,)); p.start(); print(q.get()); p.join()
    a, b = Pipe(); p = Process(target=g, args=(b,)); p.start(); print(a.recv()); p.join()
    with Manager() as manager:
        d = manager.dict(); l = manager.list(range(10))
        p = Process(target=h, args=(d, l)); p.start(); p.join(); print(d); print(l)
