// The controller's bookkeeping without MPI: the scheduler driven through a fake EnginePort that
// records what is sent and ended, with replies, deaths and timeouts delivered by hand, in the
// orders that real processes rarely produce (a death between a send and its reply, a timeout
// and a reply crossing).
#include "controller/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "ranks/error.hpp"
#include "registry/registry_table.hpp"

namespace {

using namespace ranks::detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A job of `parts` parts, each retried once if its engine is lost; records what it is told.
class CountingJob : public DynamicJob {
 public:
  explicit CountingJob(std::uint64_t parts, std::chrono::nanoseconds timeout = {})
      : parts_(parts), timeout_(timeout) {}

  [[nodiscard]] bool has_next() const override { return !retry_.empty() || next_ < parts_; }
  std::uint64_t next(Message& msg, int, int, int) override {
    std::uint64_t key = 0;
    if (!retry_.empty()) {
      key = retry_.front();
      retry_.pop_front();
    } else {
      key = next_++;
    }
    Writer w(msg.bytes);
    write_header(w, TaskHeader{});
    return key;
  }
  bool lost(std::uint64_t key, int) override {
    if (!lost_once_.insert(key).second) return false;
    retry_.push_back(key);
    return true;
  }
  [[nodiscard]] std::chrono::nanoseconds timeout() const override { return timeout_; }
  void deliver(std::uint64_t key, Reply& r) override {
    delivered.emplace_back(key, r.outcome.engine);
  }
  void cancel(std::exception_ptr why) override {
    if (!failure) failure = why;
    retry_.clear();
    next_ = parts_;
  }
  StateBase& state() override { return state_; }

  std::vector<std::pair<std::uint64_t, int>> delivered;  // key, engine
  std::exception_ptr failure;

 private:
  std::uint64_t parts_;
  std::uint64_t next_ = 0;
  std::deque<std::uint64_t> retry_;
  std::set<std::uint64_t> lost_once_;
  std::chrono::nanoseconds timeout_;
  State<void> state_;
};

// Engines of a spawned link: they survive a loss and can be replaced.
void admit_spawned(Roster& roster, int n) {
  std::vector<Engine> engines;
  for (int i = 0; i < n; ++i)
    engines.push_back(Engine{.rank = i + 1, .host = "here", .pid = 1000 + roster.size() + i});
  roster.admit(Link{.origin = Origin::kSpawned, .survives = true}, std::move(engines));
}

class FakePort : public EnginePort {
 public:
  explicit FakePort(Roster& roster) : roster_(roster) {}
  struct Sent {
    int engine;
    std::uint64_t id;
    std::uint32_t invoker;
  };
  void transmit(int engine, Message msg) override {
    const auto h = read_header<TaskHeader>(msg.bytes);
    sent.push_back({engine, h.id, h.invoker});
  }
  bool end(int engine, int sig) override {
    ended.emplace_back(engine, sig);
    return true;
  }
  bool gone(int engine) override { return running.count(engine) == 0; }
  void spawn(int n, bool in_place) override {
    spawns.push_back(n);
    in_place_spawns += in_place ? n : 0;
    if (spawn_fails) throw ranks::Error("spawning is turned off (RANKS_SPAWN=0)");
    admit_spawned(roster_, n);
  }
  void drop_collectives(int link, const std::exception_ptr&) override { dropped.push_back(link); }

  std::vector<Sent> sent;
  std::vector<std::pair<int, int>> ended;
  std::set<int> running;  // processes still there after their engine was lost
  std::vector<int> dropped;
  std::vector<int> spawns;  // how many engines each spawn asked for
  int in_place_spawns = 0;  // of those, engines standing in for lost ones
  bool spawn_fails = false;

 private:
  Roster& roster_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { freeze_registry(); }
  void SetUp() override { admit_spawned(roster, 2); }

  // The reply an engine sends for the part sent under id.
  void reply(std::uint64_t id, int engine) {
    ReplyHeader h;
    h.id = id;
    h.outcome.engine = engine;
    scheduler.reply(h, Reader(nullptr, 0));
    scheduler.dispatch_all();  // as the controller's poll does after any reply
  }
  [[nodiscard]] int load(int e) const { return roster.engine(e).load; }
  // The sends to engine e, in order.
  [[nodiscard]] std::vector<std::uint64_t> sent_to(int e) const {
    std::vector<std::uint64_t> ids;
    for (const auto& s : port.sent)
      if (s.engine == e) ids.push_back(s.id);
    return ids;
  }

  Roster roster{{}};
  FakePort port{roster};
  Scheduler scheduler{roster, port};
};

template <class E>
bool fails_with(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

TEST_F(SchedulerTest,
       dispatch_fills_each_engine_to_the_jobs_depth_and_every_count_returns_to_zero) {
  auto g = scheduler.make_group(2, "test");
  auto job = std::make_shared<CountingJob>(10);
  scheduler.submit(*g, job);
  ASSERT_EQ(port.sent.size(), 4u);  // depth 2 on each of 2 engines
  EXPECT_EQ(load(0), 2);
  EXPECT_EQ(load(1), 2);
  EXPECT_EQ(g->inflight, 4u);
  // Each reply frees a place, taken at once by the next part, on the engine that answered.
  for (std::size_t i = 0; i < port.sent.size(); ++i) reply(port.sent[i].id, port.sent[i].engine);
  ASSERT_EQ(job->delivered.size(), 10u);
  std::set<std::uint64_t> keys;
  for (const auto& [key, engine] : job->delivered) keys.insert(key);
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_EQ(load(0), 0);
  EXPECT_EQ(load(1), 0);
  EXPECT_EQ(g->inflight, 0u);
  EXPECT_EQ(scheduler.outstanding(*g), 0u);
  EXPECT_FALSE(scheduler.busy());
}

TEST_F(SchedulerTest, a_death_between_a_send_and_its_reply_runs_the_part_elsewhere_once) {
  auto g = scheduler.make_group(2, "test");
  auto job = std::make_shared<CountingJob>(1);
  scheduler.submit(*g, job);
  ASSERT_EQ(port.sent.size(), 1u);
  const auto first = port.sent[0];
  const int other = 1 - first.engine;
  scheduler.lose_engine(first.engine, SIGKILL);
  // The part went to the other engine; the dead one holds nothing.
  ASSERT_EQ(port.sent.size(), 2u);
  EXPECT_EQ(port.sent[1].engine, other);
  EXPECT_EQ(load(first.engine), 0);
  EXPECT_EQ(load(other), 1);
  EXPECT_EQ(port.dropped, std::vector<int>{roster.engine(first.engine).link});
  // The dead engine's reply, sent just before it died, arrives late: it is not delivered.
  reply(first.id, first.engine);
  EXPECT_TRUE(job->delivered.empty());
  EXPECT_EQ(load(first.engine), 0);
  reply(port.sent[1].id, other);
  ASSERT_EQ(job->delivered.size(), 1u);
  EXPECT_EQ(job->delivered[0].second, other);
  EXPECT_FALSE(job->failure);
  EXPECT_EQ(load(other), 0);
  EXPECT_EQ(g->inflight, 0u);
  EXPECT_EQ(g->engines, std::vector<int>{other});  // an elastic group dropped the dead engine
}

TEST_F(SchedulerTest, a_part_lost_twice_fails_its_job_with_EngineLost) {
  auto g = scheduler.make_group(2, "test");
  auto job = std::make_shared<CountingJob>(1);
  scheduler.submit(*g, job);
  scheduler.lose_engine(port.sent[0].engine, SIGKILL);
  scheduler.lose_engine(port.sent[1].engine, SIGSEGV);
  ASSERT_TRUE(job->failure);
  EXPECT_TRUE(fails_with<ranks::EngineLost>(job->failure));
  EXPECT_EQ(load(0) + load(1), 0);
  EXPECT_EQ(scheduler.outstanding(*g), 0u);
}

TEST_F(SchedulerTest, a_timeout_and_its_reply_crossing_fail_the_part_once) {
  auto g = scheduler.make_group(2, "test");
  auto job = std::make_shared<CountingJob>(1, 10ms);
  scheduler.submit(*g, job);
  const auto part = port.sent.at(0);
  EXPECT_TRUE(scheduler.needs_check());
  scheduler.check(Clock::now() + 1s);
  ASSERT_TRUE(job->failure);
  EXPECT_TRUE(fails_with<ranks::TimeoutError>(job->failure));
  ASSERT_EQ(port.ended.size(), 1u);
  EXPECT_EQ(port.ended[0], std::make_pair(part.engine, SIGKILL));
  EXPECT_TRUE(roster.engine(part.engine).ended);
  EXPECT_EQ(load(part.engine), 0);
  EXPECT_FALSE(scheduler.needs_check());  // no part with a deadline is left
  // Its reply was already on its way: it changes nothing.
  reply(part.id, part.engine);
  EXPECT_TRUE(job->delivered.empty());
  EXPECT_EQ(load(part.engine), 0);
  EXPECT_EQ(g->inflight, 0u);
}

TEST_F(SchedulerTest, a_reply_before_its_deadline_is_not_timed_out) {
  auto g = scheduler.make_group(2, "test");
  auto job = std::make_shared<CountingJob>(1, 10ms);
  scheduler.submit(*g, job);
  reply(port.sent.at(0).id, port.sent.at(0).engine);
  scheduler.check(Clock::now() + 1s);
  EXPECT_EQ(job->delivered.size(), 1u);
  EXPECT_FALSE(job->failure);
  EXPECT_TRUE(port.ended.empty());
}

TEST_F(SchedulerTest, an_ended_engine_is_replaced_once_its_process_is_gone) {
  auto g = scheduler.make_group(2, "test");
  g->init = std::make_shared<Bytes>();
  {
    Writer w(*g->init);
    write_header(w, TaskHeader{});
  }
  auto job = std::make_shared<CountingJob>(1, 10ms);
  scheduler.submit(*g, job);
  const int timed_out = port.sent.at(0).engine;
  const auto t0 = Clock::now() + 1s;
  scheduler.check(t0);             // ended for its timeout
  port.running.insert(timed_out);  // its process lingers a moment
  scheduler.lose_engine(timed_out, SIGKILL);
  EXPECT_TRUE(scheduler.busy());  // a replacement is coming
  const auto sends = port.sent.size();
  scheduler.check(t0 + 10ms);
  scheduler.check(t0 + 200ms);
  EXPECT_EQ(roster.size(), 2);  // not while its process is there
  port.running.clear();
  scheduler.check(t0 + 300ms);
  scheduler.check(t0 + 350ms);
  EXPECT_EQ(roster.size(), 2);  // gone: 100 ms more
  scheduler.check(t0 + 410ms);
  ASSERT_EQ(roster.size(), 3);
  EXPECT_EQ(std::count(g->engines.begin(), g->engines.end(), 2), 1);
  EXPECT_EQ(std::count(g->engines.begin(), g->engines.end(), timed_out), 0);
  // The group's initializer is the first thing the new engine is sent.
  ASSERT_EQ(port.sent.size(), sends + 1);
  EXPECT_EQ(port.sent.back().engine, 2);
  reply(port.sent.back().id, 2);
  EXPECT_FALSE(scheduler.busy());
}

TEST_F(SchedulerTest, a_replacement_waits_at_most_500_ms_for_a_lingering_process) {
  auto g = scheduler.make_group(2, "test");
  g->replace = true;
  port.running.insert(0);
  scheduler.lose_engine(0, SIGKILL);
  const auto t0 = Clock::now();
  scheduler.check(t0);
  scheduler.check(t0 + 450ms);
  scheduler.check(t0 + 560ms);  // taken as gone past 500 ms; then 100 ms more
  scheduler.check(t0 + 620ms);
  EXPECT_EQ(roster.size(), 2);
  EXPECT_TRUE(scheduler.replacing(*g));
  EXPECT_EQ(g->engines, (std::vector<int>{0, 1}));  // the lost engine keeps its place, dead
  scheduler.check(t0 + 670ms);
  EXPECT_EQ(roster.size(), 3);
  EXPECT_FALSE(scheduler.replacing(*g));
  EXPECT_EQ(g->engines, (std::vector<int>{2, 1}));  // and its replacement takes it
}

TEST_F(SchedulerTest, work_queued_for_a_pool_that_keeps_its_size_waits_for_the_replacement) {
  auto g = scheduler.make_group(1, "test");
  g->replace = true;
  auto job = std::make_shared<CountingJob>(5);
  scheduler.submit(*g, job);
  const int lost = g->engines.at(0);
  scheduler.lose_engine(lost, SIGKILL);
  EXPECT_FALSE(job->failure);  // not failed: an engine is coming
  EXPECT_EQ(g->queue.size(), 1u);
  const auto t0 = Clock::now();
  scheduler.check(t0);
  scheduler.check(t0 + 1s);
  ASSERT_EQ(g->engines, std::vector<int>{2});
  EXPECT_EQ(load(2), 2);
  std::size_t i = 0;
  while (job->delivered.size() < 5 && i < port.sent.size()) {
    if (port.sent[i].engine == 2) reply(port.sent[i].id, 2);
    ++i;
  }
  EXPECT_EQ(job->delivered.size(), 5u);
  EXPECT_FALSE(job->failure);
}

TEST_F(SchedulerTest, queued_work_fails_when_no_replacement_can_be_spawned) {
  port.spawn_fails = true;
  auto g = scheduler.make_group(1, "test");
  g->replace = true;
  auto job = std::make_shared<CountingJob>(5);
  scheduler.submit(*g, job);
  scheduler.lose_engine(g->engines.at(0), SIGKILL);
  EXPECT_FALSE(job->failure);
  const auto t0 = Clock::now();
  scheduler.check(t0);
  scheduler.check(t0 + 1s);
  ASSERT_TRUE(job->failure);
  EXPECT_TRUE(fails_with<ranks::EngineLost>(job->failure));
  EXPECT_FALSE(scheduler.busy());
  EXPECT_TRUE(g->engines.empty());
}

TEST_F(SchedulerTest, replacements_due_together_are_spawned_at_once_and_100_ms_after_a_spawn) {
  auto g = scheduler.make_group(2, "test");
  g->replace = true;
  scheduler.lose_engine(0, SIGKILL);
  scheduler.lose_engine(1, SIGKILL);
  const auto t0 = Clock::now() + 1s;
  scheduler.check(t0);
  scheduler.check(t0 + 110ms);
  ASSERT_EQ(port.spawns, std::vector<int>{2});      // one spawn of two engines
  EXPECT_EQ(port.in_place_spawns, 2);               // told they stand in for lost ones
  EXPECT_EQ(g->engines, (std::vector<int>{2, 3}));  // new ids: 0 and 1 are never reused
  // One more lost: gone at once, but the last spawn was just now.
  scheduler.lose_engine(2, SIGKILL);
  scheduler.check(t0 + 120ms);
  scheduler.check(t0 + 205ms);
  EXPECT_EQ(port.spawns.size(), 1u);
  scheduler.check(t0 + 230ms);
  EXPECT_EQ(port.spawns, (std::vector<int>{2, 1}));
  EXPECT_EQ(port.in_place_spawns, 3);
  EXPECT_EQ(g->engines, (std::vector<int>{4, 3}));
}

TEST_F(SchedulerTest, replacements_awaited_at_the_end_are_given_up) {
  auto g = scheduler.make_group(2, "test");
  g->replace = true;
  scheduler.lose_engine(0, SIGKILL);
  EXPECT_TRUE(scheduler.replacing(*g));
  scheduler.stop();
  EXPECT_FALSE(scheduler.replacing(*g));
  EXPECT_EQ(g->engines, std::vector<int>{1});
  scheduler.check(Clock::now() + 1s);
  EXPECT_EQ(roster.size(), 2);
}

TEST_F(SchedulerTest, an_engine_past_maxtasks_takes_no_more_work_and_is_ended_once_idle) {
  auto g = scheduler.group_of({0}, "test");
  g->maxtasks = 2;
  auto job = std::make_shared<CountingJob>(3);
  scheduler.submit(*g, job);
  ASSERT_EQ(port.sent.size(), 2u);
  EXPECT_TRUE(roster.engine(0).retiring);
  reply(port.sent[0].id, 0);
  EXPECT_TRUE(port.ended.empty());  // a part is still out
  EXPECT_EQ(port.sent.size(), 2u);  // and it takes no more
  reply(port.sent[1].id, 0);
  ASSERT_EQ(port.ended.size(), 1u);
  EXPECT_EQ(port.ended[0], std::make_pair(0, SIGKILL));
}

TEST_F(SchedulerTest, a_stopped_cluster_fails_everything_and_leaves_no_count_behind) {
  auto g = scheduler.make_group(2, "test");
  auto running = std::make_shared<CountingJob>(10, 1s);
  scheduler.submit(*g, running);
  auto view = scheduler.group_of({0, 1}, "test");
  auto queued = std::make_shared<CountingJob>(1);
  view->queue.push_back(queued);
  scheduler.lose_all(std::make_exception_ptr(ranks::Error("cluster 'x' was stopped")));
  EXPECT_TRUE(running->failure);
  EXPECT_TRUE(queued->failure);
  EXPECT_EQ(load(0) + load(1), 0);
  EXPECT_EQ(g->inflight, 0u);
  EXPECT_FALSE(scheduler.busy());
  EXPECT_FALSE(scheduler.needs_check());
  EXPECT_EQ(roster.alive_count(), 0);
  EXPECT_EQ(port.dropped.size(), 1u);  // the link's static jobs, too
}

TEST_F(SchedulerTest, a_death_names_the_tasks_it_held) {
  auto g = scheduler.make_group(2, "test");
  scheduler.submit(*g, std::make_shared<CountingJob>(1));
  const int e = port.sent.at(0).engine;
  EXPECT_FALSE(scheduler.tasks_on(e).empty());
  EXPECT_TRUE(scheduler.tasks_on(1 - e).empty());
}

}  // namespace
