#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "launch.hpp"
#include "test_types.hpp"
#include "throws.hpp"

namespace {

int square(int x) { return x * x; }
std::string shout(const std::string& s) { return s + "!"; }
int engine_of(int) { return ranks::engine_id(); }
int slow_square(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return x * x;
}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

struct Scale {
  double k = 1;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& k;
  }
  double operator()(double x) const { return k * x; }
};

using ranks_test::Person;
Person promote(Person p) {
  p.name = "Dr. " + p.name;
  p.scores.push_back(100);
  return p;
}

// A plain-old-data type: travels as raw bytes.
struct Point {
  double x, y;
};
Point mirror(Point p) { return {p.y, p.x}; }

int g_initialized = 0;
void initialize() { g_initialized = 42; }
int initialized(int) { return g_initialized; }
std::string g_greeting;
void initialize_with(int k, std::string greeting) {
  g_initialized = k;
  g_greeting = std::move(greeting);
}
std::string greeting_and_k(int) { return g_greeting + std::to_string(g_initialized); }

std::map<std::string, int> histogram(const std::vector<std::string>& words) {
  std::map<std::string, int> h;
  for (const auto& w : words) ++h[w];
  return h;
}

}  // namespace

TEST(Pool, map_keeps_input_order) {
  ranks::Pool pool;
  const auto in = iota(1000);
  const auto out = pool.map(square, in);
  ASSERT_EQ(out.size(), in.size());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(out[i], i * i);
}

TEST(Pool, map_of_many_tiny_tasks_with_automatic_chunks) {
  ranks::Pool pool;
  std::vector<long long> in(100000);
  std::iota(in.begin(), in.end(), 0);
  const auto out = pool.map([](long long x) { return x * x; }, in);
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] * in[i]);
  // Once the time per item is known, parts are no shorter than a round trip is worth: a few
  // dozen parts, not hundreds of crumbs.
  auto r = pool.map_async([](long long x) { return x * x; }, in);
  ASSERT_EQ(r.get().size(), in.size());
  EXPECT_LE(r.metadata().size(), 100u);
  std::size_t covered = 0;
  for (const auto& m : r.metadata()) covered += m.count;
  EXPECT_EQ(covered, in.size());
}

TEST(Pool, map_with_fixed_chunksizes) {
  ranks::Pool pool;
  const auto in = iota(257);
  for (std::size_t chunk : {1u, 2u, 7u, 256u, 1000u}) {
    const auto out = pool.map(square, in, chunk);
    ASSERT_EQ(out.size(), in.size()) << "chunksize " << chunk;
    for (int i = 0; i < 257; ++i) ASSERT_EQ(out[i], i * i) << "chunksize " << chunk;
  }
}

TEST(Pool, map_of_empty_input_is_empty) {
  ranks::Pool pool;
  EXPECT_TRUE(pool.map(square, std::vector<int>{}).empty());
  pool.set_schedule(ranks::Schedule::kStatic);
  EXPECT_TRUE(pool.map(square, std::vector<int>{}).empty());
}

TEST(Pool, captureless_lambdas_and_functors_travel) {
  ranks::Pool pool;
  EXPECT_EQ(pool.map([](int x) { return x + 1; }, std::vector<int>{1, 2}),
            (std::vector<int>{2, 3}));
  EXPECT_EQ(pool.map(Scale{2.5}, std::vector<double>{1, 2}), (std::vector<double>{2.5, 5}));
  EXPECT_EQ(pool.apply(Scale{3}, 2.0), 6.0);
}

TEST(Pool, strings_user_types_and_containers_travel) {
  ranks::Pool pool;
  EXPECT_EQ(pool.map(shout, std::vector<std::string>{"a", "", "hello"}),
            (std::vector<std::string>{"a!", "!", "hello!"}));
  const auto people = pool.map(promote, std::vector<Person>{{"Ada", {1, 2}}, {"Alan", {}}});
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].name, "Dr. Ada");
  EXPECT_EQ(people[0].scores, (std::vector<int>{1, 2, 100}));
  EXPECT_EQ(people[1].scores, (std::vector<int>{100}));
  const auto points = pool.map(mirror, std::vector<Point>{{1, 2}, {3, 4}});
  EXPECT_EQ(points[1].x, 4);
  EXPECT_EQ(points[1].y, 3);
  EXPECT_EQ(pool.apply(shout, "literal"), "literal!");  // a C string travels as std::string
  const char* text = "pointer";
  EXPECT_EQ(pool.apply(shout, text), "pointer!");
  const auto h = pool.apply(histogram, std::vector<std::string>{"a", "b", "a"});
  EXPECT_EQ(h.at("a"), 2);
  EXPECT_EQ(h.at("b"), 1);
}

TEST(Pool, apply_and_apply_async) {
  ranks::Pool pool;
  EXPECT_EQ(pool.apply(square, 3), 9);
  const int pow = pool.apply(
      [](int b, int e) {
        int r = 1;
        while (e--) r *= b;
        return r;
      },
      2, 10);
  EXPECT_EQ(pow, 1024);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 50; ++i) rs.push_back(pool.apply_async(square, i));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(rs[i].get(), i * i);
}

TEST(Pool, starmap_unpacks_tuples) {
  ranks::Pool pool;
  EXPECT_EQ(pool.starmap([](int a, int b) { return a + b; },
                         std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}}),
            (std::vector<int>{3, 7}));
  auto r = pool.starmap_async([](std::string s, int n) { return s + std::to_string(n); },
                              std::vector<std::tuple<std::string, int>>{{"a", 1}, {"b", 2}});
  EXPECT_EQ(r.get(), (std::vector<std::string>{"a1", "b2"}));
}

TEST(Pool, map_async_returns_at_once_and_gets_later) {
  ranks::Pool pool;
  auto a = pool.map_async(square, iota(100));
  auto b = pool.map_async(square, iota(10), 3);
  EXPECT_EQ(b.get(), pool.map(square, iota(10)));
  EXPECT_EQ(a.get()[99], 99 * 99);
}

int nap_25ms(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(25));
  return x;
}

TEST(Pool, progress_counts_items_as_they_complete_within_a_chunk) {
  ranks::Pool pool(1);
  std::vector<int> in(40);
  std::iota(in.begin(), in.end(), 0);
  auto r = pool.map_async(nap_25ms, in, /*chunksize=*/20);  // two parts of 500 ms
  EXPECT_EQ(r.total(), 40u);
  std::vector<std::size_t> seen;
  while (!r.ready()) {
    seen.push_back(r.progress());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(r.progress(), 40u);
  EXPECT_EQ(r.get(), in);
  // Between the parts' ends, the engine said how many of their items were done.
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](std::size_t v) { return v % 20 != 0; }))
      << "progress moved only by whole parts";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "progress went back";
}

TEST(Pool, imap_unordered_says_each_results_input_position) {
  ranks::Pool pool;
  std::vector<int> in(50);
  std::iota(in.begin(), in.end(), 0);
  std::vector<int> out(in.size(), -1);
  for (auto [i, v] : pool.imap_unordered(square, in, 3).indexed()) {
    ASSERT_LT(i, out.size());
    EXPECT_EQ(out[i], -1) << "position " << i << " came twice";
    out[i] = v;
  }
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], square(in[i])) << "at " << i;
  auto ordered = pool.imap(square, in);
  std::size_t expected = 0;
  for (auto it = ordered.begin(); it != ordered.end(); ++it) EXPECT_EQ(it.index(), expected++);
}

TEST(Pool, imap_yields_in_input_order) {
  ranks::Pool pool;
  std::vector<int> seen;
  for (int v : pool.imap(square, iota(300), 7)) seen.push_back(v);
  EXPECT_EQ(seen, pool.map(square, iota(300)));
}

TEST(Pool, imap_unordered_yields_every_result_once) {
  ranks::Pool pool;
  std::multiset<int> seen;
  for (int v : pool.imap_unordered(square, iota(300), 5)) seen.insert(v);
  const auto expect = pool.map(square, iota(300));
  EXPECT_EQ(seen, std::multiset<int>(expect.begin(), expect.end()));
}

TEST(Pool, static_schedule_gives_the_same_results) {
  ranks::Pool pool;
  pool.set_schedule(ranks::Schedule::kStatic);
  EXPECT_EQ(pool.schedule(), ranks::Schedule::kStatic);
  for (int n : {1, 2, 3, 7, 1001}) {
    const auto out = pool.map(square, iota(n));
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], i * i);
  }
  EXPECT_EQ(pool.map(shout, std::vector<std::string>{"x", "y", "z"}),
            (std::vector<std::string>{"x!", "y!", "z!"}));
  auto a = pool.map_async(square, iota(50));
  auto b = pool.starmap_async([](int x, int y) { return x * y; },
                              std::vector<std::tuple<int, int>>{{2, 3}, {4, 5}});
  EXPECT_EQ(a.get()[7], 49);
  EXPECT_EQ(b.get(), (std::vector<int>{6, 20}));
}

TEST(Pool, static_schedule_on_a_subset_of_engines) {
  ranks::Pool all;
  if (all.size() < 2) GTEST_SKIP() << "needs two engines";  // never: Pool() spawns one per core
  ranks::Pool one(1);
  one.set_schedule(ranks::Schedule::kStatic);
  EXPECT_EQ(one.map(square, iota(5)), (std::vector<int>{0, 1, 4, 9, 16}));
}

TEST(Pool, every_engine_takes_part) {
  ranks::Pool pool;
  const auto ids = pool.map(engine_of, iota(2000), 1);
  std::set<int> distinct(ids.begin(), ids.end());
  for (int id : distinct) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, ranks::engine_count());
  }
  pool.set_schedule(ranks::Schedule::kStatic);
  const auto st = pool.map(engine_of, iota(pool.size()));
  EXPECT_EQ(std::set<int>(st.begin(), st.end()).size(), static_cast<std::size_t>(pool.size()));
}

TEST(Pool, size_is_what_was_asked) {
  if (!ranks_test::can_have(3)) {
    EXPECT_THROW_MSG(ranks::Pool(3), ranks::Error, "run it as `" + ranks_test::launch_of(4));
    return;
  }
  ranks::Pool three(3);
  EXPECT_EQ(three.size(), 3);
  EXPECT_EQ(three.engines(), (std::vector<int>{0, 1, 2}));
  ranks::Pool all;
  EXPECT_EQ(all.size(), ranks::engine_count());
}

TEST(Pool, initializer_runs_on_each_engine_before_tasks) {
  if (!ranks_test::can_have(3)) GTEST_SKIP() << "3 engines need 4 processes here (no spawning)";
  ranks::Pool pool(3, initialize);
  const auto seen = pool.map(initialized, iota(60), 1);
  for (int v : seen) EXPECT_EQ(v, 42);
}

TEST(Pool, initializer_gets_its_arguments) {
  // Python's Pool(initializer=f, initargs=(7, "hola ")): the arguments follow the initializer,
  // after the options if there are any. (Replacements run the same message: survive maxtasks.)
  ranks::Pool pool(1, initialize_with, 7, std::string("hola "));
  for (const auto& s : pool.map(greeting_and_k, iota(10), 1)) EXPECT_EQ(s, "hola 7");
  ranks::Pool with_options(1, initialize_with, ranks::PoolOptions{.maxtasksperchild = 0}, 9,
                           std::string("again "));
  for (const auto& s : with_options.map(greeting_and_k, iota(10), 1)) EXPECT_EQ(s, "again 9");
}

TEST(Pool, callbacks_run_on_the_controller_and_destructor_loses_nothing) {
  std::atomic<int> values{0};
  std::atomic<int> errors{0};
  long long sum = 0;
  {
    ranks::Pool pool;
    for (int i = 0; i < 200; ++i) {
      pool.apply_async(square, i).then(
          [&](int v) {
            ++values;
            sum += v;  // one callback at a time: no lock needed
          },
          [&](const ranks::RemoteError&) { ++errors; });
    }
  }
  EXPECT_EQ(values.load(), 200);
  EXPECT_EQ(errors.load(), 0);
  long long expect = 0;
  for (int i = 0; i < 200; ++i) expect += i * i;
  EXPECT_EQ(sum, expect);
}

TEST(Pool, close_then_join_waits_for_everything) {
  ranks::Pool pool;
  auto r = pool.map_async(square, iota(1000), 1);
  pool.close();
  pool.join();
  EXPECT_TRUE(r.ready());
  EXPECT_EQ(r.get()[999], 999 * 999);
}

TEST(Pool, terminate_drops_queued_work) {
  ranks::Pool pool(1);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 200; ++i) rs.push_back(pool.apply_async(square, i));
  pool.terminate();
  pool.join();
  int ok = 0, dropped = 0;
  for (auto& r : rs) {
    ASSERT_TRUE(r.ready());
    if (r.successful()) {
      ++ok;
    } else {
      ++dropped;
      EXPECT_THROW(r.get(), ranks::Error);
    }
  }
  EXPECT_EQ(ok + dropped, 200);
}

// CPython's test_terminate, translated: after terminate(), nothing more of a map is sent; only
// the chunks already on the engine run.
TEST(Pool, terminate_stops_a_map_whose_chunks_are_queued) {
  ranks::Pool pool(1);
  auto r = pool.map_async(slow_square, iota(20), 1);
  pool.terminate();
  pool.join();
  ASSERT_TRUE(r.ready());
  EXPECT_THROW_MSG(r.get(), ranks::Error, "terminated");
  // Two chunks are in flight per engine at first (more only for tasks far shorter than these).
  EXPECT_LE(r.metadata().size(), 4u) << "chunks that ran after terminate()";
  // The pool's engine is free for other work at once.
  ranks::Pool other(1);
  EXPECT_EQ(other.apply(square, 7), 49);
}

TEST(Pool, pools_share_engines) {
  ranks::Pool a;
  ranks::Pool b(1);
  auto ra = a.map_async(square, iota(500), 1);
  auto rb = b.map_async(square, iota(500), 1);
  EXPECT_EQ(ra.get(), rb.get());
}
