// objects_bench: the objects shared between processes (Queue, Pipe, Manager) against what
// Python's multiprocessing does with the same (apps/bench/peers/multiprocessing_objects.py) and
// against hand-written MPI between the same two engines. Run under mpirun with 5 ranks (four
// engines) or more.
//
//   mpirun -np 5 build/apps/objects_bench [--repeat R] [--json FILE] [--quick]

#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

#include "report.hpp"
#include "resident_memory.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Measurement;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int put_ints(ranks::Queue<int> q, int first, int n) {
  for (int i = 0; i < n; ++i) q.put(first + i);
  return n;
}

long get_ints(ranks::Queue<int> q, int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += q.get();
  return sum;
}

// Pipe round trips: one end echoes what it receives.
int echo(ranks::Connection<int> end, int n) {
  for (int i = 0; i < n; ++i) end.send(end.recv());
  return n;
}
double ask(ranks::Connection<int> end, int n) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) end.send(i), (void)end.recv();
  return seconds_since(t0) / n * 1e6;
}

// 64 MiB one way, then back: each received as a new vector (recv), or into the one there is
// (recv_into, as raw MPI receives into its buffer).
std::size_t bounce_block(ranks::Connection<std::vector<char>> end, int times, bool into) {
  std::vector<char> v;
  for (int i = 0; i < times; ++i) {
    if (into)
      end.recv_into(v);
    else
      v = end.recv();
    end.send(v);
  }
  return v.size();
}
double send_block(ranks::Connection<std::vector<char>> end, std::size_t bytes, int times,
                  bool into) {
  std::vector<char> block(bytes, 'x');
  const auto t0 = Clock::now();
  for (int i = 0; i < times; ++i) {
    end.send(block);
    if (into)
      end.recv_into(block);
    else
      block = end.recv();
  }
  return 2.0 * static_cast<double>(bytes) * times / seconds_since(t0) / 1e9;  // GB/s
}

// Raw MPI between the same two engines, over the view's communicator: rank 0 asks, rank 1
// answers; returns the round trip in us (ping-pong) or GB/s (blocks).
double raw_pingpong(int n) {
  MPI_Comm c = ranks::engine_comm();
  int me = 0, x = 0;
  MPI_Comm_rank(c, &me);
  MPI_Barrier(c);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (me == 0) {
      MPI_Send(&i, 1, MPI_INT, 1, 0, c);
      MPI_Recv(&x, 1, MPI_INT, 1, 0, c, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&x, 1, MPI_INT, 0, 0, c, MPI_STATUS_IGNORE);
      MPI_Send(&x, 1, MPI_INT, 0, 0, c);
    }
  }
  return seconds_since(t0) / n * 1e6;
}
double raw_blocks(std::size_t bytes, int times) {
  MPI_Comm c = ranks::engine_comm();
  int me = 0;
  MPI_Comm_rank(c, &me);
  std::vector<char> block(bytes, 'x');
  const int count = static_cast<int>(bytes);
  MPI_Barrier(c);
  const auto t0 = Clock::now();
  for (int i = 0; i < times; ++i) {
    if (me == 0) {
      MPI_Send(block.data(), count, MPI_CHAR, 1, 0, c);
      MPI_Recv(block.data(), count, MPI_CHAR, 1, 0, c, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(block.data(), count, MPI_CHAR, 0, 0, c, MPI_STATUS_IGNORE);
      MPI_Send(block.data(), count, MPI_CHAR, 0, 0, c);
    }
  }
  return 2.0 * static_cast<double>(bytes) * times / seconds_since(t0) / 1e9;
}

// Each engine sets and gets its own keys.
int dict_work(ranks::DictProxy<int, int> d, int id, int n) {
  for (int i = 0; i < n; ++i) {
    d.set(id * n + i, i);
    if (d.get(id * n + i) != i) return -1;
  }
  return 2 * n;
}

struct Options {
  int repeat = 5;
  bool quick = false;
  std::string json;
  std::string only;  // run only the measurements whose name contains this
};

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o), engines_(ranks::Client().ids()) {}

  void run() {
    report_.header();
    const auto run = [&](const char* name, void (Bench::*fn)()) {
      if (o_.only.empty() || std::string(name).find(o_.only) != std::string::npos) (this->*fn)();
    };
    run("queue-one", &Bench::queue_one);
    run("queue-four", &Bench::queue_four);
    run("queue-engine-to-engine", &Bench::queue_engine_to_engine);
    run("pipe-round-trip", &Bench::pipe_round_trip);
    run("pipe-blocks", &Bench::pipe_blocks);
    run("manager-dict", &Bench::manager_dict);
    run("queue-memory", &Bench::queue_memory);
    if (!o_.json.empty()) report_.write_json(o_.json);
  }

 private:
  int n(int full) const { return o_.quick ? full / 10 : full; }

  void add(std::string workload, std::string variant, std::string backend, int workers,
           std::string unit, std::vector<double> samples) {
    report_.add(Measurement{std::move(workload), std::move(variant), std::move(backend), workers,
                            std::move(unit), std::move(samples)});
  }

  // `producers` engines put `total` ints between them, the program gets them all (and checks
  // their sum).
  void queue_into_program(int producers, int total) {
    const int per = total / producers;
    ranks::Pool pool(producers);
    std::vector<double> s;
    for (int r = 0; r < o_.repeat; ++r) {
      ranks::Queue<int> q;
      const auto t0 = Clock::now();
      std::vector<ranks::AsyncResult<int>> puts;
      for (int e = 0; e < producers; ++e)
        puts.push_back(pool.apply_async(put_ints, q, e * per, per));
      long sum = 0;
      for (int i = 0; i < producers * per; ++i) sum += q.get();
      for (auto& p : puts) p.get();
      s.push_back(producers * per / seconds_since(t0));
      const long n = static_cast<long>(producers) * per;
      if (sum != n * (n - 1) / 2) std::fprintf(stderr, "wrong sum\n");
    }
    add("queue", std::to_string(producers) + (producers == 1 ? "-engine-put" : "-engines-put"),
        "ranks", producers, "items/s", s);
  }
  void queue_one() { queue_into_program(1, n(1'000'000)); }
  void queue_four() {
    queue_into_program(std::min<int>(4, static_cast<int>(engines_.size())), n(1'000'000));
  }

  // One engine puts, another gets.
  void queue_engine_to_engine() {
    const int count = n(200'000);
    ranks::Pool pool(2);
    std::vector<double> s;
    for (int r = 0; r < o_.repeat; ++r) {
      ranks::Queue<int> q;
      const auto t0 = Clock::now();
      auto got = pool.apply_async(get_ints, q, count);
      auto put = pool.apply_async(put_ints, q, 0, count);
      put.get();
      got.get();
      s.push_back(count / seconds_since(t0));
    }
    add("queue", "engine-to-engine", "ranks", 2, "items/s", s);
  }

  void pipe_round_trip() {
    const int count = n(20'000);
    ranks::Client rc;
    auto pair = rc[{engines_[0], engines_[1]}];
    std::vector<double> ranks_us, raw_us;
    for (int r = 0; r < o_.repeat; ++r) {
      auto [a, b] = ranks::Pipe<int>();
      auto e = rc[engines_[1]].apply(echo, b, count);
      ranks_us.push_back(rc[engines_[0]].apply(ask, a, count).get());
      e.get();
      raw_us.push_back(pair.apply(raw_pingpong, count).get()[0]);
    }
    add("pipe", "round-trip", "ranks", 2, "us", ranks_us);
    add("pipe", "round-trip", "mpi-raw", 2, "us", raw_us);
  }

  void pipe_blocks() {
    const std::size_t bytes = std::size_t{64} << 20;
    const int times = o_.quick ? 1 : 3;
    ranks::Client rc;
    auto pair = rc[{engines_[0], engines_[1]}];
    std::vector<double> ranks_gbs, into_gbs, raw_gbs;
    for (int r = 0; r < o_.repeat; ++r) {
      for (const bool into : {false, true}) {
        auto [a, b] = ranks::Pipe<std::vector<char>>();
        auto e = rc[engines_[1]].apply(bounce_block, b, times, into);
        (into ? into_gbs : ranks_gbs)
            .push_back(rc[engines_[0]].apply(send_block, a, bytes, times, into).get());
        e.get();
      }
      raw_gbs.push_back(pair.apply(raw_blocks, bytes, times).get()[0]);
    }
    add("pipe", "64MiB-each-way", "ranks", 2, "GB/s", ranks_gbs);
    add("pipe", "64MiB-each-way-recv_into", "ranks", 2, "GB/s", into_gbs);
    add("pipe", "64MiB-each-way", "mpi-raw", 2, "GB/s", raw_gbs);
  }

  void manager_dict() {
    const int per = n(20'000);
    const int w = std::min<int>(4, static_cast<int>(engines_.size()));
    ranks::Pool pool(w);
    ranks::Manager manager;
    std::vector<double> s;
    for (int r = 0; r < o_.repeat; ++r) {
      auto d = manager.dict<int, int>();
      const auto t0 = Clock::now();
      std::vector<ranks::AsyncResult<int>> work;
      for (int e = 0; e < w; ++e) work.push_back(pool.apply_async(dict_work, d, e, per));
      int ops = 0;
      for (auto& x : work) ops += x.get();
      s.push_back(ops / seconds_since(t0));
    }
    add("manager", "dict-set-get", "ranks", w, "ops/s", s);
  }

  // What 1 M queued ints cost the controller, where they wait; and what a million put/get pairs
  // leave behind.
  void queue_memory() {
    const int count = n(1'000'000);
    ranks::Pool pool(1);
    const double before = resident_mb();
    {
      ranks::Queue<int> q;
      pool.apply(put_ints, q, 0, count);
      const double full = resident_mb();
      add("queue", "1M-ints-queued", "ranks", 1, "MB", {full - before});
      (void)get_ints(q, count);
    }
    const double mid = resident_mb();
    ranks::Queue<int> q;
    for (int i = 0; i < count; ++i) {
      q.put(i);
      (void)q.get();
    }
    add("queue", "1M-put-get-growth", "ranks", 0, "MB", {resident_mb() - mid});
  }

  Options o_;
  std::vector<int> engines_;
  bench::Report report_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"objects_bench: Queue, Pipe and Manager between ranks' processes"};
  app.add_option("--repeat", o.repeat, "repeats per measurement (median reported)");
  app.add_option("--json", o.json, "write one JSON object per measurement to this file");
  app.add_flag("--quick", o.quick, "a tenth of the items: a smoke run");
  app.add_option("--only", o.only,
                 "only the measurements whose name contains this: queue-one, queue-four, "
                 "queue-engine-to-engine, pipe-round-trip, pipe-blocks, manager-dict, "
                 "queue-memory");
  CLI11_PARSE(app, argc, argv);
  return ranks::run(argc, argv, [&] {
    if (ranks::Client().ids().size() < 2) {
      std::fprintf(stderr, "objects_bench: run it with at least 3 ranks (mpirun -np 5)\n");
      return 2;
    }
    Bench(o).run();
    return 0;
  });
}
