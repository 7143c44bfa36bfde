#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace ranks {

/// Base of every error ranks throws. `what()` is one line: what went wrong and what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A wait with a deadline (`AsyncResult::get(timeout)`) that ran out before the result arrived.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// A task threw on an engine. The engine survives and goes on serving.
///
/// @code
/// try { pool.apply(f, 1); }
/// catch (const ranks::RemoteError& e) { std::cerr << e.type_name() << e.message(); }
/// @endcode
class RemoteError : public Error {
 public:
  RemoteError(std::string type_name, std::string message, int engine_id, std::ptrdiff_t index = -1);

  /// The exception's type as the engine saw it, e.g. "std::runtime_error".
  [[nodiscard]] const std::string& type_name() const noexcept { return type_name_; }
  /// The exception's `what()`.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The engine that ran the task.
  [[nodiscard]] int engine_id() const noexcept { return engine_id_; }
  /// For map-like calls, the input index that failed; -1 otherwise.
  [[nodiscard]] std::ptrdiff_t index() const noexcept { return index_; }

 private:
  std::string type_name_;
  std::string message_;
  int engine_id_;
  std::ptrdiff_t index_;
};

}  // namespace ranks
