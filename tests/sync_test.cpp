// Locks, semaphores, events, conditions, barriers, values and arrays between the program and its
// engines: each used from both sides at once, totals that only hold if the atomics and locks
// mean the same in every process, and what is refused (with what the message says).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>
#include <vector>

#include "launch.hpp"
#include "throws.hpp"

namespace {

using namespace std::chrono_literals;

// A pool of n engines, or of as many as the job has where none can be started (MPICH): the
// tasks below need no more at once.
ranks::Pool pool_of(int n) {
  return ranks::Pool(ranks_test::kCanSpawn ? n : std::min(n, ranks::engine_count()));
}

// Expects f to throw an E whose message holds every one of parts.
template <class E, class F>
void expect_message(F f, std::initializer_list<const char*> parts) {
  if (auto e = ranks_test::thrown<E>(f)) {
    for (const char* part : parts)
      EXPECT_NE(std::string(e->what()).find(part), std::string::npos)
          << '"' << e->what() << "\" lacks \"" << part << '"';
  }
}

// n increments of the value, each under the lock (a load and a store: lost updates without it).
int locked_increments(ranks::Lock l, ranks::Value<std::int64_t> v, int n) {
  for (int i = 0; i < n; ++i) {
    std::scoped_lock g(l);
    v.store(v.load() + 1);
  }
  return n;
}

TEST(Lock, keeps_increments_of_four_engines_and_the_program_whole) {
  ranks::Lock lock;
  ranks::Value<std::int64_t> v(0);
  ranks::Pool pool = pool_of(4);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int t = 0; t < 4; ++t) rs.push_back(pool.apply_async(locked_increments, lock, v, 2000));
  (void)locked_increments(lock, v, 2000);
  for (auto& r : rs) EXPECT_EQ(r.get(), 2000);
  EXPECT_EQ(v.load(), 5 * 2000);
}

std::int64_t added(ranks::Value<std::int64_t> v, ranks::Array<double> a, int n) {
  for (int i = 0; i < n; ++i) {
    (void)v.fetch_add(1);
    (void)a.fetch_add(static_cast<std::size_t>(i % 3), 0.5);
  }
  return n;
}

TEST(Value, fetch_add_from_every_process_is_exact) {
  ranks::Value<std::int64_t> v(10);
  ranks::Array<double> a(3);
  ranks::Pool pool = pool_of(3);
  auto rs = pool.starmap(
      added, std::vector<std::tuple<ranks::Value<std::int64_t>, ranks::Array<double>, int>>(
                 6, {v, a, 3000}));
  EXPECT_EQ(std::accumulate(rs.begin(), rs.end(), std::int64_t{0}), 6 * 3000);
  EXPECT_EQ(v.load(), 10 + 6 * 3000);
  EXPECT_DOUBLE_EQ(a.load(0) + a.load(1) + a.load(2), 6 * 3000 * 0.5);
  EXPECT_DOUBLE_EQ(a.load(0), 6 * 1000 * 0.5);
}

int swap_once(ranks::Value<int> v, int from, int to) {
  int expected = from;
  return v.compare_exchange(expected, to) ? 1 : 0;
}

TEST(Value, compare_exchange_swaps_once_and_says_what_it_found) {
  ranks::Value<int> v(7);
  int expected = 3;
  EXPECT_FALSE(v.compare_exchange(expected, 9));
  EXPECT_EQ(expected, 7);
  ranks::Pool pool = pool_of(2);
  auto won =
      pool.starmap(swap_once, std::vector<std::tuple<ranks::Value<int>, int, int>>(8, {v, 7, 8}));
  EXPECT_EQ(std::accumulate(won.begin(), won.end(), 0), 1);
  EXPECT_EQ(v.load(), 8);
}

struct Big {  // no padding: compare_exchange compares bytes
  double x[4];
  std::int64_t tag;
};

void store_big(ranks::Value<Big> v, int tag) {
  std::scoped_lock g(v.get_lock());
  Big b = v.load();
  b.tag += tag;
  for (double& d : b.x) d += 1;
  v.store(b);
}

TEST(Value, a_larger_value_goes_under_its_lock_whole) {
  ranks::Value<Big> v(Big{{1, 2, 3, 4}, 0});
  ranks::Pool pool = pool_of(2);
  std::vector<ranks::AsyncResult<void>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(pool.apply_async(store_big, v, 1));
  for (auto& r : rs) r.get();
  const Big b = v.load();
  EXPECT_EQ(b.tag, 20);
  EXPECT_EQ(b.x[0], 21);
  EXPECT_EQ(b.x[3], 24);
  Big e{{21, 22, 23, 24}, 20};
  Big d{{0, 0, 0, 0}, -1};
  EXPECT_TRUE(v.compare_exchange(e, d));
  EXPECT_EQ(v.load().tag, -1);
}

void write_block(ranks::Array<double> a, std::size_t first, std::size_t n, double value) {
  a.write(first, std::vector<double>(n, value));
}

TEST(Array, engines_write_blocks_the_program_reads_them_all) {
  const std::size_t n = 1 << 20, parts = 8, each = n / parts;
  ranks::Array<double> a(n);
  EXPECT_EQ(a.size(), n);
  ranks::Pool pool = pool_of(4);
  std::vector<ranks::AsyncResult<void>> rs;
  for (std::size_t p = 0; p < parts; ++p)
    rs.push_back(pool.apply_async(write_block, a, p * each, each, static_cast<double>(p + 1)));
  for (auto& r : rs) r.get();
  const std::vector<double> all = a.read();
  ASSERT_EQ(all.size(), n);
  for (std::size_t i = 0; i < n; i += 4099) EXPECT_EQ(all[i], static_cast<double>(i / each + 1));
  EXPECT_EQ(a.read(each - 1, 2), (std::vector<double>{1, 2}));
  std::vector<double> into(3);
  a.read_into(n - 3, into);
  EXPECT_EQ(into, (std::vector<double>(3, static_cast<double>(parts))));
}

TEST(Array, an_index_outside_says_so_and_changes_nothing) {
  ranks::Array<int> a{1, 2, 3};
  expect_message<ranks::Error>(
      [&] { a.store(3, 9); },
      {"ranks::Array::store", "index 3", "array of 3", "0..2", "nothing was read or written"});
  expect_message<ranks::Error>(
      [&] {
        a.write(2, std::vector<int>{7, 8});
      },
      {"ranks::Array::write", "elements 2..4", "array of 3"});
  expect_message<ranks::Error>([&] { (void)a.load(100); }, {"index 100"});
  EXPECT_EQ(a.read(), (std::vector<int>{1, 2, 3}));
}

TEST(Lock, misuse_says_what_to_do) {
  ranks::Lock lock;
  expect_message<ranks::Error>([&] { lock.unlock(); }, {"ranks::Lock::unlock", "nobody holds"});
  lock.lock();
  expect_message<ranks::Error>([&] { lock.lock(); }, {"not recursive", "RLock"});
  EXPECT_FALSE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock_for(20ms));
  lock.unlock();
  ranks::RLock r;
  expect_message<ranks::Error>([&] { r.unlock(); }, {"ranks::RLock::unlock"});
  ranks::BoundedSemaphore s(1);
  expect_message<ranks::Error>([&] { s.release(); },
                               {"BoundedSemaphore of 1", "released more often"});
  expect_message<ranks::Error>([] { ranks::Barrier b(0); }, {"at least one"});
  ranks::Condition c;
  expect_message<ranks::Error>([&] { c.notify(); }, {"ranks::Condition::notify", "does not hold"});
  ranks::Barrier none;
  expect_message<ranks::Error>([&] { (void)none.wait(); }, {"names no object"});
}

bool release_from_engine(ranks::Lock l) {
  l.unlock();
  return true;
}

TEST(Lock, another_process_may_release_a_lock_as_in_python) {
  ranks::Lock lock;
  lock.lock();
  ranks::Pool pool = pool_of(1);
  EXPECT_TRUE(pool.apply(release_from_engine, lock));
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

int nested(ranks::RLock r, int depth) {
  for (int i = 0; i < depth; ++i) r.lock();
  const bool free_elsewhere = true;
  for (int i = 0; i < depth; ++i) r.unlock();
  return free_elsewhere ? depth : -1;
}

TEST(RLock, its_holder_takes_it_again_others_wait) {
  ranks::RLock r;
  r.lock();
  r.lock();
  ranks::Pool pool = pool_of(1);
  auto other = pool.apply_async(nested, r, 3);
  EXPECT_FALSE(other.wait(100ms));  // held here twice
  r.unlock();
  EXPECT_FALSE(other.wait(50ms));
  r.unlock();
  EXPECT_EQ(other.get(30s), 3);
}

int take_and_count(ranks::Semaphore s, ranks::Value<int> in, ranks::Value<int> most) {
  s.acquire();
  const int now = in.fetch_add(1) + 1;
  int seen = most.load();
  while (now > seen && !most.compare_exchange(seen, now)) {
  }
  std::this_thread::sleep_for(5ms);
  (void)in.fetch_add(-1);
  s.release();
  return now;
}

TEST(Semaphore, lets_at_most_its_value_in_at_once) {
  ranks::Semaphore s(2);
  ranks::Value<int> in(0), most(0);
  ranks::Pool pool = pool_of(4);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 16; ++i) rs.push_back(pool.apply_async(take_and_count, s, in, most));
  for (auto& r : rs) EXPECT_LE(r.get(), 2);
  EXPECT_LE(most.load(), 2);
  EXPECT_EQ(s.get_value(), 2u);
}

bool wait_event(ranks::Event e) { return e.wait(30s); }

TEST(Event, wakes_every_waiter_and_times_out_when_clear) {
  ranks::Event e;
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(20ms));
  ranks::Pool pool = pool_of(3);
  std::vector<ranks::AsyncResult<bool>> rs;
  for (int i = 0; i < 3; ++i) rs.push_back(pool.apply_async(wait_event, e));
  std::this_thread::sleep_for(50ms);
  e.set();
  for (auto& r : rs) EXPECT_TRUE(r.get(30s));
  EXPECT_TRUE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
}

int consume(ranks::Condition c, ranks::Array<int> box) {
  std::unique_lock g(c);
  c.wait([&] { return box.load(0) > 0; });
  (void)box.fetch_add(0, -1);
  return 1;
}

TEST(Condition, notify_wakes_as_many_as_it_says) {
  ranks::Condition c;
  ranks::Array<int> box(1);
  ranks::Pool pool = pool_of(3);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 3; ++i) rs.push_back(pool.apply_async(consume, c, box));
  for (int item = 0; item < 3; ++item) {
    std::this_thread::sleep_for(30ms);
    std::scoped_lock g(c);
    (void)box.fetch_add(0, 1);
    c.notify();
  }
  for (auto& r : rs) EXPECT_EQ(r.get(30s), 1);
  EXPECT_EQ(box.load(0), 0);
  std::unique_lock g(c);
  EXPECT_FALSE(c.wait(20ms));  // nobody notifies
  EXPECT_FALSE(c.wait_for(20ms, [] { return false; }));
}

// Waits at the barrier `rounds` times, checking that everyone reached each round first; adds
// its arrival indexes to its place in `indexes` (a large number if anyone went on too early).
// Its place: me, or (-1) the next of `places`.
void rounds_at(ranks::Barrier b, ranks::Array<int> seen, int rounds, int me,
               ranks::Array<std::int64_t> indexes, ranks::Value<int> places) {
  if (me < 0) me = places.fetch_add(1);
  std::int64_t sum = 0;
  for (int r = 0; r < rounds; ++r) {
    seen.store(static_cast<std::size_t>(me), r);
    sum += static_cast<std::int64_t>(b.wait(30s));
    for (std::size_t p = 0; p < seen.size(); ++p)
      if (seen.load(p) < r) sum += 1000000;
    (void)b.wait(30s);
  }
  indexes.store(static_cast<std::size_t>(me), sum);
}

TEST(Barrier, nobody_passes_before_all_came) {
  const int parties = 4;
  ranks::Barrier b(parties);
  EXPECT_EQ(b.parties(), 4u);
  ranks::Array<int> seen(parties);
  ranks::Array<std::int64_t> indexes(parties);
  ranks::Value<int> places(1);  // the program is 0
  // A task on an engine, two threads of the program and the program itself: parties that run at
  // once whatever else the engines are doing.
  ranks::Pool pool = pool_of(1);
  auto engine = pool.apply_async(rounds_at, b, seen, 20, -1, indexes, places);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] { rounds_at(b, seen, 20, -1, indexes, places); });
  rounds_at(b, seen, 20, 0, indexes, places);
  for (auto& t : threads) t.join();
  engine.get();
  const std::vector<std::int64_t> all = indexes.read();
  EXPECT_EQ(std::accumulate(all.begin(), all.end(), std::int64_t{0}),
            20 * (0 + 1 + 2 + 3));  // each round's indexes are 0..3
  EXPECT_EQ(b.n_waiting(), 0u);
}

TEST(Barrier, a_timeout_or_abort_breaks_it_for_every_waiter_until_reset) {
  ranks::Barrier b(2);
  expect_message<ranks::BrokenBarrier>([&] { (void)b.wait(20ms); }, {"timed out"});
  EXPECT_TRUE(b.broken());
  expect_message<ranks::BrokenBarrier>([&] { (void)b.wait(); }, {"reset()"});
  b.reset();
  EXPECT_FALSE(b.broken());
  b.abort();
  expect_message<ranks::BrokenBarrier>([&] { (void)b.wait(); }, {"abort()"});
}

}  // namespace
