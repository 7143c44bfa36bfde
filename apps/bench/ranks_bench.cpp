// ranks_bench: ranks side by side with serial code, shared memory (threads, OpenMP) and
// hand-written MPI, on the workloads of bench/workloads.hpp.
//
//   mpirun -np 3 build/apps/ranks_bench                 # 2 engines
//   build/apps/ranks_bench --workers 2                  # spawned engines (no mpi-raw)
//   mpirun -np 3 build/apps/ranks_bench --workload tiny,latency --json out.jsonl

#include <mpi.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <ranks/ranks.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "mpi_raw.hpp"
#include "process_age.hpp"
#include "report.hpp"
#include "resident_memory.hpp"
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
  std::string plot;
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
double nap_task(double us) { return nap(us); }
// By value: the engine hands the argument back without a copy.
std::vector<double> identity(std::vector<double> v) { return v; }
int raw_serve(int mode, int n) { return raw::serve(mode, n); }

// Runs f(args...) once on each listed engine (not through the queue, which could send two to one).
template <class R, class F, class... A>
std::vector<ranks::AsyncResult<R>> on_each(const std::vector<int>& engines, F f, A... args) {
  ranks::Client rc;
  std::vector<ranks::AsyncResult<R>> out;
  for (int e : engines) out.push_back(rc[e].apply(f, args...));
  return out;
}

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    workers_ = o_.workers > 0 ? o_.workers : std::max(1, ranks::engine_count());
    if (o_.workers <= 0 && ranks::engine_count() == 0)
      workers_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    pool_ = std::make_unique<ranks::Pool>(workers_);
    pool_->apply(square, 1);
    startup_s_ = seconds_since_start();
    launch_s_ = seconds_since_start("/proc/" + std::to_string(getppid()) + "/stat");
    // Attached to a started cluster (ranks cluster start), the same queue is the "attached" row.
    if (ranks::Client().cluster()) dynamic_ = "attached";
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
    if (want("scaling")) scaling();
    if (want("task-length")) task_length();
    if (want("many")) many();
    if (want("footprint")) footprint();  // after many has used the rings, before reduce's data
    if (want("reduce")) reduce();
    if (want("startup")) startup();
    if (!o_.plot.empty()) timeline();
    if (!o_.json.empty()) report_.write_json(o_.json);
  }

 private:
  static bool in_world() {
    // Engines started by mpirun share MPI_COMM_WORLD with the controller; spawned ones do not.
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size > 1;
  }
  bool want(const std::string& w) const {
    if (o_.workloads.empty()) return w != "many" && w != "footprint";
    return o_.workloads.count(w) != 0;
  }
  bool use(const std::string& b) const {
    if (b == "mpi-raw" && !raw_ok_) return false;
    return o_.backends.empty() || o_.backends.count(b);
  }

  // Repeats fn, which returns one sample, and reports the samples.
  void measure(const std::string& workload, const std::string& variant, const std::string& backend,
               int workers, const std::string& unit, const std::function<double()>& fn,
               int repeat = 0) {
    Measurement m{workload, variant, backend, workers, unit, {}};
    m.samples = sample(repeat ? repeat : o_.repeat, fn, workload != "idle");
    report_.add(std::move(m));
  }

  // n timed runs of fn, after a pause and one untimed run: every backend starts on a quiet
  // machine (OpenMP's idle threads spin for milliseconds after a parallel region; engines idle
  // since the last backend have backed off into sleep) with warm caches and pages.
  static std::vector<double> sample(int n, const std::function<double()>& fn, bool warm = true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (warm) (void)fn();
    std::vector<double> out;
    for (int i = 0; i < n; ++i) out.push_back(fn());
    return out;
  }

  // Up to 3 timed runs of `run`, each as the ideal time over its wall time.
  std::vector<double> efficiencies(double ideal_s, const std::function<void()>& run) const {
    return sample(std::min(o_.repeat, 3), [&] {
      const auto t0 = Clock::now();
      run();
      return ideal_s / seconds_since(t0);
    });
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
        measure("tiny", variant, dynamic_, workers_, "tasks/s", [&] {
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
      measure("latency", "apply", dynamic_, workers_, "us", [&] {
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
      const std::vector<double> walls = sample(o_.repeat, wall);
      for (double w : walls) m.samples.push_back(ideal_s / w);
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
      measure("bandwidth", "apply", dynamic_, 1, "GB/s", [&] {
        const auto t0 = Clock::now();
        auto back = one.apply(identity, v);
        return 2.0 * static_cast<double>(bytes) / seconds_since(t0) / 1e9;
      });
    if (use("static")) {
      // The direct view's way: store it in an engine's namespace, then read it back.
      ranks::Client rc;
      auto e0 = rc[one.engines().front()];
      measure("bandwidth", "push-pull", "static", 1, "GB/s", [&] {
        const auto t0 = Clock::now();
        e0.push("v", v).get();
        auto back = e0.pull<std::vector<double>>("v").get();
        return 2.0 * static_cast<double>(bytes) / seconds_since(t0) / 1e9;
      });
      // As raw MPI does it: memory that both sides already own (a span lent to the push, the
      // engine's vector written over, pulled back into the caller's).
      std::vector<double> back(v.size());
      measure("bandwidth", "push-pull-into", "static", 1, "GB/s", [&] {
        const auto t0 = Clock::now();
        e0.push("v", std::span<const double>(v)).get();
        e0.pull_into("v", back).get();
        return 2.0 * static_cast<double>(bytes) / seconds_since(t0) / 1e9;
      });
    }
    if (use("mpi-raw"))
      measure("bandwidth", "send-recv", "mpi-raw", 1, "GB/s", [&] {
        return with_raw(raw::kBandwidth, static_cast<int>(bytes / sizeof(double)), 1,
                        [&] { return raw::bandwidth_gbs(bytes); });
      });
  }

  // A vector of doubles on every engine, summed element by element: one MPI_Reduce among the
  // engines (DirectView::reduce) against pulling them all and summing on the controller.
  void reduce() {
    if (!use("static")) return;
    const std::size_t n = o_.quick ? (std::size_t{1} << 16) : kReduceN;
    ranks::Client rc;
    auto dview = rc.direct_view();
    const int workers = static_cast<int>(dview.size());
    dview.push("reduce_n", n).get();
    dview
        .execute([](ranks::Namespace& ns) {
          ns.set("rv", std::vector<double>(ns.get<std::size_t>("reduce_n"), 1.5));
        })
        .get();
    measure("reduce", "reduce", "static", workers, "ms", [&] {
      const auto t0 = Clock::now();
      const auto total = dview.reduce<std::vector<double>>("rv", std::plus<>{}).get();
      if (total.size() != n || total[0] != 1.5 * workers) throw ranks::Error("reduce: wrong sum");
      return seconds_since(t0) * 1e3;
    });
    measure("reduce", "pull-then-sum", "static", workers, "ms", [&] {
      const auto t0 = Clock::now();
      const auto parts = dview.pull<std::vector<double>>("rv").get();
      std::vector<double> total(parts.front());
      for (std::size_t p = 1; p < parts.size(); ++p)
        for (std::size_t i = 0; i < n; ++i) total[i] += parts[p][i];
      if (total.size() != n || total[0] != 1.5 * workers) throw ranks::Error("pull: wrong sum");
      return seconds_since(t0) * 1e3;
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

  // Speedup against serial at W = 1, 2, ... up to the engines there are: the imbalance tasks,
  // and a fixed compute kernel (1000 tasks of the same arithmetic).
  void scaling() {
    auto ms = imbalance_tasks();
    if (o_.quick) ms.resize(40);
    const double serial_s = sum(ms) / 1000.0;
    std::vector<double> kernel_in(o_.quick ? 100 : 1000, 0.2);
    const auto serial_t0 = Clock::now();
    for (double d : kernel_in) spin(d);
    const double kernel_serial_s = seconds_since(serial_t0);
    const int max_w = std::max(1, ranks::engine_count());
    for (int w = 1; w <= max_w; ++w) {
      ranks::Pool pool(w);
      for (const auto& [variant, items, base] :
           {std::tuple{"imbalance", &ms, serial_s},
            std::tuple{"kernel", &kernel_in, kernel_serial_s}}) {
        auto speedup = [&, items = items, base = base](const std::string& backend,
                                                       const std::function<void()>& run) {
          Measurement m{"scaling", variant, backend, w, "speedup", {}};
          m.samples = sample(std::min(o_.repeat, 3), [&] {
            const auto t0 = Clock::now();
            run();
            return base / seconds_since(t0);
          });
          m.extra["efficiency"] = m.median() / w;
          report_.add(std::move(m));
          (void)items;
        };
        if (use("dynamic")) speedup("dynamic", [&] { pool.map(spin_task, *items); });
        if (use("static")) {
          pool.set_schedule(ranks::Schedule::kStatic);
          speedup("static", [&] { pool.map(spin_task, *items); });
          pool.set_schedule(ranks::Schedule::kDynamic);
        }
        if (use("threads")) {
          ThreadPool tp(w);
          speedup("threads", [&] {
            tp.parallel_for(items->size(), 1, [&](std::size_t b, std::size_t e) {
              for (std::size_t i = b; i < e; ++i) spin((*items)[i]);
            });
          });
        }
      }
    }
  }

  // Efficiency against task length: 2000 equal tasks of 10 us to 10 ms (fewer for long ones).
  void task_length() {
    for (double ms : {0.01, 0.1, 1.0, 10.0}) {
      const std::size_t n = o_.quick ? 20 : static_cast<std::size_t>(std::min(2000.0, 4000.0 / ms));
      std::vector<double> tasks(n, ms);
      const double ideal_s = ms * static_cast<double>(n) / 1000.0 / workers_;
      const std::string variant = std::to_string(static_cast<int>(ms * 1000)) + "us";
      auto efficiency = [&](const std::string& backend, const std::function<void()>& run) {
        Measurement m{"task-length", variant, backend, workers_, "ideal/wall", {}};
        m.samples = efficiencies(ideal_s, run);
        m.extra["task_ms"] = ms;
        report_.add(std::move(m));
      };
      if (use("dynamic")) efficiency("dynamic", [&] { pool_->map(spin_task, tasks); });
      if (use("dynamic"))
        efficiency("dynamic-chunksize-1", [&] { pool_->map(spin_task, tasks, 1); });
      if (use("static")) {
        pool_->set_schedule(ranks::Schedule::kStatic);
        efficiency("static", [&] { pool_->map(spin_task, tasks); });
        pool_->set_schedule(ranks::Schedule::kDynamic);
      }
      if (use("threads")) {
        ThreadPool tp(workers_);
        efficiency("threads", [&] {
          tp.parallel_for(tasks.size(), 1, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) spin(tasks[i]);
          });
        });
      }
    }
  }

  // Many engines, tasks that sleep (so that 8 to 64 engines share 2 cores): 10 ms, 1 ms and
  // 100 us, one task per message and in automatic chunks, against a thread pool of as many
  // threads sleeping the same way (the ceiling: it sends no messages). Efficiency is the ideal
  // time (tasks x length / workers) over the wall time; tasks/s goes with it.
  void many() {
    const double seconds = o_.quick ? 0.05 : 0.5;
    for (double us : {10000.0, 1000.0, 100.0}) {
      const std::size_t n = nap_count(us, workers_, seconds);
      const std::vector<double> tasks(n, us);
      const double ideal_s = us * 1e-6 * static_cast<double>(n) / workers_;
      const std::string length = std::to_string(static_cast<int>(us)) + "us";
      auto efficiency = [&](const std::string& backend, const std::string& chunks,
                            const std::function<void()>& run) {
        Measurement m{"many", length + "-" + chunks, backend, workers_, "ideal/wall", {}};
        m.samples = efficiencies(ideal_s, run);
        m.extra["task_us"] = us;
        m.extra["tasks"] = n;
        m.extra["tasks_per_s"] = m.median() * static_cast<double>(n) / ideal_s;
        report_.add(std::move(m));
      };
      if (use("threads")) {
        ThreadPool tp(workers_);
        efficiency("threads", "chunksize-1", [&] {
          tp.parallel_for(n, 1, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) nap(tasks[i]);
          });
        });
      }
      if (use("dynamic")) {
        efficiency(dynamic_, "chunksize-1", [&] { pool_->map(nap_task, tasks, 1); });
        efficiency(dynamic_, "auto", [&] { pool_->map(nap_task, tasks); });
      }
    }
  }

  // What an engine costs in memory: an idle engine's resident memory (the median of all), the
  // controller's with this many engines, and the controller's growth per task waiting in its
  // queue (20 000 tasks of 1 ms submitted at once, measured before they drain).
  void footprint() {
    ranks::Client rc;
    std::vector<double> engines;
    for (auto& r : on_each<double>(rc.ids(), resident_mb, 0)) engines.push_back(r.get());
    std::sort(engines.begin(), engines.end());
    Measurement e{"footprint", "engine-rss", dynamic_, workers_, "MB", {}};
    e.samples.push_back(engines[engines.size() / 2]);
    e.extra["min"] = engines.front();
    e.extra["max"] = engines.back();
    report_.add(std::move(e));
    report_.add(
        Measurement{"footprint", "controller-rss", dynamic_, workers_, "MB", {resident_mb()}});
    const int n = o_.quick ? 2000 : 20000;
    auto lview = rc.load_balanced_view();
    std::vector<ranks::AsyncResult<double>> queued;
    queued.reserve(static_cast<std::size_t>(n));
    const double before = resident_mb();
    for (int i = 0; i < n; ++i) queued.push_back(lview.apply(nap_task, 1000.0));
    const double after = resident_mb();
    for (auto& q : queued) q.wait();
    report_.add(Measurement{"footprint",
                            "per-queued-task",
                            dynamic_,
                            workers_,
                            "bytes",
                            {(after - before) * 1024 * 1024 / n}});
  }

  // From this process's start to the first result of a fresh pool (MPI start-up, the start-up
  // check, spawning where there is no mpirun): one sample, it happens once.
  void startup() {
    const char* how = dynamic_ == "attached" ? "attach" : in_world() ? "mpirun" : "spawn";
    Measurement m{"startup", how, dynamic_, workers_, "s", {}};
    m.samples.push_back(startup_s_);
    report_.add(std::move(m));
    if (in_world()) {  // what a user waits: from mpirun's start
      Measurement l{"startup", "mpirun-launch", dynamic_, workers_, "s", {launch_s_}};
      report_.add(std::move(l));
    }
  }

  // Which engine ran which task when: the imbalance tasks one by one through the dynamic queue.
  void timeline() {
    const auto ms = imbalance_tasks();
    auto r = pool_->map_async(spin_task, ms, 1);
    r.wait();
    const auto meta = r.metadata();
    if (meta.empty()) return;
    auto t0 = meta.front().started;
    for (const auto& t : meta) t0 = std::min(t0, t.started);
    std::ofstream dat(o_.plot + "/timeline.dat");
    int k = 0;
    for (const auto& t : meta) {
      auto at = [&](auto tp) { return std::chrono::duration<double, std::milli>(tp - t0).count(); };
      // alternate two colours so that neighbouring tasks can be told apart
      dat << t.engine_id << " " << at(t.started) << " " << at(t.completed) - at(t.started) << " "
          << 1 + (k++ % 2) * 2 << "\n";
    }
    dat.close();
    const std::string script =
        "set terminal png size 1000,300\nset output '" + o_.plot +
        "/timeline.png'\nset title 'imbalance, one task at a time: which "
        "engine ran which task when'\nset xlabel 'ms'\nset ylabel "
        "'engine'\nset ytics 1\nset yrange [-0.5:" +
        std::to_string(workers_ - 0.5) + "]\nplot '" + o_.plot +
        "/timeline.dat' using 2:1:3:(0):4 with vectors nohead lw 12 lc variable notitle\n";
    if (FILE* gp = popen("gnuplot", "w")) {
      std::fputs(script.c_str(), gp);
      pclose(gp);
    }
  }

  Options o_;
  int workers_ = 1;
  bool raw_ok_ = false;
  double startup_s_ = 0;
  double launch_s_ = 0;              // from the start of the parent (mpirun, when it launched this)
  std::string dynamic_ = "dynamic";  // the dynamic queue's row: in-job, spawned, or attached
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
                 "comma-separated: tiny,latency,imbalance,bandwidth,reduce,idle,scaling,"
                 "task-length,startup,many,footprint (default: all but many and footprint, "
                 "which want many engines)");
  app.add_option("--backend", backends,
                 "comma-separated: serial,threads,openmp,static,dynamic,mpi-raw (default: all)");
  app.add_option("--workers", o.workers, "engines / threads (default: every engine)");
  app.add_option("--repeat", o.repeat, "repeats per measurement (median reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", o.json, "write one JSON object per measurement to this file");
  app.add_option("--plot", o.plot, "write the task timeline (timeline.dat, timeline.png) here");
  app.add_flag("--quick", o.quick, "tiny sizes, for checking that it runs");
  CLI11_PARSE(app, argc, argv);
  o.workloads = bench::split(workloads);
  o.backends = bench::split(backends);
  return ranks::run(argc, argv, [&] { bench::Bench(o).run(); });
}
