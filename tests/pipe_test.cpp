// Pipe and Connection: between the program and a process, between two engines, one-way pipes,
// poll, close, timeouts, large items, and misuse.

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "launch.hpp"

namespace {

using namespace std::chrono_literals;

struct Msg {
  int n = 0;
  double x = 0;
  bool operator==(const Msg&) const = default;
};

void child(ranks::Connection<Msg> end) {
  end.send(Msg{42, 0.5});
  const Msg reply = end.recv();
  end.send(Msg{reply.n + 1, reply.x * 2});
  end.close();
}

TEST(Pipe, a_process_and_the_program_talk_both_ways) {
  auto [left, right] = ranks::Pipe<Msg>();
  ranks::Process c(child, right);
  c.start();
  EXPECT_EQ(left.recv(), (Msg{42, 0.5}));
  left.send(Msg{7, 1.5});
  EXPECT_EQ(left.recv(), (Msg{8, 3.0}));
  EXPECT_THROW(left.recv(), ranks::Closed);  // closed, and everything it sent was received
  c.join();
  EXPECT_EQ(c.exitcode(), 0);
}

int echo(ranks::Connection<std::string> end) {
  int n = 0;
  for (;;) {
    try {
      end.send(end.recv() + "!");
      ++n;
    } catch (const ranks::Closed&) {
      return n;
    }
  }
}

int ask(ranks::Connection<std::string> end, int times) {
  for (int i = 0; i < times; ++i) {
    end.send(std::to_string(i));
    if (end.recv() != std::to_string(i) + "!") return -1;
  }
  end.close();
  return times;
}

TEST(Pipe, two_engines_talk) {
  if (!ranks_test::can_have(2)) GTEST_SKIP() << "needs two engines at once";
  auto [a, b] = ranks::Pipe<std::string>();
  ranks::Pool pool(2);
  auto server = pool.apply_async(echo, b);
  auto client = pool.apply_async(ask, a, 200);
  EXPECT_EQ(client.get(), 200);
  EXPECT_EQ(server.get(), 200);
}

TEST(Pipe, a_one_way_pipe_receives_at_its_first_end_and_sends_at_its_second) {
  auto [receiver, sender] = ranks::Pipe<int>(false);
  sender.send(1);
  EXPECT_EQ(receiver.recv(), 1);
  EXPECT_THROW(receiver.send(2), ranks::Error);
  EXPECT_THROW(sender.recv(), ranks::Error);
}

TEST(Pipe, poll_and_recv_with_a_timeout) {
  auto [a, b] = ranks::Pipe<int>();
  EXPECT_FALSE(a.poll());
  EXPECT_FALSE(a.poll(20ms));
  EXPECT_THROW(a.recv(20ms), ranks::Empty);
  b.send(5);
  EXPECT_TRUE(a.poll());
  EXPECT_TRUE(a.poll(1s));
  EXPECT_EQ(a.recv(1s), 5);
  b.close();
  EXPECT_TRUE(a.poll());  // recv would not wait: it throws Closed
  EXPECT_THROW(a.recv(), ranks::Closed);
  EXPECT_THROW(a.send(1), ranks::Closed);  // nobody would receive it
  EXPECT_THROW(b.send(1), ranks::Error);   // this end was closed
}

bool closed_while_waiting(ranks::Connection<int> end) {
  try {
    end.recv();
  } catch (const ranks::Closed&) {
    return true;
  }
  return false;
}

TEST(Pipe, closing_one_end_wakes_a_recv_waiting_at_the_other) {
  auto [a, b] = ranks::Pipe<int>();
  ranks::Pool pool;
  auto r = pool.apply_async(closed_while_waiting, b);
  EXPECT_FALSE(r.wait(100ms));
  a.close();
  EXPECT_TRUE(r.get());
}

std::size_t bounce(ranks::Connection<std::vector<char>> end) {
  std::vector<char> v = end.recv();
  end.send(v);
  return v.size();
}

TEST(Pipe, large_items_travel_whole) {
  auto [a, b] = ranks::Pipe<std::vector<char>>();
  std::vector<char> big(3 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  ranks::Pool pool;
  auto r = pool.apply_async(bounce, b);
  a.send(big);
  EXPECT_EQ(a.recv(), big);
  EXPECT_EQ(r.get(), big.size());
}

TEST(Pipe, recv_into_reuses_the_value_it_is_given) {
  auto [a, b] = ranks::Pipe<std::vector<char>>();
  ranks::Pool pool;
  std::vector<char> big(3 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  auto r = pool.apply_async(bounce, b);
  a.send(big);
  std::vector<char> into(big.size(), 'y');
  const char* where = into.data();
  a.recv_into(into);
  EXPECT_EQ(into, big);
  EXPECT_EQ(into.data(), where);  // the same memory
  EXPECT_EQ(r.get(), big.size());
  // A value of another size becomes the item.
  std::vector<char> small(5, 'z');
  b.send(std::vector<char>{'a', 'b'});
  a.recv_into(small);
  EXPECT_EQ(small, (std::vector<char>{'a', 'b'}));
  EXPECT_THROW(a.recv_into(small, 10ms), ranks::Empty);
}

// Receives `count` items, each the next number from `first` on; how many were in order.
int take_in_order(ranks::Connection<int> end, int first, int count) {
  for (int i = 0; i < count; ++i)
    if (end.recv() != first + i) return i;
  return count;
}

int send_numbers(ranks::Connection<int> end, int first, int count) {
  for (int i = 0; i < count; ++i) end.send(first + i);
  return count;
}

// A task that receives at an end keeps what comes there, and a task on another engine sends
// its items straight to it; when the receiver stops early and the sender goes on, and then the
// program and another task take over, nothing is lost and nothing overtakes.
TEST(Pipe, items_keep_their_order_when_the_tasks_at_the_ends_change) {
  if (!ranks_test::can_have(2)) GTEST_SKIP() << "needs two engines at once";
  auto [to_receiver, to_sender] = ranks::Pipe<int>();
  ranks::Pool pool(2);
  constexpr int kFirst = 100, kSent = 20'000, kMore = 50;
  // The receiver listens first, so the sender is offered to send straight to it.
  auto receiver = pool.apply_async(take_in_order, to_sender, 0, kFirst);
  auto sender = pool.apply_async(send_numbers, to_receiver, 0, kSent);
  EXPECT_EQ(receiver.get(), kFirst);  // it ends while the sender still sends
  EXPECT_EQ(sender.get(), kSent);
  for (int i = 0; i < kMore; ++i) to_receiver.send(kSent + i);  // through the program now
  // The program takes some, a task the next ones, the program the rest: all in order.
  for (int i = kFirst; i < 2 * kFirst; ++i) ASSERT_EQ(to_sender.recv(), i);
  EXPECT_EQ(pool.apply(take_in_order, to_sender, 2 * kFirst, kSent - 3 * kFirst),
            kSent - 3 * kFirst);
  for (int i = kSent - kFirst; i < kSent + kMore; ++i) ASSERT_EQ(to_sender.recv(), i);
  EXPECT_FALSE(to_sender.poll());
}

// Both ends are used by tasks, in turn: each round, one sends a burst of ten, the other
// receives it and answers with ten of its own. How many items came as expected.
int volley(ranks::Connection<int> end, int mine, int theirs, bool opens) {
  int right = 0;
  for (int r = 0; r < 20; ++r) {
    if (opens)
      for (int i = 0; i < 10; ++i) end.send(mine + r * 10 + i);
    for (int i = 0; i < 10; ++i) right += end.recv() == theirs + r * 10 + i ? 1 : 0;
    if (!opens)
      for (int i = 0; i < 10; ++i) end.send(mine + r * 10 + i);
  }
  return right;
}

TEST(Pipe, two_tasks_volley_in_bursts_and_new_tasks_go_on_where_they_stopped) {
  if (!ranks_test::can_have(2)) GTEST_SKIP() << "needs two engines at once";
  auto [a, b] = ranks::Pipe<int>();
  ranks::Pool pool(2);
  for (int turn = 0; turn < 3; ++turn) {
    // a's task sends 0.., b's receives them and answers 1000.. back.
    auto server = pool.apply_async(volley, b, 1000, 0, false);
    auto client = pool.apply_async(volley, a, 0, 1000, true);
    EXPECT_EQ(client.get(), 200) << "turn " << turn;
    EXPECT_EQ(server.get(), 200) << "turn " << turn;
  }
  EXPECT_FALSE(a.poll());
  EXPECT_FALSE(b.poll());
}

// Large items between engines: several blocks of 64 KiB and more in one item, with a small part
// between them, and small items among the large.
using Block = std::tuple<int, std::vector<double>, std::string, std::vector<int>>;
Block block(int k) {
  if (k % 3 == 2) return {k, {0.5 * k}, "small", {k}};
  return {k, std::vector<double>(9000 + static_cast<std::size_t>(k), 0.25 * k),
          std::string(70'000 + static_cast<std::size_t>(k), static_cast<char>('a' + k % 26)),
          std::vector<int>(20'000, k)};
}

// Receives items first..first+count-1, by recv and by recv_into in turn, now and then late (so
// that some come while it is not receiving); how many were right, in order.
int take_blocks(ranks::Connection<Block> end, int first, int count) {
  int right = 0;
  Block into;
  for (int k = first; k < first + count; ++k) {
    if (k % 4 == 1) std::this_thread::sleep_for(5ms);
    if (k % 2 == 0) {
      right += end.recv() == block(k) ? 1 : 0;
    } else {
      end.recv_into(into);
      right += into == block(k) ? 1 : 0;
    }
  }
  return right;
}

int send_blocks(ranks::Connection<Block> end, int first, int count) {
  for (int k = first; k < first + count; ++k) end.send(block(k));
  return count;
}

// Both send a large item, then receive the other's: neither may wait for the other to receive.
int swap_blocks(ranks::Connection<Block> end, int mine, int theirs) {
  int right = 0;
  for (int r = 0; r < 5; ++r) {
    end.send(block(mine + r * 3));
    right += end.recv() == block(theirs + r * 3) ? 1 : 0;
  }
  return right;
}

// One listens at its end, then waits on a queue for what the other puts after its send.
int listen_then_wait(ranks::Connection<Block> end, ranks::Queue<int> q) {
  (void)end.poll();
  return q.get();
}
int send_then_put(ranks::Connection<Block> end, ranks::Queue<int> q) {
  std::this_thread::sleep_for(50ms);  // the other listens first
  end.send(block(7));
  q.put(1);
  return 1;
}

TEST(Pipe, large_items_between_engines_come_whole_and_in_order) {
  if (!ranks_test::can_have(2)) GTEST_SKIP() << "needs two engines at once";
  auto [a, b] = ranks::Pipe<Block>();
  ranks::Pool pool(2);
  constexpr int kCount = 24;
  auto receiver = pool.apply_async(take_blocks, b, 0, kCount);
  auto sender = pool.apply_async(send_blocks, a, 0, kCount);
  EXPECT_EQ(sender.get(), kCount);
  EXPECT_EQ(receiver.get(), kCount);
  // At once both ways.
  auto one = pool.apply_async(swap_blocks, a, 0, 1);
  auto other = pool.apply_async(swap_blocks, b, 1, 0);
  EXPECT_EQ(one.get(), 5);
  EXPECT_EQ(other.get(), 5);
  // A receiver that ends with items still coming: the program receives the rest, whole.
  auto early = pool.apply_async(take_blocks, b, 100, 2);
  auto more = pool.apply_async(send_blocks, a, 100, 6);
  EXPECT_EQ(early.get(), 2);
  EXPECT_EQ(more.get(), 6);
  for (int k = 102; k < 106; ++k) EXPECT_EQ(b.recv(), block(k)) << k;
  // A large item that waits for a task doing something else does not hold its sender.
  ranks::Queue<int> q;
  auto waits = pool.apply_async(listen_then_wait, b, q);
  auto puts = pool.apply_async(send_then_put, a, q);
  EXPECT_EQ(puts.get(), 1);
  EXPECT_EQ(waits.get(), 1);
  EXPECT_EQ(b.recv(), block(7));
  EXPECT_FALSE(a.poll());
  EXPECT_FALSE(b.poll());
}

TEST(Pipe, a_default_made_connection_names_no_pipe) {
  ranks::Connection<int> c;
  try {
    c.send(1);
    FAIL() << "send went through";
  } catch (const ranks::Error& e) {
    EXPECT_NE(std::string(e.what()).find("names no object"), std::string::npos) << e.what();
  }
}

}  // namespace
