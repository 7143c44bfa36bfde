#pragma once

// What every object the controller serves has in common: who asks (an engine or the controller
// itself), where answers go, the requests that wait (a get on an empty queue) until they can be
// answered, their deadline passes, their engine is lost or the program ends.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ranks/detail/objects.hpp"
#include "ranks/detail/pipe_inbox.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail::objects {

using Clock = std::chrono::steady_clock;

/// A call of the controller's own: answered in place, while its caller drives progress.
struct LocalCall {
  bool done = false;
  ObjectAnswer answer;
};

/// Who made a request: an engine (its id and the request's number) or the controller (local).
struct Caller {
  int engine = -1;
  std::uint64_t number = 0;
  std::shared_ptr<LocalCall> local;
  bool unanswered = false;  // its success is not answered (ObjectRequest::unanswered)
  bool silent = false;      // nothing is answered (a stray pipe item passed on by an engine)
};

/// An answer that says `engine` was lost, and what was lost with it.
ObjectAnswer lost_answer(const LostEngine& engine, const std::string& what);
/// An answer of status s (not kOk) that says what.
ObjectAnswer failed(Status s, std::string what);

/// Where answers go: the engine that asked (by its link) or the local caller; and how an object
/// reaches an engine unasked (a pipe's end that a task listens at).
class Replies {
 public:
  virtual void reply(const Caller& to, ObjectAnswer&& a) = 0;
  /// Sends engine `engine` a message of its own (nothing, if it is lost).
  virtual void tell(int engine, Message m) = 0;
  /// How engine `from` reaches engine `to` straight (rank -1: it cannot).
  [[nodiscard]] virtual StraightPath straight_path(int from, int to) const = 0;

 protected:
  ~Replies() = default;
};

/// A request that waits: who made it, what it asks, until when.
struct Waiting {
  Caller caller;
  ObjectRequest request;
  std::optional<Clock::time_point> deadline;
};

/// Requests that wait on one condition, first come first served.
class WaitList {
 public:
  void park(Caller caller, ObjectRequest&& r, Clock::time_point now);
  [[nodiscard]] bool empty() const { return list_.empty(); }
  Waiting& front() { return list_.front(); }
  Waiting take();
  /// Calls on_expired for (and removes) every request whose deadline is past.
  void expire(Clock::time_point now, const std::function<void(Waiting&)>& on_expired);
  /// Removes the requests of a lost engine (nobody is left to answer).
  void drop(int engine);
  /// Calls fn for (and removes) every request.
  void take_all(const std::function<void(Waiting&)>& fn);

 private:
  std::deque<Waiting> list_;
};

/// One object: its state, and the requests that wait on it.
class SharedObject {
 public:
  explicit SharedObject(Replies& replies) : replies_(replies) {}
  virtual ~SharedObject() = default;
  SharedObject(const SharedObject&) = delete;
  SharedObject& operator=(const SharedObject&) = delete;

  /// Answers r, now or once it can (it then waits on the object).
  virtual void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) = 0;
  /// Answers the waiting requests whose deadline passed.
  virtual void expire(Clock::time_point now) = 0;
  /// Engine e was lost: its waiting requests go; what it held is let go, and those who waited
  /// on it hear so.
  virtual void lose(const LostEngine& e) = 0;
  /// The program ends: every waiting request is answered (ranks::Closed).
  virtual void end() = 0;
  /// Whether requests wait on it (with or without a deadline).
  [[nodiscard]] virtual bool waiting() const = 0;
  /// Whether engine e holds something of it (a pipe's end, items taken from a joinable queue),
  /// so that its loss must be told to it.
  [[nodiscard]] virtual bool involves(int engine) const = 0;
  /// What it holds, for the dashboard: a queue's items, a dict's entries, a list's items (0
  /// where that means nothing).
  [[nodiscard]] virtual std::size_t size() const { return 0; }

 protected:
  void answer(const Caller& to, ObjectAnswer&& a) { replies_.reply(to, std::move(a)); }
  void ok(const Caller& to, std::int64_t value = 0) {
    ObjectAnswer a;
    a.value = value;
    answer(to, std::move(a));
  }
  [[nodiscard]] Replies& replies() const { return replies_; }
  void ok_data(const Caller& to, Bytes data) {
    ObjectAnswer a;
    a.data = std::move(data);
    answer(to, std::move(a));
  }

 private:
  Replies& replies_;
};

}  // namespace ranks::detail::objects
