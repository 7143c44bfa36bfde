#pragma once

/// @file
/// Results taken as they complete, and results composed into one: what Python's
/// concurrent.futures gives with as_completed() and wait(), for AsyncResults.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "ranks/async_result.hpp"
#include "ranks/error.hpp"

namespace ranks {

namespace detail {

/// What a composed result holds of a result of type T: its value, or std::monostate for void.
template <class T>
using ValueOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
ValueOf<T> value_of(const State<T>& s) {
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return s.value();
  }
}

/// The order in which results became ready: written by their continuations (one at a time,
/// under the lock), read by the thread that waits.
struct CompletionOrder {
  explicit CompletionOrder(std::size_t n) : order(n) {}
  std::vector<std::size_t> order;
  std::atomic<std::size_t> count{0};
};

}  // namespace detail

/// The results of as_completed(): each AsyncResult once it is ready (successful or failed), in
/// the order they become ready. An input range: iterate it once.
///
/// @code
/// for (auto& r : ranks::as_completed(results)) r.get();   // each AsyncResult as it completes
/// @endcode
template <class T>
class AsCompleted {
 public:
  /// Walks the results; `++it` waits for the next to be ready.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;  ///< iterate once
    using value_type = AsyncResult<T>;                  ///< a result, ready
    using difference_type = std::ptrdiff_t;             ///< as input iterators have
    using pointer = const AsyncResult<T>*;              ///< what operator-> gives
    using reference = const AsyncResult<T>&;            ///< what operator* gives

    /// An iterator that is no place (compare only iterators from begin()).
    iterator() = default;
    /// The result at hand, ready: get() gives its value or throws its failure.
    reference operator*() const { return owner_->current_; }
    /// As operator*.
    pointer operator->() const { return &owner_->current_; }
    /// Waits for the next result to be ready. Throws ranks::TimeoutError if a deadline was
    /// given and passes first.
    iterator& operator++() {
      owner_->advance();
      return *this;
    }
    /// As ++it.
    void operator++(int) { ++*this; }
    /// Whether every result has been walked.
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    friend class AsCompleted;
    explicit iterator(AsCompleted* owner) : owner_(owner) {}
    [[nodiscard]] bool at_end() const { return owner_->finished_; }
    AsCompleted* owner_ = nullptr;
  };

  /// @cond INTERNAL
  AsCompleted(std::vector<AsyncResult<T>> results,
              std::optional<std::chrono::steady_clock::time_point> deadline)
      : results_(std::move(results)),
        order_(std::make_shared<detail::CompletionOrder>(results_.size())),
        deadline_(deadline) {
    auto lk = detail::lock();
    for (std::size_t i = 0; i < results_.size(); ++i) {
      detail::StateOf::get(results_[i])->on_ready([order = order_, i] {
        auto lk = detail::lock();
        const std::size_t k = order->count.load(std::memory_order_relaxed);
        order->order[k] = i;
        order->count.store(k + 1, std::memory_order_release);
      });
    }
  }
  /// @endcond

  /// Waits for the first result to be ready. Throws ranks::TimeoutError if a deadline was
  /// given and passes first.
  iterator begin() {
    if (!started_) {
      started_ = true;
      advance();
    }
    return iterator(this);
  }
  /// The end: an iterator equals it once every result has been walked.
  std::default_sentinel_t end() const { return {}; }

 private:
  void advance() {
    if (taken_ == results_.size()) {
      finished_ = true;
      return;
    }
    const bool arrived = detail::wait_until(
        [this] { return order_->count.load(std::memory_order_acquire) > taken_; }, deadline_);
    if (!arrived)
      throw TimeoutError("as_completed: " + std::to_string(results_.size() - taken_) + " of " +
                         std::to_string(results_.size()) +
                         " results were not ready by the deadline; wait longer, or take those "
                         "that are ready with ready()");
    current_ = results_[order_->order[taken_++]];
  }

  std::vector<AsyncResult<T>> results_;
  std::shared_ptr<detail::CompletionOrder> order_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  AsyncResult<T> current_;
  std::size_t taken_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

/// Each result as it becomes ready, in that order (Python's concurrent.futures.as_completed).
///
/// @code
/// std::vector<ranks::AsyncResult<int>> results;
/// for (int i = 0; i < 10; ++i) results.push_back(lview.apply(square, i));
/// for (auto& r : ranks::as_completed(results)) r.get();   // each AsyncResult as it completes
/// @endcode
template <class T>
AsCompleted<T> as_completed(std::vector<AsyncResult<T>> results) {
  return AsCompleted<T>(std::move(results), std::nullopt);
}
/// As as_completed(results), throwing ranks::TimeoutError when the next result is not ready
/// within `timeout` of this call (as Python's does).
///
/// @code
/// for (auto& r : ranks::as_completed(results, std::chrono::seconds(10))) r.get();
/// @endcode
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(std::vector<AsyncResult<T>> results,
                            std::chrono::duration<Rep, Period> timeout) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  return AsCompleted<T>(std::move(results), deadline);
}

/// One result of all the values, in the order given, once every result has succeeded; it fails
/// as soon as one fails, with that failure (asyncio.gather's rule). Void results give nothing.
/// Returns at once.
///
/// @code
/// std::vector<int> squares = ranks::when_all(results).get();
/// @endcode
template <class T>
AsyncResult<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(
    std::vector<AsyncResult<T>> results) {
  using Out = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
  auto out = std::make_shared<detail::State<Out>>(results.size());
  auto all = std::make_shared<std::vector<AsyncResult<T>>>(std::move(results));
  auto left = std::make_shared<std::size_t>(all->size());
  auto lk = detail::lock();
  auto finish = [out, all] {
    if constexpr (std::is_void_v<T>) {
      out->set();
    } else {
      std::vector<T> values;
      values.reserve(all->size());
      for (const auto& r : *all) values.push_back(detail::StateOf::get(r)->value());
      out->set(std::move(values));
    }
  };
  if (all->empty()) finish();
  for (const auto& r : *all) {
    const auto& s = detail::StateOf::get(r);
    s->on_ready([out, s = s.get(), all, left, finish] {
      auto lk = detail::lock();
      if (out->is_ready()) return;
      if (auto e = s->error()) return out->fail(e);
      if (--*left == 0) return finish();
      out->set_units_done(all->size() - *left);
    });
  }
  return AsyncResult<Out>(out);
}

/// One result of a tuple of the values (std::monostate for a void result), once every result
/// has succeeded; it fails as soon as one fails, with that failure. Returns at once.
///
/// @code
/// auto [n, name] = ranks::when_all(lview.apply(count), lview.apply(label)).get();
/// @endcode
template <class... T>
AsyncResult<std::tuple<detail::ValueOf<T>...>> when_all(const AsyncResult<T>&... results) {
  using Tuple = std::tuple<detail::ValueOf<T>...>;
  constexpr std::size_t n = sizeof...(T);
  auto out = std::make_shared<detail::State<Tuple>>(n);
  auto states = std::make_shared<std::tuple<std::shared_ptr<detail::State<T>>...>>(
      detail::StateOf::get(results)...);
  auto left = std::make_shared<std::size_t>(n);
  auto lk = detail::lock();
  auto watch = [&](const auto& s) {
    s->on_ready([out, s = s.get(), states, left] {
      auto lk = detail::lock();
      if (out->is_ready()) return;
      if (auto e = s->error()) return out->fail(e);
      if (--*left == 0)
        return out->set(std::apply(
            [](const auto&... each) { return Tuple{detail::value_of(*each)...}; }, *states));
      out->set_units_done(n - *left);
    });
  };
  std::apply([&](const auto&... s) { (watch(s), ...); }, *states);
  return AsyncResult<Tuple>(out);
}

/// The position of the first of the results to be ready, successful or failed (Python's
/// wait(..., return_when=FIRST_COMPLETED)); then results[i].get() gives its value or failure.
/// Throws ranks::Error for no results. Returns at once.
///
/// @code
/// std::size_t first = ranks::when_any(results).get();
/// int v = results[first].get();
/// @endcode
template <class T>
AsyncResult<std::size_t> when_any(const std::vector<AsyncResult<T>>& results) {
  if (results.empty())
    throw Error("when_any of no results would never be ready; pass at least one AsyncResult");
  auto out = std::make_shared<detail::State<std::size_t>>();
  auto lk = detail::lock();
  for (std::size_t i = 0; i < results.size(); ++i) {
    detail::StateOf::get(results[i])->on_ready([out, i] {
      auto lk = detail::lock();
      if (!out->is_ready()) out->set(i);
    });
  }
  return AsyncResult<std::size_t>(out);
}

/// As when_any(results), for results of different types: the position of the first ready.
template <class... T>
AsyncResult<std::size_t> when_any(const AsyncResult<T>&... results) {
  static_assert(sizeof...(T) > 0, "when_any needs at least one AsyncResult");
  auto out = std::make_shared<detail::State<std::size_t>>();
  auto lk = detail::lock();
  std::size_t i = 0;
  auto watch = [&](const auto& s) {
    s->on_ready([out, i] {
      auto lk = detail::lock();
      if (!out->is_ready()) out->set(i);
    });
    ++i;
  };
  (watch(detail::StateOf::get(results)), ...);
  return AsyncResult<std::size_t>(out);
}

}  // namespace ranks
