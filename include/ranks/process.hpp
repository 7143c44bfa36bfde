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
/// (CRTP) with a `run()` and a `serialize()`, or give a function and its arguments.
///
/// @code
/// class Hello : public ranks::Process<Hello> {
///  public:
///   void run() { std::cout << "hello from engine " << ranks::engine_id() << std::endl; }
///   template <class Archive> void serialize(Archive&, unsigned) {}
/// };
/// Hello p; p.start(); p.join();            // p.exitcode() == 0
/// ranks::Process t(greet, 1); t.start(); t.join();
/// @endcode
template <class Derived>
class Process : public detail::ProcessHandle {
 public:
  /// Ships a copy of the object to a free engine, where run() executes. Returns at once.
  void start() {
    auto msg = detail::make_message<detail::ProcessTask<Derived>>(
        detail::Nothing{}, [this](detail::Writer& w) {
          detail::encode_archive(w, static_cast<const Derived&>(*this));
        });
    launch(std::move(msg));
  }
};

/// The Process(target, args...) form.
template <class F, class... A>
class Process<detail::Target<F, A...>> : public detail::ProcessHandle {
 public:
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

template <class F, class... A>
Process(F, A...) -> Process<detail::Target<F, A...>>;

}  // namespace ranks
