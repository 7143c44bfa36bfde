// IPython parallel, load-balanced view: uneven tasks go to whichever engine is free, like
//   lview = rc.load_balanced_view(); lview.map(work, range(20)).get()
#include <chrono>
#include <iostream>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <thread>
#include <vector>

#include "print.hpp"

// Task i takes (i % 5) * 10 ms: some short, some long.
int work(int i) {
  std::this_thread::sleep_for(std::chrono::milliseconds((i % 5) * 10));
  return i * i;
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    ranks::LoadBalancedView lview = rc.load_balanced_view();
    std::vector<int> in(20);
    std::iota(in.begin(), in.end(), 0);
    auto r = lview.map(work, in, {.chunksize = 1});
    std::cout << "Input: " << as_list(in) << "\n";
    std::cout << "Output: " << as_list(r.get()) << "\n";
    std::map<int, int> ran;
    for (int id : rc.ids()) ran[id] = 0;
    for (const auto& m : r.metadata()) ran[m.engine_id] += static_cast<int>(m.count);
    for (auto [id, n] : ran) std::cout << "  engine " << id << " ran " << n << " tasks\n";
    std::cout << "apply(work, 7): " << lview.apply(work, 7).get() << std::endl;
  });
}
