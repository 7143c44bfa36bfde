#pragma once

// The shared state behind an AsyncResult: written by the controller under its lock, read by
// any thread once it is ready (release/acquire).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ranks/detail/progress.hpp"
#include "ranks/metadata.hpp"

namespace ranks::detail {

class Job;

class StateBase {
 public:
  /// The job that fills this state, for abort() (set when it is submitted).
  void set_job(std::weak_ptr<Job> job) { job_ = std::move(job); }
  [[nodiscard]] std::shared_ptr<Job> job() const { return job_.lock(); }
  virtual ~StateBase() = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  [[nodiscard]] bool is_ready() const { return ready_.load(std::memory_order_acquire); }
  /// The failure, once ready (null on success).
  [[nodiscard]] std::exception_ptr error() const { return error_; }

  /// Progress in units of work (map items, direct-view targets): done so far, of units_total().
  [[nodiscard]] std::size_t units_done() const {
    return units_done_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::size_t units_total() const { return units_total_; }
  /// What a progress bar shows: the units done, and those that engines say are done in parts
  /// still running. It never goes back: one value, published by the writers (under the lock)
  /// as the largest they have counted, since a part that completes leaves the running count
  /// before it joins the done one, and a reader of both could see it in neither.
  [[nodiscard]] std::size_t units_shown() const {
    return units_shown_.load(std::memory_order_acquire);
  }
  /// Counts n more (negative: fewer) units of parts still running that their engines said
  /// are done (under the lock).
  void add_units_running(std::ptrdiff_t n) {
    units_running_.fetch_add(static_cast<std::size_t>(n), std::memory_order_relaxed);
    publish_units_shown();
  }
  /// What the units are, for the bar: "items" of a map, else "tasks".
  [[nodiscard]] virtual const char* unit_name() const { return "tasks"; }

  /// One entry per task that reported back, in that order (under the lock).
  [[nodiscard]] const std::vector<TaskMetadata>& metadata() const { return metadata_; }
  void add_metadata(const TaskMetadata& m) { metadata_.push_back(m); }

  /// Fails the result, unless it is final already (under the lock).
  void fail(std::exception_ptr e) {
    if (is_ready()) return;
    error_ = std::move(e);
    complete();
  }
  /// Runs fn once the result is final (under the lock).
  void on_ready(std::function<void()> fn) {
    if (is_ready()) {
      post(std::move(fn));
    } else {
      continuations_.push_back(std::move(fn));
    }
  }
  /// Records that n units of the work are complete (under the lock).
  void set_units_done(std::size_t n) {
    units_done_.store(n, std::memory_order_release);
    publish_units_shown();
  }

 protected:
  explicit StateBase(std::size_t units_total) : units_total_(units_total) {}
  /// Marks the result final and hands its continuations to the controller (under the lock).
  void complete() {
    set_units_done(units_total_);
    ready_.store(true, std::memory_order_release);
    for (auto& c : continuations_) post(std::move(c));
    continuations_.clear();
  }

 private:
  std::weak_ptr<Job> job_;
  std::atomic<bool> ready_{false};
  std::exception_ptr error_;
  std::vector<std::function<void()>> continuations_;
  std::vector<TaskMetadata> metadata_;
  void publish_units_shown() {
    const std::size_t now =
        std::min(units_total_, units_done() + units_running_.load(std::memory_order_relaxed));
    std::size_t shown = units_shown_.load(std::memory_order_relaxed);
    while (now > shown && !units_shown_.compare_exchange_weak(shown, now, std::memory_order_release,
                                                              std::memory_order_relaxed)) {
    }
  }
  std::atomic<std::size_t> units_done_{0};
  std::atomic<std::size_t> units_running_{0};
  std::atomic<std::size_t> units_shown_{0};
  std::size_t units_total_;
};

template <class T>
class State : public StateBase {
 public:
  explicit State(std::size_t units_total = 1) : StateBase(units_total) {}
  /// Sets the value and makes the result final (under the lock).
  void set(T v) {
    value_ = std::move(v);
    complete();
  }
  /// The value; only once ready and successful.
  [[nodiscard]] const T& value() const { return *value_; }
  /// The value, moved out: for the only reader of a ready, successful result.
  [[nodiscard]] T take() { return std::move(*value_); }

 private:
  std::optional<T> value_;
};

template <>
class State<void> : public StateBase {
 public:
  explicit State(std::size_t units_total = 1) : StateBase(units_total) {}
  void set() { complete(); }
};

}  // namespace ranks::detail
