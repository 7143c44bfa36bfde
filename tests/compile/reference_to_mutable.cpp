// Must not compile: a ranks::Reference bound to a T& parameter (the engine lends its value to
// be read, not changed).
#include <ranks/ranks.hpp>
#include <vector>

double total(std::vector<double>& data) {
  double s = 0;
  for (double d : data) s += d;
  return s;
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    auto lview = rc.load_balanced_view();
    return static_cast<int>(lview.apply(total, ranks::Reference("data")).get());
  });
}
