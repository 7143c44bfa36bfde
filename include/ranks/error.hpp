#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

/// @file
/// The errors ranks throws: ranks::Error and its named kinds.

namespace ranks {

namespace detail {
/// How every message of ranks begins, thrown or written on stderr.
inline constexpr std::string_view kPrefix = "ranks: ";
}  // namespace detail

/// Base of every error ranks throws (a std::runtime_error). `what()` is one line: "ranks: ",
/// what went wrong, with the values, and what to do.
///
/// @code
/// try { ranks::Pool pool(0); }
/// catch (const ranks::Error& e) { std::cerr << e.what() << '\n'; }  // "ranks: Pool(0): ..."
/// @endcode
class Error : public std::runtime_error {
 public:
  /// `message` says what went wrong and what to do; what() puts "ranks: " before it.
  explicit Error(const std::string& message)
      : std::runtime_error(std::string(detail::kPrefix) + message) {}

 protected:
  /// @cond INTERNAL
  struct Verbatim {};
  /// what() is exactly `what` (for errors that come from elsewhere, as a task's does).
  Error(Verbatim, const std::string& what) : std::runtime_error(what) {}
  /// @endcond
};

/// A wait with a deadline that ran out before the result arrived (`AsyncResult::get(timeout)`,
/// as_completed with a timeout), or a task past its TaskOptions::timeout. Python's
/// multiprocessing.TimeoutError.
///
/// @code
/// int w = r.get(std::chrono::milliseconds(50));   // not ready by then: ranks::TimeoutError
/// @endcode
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// Work that AsyncResult::abort() dropped or stopped before it finished: get() throws it.
class Aborted : public Error {
 public:
  using Error::Error;
};

/// A wait for an item that ran out of time: `Queue::get(timeout)`, `Connection::recv(timeout)`
/// (Python's queue.Empty).
///
/// @code
/// std::string s = q.get(std::chrono::seconds(2));   // nothing within 2 s: ranks::Empty
/// @endcode
class Empty : public Error {
 public:
  using Error::Error;
};

/// A bounded queue that stayed full for the whole of `Queue::put(item, timeout)` (Python's
/// queue.Full). The item was not put.
///
/// @code
/// ranks::Queue<Job> jobs(100);
/// jobs.put(job, std::chrono::seconds(1));   // still full after 1 s: ranks::Full
/// @endcode
class Full : public Error {
 public:
  using Error::Error;
};

/// A queue that was closed, or a Pipe whose other end was closed: a put or send after it, a get
/// or recv once nothing is left.
///
/// @code
/// q.close();   // later puts throw ranks::Closed; gets take what is left, then ranks::Closed
/// @endcode
class Closed : public Error {
 public:
  using Error::Error;
};

/// A Barrier that is broken: aborted, reset while parties waited, a wait that timed out, or a
/// party lost. Every party waiting at it hears it, and every later wait until reset()
/// (Python's threading.BrokenBarrierError).
///
/// @code
/// try { barrier.wait(); }
/// catch (const ranks::BrokenBarrier&) { /* aborted, timed out, or a party was lost */ }
/// @endcode
class BrokenBarrier : public Error {
 public:
  using Error::Error;
};

/// A task that was to run after others (TaskOptions::after or TaskOptions::follow) cannot: one of
/// them failed or was aborted, or those it follows ran on different engines (IPython's
/// ImpossibleDependency). Its own dependents fail the same way.
///
/// @code
/// auto a = lview.apply(load, path);
/// auto b = lview.with({.after = {a}}).apply(clean, 3);   // a failed: b.get() throws this
/// @endcode
class DependencyError : public Error {
 public:
  using Error::Error;
};

/// A call into MPI failed. Keeps the routine, MPI's error code and its class (as
/// `boost::mpi::exception` does); what() gives them with MPI's own description.
class MpiError : public Error {
 public:
  /// `routine` returned `code` (of class `error_class`); `description` is MPI's text for it.
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

/// A task threw on an engine (Python's multiprocessing re-raises the task's exception; ranks
/// gives its type, message and engine). The engine survives and goes on serving. For a map,
/// get() throws the failure of the lowest failing input index.
///
/// @code
/// try { pool.apply([](int x) -> int { throw std::runtime_error("boom"); }, 1); }
/// catch (const ranks::RemoteError& e) {
///   e.type_name();   // "std::runtime_error"
///   e.message();     // "boom"
///   e.engine_id();   // which engine ran it
///   e.what();        // one line with all of the above
/// }
/// @endcode
class RemoteError : public Error {
 public:
  /// A task of engine `engine_id` threw a `type_name` whose what() was `message`; `index` is the
  /// failing input of a map, -1 otherwise.
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
  /// Engine `engine_id` (process `pid` on `host`) ended by `signal` (9 when it left no word:
  /// SIGKILL, the out-of-memory killer); `what` is what was lost with it (the call, the task),
  /// for the message.
  EngineLost(int engine_id, std::string host, int pid, int signal, const std::string& what);

  /// The host the engine ran on.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// The engine's process id there.
  [[nodiscard]] int pid() const noexcept { return pid_; }
  /// The signal that ended the engine, e.g. 9 (SIGKILL) or 11 (SIGSEGV).
  [[nodiscard]] int signal() const noexcept { return signal_; }

 private:
  std::string host_;
  int pid_;
  int signal_;
};

}  // namespace ranks
