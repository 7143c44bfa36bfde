// Whole-program behaviour of ranks::run: exit codes, a throwing body, growing past the world.
#include <chrono>
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>
#include <thread>

int busy_for_minutes(int) {
  std::this_thread::sleep_for(std::chrono::minutes(10));
  return 0;
}

int twice(int x) { return 2 * x; }

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const int n = argc > 2 ? std::stoi(argv[2]) : 0;
  if (mode == "no-run") {  // the API without ranks::run: one message, exit code 1
    ranks::Pool pool(2);
    return pool.apply(twice, 1);
  }
  return ranks::run(argc, argv, [&]() -> int {
    if (mode == "return") {
      std::cout << "engines=" << ranks::engine_count() << std::endl;
      return n;
    }
    if (mode == "spawn-return") {
      ranks::Pool pool(2);
      std::cout << "engines=" << ranks::engine_count() << std::endl;
      return n;
    }
    if (mode == "throw") throw std::runtime_error("bad input");
    if (mode == "throw-busy") {
      ranks::Pool pool(2);
      for (int e = 0; e < pool.size(); ++e) pool.apply_async(busy_for_minutes, e);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      throw std::runtime_error("failed while engines were busy");
    }
    if (mode == "grow") {
      ranks::Pool pool(n);
      std::vector<int> in(100);
      std::iota(in.begin(), in.end(), 0);
      auto out = pool.map(twice, in, 1);
      if (out[99] != 198) return 5;
      std::cout << "engines=" << ranks::engine_count() << std::endl;
      return 0;
    }
    std::cerr << "usage: exit_code return N | spawn-return N | throw | throw-busy | grow N | "
                 "no-run\n";
    return 64;
  });
}
