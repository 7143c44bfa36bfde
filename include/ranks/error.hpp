#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ranks {

namespace detail {
/// How every message of ranks begins, thrown or written on stderr.
inline constexpr std::string_view kPrefix = "ranks: ";
}  // namespace detail

/// Base of every error ranks throws. `what()` is one line: "ranks: ", what went wrong and what
/// to do.
class Error : public std::runtime_error {
 public:
  /// `message` says what went wrong and what to do; what() puts "ranks: " before it.
  explicit Error(const std::string& message)
      : std::runtime_error(std::string(detail::kPrefix) + message) {}

 protected:
  struct Verbatim {};
  /// what() is exactly `what` (for errors that come from elsewhere, as a task's does).
  Error(Verbatim, const std::string& what) : std::runtime_error(what) {}
};

/// A wait with a deadline (`AsyncResult::get(timeout)`) that ran out before the result arrived.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// Work that AsyncResult::abort() dropped or stopped before it finished.
class Aborted : public Error {
 public:
  using Error::Error;
};

/// A wait for an item that ran out of time: `Queue::get(timeout)`, `Connection::recv(timeout)`
/// (Python's queue.Empty).
class Empty : public Error {
 public:
  using Error::Error;
};

/// A bounded queue that stayed full for the whole of `Queue::put(item, timeout)` (Python's
/// queue.Full). The item was not put.
class Full : public Error {
 public:
  using Error::Error;
};

/// A queue that was closed, or a Pipe whose other end was closed: a put or send after it, a get
/// or recv once nothing is left.
class Closed : public Error {
 public:
  using Error::Error;
};

/// A Barrier that is broken: aborted, reset while parties waited, a wait that timed out, or a
/// party lost. Every party waiting at it hears it, and every later wait until reset()
/// (Python's threading.BrokenBarrierError).
class BrokenBarrier : public Error {
 public:
  using Error::Error;
};

/// A task that was to run after others (TaskOptions::after, ::follow) cannot: one of them
/// failed or was aborted, or those it follows ran on different engines (IPython's
/// ImpossibleDependency). Its own dependents fail the same way.
class DependencyError : public Error {
 public:
  using Error::Error;
};

/// A call into MPI failed. Keeps the routine, MPI's error code and its class (as
/// `boost::mpi::exception` does); what() gives them with MPI's own description.
class MpiError : public Error {
 public:
  MpiError(std::string routine, int code, int error_class, const std::string& description);

  /// The MPI routine that failed, e.g. "MPI_Comm_spawn".
  [[nodiscard]] const std::string& routine() const noexcept { return routine_; }
  /// The error code MPI returned.
  [[nodiscard]] int code() const noexcept { return code_; }
  /// Its class (MPI_Error_class), e.g. MPI_ERR_SPAWN.
  [[nodiscard]] int error_class() const noexcept { return class_; }

 private:
  std::string routine_;
  int code_;
  int class_;
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

/// The engine a call needed died (killed, crashed, out of memory) while the job went on without
/// it (a launch that survives a lost engine: `mpirun --enable-recovery`, spawned engines, a
/// started cluster). Names the engine, its host and pid, and the signal that ended it.
///
/// @code
/// try { rc[3].pull<int>("a").get(); }
/// catch (const ranks::EngineLost& e) { e.engine_id(); e.host(); e.pid(); e.signal(); }
/// @endcode
class EngineLost : public RemoteError {
 public:
  /// signal: what ended the engine (9 when it left no word: SIGKILL, the out-of-memory killer);
  /// what: what was lost with it (the call, the task), for the message.
  EngineLost(int engine_id, std::string host, int pid, int signal, const std::string& what);

  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  [[nodiscard]] int pid() const noexcept { return pid_; }
  /// The signal that ended the engine, e.g. 9 (SIGKILL) or 11 (SIGSEGV).
  [[nodiscard]] int signal() const noexcept { return signal_; }

 private:
  std::string host_;
  int pid_;
  int signal_;
};

}  // namespace ranks
