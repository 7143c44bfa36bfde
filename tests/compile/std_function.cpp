// Must not compile: a std::function as a task (what it calls cannot be rebuilt elsewhere).
#include <functional>
#include <ranks/ranks.hpp>

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool;
    std::function<int(int)> f = [](int x) { return x + 1; };
    return pool.apply(f, 1);
  });
}
