// sync_bench: the objects that live in shared memory (Lock, Value, Barrier, Array) against what
// Python's multiprocessing does with the same (apps/bench/peers/multiprocessing_sync.py) and
// against hand-written MPI doing the same (one-sided fetch-and-op, a gather of the same bytes).
// Run under mpirun with 5 ranks (four engines); apps/bench/multihost.sh runs it across hosts.
//
//   mpirun -np 5 build/apps/sync_bench [--repeat R] [--json FILE] [--quick] [--only NAME]

#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

#include "report.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Measurement;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Python's `with lock: v.value += 1`, n times; each task times its own loop, from when all are
// up (as the Python peer's processes do).
double locked_increments(ranks::Lock lock, ranks::Value<std::int64_t> v, int n,
                         ranks::Barrier start) {
  (void)start.wait();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::scoped_lock g(lock);
    v.store(v.load() + 1);
  }
  return seconds_since(t0);
}

double fetch_adds(ranks::Value<std::int64_t> v, int n, ranks::Barrier start) {
  (void)start.wait();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) (void)v.fetch_add(1);
  return seconds_since(t0);
}

// Microseconds per wait, over n waits.
double barrier_waits(ranks::Barrier b, int n) {
  (void)b.wait();  // everyone is up
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) (void)b.wait();
  return seconds_since(t0) / n * 1e6;
}

// Seconds its write took (its block made first).
double write_block(ranks::Array<double> a, std::size_t first, std::size_t count) {
  std::vector<double> block(count);
  for (std::size_t i = 0; i < count; ++i) block[i] = static_cast<double>(first + i);
  const auto t0 = Clock::now();
  a.write(first, block);
  return seconds_since(t0);
}

// The same bytes by MPI: each engine's block gathered on the first engine.
double raw_gather(std::size_t each) {
  MPI_Comm c = ranks::engine_comm();
  int me = 0, n = 0;
  MPI_Comm_rank(c, &me);
  MPI_Comm_size(c, &n);
  std::vector<double> block(each);
  for (std::size_t i = 0; i < each; ++i) block[i] = static_cast<double>(i);
  std::vector<double> all(me == 0 ? each * static_cast<std::size_t>(n) : 0);  // touched
  MPI_Barrier(c);
  const auto t0 = Clock::now();
  MPI_Gather(block.data(), static_cast<int>(each), MPI_DOUBLE, all.data(), static_cast<int>(each),
             MPI_DOUBLE, 0, c);
  return seconds_since(t0);
}

// The same count by MPI one-sided: MPI_Fetch_and_op on a counter in the first engine's window
// (passive target); the seconds n of them took.
double raw_fetch_adds(int n) {
  MPI_Comm c = ranks::engine_comm();
  MPI_Win win = MPI_WIN_NULL;
  std::int64_t* counter = nullptr;
  MPI_Win_allocate(sizeof(std::int64_t), sizeof(std::int64_t), MPI_INFO_NULL, c, &counter, &win);
  *counter = 0;
  MPI_Barrier(c);
  MPI_Win_lock_all(0, win);
  const std::int64_t one = 1;
  std::int64_t old = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, 0, MPI_SUM, win);
    MPI_Win_flush(0, win);
  }
  const double s = seconds_since(t0);
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  return s;
}

struct Options {
  int repeat = 5;
  bool quick = false;
  std::string json;
  std::string only;
};

class Bench {
 public:
  explicit Bench(const Options& o)
      : o_(o),
        engines_(ranks::Client().ids()),
        w_(std::min(4, static_cast<int>(engines_.size()))) {}

  /// 1 if a result was wrong (a total, an element), else 0.
  int run() {
    report_.header();
    const auto run = [&](const char* name, void (Bench::*fn)()) {
      if (o_.only.empty() || std::string(name).find(o_.only) != std::string::npos) (this->*fn)();
    };
    run("lock-value", &Bench::lock_value);
    run("fetch-add", &Bench::fetch_add);
    run("barrier", &Bench::barrier);
    run("array", &Bench::array);
    if (!o_.json.empty()) report_.write_json(o_.json);
    return wrong_ ? 1 : 0;
  }

 private:
  int n(int full) const { return o_.quick ? full / 10 : full; }
  /// The w engines, one task each at once.
  ranks::DirectView engines() const {
    return ranks::Client()[std::vector<int>(engines_.begin(), engines_.begin() + w_)];
  }

  void add(std::string workload, std::string variant, std::string backend, int workers,
           std::string unit, std::vector<double> samples) {
    report_.add(Measurement{std::move(workload), std::move(variant), std::move(backend), workers,
                            std::move(unit), std::move(samples)});
  }
  void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "sync_bench: WRONG: %s\n", what);
    wrong_ = true;
  }

  // w engines, each 10 000 increments of one Value under one Lock.
  void lock_value() {
    const int per = n(10'000);
    auto view = engines();
    std::vector<double> s;
    for (int r = 0; r < o_.repeat; ++r) {
      ranks::Lock lock;
      ranks::Value<std::int64_t> v(0);
      ranks::Barrier start(static_cast<std::size_t>(w_));
      const auto t = view.apply(locked_increments, lock, v, per, start).get();
      s.push_back(w_ * per / *std::max_element(t.begin(), t.end()));
      check(v.load() == static_cast<std::int64_t>(w_) * per, "the locked total");
    }
    add("sync", "lock-value-increment", "ranks", w_, "ops/s", s);
  }

  // w engines, each 100 000 fetch_add on one Value.
  void fetch_add() {
    const int per = n(100'000);
    auto view = engines();
    std::vector<double> s, raw;
    for (int r = 0; r < o_.repeat; ++r) {
      ranks::Value<std::int64_t> v(0);
      ranks::Barrier start(static_cast<std::size_t>(w_));
      const auto t = view.apply(fetch_adds, v, per, start).get();
      s.push_back(w_ * per / *std::max_element(t.begin(), t.end()));
      check(v.load() == static_cast<std::int64_t>(w_) * per, "the fetch_add total");
      const auto rt = view.apply(raw_fetch_adds, per).get();
      raw.push_back(w_ * per / *std::max_element(rt.begin(), rt.end()));
    }
    add("sync", "value-fetch-add", "ranks", w_, "ops/s", s);
    add("sync", "value-fetch-add", "mpi-raw", w_, "ops/s", raw);
  }

  // Barrier(w).wait() on w engines at once (one task each, on its own engine).
  void barrier() {
    const int waits = n(2'000);
    auto view = engines();
    std::vector<double> s;
    for (int r = 0; r < o_.repeat; ++r) {
      ranks::Barrier b(static_cast<std::size_t>(w_));
      const std::vector<double> us = view.apply(barrier_waits, b, waits).get();
      s.push_back(*std::max_element(us.begin(), us.end()));
    }
    add("sync", "barrier-wait", "ranks", w_, "us", s);
  }

  // An Array<double> of 128 MiB: w engines write a block each (engine i block i), the program
  // reads it all into a buffer of its own (read_into); against MPI gathering the same blocks on
  // one engine. Timed: the slowest write, then the read (each block made before its write, as
  // MPI's is). The first round also maps the array's pages into each process (page faults):
  // it is reported apart ("first"), the others are the rounds after.
  void array() {
    const std::size_t total = (std::size_t{128} << 20) / sizeof(double);
    const std::size_t each = total / static_cast<std::size_t>(w_);
    ranks::Client rc;
    auto view = rc[std::vector<int>(engines_.begin(), engines_.begin() + w_)];
    std::vector<double> first, mine, raw;
    ranks::Array<double> a(total);
    std::vector<double> all(total);  // touched, as raw MPI's receive buffer is
    for (int r = 0; r <= o_.repeat; ++r) {
      std::vector<ranks::AsyncResult<double>> rs;
      rs.reserve(static_cast<std::size_t>(w_));
      for (int e = 0; e < w_; ++e)
        rs.push_back(rc[engines_[static_cast<std::size_t>(e)]].apply(
            write_block, a, static_cast<std::size_t>(e) * each, each));
      double writes = 0;
      for (auto& x : rs) writes = std::max(writes, x.get());
      const auto t0 = Clock::now();
      a.read_into(0, all);
      const double seconds = writes + seconds_since(t0);
      (r == 0 ? first : mine)
          .push_back(static_cast<double>(total * sizeof(double)) / seconds / 1e9);
      check(all[total - 1] == static_cast<double>(total - 1) &&
                all[each] == static_cast<double>(each),
            "the array's elements");
      const std::vector<double> t = view.apply(raw_gather, each).get();
      raw.push_back(static_cast<double>(total * sizeof(double)) /
                    *std::max_element(t.begin(), t.end()) / 1e9);
    }
    add("sync", "array-128MiB", "ranks", w_, "GB/s", mine);
    add("sync", "array-128MiB-first", "ranks", w_, "GB/s", first);
    add("sync", "array-128MiB", "mpi-raw", w_, "GB/s", raw);
  }

  Options o_;
  std::vector<int> engines_;
  int w_;
  bool wrong_ = false;
  bench::Report report_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"sync_bench: Lock, Value, Barrier and Array between ranks' processes"};
  app.add_option("--repeat", o.repeat, "repeats per measurement (median reported)");
  app.add_option("--json", o.json, "write one JSON object per measurement to this file");
  app.add_flag("--quick", o.quick, "a tenth of the work: a smoke run");
  app.add_option("--only", o.only,
                 "only the measurements whose name contains this: lock-value, fetch-add, "
                 "barrier, array");
  CLI11_PARSE(app, argc, argv);
  return ranks::run(argc, argv, [&] {
    if (ranks::Client().ids().size() < 2) {
      std::fprintf(stderr, "sync_bench: run it with at least 3 ranks (mpirun -np 5)\n");
      return 2;
    }
    return Bench(o).run();
  });
}
