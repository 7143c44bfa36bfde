// Must not compile: a lambda with captures cannot travel to an engine.
#include <ranks/ranks.hpp>

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool;
    int k = 2;
    auto out = pool.map([k](int x) { return k * x; }, std::vector<int>{1, 2});
    return out[0];
  });
}
