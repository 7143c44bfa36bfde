#pragma once

// The shared state behind an AsyncResult: written by the controller under its lock, read by
// any thread once `ready` is set (release/acquire).

#include <atomic>
#include <exception>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "ranks/detail/runtime.hpp"
#include "ranks/metadata.hpp"

namespace ranks::detail {

class StateBase {
 public:
  virtual ~StateBase() = default;
  [[nodiscard]] bool is_ready() const { return ready_.load(std::memory_order_acquire); }
  [[nodiscard]] std::exception_ptr error() const { return error_; }

  /// One entry per task that reported back (under the lock).
  std::vector<TaskMetadata> metadata_;
  /// Progress in units of work (map items, direct-view targets); total is fixed at creation.
  std::atomic<std::size_t> units_done_{0};
  std::size_t units_total_ = 1;

  /// Marks the result final and hands its continuations to the controller (under the lock).
  void complete() {
    units_done_.store(units_total_, std::memory_order_release);
    ready_.store(true, std::memory_order_release);
    for (auto& c : continuations_) post(std::move(c));
    continuations_.clear();
  }
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

 private:
  std::atomic<bool> ready_{false};
  std::exception_ptr error_;
  std::vector<std::function<void()>> continuations_;
};

template <class T>
class State : public StateBase {
 public:
  void set(T v) {
    value_ = std::move(v);
    complete();
  }
  std::optional<T> value_;
};

template <>
class State<void> : public StateBase {
 public:
  void set() { complete(); }
};

}  // namespace ranks::detail
