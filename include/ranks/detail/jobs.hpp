#pragma once

// The jobs behind Pool and the views: how a call is cut into messages and how replies become
// results. Header-only because they are templates over the user's callables and types.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <ranges>
#include <set>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/registry.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/detail/state.hpp"
#include "ranks/metadata.hpp"

namespace ranks::detail {

/// Writes a task message into w (an empty buffer): header, the callable's state, then whatever
/// `payload` writes.
template <class Task, class F, class Payload>
void write_message(Writer& w, const F& f, std::uint64_t count, Payload&& payload) {
  TaskHeader h;
  h.invoker = invoker_id<Task>();
  h.count = count;
  const std::size_t at = begin_header(w, h);
  encode_callable(w, h, f);
  payload(w);
  std::memcpy(w.at(at), &h, sizeof h);
  seal(w.buffer());
}

/// A task message with everything in its bytes.
template <class Task, class F, class Payload>
Bytes make_message(const F& f, std::uint64_t count, Payload&& payload) {
  Bytes msg;
  Writer w(msg);
  write_message<Task>(w, f, count, std::forward<Payload>(payload));
  return msg;
}

/// The task type of f(args...) for the arguments as given.
template <class F, class... Args>
using ApplyTaskFor = ApplyTask<F, wire_t<Args>...>;

/// The message of f(args...) with every argument in its bytes: for control messages, which are
/// copied per target, broadcast or joined to their items.
template <class F, class... Args>
Bytes apply_bytes(const F& f, const Args&... args) {
  return make_message<ApplyTaskFor<F, Args...>>(
      f, 0, [&](Writer& w) { (encode(w, wire_value(args)), ...); });
}

/// The message of Task with callable f and arguments args, reading large contiguous arguments
/// (vectors, strings) in place as attachments: the arguments must outlive the send (see
/// Borrowed).
template <class Task, class F, class... Args>
Message task_message(const F& f, const Args&... args) {
  Message m;
  Writer w(m.bytes, &m.attachments);
  write_message<Task>(w, f, 0, [&](Writer& out) { (encode(out, wire_value(args)), ...); });
  return m;
}

/// What a message keeps of an argument: moved from an rvalue; else a copy, whose large
/// contiguous data is written to huge pages (a fresh 64 MiB block faults in 4 KiB pages at a
/// quarter of the speed of the copy itself).
template <class T>
wire_t<std::remove_cvref_t<T>> kept(T&& v) {
  using V = wire_t<std::remove_cvref_t<T>>;
  if constexpr (std::is_same_v<std::remove_cvref_t<T>, V> &&
                (vector_kind<V>::raw || is_string<V>::value)) {
    if constexpr (std::is_lvalue_reference_v<T>) {
      V out;
      out.reserve(v.size());
      prefer_huge_pages(out.data(), v.size() * sizeof(typename V::value_type));
      out.assign(v.begin(), v.end());
      return out;
    } else {
      return V(std::forward<T>(v));
    }
  } else {
    return V(std::forward<T>(v));
  }
}

/// As task_message, for a call that returns before it is sent: arguments with large attachments
/// are kept with the message, moved in where the caller gave them up.
template <class Task, class F, class... Args>
Message task_message_owned(const F& f, Args&&... args) {
  Message m = task_message<Task>(f, args...);
  if (m.attachments.empty()) return m;  // everything is in the message's bytes already
  auto held =
      std::make_shared<const std::tuple<wire_t<Args>...>>(kept(std::forward<Args>(args))...);
  m = std::apply([&](const auto&... a) { return task_message<Task>(f, a...); }, *held);
  m.keep = std::move(held);
  return m;
}

/// The message of f(args...), its large arguments read in place (see task_message).
template <class F, class... Args>
Message apply_message(const F& f, const Args&... args) {
  return task_message<ApplyTaskFor<F, Args...>>(f, args...);
}

/// The message of f(args...), its large arguments kept with it (see task_message_owned).
template <class F, class... Args>
Message apply_message_owned(const F& f, Args&&... args) {
  return task_message_owned<ApplyTaskFor<F, Args...>>(f, std::forward<Args>(args)...);
}

/// Lends a caller's arguments to a message: the destructor waits until MPI no longer reads them
/// (at once, in practice: the reply that the caller waited for came after they were received).
class Borrowed {
 public:
  Borrowed() = default;
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  ~Borrowed() {
    if (!token_) return;
    std::weak_ptr<const void> gone = token_;
    token_.reset();
    try {
      wait_until([&gone] { return gone.expired(); });
    } catch (...) {  // no controller left: nothing is sending
    }
  }
  /// Ties msg's attachments to this loan (a message without attachments needs none).
  void lend(Message& msg) {
    if (msg.attachments.empty()) return;
    token_ = std::make_shared<int>(0);
    msg.keep = token_;
  }

 private:
  std::shared_ptr<const void> token_;
};

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

/// What a reply says about its task, for AsyncResult::metadata.
inline TaskMetadata metadata_of(const Reply& r, std::size_t first, std::size_t count,
                                int attempt = 0) {
  using std::chrono::system_clock;
  auto at = [](std::int64_t ns) {
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
  };
  return TaskMetadata{r.engine, r.submitted, at(r.started_ns), at(r.completed_ns),
                      first,    count,       attempt,          r.ok};
}

/// How often a failed part may be sent again, and where it already failed: a retry goes to an
/// engine it has not failed on, while the group has one.
class Attempts {
 public:
  explicit Attempts(int retries = 0) : retries_(retries) {}
  [[nodiscard]] bool allows(int engine, int workers) const {
    return failed_on_.size() >= static_cast<std::size_t>(std::max(workers, 1)) ||
           failed_on_.count(engine) == 0;
  }
  /// Records a failure on `engine`; true if the part may be tried again.
  bool failed(int engine) {
    if (used_ >= retries_) return false;
    ++used_;
    failed_on_.insert(engine);
    return true;
  }
  [[nodiscard]] int used() const { return used_; }
  [[nodiscard]] bool can_retry() const { return used_ < retries_; }

 private:
  int retries_;
  int used_ = 0;
  std::set<int> failed_on_;
};

/// One message, one result (apply, a Process, an execute on one engine); retried on failure up
/// to `retries` times.
template <class R>
class SingleJob final : public DynamicJob {
 public:
  SingleJob(Message msg, std::shared_ptr<State<R>> state, int retries = 0)
      : msg_(std::move(msg)), state_(std::move(state)), tries_(retries) {}
  [[nodiscard]] bool has_next() const override { return !sent_; }
  [[nodiscard]] bool wants(int engine, int workers) const override {
    return tries_.allows(engine, workers);
  }
  std::uint64_t next(Message& msg, int, int, int) override {
    sent_ = true;
    if (tries_.can_retry()) {
      msg = msg_;  // kept for a retry
    } else {
      msg = std::move(msg_);
    }
    return 0;
  }
  void deliver(std::uint64_t, Reply& r) override {
    state_->metadata_.push_back(metadata_of(r, 0, 1, tries_.used()));
    if (!r.ok && tries_.failed(r.engine)) {
      sent_ = false;  // the controller queues the job again
      return;
    }
    settle(*state_, r);
  }
  void cancel(std::exception_ptr why) override { state_->fail(why); }

 private:
  Message msg_;
  std::shared_ptr<State<R>> state_;
  Attempts tries_;
  bool sent_ = false;
};

/// Where map results land: the whole vector, and for imap the order in which chunks arrived.
template <class R>
class MapState : public State<std::vector<R>> {
 public:
  /// streaming: imap reads out_ while results arrive, so it is never moved into the value.
  /// completion_order: the value lists results in the order they arrived, not input order.
  MapState(std::size_t n, bool streaming, bool completion_order = false)
      : n_(n), out_(n), streaming_(streaming), completion_order_(completion_order) {
    this->units_total_ = n;
  }

  // Under the lock.
  void chunk_done(std::size_t start, std::size_t len) {
    if (len > 0) {
      arrived_.emplace_back(start, len);
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
    done_ += len;
    items_done_.store(done_, std::memory_order_release);
    this->units_done_.store(done_, std::memory_order_release);
    if (done_ == n_) finish();
  }
  void chunk_failed(std::size_t start, std::size_t len, std::size_t index, std::exception_ptr e) {
    failures_.emplace(index, std::move(e));
    failed_chunks_[start] = {len, failures_.find(index)->second};
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
  std::vector<std::pair<std::size_t, std::size_t>> arrived_;  // (start, length)
  std::map<std::size_t, std::size_t> ahead_;                  // start -> length
  std::map<std::size_t, std::pair<std::size_t, std::exception_ptr>> failed_chunks_;
  std::atomic<std::size_t> prefix_{0};
  std::atomic<std::size_t> items_done_{0};
  std::atomic<bool> cancelled_flag_{false};
  std::exception_ptr cancelled_;

 private:
  void finish() {
    if (!failures_.empty()) {
      finish_with(failures_.begin()->second);  // the lowest failing input index
    } else {
      if (completion_order_) {
        std::vector<R> arrived;
        arrived.reserve(n_);
        for (auto [start, len] : arrived_)
          for (std::size_t i = start; i < start + len; ++i) arrived.push_back(std::move(out_[i]));
        this->value_ = std::move(arrived);
      } else if (!streaming_) {
        this->value_ = std::move(out_);
      }
      this->complete();
    }
  }
  void finish_with(std::exception_ptr e) {
    if (!this->is_ready()) this->fail(std::move(e));
  }
  bool streaming_;
  bool completion_order_;
  std::size_t done_ = 0;
  std::map<std::size_t, std::exception_ptr> failures_;
};

/// Decodes one chunk's reply into the map state.
template <class R>
void settle_chunk(MapState<R>& s, std::size_t start, std::size_t len, Reply& r, int attempt = 0) {
  s.metadata_.push_back(metadata_of(r, start, len, attempt));
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

template <class Range>
using item_t = std::remove_cvref_t<std::ranges::range_value_t<Range>>;

/// The items of an asynchronous call: kept alive by the job (moved in where they can be).
template <class Range>
Items<item_t<Range>> keep_items(Range&& items) {
  using T = item_t<Range>;
  std::shared_ptr<const std::vector<T>> owned;
  if constexpr (std::is_same_v<std::remove_cvref_t<Range>, std::vector<T>> &&
                !std::is_lvalue_reference_v<Range>) {
    owned = std::make_shared<const std::vector<T>>(std::forward<Range>(items));
  } else {
    owned =
        std::make_shared<const std::vector<T>>(std::ranges::begin(items), std::ranges::end(items));
  }
  return {std::span<const T>(owned->data(), owned->size()), owned};
}

/// The items of a synchronous call: a view, the caller waits while they are used.
template <class Range>
Items<item_t<Range>> view_items(Range& items) {
  using T = item_t<Range>;
  if constexpr (std::ranges::contiguous_range<Range> && std::ranges::sized_range<Range>) {
    return {std::span<const T>(std::ranges::data(items), std::ranges::size(items)), nullptr};
  } else {
    return keep_items(items);
  }
}

/// Map through the dynamic queue: chunks cut as engines free up, large first and shrinking
/// (guided self-scheduling) unless the caller fixed the chunk size. A failed chunk is sent
/// again, to another engine where there is one, up to `retries` times.
template <class Task, class F, class T, class R>
class DynamicMapJob final : public DynamicJob {
 public:
  DynamicMapJob(const F& f, Items<T> items, std::size_t chunksize,
                std::shared_ptr<MapState<R>> state, int retries = 0)
      : items_(std::move(items)),
        chunksize_(chunksize),
        state_(std::move(state)),
        retries_(retries) {
    Writer w(fstate_);
    encode_callable(w, header_, f);
    header_.invoker = invoker_id<Task>();
    if (items_.view.empty()) state_->chunk_done(0, 0);
  }
  [[nodiscard]] bool has_next() const override {
    return cursor_ < items_.view.size() || !again_.empty();
  }
  [[nodiscard]] bool wants(int engine, int workers) const override {
    if (cursor_ < items_.view.size()) return true;
    return std::any_of(again_.begin(), again_.end(), [&](std::uint64_t key) {
      return parts_[key].tries.allows(engine, workers);
    });
  }
  std::uint64_t next(Message& msg, int workers, int depth, int engine) override {
    for (auto it = again_.begin(); it != again_.end(); ++it) {
      if (!parts_[*it].tries.allows(engine, workers)) continue;
      const std::uint64_t key = *it;
      again_.erase(it);
      encode_part(msg.bytes, parts_[key].start, parts_[key].len);
      return key;
    }
    const std::size_t left = items_.view.size() - cursor_;
    std::size_t len = chunksize_;
    if (len == 0) {
      const auto w = static_cast<std::size_t>(std::max(1, workers));
      const std::size_t ways = 2 * w * static_cast<std::size_t>(std::max(1, depth));
      len = (left + ways - 1) / ways;
      // Once the time per item is known, no part is shorter than kMinPartNs (its round trip
      // would cost more than its work), up to an even share of what is left: tiny items go in
      // a few large parts, long ones still one by one at the end.
      if (item_ns_ > 0) {
        const auto floor = static_cast<std::size_t>(kMinPartNs / item_ns_) + 1;
        len = std::max(len, std::min(floor, (left + w - 1) / w));
        if (left - std::min(len, left) < floor / 4) len = left;  // no tail of crumbs
      }
    }
    len = std::min(std::max<std::size_t>(len, 1), left);
    encode_part(msg.bytes, cursor_, len);
    const std::uint64_t key = parts_.size();
    parts_.push_back(Part{cursor_, len, Attempts(retries_)});
    cursor_ += len;
    return key;
  }
  void deliver(std::uint64_t key, Reply& r) override {
    Part& p = parts_[key];
    if (r.ok && p.len > 0) {
      const double ns = static_cast<double>(r.busy_ns) / static_cast<double>(p.len);
      item_ns_ = item_ns_ == 0 ? ns : 0.75 * item_ns_ + 0.25 * ns;
    }
    const int attempt = p.tries.used();
    if (!r.ok && p.tries.failed(r.engine)) {
      state_->metadata_.push_back(metadata_of(r, p.start, p.len, attempt));
      again_.push_back(key);  // the controller queues the job again
      return;
    }
    settle_chunk(*state_, p.start, p.len, r, attempt);
  }
  void cancel(std::exception_ptr why) override { state_->cancel(why); }

 private:
  struct Part {
    std::size_t start;
    std::size_t len;
    Attempts tries;
  };
  void encode_part(Bytes& msg, std::size_t start, std::size_t len) const {
    msg.clear();
    // Room for the header, the callable, raw items and transport's trailer: no regrowth.
    msg.reserve(sizeof(TaskHeader) + fstate_.size() + len * sizeof(T) + 64);
    Writer w(msg);
    TaskHeader h = header_;
    h.count = len;
    begin_header(w, h);
    w.raw(fstate_.data(), fstate_.size());
    encode_items(w, items_.view.data() + start, len);
    seal(msg);
  }

  static constexpr double kMinPartNs = 100'000;

  Items<T> items_;
  std::size_t chunksize_;
  std::shared_ptr<MapState<R>> state_;
  int retries_;
  TaskHeader header_;
  Bytes fstate_;
  double item_ns_ = 0;  // measured time per item on an engine (moving average)
  std::size_t cursor_ = 0;
  std::vector<Part> parts_;
  std::deque<std::uint64_t> again_;  // failed parts waiting for a retry
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

/// No value: what a push, an execute or a scatter returns from each engine.
struct Nothing {};

/// A call over a group, one slot per engine: the same control message to each (its header's
/// count set per slot), and either one payload for every slot (broadcast) or a payload per slot
/// (scatter). The slots' replies (R each, collected by gather) become one value, Out.
template <class R, class Out>
class StaticCallJob final : public StaticJob {
 public:
  using Finish = Out (*)(std::vector<R>&&);
  /// offsets: slot i's items are payload[offsets[i], offsets[i + 1]); empty: all of it for each.
  StaticCallJob(Bytes control, std::vector<std::uint64_t> counts, Bytes payload,
                std::vector<std::size_t> offsets, Finish finish, std::shared_ptr<State<Out>> state)
      : control_(std::move(control)),
        counts_(std::move(counts)),
        payload_(std::move(payload)),
        offsets_(std::move(offsets)),
        finish_(finish),
        state_(std::move(state)),
        results_(counts_.size()),
        errors_(counts_.size()) {
    state_->units_total_ = counts_.size();
  }
  Bytes control(std::size_t slot) override {
    Bytes msg = control_;
    auto h = read_header<TaskHeader>(msg);
    h.count = counts_[slot];
    patch_header(msg, h);
    return msg;
  }
  std::span<const std::byte> items(std::size_t slot) override {
    if (shared()) return payload_;
    return std::span<const std::byte>(payload_).subspan(offsets_[slot],
                                                        offsets_[slot + 1] - offsets_[slot]);
  }
  [[nodiscard]] bool shared() const override { return offsets_.empty(); }
  void deliver(std::uint64_t slot, Reply& r) override {
    state_->metadata_.push_back(metadata_of(r, slot, 1));
    if (!r.ok) {
      errors_[slot] = remote_error(r);
    } else {
      try {
        decode(r.payload, results_[slot]);
      } catch (...) {
        errors_[slot] = std::current_exception();
      }
    }
    state_->units_done_.store(++done_, std::memory_order_release);
    if (done_ < counts_.size()) return;
    for (auto& e : errors_)
      if (e) return state_->fail(e);  // the first failing target, in target order
    if constexpr (std::is_void_v<Out>) {
      state_->set();
    } else {
      try {
        state_->set(finish_(std::move(results_)));
      } catch (...) {
        state_->fail(std::current_exception());
      }
    }
  }
  void cancel(std::exception_ptr why) override { state_->fail(why); }

 private:
  Bytes control_;
  std::vector<std::uint64_t> counts_;
  Bytes payload_;
  std::vector<std::size_t> offsets_;
  Finish finish_;
  std::shared_ptr<State<Out>> state_;
  std::vector<R> results_;
  std::vector<std::exception_ptr> errors_;
  std::size_t done_ = 0;
};

}  // namespace ranks::detail
