// The task graph: results taken as they complete and composed (as_completed, when_all,
// when_any), tasks that wait for others (after) or run where another ran (follow).

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <ranks/ranks.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "launch.hpp"
#include "throws.hpp"

namespace {

using namespace std::chrono_literals;

int sleep_then(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x;
}
int fail_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  throw std::runtime_error("failed on purpose");
}
void sleep_only(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
std::string word(int n) { return std::string(static_cast<std::size_t>(n), 'w'); }

}  // namespace

TEST(AsCompleted, yields_each_result_once_in_completion_order) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  // Sleeps far apart, so that the order of completion is that of the sleeps whatever the
  // number of engines (tasks queue behind each other on one engine in the same order).
  std::vector<ranks::AsyncResult<int>> rs;
  for (int ms : {600, 0, 300}) rs.push_back(lview.apply(sleep_then, ms, ms));
  std::vector<int> seen;
  for (const auto& r : ranks::as_completed(rs)) {
    EXPECT_TRUE(r.ready());
    seen.push_back(r.get());
  }
  if (rc.ids().size() >= 3) {
    EXPECT_EQ(seen, (std::vector<int>{0, 300, 600}));
  } else {
    EXPECT_EQ(std::multiset<int>(seen.begin(), seen.end()), (std::multiset<int>{0, 300, 600}));
  }
}

TEST(AsCompleted, yields_failures_too_and_nothing_for_no_results) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<ranks::AsyncResult<int>> rs{lview.apply(fail_after, 0),
                                          lview.apply(sleep_then, 7, 0)};
  int failed = 0, values = 0;
  for (const auto& r : ranks::as_completed(rs)) {
    if (r.successful()) {
      EXPECT_EQ(r.get(), 7);
      ++values;
    } else {
      EXPECT_THROW(r.get(), ranks::RemoteError);
      ++failed;
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(values, 1);
  int none = 0;
  for (const auto& r : ranks::as_completed(std::vector<ranks::AsyncResult<int>>{})) {
    (void)r;
    ++none;
  }
  EXPECT_EQ(none, 0);
}

TEST(AsCompleted, times_out_when_the_next_result_is_late) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<ranks::AsyncResult<int>> rs{lview.apply(sleep_then, 1, 0),
                                          lview.apply(sleep_then, 2, 1500)};
  auto it = ranks::as_completed(rs, 700ms);
  int got = 0;
  EXPECT_THROW_MSG(
      {
        for (const auto& r : it) got += r.get();
      },
      ranks::TimeoutError, "1 of 2 results were not ready");
  EXPECT_EQ(got, 1);
  rs[1].wait();
}

TEST(WhenAll, gathers_values_in_the_order_given) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(lview.apply(sleep_then, i, (20 - i) * 5));
  auto all = ranks::when_all(rs);
  std::vector<int> expected(20);
  for (int i = 0; i < 20; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(all.get(), expected);
  EXPECT_EQ(ranks::when_all(std::vector<ranks::AsyncResult<int>>{}).get(), std::vector<int>{});
}

TEST(WhenAll, of_mixed_types_gives_a_tuple_and_void_gives_monostate) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto a = lview.apply(sleep_then, 4, 50);
  auto b = lview.apply(word, 3);
  auto c = lview.apply(sleep_only, 10);
  auto all = ranks::when_all(a, b, c).get();
  EXPECT_EQ(std::get<0>(all), 4);
  EXPECT_EQ(std::get<1>(all), "www");
  EXPECT_TRUE((std::is_same_v<std::tuple_element_t<2, decltype(all)>, std::monostate>));
  std::vector<ranks::AsyncResult<void>> voids{lview.apply(sleep_only, 1),
                                              lview.apply(sleep_only, 2)};
  ranks::when_all(voids).get();  // compiles to AsyncResult<void>, and is ready once both are
  EXPECT_TRUE(voids[0].ready() && voids[1].ready());
}

TEST(WhenAll, fails_at_once_with_the_first_failure) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<ranks::AsyncResult<int>> rs{lview.apply(sleep_then, 1, 1500),
                                          lview.apply(fail_after, 0)};
  auto all = ranks::when_all(rs);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW_MSG(all.get(), ranks::RemoteError, "failed on purpose");
  if (rc.ids().size() >= 2) {
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1200ms);
  }
  rs[0].wait();
}

TEST(WhenAny, gives_the_position_of_the_first_ready) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  std::vector<ranks::AsyncResult<int>> rs{lview.apply(sleep_then, 1, 800),
                                          lview.apply(sleep_then, 2, 0)};
  const std::size_t first = ranks::when_any(rs).get();
  EXPECT_TRUE(rs[first].ready());
  if (rc.ids().size() >= 2) {
    EXPECT_EQ(first, 1U);
  }
  auto a = lview.apply(word, 2);
  auto b = lview.apply(fail_after, 0);
  const std::size_t i = ranks::when_any(a, b).get();  // a failure counts as ready
  EXPECT_LT(i, 2U);
  EXPECT_THROW_MSG((void)ranks::when_any(std::vector<ranks::AsyncResult<int>>{}), ranks::Error,
                   "pass at least one");
  rs[0].wait();
  a.wait();
  b.wait();
}

namespace {

std::vector<int> g_log;  // on an engine: what ran there, in order
int record(int x) {
  g_log.push_back(x);
  return x;
}
std::vector<int> recorded() { return g_log; }
int engine_pid() { return static_cast<int>(::getpid()); }
int twice(int x) { return 2 * x; }

}  // namespace

TEST(After, runs_once_its_dependencies_have_succeeded) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto a = lview.apply(sleep_then, 1, 300);
  auto b = lview.apply(sleep_then, 2, 100);
  auto c = lview.with({.after = {a, b}}).apply(record, 3);
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(c.get(), 3);
  // It started after both had completed.
  const auto started = c.metadata().at(0).started;
  EXPECT_GE(started, a.metadata().at(0).completed);
  EXPECT_GE(started, b.metadata().at(0).completed);
  // A map waits the same way.
  auto m = lview.with({.after = {c}}).map(twice, std::vector<int>{1, 2, 3});
  EXPECT_EQ(m.get(), (std::vector<int>{2, 4, 6}));
  EXPECT_GE(m.metadata().at(0).started, c.metadata().at(0).completed);
}

TEST(After, a_failed_dependency_fails_the_chain_naming_it) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto a = lview.apply(fail_after, 50);
  auto b = lview.with({.after = {a}}).apply(twice, 1);
  auto c = lview.with({.after = {b}}).apply(twice, 2);
  EXPECT_THROW_MSG(b.get(), ranks::DependencyError, "failed: ");
  EXPECT_THROW_MSG(b.get(), ranks::DependencyError, "failed on purpose");
  EXPECT_THROW_MSG(c.get(), ranks::DependencyError, "the task did not run");
  EXPECT_THROW_MSG(c.get(), ranks::DependencyError, "failed on purpose");
  EXPECT_TRUE(b.metadata().empty());  // it never ran
}

TEST(After, an_aborted_dependency_or_dependent_runs_nothing) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto slow = lview.apply(sleep_then, 1, 400);
  auto waits = lview.with({.after = {slow}}).apply(twice, 5);
  waits.abort();  // before it was sent
  EXPECT_THROW(waits.get(), ranks::Aborted);
  EXPECT_EQ(slow.get(), 1);
  EXPECT_TRUE(waits.metadata().empty());
  // A dependency that was dropped before it ran.
  std::vector<ranks::AsyncResult<int>> queued;
  for (std::size_t i = 0; i < rc.ids().size() * 3; ++i)
    queued.push_back(lview.apply(sleep_then, 0, 100));
  auto dropped = lview.apply(sleep_then, 9, 0);
  auto after_dropped = lview.with({.after = {dropped}}).apply(twice, 1);
  dropped.abort();
  EXPECT_THROW_MSG(after_dropped.get(), ranks::DependencyError, "aborted");
  for (auto& q : queued) q.wait();
  // A result that holds no work is refused at once.
  EXPECT_THROW_MSG((void)lview.with({.after = {ranks::AsyncResult<int>{}}}), ranks::Error,
                   "holds no work");
}

TEST(Follow, runs_on_the_engine_that_ran_the_task_it_follows) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  for (int round = 0; round < 4; ++round) {
    auto a = lview.apply(engine_pid);
    auto b = lview.with({.follow = {a}}).apply(engine_pid);
    EXPECT_EQ(b.get(), a.get());
    EXPECT_EQ(b.metadata().at(0).engine_id, a.metadata().at(0).engine_id);
  }
  // Tasks following one another keep to one engine: a pipeline with data left in place.
  auto first = lview.apply(record, 100);
  auto second = lview.with({.follow = {first}}).apply(record, 101);
  auto log = lview.with({.follow = {second}}).apply(recorded).get();
  ASSERT_GE(log.size(), 2U);
  EXPECT_EQ(log[log.size() - 2], 100);
  EXPECT_EQ(log[log.size() - 1], 101);
}

TEST(Follow, tasks_on_different_engines_cannot_be_followed_together) {
  ranks::Client rc;
  if (rc.ids().size() < 2) GTEST_SKIP() << "needs two engines";
  auto a = rc[0].apply(engine_pid);
  auto b = rc[1].apply(engine_pid);
  a.wait();
  b.wait();
  auto lview = rc.load_balanced_view();
  auto c = lview.with({.follow = {a, b}}).apply(engine_pid);
  EXPECT_THROW_MSG(c.get(), ranks::DependencyError, "ran on different engines (0 and 1)");
}

TEST(After, a_long_chain_resolves_without_blocking_the_caller) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  const int n = 2000;
  std::vector<ranks::AsyncResult<int>> chain;
  chain.push_back(lview.apply(twice, 0));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i < n; ++i)
    chain.push_back(lview.with({.after = {chain.back()}}).apply(twice, i));
  // Submitting waited for nothing.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  for (int i = 0; i < n; ++i) EXPECT_EQ(chain[static_cast<std::size_t>(i)].get(), 2 * i);
  for (int i = 1; i < n; ++i)
    EXPECT_GE(chain[static_cast<std::size_t>(i)].metadata().at(0).started,
              chain[static_cast<std::size_t>(i - 1)].metadata().at(0).completed);
}

// Reductions over a view's engines: each engine holds its own value.
namespace {

struct Pair {
  int count;
  double sum;
};
struct add_pairs {
  Pair operator()(const Pair& a, const Pair& b) const { return {a.count + b.count, a.sum + b.sum}; }
};
struct keep_left {  // not commutative: the result says the order
  int operator()(int a, int) const { return a; }
};

void set_values(ranks::Namespace& ns) {
  const int id = ranks::engine_id();
  ns.set("partial", static_cast<double>(id + 1));
  ns.set("n", id + 2);
  ns.set("v", std::vector<double>(1000, id + 1.0));
  ns.set("pair", Pair{1, id + 0.5});
  ns.set("word", std::string(1, static_cast<char>('a' + id)));
}

}  // namespace

TEST(Reduce, combines_every_engines_value_with_the_operation) {
  ranks::Client rc;
  auto dview = rc.direct_view();
  dview.execute(set_values).get();
  const auto ids = rc.ids();
  double sum = 0, product = 1;
  int lo = 1 << 30, hi = 0;
  std::string word;
  for (int id : ids) {
    sum += id + 1;
    product *= id + 2;
    lo = std::min(lo, id + 2);
    hi = std::max(hi, id + 2);
    word += static_cast<char>('a' + id);
  }
  EXPECT_EQ(dview.reduce<double>("partial", std::plus<>{}).get(), sum);
  EXPECT_EQ(dview.reduce<int>("n", std::multiplies<>{}).get(), static_cast<int>(product));
  EXPECT_EQ(dview.reduce<int>("n", ranks::min{}).get(), lo);
  EXPECT_EQ(dview.reduce<int>("n", ranks::max{}).get(), hi);
  EXPECT_EQ(dview.reduce<int>("n", keep_left{}).get(), ids.front() + 2);  // in target order
  const auto v = dview.reduce<std::vector<double>>("v", std::plus<>{}).get();
  ASSERT_EQ(v.size(), 1000U);
  for (double x : v) EXPECT_EQ(x, sum);
  const Pair p = dview.reduce<Pair>("pair", add_pairs{}).get();  // a struct: a user operation
  EXPECT_EQ(p.count, static_cast<int>(ids.size()));
  // Not trivially copyable: combined on the controller, in target order.
  EXPECT_EQ(dview.reduce<std::string>("word", std::plus<>{}).get(), word);
}

TEST(Reduce, allreduce_leaves_the_result_on_every_engine) {
  ranks::Client rc;
  auto dview = rc.direct_view();
  dview.execute(set_values).get();
  double sum = 0;
  for (int id : rc.ids()) sum += id + 1;
  dview.allreduce<double>("partial", std::plus<>{}, "total").get();
  for (double t : dview.pull<double>("total").get()) EXPECT_EQ(t, sum);
  dview.allreduce<std::vector<double>>("v", ranks::max{}, "vmax").get();
  for (const auto& vm : dview.pull<std::vector<double>>("vmax").get())
    EXPECT_EQ(vm, std::vector<double>(1000, static_cast<double>(rc.ids().back() + 1)));
  dview.allreduce<std::string>("word", std::plus<>{}, "words").get();  // through the controller
  const auto words = dview.pull<std::string>("words").get();
  for (const auto& w : words) EXPECT_EQ(w, words.front());
  EXPECT_EQ(words.front().size(), rc.ids().size());
}

TEST(Reduce, over_some_engines_only) {
  ranks::Client rc;
  if (rc.ids().size() < 3) GTEST_SKIP() << "needs three engines";
  rc.direct_view().execute(set_values).get();
  auto some = rc[std::vector<int>{0, 2}];
  EXPECT_EQ(some.reduce<double>("partial", std::plus<>{}).get(), 1.0 + 3.0);
  some.allreduce<int>("n", std::plus<>{}, "n_sum").get();
  EXPECT_EQ(some.pull<int>("n_sum").get(), (std::vector<int>{6, 6}));
}

TEST(Reduce, a_missing_value_or_mismatched_lengths_fail_on_every_engine_without_a_hang) {
  ranks::Client rc;
  auto dview = rc.direct_view();
  dview.execute(set_values).get();
  const int last = rc.ids().back();
  rc[last].execute([](ranks::Namespace& ns) { ns.erase("partial"); }).get();
  EXPECT_THROW_MSG(dview.reduce<double>("partial", std::plus<>{}).get(), ranks::RemoteError,
                   "engine " + std::to_string(last) + " has no value named 'partial'");
  EXPECT_THROW_MSG(dview.allreduce<double>("partial", std::plus<>{}, "t").get(), ranks::RemoteError,
                   "has no value named 'partial'");
  EXPECT_THROW_MSG(dview.reduce<float>("n", std::plus<>{}).get(), ranks::RemoteError,
                   "as another type");
  if (rc.ids().size() >= 2) {
    rc[last]
        .execute([](ranks::Namespace& ns) { ns.set("v", std::vector<double>(999, 1.0)); })
        .get();
    EXPECT_THROW_MSG(dview.reduce<std::vector<double>>("v", std::plus<>{}).get(),
                     ranks::RemoteError, "the vectors differ in length");
  }
  // The engines went on: the next reduction works.
  dview.execute(set_values).get();
  EXPECT_GT(dview.reduce<double>("partial", std::plus<>{}).get(), 0.0);
}

// Dependencies on results of another Client or of a Pool: one controller holds them all.
TEST(After, a_result_of_another_client_or_a_pool_can_be_waited_for) {
  ranks::Client rc;
  ranks::Client other;
  auto lview = rc.load_balanced_view();
  auto theirs = other.load_balanced_view().apply(sleep_then, 4, 50);
  EXPECT_EQ(lview.with({.after = {theirs}}).apply(twice, 3).get(), 6);
  EXPECT_TRUE(theirs.ready());
  auto failed = other.load_balanced_view().apply(fail_after, 10);
  EXPECT_THROW_MSG(lview.with({.after = {failed}}).apply(twice, 3).get(), ranks::DependencyError,
                   "failed on purpose");
  ranks::Pool pool(1);
  auto pooled = pool.apply_async(sleep_then, 5, 20);
  auto after_pool = lview.with({.after = {pooled}}).apply(twice, 5);
  EXPECT_EQ(after_pool.get(), 10);
  EXPECT_GE(after_pool.metadata().at(0).started, pooled.metadata().at(0).completed);
}

// References: arguments read from the engine's namespace.
namespace {

double total(const std::vector<double>& data) {
  double s = 0;
  for (double x : data) s += x;
  return s;
}
std::uintptr_t where_it_lies(const std::vector<double>& data) {
  return reinterpret_cast<std::uintptr_t>(data.data());
}
std::uintptr_t where_stored(ranks::Namespace& ns) {
  return reinterpret_cast<std::uintptr_t>(ns.share<std::vector<double>>("data")->data());
}
int by_value(std::vector<double> data, int scale) { return static_cast<int>(data.size()) * scale; }
std::string join(const std::string& a, const std::string& b) { return a + "-" + b; }

}  // namespace

TEST(Reference, an_argument_is_the_engines_own_value_read_in_place) {
  ranks::Client rc;
  auto dview = rc.direct_view();
  dview.push("data", std::vector<double>(100000, 0.5)).get();
  dview.push("greeting", std::string("hello")).get();
  auto lview = rc.load_balanced_view();
  EXPECT_EQ(lview.apply(total, ranks::Reference("data")).get(), 50000.0);
  EXPECT_EQ(lview.apply(by_value, ranks::Reference("data"), 2).get(), 200000);
  // Each engine its own value: a direct view's apply reads every target's.
  dview
      .execute([](ranks::Namespace& ns) {
        ns.set("data", std::vector<double>(static_cast<std::size_t>(ranks::engine_id() + 1), 1.0));
      })
      .get();
  const auto ids = rc.ids();
  const auto totals = dview.apply(total, ranks::Reference("data")).get();
  ASSERT_EQ(totals.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(totals[i], ids[i] + 1.0);
  // No copy: the task's parameter is the stored vector itself.
  auto e = rc[ids.back()];
  e.execute([](ranks::Namespace& ns) { ns.set("at", where_stored(ns)); }).get();
  EXPECT_EQ(e.apply(where_it_lies, ranks::Reference("data")).get(),
            e.pull<std::uintptr_t>("at").get());
  EXPECT_EQ(e.apply(join, ranks::Reference("greeting"), std::string("world")).get(), "hello-world");
  // In map items too, and read generically.
  std::vector<ranks::Reference> refs(5, ranks::Reference("greeting"));
  const auto sizes =
      lview.map([](const ranks::Reference& r) { return r.get<std::string>().size(); }, refs).get();
  EXPECT_EQ(sizes, std::vector<std::size_t>(5, 5));
}

TEST(Reference, to_a_name_never_pushed_or_of_another_type_fails_naming_both) {
  ranks::Client rc;
  rc.direct_view().push("data", std::vector<double>(3, 1.0)).get();
  auto lview = rc.load_balanced_view();
  EXPECT_THROW_MSG(lview.apply(total, ranks::Reference("nothing")).get(), ranks::RemoteError,
                   "ranks::Reference(\"nothing\"): no name 'nothing'");
  EXPECT_THROW_MSG(lview.apply(join, ranks::Reference("data"), std::string("x")).get(),
                   ranks::RemoteError, "holds a std::vector<double");
  EXPECT_THROW_MSG(lview.apply(join, ranks::Reference("data"), std::string("x")).get(),
                   ranks::RemoteError, "not a std::__cxx11::basic_string");
  // The value stays and the engines go on.
  EXPECT_EQ(lview.apply(total, ranks::Reference("data")).get(), 3.0);
}

// engine_comm(): MPI among a direct view's engines, inside its tasks.
namespace {

struct CommFacts {
  int rank;
  int size;
  int sum_of_ids;
};
CommFacts comm_facts() {
  MPI_Comm c = ranks::engine_comm();
  CommFacts f{};
  MPI_Comm_rank(c, &f.rank);
  MPI_Comm_size(c, &f.size);
  const int id = ranks::engine_id();
  MPI_Allreduce(&id, &f.sum_of_ids, 1, MPI_INT, MPI_SUM, c);
  return f;
}

void check_comm(ranks::DirectView view) {
  const auto targets = view.targets();
  int sum = 0;
  for (int id : targets) sum += id;
  for (int round = 0; round < 2; ++round) {  // made once, then kept
    const auto facts = view.apply(comm_facts).get();
    ASSERT_EQ(facts.size(), targets.size());
    for (std::size_t i = 0; i < facts.size(); ++i) {
      EXPECT_EQ(facts[i].rank, static_cast<int>(i));
      EXPECT_EQ(facts[i].size, static_cast<int>(targets.size()));
      EXPECT_EQ(facts[i].sum_of_ids, sum);
    }
  }
}

}  // namespace

TEST(EngineComm, is_a_communicator_of_exactly_the_views_engines_in_target_order) {
  ranks::Client rc;
  check_comm(rc.direct_view());
  const auto ids = rc.ids();
  check_comm(rc[ids.back()].view());
  if (ids.size() >= 3) check_comm(rc[std::vector<int>{ids[2], ids[0]}]);
  // execute too, with the user's own collective.
  rc.direct_view()
      .execute([](ranks::Namespace& ns) {
        int one = 1, n = 0;
        MPI_Allreduce(&one, &n, 1, MPI_INT, MPI_SUM, ranks::engine_comm());
        ns.set("count", n);
      })
      .get();
  EXPECT_EQ(rc.direct_view().pull<int>("count").get(),
            std::vector<int>(ids.size(), static_cast<int>(ids.size())));
}

TEST(EngineComm, a_task_may_take_the_namespace_first_and_reduce_into_it) {
  ranks::Client rc;
  auto dview = rc.direct_view();
  const auto sums = dview
                        .apply(
                            [](ranks::Namespace& ns, int base) {
                              const int mine = base + ranks::engine_id();
                              int sum = 0;
                              MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, ranks::engine_comm());
                              ns.set("sum", sum);
                              return sum;
                            },
                            10)
                        .get();
  int expected = 0;
  for (int id : rc.ids()) expected += 10 + id;
  EXPECT_EQ(sums, std::vector<int>(rc.ids().size(), expected));
  EXPECT_EQ(dview.pull<int>("sum").get(), sums);
  // On a load-balanced view too (engine_comm() aside).
  auto lview = rc.load_balanced_view();
  EXPECT_EQ(lview.apply([](ranks::Namespace& ns) { return ns.get<int>("sum"); }).get(), expected);
}

TEST(EngineComm, outside_a_direct_views_task_is_an_error_that_says_where_it_works) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  EXPECT_THROW_MSG(lview.apply(comm_facts).get(), ranks::RemoteError,
                   "is for tasks of DirectView::apply and execute");
  EXPECT_THROW_MSG(rc[rc.ids().front()].apply(comm_facts).get(), ranks::RemoteError,
                   "is for tasks of DirectView::apply and execute");
}

// Last: it adds an engine of a spawn of its own.
TEST(EngineComm, engines_of_different_launches_share_none_and_the_error_says_so) {
  ranks::Client rc;
  if (rc.cluster()) GTEST_SKIP() << "a started cluster's engines are its own to add";
  if (!ranks_test::kCanSpawn) {
    EXPECT_THROW_MSG(rc.add_engines(1), ranks::Error, "cannot start engines for a running program");
    return;
  }
  rc.add_engines(1);
  auto dview = rc.direct_view();
  EXPECT_THROW_MSG(dview.apply(comm_facts).get(), ranks::RemoteError,
                   "the view's engines share no MPI communicator");
  // The reduction still works: it combines on the controller instead.
  dview.execute([](ranks::Namespace& ns) { ns.set("one", 1); }).get();
  EXPECT_EQ(dview.reduce<int>("one", std::plus<>{}).get(), static_cast<int>(rc.ids().size()));
  // And a view of the new engine alone has its communicator.
  check_comm(rc[rc.ids().back()].view());
}
