// Lab 7.3: Python's Manager example ("Sharing state between processes"): a Process changes a
// managed dict and list; the program prints them.
//
//   def f(d, l):
//       d[1] = '1'; d['2'] = 2; d[0.25] = None
//       l.reverse()
//   with Manager() as manager:
//       d = manager.dict(); l = manager.list(range(10))
//       p = Process(target=f, args=(d, l)); p.start(); p.join()
//       print(d); print(l)
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <vector>

#include "print.hpp"
#include "py_value.hpp"

void f(ranks::DictProxy<PyValue, PyValue> d, ranks::ListProxy<int> l) {
  d.set(1, "1");
  d.set("2", 2);
  d.set(0.25, None);
  l.reverse();
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Manager manager;
    auto d = manager.dict<PyValue, PyValue>();
    std::vector<int> range(10);
    std::iota(range.begin(), range.end(), 0);
    auto l = manager.list<int>(range);
    ranks::Process p(f, d, l);
    p.start();
    p.join();
    std::cout << repr(d.items()) << std::endl;     // prints "{1: '1', '2': 2, 0.25: None}"
    std::cout << as_list(l.items()) << std::endl;  // prints "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]"
  });
}
