#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/state.hpp"
#include "ranks/error.hpp"
#include "ranks/metadata.hpp"

/// @file
/// ranks::AsyncResult, the result of work sent to engines.

namespace ranks {

namespace detail {
struct StateOf;
}

/// The result of work sent to engines, like Python's multiprocessing `AsyncResult` (and
/// ipyparallel's). Results make progress while the controller does other work, with no polling
/// by the user; `get` waits for them. Copies share one result. `AsyncResult<void>` is the result
/// of work with no value (push, execute, scatter).
///
/// @code
/// ranks::AsyncResult<int> r = pool.apply_async(square, 3);
/// int v = r.get();                     // waits; rethrows a task's failure as ranks::RemoteError
/// int w = r.get(std::chrono::milliseconds(50));   // not ready by then: ranks::TimeoutError
/// r.wait();  bool done = r.wait(std::chrono::seconds(1));
/// bool ready = r.ready();  bool ok = r.successful();   // successful() before ready: throws
/// @endcode
template <class T>
class AsyncResult {
 public:
  /// The type of the value (void for work with none).
  using value_type = T;

  /// A result that holds no work (as a moved-from one): every call but assignment throws
  /// ranks::Error.
  AsyncResult() = default;
  /// @cond INTERNAL
  explicit AsyncResult(std::shared_ptr<detail::State<T>> state) : state_(std::move(state)) {}
  /// @endcond

  /// Waits, then returns the value (a const reference to it) or rethrows the task's failure
  /// (ranks::RemoteError; ranks::EngineLost, ranks::Aborted, ranks::TimeoutError where those
  /// ended it). Python's get().
  decltype(auto) get() const& {
    wait();
    return value();
  }
  /// As get(), moving the value out when this is the only handle on it.
  T get() && {
    wait();
    if constexpr (std::is_void_v<T>) {
      value();
    } else {
      if (state_.use_count() == 1) {
        rethrow_if_failed();
        return state_->take();
      }
      return value();
    }
  }
  /// Waits at most `timeout`; throws ranks::TimeoutError if the result is not ready by then.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) const {
    if (!wait(timeout))
      throw TimeoutError("AsyncResult::get timed out after " + describe(timeout) +
                         "; the work is still running: wait longer, or check ready() first");
    return value();
  }

  /// Blocks until the result is ready.
  void wait() const {
    const auto& s = checked();
    if (!s.is_ready()) detail::wait_until([&s] { return s.is_ready(); });
  }
  /// Blocks at most `timeout`; returns whether the result is ready.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    const auto& s = checked();
    if (s.is_ready()) return true;
    return detail::wait_until([&s] { return s.is_ready(); },
                              std::chrono::steady_clock::now() + timeout);
  }
  /// How much of the work is done (ipyparallel's AsyncResult.progress): for a map, the items
  /// done, counted as engines say them done, not only as parts come back; else tasks. Of
  /// total(). Never blocks.
  [[nodiscard]] std::size_t progress() const { return checked().units_shown(); }
  /// The whole of the work progress() counts in: a map's items, else its tasks.
  [[nodiscard]] std::size_t total() const { return checked().units_total(); }
  /// As wait(), drawing progress() on stderr meanwhile ("250/1000 items"): a bar on a terminal,
  /// a line a second otherwise.
  void wait_interactive(std::chrono::milliseconds interval = std::chrono::milliseconds(100)) const {
    const auto& s = checked();
    const auto t0 = std::chrono::steady_clock::now();
    while (!wait(interval))
      detail::draw_progress_bar(s.units_shown(), s.units_total(), s.unit_name(),
                                std::chrono::steady_clock::now() - t0, false);
    detail::draw_progress_bar(s.units_total(), s.units_total(), s.unit_name(),
                              std::chrono::steady_clock::now() - t0, true);
  }
  /// What is known about each task so far, in the order they reported back: engine, submitted,
  /// started and completed times, the inputs it covered. Never blocks.
  [[nodiscard]] std::vector<TaskMetadata> metadata() const {
    const auto& s = checked();
    auto lk = detail::lock();
    return s.metadata();
  }

  /// Drops the work of this result that has not started (IPython's abort); what runs of it is
  /// stopped by ending its engines, where the launch survives that (they are replaced where
  /// engines can be spawned). The result then fails with ranks::Aborted; a finished result is
  /// left as it is.
  void abort() const {
    checked();
    detail::abort(*state_);
  }
  /// Whether the work has finished (successfully or not). Never blocks.
  [[nodiscard]] bool ready() const { return checked().is_ready(); }
  /// Whether the work finished without error; throws ranks::Error if it is not ready yet.
  [[nodiscard]] bool successful() const {
    if (!ready())
      throw Error(
          "AsyncResult::successful() called before the result is ready; call "
          "wait() or check ready() first");
    return !state_->error();
  }

  /// Runs on_value(value) or on_error(const RemoteError&) on the controller once the result is
  /// ready, one callback at a time (like Python's callback= / error_callback=), so unlike tasks
  /// they may capture. Returns at once.
  ///
  /// @code
  /// pool.apply_async(square, 3).then(
  ///     [&](int v) { /* ... */ },
  ///     [&](const ranks::RemoteError& e) { /* ... */ });
  /// @endcode
  template <class OnValue, class OnError>
  AsyncResult& then(OnValue on_value, OnError on_error) {
    auto s = state_;
    checked();
    auto lk = detail::lock();
    s->on_ready([s, on_value = std::move(on_value), on_error = std::move(on_error)]() mutable {
      if (auto e = s->error()) {
        try {
          std::rethrow_exception(e);
        } catch (const RemoteError& re) {
          on_error(re);
        } catch (const std::exception& other) {
          on_error(RemoteError("ranks::Error", other.what(), -1));
        }
      } else if constexpr (std::is_void_v<T>) {
        on_value();
      } else {
        on_value(s->value());
      }
    });
    return *this;
  }
  /// As then(on_value, on_error), with failures ignored.
  template <class OnValue>
  AsyncResult& then(OnValue on_value) {
    return then(std::move(on_value), [](const RemoteError&) {});
  }

 private:
  friend struct detail::StateOf;
  const detail::State<T>& checked() const {
    if (!state_) throw Error("this AsyncResult holds no work (default-constructed or moved from)");
    return *state_;
  }
  void rethrow_if_failed() const {
    if (auto e = state_->error()) std::rethrow_exception(e);
  }
  decltype(auto) value() const {
    rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return state_->value();
  }
  template <class Rep, class Period>
  static std::string describe(std::chrono::duration<Rep, Period> d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
  }

  std::shared_ptr<detail::State<T>> state_;
};

namespace detail {
/// The shared state of a result, for what composes results (compose.hpp, dependencies).
struct StateOf {
  template <class T>
  static const std::shared_ptr<State<T>>& get(const AsyncResult<T>& r) {
    if (!r.state_)
      throw Error("this AsyncResult holds no work (default-constructed or moved from)");
    return r.state_;
  }
};
}  // namespace detail

}  // namespace ranks
