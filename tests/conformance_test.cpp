// CPython's own tests of Queue, JoinableQueue, Pipe's Connections and the Manager's dict and list
// (Lib/test/_test_multiprocessing.py of Python 3.11: _TestQueue, _TestConnection, _TestPoll,
// _TestContainers), translated to ranks as far as they apply. Each test is named after the one
// it translates. Python's Event, with which the originals pace parent and child, is not in ranks
// yet: a Queue carries the same signal.
//
// Left out, and why:
//  - _TestQueue.test_no_import_lock_contention: Python's import lock; C++ has none.
//  - _TestQueue.test_queue_feeder_on_queue_feeder_error: a hook of Python's feeder thread. ranks
//    serializes an item in put itself, so a failure is put's exception (test_queue_feeder_donot_
//    stop_onexc below, adapted).
//  - _TestQueue.test_closed_queue_put_get_exceptions, get half: Python's close() means "this
//    process puts no more" and a later get in it raises at once. ranks's close() closes the queue
//    for every process (DESIGN.md): gets take what is left, then throw ranks::Closed. The put
//    half is translated.
//  - _TestConnection.test_connection, recv_bytes_into and fileno: a Connection<T> carries values
//    of T, not raw buffers, and has no file descriptor. Its recv_into(v) makes v the item,
//    reusing v's memory, where recv_bytes_into writes the bytes into the front of a buffer
//    (pipe_test's recv_into_reuses_the_value_it_is_given).
//  - _TestConnection.test_spawn_close: closing a Connection in Python closes that process's
//    copy; in ranks close() closes the end for every process that holds it, so closing the
//    child's end in the parent is another act.
//  - _TestConnection.test_sendbytes (offsets into a bytes object), test_*fd_transfer (file
//    descriptors), test_context (a with-statement), _TestListener*, _TestPicklingConnections:
//    nothing of the kind in ranks.
//  - _TestContainers.test_list's slices, `*=` and `+`, test_list_iter, test_dict_iter: a proxy
//    gives items() (one atomic read) instead of Python's slicing and live iterators;
//    test_namespace: Python's Manager().Namespace (ranks's engine namespaces are another thing).

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <numeric>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>
#include <vector>

#include "launch.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kTimeout1 = 100ms;  // TIMEOUT1
constexpr auto kTimeout3 = 100ms;  // TIMEOUT3

template <class F>
Clock::duration elapsed(F f) {
  const auto t0 = Clock::now();
  f();
  return Clock::now() - t0;
}

// --- _TestQueue ---

void child_put(ranks::Queue<int> queue, ranks::Queue<int> child_can_start,
               ranks::Queue<int> parent_can_continue) {
  (void)child_can_start.get();
  for (int i = 0; i < 6; ++i) (void)queue.get();
  parent_can_continue.put(1);
}

TEST(TestQueue, test_put) {
  const std::size_t kMaxsize = 6;
  ranks::Queue<int> queue(kMaxsize);
  ranks::Queue<int> child_can_start, parent_can_continue;
  ranks::Process proc(child_put, queue, child_can_start, parent_can_continue);
  proc.start();
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.full());
  queue.put(1);
  queue.put(2);                   // put(2, True)
  queue.put(3);                   // put(3, True, None)
  EXPECT_TRUE(queue.try_put(4));  // put(4, False)
  EXPECT_TRUE(queue.try_put(5));  // put(5, False, None)
  EXPECT_TRUE(queue.try_put(6));  // put_nowait(6)
  EXPECT_FALSE(queue.empty());
  EXPECT_TRUE(queue.full());
  EXPECT_FALSE(queue.try_put(7));                // put(7, False): Full
  EXPECT_THROW(queue.put(7, 0ms), ranks::Full);  // put_nowait(7)
  EXPECT_GE(elapsed([&] { EXPECT_THROW(queue.put(7, kTimeout1), ranks::Full); }), kTimeout1);
  EXPECT_GE(elapsed([&] { EXPECT_THROW(queue.put(7, kTimeout3), ranks::Full); }), kTimeout3);
  child_can_start.put(1);
  (void)parent_can_continue.get();
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.full());
  proc.join();
}

void child_get(ranks::Queue<int> queue, ranks::Queue<int> child_can_start,
               ranks::Queue<int> parent_can_continue) {
  (void)child_can_start.get();
  for (int i = 2; i <= 5; ++i) queue.put(i);
  parent_can_continue.put(1);
}

TEST(TestQueue, test_get) {
  ranks::Queue<int> queue;
  ranks::Queue<int> child_can_start, parent_can_continue;
  ranks::Process proc(child_get, queue, child_can_start, parent_can_continue);
  proc.start();
  EXPECT_TRUE(queue.empty());
  child_can_start.put(1);
  (void)parent_can_continue.get();
  proc.join();  // its puts are in (a task's puts are served before it ends)
  EXPECT_FALSE(queue.empty());
  EXPECT_EQ(queue.get(), 2);                     // get(True, None)
  EXPECT_EQ(queue.get(), 3);                     // get(True)
  EXPECT_EQ(queue.get(1s), 4);                   // get(timeout=1)
  EXPECT_EQ(queue.try_get(), std::optional(5));  // get_nowait()
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.try_get());               // get(False): Empty
  EXPECT_THROW(queue.get(0ms), ranks::Empty);  // get_nowait()
  EXPECT_GE(elapsed([&] { EXPECT_THROW(queue.get(kTimeout1), ranks::Empty); }), kTimeout1);
  EXPECT_GE(elapsed([&] { EXPECT_THROW(queue.get(kTimeout3), ranks::Empty); }), kTimeout3);
}

void child_fork(ranks::Queue<int> queue) {
  for (int i = 10; i < 20; ++i) queue.put(i);
}

TEST(TestQueue, test_fork) {
  ranks::Queue<int> queue;
  for (int i = 0; i < 10; ++i) queue.put(i);
  ranks::Process p(child_fork, queue);
  p.start();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(queue.get(), i);
  EXPECT_FALSE(queue.try_get());
  p.join();
}

TEST(TestQueue, test_qsize) {
  ranks::Queue<int> q;
  EXPECT_EQ(q.qsize(), 0u);
  q.put(1);
  EXPECT_EQ(q.qsize(), 1u);
  q.put(5);
  EXPECT_EQ(q.qsize(), 2u);
  (void)q.get();
  EXPECT_EQ(q.qsize(), 1u);
  (void)q.get();
  EXPECT_EQ(q.qsize(), 0u);
}

void child_task_done(ranks::JoinableQueue<int> q) {
  for (int obj = q.get(); obj >= 0; obj = q.get()) {  // iter(q.get, None): -1 is None
    std::this_thread::sleep_for(1ms);
    q.task_done();
  }
}

TEST(TestQueue, test_task_done) {
  ranks::JoinableQueue<int> queue;
  std::vector<decltype(ranks::Process(child_task_done, queue))> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(child_task_done, queue);
  for (auto& p : workers) p.start();
  for (int i = 0; i < 10; ++i) queue.put(i);
  queue.join();
  for (std::size_t i = 0; i < workers.size(); ++i) queue.put(-1);
  for (auto& p : workers) p.join();
}

TEST(TestQueue, test_timeout) {
  ranks::Queue<int> q;
  EXPECT_GE(elapsed([&] { EXPECT_THROW(q.get(200ms), ranks::Empty); }), 100ms);
}

struct NotSerializable {
  std::string s;
  template <class Archive>
  void serialize(Archive&, unsigned) {
    throw std::runtime_error("NotSerializable cannot be saved");
  }
  bool operator==(const NotSerializable&) const = default;
};

TEST(TestQueue, test_queue_feeder_donot_stop_onexc) {
  // Python's feeder thread swallows the error and goes on; ranks's put throws it, and the queue
  // goes on the same.
  ranks::Queue<std::optional<NotSerializable>> q;
  EXPECT_THROW(q.put(NotSerializable{}), std::runtime_error);
  q.put(std::nullopt);
  EXPECT_FALSE(q.get(10s).has_value());

  ranks::Queue<std::optional<NotSerializable>> one(1);  // bpo-33078: the size stays right
  EXPECT_THROW(one.put(NotSerializable{}), std::runtime_error);
  one.put(std::nullopt);
  EXPECT_EQ(one.qsize(), 1u);
  EXPECT_FALSE(one.get(10s).has_value());
  EXPECT_TRUE(one.empty());
}

TEST(TestQueue, test_closed_queue_put_get_exceptions) {
  ranks::Queue<std::string> q;
  ranks::JoinableQueue<std::string> jq;
  q.close();
  jq.close();
  EXPECT_THROW(q.put("foo"), ranks::Closed);
  EXPECT_THROW(jq.put("foo"), ranks::Closed);
  EXPECT_THROW(q.get(), ranks::Closed);  // nothing was left in it
  EXPECT_THROW(jq.get(), ranks::Closed);
}

// --- _TestConnection ---

const std::string kSentinel = "";  // SENTINEL: latin('')

void echo(ranks::Connection<std::string> conn) {
  for (std::string msg = conn.recv(); msg != kSentinel; msg = conn.recv()) conn.send(msg);
  conn.close();
}

TEST(TestConnection, test_connection) {
  auto [conn, child_conn] = ranks::Pipe<std::string>();
  ranks::Process p(echo, child_conn);
  p.start();
  const std::string msg = "hello world";
  std::string longmsg;
  for (int i = 0; i < 10; ++i) longmsg += msg;
  conn.send(msg);
  EXPECT_EQ(conn.recv(), msg);
  conn.send(longmsg);
  EXPECT_EQ(conn.recv(), longmsg);

  EXPECT_FALSE(conn.poll());
  EXPECT_FALSE(conn.poll(-1ms));  // a negative timeout: no wait
  EXPECT_GE(elapsed([&] { EXPECT_FALSE(conn.poll(kTimeout1)); }), kTimeout1);
  conn.send("None");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(conn.poll(kTimeout1));
  EXPECT_EQ(conn.recv(), "None");

  const std::string really_big_msg(16 << 20, 'X');  // 16 MiB
  conn.send(really_big_msg);
  EXPECT_EQ(conn.recv(), really_big_msg);

  conn.send(kSentinel);                      // tell the child to quit
  EXPECT_THROW(conn.recv(), ranks::Closed);  // EOFError: it closed its end
  p.join();
}

TEST(TestConnection, test_duplex_false) {
  auto [reader, writer] = ranks::Pipe<int>(false);
  writer.send(1);
  EXPECT_EQ(reader.recv(), 1);
  EXPECT_THROW(reader.send(2), ranks::Error);  // OSError
  EXPECT_THROW(writer.recv(), ranks::Error);
  EXPECT_THROW(writer.poll(), ranks::Error);
}

// --- _TestPoll ---

TEST(TestPoll, test_empty_string) {
  auto [a, b] = ranks::Pipe<std::string>();
  EXPECT_FALSE(a.poll());
  b.send("");
  EXPECT_TRUE(a.poll());
  EXPECT_TRUE(a.poll());
}

const std::vector<std::string> kStrings{"hello", "", "a", "b", "", "bye", "", "lop"};

void child_strings(ranks::Connection<std::string> conn) {
  for (const auto& s : kStrings) {
    std::this_thread::sleep_for(20ms);
    conn.send(s);
  }
  conn.close();
}

TEST(TestPoll, test_strings) {
  auto [a, b] = ranks::Pipe<std::string>();
  ranks::Process p(child_strings, b);
  p.start();
  for (const auto& s : kStrings) {
    for (int i = 0; i < 200; ++i)
      if (a.poll(10ms)) break;
    EXPECT_EQ(a.recv(), s);
  }
  p.join();
}

void child_boundaries(ranks::Connection<std::string> r) { (void)r.poll(5s); }

TEST(TestPoll, test_boundaries) {
  auto [r, w] = ranks::Pipe<std::string>(false);
  ranks::Process p(child_boundaries, r);
  p.start();
  std::this_thread::sleep_for(200ms);
  w.send("first");
  w.send("second");
  w.close();
  p.join();
  EXPECT_EQ(r.recv(), "first");  // polling took nothing, nor part of anything
  EXPECT_EQ(r.recv(), "second");
}

void child_dont_merge(ranks::Connection<std::string> b) {
  b.send("a");
  b.send("b");
  b.send("cd");
}

TEST(TestPoll, test_dont_merge) {
  auto [a, b] = ranks::Pipe<std::string>();
  EXPECT_FALSE(a.poll(0ms));
  EXPECT_FALSE(a.poll(100ms));
  ranks::Process p(child_dont_merge, b);
  p.start();
  EXPECT_EQ(a.recv(), "a");
  EXPECT_TRUE(a.poll(1s));
  EXPECT_TRUE(a.poll(1s));
  EXPECT_EQ(a.recv(), "b");
  EXPECT_TRUE(a.poll(1s));
  EXPECT_TRUE(a.poll(1s));
  EXPECT_TRUE(a.poll(0ms));
  EXPECT_EQ(a.recv(), "cd");
  p.join();
}

// --- _TestContainers ---

std::vector<int> range(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(TestContainers, test_list) {
  ranks::Manager manager;
  auto a = manager.list<int>(range(10));
  EXPECT_EQ(a.items(), range(10));
  auto b = manager.list<int>();
  EXPECT_EQ(b.items(), std::vector<int>{});
  b.extend(range(5));
  EXPECT_EQ(b.items(), range(5));
  EXPECT_EQ(b.at(2), 2);
  b.extend(b.items());  // b *= 2
  EXPECT_EQ(b.items(), (std::vector<int>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4}));
  EXPECT_EQ(a.items(), range(10));
  auto e = manager.list<ranks::ListProxy<int>>({a, b});  // proxies in a list
  std::vector<std::vector<int>> inner;
  for (const auto& l : e.items()) inner.push_back(l.items());
  EXPECT_EQ(inner, (std::vector<std::vector<int>>{range(10), {0, 1, 2, 3, 4, 0, 1, 2, 3, 4}}));
  auto f = manager.list<ranks::ListProxy<int>>({a});
  a.append(10);  // 'hello' in Python: a list holds one type here
  std::vector<int> want = range(10);
  want.push_back(10);
  EXPECT_EQ(f.at(0).items(), want);
}

TEST(TestContainers, test_list_proxy_in_list) {
  ranks::Manager manager;
  std::vector<ranks::ListProxy<int>> inner;
  for (int i = 0; i < 3; ++i) inner.push_back(manager.list<int>(range(3)));
  auto a = manager.list<ranks::ListProxy<int>>(inner);
  for (const auto& l : a.items()) EXPECT_EQ(l.items(), range(3));
  a.at(0).set(-1, 55);
  EXPECT_EQ(a.at(0).items(), (std::vector<int>{0, 1, 55}));
  for (int i = 1; i < 3; ++i) EXPECT_EQ(a.at(i).items(), range(3));
  EXPECT_EQ(a.at(1).pop(), 2);
  EXPECT_EQ(a.at(1).size(), 2u);
  for (int i = 0; i < 3; i += 2) EXPECT_EQ(a.at(i).size(), 3u);
}

TEST(TestContainers, test_dict) {
  ranks::Manager manager;
  auto d = manager.dict<int, std::string>();
  std::map<int, std::string> want;
  for (int i = 65; i < 70; ++i) {
    d.set(i, std::string(1, static_cast<char>(i)));
    want[i] = std::string(1, static_cast<char>(i));
  }
  const auto items = d.items();
  const std::map<int, std::string> copy(items.begin(), items.end());  // d.copy()
  EXPECT_EQ(copy, want);
  EXPECT_EQ(d.keys(), (std::vector<int>{65, 66, 67, 68, 69}));
  EXPECT_EQ(d.values(), (std::vector<std::string>{"A", "B", "C", "D", "E"}));
}

TEST(TestContainers, test_dict_proxy_nested) {
  ranks::Manager manager;
  auto pets = manager.dict<std::string, int>();
  pets.set("ferrets", 2);
  pets.set("hamsters", 4);
  auto supplies = manager.dict<std::string, int>();
  supplies.set("water", 10);
  supplies.set("feed", 3);
  auto d = manager.dict<std::string, ranks::DictProxy<std::string, int>>();
  d.set("pets", pets);
  d.set("supplies", supplies);
  EXPECT_EQ(supplies.get("water"), 10);
  EXPECT_EQ(d.get("supplies").get("water"), 10);
  d.get("supplies").set("blankets", 5);
  EXPECT_EQ(supplies.get("blankets"), 5);
  EXPECT_EQ(d.get("supplies").get("blankets"), 5);
  d.get("supplies").set("water", 7);
  EXPECT_EQ(supplies.get("water"), 7);
  EXPECT_EQ(d.get("pets").get("ferrets"), 2);
  d.clear();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(supplies.get("water"), 7);  // the inner dicts live on
  EXPECT_EQ(pets.get("hamsters"), 4);
  auto l = manager.list<ranks::DictProxy<std::string, int>>({pets, supplies});
  l.at(0).set("marmots", 1);
  EXPECT_EQ(pets.get("marmots"), 1);
  EXPECT_EQ(l.at(0).get("marmots"), 1);
  EXPECT_EQ(l.at(-1).get("feed"), 3);
}

TEST(TestContainers, test_nested_queue) {
  ranks::Manager manager;
  auto a = manager.list<ranks::Queue<int>>();  // a queue inside a list
  a.append(ranks::Queue<int>());
  a.at(0).put(123);
  EXPECT_EQ(a.at(0).get(), 123);
  auto b = manager.dict<int, ranks::Queue<int>>();  // a queue inside a dict
  b.set(0, ranks::Queue<int>());
  b.get(0).put(456);
  EXPECT_EQ(b.get(0).get(), 456);
}

}  // namespace
