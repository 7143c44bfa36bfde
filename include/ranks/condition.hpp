#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "ranks/synchronize.hpp"

/// @file
/// ranks::Condition, Python's multiprocessing.Condition.

namespace ranks {

/// Python's multiprocessing.Condition, over a Lock or an RLock (by default a new RLock, as
/// Python's): wait() gives the lock back while it waits for a notify, and takes it again before
/// it returns. Lockable itself (it takes its lock). notify(n) wakes the n that have waited
/// longest, exactly (a notify with nobody waiting does nothing).
///
/// @code
/// void consumer(ranks::Condition cond, ranks::Value<int> ready) {
///   std::unique_lock g(cond);
///   cond.wait_for(std::chrono::seconds(5), [&] { return ready.load() > 0; });
/// }
///
/// ranks::Lock lock;
/// ranks::Condition cond(lock);   // wait(), wait_for(1s, pred), notify(n), notify_all()
/// ranks::Value<int> ready;
/// ranks::Process c(consumer, cond, ready);
/// c.start();
/// { std::scoped_lock g(cond); ready.store(1); cond.notify_all(); }
/// @endcode
class Condition : public detail::SyncHandle {
 public:
  /// Over a new RLock (Python's `Condition()`).
  Condition() : Condition(RLock()) {}
  /// Over this Lock (Python's `Condition(lock)`): taking the condition takes the lock.
  explicit Condition(const Lock& lock) : Condition(lock, 0) {}
  /// Over this RLock.
  explicit Condition(const RLock& lock) : Condition(lock, 0) {}

  /// Takes its lock, waiting as long as it takes (Lockable, with try_lock and unlock).
  void lock() { (void)sync_lock(detail::Op::kAcquire, "ranks::Condition::lock"); }
  /// Takes its lock if it is free now.
  bool try_lock() { return sync_lock(detail::Op::kAcquire, "ranks::Condition::try_lock", 0).ok; }
  /// Gives its lock back.
  void unlock() { (void)sync_lock(detail::Op::kUnlock, "ranks::Condition::unlock"); }
  /// Python's acquire(): lock(), true.
  bool acquire() {
    lock();
    return true;
  }
  /// Python's release(): unlock().
  void release() { unlock(); }

  /// Gives the lock back (all of an RLock's depth), waits for a notify, takes the lock again.
  /// True. The lock not held by this thread: ranks::Error.
  bool wait() { return wait_ns(-1); }
  /// As wait, at most `timeout`: false if no notify came by then.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_ns(detail::timeout_ns(timeout));
  }
  /// Waits until pred() holds (checked first, then after each wait): C++'s wait(lock, pred).
  template <class Predicate>
  void wait(Predicate pred) {
    while (!pred()) wait();
  }
  /// Python's wait_for(predicate, timeout): waits until pred() holds or the timeout passes;
  /// what pred() last gave.
  template <class Rep, class Period, class Predicate>
  bool wait_for(std::chrono::duration<Rep, Period> timeout, Predicate pred) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    bool result = pred();
    while (!result) {
      const auto left = end - std::chrono::steady_clock::now();
      if (left <= left.zero()) break;
      wait(left);
      result = pred();
    }
    return result;
  }
  /// Wakes at most n of those waiting, those that have waited longest. The lock not held by this
  /// thread: ranks::Error.
  void notify(std::size_t n = 1) { (void)notify_ns(n, "ranks::Condition::notify"); }
  /// Wakes every one of those waiting. The lock not held by this thread: ranks::Error.
  void notify_all() {
    (void)notify_ns(std::numeric_limits<std::uint32_t>::max(), "ranks::Condition::notify_all");
  }

  /// For Boost.Serialization: the handle (the condition and its lock) travels.
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    SyncHandle::serialize(ar, version);
    ar& lock_;
  }

 private:
  Condition(const detail::LockHandle& lock, int /*tag*/)
      : SyncHandle(detail::make_object(detail::ObjectKind::kCondition, 0, "ranks::Condition")),
        lock_(lock.id_) {}
  detail::SyncResult sync_lock(detail::Op op, const char* who, std::int64_t timeout = -1,
                               std::uint64_t first = 0) const {
    detail::SyncCall c;
    c.op = op;
    c.timeout_ns = timeout;
    c.first = first;
    return detail::sync_call(lock_, c, who);
  }
  void check_owned(const char* who) const {
    if (!sync_lock(detail::Op::kOwned, who).ok)
      throw Error(std::string(who) +
                  ": this thread does not hold the condition's lock; take it first "
                  "(std::unique_lock g(cond), or cond.acquire())");
  }
  bool wait_ns(std::int64_t timeout) {
    const char* who = "ranks::Condition::wait";
    check_owned(who);
    const auto place = static_cast<std::uint64_t>(sync(detail::Op::kConditionEnter, who).value);
    const auto depth = static_cast<std::uint64_t>(sync_lock(detail::Op::kUnlockAll, who).value);
    bool notified = false;
    try {
      notified = sync(detail::Op::kConditionWait, who, timeout, place).ok;
    } catch (...) {
      try {
        (void)sync_lock(detail::Op::kAcquire, who, -1, depth);
      } catch (...) {  // the program ended: the first error says so
      }
      throw;
    }
    (void)sync_lock(detail::Op::kAcquire, who, -1, depth);
    return notified;
  }
  std::int64_t notify_ns(std::uint64_t n, const char* who) {
    check_owned(who);
    return sync(detail::Op::kNotify, who, -1, n).value;
  }

  detail::ObjectId lock_;
};

}  // namespace ranks
