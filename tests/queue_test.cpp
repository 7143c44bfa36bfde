// Queue and JoinableQueue between the program and its engines: put and get from either side, the
// timed forms, bounded queues, close, task_done/join, large items, and what is refused.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "launch.hpp"

namespace {

using namespace std::chrono_literals;

void producer(ranks::Queue<std::string> q, int id) { q.put("hello from " + std::to_string(id)); }

TEST(Queue, the_program_puts_and_gets_in_order) {
  ranks::Queue<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 100; ++i) q.put(i);
  EXPECT_EQ(q.qsize(), 100u);
  EXPECT_FALSE(q.full());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, a_process_puts_the_program_gets) {
  ranks::Queue<std::string> q;
  ranks::Process p(producer, q, 7);
  p.start();
  EXPECT_EQ(q.get(), "hello from 7");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// Each task puts its n items, numbered, then says how many it put.
int put_numbered(ranks::Queue<std::pair<int, int>> q, int producer_id) {
  for (int i = 0; i < 500; ++i) q.put({producer_id, i});
  return 500;
}

TEST(Queue, engines_put_and_each_producers_items_stay_in_order) {
  ranks::Queue<std::pair<int, int>> q;
  ranks::Pool pool;
  std::vector<ranks::AsyncResult<int>> puts;
  for (int p = 0; p < 4; ++p) puts.push_back(pool.apply_async(put_numbered, q, p));
  std::map<int, int> next;  // per producer, the number expected next
  for (int k = 0; k < 4 * 500; ++k) {
    const auto [p, i] = q.get();
    EXPECT_EQ(i, next[p]) << "producer " << p;
    next[p] = i + 1;
  }
  for (auto& r : puts) EXPECT_EQ(r.get(), 500);
  EXPECT_EQ(next.size(), 4u);
  EXPECT_TRUE(q.empty());
}

int take_one(ranks::Queue<int> q, int /*item*/) { return q.get(); }

TEST(Queue, the_program_puts_engines_get) {
  ranks::Queue<int> q;
  for (int i = 0; i < 40; ++i) q.put(i * 3);
  ranks::Pool pool;
  std::vector<int> seats(40, 0);
  auto got = pool.starmap(take_one, [&] {
    std::vector<std::tuple<ranks::Queue<int>, int>> items;
    for (int i = 0; i < 40; ++i) items.emplace_back(q, i);
    return items;
  }());
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 40; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i * 3);
  EXPECT_TRUE(q.empty());
}

// Passes what it gets from `in` on to `out`, doubled, until it gets -1.
int relay(ranks::Queue<int> in, ranks::Queue<int> out) {
  int n = 0;
  for (int x = in.get(); x != -1; x = in.get(), ++n) out.put(2 * x);
  return n;
}

int put_then_end(ranks::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);
  q.put(-1);
  return n;
}

TEST(Queue, engine_to_engine) {
  if (!ranks_test::can_have(2)) GTEST_SKIP() << "needs two engines at once";
  ranks::Queue<int> between, back;
  ranks::Pool pool(2);
  auto consumer = pool.apply_async(relay, between, back);
  auto producer_result = pool.apply_async(put_then_end, between, 300);
  EXPECT_EQ(producer_result.get(), 300);
  EXPECT_EQ(consumer.get(), 300);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(back.get(), 2 * i);
}

bool times_out_on_engine(ranks::Queue<int> q) {
  try {
    q.get(30ms);
  } catch (const ranks::Empty&) {
    return !q.try_get().has_value();
  }
  return false;
}

TEST(Queue, get_with_a_timeout_throws_empty_on_either_side) {
  ranks::Queue<int> q;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(q.get(30ms), ranks::Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  EXPECT_FALSE(q.try_get().has_value());
  ranks::Pool pool;
  EXPECT_TRUE(pool.apply(times_out_on_engine, q));
  q.put(5);
  EXPECT_EQ(q.try_get(), std::optional<int>(5));
}

TEST(Queue, a_bounded_queue_refuses_past_its_size) {
  ranks::Queue<int> q(2);
  q.put(1);
  q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.try_put(3));
  EXPECT_THROW(q.put(3, 20ms), ranks::Full);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_TRUE(q.try_put(3));
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 3);
}

int put_many(ranks::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);  // waits while 3 items wait
  return n;
}

TEST(Queue, a_put_on_a_full_queue_waits_for_room) {
  ranks::Queue<int> q(3);
  ranks::Pool pool;
  auto r = pool.apply_async(put_many, q, 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_LE(q.qsize(), 3u);
    EXPECT_EQ(q.get(), i);
  }
  EXPECT_EQ(r.get(), 50);
}

bool waits_until_closed(ranks::Queue<int> q) {
  try {
    q.get();
  } catch (const ranks::Closed&) {
    return true;
  }
  return false;
}

TEST(Queue, close_lets_gets_take_what_is_left_then_throws_closed) {
  ranks::Queue<int> q;
  q.put(1);
  q.put(2);
  q.close();
  EXPECT_THROW(q.put(3), ranks::Closed);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_THROW(q.get(), ranks::Closed);

  ranks::Queue<int> waiting;
  ranks::Pool pool;
  auto r = pool.apply_async(waits_until_closed, waiting);
  EXPECT_FALSE(r.wait(100ms));  // the get waits
  waiting.close();
  EXPECT_TRUE(r.get());
}

int put_into(ranks::Queue<int> q) {
  q.put(1);  // unbounded: the task goes on at once
  return 0;
}

TEST(Queue, a_put_the_task_did_not_wait_for_fails_the_task) {
  ranks::Queue<int> q;
  q.close();
  ranks::Pool pool;
  try {
    pool.apply(put_into, q);
    FAIL() << "the task succeeded";
  } catch (const ranks::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "ranks::Closed");
    EXPECT_NE(e.message().find("a put or send made earlier in this task: the queue was closed"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(pool.apply(put_into, ranks::Queue<int>()), 0);  // the engine goes on serving
}

double sum_of(ranks::Queue<std::vector<double>> q) {
  const std::vector<double> v = q.get();
  q.put(v);  // and back, as large as it came
  return std::accumulate(v.begin(), v.end(), 0.0);
}

TEST(Queue, large_items_travel_whole) {
  ranks::Queue<std::vector<double>> q;
  std::vector<double> big(1 << 18);  // 2 MiB
  std::iota(big.begin(), big.end(), 0.0);
  q.put(big);
  ranks::Pool pool;
  EXPECT_DOUBLE_EQ(pool.apply(sum_of, q), std::accumulate(big.begin(), big.end(), 0.0));
  EXPECT_EQ(q.get(), big);
}

struct Refuses {  // not trivially copyable: it travels by its serialize()
  std::string s;
  template <class Archive>
  void serialize(Archive&, unsigned) {
    throw std::runtime_error("Refuses cannot be saved");
  }
};

TEST(Queue, an_item_that_cannot_be_serialized_fails_that_put_alone) {
  ranks::Queue<Refuses> q;
  EXPECT_THROW(q.put(Refuses{}), std::runtime_error);
  EXPECT_EQ(q.qsize(), 0u);
}

std::string made_in_a_task(int) {
  try {
    ranks::Queue<int> q;
    q.put(1);
  } catch (const ranks::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Queue, one_made_inside_a_task_says_where_to_make_it) {
  ranks::Pool pool;
  const std::string what = pool.apply(made_in_a_task, 0);
  EXPECT_NE(what.find("ranks::Queue::put: this handle names no object: it was made inside a task"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("make it in the program"), std::string::npos) << what;
}

TEST(Queue, a_handle_of_another_program_is_refused) {
  ranks::Queue<int> q;
  // A handle kept past its program (in a started cluster's namespace) carries that program's
  // number: here, this one's changed.
  std::uint64_t program = 0;
  std::memcpy(&program, static_cast<const void*>(&q), sizeof program);
  ++program;
  std::memcpy(static_cast<void*>(&q), &program, sizeof program);
  try {
    q.put(1);
    FAIL() << "put went through";
  } catch (const ranks::Error& e) {
    EXPECT_NE(std::string(e.what()).find("made by another program"), std::string::npos) << e.what();
  }
}

ranks::Queue<int> put_and_return(ranks::Queue<int> q) {
  q.put(9);
  return q;
}

TEST(Queue, a_handle_comes_back_as_a_result_and_from_a_namespace) {
  ranks::Queue<int> q;
  ranks::Pool pool;
  ranks::Queue<int> back = pool.apply(put_and_return, q);  // decoded where the results land
  EXPECT_EQ(back.get(), 9);
  ranks::Client rc;
  rc[rc.ids().front()].push("q", q).get();
  ranks::Queue<int> pulled = rc[rc.ids().front()].pull<ranks::Queue<int>>("q").get();
  pulled.put(10);
  EXPECT_EQ(q.get(), 10);
}

void init_worker(ranks::Queue<int> q, int base) { q.put(base + ranks::engine_id()); }

TEST(Queue, a_pools_initializer_takes_one) {
  ranks::Queue<int> q;
  ranks::Pool pool(ranks_test::can_have(2) ? 2 : 1, init_worker, q, 1000);
  std::vector<int> ids = ranks::Client().ids();
  std::vector<int> got;
  for (int i = 0; i < pool.size(); ++i) got.push_back(q.get(10s) - 1000);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(static_cast<int>(got.size()), pool.size());
  for (int e : got) EXPECT_NE(std::find(ids.begin(), ids.end(), e), ids.end()) << e;
}

// A worker of a JoinableQueue: takes items until -1, marking each done.
int work(ranks::JoinableQueue<int> q, ranks::Queue<int> results) {
  int n = 0;
  for (int x = q.get(); x != -1; x = q.get()) {
    results.put(x * x);
    q.task_done();
    ++n;
  }
  q.task_done();
  return n;
}

TEST(JoinableQueue, join_waits_until_every_item_is_done) {
  ranks::JoinableQueue<int> q;
  ranks::Queue<int> results;
  EXPECT_TRUE(q.join(0ms));  // nothing put: all done
  for (int i = 0; i < 30; ++i) q.put(i);
  EXPECT_FALSE(q.join(10ms));
  const int workers = ranks_test::can_have(2) ? 2 : 1;
  ranks::Pool pool(workers);
  std::vector<ranks::AsyncResult<int>> done;
  for (int w = 0; w < workers; ++w) done.push_back(pool.apply_async(work, q, results));
  for (int w = 0; w < workers; ++w) q.put(-1);
  q.join();
  EXPECT_EQ(results.qsize(), 30u);
  int n = 0;
  for (auto& r : done) n += r.get();
  EXPECT_EQ(n, 30);
  EXPECT_THROW(q.task_done(), ranks::Error);  // one more than put
}

}  // namespace
