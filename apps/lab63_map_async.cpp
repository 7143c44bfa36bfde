// Lab 6.3: map_async, then get.
#include <iostream>
#include <ranks/ranks.hpp>

#include "print.hpp"

int square(int x) { return x * x; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool(4);
    ranks::AsyncResult<std::vector<int>> result =
        pool.map_async(square, std::vector<int>{0, 1, 2, 3, 4});
    std::cout << "Output: " << as_list(result.get()) << std::endl;
  });
}
