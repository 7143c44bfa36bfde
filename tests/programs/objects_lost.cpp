// Shared objects when a process that uses them is lost, under a launch that survives a lost
// engine (mpirun --enable-recovery, spawned engines, a started cluster). Each mode prints what it
// checked and exits 0 only if every check held; a failed check says which on stderr, exits 1.
#include <signal.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>

#include "checks.hpp"

using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Sends its engine's id, then dies.
void send_and_die(ranks::Connection<int> end) {
  end.send(ranks::engine_id());
  std::this_thread::sleep_for(50ms);  // the send is on its way (it does not wait to be answered)
  std::raise(SIGKILL);
}

// The other end of a pipe dies: what it sent is received, then recv throws EngineLost naming it.
int mode_pipe() {
  auto [mine, theirs] = ranks::Pipe<int>();
  ranks::Process p(send_and_die, theirs);
  p.start();
  const int id = mine.recv(30s);
  try {
    (void)mine.recv(60s);
    check(false, "recv after the other end's process died returned");
  } catch (const ranks::EngineLost& e) {
    check(e.engine_id() == id, "EngineLost names engine " + std::to_string(e.engine_id()) +
                                   ", the end was used by engine " + std::to_string(id));
    check(contains(e.what(), "ranks::Connection::recv"), std::string("the call: ") + e.what());
    check(e.signal() == SIGKILL, "the signal: " + std::to_string(e.signal()));
  } catch (const ranks::Empty&) {
    check(false, "recv timed out: the loss was not told to the pipe");
  }
  check(mine.poll(), "poll after the loss says recv would not wait");
  p.join();
  std::cout << "pipe: the other end's loss is EngineLost, naming engine " << id << std::endl;
  return 0;
}

// Takes two items and dies before marking them done.
void take_two_and_die(ranks::JoinableQueue<int> q) {
  (void)q.get();
  (void)q.get();
  std::raise(SIGKILL);
}

// A taker of a JoinableQueue dies holding items: join says so, the other items stay.
int mode_joinable() {
  ranks::JoinableQueue<int> q;
  for (int i = 0; i < 5; ++i) q.put(i);
  ranks::Process p(take_two_and_die, q);
  p.start();
  p.join();
  try {
    q.join(60s);
    check(false, "join returned though two items will never be done");
  } catch (const ranks::EngineLost& e) {
    check(contains(e.what(), "took 2 item(s) of this JoinableQueue"), e.what());
  }
  check(q.qsize() == 3, "the three items not taken stay: " + std::to_string(q.qsize()));
  for (int i = 2; i < 5; ++i) {
    check(q.get() == i, "item " + std::to_string(i));
    q.task_done();
  }
  std::cout << "joinable: a taker lost with two items makes join throw EngineLost; 3 items stayed"
            << std::endl;
  return 0;
}

int wait_for_one(ranks::Queue<int> q) { return q.get(); }

// A task waiting in get is ended: its waiting get goes with it, so the next item is not sent to
// the dead engine but waits for the next taker.
int mode_waiting() {
  ranks::Queue<int> q;
  ranks::Process p(wait_for_one, q);
  p.start();
  std::this_thread::sleep_for(300ms);  // its get waits
  p.terminate();
  p.join();
  q.put(42);
  const auto got = q.get(30s);
  check(got == 42, "the item put after the loss: " + std::to_string(got));
  std::cout << "waiting: a lost engine's waiting get took nothing" << std::endl;
  return 0;
}

void wait_for_ever(ranks::Queue<int> q) { (void)q.get(); }

// The program ends while a task waits on a queue: the wait ends (ranks::Closed), so that the
// engine stops and the program exits at once, its objects freed.
int mode_ending() {
  ranks::Queue<int> q;
  for (int i = 0; i < 1000; ++i) q.put(i);  // left in it
  ranks::Queue<int> empty;
  ranks::Process p(wait_for_ever, empty);
  p.start();
  std::this_thread::sleep_for(300ms);
  std::cout << "ending: the program ends while a task waits in get" << std::endl;
  return 0;
}

// Receives the first item, then dies while more come straight from the sender's engine.
void take_one_and_die(ranks::Connection<int> end) {
  (void)end.recv();
  std::this_thread::sleep_for(20ms);
  std::raise(SIGKILL);
}

// Sends numbers for `ms` milliseconds, a hundred at a time with a pause between (the load stays
// bounded however slow the build, a sanitizer's too); how many it sent.
int send_for(ranks::Connection<int> end, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  int n = 0;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 100; ++i) end.send(n++);
    std::this_thread::sleep_for(100us);
  }
  return n;
}

// The engine that a task sends a pipe's items straight to dies: the sender hears so, its items
// go through the controller from then on, and it ends as usual (nothing waits for the dead).
int mode_straight() {
  auto [to_receiver, at_receiver] = ranks::Pipe<int>();
  ranks::Process receiver(take_one_and_die, at_receiver);
  receiver.start();
  ranks::Process sender(send_for, to_receiver, 300);  // the receiver dies 20 ms after its first
  sender.start();
  check(sender.join(60s), "the sender did not end within 60 s of its receiver's death");
  check(sender.exitcode() == 0,
        "the sender's exit code: " + std::to_string(sender.exitcode().value_or(999)));
  check(receiver.join(30s) && receiver.exitcode() == -SIGKILL, "the receiver died of SIGKILL");
  // What reached the controller after the loss waits at the receiver's end, in order.
  int last = -1;
  int left = 0;
  bool ordered = true;
  while (at_receiver.poll()) {
    const int item = at_receiver.recv();
    ordered = ordered && item > last;
    last = item;
    ++left;
  }
  check(left > 0, "the items sent after the loss (through the controller) wait at the end");
  check(ordered, "the items left at the receiver's end are in order");
  std::cout << "straight: the sender ended after its receiver's death" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return ranks::run(argc, argv, [&] {
    int code = 64;
    if (mode == "pipe") code = mode_pipe();
    if (mode == "joinable") code = mode_joinable();
    if (mode == "waiting") code = mode_waiting();
    if (mode == "ending") code = mode_ending();
    if (mode == "straight") code = mode_straight();
    if (code == 64) {
      std::cerr << "objects_lost pipe|joinable|waiting|ending|straight" << std::endl;
      return code;
    }
    if (failures > 0) return 1;
    std::cout << mode << ": every check held" << std::endl;
    return code;
  });
}
