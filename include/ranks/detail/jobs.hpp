#pragma once

// The jobs behind Pool and the views: how a call is cut into messages and how replies become
// results. Header-only because they are templates over the user's callables and types.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/registry.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/detail/state.hpp"

namespace ranks::detail {

/// A task message: header, the callable's state, then whatever `payload` writes.
template <class Task, class F, class Payload>
Bytes make_message(const F& f, std::uint64_t count, Payload&& payload) {
  Bytes msg;
  Writer w(msg);
  TaskHeader h;
  h.invoker = invoker_id<Task>();
  h.count = count;
  const std::size_t at = begin_header(w, h);
  encode_callable(w, h, f);
  payload(w);
  std::memcpy(w.at(at), &h, sizeof h);
  seal(msg);
  return msg;
}

/// Decodes a reply into a state: the value, or the remote failure.
template <class R>
void settle(State<R>& s, Reply& r) {
  if (!r.ok) {
    s.fail(remote_error(r));
  } else if constexpr (std::is_void_v<R>) {
    s.set();
  } else {
    try {
      s.set(decode_value<R>(r.payload));
    } catch (...) {
      s.fail(std::current_exception());
    }
  }
}

/// One message, one result (apply, a Process, an execute on one engine).
template <class R>
class SingleJob final : public DynamicJob {
 public:
  SingleJob(Bytes msg, std::shared_ptr<State<R>> state)
      : msg_(std::move(msg)), state_(std::move(state)) {}
  [[nodiscard]] bool has_next() const override { return !sent_; }
  std::uint64_t next(Bytes& msg, int, int) override {
    sent_ = true;
    msg = std::move(msg_);
    return 0;
  }
  void deliver(std::uint64_t, Reply& r) override { settle(*state_, r); }
  void cancel(std::exception_ptr why) override { state_->fail(why); }

 private:
  Bytes msg_;
  std::shared_ptr<State<R>> state_;
  bool sent_ = false;
};

/// Where map results land: the whole vector, and for imap the order in which chunks arrived.
template <class R>
class MapState : public State<std::vector<R>> {
 public:
  /// streaming: imap reads out_ while results arrive, so it is never moved into the value.
  MapState(std::size_t n, bool streaming) : n_(n), out_(n), streaming_(streaming) {}

  // Under the lock.
  void chunk_done(std::size_t start, std::size_t len) {
    if (len > 0) {
      arrived_.emplace_back(start, len);
      chunks_[start] = len;
    }
    while (true) {
      auto it = chunks_.find(prefix_.load(std::memory_order_relaxed));
      if (it == chunks_.end()) break;
      prefix_.store(it->first + it->second, std::memory_order_release);
    }
    done_ += len;
    items_done_.store(done_, std::memory_order_release);
    if (done_ == n_) finish();
  }
  void chunk_failed(std::size_t start, std::size_t len, std::size_t index, std::exception_ptr e) {
    failures_.emplace(index, std::move(e));
    failed_chunks_[start] = failures_.find(index)->second;
    chunk_done(start, len);
  }
  void cancel(std::exception_ptr why) {
    cancelled_ = why;
    cancelled_flag_.store(true, std::memory_order_release);
    finish_with(why);
  }
  [[nodiscard]] bool cancelled_ready() const {
    return cancelled_flag_.load(std::memory_order_acquire);
  }

  std::size_t n_;
  std::vector<R> out_;
  // imap's view; readable without the lock once the atomics say so
  std::vector<std::pair<std::size_t, std::size_t>> arrived_;
  std::map<std::size_t, std::size_t> chunks_;
  std::map<std::size_t, std::exception_ptr> failed_chunks_;
  std::atomic<std::size_t> prefix_{0};
  std::atomic<std::size_t> items_done_{0};
  std::atomic<bool> cancelled_flag_{false};
  std::exception_ptr cancelled_;

 private:
  void finish() {
    if (!failures_.empty()) {
      finish_with(failures_.begin()->second);  // the lowest failing input index
    } else {
      if (!streaming_) this->value_ = std::move(out_);
      this->complete();
    }
  }
  void finish_with(std::exception_ptr e) {
    if (!this->is_ready()) this->fail(std::move(e));
  }
  bool streaming_;
  std::size_t done_ = 0;
  std::map<std::size_t, std::exception_ptr> failures_;
};

/// Decodes one chunk's reply into the map state.
template <class R>
void settle_chunk(MapState<R>& s, std::size_t start, std::size_t len, Reply& r) {
  if (!r.ok) {
    const std::size_t at =
        start + static_cast<std::size_t>(std::max<std::int64_t>(r.failed_item, 0));
    s.chunk_failed(start, len, at, remote_error(r, static_cast<std::ptrdiff_t>(start)));
    return;
  }
  try {
    if constexpr (is_raw_element_v<R>) {
      if (len) r.payload.raw(s.out_.data() + start, len * sizeof(R));
    } else {
      for (std::size_t i = 0; i < len; ++i) {
        R v{};
        decode(r.payload, v);
        s.out_[start + i] = std::move(v);
      }
    }
    s.chunk_done(start, len);
  } catch (...) {
    s.chunk_failed(start, len, start, std::current_exception());
  }
}

/// The input of a map: a view on the caller's items, and what keeps them alive.
template <class T>
struct Items {
  std::span<const T> view;
  std::shared_ptr<const void> keep;
};

/// Map through the dynamic queue: chunks cut as engines free up, large first and shrinking
/// (guided self-scheduling) unless the caller fixed the chunk size.
template <class Task, class F, class T, class R>
class DynamicMapJob final : public DynamicJob {
 public:
  DynamicMapJob(const F& f, Items<T> items, std::size_t chunksize,
                std::shared_ptr<MapState<R>> state)
      : items_(std::move(items)), chunksize_(chunksize), state_(std::move(state)) {
    Writer w(fstate_);
    encode_callable(w, header_, f);
    header_.invoker = invoker_id<Task>();
    if (items_.view.empty()) state_->chunk_done(0, 0);
  }
  [[nodiscard]] bool has_next() const override { return cursor_ < items_.view.size(); }
  std::uint64_t next(Bytes& msg, int workers, int depth) override {
    const std::size_t left = items_.view.size() - cursor_;
    std::size_t len = chunksize_;
    if (len == 0) {
      const std::size_t ways = 2 * static_cast<std::size_t>(std::max(1, workers)) *
                               static_cast<std::size_t>(std::max(1, depth));
      len = (left + ways - 1) / ways;
    }
    len = std::min(std::max<std::size_t>(len, 1), left);
    msg.clear();
    Writer w(msg);
    TaskHeader h = header_;
    h.count = len;
    begin_header(w, h);
    w.raw(fstate_.data(), fstate_.size());
    encode_items(w, items_.view.data() + cursor_, len);
    seal(msg);
    const std::uint64_t key = parts_.size();
    parts_.emplace_back(cursor_, len);
    cursor_ += len;
    return key;
  }
  void deliver(std::uint64_t key, Reply& r) override {
    const auto [start, len] = parts_[key];
    settle_chunk(*state_, start, len, r);
  }
  void cancel(std::exception_ptr why) override { state_->cancel(why); }

 private:
  Items<T> items_;
  std::size_t chunksize_;
  std::shared_ptr<MapState<R>> state_;
  TaskHeader header_;
  Bytes fstate_;
  std::size_t cursor_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> parts_;
};

/// Sizes of a static partition: contiguous, differing by at most one, the larger ones first.
inline std::vector<std::size_t> partition(std::size_t n, std::size_t ways) {
  std::vector<std::size_t> sizes(ways, n / ways);
  for (std::size_t i = 0; i < n % ways; ++i) ++sizes[i];
  return sizes;
}

/// Map partitioned once over a group: one chunk per engine (MPI scatterv / gatherv).
template <class Task, class F, class T, class R>
class StaticMapJob final : public StaticJob {
 public:
  StaticMapJob(const F& f, Items<T> items, std::size_t slots, std::shared_ptr<MapState<R>> state)
      : items_(std::move(items)), state_(std::move(state)) {
    Writer w(fstate_);
    encode_callable(w, header_, f);
    header_.invoker = invoker_id<Task>();
    std::size_t start = 0;
    for (std::size_t len : partition(items_.view.size(), slots)) {
      slots_.emplace_back(start, len);
      start += len;
    }
    if constexpr (!is_raw_element_v<T>) {
      Writer iw(encoded_);
      for (auto [s, len] : slots_) {
        offsets_.push_back(encoded_.size());
        encode_items(iw, items_.view.data() + s, len);
      }
      offsets_.push_back(encoded_.size());
    }
    if (items_.view.empty()) state_->chunk_done(0, 0);
  }
  Bytes control(std::size_t slot) override {
    Bytes msg;
    Writer w(msg);
    TaskHeader h = header_;
    h.count = slots_[slot].second;
    begin_header(w, h);
    w.raw(fstate_.data(), fstate_.size());
    seal(msg);
    return msg;
  }
  std::span<const std::byte> items(std::size_t slot) override {
    if constexpr (is_raw_element_v<T>) {
      const auto [start, len] = slots_[slot];
      return std::as_bytes(items_.view.subspan(start, len));
    } else {
      return std::span<const std::byte>(encoded_).subspan(offsets_[slot],
                                                          offsets_[slot + 1] - offsets_[slot]);
    }
  }
  void deliver(std::uint64_t slot, Reply& r) override {
    const auto [start, len] = slots_[slot];
    if (len == 0 && r.ok) return;
    settle_chunk(*state_, start, len, r);
  }
  void cancel(std::exception_ptr why) override { state_->cancel(why); }

 private:
  Items<T> items_;
  std::shared_ptr<MapState<R>> state_;
  TaskHeader header_;
  Bytes fstate_;
  std::vector<std::pair<std::size_t, std::size_t>> slots_;
  Bytes encoded_;
  std::vector<std::size_t> offsets_;
};

}  // namespace ranks::detail
