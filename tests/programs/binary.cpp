// Built twice with different RANKS_TEST_BINARY: as one binary the job runs, mixed it is refused.
#include <iostream>
#include <numeric>
#include <ranks/ranks.hpp>

int identity(int x) { return x + RANKS_TEST_BINARY - RANKS_TEST_BINARY; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool;
    auto out = pool.map(identity, std::vector<int>{1, 2, 3});
    std::cout << "binary " << RANKS_TEST_BINARY
              << " sum=" << std::accumulate(out.begin(), out.end(), 0) << std::endl;
  });
}
