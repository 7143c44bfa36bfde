#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ranks/detail/sync.hpp"
#include "ranks/error.hpp"

/// @file
/// Locks, semaphores and events that every process of a program shares: ranks::Lock,
/// ranks::RLock, ranks::Semaphore, ranks::BoundedSemaphore, ranks::Event.

namespace ranks {

/// A holder of a Lock, RLock or Semaphore that was lost (killed, crashed) while it held it: the
/// lock was given back, and this is who held it (from `holder_was_lost()`).
///
/// @code
/// std::scoped_lock g(lock);
/// if (auto lost = lock.holder_was_lost())
///   std::cerr << "engine " << lost->engine_id << " on " << lost->host << " died holding it\n";
/// @endcode
struct LostHolder {
  int engine_id = -1;  ///< the engine that held it
  std::string host;    ///< the host it ran on
  int pid = 0;         ///< its process id there
  int signal = 0;      ///< the signal that ended it (9 when it left no word)
};

class Condition;

namespace detail {

/// What the handles of objects in shared memory share: their calls.
class SyncHandle : public ObjectHandle {
 protected:
  using ObjectHandle::ObjectHandle;
  SyncResult sync(Op op, const char* who, std::int64_t timeout = -1,
                  std::uint64_t first = 0) const {
    SyncCall c;
    c.op = op;
    c.timeout_ns = timeout;
    c.first = first;
    return sync_call(id_, c, who);
  }
  std::optional<LostHolder> lost_holder(const char* who) const {
    SyncResult r = sync(Op::kHolderLost, who);
    if (r.lost.id < 0) return std::nullopt;
    return LostHolder{r.lost.id, std::move(r.lost.host), r.lost.pid, r.lost.signal};
  }
};

/// Lock and RLock: Lockable (std::scoped_lock, std::unique_lock), with Python's names too.
class LockHandle : public SyncHandle {
 public:
  /// Takes the lock, waiting as long as it takes. A Lock that this thread holds already:
  /// ranks::Error (it would wait for itself for ever); an RLock is taken again.
  void lock() { (void)sync(Op::kAcquire, who("ranks::Lock::lock", "ranks::RLock::lock")); }
  /// Takes the lock if it is free now.
  bool try_lock() { return take(0); }
  /// Takes the lock, waiting at most `timeout`: false if it was still held by then.
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return take(timeout_ns(timeout));
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> deadline) {
    return try_lock_for(deadline - Clock::now());
  }
  /// Gives the lock back. A Lock that nobody holds: ranks::Error; an RLock that this thread
  /// does not hold: ranks::Error. (A Lock may be released by another process than the one
  /// that took it, as Python's may.)
  void unlock() { (void)sync(Op::kUnlock, who("ranks::Lock::unlock", "ranks::RLock::unlock")); }

  /// Python's acquire(): lock(), true.
  bool acquire() {
    lock();
    return true;
  }
  /// Python's acquire(timeout=...): try_lock_for.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return try_lock_for(timeout);
  }
  /// Python's acquire(False): try_lock.
  bool acquire(bool block) { return block ? acquire() : try_lock(); }
  void release() { unlock(); }

  /// Whether a holder of this lock was lost (its process killed or crashed) while it held it,
  /// since anyone last asked: the lock was given back to the others then, and the first to ask
  /// after hears who it was (the next holder should check, and mend what the lost one may have
  /// left half done). Python leaves such a lock held for ever.
  std::optional<LostHolder> holder_was_lost() {
    return lost_holder(who("ranks::Lock::holder_was_lost", "ranks::RLock::holder_was_lost"));
  }

 protected:
  using SyncHandle::SyncHandle;

 private:
  friend class ranks::Condition;  // it waits on the lock it was given
  bool take(std::int64_t timeout) {
    return sync(Op::kAcquire, who("ranks::Lock::try_lock", "ranks::RLock::try_lock"), timeout).ok;
  }
  [[nodiscard]] const char* who(const char* lock, const char* rlock) const {
    return id_.kind == ObjectKind::kLock ? lock : rlock;
  }
};

}  // namespace detail

/// Python's multiprocessing.Lock, for every process of the program on any host: Lockable, so
/// std::scoped_lock and std::unique_lock take it. Not recursive (see RLock). A holder that is
/// lost gives it back (holder_was_lost says so). A handle: it travels as a task's argument.
///
/// Its calls (the standard's *Lockable*, and Python's names):
/// - `lock()`: takes it, waiting as long as it takes (Python's acquire()). Taken already by
///   this thread: ranks::Error (it would wait for itself for ever).
/// - `try_lock()`: takes it if it is free now; `try_lock_for(timeout)` and
///   `try_lock_until(deadline)`: waiting at most so long; false if it was still held.
/// - `unlock()`: gives it back (Python's release()). Held by nobody: ranks::Error. Another
///   process than the one that took it may release it, as in Python.
/// - `acquire()`, `acquire(timeout)`, `acquire(false)`, `release()`: Python's spellings.
/// - `holder_was_lost()`: whether a holder was lost (its process killed or crashed) while it
///   held it, since anyone last asked; the lock was given back then, and the first to ask after
///   hears who it was (a ranks::LostHolder), to mend what the lost one may have left half done.
///   Python leaves such a lock held for ever.
///
/// @code
/// void f(ranks::Lock l, int i) {
///   std::scoped_lock g(l);
///   std::cout << "hello world " << i << '\n';
/// }
/// ranks::Lock lock;   // Lockable: std::scoped_lock g(lock); try_lock(); try_lock_for(1s)
/// for (int i = 0; i < 10; ++i) ranks::Process(f, lock, i).start();
/// @endcode
class Lock : public detail::LockHandle {
 public:
  /// A new lock, free (Python's `Lock()`). Made by the program, inside ranks::run.
  Lock() : LockHandle(detail::make_object(detail::ObjectKind::kLock, 0, "ranks::Lock")) {}
};

/// Python's multiprocessing.RLock: a lock its holder may take again (and must release as often).
///
/// Its calls are Lock's (lock, try_lock, try_lock_for, try_lock_until, unlock, Python's acquire
/// and release, holder_was_lost), except that the thread that holds it may take it again, and
/// that unlock() by a thread that does not hold it is ranks::Error.
///
/// @code
/// ranks::RLock rlock;
/// std::scoped_lock outer(rlock);
/// std::scoped_lock inner(rlock);   // the holder may take it again
/// @endcode
class RLock : public detail::LockHandle {
 public:
  /// A new recursive lock, free (Python's `RLock()`).
  RLock() : LockHandle(detail::make_object(detail::ObjectKind::kRLock, 0, "ranks::RLock")) {}

 private:
  template <class T>
  friend class Array;
  explicit RLock(detail::ObjectId id) : LockHandle(id) {}
};

/// Python's multiprocessing.Semaphore: a count that acquire takes one from (waiting while it is
/// 0) and release gives one back to. What a lost engine acquired and did not release is given
/// back (holder_was_lost says so).
///
/// @code
/// ranks::Semaphore slots(3);   // acquire(), release(), try_acquire_for(1s)
/// void task(ranks::Semaphore slots) { std::scoped_lock g(slots); /* at most 3 at once */ }
/// @endcode
class Semaphore : public detail::SyncHandle {
 public:
  /// A count of `value` (at most 2147483647: more is ranks::Error).
  explicit Semaphore(std::size_t value = 1)
      : Semaphore(detail::ObjectKind::kSemaphore, value, "ranks::Semaphore") {}

  /// Takes one, waiting as long as it takes.
  void acquire() { (void)sync(detail::Op::kAcquire, "ranks::Semaphore::acquire"); }
  /// Takes one if there is one now.
  bool try_acquire() { return take(0); }
  /// Takes one, waiting at most `timeout`: false if none came by then.
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return take(detail::timeout_ns(timeout));
  }
  /// Python's acquire(timeout=...).
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return try_acquire_for(timeout);
  }
  /// Gives one back (a BoundedSemaphore past its initial value: ranks::Error).
  void release() { (void)sync(detail::Op::kUnlock, "ranks::Semaphore::release"); }
  /// Its value now (Python's get_value; others may change it meanwhile).
  [[nodiscard]] std::size_t get_value() const {
    return static_cast<std::size_t>(sync(detail::Op::kOwned, "ranks::Semaphore::get_value").value);
  }
  /// BasicLockable, for std::scoped_lock: acquire and release.
  void lock() { acquire(); }
  /// As release(), for std::scoped_lock.
  void unlock() { release(); }
  /// As Lock's: who held one and was lost while holding it, since anyone last asked.
  std::optional<LostHolder> holder_was_lost() {
    return lost_holder("ranks::Semaphore::holder_was_lost");
  }

 protected:
  /// @cond INTERNAL
  Semaphore(detail::ObjectKind kind, std::size_t value, const char* who)
      : SyncHandle(detail::make_object(kind, checked(value, who), who)) {}
  /// @endcond

 private:
  static std::uint64_t checked(std::size_t value, const char* who) {
    if (value > 0x7fffffffU)
      throw Error(std::string(who) + ": a value of " + std::to_string(value) +
                  " is more than a semaphore counts to (2147483647)");
    return value;
  }
  bool take(std::int64_t timeout) {
    return sync(detail::Op::kAcquire, "ranks::Semaphore::try_acquire", timeout).ok;
  }
};

/// Python's multiprocessing.BoundedSemaphore: a Semaphore whose release past its initial value
/// is an error (ranks::Error), not a larger count.
class BoundedSemaphore : public Semaphore {
 public:
  /// A count of `value`, which release() may not pass.
  explicit BoundedSemaphore(std::size_t value = 1)
      : Semaphore(detail::ObjectKind::kBoundedSemaphore, value, "ranks::BoundedSemaphore") {}
};

/// Python's multiprocessing.Event: a flag that processes wait for.
///
/// @code
/// ranks::Event done;               // set(), clear(), is_set(), wait(), wait(1s) -> bool
/// ranks::Process p([](ranks::Event e) { e.wait(); /* go */ }, done);
/// p.start();
/// done.set();
/// @endcode
class Event : public detail::SyncHandle {
 public:
  /// A new flag, not set.
  Event() : SyncHandle(detail::make_object(detail::ObjectKind::kEvent, 0, "ranks::Event")) {}
  /// Sets the flag, waking everyone who waits for it.
  void set() { (void)sync(detail::Op::kEventSet, "ranks::Event::set"); }
  /// Unsets the flag: later waits wait again.
  void clear() { (void)sync(detail::Op::kEventClear, "ranks::Event::clear"); }
  /// Whether the flag is set now.
  [[nodiscard]] bool is_set() const {
    return sync(detail::Op::kEventIsSet, "ranks::Event::is_set").ok;
  }
  /// Waits until the flag is set; true.
  bool wait() { return sync(detail::Op::kEventWait, "ranks::Event::wait").ok; }
  /// Waits at most `timeout`: whether the flag is set.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return sync(detail::Op::kEventWait, "ranks::Event::wait", detail::timeout_ns(timeout)).ok;
  }
};

}  // namespace ranks
