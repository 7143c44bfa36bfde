// The dynamic queue's chunking, retries and cancelling, and where map results land: the jobs
// and MapState driven by hand with the replies an engine would send. No MPI.
#include "ranks/detail/jobs.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

#include "ranks/detail/error_report.hpp"
#include "registry/registry_table.hpp"
#include "throws.hpp"

namespace {

using namespace ranks::detail;

int square(int x) { return x * x; }
using SquareTask = MapTask<int (*)(int), int, false>;
using SquareMap = DynamicMapJob<SquareTask, int (*)(int), int, int>;

// The registry is frozen by ranks::run; these tests build messages without it.
class Jobs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { freeze_registry(); }
};

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// A reply as an engine sends it; `buf` holds its payload and must outlive it.
Reply ok_reply(Bytes& buf, int engine, std::uint64_t busy_ns, const std::vector<int>& results) {
  buf.clear();
  Writer w(buf);
  encode_items(w, results.data(), results.size());
  Outcome o;
  o.engine = engine;
  o.busy_ns = busy_ns;
  o.result_bytes = buf.size();
  return Reply{o, {}, Reader(buf.data(), buf.size())};
}
Reply failed_reply(Bytes& buf, int engine, std::int64_t item, const std::string& message) {
  buf.clear();
  Writer w(buf);
  encode_error(w, ErrorInfo{"std::runtime_error", message});
  Outcome o;
  o.engine = engine;
  o.ok = 0;
  o.failed_item = item;
  o.result_bytes = buf.size();
  return Reply{o, {}, Reader(buf.data(), buf.size())};
}

struct Part {
  std::uint64_t key;
  std::size_t start;
  std::size_t len;
};
// The next part of job for engine, read back from its message.
Part next_part(DynamicJob& job, int engine, int workers = 2, int depth = 2) {
  Message msg;
  const std::uint64_t key = job.next(msg, workers, depth, engine);
  const auto h = read_header<TaskHeader>(msg.bytes);
  Reader r(msg.bytes.data() + sizeof(TaskHeader), msg.bytes.size() - sizeof(TaskHeader));
  int first = 0;
  decode(r, first);  // the items are 0, 1, 2, ...: the first is where the part starts
  return {key, static_cast<std::size_t>(first), h.count};
}
std::vector<int> squares(std::size_t start, std::size_t len) {
  std::vector<int> out;
  for (std::size_t i = start; i < start + len; ++i) out.push_back(square(static_cast<int>(i)));
  return out;
}

}  // namespace

TEST_F(Jobs, automatic_chunks_start_large_and_shrink) {
  const auto items = iota(1000);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 0, state);
  std::vector<std::size_t> lens;
  std::size_t covered = 0;
  while (job.has_next()) {
    const Part p = next_part(job, 0);
    EXPECT_EQ(p.start, covered);
    covered += p.len;
    lens.push_back(p.len);
  }
  EXPECT_EQ(covered, 1000u);
  EXPECT_EQ(lens.front(), 125u);  // 1000 over 2 engines x 2 in flight x 2
  EXPECT_EQ(lens.back(), 1u);     // the tail is balanced item by item
  EXPECT_TRUE(std::is_sorted(lens.rbegin(), lens.rend())) << "parts never grow";
}

TEST_F(Jobs, a_fixed_chunksize_is_kept) {
  const auto items = iota(10);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 3, state);
  std::vector<std::size_t> lens;
  while (job.has_next()) lens.push_back(next_part(job, 0).len);
  EXPECT_EQ(lens, (std::vector<std::size_t>{3, 3, 3, 1}));
}

TEST_F(Jobs, tiny_items_once_timed_go_in_few_large_parts) {
  const auto items = iota(1000);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 0, state);
  const Part first = next_part(job, 0);
  Bytes buf;
  Reply r = ok_reply(buf, 0, 10 * first.len, squares(first.start, first.len));  // 10 ns an item
  job.deliver(first.key, r);
  // 100 us of work a part at least: the rest goes at once rather than in crumbs.
  const Part second = next_part(job, 1);
  EXPECT_EQ(second.start, first.len);
  EXPECT_EQ(second.len, 1000 - first.len);
  EXPECT_FALSE(job.has_next());
}

TEST_F(Jobs, with_many_engines_parts_grow_so_the_controller_keeps_up) {
  // 1 us items on 1024 engines: the floor is 1024 x 0.64 us / 0.9 = 728 us of work a part (not
  // the 100 us that serve a few engines), while an even share of what is left is larger still.
  const auto items = iota(1'000'000);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 0, state);
  const Part first = next_part(job, 0, 1024);
  Bytes buf;
  Reply r = ok_reply(buf, 0, 1000 * first.len, squares(first.start, first.len));
  job.deliver(first.key, r);
  EXPECT_EQ(next_part(job, 1, 1024).len, 729u);  // with the 100 us floor: 245, its share
}

TEST_F(Jobs, short_parts_are_kept_deeper_in_flight) {
  const auto items = iota(100);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 1, state);
  EXPECT_EQ(job.depth(), 2);  // nothing measured yet
  const Part p = next_part(job, 0);
  Bytes buf;
  Reply r = ok_reply(buf, 0, 10'000, squares(p.start, p.len));  // 10 us parts
  job.deliver(p.key, r);
  EXPECT_EQ(job.depth(), 5);  // 2 + 40 us / 10 us
}

TEST_F(Jobs, a_failed_part_is_retried_on_another_engine) {
  const auto items = iota(4);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 4, state, TaskPolicy{/*retries=*/1});
  const Part p = next_part(job, 0);
  Bytes buf;
  Reply failed = failed_reply(buf, 0, 2, "flaky");
  job.deliver(p.key, failed);
  EXPECT_FALSE(state->is_ready());
  ASSERT_TRUE(job.has_next());
  EXPECT_FALSE(job.wants(0, 2)) << "not to the engine it failed on";
  EXPECT_TRUE(job.wants(1, 2));
  const Part again = next_part(job, 1);
  EXPECT_EQ(again.key, p.key);
  EXPECT_EQ(again.start, 0u);
  EXPECT_EQ(again.len, 4u);
  Reply ok = ok_reply(buf, 1, 100, squares(0, 4));
  job.deliver(again.key, ok);
  ASSERT_TRUE(state->is_ready());
  EXPECT_FALSE(state->error());
  EXPECT_EQ(state->value(), (std::vector<int>{0, 1, 4, 9}));
  ASSERT_EQ(state->metadata().size(), 2u);
  EXPECT_EQ(state->metadata()[1].attempt, 1);
}

TEST_F(Jobs, a_part_lost_with_its_engine_runs_again_once_without_retries) {
  const auto items = iota(4);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 4, state);  // no retries
  const Part p = next_part(job, 0);
  EXPECT_FALSE(job.has_next());
  ASSERT_TRUE(job.lost(p.key, 0)) << "a lost engine's part runs again";
  ASSERT_TRUE(job.has_next());
  const Part again = next_part(job, 1);
  EXPECT_EQ(again.key, p.key);
  EXPECT_EQ(again.start, 0u);
  EXPECT_EQ(again.len, 4u);
  EXPECT_FALSE(job.lost(again.key, 1)) << "a part that kills a second engine does not";
  EXPECT_FALSE(state->is_ready()) << "the controller cancels it, with EngineLost";
}

TEST_F(Jobs, a_lost_engine_counts_as_an_attempt_for_retries) {
  const auto items = iota(2);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 2, state, TaskPolicy{/*retries=*/2});
  const Part p = next_part(job, 0);
  ASSERT_TRUE(job.lost(p.key, 0));
  const Part second = next_part(job, 1);
  Bytes buf;
  Reply failed = failed_reply(buf, 1, 0, "flaky");
  job.deliver(second.key, failed);  // the second attempt, the last one retries allow
  ASSERT_TRUE(job.has_next());
  const Part third = next_part(job, 2);
  Reply failed_again = failed_reply(buf, 2, 0, "flaky");
  job.deliver(third.key, failed_again);
  ASSERT_TRUE(state->is_ready());
  EXPECT_TRUE(state->error()) << "two retries: the loss and one failure";
}

TEST_F(Jobs, a_single_task_of_a_process_is_not_run_again_when_lost) {
  auto state = std::make_shared<State<int>>();
  SingleJob<int> job(Message(Bytes(sizeof(TaskHeader))), state, TaskPolicy{0, false, {}});
  Message m;
  job.next(m, 1, 1, 0);
  EXPECT_FALSE(job.lost(0, 0));
  auto lb_state = std::make_shared<State<int>>();
  SingleJob<int> lb(Message(Bytes(sizeof(TaskHeader))), lb_state, TaskPolicy{});
  lb.next(m, 1, 1, 0);
  EXPECT_TRUE(lb.lost(0, 0));
  EXPECT_TRUE(lb.has_next());
}

TEST_F(Jobs, a_failure_names_the_input_and_the_lowest_one_wins) {
  const auto items = iota(10);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 5, state);
  const Part a = next_part(job, 0);
  const Part b = next_part(job, 1);
  Bytes buf;
  Reply rb = failed_reply(buf, 1, 1, "later");  // input 6
  job.deliver(b.key, rb);
  Reply ra = failed_reply(buf, 0, 3, "earlier");  // input 3
  job.deliver(a.key, ra);
  ASSERT_TRUE(state->is_ready());
  auto e = ranks_test::thrown<ranks::RemoteError>([&] { std::rethrow_exception(state->error()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->index(), 3);
  EXPECT_EQ(e->message(), "earlier");
  EXPECT_EQ(e->engine_id(), 0);
}

TEST_F(Jobs, a_cancelled_map_sends_nothing_more) {
  const auto items = iota(20);
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  SquareMap job(square, Items<int>{items, nullptr}, 1, state);
  const Part on_engine = next_part(job, 0);
  job.cancel(std::make_exception_ptr(ranks::Error("terminated")));
  EXPECT_FALSE(job.has_next());
  EXPECT_TRUE(state->is_ready());
  // The part that was on an engine still reports back; the job stays done.
  Bytes buf;
  Reply r = ok_reply(buf, 0, 100, squares(on_engine.start, on_engine.len));
  job.deliver(on_engine.key, r);
  EXPECT_FALSE(job.has_next());
  EXPECT_THROW(std::rethrow_exception(state->error()), ranks::Error);
}

TEST_F(Jobs, a_cancelled_apply_is_not_retried) {
  auto state = std::make_shared<State<int>>();
  SingleJob<int> job(Message(), state, /*retries=*/3);
  Message msg;
  job.next(msg, 2, 2, 0);
  job.cancel(std::make_exception_ptr(ranks::Error("terminated")));
  Bytes buf;
  Reply failed = failed_reply(buf, 0, -1, "boom");
  job.deliver(0, failed);
  EXPECT_FALSE(job.has_next());
}

// An input whose serialize() throws while it is saved.
struct Unsendable {
  int v = 0;
  std::string tag;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    if (Archive::is_saving::value && v == 7) throw std::runtime_error("7 cannot travel");
    ar& v& tag;
  }
};
int value_of(const Unsendable& u) { return u.v; }

TEST_F(Jobs, an_input_that_cannot_be_encoded_is_named) {
  std::vector<Unsendable> items(10);
  for (int i = 0; i < 10; ++i) items[static_cast<std::size_t>(i)].v = i;
  using Task = MapTask<int (*)(const Unsendable&), Unsendable, false>;
  auto state = std::make_shared<MapState<int>>(items.size(), false);
  DynamicMapJob<Task, int (*)(const Unsendable&), Unsendable, int> job(
      value_of, Items<Unsendable>{items, nullptr}, 5, state);
  Message msg;
  EXPECT_NO_THROW(job.next(msg, 2, 2, 0));  // inputs 0..4
  EXPECT_THROW_MSG(job.next(msg, 2, 2, 1), ranks::Error,
                   "map input 7 could not be encoded to send (std::runtime_error: 7 cannot "
                   "travel)");
}

TEST(MapState, the_prefix_grows_as_gaps_close) {
  MapState<int> s(10, true);
  Bytes buf;
  Reply later = ok_reply(buf, 1, 0, squares(5, 5));
  s.settle(5, 5, later);
  EXPECT_EQ(s.prefix(), 0u);
  EXPECT_EQ(s.units_done(), 5u);
  Reply first = ok_reply(buf, 0, 0, squares(0, 5));
  s.settle(0, 5, first);
  EXPECT_EQ(s.prefix(), 10u);
  EXPECT_TRUE(s.is_ready());
  EXPECT_EQ(s.result(7), 49);
  ASSERT_EQ(s.arrivals().size(), 2u);
  EXPECT_EQ(s.arrivals()[0].first, 5u);
}

TEST(MapState, completion_order_lists_results_as_they_arrived) {
  MapState<int> s(4, false, /*completion_order=*/true);
  Bytes buf;
  Reply b = ok_reply(buf, 0, 0, squares(2, 2));
  s.settle(2, 2, b);
  Reply a = ok_reply(buf, 0, 0, squares(0, 2));
  s.settle(0, 2, a);
  ASSERT_TRUE(s.is_ready());
  EXPECT_EQ(s.value(), (std::vector<int>{4, 9, 0, 1}));
}

TEST(MapState, an_empty_map_is_complete_at_once) {
  MapState<int> s(0, false);
  EXPECT_TRUE(s.is_ready());
  EXPECT_TRUE(s.value().empty());
}
