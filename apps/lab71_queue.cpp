// Lab 7.1: Python's Queue example ("Exchanging objects between processes" in the multiprocessing
// documentation): a Process puts a list, the program gets it and prints it.
//
//   def f(q):
//       q.put([42, None, 'hello'])
//   q = Queue(); p = Process(target=f, args=(q,)); p.start(); print(q.get()); p.join()
#include <iostream>
#include <ranks/ranks.hpp>
#include <vector>

#include "py_value.hpp"

void f(ranks::Queue<std::vector<PyValue>> q) { q.put({42, None, "hello"}); }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Queue<std::vector<PyValue>> q;
    ranks::Process p(f, q);
    p.start();
    std::cout << repr(q.get()) << std::endl;  // prints "[42, None, 'hello']"
    p.join();
  });
}
