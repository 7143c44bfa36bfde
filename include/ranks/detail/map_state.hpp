#pragma once

// Where the results of a map land: the whole vector, in input order, and what imap needs to
// hand them out as they arrive.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <utility>
#include <vector>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/error_report.hpp"
#include "ranks/detail/job.hpp"
#include "ranks/detail/state.hpp"

namespace ranks::detail {

template <class R>
class MapState : public State<std::vector<R>> {
 public:
  /// n results. streaming: imap reads them while they arrive, so they are never moved into the
  /// value. completion_order: the value lists results in the order they arrived.
  MapState(std::size_t n, bool streaming, bool completion_order = false)
      : State<std::vector<R>>(n),
        out_(n),
        streaming_(streaming),
        completion_order_(completion_order) {
    if (n == 0) finish();  // an empty map is complete from the start
  }
  [[nodiscard]] const char* unit_name() const override { return "items"; }

  // The jobs' side, under the lock.

  /// Takes the reply of the chunk [start, start + len): its results into place, or its failure.
  void settle(std::size_t start, std::size_t len, Reply& r, int attempt = 0) {
    this->add_metadata(metadata_of(r, start, len, attempt));
    if (!r.outcome.ok) {
      const std::size_t at =
          start + static_cast<std::size_t>(std::max<std::int64_t>(r.outcome.failed_item, 0));
      failed(start, len, at,
             remote_error(r.outcome, r.payload, static_cast<std::ptrdiff_t>(start)));
      return;
    }
    try {
      decode_items(r.payload, out_.data() + start, len);
      arrived(start, len);
    } catch (...) {
      failed(start, len, start, std::current_exception());
    }
  }
  /// The chunk [start, start + len) failed at input `index` with e.
  void failed(std::size_t start, std::size_t len, std::size_t index, std::exception_ptr e) {
    failures_.emplace(index, std::move(e));
    failed_chunks_[start] = {len, failures_.find(index)->second};
    arrived(start, len);
  }
  /// No more chunks will come: the result fails with why (unless it is final already).
  void cancel(std::exception_ptr why) {
    cancelled_ = why;
    cancelled_flag_.store(true, std::memory_order_release);
    if (!this->is_ready()) this->fail(std::move(why));
  }

  // imap's side.

  [[nodiscard]] std::size_t size() const { return out_.size(); }
  [[nodiscard]] const R& result(std::size_t i) const { return out_[i]; }
  /// Results [0, prefix()) have all arrived (readable without the lock).
  [[nodiscard]] std::size_t prefix() const { return prefix_.load(std::memory_order_acquire); }
  /// Whether the map was cancelled (readable without the lock).
  [[nodiscard]] bool cancelled() const { return cancelled_flag_.load(std::memory_order_acquire); }
  /// The chunks (start, length) in the order they arrived (under the lock).
  [[nodiscard]] const std::vector<std::pair<std::size_t, std::size_t>>& arrivals() const {
    return arrivals_;
  }
  /// Rethrows the failure of the chunk that holds input pos, or the cancellation if pos never
  /// arrived (under the lock).
  void rethrow_at(std::size_t pos) const {
    auto it = failed_chunks_.upper_bound(pos);
    if (it != failed_chunks_.begin()) {
      --it;
      if (pos < it->first + it->second.first) std::rethrow_exception(it->second.second);
    }
    if (prefix() <= pos && cancelled_) std::rethrow_exception(cancelled_);
  }

 private:
  void arrived(std::size_t start, std::size_t len) {
    if (len > 0) {
      arrivals_.emplace_back(start, len);
      // Chunks past the complete prefix wait in `ahead_` until the gap before them closes.
      std::size_t prefix = prefix_.load(std::memory_order_relaxed);
      if (start == prefix) {
        prefix += len;
        for (auto it = ahead_.begin(); it != ahead_.end() && it->first == prefix;) {
          prefix += it->second;
          it = ahead_.erase(it);
        }
        prefix_.store(prefix, std::memory_order_release);
      } else {
        ahead_.emplace(start, len);
      }
    }
    const std::size_t done = this->units_done() + len;
    this->set_units_done(done);
    if (done == out_.size()) finish();
  }
  void finish() {
    if (this->is_ready()) return;
    if (!failures_.empty()) return this->fail(failures_.begin()->second);  // the lowest index
    if (completion_order_) {
      std::vector<R> in_arrival_order;
      in_arrival_order.reserve(out_.size());
      for (auto [start, len] : arrivals_)
        for (std::size_t i = start; i < start + len; ++i)
          in_arrival_order.push_back(std::move(out_[i]));
      this->set(std::move(in_arrival_order));
    } else if (!streaming_) {
      this->set(std::move(out_));
    } else {
      this->complete();
    }
  }

  std::vector<R> out_;
  bool streaming_;
  bool completion_order_;
  std::vector<std::pair<std::size_t, std::size_t>> arrivals_;  // (start, length)
  std::map<std::size_t, std::size_t> ahead_;                   // start -> length
  std::map<std::size_t, std::pair<std::size_t, std::exception_ptr>> failed_chunks_;
  std::map<std::size_t, std::exception_ptr> failures_;  // input index -> its failure
  std::atomic<std::size_t> prefix_{0};
  std::atomic<bool> cancelled_flag_{false};
  std::exception_ptr cancelled_;
};

}  // namespace ranks::detail
