// IPython parallel with MPI inside the engines: a Monte Carlo estimate of pi, each engine
// sampling on its own, then one reduction among the engines (ipyparallel's advice for
// reductions: "use MPI"), like
//   dview.execute('hits = sample(n)'); comm.allreduce(hits, op=MPI.SUM)
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <random>
#include <ranks/ranks.hpp>

constexpr std::int64_t kSamples = 2'000'000;  // per engine

// On each engine: how many of kSamples random points of the unit square fall in the circle.
void sample(ranks::Namespace& ns) {
  std::mt19937_64 gen(static_cast<std::uint64_t>(ranks::engine_id()) + 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < kSamples; ++i) {
    const double x = u(gen), y = u(gen);
    hits += x * x + y * y <= 1.0 ? 1 : 0;
  }
  ns.set("hits", hits);
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    ranks::DirectView dview = rc.direct_view();
    dview.execute(sample).get();
    const auto engines = static_cast<std::int64_t>(dview.size());
    // One MPI_Reduce among the engines, the sum sent back.
    const std::int64_t hits = dview.reduce<std::int64_t>("hits", std::plus<>{}).get();
    std::cout << engines << " engines sampled " << engines * kSamples << " points; pi is about "
              << std::fixed << std::setprecision(4)
              << 4.0 * static_cast<double>(hits) / static_cast<double>(engines * kSamples) << "\n";
    // One MPI_Allreduce: every engine gets the total in its namespace, for more work there.
    dview.allreduce<std::int64_t>("hits", std::plus<>{}, "total").get();
    const auto totals = dview.pull<std::int64_t>("total").get();
    bool same = true;
    for (auto t : totals) same = same && t == hits;
    std::cout << "every engine holds the same total: " << (same ? "yes" : "no") << std::endl;
  });
}
