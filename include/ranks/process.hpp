#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ranks/detail/message.hpp"
#include "ranks/detail/state.hpp"
#include "ranks/error.hpp"

/// @file
/// ranks::Process, Python's multiprocessing.Process on an engine.

namespace ranks {

namespace detail {

/// Rebuilds a Process subclass on an engine and calls its run().
template <class D>
struct ProcessTask {
  static void invoke(InvokeContext& ctx) {
    D d{};
    decode_archive(ctx.in, d);
    d.run();
  }
};

/// What every Process has: the handle on its run over there.
class ProcessHandle {
 public:
  ProcessHandle() = default;
  ProcessHandle(const ProcessHandle&) = default;
  ProcessHandle& operator=(const ProcessHandle&) = default;
  ~ProcessHandle();

  /// Waits until run() has returned on its engine. Throws ranks::Error before start().
  void join() const;
  /// Waits at most `timeout`; returns whether run() has returned.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return wait_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }
  /// Empty while running (or before start()), 0 if run() returned, 1 if it threw, -N if its
  /// engine died of signal N (terminate(): -15, kill(): -9), as Python's does.
  [[nodiscard]] std::optional<int> exitcode() const;
  /// Ends the process with SIGTERM: its engine is ended (and replaced where engines can be
  /// spawned); exitcode() becomes -15. A process not yet running is dropped. Throws ranks::Error
  /// where the launch does not survive a lost engine (mpirun without --enable-recovery).
  void terminate() { end(15); }
  /// As terminate(), with SIGKILL: exitcode() becomes -9.
  void kill() { end(9); }
  /// Started and not finished.
  [[nodiscard]] bool is_alive() const;

 protected:
  void launch(Bytes msg);

 private:
  bool wait_for(std::chrono::nanoseconds timeout) const;
  void end(int sig);
  std::shared_ptr<State<void>> state_;
  mutable bool reported_ = false;
};

template <class F, class... A>
struct Target {};

}  // namespace detail

/// A unit of work started on an engine, like Python's `multiprocessing.Process`. Derive from it
/// (CRTP) with a `run()`, a default constructor and a `serialize()`, or give a function and its
/// arguments, like std::thread (`Process(target=greet, args=(1,))`).
///
/// Besides start(), every Process has, as Python's does:
/// - `join()`: waits until run() has returned on its engine (ranks::Error before start());
///   `join(timeout)` waits at most that long and returns whether it has.
/// - `exitcode()`: a std::optional<int>, empty while running (or before start()), 0 if run()
///   returned, 1 if it threw, -N if its engine died of signal N.
/// - `is_alive()`: started and not finished.
/// - `terminate()` and `kill()`: end it with SIGTERM or SIGKILL (exitcode -15 or -9); its engine
///   is ended and replaced where engines can be spawned, and one not yet running is dropped.
///   Where the launch does not survive a lost engine (`mpirun` without `--enable-recovery`) they
///   throw ranks::Error.
///
/// @code
/// class Hello : public ranks::Process<Hello> {
///  public:
///   Hello() = default;
///   explicit Hello(int id) : id_(id) {}
///   void run() { std::cout << "Soy el proceso con el ID: " << id_ << std::endl; }  // on an engine
///   template <class Archive> void serialize(Archive& ar, unsigned) { ar & id_; }
///  private:
///   int id_ = 0;
/// };
///
/// Hello p(0);
/// p.start();                     // ships the object to a free engine; returns at once
/// p.join();                      // waits until run() returned there
/// p.exitcode();                  // std::optional<int>: empty while running, 0 ok, 1 if it threw
/// p.is_alive();
///
/// void greet(int id) { std::cout << "Soy el proceso con el ID: " << id << std::endl; }
/// ranks::Process t(greet, 1);    // the Process(target=greet, args=(1,)) form, like std::thread
/// t.start(); t.join();
/// @endcode
template <class Derived>
class Process : public detail::ProcessHandle {
 public:
  /// Ships a copy of the object to a free engine, where run() executes. Returns at once
  /// (Python's start()).
  void start() {
    auto msg = detail::make_message<detail::ProcessTask<Derived>>(
        detail::Nothing{}, [this](detail::Writer& w) {
          detail::encode_archive(w, static_cast<const Derived&>(*this));
        });
    launch(std::move(msg));
  }
};

/// The Process(target, args...) form: `ranks::Process t(greet, 1)` (the deduction guide picks
/// it).
template <class F, class... A>
class Process<detail::Target<F, A...>> : public detail::ProcessHandle {
 public:
  /// A process that will run f(args...) on an engine; a lambda with captures is refused at
  /// compile time, as for every task.
  explicit Process(F f, A... args) : f_(f), args_(std::move(args)...) {
    detail::check_callable<F>();
  }
  /// Sends target(args...) to a free engine. Returns at once.
  void start() {
    auto msg = detail::make_message<detail::ApplyTask<F, A...>>(
        f_, [this](detail::Writer& w) { detail::encode(w, args_); });
    launch(std::move(msg));
  }

 private:
  F f_;
  std::tuple<A...> args_;
};

/// `ranks::Process t(greet, 1)` is the target form: target greet, arguments (1).
template <class F, class... A>
Process(F, A...) -> Process<detail::Target<F, A...>>;

}  // namespace ranks
