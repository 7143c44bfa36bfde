// Lab 7.5: Python's Lock example ("Synchronization between processes" in the multiprocessing
// documentation): ten Processes print a line each, one at a time, so that lines stay whole.
//
//   def f(l, i):
//       l.acquire()
//       try:
//           print('hello world', i)
//       finally:
//           l.release()
//   lock = Lock()
//   for num in range(10):
//       Process(target=f, args=(lock, num)).start()
#include <iostream>
#include <mutex>
#include <ranks/ranks.hpp>
#include <vector>

void f(ranks::Lock l, int i) {
  std::scoped_lock g(l);
  std::cout << "hello world " << i << std::endl;
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Lock lock;
    std::vector<decltype(ranks::Process(f, lock, 0))> processes;
    for (int num = 0; num < 10; ++num) processes.emplace_back(f, lock, num).start();
    for (auto& p : processes) p.join();  // Python joins them as it exits
  });
}
