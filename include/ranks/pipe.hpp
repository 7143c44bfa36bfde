#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

#include "ranks/detail/objects.hpp"

/// @file
/// ranks::Pipe and ranks::Connection, Python's multiprocessing.Pipe.

namespace ranks {

/// One end of a Pipe (Python's multiprocessing.connection.Connection): what one end sends, the
/// other receives, in order. A handle that travels as a task's argument; the pipe lives until
/// the program ends.
///
/// @code
/// void child(ranks::Connection<Msg> end) {
///   end.send(Msg{42});
///   Msg reply = end.recv();
/// }
///
/// auto [left, right] = ranks::Pipe<Msg>();     // two ranks::Connection<Msg>, duplex
/// ranks::Process c(child, right);
/// c.start();
/// bool ready = left.poll(std::chrono::milliseconds(100));   // whether an item waits
/// Msg m = left.recv();                         // other end closed, nothing left: ranks::Closed
/// left.send(Msg{43});
/// left.close();
/// c.join();
/// @endcode
template <class T>
class Connection : public detail::ObjectHandle {
  static_assert(detail::object_item_v<T>, "a Pipe carries values: not references, not pointers");

 public:
  /// A handle to no pipe (made when a Connection is received as an argument); use Pipe<T>().
  Connection() = default;

  /// Sends an item to the other end. Throws ranks::Closed once either end was closed, and what
  /// the item's serialization throws (nothing is then sent). In a task, send does not wait to
  /// hear that the item went in: a send that failed fails the task at its next call on a shared
  /// object, or when it ends.
  /// An item with blocks of 64 KiB and more (a large vector or string) is sent from where it lies
  /// when it goes straight to another engine: send returns once they have left.
  void send(const T& item) {
    at_end(detail::request(detail::Op::kSend).unanswered_if(true).lending(item),
           "ranks::Connection::send");
  }
  /// Receives the next item, waiting until one comes. When the other end was closed and
  /// everything it sent has been received: ranks::Closed; when the process that used it was
  /// lost: ranks::EngineLost, naming it.
  T recv() { return recv_for(-1); }
  /// As recv, waiting at most `timeout`: then ranks::Empty.
  template <class Rep, class Period>
  T recv(std::chrono::duration<Rep, Period> timeout) {
    return recv_for(detail::timeout_ns(timeout));
  }
  /// Receives the next item into `item`, as Python's recv_bytes_into does: a vector or string of
  /// the size that comes is filled where it lies (no fresh memory to clear and fault in, which
  /// for items of megabytes costs as much as moving them). Otherwise as recv.
  void recv_into(T& item) { recv_into_for(item, -1, "ranks::Connection::recv_into"); }
  /// As recv_into, waiting at most `timeout`: then ranks::Empty.
  template <class Rep, class Period>
  void recv_into(T& item, std::chrono::duration<Rep, Period> timeout) {
    recv_into_for(item, detail::timeout_ns(timeout), "ranks::Connection::recv_into");
  }
  /// Whether recv would return at once (an item waits, or the other end is closed or lost).
  bool poll() { return poll_for(0); }
  /// As poll, waiting at most `timeout` for an item.
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return poll_for(detail::timeout_ns(timeout));
  }
  /// Closes this end: the other end receives what was sent, then ranks::Closed.
  void close() { at_end(detail::request(detail::Op::kCloseEnd), "ranks::Connection::close"); }

  /// For Boost.Serialization: the handle (which pipe, which end) travels, not the items.
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ObjectHandle::serialize(ar, version);
    ar& end_;
  }

 private:
  template <class U>
  friend std::pair<Connection<U>, Connection<U>> Pipe(bool duplex);
  Connection(detail::ObjectId id, std::int64_t end) : ObjectHandle(id), end_(end) {}

  T recv_for(std::int64_t timeout) {
    T item{};
    recv_into_for(item, timeout, "ranks::Connection::recv");
    return item;
  }
  // An item straight from another engine is decoded over `item` there, its large blocks
  // received into place; anything else comes as bytes.
  void recv_into_for(T& item, std::int64_t timeout, const char* who) {
    detail::ObjectAnswer a =
        at_end(detail::request(detail::Op::kRecv).waiting(timeout).decoding_over(item), who);
    if (a.in_place) return;
    detail::Reader r(a.data.data(), a.data.size());
    detail::decode(r, item);
  }
  bool poll_for(std::int64_t timeout) {
    return at_end(detail::request(detail::Op::kPoll).waiting(timeout), "ranks::Connection::poll")
               .value != 0;
  }
  /// A call at this end of the pipe.
  detail::ObjectAnswer at_end(detail::ObjectRequest r, const char* who) {
    r.index = end_;
    return call(std::move(r), who);
  }

  std::int64_t end_ = 0;
};

/// Python's multiprocessing.Pipe: two Connections. Duplex (the default): each end sends and
/// receives. Pipe<T>(false): the first end only receives, the second only sends, as Python's
/// Pipe(duplex=False) returns them. Made by the program (inside ranks::run, outside tasks).
///
/// @code
/// auto [left, right] = ranks::Pipe<Msg>();         // each end sends and receives
/// auto [recv_end, send_end] = ranks::Pipe<Msg>(false);
/// @endcode
template <class T>
std::pair<Connection<T>, Connection<T>> Pipe(bool duplex = true) {
  const detail::ObjectId id =
      detail::make_object(detail::ObjectKind::kPipe, duplex ? 1 : 0, "ranks::Pipe");
  return {Connection<T>(id, 0), Connection<T>(id, 1)};
}

}  // namespace ranks
