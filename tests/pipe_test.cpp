// Pipe and Connection: between the program and a process, between two engines, one-way pipes,
// poll, close, timeouts, large items, and misuse.

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
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
