// ranks_bench: ranks side by side with serial code, shared memory (threads, OpenMP) and
// hand-written MPI, on the workloads of bench/workloads.hpp.
//
//   mpirun -np 3 build/apps/ranks_bench                 # 2 engines
//   build/apps/ranks_bench --workers 2                  # spawned engines (no mpi-raw)
//   mpirun -np 3 build/apps/ranks_bench --workload tiny,latency --json out.jsonl

#include <mpi.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <ranks/ranks.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "mpi_raw.hpp"
#include "report.hpp"
#include "shared_memory.hpp"
#include "workloads.hpp"

namespace bench {
namespace {

struct Options {
  std::set<std::string> workloads;
  std::set<std::string> backends;
  int workers = 0;
  int repeat = 5;
  std::string json;
  bool quick = false;
};

std::set<std::string> split(const std::string& s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.insert(item);
  return out;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double engine_cpu_seconds(int) { return cpu_seconds(); }
double spin_task(double ms) { return spin(ms); }
std::vector<double> identity(const std::vector<double>& v) { return v; }
int raw_serve(int mode, int n) { return raw::serve(mode, n); }

// Runs f(args...) once on each listed engine (not through the queue, which could send two to one).
template <class R, class F, class... A>
std::vector<ranks::AsyncResult<R>> on_each(const std::vector<int>& engines, F f, A... args) {
  using Task = ranks::detail::ApplyTask<F, A...>;
  std::vector<ranks::AsyncResult<R>> out;
  const auto tuple = std::make_tuple(args...);
  for (int e : engines) {
    auto state = std::make_shared<ranks::detail::State<R>>();
    auto msg = ranks::detail::make_message<Task>(
        f, 0, [&](ranks::detail::Writer& w) { ranks::detail::encode(w, tuple); });
    ranks::detail::submit_to(
        e, std::move(msg),
        std::make_shared<ranks::detail::SingleJob<R>>(ranks::detail::Bytes{}, state), 0);
    out.emplace_back(state);
  }
  return out;
}

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    workers_ = o_.workers > 0 ? o_.workers : std::max(1, ranks::engine_count());
    if (o_.workers <= 0 && ranks::engine_count() == 0)
      workers_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    pool_ = std::make_unique<ranks::Pool>(workers_);
    raw_ok_ = ranks::engine_count() == workers_ && in_world();
    n_tiny_ = o_.quick ? 10000 : kTinyN;
    n_latency_ = o_.quick ? 200 : kLatencyN;
    idle_s_ = o_.quick ? 0.5 : 5.0;
  }

  void run() {
    report_.header();
    if (want("tiny")) tiny();
    if (want("latency")) latency();
    if (want("imbalance")) imbalance();
    if (want("bandwidth")) bandwidth();
    if (want("idle")) idle();
    if (!o_.json.empty()) report_.write_json(o_.json);
  }

 private:
  static bool in_world() {
    // Engines started by mpirun share MPI_COMM_WORLD with the controller; spawned ones do not.
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size > 1;
  }
  bool want(const std::string& w) const { return o_.workloads.empty() || o_.workloads.count(w); }
  bool use(const std::string& b) const {
    if (b == "mpi-raw" && !raw_ok_) return false;
    return o_.backends.empty() || o_.backends.count(b);
  }

  // Repeats fn, which returns one sample, and reports the samples.
  void measure(const std::string& workload, const std::string& variant, const std::string& backend,
               int workers, const std::string& unit, const std::function<double()>& fn,
               int repeat = 0) {
    Measurement m{workload, variant, backend, workers, unit, {}};
    for (int i = 0; i < (repeat ? repeat : o_.repeat); ++i) m.samples.push_back(fn());
    report_.add(std::move(m));
  }

  // Runs the raw protocol's controller side while the engines serve it.
  template <class Fn>
  double with_raw(int mode, int n, int workers, Fn fn) {
    std::vector<int> engines;
    for (int e = 0; e < workers; ++e) engines.push_back(e);
    auto served = on_each<int>(engines, raw_serve, mode, n);
    double v;
    {
      auto lk = ranks::detail::lock();
      v = fn();
    }
    for (auto& s : served) s.get();
    return v;
  }

  void tiny() {
    const auto in = iota_ints(n_tiny_);
    const double n = n_tiny_;
    const std::size_t auto_chunk = (in.size() + 4 * workers_ - 1) / (4 * workers_);
    std::vector<int> out(in.size());
    if (use("serial"))
      measure("tiny", "auto-chunk", "serial", 1, "tasks/s", [&] {
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < in.size(); ++i) out[i] = square(in[i]);
        return n / seconds_since(t0);
      });
    for (auto [variant, chunk] :
         {std::pair{"auto-chunk", auto_chunk}, std::pair{"chunksize-1", std::size_t{1}}}) {
      if (use("threads")) {
        ThreadPool tp(workers_);
        measure("tiny", variant, "threads", workers_, "tasks/s", [&] {
          const auto t0 = Clock::now();
          tp.parallel_for(in.size(), chunk, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) out[i] = square(in[i]);
          });
          return n / seconds_since(t0);
        });
      }
      if (use("openmp"))
        measure("tiny", variant, "openmp", workers_, "tasks/s", [&] {
          const auto t0 = Clock::now();
          openmp_square_all(workers_, in, out, chunk);
          return n / seconds_since(t0);
        });
      if (use("dynamic"))
        measure("tiny", variant, "dynamic", workers_, "tasks/s", [&] {
          const auto t0 = Clock::now();
          auto r = pool_->map(square, in, chunk == 1 ? 1 : 0);
          return n / seconds_since(t0);
        });
    }
    if (use("static")) {
      pool_->set_schedule(ranks::Schedule::kStatic);
      measure("tiny", "auto-chunk", "static", workers_, "tasks/s", [&] {
        const auto t0 = Clock::now();
        auto r = pool_->map(square, in);
        return n / seconds_since(t0);
      });
      pool_->set_schedule(ranks::Schedule::kDynamic);
    }
    if (use("mpi-raw")) {
      measure("tiny", "auto-chunk", "mpi-raw", workers_, "tasks/s", [&] {
        return with_raw(raw::kScatterGather, n_tiny_ / workers_, workers_,
                        [&] { return raw::scatter_gather_tasks_per_s(workers_, n_tiny_); });
      });
      measure("tiny", "chunksize-1", "mpi-raw", workers_, "tasks/s", [&] {
        return with_raw(raw::kQueue, 0, workers_,
                        [&] { return raw::queue_tasks_per_s(workers_, n_tiny_); });
      });
    }
  }

  void latency() {
    const int n = n_latency_;
    if (use("threads")) {
      ThreadPool tp(1);
      measure("latency", "apply", "threads", 1, "us", [&] {
        int x = 0;
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i)
          tp.parallel_for(1, 1, [&](std::size_t, std::size_t) { x = square(i); });
        return seconds_since(t0) * 1e6 / n;
      });
    }
    if (use("dynamic"))
      measure("latency", "apply", "dynamic", workers_, "us", [&] {
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) pool_->apply(square, i);
        return seconds_since(t0) * 1e6 / n;
      });
    if (use("mpi-raw"))
      measure("latency", "ping-pong", "mpi-raw", 1, "us",
              [&] { return with_raw(raw::kPingPong, n, 1, [&] { return raw::pingpong_us(n); }); });
  }

  void imbalance() {
    auto ms = imbalance_tasks();
    if (o_.quick) ms.resize(40);
    const double ideal_s = sum(ms) / 1000.0 / workers_;
    auto efficiency = [&](const std::string& backend, const std::function<double()>& wall) {
      Measurement m{"imbalance", "efficiency", backend, workers_, "ideal/wall", {}};
      std::vector<double> walls;
      for (int i = 0; i < o_.repeat; ++i) {
        walls.push_back(wall());
        m.samples.push_back(ideal_s / walls.back());
      }
      m.extra["ideal_s"] = ideal_s;
      m.extra["wall_s"] = walls;
      report_.add(std::move(m));
    };
    if (use("serial"))
      measure(
          "imbalance", "wall", "serial", 1, "s",
          [&] {
            const auto t0 = Clock::now();
            for (double d : ms) spin(d);
            return seconds_since(t0);
          },
          1);
    if (use("threads")) {
      ThreadPool tp(workers_);
      efficiency("threads", [&] {
        const auto t0 = Clock::now();
        tp.parallel_for(ms.size(), 1, [&](std::size_t b, std::size_t e) {
          for (std::size_t i = b; i < e; ++i) spin(ms[i]);
        });
        return seconds_since(t0);
      });
    }
    if (use("openmp"))
      efficiency("openmp", [&] {
        const auto t0 = Clock::now();
        openmp_for(workers_, ms.size(), 1, [&](std::size_t i) { spin(ms[i]); });
        return seconds_since(t0);
      });
    if (use("dynamic"))
      efficiency("dynamic", [&] {
        const auto t0 = Clock::now();
        pool_->map(spin_task, ms);
        return seconds_since(t0);
      });
    if (use("static")) {
      pool_->set_schedule(ranks::Schedule::kStatic);
      efficiency("static", [&] {
        const auto t0 = Clock::now();
        pool_->map(spin_task, ms);
        return seconds_since(t0);
      });
      pool_->set_schedule(ranks::Schedule::kDynamic);
    }
    if (use("mpi-raw"))
      efficiency("mpi-raw", [&] {
        return with_raw(raw::kImbalance, 0, workers_,
                        [&] { return raw::imbalance_wall_s(workers_, ms); });
      });
  }

  void bandwidth() {
    const std::size_t bytes = o_.quick ? (std::size_t{1} << 20) : kBandwidthBytes;
    std::vector<double> v(bytes / sizeof(double), 1.5);
    ranks::Pool one(1);
    if (use("dynamic"))
      measure("bandwidth", "apply", "dynamic", 1, "GB/s", [&] {
        const auto t0 = Clock::now();
        auto back = one.apply(identity, v);
        return 2.0 * static_cast<double>(bytes) / seconds_since(t0) / 1e9;
      });
    if (use("mpi-raw"))
      measure("bandwidth", "send-recv", "mpi-raw", 1, "GB/s", [&] {
        return with_raw(raw::kBandwidth, static_cast<int>(bytes / sizeof(double)), 1,
                        [&] { return raw::bandwidth_gbs(bytes); });
      });
  }

  // CPU cores used by the whole cluster (controller and every engine) while the controller
  // sleeps: ranks' backoff against MPI's blocking receive.
  void idle() {
    std::vector<int> engines;
    for (int e = 0; e < ranks::engine_count(); ++e) engines.push_back(e);
    const int repeat = std::min(o_.repeat, 3);
    if (use("dynamic"))
      measure(
          "idle", "sleep", "dynamic", static_cast<int>(engines.size()), "cores",
          [&] {
            auto cpu = [&] {
              double total = cpu_seconds();
              for (auto& r : on_each<double>(engines, engine_cpu_seconds, 0)) total += r.get();
              return total;
            };
            const double before = cpu();
            const auto t0 = Clock::now();
            std::this_thread::sleep_for(std::chrono::duration<double>(idle_s_));
            const double wall = seconds_since(t0);
            return (cpu() - before) / wall;
          },
          repeat);
  }

  Options o_;
  int workers_ = 1;
  bool raw_ok_ = false;
  int n_tiny_, n_latency_;
  double idle_s_;
  std::unique_ptr<ranks::Pool> pool_;
  Report report_;
};

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  CLI::App app{"ranks_bench: ranks against serial, threads, OpenMP and raw MPI"};
  std::string workloads, backends;
  bench::Options o;
  app.add_option("--workload", workloads,
                 "comma-separated: tiny,latency,imbalance,bandwidth,idle (default: all)");
  app.add_option("--backend", backends,
                 "comma-separated: serial,threads,openmp,static,dynamic,mpi-raw (default: all)");
  app.add_option("--workers", o.workers, "engines / threads (default: every engine)");
  app.add_option("--repeat", o.repeat, "repeats per measurement (median reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", o.json, "write one JSON object per measurement to this file");
  app.add_flag("--quick", o.quick, "tiny sizes, for checking that it runs");
  CLI11_PARSE(app, argc, argv);
  o.workloads = bench::split(workloads);
  o.backends = bench::split(backends);
  return ranks::run(argc, argv, [&] { bench::Bench(o).run(); });
}
