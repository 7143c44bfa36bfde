// Lab 6.4: ten apply_async, then get each.
#include <iostream>
#include <ranks/ranks.hpp>

#include "print.hpp"

int square(int x) { return x * x; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool(4);
    std::vector<ranks::AsyncResult<int>> results;
    results.reserve(10);
    for (int i = 0; i < 10; ++i) results.push_back(pool.apply_async(square, i));
    std::vector<int> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(r.get());
    std::cout << "Output: " << as_list(out) << std::endl;
  });
}
