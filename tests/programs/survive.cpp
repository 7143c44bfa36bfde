// Engines lost while the job goes on: run under a launch that survives a lost engine (mpirun
// --enable-recovery, spawned engines, a started cluster). Each mode prints what it checked and
// exits 0 only if every check held; a failed check says which on stderr and exits 1.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <ranks/ranks.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "checks.hpp"

using namespace std::chrono_literals;

namespace {

std::string host();

// The first engine to reach item `at` of a map kills itself (once per job: a marker file).
struct KillAt {
  int at = 0;
  std::string marker;
  std::string spare;   // a host whose engines never die (the controller's, to test other hosts)
  std::string victim;  // if set, the only host whose engines die
  int sleep_us = 200;  // each item's work
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& at& marker& spare& victim& sleep_us;
  }
  long long operator()(int x) const {
    if (x >= at && (spare.empty() || host() != spare) && (victim.empty() || host() == victim)) {
      const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
      if (fd >= 0) {
        ::close(fd);
        ::raise(SIGKILL);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    return 1LL * x * x;
  }
};

std::string host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}
int pid_of_engine() { return static_cast<int>(::getpid()); }
int square(int x) { return x * x; }
int segfault(int x) {
  std::raise(SIGSEGV);
  return x;
}
int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
void sleep_long() { std::this_thread::sleep_for(10min); }

std::string marker_path() {
  return "/tmp/ranks-survive-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// An engine killed halfway through a map: the result is whole and right, element by element.
void map_with_a_kill(ranks::Pool& pool, int n, std::size_t chunksize, const std::string& spare) {
  const std::string marker = marker_path();
  std::vector<int> in(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) in[static_cast<std::size_t>(i)] = i;
  const int before = pool.size();
  auto out = pool.map(KillAt{n / 2, marker, spare}, in, chunksize);
  check(::access(marker.c_str(), F_OK) == 0, "an engine reached the item that kills it");
  ::unlink(marker.c_str());
  check(out.size() == in.size(), "the map's result is whole");
  int wrong = 0;
  for (int i = 0; i < n; ++i) wrong += out[static_cast<std::size_t>(i)] != 1LL * i * i ? 1 : 0;
  check(wrong == 0, std::to_string(wrong) + " results wrong");
  check(pool.size() == before - 1,
        "the pool lists one engine fewer: " + std::to_string(pool.size()) + " of " +
            std::to_string(before));
  std::cout << "map of " << n << " (chunksize " << chunksize << "): whole and right, engines "
            << before << " -> " << pool.size() << std::endl;
}

int mode_map() {
  ranks::Pool pool(4);  // spawns those missing where there is no mpirun
  if (pool.size() < 2) {
    std::cerr << "map needs 2 engines or more\n";
    return 2;
  }
  // RANKS_TEST_REMOTE_KILL=1: only engines on other hosts than the controller's die.
  const std::string spare = std::getenv("RANKS_TEST_REMOTE_KILL") ? host() : "";
  map_with_a_kill(pool, 2000, 1, spare);
  // RANKS_TEST_SMALL_REPLIES=1: only the map of small replies (a relayed cluster's hub cannot
  // survive an engine that dies while it reads a large reply of it, see README).
  if (pool.size() >= 2 && !std::getenv("RANKS_TEST_SMALL_REPLIES"))
    map_with_a_kill(pool, 20000, 0, spare);
  // And the pool goes on.
  check(pool.map(square, std::vector<int>{1, 2, 3}) == std::vector<int>({1, 4, 9}), "map after");
  return 0;
}

// A batch job that loses one engine: 200 items of 20 ms, one at a time, and the first engine
// to reach item 40 on host $RANKS_TEST_KILL_HOST (any host if unset) kills itself. The job must
// then end as soon as the program does, with its exit code (mpirun included).
int mode_lose() {
  ranks::Pool pool;
  const char* victim = std::getenv("RANKS_TEST_KILL_HOST");
  const std::string marker = marker_path();
  std::vector<int> in(200);
  for (int i = 0; i < 200; ++i) in[static_cast<std::size_t>(i)] = i;
  const int before = pool.size();
  const auto out = pool.map(KillAt{40, marker, "", victim ? victim : "", 20000}, in, 1);
  check(::access(marker.c_str(), F_OK) == 0, "an engine reached the item that kills it");
  ::unlink(marker.c_str());
  int wrong = 0;
  for (int i = 0; i < 200; ++i) wrong += out[static_cast<std::size_t>(i)] != 1LL * i * i ? 1 : 0;
  check(out.size() == in.size() && wrong == 0, std::to_string(wrong) + " results wrong");
  check(pool.size() == before - 1, "the pool lists one engine fewer");
  std::cout << "lose: map of 200 whole and right, engines " << before << " -> " << pool.size()
            << std::endl;
  // RANKS_TEST_EXIT_CODE=N: the program then fails with code N, which mpirun must pass on.
  const char* code = std::getenv("RANKS_TEST_EXIT_CODE");
  return code ? std::atoi(code) : 0;
}

int mode_direct() {
  ranks::Client rc;
  const auto ids = rc.ids();
  if (ids.size() < 2) return 2;
  rc.direct_view().push("a", 7).get();
  // A stopped engine (SIGSTOP) is not taken for dead; once continued it answers.
  const int sleeper = ids.front();
  const int sleeper_pid = rc[sleeper].apply(pid_of_engine).get();
  ::kill(sleeper_pid, SIGSTOP);
  std::this_thread::sleep_for(1500ms);
  check(rc.ids().size() == ids.size(), "a stopped engine is still listed");
  ::kill(sleeper_pid, SIGCONT);
  check(rc[sleeper].pull<int>("a").get() == 7, "a stopped engine answers once continued");
  const int victim = ids.back();
  const int pid = rc[victim].apply(pid_of_engine).get();
  ::kill(pid, SIGKILL);
  // The next call to it fails with EngineLost naming it, once its death is seen (within 1 s).
  bool lost = false;
  const auto t0 = std::chrono::steady_clock::now();
  while (!lost && std::chrono::steady_clock::now() - t0 < 5s) {
    try {
      rc[victim].pull<int>("a").get();
      std::this_thread::sleep_for(20ms);
    } catch (const ranks::EngineLost& e) {
      lost = true;
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      check(e.engine_id() == victim, "EngineLost names the engine");
      check(e.pid() == pid, "EngineLost names the pid");
      check(e.signal() == SIGKILL, "EngineLost names SIGKILL: " + std::to_string(e.signal()));
      check(!e.host().empty(), "EngineLost names the host");
      std::cout << "EngineLost " << ms << " ms after the kill: " << e.what() << std::endl;
    }
  }
  check(lost, "EngineLost within 5 s");
  const auto left = rc.ids();
  check(std::find(left.begin(), left.end(), victim) == left.end(), "ids() no longer lists it");
  check(left.size() == ids.size() - 1, "ids() lists the others");
  // Calls to the other engines go on; a view of all of them is the engines alive.
  const auto as = rc.direct_view().pull<int>("a").get();
  check(as == std::vector<int>(left.size(), 7), "pull from every engine left");
  std::vector<int> named = ids;
  bool named_fails = false;
  try {
    rc[named].pull<int>("a").get();
  } catch (const ranks::EngineLost&) {
    named_fails = true;
  }
  check(named_fails, "a view naming the dead engine fails with EngineLost");
  std::cout << "ids " << ids.size() << " -> " << left.size() << "; the others answer" << std::endl;
  // An engine added in its place serves at once, and joins the views of all engines.
  const std::vector<int> fresh = rc.add_engines(1);
  check(fresh.size() == 1 && rc.ids().size() == left.size() + 1, "add_engines(1) adds one");
  check(rc[fresh.front()].apply(square, 3).get() == 9, "the added engine serves");
  check(rc.direct_view().apply(square, 2).get() == std::vector<int>(left.size() + 1, 4),
        "a view of all engines includes it");
  return 0;
}

int mode_segfault_every_engine() {
  ranks::Pool four(4);  // spawns those missing where there is no mpirun
  ranks::Client rc;
  if (rc.ids().size() < 3) return 2;
  auto lview = rc.load_balanced_view();
  bool failed = false;
  try {
    lview.apply(segfault, 1).get();
  } catch (const ranks::EngineLost& e) {
    failed = true;
    check(e.signal() == SIGSEGV, "the signal is SIGSEGV: " + std::to_string(e.signal()));
    std::cout << "a task that kills its engines fails: " << e.what() << std::endl;
  }
  check(failed, "the task fails with EngineLost");
  check(rc.ids().size() >= 1, "engines are left");
  check(lview.apply(square, 6).get() == 36, "the others go on");
  std::cout << "engines left: " << rc.ids().size() << std::endl;
  return 0;
}

int mode_timeout() {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  const std::vector<int> ids_before = rc.ids();
  const std::size_t before = ids_before.size();
  rc.direct_view().push("x", 1).get();
  const auto t0 = std::chrono::steady_clock::now();
  bool timed_out = false;
  try {
    lview.with({.timeout = 300ms}).apply(sleep_ms, 60000).get();
  } catch (const ranks::TimeoutError& e) {
    timed_out = true;
    std::cout << "TimeoutError: " << e.what() << std::endl;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check(timed_out, "the task fails with TimeoutError");
  check(s < 5, "within 5 s: " + std::to_string(s));
  check(lview.apply(square, 5).get() == 25, "the view goes on");
  // A task within its timeout is untouched.
  check(lview.with({.timeout = 10s}).apply(sleep_ms, 10).get() == 10, "a task in time");
  // The ended engine's replacement (where engines can be spawned) has a new id, and a name
  // pushed before it came is missing there, saying why.
  ranks::Client now;
  for (int id : now.ids()) {
    if (std::find(ids_before.begin(), ids_before.end(), id) != ids_before.end()) continue;
    check(id > ids_before.back(), "the replacement has a new id: " + std::to_string(id));
    try {
      (void)now[id].pull<int>("x").get();
      check(false, "the replacement has no 'x'");
    } catch (const ranks::RemoteError& e) {
      check(std::string(e.what()).find("stands in for a lost engine since") != std::string::npos,
            std::string("the replacement says it stands in for a lost engine: ") + e.what());
      std::cout << "replacement " << id << ": " << e.what() << std::endl;
    }
  }
  std::cout << "engines " << before << " -> " << rc.ids().size() << std::endl;
  return 0;
}

int mode_abort() {
  ranks::Pool pool(1);
  std::vector<int> in(20, 200);
  auto r = pool.map_async(sleep_ms, in, 1);
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  r.abort();
  bool aborted = false;
  try {
    r.get();
  } catch (const ranks::Aborted&) {
    aborted = true;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check(aborted, "the result fails with Aborted");
  check(s < 2, "at once, not after the 20 tasks: " + std::to_string(s));
  check(pool.apply(square, 4) == 16, "the pool goes on");
  std::cout << "aborted in under 2 s; the pool goes on" << std::endl;
  return 0;
}

int mode_last() {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<int> pids;
  for (int id : rc.ids()) pids.push_back(rc[id].apply(pid_of_engine).get());
  auto pending = lview.map(sleep_ms, std::vector<int>(100, 50), {.chunksize = 1});
  for (int pid : pids) ::kill(pid, SIGKILL);
  bool failed = false;
  try {
    pending.get();
  } catch (const ranks::RemoteError& e) {
    failed = true;
    std::cout << "with every engine gone: " << e.what() << std::endl;
  }
  check(failed, "waiting for work fails once every engine is gone");
  check(rc.ids().empty(), "no engine is listed");
  bool refused = false;
  try {
    lview.apply(square, 1).get();
  } catch (const ranks::Error&) {
    refused = true;
  }
  check(refused, "new work fails at once");
  return 0;
}

int mode_terminate() {
  ranks::Process p(sleep_long);
  p.start();
  std::this_thread::sleep_for(300ms);
  check(p.is_alive(), "the process runs");
  p.terminate();
  p.join();
  check(p.exitcode() == -SIGTERM,
        "exitcode -15 after terminate: " + std::to_string(p.exitcode().value_or(999)));
  ranks::Process q(sleep_long);
  q.start();
  std::this_thread::sleep_for(300ms);
  q.kill();
  q.join();
  check(q.exitcode() == -SIGKILL,
        "exitcode -9 after kill: " + std::to_string(q.exitcode().value_or(999)));
  ranks::Pool pool;
  check(pool.apply(square, 3) == 9, "engines go on");
  std::cout << "terminate: " << *p.exitcode() << ", kill: " << *q.exitcode() << std::endl;
  return 0;
}

// A Pool's engine is replaced after it ran k tasks; the replacement runs the initializer first.
int g_initialized = 0;
void setup() { g_initialized = 1; }
int initialized_pid(int) {
  if (g_initialized != 1) throw std::runtime_error("the initializer did not run here");
  return static_cast<int>(::getpid());
}

int mode_maxtasks() {
  ranks::Pool pool(2, setup, {.maxtasksperchild = 5});
  const auto pids = pool.map(initialized_pid, std::vector<int>(20, 0), 1);
  const std::set<int> distinct(pids.begin(), pids.end());
  check(distinct.size() >= 4,
        "20 tasks at 5 per engine take 4 engines or more: " + std::to_string(distinct.size()));
  check(pool.size() == 2, "the pool keeps its size: " + std::to_string(pool.size()));
  std::cout << "20 tasks ran on " << distinct.size() << " engines, each initialized" << std::endl;
  return 0;
}

// The first task to start in each second (after the first) kills its engine: one engine a
// second, whichever it is, while the pool replaces each.
struct KillEachSecond {
  std::int64_t t0_ns = 0;
  std::string prefix;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& t0_ns& prefix;
  }
  long long operator()(int x) const {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const std::int64_t second = (now - t0_ns) / 1'000'000'000;
    if (second >= 1) {
      const std::string marker = prefix + std::to_string(second);
      const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
      if (fd >= 0) {
        ::close(fd);
        ::raise(SIGKILL);
      }
    }
    std::this_thread::sleep_for(300us);
    return 3LL * x;
  }
};

int mode_soak() {
  ranks::Pool pool(6, {.keep_size = true});
  const int n = 100'000;
  std::vector<int> in(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) in[static_cast<std::size_t>(i)] = i;
  const std::string prefix = marker_path() + "-";
  const auto t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const auto start = std::chrono::steady_clock::now();
  auto r = pool.map_async(KillEachSecond{t0, prefix}, in, 10);
  const auto out = r.get();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int kills = 0;
  for (int k = 1; k < 1000; ++k)
    if (::unlink((prefix + std::to_string(k)).c_str()) == 0) ++kills;
  int wrong = 0;
  for (int i = 0; i < n; ++i) wrong += out[static_cast<std::size_t>(i)] != 3LL * i ? 1 : 0;
  check(out.size() == static_cast<std::size_t>(n) && wrong == 0,
        std::to_string(wrong) + " results wrong");
  // Each input went into the result once: the parts that succeeded cover it exactly.
  std::vector<int> covered(static_cast<std::size_t>(n), 0);
  for (const auto& m : r.metadata())
    if (m.ok)
      for (std::size_t i = m.first; i < m.first + m.count; ++i) ++covered[i];
  const auto twice = std::count_if(covered.begin(), covered.end(), [](int c) { return c != 1; });
  check(twice == 0, std::to_string(twice) + " inputs not delivered exactly once");
  check(kills >= 3, "engines were killed while it ran: " + std::to_string(kills));
  check(pool.size() == 6, "the pool kept its size: " + std::to_string(pool.size()));
  std::cout << n << " tasks in " << s << " s, " << kills
            << " engines killed and replaced; every result right and delivered once" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return ranks::run(argc, argv, [&]() -> int {
    int code = 64;
    if (mode == "map") code = mode_map();
    if (mode == "direct") code = mode_direct();
    if (mode == "lose") code = mode_lose();
    if (mode == "segfault") code = mode_segfault_every_engine();
    if (mode == "timeout") code = mode_timeout();
    if (mode == "abort") code = mode_abort();
    if (mode == "last") code = mode_last();
    if (mode == "terminate") code = mode_terminate();
    if (mode == "maxtasks") code = mode_maxtasks();
    if (mode == "soak") code = mode_soak();
    if (code == 64)
      std::cerr
          << "usage: survive map|direct|lose|segfault|timeout|abort|last|terminate|maxtasks|soak\n";
    if (code == 0 && failures > 0) code = 1;
    if (code == 0) std::cout << mode << ": every check held" << std::endl;
    return code;
  });
}
