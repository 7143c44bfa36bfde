// Lab 7.4: Python's shared memory example ("Sharing state between processes" in the
// multiprocessing documentation): a Process changes a Value and an Array, the program prints them.
//
//   def f(n, a):
//       n.value = 3.1415927
//       for i in range(len(a)):
//           a[i] = -a[i]
//   num = Value('d', 0.0); arr = Array('i', range(10))
//   p = Process(target=f, args=(num, arr)); p.start(); p.join()
//   print(num.value); print(arr[:])
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <vector>

#include "py_value.hpp"

void f(ranks::Value<double> n, ranks::Array<int> a) {
  n.store(3.1415927);
  for (std::size_t i = 0; i < a.size(); ++i) a.store(i, -a.load(i));
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Value<double> num(0.0);
    std::vector<int> range(10);
    std::iota(range.begin(), range.end(), 0);
    ranks::Array<int> arr(range);
    ranks::Process p(f, num, arr);
    p.start();
    p.join();
    std::cout << PyValue(num.load()).repr() << std::endl;  // prints "3.1415927"
    const std::vector<int> all = arr.read();
    std::cout << repr(std::vector<PyValue>(all.begin(), all.end())) << std::endl;
    // prints "[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]"
  });
}
