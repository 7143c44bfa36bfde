// Must not compile: a reduce whose operation has state (it is made again on each engine).
#include <ranks/ranks.hpp>

struct Weighted {
  explicit Weighted(double w) : w_(w) {}
  double operator()(double a, double b) const { return a + w_ * b; }
  double w_;
};

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    return static_cast<int>(rc.direct_view().reduce<double>("x", Weighted(2.0)).get());
  });
}
