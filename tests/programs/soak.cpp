// Soak: 200 000 small tasks through apply_async and map, in a loop. Nothing may be lost and the
// controller's memory must stay flat; prints the growth after the first round.
#include <fstream>
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  long value = 0;
  while (f >> key) {
    if (key == "VmRSS:") {
      f >> value;
      return value;
    }
    std::getline(f, key);
  }
  return 0;
}

long long triple(int x) { return 3ll * x; }

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 10;
  return ranks::run(argc, argv, [&]() -> int {
    ranks::Pool pool;
    std::vector<int> in(10000);
    std::iota(in.begin(), in.end(), 0);
    long first = 0;
    long long tasks = 0;
    for (int round = 0; round < rounds; ++round) {
      // 10 000 apply_async, gathered in batches, then a map of 10 000 items with chunksize 1.
      std::vector<ranks::AsyncResult<long long>> rs;
      rs.reserve(1000);
      for (int i = 0; i < 10000; ++i) {
        rs.push_back(pool.apply_async(triple, i));
        if (rs.size() == 1000) {
          for (std::size_t k = 0; k < rs.size(); ++k)
            if (rs[k].get() != 3ll * (i - 999 + static_cast<int>(k))) return 3;
          rs.clear();
        }
      }
      const auto out = pool.map(triple, in, 1);
      for (int i = 0; i < 10000; ++i)
        if (out[static_cast<std::size_t>(i)] != 3ll * i) return 4;
      tasks += 20000;
      if (round == 0) first = rss_kb();
    }
    const long growth = rss_kb() - first;
    std::cout << "tasks=" << tasks << " rss_after_first_round_kb=" << first
              << " growth_kb=" << growth << std::endl;
    return growth < 8 * 1024 ? 0 : 5;  // flat: under 8 MiB over the whole soak
  });
}
