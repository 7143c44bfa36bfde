#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_types.hpp"
#include "throws.hpp"

using ranks_test::thrown;

namespace {

int square(int x) { return x * x; }
int whoami() { return ranks::engine_id(); }
int add(int a, int b) { return a + b; }
std::string shout(const std::string& s) { return s + "!"; }
void nothing() {}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

using ranks_test::Person;

// What scatter gives n items over w targets: sizes differing by at most one, larger first.
std::vector<std::size_t> chunks(std::size_t n, std::size_t w) {
  std::vector<std::size_t> s(w, n / w);
  for (std::size_t i = 0; i < n % w; ++i) ++s[i];
  return s;
}

// The subsets a test runs on: every engine, the first one, and (with 3+) every other engine.
std::vector<std::vector<int>> subsets(const ranks::Client& rc) {
  std::vector<std::vector<int>> out{rc.ids(), {0}};
  if (rc.ids().size() >= 2) out.push_back({static_cast<int>(rc.ids().size()) - 1, 0});
  if (rc.ids().size() >= 3) {
    std::vector<int> odd;
    for (int i : rc.ids())
      if (i % 2) odd.push_back(i);
    out.push_back(odd);
  }
  return out;
}

// Fails on engine 0 only: a retry elsewhere succeeds.
int fails_on_engine_0(int x) {
  if (ranks::engine_id() == 0) throw std::runtime_error("engine 0 refuses");
  return x * 10;
}
// Fails the first time it runs on each engine; then succeeds.
int g_calls = 0;
int fails_first_time(int x) {
  if (g_calls++ == 0) throw std::runtime_error("first call fails");
  return x + 1;
}
int always_fails(int x) {
  if (x >= 0) throw std::invalid_argument("never works");
  return x;
}

}  // namespace

TEST(Client, ids_are_every_engine) {
  ranks::Client rc;
  ASSERT_GE(rc.ids().size(), 1u);
  EXPECT_EQ(rc.ids(), iota(static_cast<int>(rc.ids().size())));
  EXPECT_EQ(static_cast<int>(rc.ids().size()), ranks::engine_count());
  EXPECT_EQ(rc.direct_view().targets(), rc.ids());
  EXPECT_EQ(rc.direct_view("all").targets(), rc.ids());
  EXPECT_EQ(rc.load_balanced_view().targets(), rc.ids());
  EXPECT_EQ(rc[0].id(), 0);
}

TEST(Client, a_missing_engine_id_names_the_valid_ones) {
  ranks::Client rc;
  const int n = static_cast<int>(rc.ids().size());
  // The ids alive, runs of three or more as a range: "0", "0, 1", "0..3".
  const std::string valid =
      "the ids alive are " + std::string(n == 1   ? "0"
                                         : n == 2 ? "0, 1"
                                                  : "0.." + std::to_string(n - 1));
  for (int bad : {n, n + 5, -1}) {
    EXPECT_THROW_MSG((void)rc[bad], ranks::Error,
                     "engine " + std::to_string(bad) + " does not exist");
    EXPECT_THROW_MSG((void)rc[bad], ranks::Error, valid);
  }
  EXPECT_THROW((void)rc[(std::vector<int>{0, n})], ranks::Error);
  EXPECT_THROW((void)rc.load_balanced_view({n}), ranks::Error);
  EXPECT_THROW((void)rc[std::vector<int>{}], ranks::Error);
  EXPECT_THROW((void)rc[(std::vector<int>{0, 0})], ranks::Error);
  EXPECT_THROW((void)rc.direct_view("some"), ranks::Error);
}

TEST(DirectView, execute_then_pull_one_value_per_target) {
  ranks::Client rc;
  for (const auto& ids : subsets(rc)) {
    auto view = rc[ids];
    view.execute([](ranks::Namespace& ns) { ns.set("ex", 1); }).get();
    EXPECT_EQ(view.pull<int>("ex").get(), std::vector<int>(ids.size(), 1));
    view.execute([](ranks::Namespace& ns) { ns.set("ex", ns.get<int>("ex") + ranks::engine_id()); })
        .get();
    EXPECT_EQ(view.pull<int>("ex").get(), [&] {
      std::vector<int> v;
      for (int i : ids) v.push_back(1 + i);
      return v;
    }());
  }
}

TEST(DirectView, push_reaches_every_target_and_only_them) {
  ranks::Client rc;
  auto all = rc.direct_view();
  all.execute([](ranks::Namespace& ns) { ns.erase("only"); }).get();
  for (const auto& ids : subsets(rc)) {
    auto view = rc[ids];
    view.push("p", 2).get();
    EXPECT_EQ(view.pull<int>("p").get(), std::vector<int>(ids.size(), 2));
    view.push("s", std::string("text")).get();
    EXPECT_EQ(view.pull<std::string>("s").get(), std::vector<std::string>(ids.size(), "text"));
    view.push("v", std::vector<double>{1.5, 2.5}).get();
    EXPECT_EQ(view.pull<std::vector<double>>("v").get()[0], (std::vector<double>{1.5, 2.5}));
    view.push("person", Person{"Ada", {1, 2}}).get();
    EXPECT_EQ(view.pull<Person>("person").get().back(), (Person{"Ada", {1, 2}}));
  }
  if (rc.ids().size() >= 2) {
    rc[1].push("only", 7).get();
    EXPECT_EQ(rc[1].pull<int>("only").get(), 7);
    EXPECT_THROW(rc[0].pull<int>("only").get(), ranks::RemoteError);
  }
}

TEST(DirectView, push_a_map_of_values) {
  ranks::Client rc;
  auto view = rc.direct_view();
  view.push(std::map<std::string, int>{{"ma", 2}, {"mb", 3}}).get();
  EXPECT_EQ(view.pull<int>("ma").get(), std::vector<int>(rc.ids().size(), 2));
  EXPECT_EQ(view.pull<int>("mb").get(), std::vector<int>(rc.ids().size(), 3));
  view.push(std::map<std::string, int>{}).get();  // nothing to push is fine
}

TEST(DirectView, values_keep_their_type_in_the_namespace) {
  ranks::Client rc;
  auto view = rc.direct_view();
  view.push("typed", 1.5).get();
  view.execute([](ranks::Namespace& ns) {
        if (ns.type_name("typed") != "double") throw std::logic_error(ns.type_name("typed"));
        if (!ns.contains("typed")) throw std::logic_error("contains");
        ns.set("seen", ns.get<double>("typed") * 2);
      })
      .get();
  EXPECT_EQ(view.pull<double>("seen").get(), std::vector<double>(rc.ids().size(), 3.0));
}

TEST(DirectView, pull_of_a_wrong_type_names_both_types_and_keeps_the_value) {
  ranks::Client rc;
  auto e0 = rc[0];
  e0.push("wt", 5).get();
  auto e = thrown<ranks::RemoteError>([&] { (void)e0.pull<std::string>("wt").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->engine_id(), 0);
  const std::string m = e->message();
  EXPECT_NE(m.find("'wt'"), std::string::npos) << m;
  EXPECT_NE(m.find("int"), std::string::npos) << m;
  EXPECT_NE(m.find("std::__cxx11::basic_string"), std::string::npos) << m;
  EXPECT_EQ(e0.pull<int>("wt").get(), 5);  // still there, unchanged
  EXPECT_THROW((void)rc.direct_view().gather<int>("wt").get(), ranks::RemoteError);
}

TEST(DirectView, pull_of_a_name_never_set_fails_with_the_name) {
  ranks::Client rc;
  auto e =
      thrown<ranks::RemoteError>([&] { (void)rc.direct_view().pull<int>("never_pushed").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type_name(), "ranks::Error");
  EXPECT_NE(e->message().find("'never_pushed'"), std::string::npos) << e->message();
  EXPECT_EQ(e->engine_id(), 0);  // the first failing target
  EXPECT_EQ(rc.direct_view().apply(square, 3).get(), std::vector<int>(rc.ids().size(), 9));
}

TEST(DirectView, scatter_cuts_contiguous_chunks_and_gather_undoes_it) {
  ranks::Client rc;
  for (const auto& ids : subsets(rc)) {
    auto view = rc[ids];
    for (int n : {0, 1, 7, 100}) {
      const auto in = iota(n);
      view.scatter("x", in).get();
      const auto parts = view.pull<std::vector<int>>("x").get();
      const auto sizes = chunks(in.size(), ids.size());
      std::size_t start = 0;
      for (std::size_t t = 0; t < ids.size(); ++t) {
        EXPECT_EQ(parts[t],
                  std::vector<int>(in.begin() + static_cast<std::ptrdiff_t>(start),
                                   in.begin() + static_cast<std::ptrdiff_t>(start + sizes[t])));
        start += sizes[t];
      }
      EXPECT_EQ(view.gather<int>("x").get(), in);
    }
  }
}

TEST(DirectView, scatter_and_gather_of_strings) {
  ranks::Client rc;
  auto view = rc.direct_view();
  std::vector<std::string> words{"a", "bb", "ccc", "dddd", "eeeee"};
  view.scatter("w", words).get();
  EXPECT_EQ(view.gather<std::string>("w").get(), words);
}

TEST(DirectView, apply_runs_once_per_target) {
  ranks::Client rc;
  for (const auto& ids : subsets(rc)) {
    auto view = rc[ids];
    EXPECT_EQ(view.apply(whoami).get(), ids);
    EXPECT_EQ(view.apply(add, 2, 5).get(), std::vector<int>(ids.size(), 7));
    EXPECT_EQ(view.apply(shout, std::string("hi")).get(),
              std::vector<std::string>(ids.size(), "hi!"));
    view.apply(nothing).get();
  }
}

TEST(DirectView, apply_failure_is_a_remote_error) {
  ranks::Client rc;
  auto r = rc.direct_view().apply([](int) -> int { throw std::runtime_error("boom"); }, 1);
  auto e = thrown<ranks::RemoteError>([&] { r.get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type_name(), "std::runtime_error");
  EXPECT_EQ(e->message(), "boom");
  EXPECT_EQ(rc.direct_view().apply(square, 4).get(), std::vector<int>(rc.ids().size(), 16));
}

TEST(DirectView, map_is_a_static_partition_in_input_order) {
  ranks::Client rc;
  for (const auto& ids : subsets(rc)) {
    auto view = rc[ids];
    for (int n : {0, 1, 5, 1000}) {
      const auto in = iota(n);
      std::vector<int> want;
      for (int x : in) want.push_back(x * x);
      EXPECT_EQ(view.map(square, in).get(), want);
    }
    // Which engine ran which item: contiguous chunks in target order.
    const auto who = view.map([](int) { return ranks::engine_id(); }, iota(10)).get();
    const auto sizes = chunks(10, ids.size());
    std::size_t at = 0;
    for (std::size_t t = 0; t < ids.size(); ++t)
      for (std::size_t k = 0; k < sizes[t]; ++k) EXPECT_EQ(who[at++], ids[t]);
  }
}

TEST(DirectView, map_failure_is_the_lowest_failing_index) {
  ranks::Client rc;
  auto r = rc.direct_view().map(
      [](int x) -> int {
        if (x % 3 == 2) throw std::runtime_error("bad " + std::to_string(x));
        return x;
      },
      iota(20));
  auto e = thrown<ranks::RemoteError>([&] { r.get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->index(), 2);
  EXPECT_EQ(e->message(), "bad 2");
}

TEST(DirectView, calls_to_one_engine_run_in_submission_order) {
  ranks::Client rc;
  auto all = rc.direct_view();
  auto e0 = rc[0];
  // Not waited for in between: each sees what the one before left.
  auto a = all.push("order", 1);
  auto b = all.scatter("order_x", iota(10));
  auto c = e0.execute([](ranks::Namespace& ns) { ns.set("order", ns.get<int>("order") + 1); });
  auto d = all.push("order2", 5);
  auto e = e0.pull<int>("order");
  auto f = all.gather<int>("order_x");
  EXPECT_EQ(e.get(), 2);
  EXPECT_EQ(f.get(), iota(10));
  a.get();
  b.get();
  c.get();
  d.get();
}

TEST(EngineView, single_values) {
  ranks::Client rc;
  for (int id : rc.ids()) {
    auto e = rc[id];
    e.push("a", 10 + id).get();
    EXPECT_EQ(e.pull<int>("a").get(), 10 + id);
    EXPECT_EQ(e.apply(whoami).get(), id);
    EXPECT_EQ(e.apply(add, id, 1).get(), id + 1);
    e.execute([](ranks::Namespace& ns) { ns.set("b", ns.get<int>("a") * 2); }).get();
    EXPECT_EQ(e.pull<int>("b").get(), 2 * (10 + id));
    e.push(std::map<std::string, std::string>{{"k", "v"}}).get();
    EXPECT_EQ(e.pull<std::string>("k").get(), "v");
    EXPECT_EQ(e.map(square, iota(4)).get(), (std::vector<int>{0, 1, 4, 9}));
    e.apply(nothing).get();
    EXPECT_THROW(e.pull<double>("a").get(), ranks::RemoteError);
  }
}

TEST(LoadBalancedView, map_and_apply) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  const auto in = iota(500);
  std::vector<int> want;
  for (int x : in) want.push_back(x * x);
  EXPECT_EQ(lview.map(square, in).get(), want);
  EXPECT_EQ(lview.map(square, in, {.chunksize = 1}).get(), want);
  EXPECT_EQ(lview.map(square, in, {.chunksize = 7}).get(), want);
  EXPECT_EQ(lview.map(square, std::vector<int>{}).get(), std::vector<int>{});
  EXPECT_EQ(lview.apply(square, 5).get(), 25);
  EXPECT_EQ(lview.apply(shout, std::string("x")).get(), "x!");
  lview.apply(nothing).get();
}

TEST(LoadBalancedView, unordered_map_has_every_result) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto out = lview.map(square, iota(200), {.chunksize = 3, .ordered = false}).get();
  std::sort(out.begin(), out.end());
  std::vector<int> want;
  for (int x : iota(200)) want.push_back(x * x);
  EXPECT_EQ(out, want);
}

TEST(LoadBalancedView, a_subset_uses_only_its_engines) {
  ranks::Client rc;
  const std::vector<int> ids{static_cast<int>(rc.ids().size()) - 1};
  auto lview = rc.load_balanced_view(ids);
  const auto who = lview.map([](int) { return ranks::engine_id(); }, iota(50), {.chunksize = 1});
  for (int w : who.get()) EXPECT_EQ(w, ids[0]);
  EXPECT_EQ(lview.apply(whoami).get(), ids[0]);
}

TEST(LoadBalancedView, several_engines_share_a_map) {
  ranks::Client rc;
  if (rc.ids().size() < 2) GTEST_SKIP() << "one engine";
  auto lview = rc.load_balanced_view();
  auto r = lview.map(
      [](int x) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
        while (std::chrono::steady_clock::now() < until) {
        }
        return x;
      },
      iota(200), {.chunksize = 1});
  EXPECT_EQ(r.get(), iota(200));
  std::set<int> engines;
  for (const auto& m : r.metadata()) engines.insert(m.engine_id);
  EXPECT_GE(engines.size(), 2u);
}

TEST(LoadBalancedView, without_retries_a_failure_reaches_the_caller) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  EXPECT_EQ(lview.retries(), 0);
  EXPECT_THROW(lview.apply(always_fails, 1).get(), ranks::RemoteError);
  auto r = lview.map(always_fails, std::vector<int>{-1, 1, -1}, {.chunksize = 1});
  auto e = thrown<ranks::RemoteError>([&] { r.get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->index(), 1);
  EXPECT_EQ(e->type_name(), "std::invalid_argument");
  EXPECT_THROW(lview.set_retries(-1), ranks::Error);
}

TEST(LoadBalancedView, a_retry_goes_to_another_engine) {
  ranks::Client rc;
  if (rc.ids().size() < 2) GTEST_SKIP() << "one engine";
  auto lview = rc.load_balanced_view();
  lview.set_retries(1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lview.apply(fails_on_engine_0, i).get(), i * 10);
  auto r = lview.map(fails_on_engine_0, iota(40), {.chunksize = 1});
  std::vector<int> want;
  for (int x : iota(40)) want.push_back(x * 10);
  EXPECT_EQ(r.get(), want);
  for (const auto& m : r.metadata())
    if (!m.ok) {
      EXPECT_EQ(m.engine_id, 0);
    }
  // With a subset of engine 0 alone, there is nowhere else to go.
  auto only0 = rc.load_balanced_view({0});
  only0.set_retries(3);
  auto f = only0.apply(fails_on_engine_0, 1);
  EXPECT_THROW(f.get(), ranks::RemoteError);
  EXPECT_EQ(f.metadata().size(), 4u);  // the first try and three retries
}

TEST(LoadBalancedView, retries_are_spent_before_the_failure_shows) {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  lview.set_retries(2);
  auto r = lview.apply(always_fails, 3);
  EXPECT_THROW(r.get(), ranks::RemoteError);
  const auto meta = r.metadata();
  ASSERT_EQ(meta.size(), 3u);
  for (std::size_t i = 0; i < meta.size(); ++i) {
    EXPECT_EQ(meta[i].attempt, static_cast<int>(i));
    EXPECT_FALSE(meta[i].ok);
  }
  if (rc.ids().size() >= 3) {  // three tries, three different engines
    std::set<int> engines;
    for (const auto& m : meta) engines.insert(m.engine_id);
    EXPECT_EQ(engines.size(), 3u);
  }
  // A task that fails once per engine succeeds with a retry.
  rc.direct_view().execute([](ranks::Namespace&) { g_calls = 0; }).get();
  auto one = rc.load_balanced_view({0});
  one.set_retries(1);
  EXPECT_EQ(one.apply(fails_first_time, 1).get(), 2);
}

TEST(AsyncResult, metadata_of_each_task) {
  ranks::Client rc;
  const auto before = std::chrono::system_clock::now();
  auto r = rc.load_balanced_view().map(square, iota(30), {.chunksize = 10});
  r.get();
  const auto meta = r.metadata();
  ASSERT_EQ(meta.size(), 3u);
  std::size_t covered = 0;
  for (const auto& m : meta) {
    EXPECT_GE(m.engine_id, 0);
    EXPECT_LT(m.engine_id, static_cast<int>(rc.ids().size()));
    EXPECT_GE(m.submitted, before);
    EXPECT_LE(m.started, m.completed);
    EXPECT_EQ(m.count, 10u);
    EXPECT_EQ(m.first % 10, 0u);
    EXPECT_TRUE(m.ok);
    covered += m.count;
  }
  EXPECT_EQ(covered, 30u);
  auto d = rc.direct_view().apply(whoami);
  EXPECT_EQ(d.get(), rc.ids());
  std::set<int> engines;
  for (const auto& m : d.metadata()) engines.insert(m.engine_id);
  EXPECT_EQ(engines.size(), rc.ids().size());
  auto a = rc[0].apply(square, 2);
  a.get();
  ASSERT_EQ(a.metadata().size(), 1u);
  EXPECT_EQ(a.metadata()[0].engine_id, 0);
}

TEST(AsyncResult, wait_interactive_waits_for_the_result) {
  ranks::Client rc;
  auto r = rc.load_balanced_view().map(square, iota(100), {.chunksize = 5});
  testing::internal::CaptureStderr();
  r.wait_interactive();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(r.ready());
  EXPECT_NE(err.find("100/100 items"), std::string::npos) << err;  // a map counts items
  EXPECT_EQ(r.get().size(), 100u);
}
