#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>

#include "launch.hpp"
#include "throws.hpp"

using ranks_test::thrown;

namespace {

int square(int x) { return x * x; }
int fail_on_odd_multiples_of(int x) {
  if (x == 3 || x == 7 || x == 11) throw std::invalid_argument("bad " + std::to_string(x));
  return x;
}
int throw_int(int) { throw 42; }
struct MyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
int throw_mine(int) { throw MyError("custom"); }
int nested_pool(int) {
  ranks::Pool inner(1);
  return inner.size();
}

// An item whose serialize() throws while it is saved: it cannot be sent to an engine.
struct Unsendable {
  int v = 0;
  std::string tag;  // not trivially copyable: it travels by serialize()
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    if (Archive::is_saving::value && v == 13) throw std::runtime_error("13 cannot travel");
    ar& v& tag;
  }
};
int value_of(const Unsendable& u) { return u.v; }
std::vector<Unsendable> unsendables(int n) {
  std::vector<Unsendable> items(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) items[static_cast<std::size_t>(i)].v = i;
  return items;
}

}  // namespace

TEST(Errors, remote_error_names_type_message_and_engine) {
  ranks::Pool pool;
  auto e = thrown<ranks::RemoteError>(
      [&] { pool.apply([](int) -> int { throw std::runtime_error("boom"); }, 1); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type_name(), "std::runtime_error");
  EXPECT_EQ(e->message(), "boom");
  EXPECT_GE(e->engine_id(), 0);
  EXPECT_LT(e->engine_id(), ranks::engine_count());
  const std::string what = e->what();
  EXPECT_NE(what.find("std::runtime_error"), std::string::npos);
  EXPECT_NE(what.find("boom"), std::string::npos);
  EXPECT_NE(what.find("engine " + std::to_string(e->engine_id())), std::string::npos);
}

TEST(Errors, engine_serves_on_after_a_failure) {
  ranks::Pool pool(1);
  for (int round = 0; round < 5; ++round) {
    EXPECT_THROW(pool.apply(fail_on_odd_multiples_of, 3), ranks::RemoteError);
    EXPECT_EQ(pool.apply(square, round), round * round);
  }
  // under load: failures mixed into a stream of tasks
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 300; ++i) rs.push_back(pool.apply_async(fail_on_odd_multiples_of, i % 13));
  int failed = 0;
  for (auto& r : rs) {
    r.wait();
    failed += r.successful() ? 0 : 1;
  }
  int expected = 0;
  for (int i = 0; i < 300; ++i) expected += (i % 13 == 3 || i % 13 == 7 || i % 13 == 11);
  EXPECT_EQ(failed, expected);
}

TEST(Errors, map_throws_the_failure_of_the_lowest_index) {
  ranks::Pool pool;
  std::vector<int> in(20);
  for (int i = 0; i < 20; ++i) in[i] = i;
  for (std::size_t chunk : {0u, 1u, 4u}) {
    auto e = thrown<ranks::RemoteError>([&] { pool.map(fail_on_odd_multiples_of, in, chunk); });
    ASSERT_TRUE(e) << "chunksize " << chunk;
    EXPECT_EQ(e->message(), "bad 3") << "chunksize " << chunk;
    EXPECT_EQ(e->index(), 3);
    EXPECT_EQ(e->type_name(), "std::invalid_argument");
  }
  pool.set_schedule(ranks::Schedule::kStatic);
  auto e = thrown<ranks::RemoteError>([&] { pool.map(fail_on_odd_multiples_of, in); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message(), "bad 3");
  EXPECT_EQ(e->index(), 3);
}

TEST(Errors, imap_raises_when_it_reaches_the_failure) {
  ranks::Pool pool;
  std::vector<int> seen;
  EXPECT_THROW_MSG(for (int v
                        : pool.imap(fail_on_odd_multiples_of, std::vector<int>{0, 1, 2, 3, 4}, 1))
                       seen.push_back(v),
                   ranks::RemoteError, "bad 3");
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
}

TEST(Errors, exceptions_of_any_type_come_back) {
  ranks::Pool pool;
  auto e = thrown<ranks::RemoteError>([&] { pool.apply(throw_int, 0); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type_name(), "int");
  e = thrown<ranks::RemoteError>([&] { pool.apply(throw_mine, 0); });
  ASSERT_TRUE(e);
  EXPECT_NE(e->type_name().find("MyError"), std::string::npos);
  EXPECT_EQ(e->message(), "custom");
}

TEST(Errors, every_library_error_is_a_ranks_error) {
  static_assert(std::is_base_of_v<ranks::Error, ranks::RemoteError>);
  static_assert(std::is_base_of_v<ranks::Error, ranks::TimeoutError>);
  static_assert(std::is_base_of_v<std::runtime_error, ranks::Error>);
  ranks::Pool pool;
  EXPECT_THROW(pool.apply(throw_int, 0), ranks::Error);
}

TEST(Errors, pool_of_zero_or_fewer_engines) {
  for (int n : {0, -3}) EXPECT_THROW_MSG(ranks::Pool p(n), ranks::Error, "at least one engine");
}

TEST(Errors, closed_pool_refuses_work) {
  ranks::Pool pool;
  pool.close();
  EXPECT_THROW_MSG(pool.apply(square, 1), ranks::Error, "closed pool");
  EXPECT_THROW(pool.map(square, std::vector<int>{1}), ranks::Error);
  EXPECT_THROW(pool.imap(square, std::vector<int>{1}), ranks::Error);
  pool.join();
}

TEST(Errors, options_out_of_range_say_what_to_give) {
  EXPECT_THROW_MSG(ranks::Pool(1, ranks::PoolOptions{.maxtasksperchild = -1}), ranks::Error,
                   "PoolOptions::maxtasksperchild is -1; give 0 (never) or more");
  ranks::Client rc;
  EXPECT_THROW_MSG((void)rc.load_balanced_view().with({.timeout = std::chrono::milliseconds(-1)}),
                   ranks::Error, "LoadBalancedView::with: the timeout must be zero (none) or more");
  EXPECT_THROW_MSG((void)rc.add_engines(0), ranks::Error,
                   "ranks::Client::add_engines(0): add at least one engine");
}

TEST(Errors, join_on_an_open_pool) {
  ranks::Pool pool;
  EXPECT_THROW(pool.join(), ranks::Error);
}

TEST(Errors, api_inside_a_task_is_a_remote_error_not_a_hang) {
  ranks::Pool pool;
  EXPECT_THROW_MSG(pool.apply(nested_pool, 0), ranks::RemoteError, "inside a task on an engine");
}

TEST(Errors, process_misuse) {
  ranks::Process p(square, 2);
  EXPECT_THROW(p.join(), ranks::Error);
  EXPECT_FALSE(p.exitcode().has_value());
  p.start();
  EXPECT_THROW(p.start(), ranks::Error);
  p.join();
}

TEST(Errors, a_pool_larger_than_can_be_had_says_to_launch_more_ranks) {
  ::setenv("RANKS_SPAWN", "0", 1);
  const int have = ranks::engine_count();
  EXPECT_THROW_MSG(ranks::Pool too_big(have + 1), ranks::Error,
                   "needs " + std::to_string(have + 1) + " engines");
  EXPECT_THROW_MSG(ranks::Pool too_big(have + 1), ranks::Error, ranks_test::launch_of(have + 2));
  ::unsetenv("RANKS_SPAWN");
  EXPECT_EQ(ranks::engine_count(), have);
}

TEST(Errors, ranks_run_inside_ranks_run) {
  EXPECT_THROW(ranks::run(0, nullptr, [] {}), ranks::Error);
}

TEST(Errors, an_item_that_cannot_be_sent_fails_its_map_alone) {
  ranks::Pool pool;
  const auto items = unsendables(20);
  for (std::size_t chunk : {1u, 4u, 0u}) {
    SCOPED_TRACE("chunksize " + std::to_string(chunk));
    EXPECT_THROW_MSG(pool.map(value_of, items, chunk), ranks::Error, "map input 13");
    EXPECT_THROW_MSG(pool.map(value_of, items, chunk), ranks::Error, "13 cannot travel");
    // Nothing of the failed map is left behind: the pool serves on.
    EXPECT_EQ(pool.map(square, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 4, 9}));
  }
  pool.set_schedule(ranks::Schedule::kStatic);
  EXPECT_THROW_MSG(pool.map(value_of, items), ranks::Error, "map input 13");
  pool.set_schedule(ranks::Schedule::kDynamic);
  auto r = pool.map_async(value_of, items, 1);
  EXPECT_THROW_MSG(r.get(), ranks::Error, "map input 13");
  EXPECT_EQ(pool.apply(square, 5), 25);
  pool.close();
  pool.join();  // returns: no work of the failed map waits to be sent
}

TEST(Errors, a_second_timeline_or_dashboard_is_refused) {
  // A run records one timeline and serves one dashboard; the same again is no news.
  const std::string here = "/tmp/ranks-errors-" + std::to_string(::getpid());
  ranks::record_timeline(here + "-a.json");
  ranks::record_timeline(here + "-a.json");
  EXPECT_THROW_MSG(ranks::record_timeline(here + "-b.json"), ranks::Error,
                   "a timeline is recorded to '" + here + "-a.json' already");
  EXPECT_THROW_MSG(ranks::record_timeline("/nonexistent/run.json"), ranks::Error,
                   "recorded to '" + here + "-a.json' already");
  const std::string url = ranks::serve_dashboard();
  EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0U) << url;
  EXPECT_THROW_MSG(ranks::serve_dashboard(), ranks::Error, "the dashboard is served at " + url);
  EXPECT_THROW_MSG(ranks::serve_dashboard("127.0.0.1:99999"), ranks::Error, "is not a port");
  std::remove((here + "-a.json").c_str());  // written again, whole, when the program ends
}
