// A run to observe (RANKS_TIMELINE, RANKS_DASHBOARD): a map of `tasks` tasks of chunksize 1,
// each returning the engine that ran it, an apply that fails, a Process, a queue holding an item
// and an event. Writes "item engine" for each map task to RESULTS, then, with `--wait FILE`,
// stays up (its engines idle, its objects alive) until FILE exists, for the dashboard's checks.
//
//   observed TASKS RESULTS [--sleep-ms N] [--wait FILE] [--timeline FILE]

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

int g_sleep_ms = 0;

int where(int) {
  if (g_sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_sleep_ms));
  return ranks::engine_id();
}

int fails(int) { throw std::runtime_error("this task fails on purpose"); }

void hello() {}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: observed TASKS RESULTS [--sleep-ms N] [--wait FILE] [--timeline FILE]\n";
    return 64;
  }
  const int tasks = std::atoi(argv[1]);
  const std::string results = argv[2];
  std::string wait_for, timeline;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--sleep-ms") g_sleep_ms = std::atoi(argv[i + 1]);
    if (flag == "--wait") wait_for = argv[i + 1];
    if (flag == "--timeline") timeline = argv[i + 1];
  }
  return ranks::run(argc, argv, [&]() -> int {
    if (!timeline.empty()) ranks::record_timeline(timeline);
    ranks::Pool pool;
    std::vector<int> in(tasks);
    const std::vector<int> engines = pool.map(where, in, 1);
    std::ofstream out(results);
    for (int i = 0; i < tasks; ++i) out << i << ' ' << engines[i] << '\n';
    out.close();
    try {
      pool.apply(fails, 0);
      std::cerr << "the failing task did not fail\n";
      return 1;
    } catch (const ranks::RemoteError&) {
    }
    ranks::Process p(hello);
    p.start();
    p.join();
    ranks::Queue<int> queue;
    queue.put(7);
    ranks::Event event;
    event.set();
    std::cout << "observed: " << tasks << " tasks ran" << std::endl;
    if (!wait_for.empty()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (!std::filesystem::exists(wait_for) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  });
}
