// Lab 6.2: Pool(processes=4).map(square, [0..4]).
#include <iostream>
#include <ranks/ranks.hpp>

#include "print.hpp"

int square(int x) { return x * x; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool(4);
    std::vector<int> in{0, 1, 2, 3, 4};
    std::vector<int> out = pool.map(square, in);
    std::cout << "Input: " << as_list(in) << "\n";
    std::cout << "Output: " << as_list(out) << std::endl;
  });
}
