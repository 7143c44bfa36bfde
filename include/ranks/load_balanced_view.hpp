#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/async_result.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/error.hpp"

/// @file
/// ranks::LoadBalancedView, IPython parallel's load-balanced view, and its task options.

namespace ranks {

/// Options of LoadBalancedView::map.
///
/// @code
/// std::vector<int> out = lview.map(square, in, {.chunksize = 1, .ordered = false}).get();
/// @endcode
struct MapOptions {
  std::size_t chunksize = 0;  ///< items per task; 0: chosen automatically, large then shrinking
  bool ordered = true;        ///< false: results listed in the order they completed
};

/// A task that another waits for (TaskOptions::after or TaskOptions::follow): any AsyncResult,
/// whatever its type.
class Dependency {
 public:
  /// The work of r (implicit, so that `{.after = {a, b}}` reads as it does in Python). A result
  /// that holds no work: ranks::Error.
  template <class T>
  Dependency(const AsyncResult<T>& r)  // NOLINT(google-explicit-constructor): {.after = {a, b}}
      : state_(detail::StateOf::get(r)) {}
  /// @cond INTERNAL
  [[nodiscard]] const std::shared_ptr<detail::StateBase>& state() const { return state_; }
  /// @endcond

 private:
  std::shared_ptr<detail::StateBase> state_;
};

/// Options for the tasks of a LoadBalancedView (`lview.with({...})`), as IPython's
/// `view.temp_flags(after=..., follow=..., timeout=...)`.
///
/// @code
/// using namespace std::chrono_literals;
/// auto a = lview.apply(load, path);
/// auto b = lview.with({.after = {a}}).apply(clean, 3);   // runs once a has succeeded
/// lview.with({.timeout = 5s}).apply(f, x).get();          // past 5 s: ranks::TimeoutError
/// @endcode
struct TaskOptions {
  /// Tasks to wait for: the task is sent once each has succeeded (IPython's `after`). If one
  /// fails or is aborted, the task fails with ranks::DependencyError naming it, and so do the
  /// tasks waiting for this one. The wait blocks nothing: the controller sends the task then.
  std::vector<Dependency> after{};
  /// Tasks whose engine the task runs on (data left there, IPython's `follow`); it waits for
  /// them as for `after`. If they ran on different engines, or the engine is gone, the task
  /// fails with ranks::DependencyError or ranks::EngineLost.
  std::vector<Dependency> follow{};
  /// How long a task (a map's chunk) may run. Past it, its engine is ended (the only way to stop
  /// C++ code) and replaced where engines can be spawned, and the task fails with
  /// ranks::TimeoutError. Zero: no limit. Needs a launch that survives a lost engine.
  std::chrono::nanoseconds timeout{};
};

/// Tasks go to whichever engine is least loaded (the dynamic queue, several tasks in flight per
/// engine), like IPython's `LoadBalancedView`. A failed task is resubmitted up to retries()
/// times, to an engine it has not failed on while there is one; only then does the failure reach
/// the caller.
///
/// @code
/// ranks::LoadBalancedView tview = rc.load_balanced_view();
/// std::vector<int> lb = tview.map(square, in).get();  // a free engine takes the next task
/// int one = tview.apply(square, 5).get();
/// tview.set_retries(2);   // a failed task is resubmitted, to another engine if any
/// @endcode
class LoadBalancedView {
 public:
  /// The engines the view may use (of every engine: those alive now).
  [[nodiscard]] std::vector<int> targets() const { return detail::group_engines(*group_); }
  /// How often a failed task is resubmitted (default 0). Throws ranks::Error if n < 0.
  void set_retries(int n) {
    if (n < 0)
      throw Error("LoadBalancedView::set_retries(" + std::to_string(n) +
                  "): the number of retries must be 0 or more");
    retries_ = n;
  }
  /// How often a failed task is resubmitted.
  [[nodiscard]] int retries() const { return retries_; }
  /// This view with these options for the tasks sent through it (the view itself is unchanged).
  /// Throws ranks::Error for a negative timeout.
  ///
  /// @code
  /// auto b = lview.with({.after = {a}}).apply(clean, 3);
  /// @endcode
  [[nodiscard]] LoadBalancedView with(const TaskOptions& options) const {
    if (options.timeout.count() < 0)
      throw Error("LoadBalancedView::with: the timeout must be zero (none) or more");
    LoadBalancedView v = *this;
    v.options_ = options;
    return v;
  }

  /// f(args...) on the least-loaded engine; returns at once (IPython's apply_async).
  ///
  /// @code
  /// int one = lview.apply(square, 5).get();
  /// @endcode
  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    using Task = detail::ApplyTaskFor<F, Args...>;
    using R = typename Task::Result;
    auto state = std::make_shared<detail::State<R>>();
    auto msg = detail::apply_message_owned(f, std::forward<Args>(args)...);
    submit(std::make_shared<detail::SingleJob<R>>(std::move(msg), state, policy()));
    return AsyncResult<R>(state);
  }
  /// f over every item through the dynamic queue; results in input order (or completion order
  /// with ordered = false). A failure (after retries) is that of the lowest failing input index.
  /// Returns at once.
  ///
  /// @code
  /// std::vector<int> lb = lview.map(square, in).get();
  /// @endcode
  template <class F, class Range>
  auto map(F f, Range&& items, MapOptions options = {}) {
    using T = detail::item_t<Range>;
    using Task = detail::MapTask<F, T, false>;
    using R = typename Task::Result;
    detail::check_map_result<R>();
    auto kept = detail::keep_items(std::forward<Range>(items));
    auto state = std::make_shared<detail::MapState<R>>(kept.view.size(), false, !options.ordered);
    submit(std::make_shared<detail::DynamicMapJob<Task, F, T, R>>(
        f, std::move(kept), options.chunksize, state, policy()));
    return AsyncResult<std::vector<R>>(state);
  }

 private:
  friend class Client;
  explicit LoadBalancedView(std::shared_ptr<detail::Group> group) : group_(std::move(group)) {}
  [[nodiscard]] detail::TaskPolicy policy() const { return {retries_, true, options_.timeout}; }
  void submit(std::shared_ptr<detail::DynamicJob> job) const {
    if (options_.after.empty() && options_.follow.empty())
      return detail::submit(*group_, std::move(job));
    auto states = [](const std::vector<Dependency>& deps) {
      std::vector<std::shared_ptr<detail::StateBase>> out;
      out.reserve(deps.size());
      for (const auto& d : deps) out.push_back(d.state());
      return out;
    };
    detail::submit_after(group_, std::move(job), states(options_.after), states(options_.follow));
  }

  std::shared_ptr<detail::Group> group_;
  int retries_ = 0;
  TaskOptions options_;
};

}  // namespace ranks
