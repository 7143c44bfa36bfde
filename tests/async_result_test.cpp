#include <gtest/gtest.h>

#include <chrono>
#include <ranks/ranks.hpp>
#include <thread>

#include "throws.hpp"

namespace {

using namespace std::chrono_literals;

int slow_echo(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x;
}
int square(int x) { return x * x; }
void nothing(int) {}

}  // namespace

TEST(AsyncResult, get_with_timeout_throws_timeout_error_then_succeeds) {
  ranks::Pool pool(1);
  auto r = pool.apply_async(slow_echo, 5, 400);
  EXPECT_THROW(r.get(50ms), ranks::TimeoutError);
  EXPECT_EQ(r.get(), 5);
  EXPECT_EQ(r.get(10ms), 5);  // ready: no wait
}

TEST(AsyncResult, timeout_error_is_a_ranks_error) {
  ranks::Pool pool(1);
  auto r = pool.apply_async(slow_echo, 1, 300);
  EXPECT_THROW_MSG(r.get(1ms), ranks::TimeoutError, "timed out");
  r.wait();
}

TEST(AsyncResult, wait_with_timeout_says_whether_ready) {
  ranks::Pool pool(1);
  auto r = pool.apply_async(slow_echo, 3, 300);
  EXPECT_FALSE(r.wait(10ms));
  EXPECT_FALSE(r.ready());
  EXPECT_TRUE(r.wait(10s));
  EXPECT_TRUE(r.ready());
}

TEST(AsyncResult, successful_before_ready_throws) {
  ranks::Pool pool(1);
  auto r = pool.apply_async(slow_echo, 3, 300);
  EXPECT_THROW((void)r.successful(), ranks::Error);
  r.wait();
  EXPECT_TRUE(r.successful());
  auto bad = pool.apply_async([](int) -> int { throw std::logic_error("no"); }, 0);
  bad.wait();
  EXPECT_FALSE(bad.successful());
}

TEST(AsyncResult, results_progress_while_the_controller_does_other_work) {
  ranks::Pool pool;
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(pool.apply_async(square, i));
  // No call into ranks while "working": the background progress must deliver the results.
  const auto until = std::chrono::steady_clock::now() + 10s;
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
    all = true;
    for (auto& r : rs) all = all && r.ready();
  }
  EXPECT_TRUE(all);
}

TEST(AsyncResult, void_results) {
  ranks::Pool pool;
  ranks::AsyncResult<void> r = pool.apply_async(nothing, 1);
  r.get();
  EXPECT_TRUE(r.successful());
  bool called = false;
  pool.apply_async(nothing, 2).then([&] { called = true; }).wait();
  pool.close();
  pool.join();
  EXPECT_TRUE(called);
}

TEST(AsyncResult, copies_share_the_result) {
  ranks::Pool pool;
  auto a = pool.apply_async(square, 6);
  auto b = a;
  EXPECT_EQ(a.get(), 36);
  EXPECT_EQ(b.get(), 36);
  EXPECT_EQ(std::move(a).get(), 36);
  EXPECT_EQ(b.get(), 36);
}

TEST(AsyncResult, then_after_ready_still_runs) {
  ranks::Pool pool;
  auto r = pool.apply_async(square, 4);
  r.wait();
  int got = 0;
  r.then([&](int v) { got = v; });
  pool.close();
  pool.join();
  EXPECT_EQ(got, 16);
}

TEST(AsyncResult, empty_result_is_an_error_not_a_crash) {
  ranks::AsyncResult<int> r;
  EXPECT_THROW(r.get(), ranks::Error);
  EXPECT_THROW((void)r.ready(), ranks::Error);
}
