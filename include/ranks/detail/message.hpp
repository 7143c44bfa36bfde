#pragma once

// How a call becomes a task message: the header, once, then the callable's state and the
// arguments; large contiguous arguments travel as attachments, read where they lie.

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/progress.hpp"
#include "ranks/detail/registry.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// No value: the callable of a task whose type says everything (pull, push, a Process), and
/// what a push, an execute or a scatter returns from each engine.
struct Nothing {};

/// Writes a task message into w (an empty buffer): its header, the callable's state, then
/// whatever `payload` writes.
template <class Task, class F, class Payload>
void write_message(Writer& w, const F& f, Payload&& payload) {
  write_header(w, task_header<Task>(f));
  encode_callable(w, f);
  payload(w);
}

/// A task message with everything in its bytes.
template <class Task, class F, class Payload>
Bytes make_message(const F& f, Payload&& payload) {
  Bytes msg;
  Writer w(msg);
  write_message<Task>(w, f, std::forward<Payload>(payload));
  return msg;
}

/// A task to be cut into several messages (one per slot of a static call): its header, and
/// the callable's state followed by whatever `payload` writes.
template <class Task, class F, class Payload>
TaskBody task_body(const F& f, Payload&& payload) {
  return task_body<Task>([](Writer&) {}, f, std::forward<Payload>(payload));
}

/// As task_body, with what `prefix` writes before the callable's state (for a task type that
/// reads it before its inner task does).
template <class Task, class Prefix, class F, class Payload>
TaskBody task_body(Prefix&& prefix, const F& f, Payload&& payload) {
  TaskBody body{task_header<Task>(f), {}};
  Writer w(body.state);
  prefix(w);
  encode_callable(w, f);
  payload(w);
  return body;
}

/// The task type of f(args...) for the arguments as given.
template <class F, class... Args>
using ApplyTaskFor = ApplyTask<F, wire_t<Args>...>;

/// The message of Task with callable f and arguments args, reading large contiguous arguments
/// (vectors, strings) in place as attachments: the arguments must outlive the send (see
/// Borrowed).
template <class Task, class F, class... Args>
Message task_message(const F& f, const Args&... args) {
  Message m;
  Writer w(m.bytes, &m.attachments);
  write_message<Task>(w, f, [&](Writer& out) { (encode(out, wire_value(args)), ...); });
  return m;
}

/// What a message keeps of an argument: a view (std::span, std::string_view) itself, so the
/// memory it shows is lent until the reply; else the value.
template <class T>
using kept_t = std::conditional_t<is_view_v<std::remove_cvref_t<T>>, std::remove_cvref_t<T>,
                                  wire_t<std::remove_cvref_t<T>>>;

/// Keeps an argument: a view as it is; a value moved from an rvalue, else copied, its large
/// contiguous data written to huge pages (a fresh 64 MiB block faults in 4 KiB pages at a
/// quarter of the speed of the copy itself).
template <class T>
kept_t<T> kept(T&& v) {
  using V = kept_t<T>;
  if constexpr (is_view_v<V>) {
    return v;
  } else if constexpr (std::is_same_v<std::remove_cvref_t<T>, V> &&
                       (vector_kind<V>::raw || is_string<V>::value)) {
    if constexpr (std::is_lvalue_reference_v<T>) {
      V out;
      out.reserve(v.size());
      prefer_huge_pages(out.data(), v.size() * sizeof(typename V::value_type));
      out.assign(v.begin(), v.end());
      return out;
    } else {
      return V(std::forward<T>(v));
    }
  } else {
    return V(std::forward<T>(v));
  }
}

/// As task_message, for a call that returns before it is sent: arguments with large attachments
/// are kept with the message, moved in where the caller gave them up; a view's memory is lent
/// (the caller keeps it until the reply).
template <class Task, class F, class... Args>
Message task_message_owned(const F& f, Args&&... args) {
  Message m = task_message<Task>(f, args...);
  if (m.attachments.empty()) return m;  // everything is in the message's bytes already
  auto held =
      std::make_shared<const std::tuple<kept_t<Args>...>>(kept(std::forward<Args>(args))...);
  m = std::apply([&](const auto&... a) { return task_message<Task>(f, a...); }, *held);
  m.keep = std::move(held);
  return m;
}

/// The message of f(args...), its large arguments read in place (see task_message).
template <class F, class... Args>
Message apply_message(const F& f, const Args&... args) {
  return task_message<ApplyTaskFor<F, Args...>>(f, args...);
}

/// The message of f(args...), its large arguments kept with it (see task_message_owned).
template <class F, class... Args>
Message apply_message_owned(const F& f, Args&&... args) {
  return task_message_owned<ApplyTaskFor<F, Args...>>(f, std::forward<Args>(args)...);
}

/// Lends a caller's arguments to a message: the destructor waits until MPI no longer reads them
/// (at once, in practice: the reply that the caller waited for came after they were received).
class Borrowed {
 public:
  Borrowed() = default;
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  ~Borrowed() {
    if (!token_) return;
    std::weak_ptr<const void> gone = token_;
    token_.reset();
    try {
      wait_until([&gone] { return gone.expired(); });
    } catch (...) {  // no controller left: nothing is sending
    }
  }
  /// Ties msg's attachments to this loan (a message without attachments needs none).
  void lend(Message& msg) {
    if (msg.attachments.empty()) return;
    token_ = std::make_shared<int>(0);
    msg.keep = token_;
  }

 private:
  std::shared_ptr<const void> token_;
};

}  // namespace ranks::detail
