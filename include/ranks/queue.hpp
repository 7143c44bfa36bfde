#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

#include "ranks/detail/objects.hpp"

/// @file
/// ranks::Queue and ranks::JoinableQueue, Python's multiprocessing queues.

namespace ranks {

/// Python's multiprocessing.Queue: items of T, first in first out, put and got by the program and
/// by tasks on any engine, any host. Made by the program (inside ranks::run, outside tasks); a
/// handle, small and copied cheaply, that travels as an argument of Process, apply, map items
/// and a Pool's initializer (even to apply_async, where Python refuses it). The queue lives
/// until the program ends.
///
/// @code
/// void producer(ranks::Queue<std::string> q, int id) {
///   q.put("hello from " + std::to_string(id));
/// }
///
/// ranks::Queue<std::string> q;                 // unbounded; Queue<Job> jobs(100): bounded
/// ranks::Process p(producer, q, 7);
/// p.start();
/// std::string s = q.get();                     // "hello from 7"; q.get(2s) past 2 s: ranks::Empty
/// std::optional<std::string> o = q.try_get();  // nothing waiting: empty (Python's get_nowait)
/// q.close();                                   // later puts throw; gets take what is left
/// p.join();
/// @endcode
template <class T>
class Queue : public detail::ObjectHandle {
  static_assert(detail::object_item_v<T>, "a Queue holds values: not references, not pointers");

 public:
  /// An unbounded queue (Python's `Queue()`).
  Queue() : Queue(0) {}
  /// A queue that holds at most maxsize items: put waits while it is full (0: unbounded;
  /// Python's `Queue(maxsize)`).
  ///
  /// @code
  /// ranks::Queue<Job> jobs(100);   // put waits while 100 wait
  /// @endcode
  explicit Queue(std::size_t maxsize)
      : ObjectHandle(detail::make_object(detail::ObjectKind::kQueue, maxsize, "ranks::Queue")) {}

  /// Puts an item, waiting while the queue is full. Throws ranks::Closed after close(), and
  /// what the item's serialization throws (the queue is then unchanged).
  void put(const T& item) { put_for(item, -1); }
  /// As put, waiting at most `timeout` for room: then ranks::Full (the item was not put).
  ///
  /// @code
  /// jobs.put(job, std::chrono::seconds(1));   // still full after 1 s: ranks::Full
  /// @endcode
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put_for(item, detail::timeout_ns(timeout));
  }
  /// Puts the item if there is room now: false (nothing put) if the queue is full (Python's
  /// put_nowait, which raises queue.Full instead).
  bool try_put(const T& item) {
    try {
      put_for(item, 0);
      return true;
    } catch (const Full&) {
      return false;
    }
  }

  /// Takes the first item, waiting until there is one. After close(), once nothing is left:
  /// ranks::Closed.
  T get() { return get_for(-1); }
  /// As get, waiting at most `timeout`: then ranks::Empty.
  ///
  /// @code
  /// std::string s = q.get(std::chrono::seconds(2));   // nothing within 2 s: ranks::Empty
  /// @endcode
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_for(detail::timeout_ns(timeout));
  }
  /// The first item if there is one now (Python's get_nowait), else nothing.
  std::optional<T> try_get() {
    try {
      return get_for(0);
    } catch (const Empty&) {
      return std::nullopt;
    }
  }

  /// Items waiting now (others may put or get meanwhile: a hint, as Python's qsize is).
  [[nodiscard]] std::size_t qsize() const {
    return static_cast<std::size_t>(
        call(detail::request(detail::Op::kSize), "ranks::Queue::qsize").value);
  }
  /// Whether no item waits now (a hint, as qsize() is).
  [[nodiscard]] bool empty() const { return qsize() == 0; }
  /// Whether a bounded queue is full now (an unbounded one never is).
  [[nodiscard]] bool full() const {
    return call(detail::request(detail::Op::kFull), "ranks::Queue::full").value != 0;
  }
  /// Closes the queue for every process: later puts throw ranks::Closed; gets take what is left,
  /// then throw ranks::Closed; those waiting to put or (on an empty queue) to get are told so.
  void close() { call(detail::request(detail::Op::kClose), "ranks::Queue::close"); }

 protected:
  /// @cond INTERNAL
  explicit Queue(detail::ObjectId id) : ObjectHandle(id) {}
  /// @endcond

 private:
  void put_for(const T& item, std::int64_t timeout) {
    // Into an unbounded queue a task's put does not wait to hear that it went in (as Python's
    // feeder thread does not): it fails the task at its next call or when it ends, if it fails.
    call(detail::request(detail::Op::kPut)
             .waiting(timeout)
             .unanswered_if(id_.capacity == 0)
             .carrying(detail::to_blob(item)),
         "ranks::Queue::put");
  }
  T get_for(std::int64_t timeout) {
    return detail::from_blob<T>(
        call(detail::request(detail::Op::kGet).waiting(timeout), "ranks::Queue::get").data);
  }
};

/// Python's multiprocessing.JoinableQueue: a Queue whose consumers mark each item they got as
/// done (task_done), so that join() can wait until every item put has been done.
///
/// @code
/// void worker(ranks::JoinableQueue<Job> work) {
///   while (true) { Job j = work.get(); run(j); work.task_done(); }
/// }
/// ranks::JoinableQueue<Job> work;   // work.task_done() after each get; work.join() waits for all
/// for (const Job& j : jobs) work.put(j);
/// work.join();                      // every job is done
/// @endcode
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  /// An unbounded queue.
  JoinableQueue() : JoinableQueue(0) {}
  /// A queue that holds at most maxsize items (0: unbounded).
  explicit JoinableQueue(std::size_t maxsize)
      : Queue<T>(detail::make_object(detail::ObjectKind::kJoinableQueue, maxsize,
                                     "ranks::JoinableQueue")) {}

  /// Marks an item got earlier as done. More calls than items put: ranks::Error.
  void task_done() {
    this->call(detail::request(detail::Op::kTaskDone), "ranks::JoinableQueue::task_done");
  }
  /// Waits until every item put has been marked done. If a process that took items was lost
  /// before it marked them, those never will be: ranks::EngineLost, naming it.
  void join() { this->call(detail::request(detail::Op::kJoin), "ranks::JoinableQueue::join"); }
  /// As join, waiting at most `timeout`: false if items were still not done by then.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return this->call(detail::request(detail::Op::kJoin).waiting(detail::timeout_ns(timeout)),
                      "ranks::JoinableQueue::join")
               .value != 0;
  }
};

}  // namespace ranks
