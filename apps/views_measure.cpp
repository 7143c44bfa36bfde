// Measures the views: load-balance efficiency (ideal time / wall time, ideal = sum of task times
// / engines) of 400 uneven busy-wait tasks through LoadBalancedView::map and DirectView::map, and
// the controller's peak memory (VmHWM) for a load-balanced map of 1,000,000 ints.
//   mpirun -np 3 build/apps/views_measure
#include <chrono>
#include <fstream>
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

namespace {

double task_ms(int i) { return 0.1 + 4.9 * ((i * 7919) % 400) / 399.0; }

int busy(int i) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::nanoseconds(static_cast<long long>(task_ms(i) * 1e6));
  while (std::chrono::steady_clock::now() < until) {
  }
  return i;
}

int square(int x) { return x * x; }

long kb(const char* key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size() + 1));
  return -1;
}

std::string vm(const char* key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return line.substr(std::string(key).size() + 1);
  return "?";
}

template <class Map>
double efficiency(const std::vector<int>& in, int engines, Map map) {
  double ideal_ms = 0;
  for (int i : in) ideal_ms += task_ms(i);
  ideal_ms /= engines;
  const auto t0 = std::chrono::steady_clock::now();
  map();
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "  ideal " << ideal_ms << " ms, wall " << wall_ms << " ms\n";
  return ideal_ms / wall_ms;
}

}  // namespace

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    const int engines = static_cast<int>(rc.ids().size());
    std::vector<int> in(400);
    std::iota(in.begin(), in.end(), 0);
    auto lview = rc.load_balanced_view();
    auto dview = rc.direct_view();
    lview.map(busy, std::vector<int>{0, 1}).get();  // warm up
    std::cout << "400 tasks of 0.1-5 ms on " << engines << " engines\n";
    const double lb = efficiency(in, engines, [&] { lview.map(busy, in).get(); });
    std::cout << "LoadBalancedView::map efficiency: " << lb << "\n";
    const double lb1 =
        efficiency(in, engines, [&] { lview.map(busy, in, {.chunksize = 1}).get(); });
    std::cout << "LoadBalancedView::map (chunksize 1) efficiency: " << lb1 << "\n";
    const double st = efficiency(in, engines, [&] { dview.map(busy, in).get(); });
    std::cout << "DirectView::map efficiency: " << st << "\n";

    std::cout << "controller VmHWM before the big map: " << vm("VmHWM:") << "\n";
    std::vector<int> big(1'000'000);
    std::iota(big.begin(), big.end(), 0);
    const auto out = lview.map(square, big).get();
    std::cout << "load-balanced map of " << big.size() << " ints (automatic chunks), result "
              << out.size() << " ints; controller VmHWM: " << vm("VmHWM:") << std::endl;

    // A task graph: task i runs after task i - 100; what the controller holds per task while
    // they wait (its resident memory after submitting all, before they finish), at two sizes.
    for (int n : {10'000, 100'000}) {
      const long before = kb("VmRSS:");
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<ranks::AsyncResult<int>> graph;
      graph.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        graph.push_back(i < 100 ? lview.apply(square, i)
                                : lview.with({.after = {graph[k - 100]}}).apply(square, i));
      }
      const long held = kb("VmRSS:") - before;
      const double submit_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const auto values = ranks::when_all(graph).get();
      const double all_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "task graph of " << n << " (each after the 100th before it): submitted in "
                << submit_ms << " ms, done in " << all_ms << " ms; controller memory held " << held
                << " KiB, " << held * 1024 / n << " bytes a task; " << values.size() << " values"
                << std::endl;
    }
  });
}
