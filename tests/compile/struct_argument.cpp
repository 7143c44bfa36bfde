// Must not compile: a struct holding a std::string, with no serialize(), as a map's items.
#include <ranks/ranks.hpp>
#include <string>

struct Params {
  std::string name;
  double x = 0;
};
double run_one(Params p) { return p.x; }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool;
    auto out = pool.map(run_one, std::vector<Params>{{"a", 1}});
    return static_cast<int>(out[0]);
  });
}
