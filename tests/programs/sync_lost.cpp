// Locks, semaphores, barriers, conditions and arrays whose user is lost, under a launch that
// survives a lost engine (mpirun --enable-recovery, spawned engines, a started cluster). Each
// mode prints what it checked and exits 0 only if every check held; a failed check says which on
// stderr, exits 1.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <ranks/ranks.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "checks.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string ms_since(Clock::time_point t0) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()) +
         " ms";
}

std::int64_t now_ns() {  // the host's monotonic clock, as every process of it reads it
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Takes the lock, says so, and dies holding it (saying when).
void hold_and_die(ranks::Lock l, ranks::Value<int> holder, ranks::Value<std::int64_t> died_at) {
  l.lock();
  holder.store(ranks::engine_id());
  std::this_thread::sleep_for(100ms);
  died_at.store(now_ns());
  std::raise(SIGKILL);
}

// Waits for the lock; says whether it heard of the lost holder.
void wait_for_lock(ranks::Lock l, ranks::Value<int> heard) {
  std::scoped_lock g(l);
  heard.store(l.holder_was_lost() ? 1 : 0);
}

std::string host_of(int /*unused*/) {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// A Lock whose holder dies is given back: the program and an engine that waited get it in turn,
// and the first of them to ask hears who was lost. With RANKS_TEST_FAR=1 the holder is an engine
// of another host than the program's (the controller serves its calls).
int mode_lock() {
  ranks::Lock lock;
  ranks::Value<int> holder(-1);
  ranks::Value<std::int64_t> died_at(0);
  std::optional<ranks::AsyncResult<void>> far;
  std::optional<ranks::Process<
      ranks::detail::Target<void (*)(ranks::Lock, ranks::Value<int>, ranks::Value<std::int64_t>),
                            ranks::Lock, ranks::Value<int>, ranks::Value<std::int64_t>>>>
      near;
  if (const char* v = std::getenv("RANKS_TEST_FAR"); v != nullptr && std::string(v) == "1") {
    ranks::Client rc;
    int away = rc.ids().back();
    for (int id : rc.ids())
      if (rc[id].apply(host_of, 0).get() != host_of(0)) away = id;
    far = rc[away].apply(hold_and_die, lock, holder, died_at);
  } else {
    near.emplace(hold_and_die, lock, holder, died_at);
    near->start();
  }
  while (holder.load() < 0) std::this_thread::sleep_for(1ms);
  const int lost = holder.load();
  ranks::Value<int> other_heard(-1);
  ranks::Process other(wait_for_lock, lock, other_heard);
  other.start();
  check(lock.try_lock_for(60s), "the program took the lock once its holder was lost");
  const double after_death_ms = static_cast<double>(now_ns() - died_at.load()) / 1e6;
  const auto heard = lock.holder_was_lost();
  check(!lock.holder_was_lost(), "a loss is heard once");
  lock.unlock();
  other.join();
  check(heard.has_value() != (other_heard.load() == 1), "exactly one of the two heard of the loss");
  if (heard) {
    check(heard->engine_id == lost, "the lost holder is engine " + std::to_string(lost) +
                                        ", heard " + std::to_string(heard->engine_id));
    check(heard->signal == SIGKILL, "it died of SIGKILL: " + std::to_string(heard->signal));
    check(heard->pid > 0 && !heard->host.empty(), "its pid and host are known");
  }
  check(!lock.try_lock() || (lock.unlock(), true), "the lock is free again");
  if (near) near->join();
  if (far) {
    try {
      far->get();
    } catch (const ranks::EngineLost&) {
    }
  }
  std::printf("lock: the lost holder's lock (engine %d's) came back %.1f ms after its death\n",
              lost, after_death_ms);
  return 0;
}

void rlock_twice_and_die(ranks::RLock l, ranks::Value<int> holder) {
  l.lock();
  l.lock();
  holder.store(ranks::engine_id());
  std::raise(SIGKILL);
}

// An RLock held twice by a lost engine is given back whole.
int mode_rlock() {
  ranks::RLock lock;
  ranks::Value<int> holder(-1);
  ranks::Process p(rlock_twice_and_die, lock, holder);
  p.start();
  while (holder.load() < 0) std::this_thread::sleep_for(1ms);
  check(lock.try_lock_for(60s), "the program took the RLock once its holder was lost");
  const auto heard = lock.holder_was_lost();
  check(heard && heard->engine_id == holder.load(), "the lost holder is named");
  lock.unlock();
  check(lock.try_lock(), "once released, it is free");
  lock.unlock();
  p.join();
  std::cout << "rlock: given back whole" << std::endl;
  return 0;
}

void take_two_and_die(ranks::Semaphore s, ranks::Value<int> holder) {
  s.acquire();
  s.acquire();
  holder.store(ranks::engine_id());
  std::raise(SIGKILL);
}

// What a lost engine took of a Semaphore comes back; what others took stays taken.
int mode_semaphore() {
  ranks::Semaphore slots(3);
  slots.acquire();  // the program's own
  ranks::Value<int> holder(-1);
  ranks::Process p(take_two_and_die, slots, holder);
  p.start();
  while (holder.load() < 0) std::this_thread::sleep_for(1ms);
  check(slots.try_acquire_for(60s), "a slot came back once its taker was lost");
  check(slots.try_acquire_for(60s), "both slots came back");
  check(!slots.try_acquire(), "the program's own slots are still taken: none is left");
  const auto heard = slots.holder_was_lost();
  check(heard && heard->engine_id == holder.load(),
        "the lost taker is named: " + std::to_string(heard ? heard->engine_id : -9) + " " +
            std::to_string(holder.load()));
  for (int i = 0; i < 3; ++i) slots.release();
  check(slots.get_value() == 3, "all three back: " + std::to_string(slots.get_value()));
  p.join();
  std::cout << "semaphore: a lost taker's two slots came back" << std::endl;
  return 0;
}

// Waits at the barrier round after round; dies before round `die` (-1: never). Says the rounds
// it passed, or -1 when the barrier broke.
void barrier_rounds(ranks::Barrier b, int rounds, int die, ranks::Value<int> passed) {
  for (int r = 0; r < rounds; ++r) {
    if (r == die) std::raise(SIGKILL);
    try {
      (void)b.wait(60s);
    } catch (const ranks::BrokenBarrier&) {
      passed.store(-1);
      return;
    }
  }
  passed.store(rounds);
}

// fn(args...) on two engines at once, one each (a pool makes sure there are two): a call on each
// engine, whose loss fails that call alone.
template <class... A>
std::vector<ranks::AsyncResult<void>> on_two_engines(ranks::Pool& /*keeps them*/, void (*fn)(A...),
                                                     A... args) {
  ranks::Client rc;
  std::vector<ranks::AsyncResult<void>> calls;
  for (std::size_t i = 0; i < 2; ++i) calls.push_back(rc[rc.ids()[i]].apply(fn, args...));
  return calls;
}

// Waits for calls, of which one fails with its lost engine.
void wait_for(std::vector<ranks::AsyncResult<void>>& calls) {
  for (auto& c : calls) {
    try {
      c.get(60s);
    } catch (const ranks::EngineLost&) {
    }
  }
}

// The first of the two to start dies before round 2.
void barrier_rounds_first_dies(ranks::Barrier b, ranks::Value<int> order,
                               ranks::Value<int> stays_passed) {
  const bool dies = order.fetch_add(1) == 0;
  barrier_rounds(b, 10, dies ? 2 : -1, stays_passed);
}

// A party that waited at a Barrier is lost: the barrier breaks for every party waiting.
int mode_barrier() {
  ranks::Barrier barrier(3);
  ranks::Value<int> order(0), stays_passed(0);
  ranks::Pool pool(2);
  auto parties = on_two_engines(pool, barrier_rounds_first_dies, barrier, order, stays_passed);
  for (int r = 0; r < 2; ++r) check(barrier.wait(60s) < 3, "round " + std::to_string(r));
  const auto t0 = Clock::now();
  try {
    (void)barrier.wait(60s);
    check(false, "the third round passed without the lost party");
  } catch (const ranks::BrokenBarrier& e) {
    check(std::string(e.what()).find("a party was lost") != std::string::npos, e.what());
  }
  const std::string took = ms_since(t0);
  wait_for(parties);
  check(stays_passed.load() == -1, "the other party heard that the barrier broke");
  check(barrier.broken(), "it stays broken");
  barrier.reset();
  check(!barrier.broken(), "reset() mends it");
  std::cout << "barrier: broke " << took << " after its third round began" << std::endl;
  return 0;
}

// Waits on the condition, the first of the two engines to start dying as it waits; the
// other says whether it was notified.
void wait_on(ranks::Condition c, ranks::Value<int> waiting, ranks::Value<int> notified) {
  std::unique_lock g(c);
  const bool die = waiting.fetch_add(1) == 0;
  if (die) {
    std::thread([] {
      std::this_thread::sleep_for(200ms);
      std::raise(SIGKILL);
    }).detach();
  }
  const bool woken = c.wait(60s);
  if (!die) notified.store(woken ? 1 : 0);
}

// A waiter of a Condition is lost while it waits: a notify still reaches the one that lives.
int mode_condition() {
  ranks::Condition cond;
  ranks::Value<int> waiting(0), notified(-1);
  ranks::Pool pool(2);
  auto waiters = on_two_engines(pool, wait_on, cond, waiting, notified);
  while (waiting.load() < 2) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(400ms);  // the first has died meanwhile
  {
    std::scoped_lock g(cond);
    cond.notify(1);
  }
  wait_for(waiters);
  check(notified.load() == 1, "the living waiter was notified");
  std::cout << "condition: a lost waiter took no notify" << std::endl;
  return 0;
}

constexpr std::uint64_t kPattern = 0x0101010101010101ULL;

// Writes the whole array with pattern k, k = 1, 2, ..., until it is killed in the middle.
void write_until_killed(ranks::Array<std::uint64_t> a, ranks::Value<int> rounds) {
  std::thread([] {
    std::this_thread::sleep_for(300ms);
    std::raise(SIGKILL);
  }).detach();
  std::vector<std::uint64_t> block(a.size());
  for (std::uint64_t k = 1;; k = k % 255 + 1) {  // each byte of an element is k
    std::fill(block.begin(), block.end(), k * kPattern);
    a.write(0, block);
    rounds.store(static_cast<int>(k));
  }
}

// A process killed in the middle of Array::write leaves each element old or new, never torn.
// Through the controller (RANKS_CHANNEL=0) its writes are messages, each applied whole when it
// has come: a small array there, as a process killed while MPI moves a large message to the
// controller can leave the controller waiting for its rest (see docs/ERRORS.md).
int mode_array() {
  const char* channel = std::getenv("RANKS_CHANNEL");
  const bool by_controller = channel != nullptr && std::string(channel) == "0";
  ranks::Array<std::uint64_t> a(by_controller ? std::size_t{64} : std::size_t{4} << 20);
  ranks::Value<int> rounds(0);
  ranks::Process p(write_until_killed, a, rounds);
  p.start();
  p.join();
  const std::vector<std::uint64_t> all = a.read();
  std::size_t torn = 0;
  std::set<std::uint64_t> values;
  for (const std::uint64_t v : all) {
    if (v % kPattern != 0) ++torn;
    values.insert(v);
  }
  check(torn == 0, std::to_string(torn) + " elements torn");
  check(values.size() <= 2, "two writes at most are seen: " + std::to_string(values.size()));
  std::cout << "array: killed after " << rounds.load() << " whole writes; each element old or new"
            << std::endl;
  return 0;
}

void wait_for_lock_for_ever(ranks::Lock l) { l.lock(); }
void wait_for_event_for_ever(ranks::Event e) { (void)e.wait(); }

// The program ends while tasks wait on a lock it holds and on an event nobody sets: the waits end
// (ranks::Closed), so that the engines stop and the program exits at once.
int mode_ending() {
  ranks::Lock lock;
  lock.lock();
  ranks::Event never;
  ranks::Process a(wait_for_lock_for_ever, lock);
  ranks::Process b(wait_for_event_for_ever, never);
  a.start();
  b.start();
  std::this_thread::sleep_for(300ms);
  std::cout << "ending: the program ends while tasks wait on a lock and an event" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return ranks::run(argc, argv, [&] {
    int code = 64;
    if (mode == "lock") code = mode_lock();
    if (mode == "rlock") code = mode_rlock();
    if (mode == "semaphore") code = mode_semaphore();
    if (mode == "barrier") code = mode_barrier();
    if (mode == "condition") code = mode_condition();
    if (mode == "array") code = mode_array();
    if (mode == "ending") code = mode_ending();
    if (code == 64) {
      std::cerr << "sync_lost lock|rlock|semaphore|barrier|condition|array|ending" << std::endl;
      return code;
    }
    if (failures > 0) return 1;
    std::cout << mode << ": every check held" << std::endl;
    return code;
  });
}
