// IPython parallel, task dependencies: a small pipeline whose steps wait for each other,
//   a = lview.apply(load, 0)
//   with lview.temp_flags(follow=a): c = lview.apply(clean, 0)    # where a left its data
//   with lview.temp_flags(after=cs): lview.apply(report)           # once every clean is done
// and a step that fails, taking what depends on it down with a clear error.
#include <unistd.h>

#include <iostream>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>
#include <vector>

// What load() leaves on its engine, for clean() to find there.
std::map<int, std::vector<int>> g_shards;

// Loads shard i on the engine (here: made up) and keeps it there; says how many values.
int load(int i) {
  if (i == 3) throw std::runtime_error("shard 3 is missing");
  std::vector<int> shard(100);
  std::iota(shard.begin(), shard.end(), i * 100);
  g_shards[i] = std::move(shard);
  return 100;
}

// Keeps the even values of shard i, which must be on this engine: it runs where load(i) ran.
int clean(int i) {
  auto found = g_shards.find(i);
  if (found == g_shards.end()) throw std::runtime_error("shard not on this engine");
  std::vector<int> kept;
  for (int v : found->second)
    if (v % 2 == 0) kept.push_back(v);
  found->second = kept;
  return static_cast<int>(kept.size());
}

int engine_pid() { return static_cast<int>(::getpid()); }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    ranks::LoadBalancedView lview = rc.load_balanced_view();
    std::vector<ranks::AsyncResult<int>> loads, cleans;
    for (int i = 0; i < 4; ++i) loads.push_back(lview.apply(load, i));
    for (int i = 0; i < 4; ++i)  // each clean follows its load: same engine, after it
      cleans.push_back(
          lview.with({.follow = {loads[static_cast<std::size_t>(i)]}}).apply(clean, i));
    for (int i = 0; i < 4; ++i) {
      const auto& c = cleans[static_cast<std::size_t>(i)];
      c.wait();
      if (c.successful()) {
        const bool same = c.metadata().at(0).engine_id ==
                          loads[static_cast<std::size_t>(i)].metadata().at(0).engine_id;
        std::cout << "shard " << i << ": loaded " << loads[static_cast<std::size_t>(i)].get()
                  << " values, kept " << c.get()
                  << " (cleaned on the engine that loaded it: " << (same ? "yes" : "no") << ")\n";
      } else {
        try {
          c.get();
        } catch (const ranks::DependencyError& e) {
          const std::string why = e.what();  // (which engine raised it varies: left out)
          std::cout << "shard " << i << ": " << why.substr(0, why.find(" (raised on")) << "\n";
        }
      }
    }
    // A step after the good shards only; the results composed when all are in.
    std::vector<ranks::Dependency> good(cleans.begin(), cleans.begin() + 3);
    auto report = lview.with({.after = good}).apply(engine_pid);
    std::vector<ranks::AsyncResult<int>> done(cleans.begin(), cleans.begin() + 3);
    const auto counts = ranks::when_all(done).get();
    report.wait();
    bool after_all = true;
    for (const auto& c : done)
      after_all = after_all && report.metadata().at(0).started >= c.metadata().at(0).completed;
    std::cout << "report started after every clean had completed: " << (after_all ? "yes" : "no")
              << "\n";
    std::cout << "values kept in all: " << std::accumulate(counts.begin(), counts.end(), 0)
              << std::endl;
  });
}
