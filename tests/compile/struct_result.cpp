// Must not compile: a struct holding a std::string, with no serialize(), as a task's result.
#include <ranks/ranks.hpp>
#include <string>

struct Outcome {
  std::string name;
  double x = 0;
};
Outcome run_one(int x) { return {"a", static_cast<double>(x)}; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool;
    return static_cast<int>(pool.apply(run_one, 1).x);
  });
}
