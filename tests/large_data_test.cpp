// Large arguments and results: vectors and strings big enough to travel apart from their message
// (as attachments, read in place and received where they belong). Every byte must arrive, the
// caller's data must be safe to change once an async call returned, and a failure must leave the
// engine ready for the next task.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <ranks/ranks.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

// Well above the size where data travels apart (64 KiB), and above 4 MiB (huge pages).
constexpr std::size_t kBig = std::size_t{1} << 20;  // doubles: 8 MiB

std::vector<double> pattern(std::size_t n, double seed) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = seed + static_cast<double>(i % 9973) * 0.25;
  return v;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
std::vector<double> reversed(std::vector<double> v) {
  std::reverse(v.begin(), v.end());
  return v;
}
std::vector<double> make(std::size_t n, double seed) { return pattern(n, seed); }
std::vector<double> make_one(std::size_t n) { return pattern(n, static_cast<double>(n)); }
double dot_or_throw(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || a[0] < 0) throw std::invalid_argument("negative first element");
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}
std::tuple<std::vector<int>, std::string> swap_halves(std::tuple<std::string, std::vector<int>> t) {
  return {std::get<1>(t), std::get<0>(t)};
}
std::vector<std::vector<double>> split(const std::vector<double>& v, int parts) {
  std::vector<std::vector<double>> out;
  const std::size_t each = v.size() / static_cast<std::size_t>(parts);
  for (int p = 0; p < parts; ++p)
    out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(p * each),
                     v.begin() + static_cast<std::ptrdiff_t>((p + 1) * each));
  return out;
}
double fails_on_engine_0(const std::vector<double>& v) {
  if (ranks::engine_id() == 0) throw std::runtime_error("engine 0 refuses");
  return sum(v);
}

}  // namespace

TEST(LargeData, apply_round_trip_keeps_every_byte) {
  ranks::Pool pool;
  const auto v = pattern(kBig, 1.0);
  auto back = pool.apply(reversed, v);
  ASSERT_EQ(back.size(), v.size());
  std::reverse(back.begin(), back.end());
  EXPECT_EQ(back, v);
  EXPECT_EQ(pool.apply(sum, v), sum(v));
  EXPECT_EQ(pool.apply(make, kBig, 2.0), pattern(kBig, 2.0));
}

TEST(LargeData, apply_async_owns_its_arguments) {
  ranks::Pool pool;
  auto v = pattern(kBig, 3.0);
  const double want = sum(v);
  auto r = pool.apply_async(sum, v);
  std::fill(v.begin(), v.end(), -1.0);  // the call has returned: v is the caller's again
  v = std::vector<double>();
  auto w = pattern(kBig, 4.0);
  const double want_w = sum(w);
  auto moved = pool.apply_async(sum, std::move(w));
  std::vector<ranks::AsyncResult<std::vector<double>>> many;
  for (int i = 0; i < 6; ++i) {
    auto x = pattern(kBig / 4, i);
    many.push_back(pool.apply_async(reversed, x));
  }  // each x is gone before its task runs
  EXPECT_EQ(r.get(), want);
  EXPECT_EQ(moved.get(), want_w);
  for (int i = 0; i < 6; ++i) {
    auto got = many[static_cast<std::size_t>(i)].get();
    std::reverse(got.begin(), got.end());
    EXPECT_EQ(got, pattern(kBig / 4, i)) << i;
  }
}

TEST(LargeData, strings_tuples_and_nested_vectors) {
  ranks::Pool pool;
  std::string s(3 << 20, 'a');
  for (std::size_t i = 0; i < s.size(); i += 7) s[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(pool.apply(upper, s), upper(s));
  std::vector<int> ints(300000);
  std::iota(ints.begin(), ints.end(), -7);
  const auto [back_ints, back_s] = pool.apply(swap_halves, std::make_tuple(s, ints));
  EXPECT_EQ(back_ints, ints);
  EXPECT_EQ(back_s, s);
  const auto v = pattern(kBig, 5.0);
  const auto parts = pool.apply(split, v, 4);
  ASSERT_EQ(parts.size(), 4u);
  std::vector<double> joined;
  for (const auto& p : parts) joined.insert(joined.end(), p.begin(), p.end());
  EXPECT_EQ(joined, v);
}

TEST(LargeData, a_failure_leaves_the_engine_clean) {
  ranks::Pool pool(1);
  const auto a = pattern(kBig, 1.0);
  auto bad = a;
  bad[0] = -1;
  for (int round = 0; round < 3; ++round) {
    EXPECT_THROW(pool.apply(dot_or_throw, bad, a), ranks::RemoteError);
    auto failed = pool.apply_async(dot_or_throw, bad, a);
    auto ok = pool.apply_async(dot_or_throw, a, a);
    EXPECT_THROW(failed.get(), ranks::RemoteError);
    EXPECT_EQ(ok.get(), std::inner_product(a.begin(), a.end(), a.begin(), 0.0));
  }
}

TEST(LargeData, map_with_large_results_and_items) {
  ranks::Pool pool;
  const std::vector<std::size_t> sizes{kBig / 2, 10, kBig / 3, 70000, kBig / 5};
  const auto out = pool.map(make_one, sizes);
  ASSERT_EQ(out.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(out[i], make_one(sizes[i])) << i;
  std::vector<std::vector<double>> items;
  for (int i = 0; i < 5; ++i) items.push_back(pattern(kBig / 8, i));
  const auto sums = pool.map(sum, items, 1);
  for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(sums[i], sum(items[i]));
}

TEST(LargeData, views_carry_large_values) {
  ranks::Client rc;
  const auto v = pattern(kBig, 6.0);
  auto e0 = rc[0];
  EXPECT_EQ(e0.apply(sum, v).get(), sum(v));
  e0.push("v", v).get();
  EXPECT_EQ(e0.pull<std::vector<double>>("v").get(), v);
  auto w = v;
  auto pushed = e0.push("w", w);
  std::fill(w.begin(), w.end(), 0.0);  // push took its copy when it returned
  auto moved = e0.push("m", std::move(w));
  pushed.get();
  moved.get();
  EXPECT_EQ(e0.pull<std::vector<double>>("w").get(), v);
  EXPECT_EQ(e0.pull<std::vector<double>>("m").get(), std::vector<double>(v.size(), 0.0));
  // A pull's data is read in place: replacing the value right after must not change the reply.
  auto before = e0.pull<std::vector<double>>("v");
  e0.push("v", std::vector<double>{1.0}).get();
  EXPECT_EQ(before.get(), v);
  EXPECT_EQ(e0.pull<std::vector<double>>("v").get(), std::vector<double>{1.0});
  auto lview = rc.load_balanced_view();
  lview.set_retries(1);
  auto r = lview.apply(fails_on_engine_0, v);
  if (rc.ids().size() >= 2) {
    EXPECT_EQ(r.get(), sum(v));  // resent, with its data, to another engine
  } else {
    EXPECT_THROW(r.get(), ranks::RemoteError);
  }
  const auto each = rc.direct_view().apply(sum, v).get();
  EXPECT_EQ(each, std::vector<double>(rc.ids().size(), sum(v)));
}

// Memory the caller owns: a span pushed is lent, not copied; pull_into receives into the
// caller's vector where it lies; a push over a vector of the same length reuses the engine's.
TEST(LargeData, push_a_span_and_pull_into_owned_memory) {
  ranks::Client rc;
  auto e0 = rc[0];
  auto v = pattern(kBig, 7.0);
  e0.push("v", std::span<const double>(v)).get();
  std::vector<double> out(v.size(), -1.0);
  const double* where = out.data();
  e0.pull_into("v", out).get();
  EXPECT_EQ(out, v);
  EXPECT_EQ(out.data(), where);
  // The engine receives a second push of the same length into the vector it holds.
  const auto address = [](ranks::Namespace& ns) {
    return reinterpret_cast<std::uintptr_t>(ns.share<std::vector<double>>("v")->data());
  };
  const auto held = e0.apply(address).get();
  const auto w = pattern(kBig, 8.0);
  e0.push("v", std::span<const double>(w)).get();
  EXPECT_EQ(e0.apply(address).get(), held);
  e0.pull_into("v", out).get();
  EXPECT_EQ(out, w);
  EXPECT_EQ(out.data(), where);
  // A value something else still reads is replaced, never written over.
  e0.execute([](ranks::Namespace& ns) { ns.set("old", ns.share<std::vector<double>>("v")); }).get();
  e0.push("v", std::span<const double>(v)).get();
  EXPECT_NE(e0.apply(address).get(), held);
  const auto old_first = [](ranks::Namespace& ns) {
    return ns.get<std::shared_ptr<const std::vector<double>>>("old")->front();
  };
  EXPECT_EQ(e0.apply(old_first).get(), w.front());
  // Another length is resized into; a failed pull leaves the vector as it was.
  std::vector<double> small(3, 0.0);
  e0.pull_into("v", small).get();
  EXPECT_EQ(small, v);
  std::vector<int> ints{1, 2};
  EXPECT_THROW(e0.pull_into("v", ints).get(), ranks::RemoteError);
  EXPECT_EQ(ints, (std::vector<int>{1, 2}));
  // Views as arguments travel as what they show.
  EXPECT_EQ(e0.apply(sum, std::span<const double>(v)).get(), sum(v));
  EXPECT_EQ(rc.direct_view().apply(upper, std::string_view("hola mundo").substr(5)).get(),
            std::vector<std::string>(rc.ids().size(), "MUNDO"));
  rc.direct_view().push("s", std::span<const double>(v).first(2)).get();
  EXPECT_EQ(rc.direct_view().pull<std::vector<double>>("s").get(),
            std::vector<std::vector<double>>(rc.ids().size(), {v[0], v[1]}));
}
