#pragma once

// The jobs behind Pool and the views: how a call is cut into parts and how the parts' replies
// become results; here the dynamic ones (static_jobs.hpp: those partitioned once over a group).
// Header-only because they are templates over the user's callables and types.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/error_report.hpp"
#include "ranks/detail/items.hpp"
#include "ranks/detail/job.hpp"
#include "ranks/detail/map_state.hpp"
#include "ranks/detail/message.hpp"
#include "ranks/detail/state.hpp"

namespace ranks::detail {

/// Refuses, at compile time, a map over a function that returns nothing.
template <class R>
constexpr void check_map_result() {
  static_assert(!std::is_void_v<R>,
                "ranks: map needs a function that returns a value; use apply_async in a loop "
                "for functions returning void");
}

/// Encodes the map inputs items[start, start + len) into w. Where one cannot be encoded (its
/// serialize() throws), throws ranks::Error naming the first such input and why.
template <class T>
void encode_inputs(Writer& w, const T* items, std::size_t start, std::size_t len) {
  try {
    encode_items(w, items + start, len);
  } catch (...) {
    for (std::size_t i = start; i < start + len; ++i) {
      try {
        Bytes scratch;
        Writer alone(scratch);
        encode(alone, items[i]);
      } catch (...) {
        const ErrorInfo e = current_error();
        throw Error("map input " + std::to_string(i) + " could not be encoded to send (" +
                    e.type_name + ": " + e.message + "); the map fails, the pool serves on");
      }
    }
    throw;
  }
}

/// Decodes a reply into a state: the value, or the remote failure.
template <class R>
void settle(State<R>& s, Reply& r) {
  if (!r.outcome.ok) {
    s.fail(remote_error(r.outcome, r.payload));
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
  /// Records that the part was lost with `engine`; true if it may run again. A part whose
  /// engine died counts one attempt, and may always run once more: a part that kills every
  /// engine it meets fails on the second rather than empty the pool.
  bool lost(int engine) {
    if (used_ >= std::max(retries_, 1)) return false;
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

/// How a task may be run again, and for how long it may run.
struct TaskPolicy {
  int retries = 0;                     // after a failure (a lost engine counts as one)
  bool rerun_lost = true;              // false: a lost engine fails the task (a Process)
  std::chrono::nanoseconds timeout{};  // zero: none
};

/// One message, one result (apply, a Process, a call on one engine); retried on failure up to
/// `retries` times.
template <class R>
class SingleJob final : public DynamicJob {
 public:
  SingleJob(Message msg, std::shared_ptr<State<R>> state, int retries = 0)
      : SingleJob(std::move(msg), std::move(state), TaskPolicy{retries}) {}
  SingleJob(Message msg, std::shared_ptr<State<R>> state, TaskPolicy policy)
      : msg_(std::move(msg)),
        state_(std::move(state)),
        tries_(policy.retries),
        rerun_lost_(policy.rerun_lost),
        timeout_(policy.timeout) {}
  [[nodiscard]] StateBase& state() override { return *state_; }
  [[nodiscard]] std::chrono::nanoseconds timeout() const override { return timeout_; }
  [[nodiscard]] int depth() const override { return timeout_.count() > 0 ? 1 : 2; }
  bool lost(std::uint64_t, int engine) override {
    if (cancelled_ || !rerun_lost_ || !tries_.lost(engine)) return false;
    pending_ = true;  // the controller queues the job again
    return true;
  }
  [[nodiscard]] bool has_next() const override { return pending_; }
  [[nodiscard]] bool wants(int engine, int workers) const override {
    return tries_.allows(engine, workers);
  }
  std::uint64_t next(Message& msg, int, int, int) override {
    pending_ = false;
    if (tries_.can_retry() || (rerun_lost_ && tries_.used() == 0)) {
      msg = msg_;  // kept for a retry, or to run again if the engine is lost
    } else {
      msg = std::move(msg_);
    }
    return 0;
  }
  void deliver(std::uint64_t, Reply& r) override {
    state_->add_metadata(metadata_of(r, 0, 1, tries_.used()));
    if (!r.outcome.ok && !cancelled_ && tries_.failed(r.outcome.engine)) {
      pending_ = true;  // the controller queues the job again
      return;
    }
    if (into_ && r.outcome.ok) {
      try {
        into_(r.payload);
      } catch (...) {
        return state_->fail(std::current_exception());
      }
    }
    settle(*state_, r);
  }
  void cancel(std::exception_ptr why) override {
    cancelled_ = true;
    pending_ = false;
    state_->fail(std::move(why));
  }
  /// For a job that gives no value: what decodes its reply into the caller's memory
  /// (pull_into), before the result is ready.
  void decode_into(std::function<void(Reader&)> into) requires std::is_void_v<R> {
    into_ = std::move(into);
  }

 private:
  Message msg_;
  std::shared_ptr<State<R>> state_;
  std::function<void(Reader&)> into_;
  Attempts tries_;
  bool rerun_lost_;
  std::chrono::nanoseconds timeout_;
  bool pending_ = true;
  bool cancelled_ = false;
};

/// Map through the dynamic queue: chunks cut as engines free up, large first and shrinking
/// (guided self-scheduling) unless the caller fixed the chunk size. A failed chunk is sent
/// again, to another engine where there is one, up to `retries` times.
template <class Task, class F, class T, class R>
class DynamicMapJob final : public DynamicJob {
 public:
  DynamicMapJob(const F& f, Items<T> items, std::size_t chunksize,
                std::shared_ptr<MapState<R>> state, TaskPolicy policy = {})
      : body_(task_body<Task>(f, [](Writer&) {})),
        items_(std::move(items)),
        chunksize_(chunksize),
        state_(std::move(state)),
        retries_(policy.retries),
        timeout_(policy.timeout) {
    kind = "map";
  }
  [[nodiscard]] StateBase& state() override { return *state_; }
  [[nodiscard]] std::chrono::nanoseconds timeout() const override { return timeout_; }
  bool lost(std::uint64_t key, int engine) override {
    forget_progress(parts_[key]);
    if (cancelled_ || !parts_[key].tries.lost(engine)) return false;
    again_.push_back(key);  // the controller queues the job again
    return true;
  }
  [[nodiscard]] bool has_next() const override {
    return !cancelled_ && (cursor_ < items_.view.size() || !again_.empty());
  }
  [[nodiscard]] bool wants(int engine, int workers) const override {
    if (cursor_ < items_.view.size()) return true;
    return std::any_of(again_.begin(), again_.end(), [&](std::uint64_t key) {
      return parts_[key].tries.allows(engine, workers);
    });
  }
  /// Enough parts in flight to cover a round trip (about 40 us), by the measured part time.
  [[nodiscard]] int depth() const override {
    if (timeout_.count() > 0) return 1;  // a part's time runs from when it is sent
    if (item_ns_ == 0 || parts_.empty()) return 2;
    const double part_ns = item_ns_ * static_cast<double>(parts_.back().len);
    return static_cast<int>(std::min(16.0, 2 + 40'000 / (part_ns + 1)));
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
      // Once the time per item is known, no part is shorter than the floor (its round trip
      // would cost more than its work), up to an even share of what is left: tiny items go in
      // a few large parts, long ones still one by one at the end.
      if (item_ns_ > 0) {
        const auto floor = static_cast<std::size_t>(min_part_ns(workers) / item_ns_) + 1;
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
  void progress(std::uint64_t key, std::size_t done) override {
    if (key >= parts_.size()) return;
    Part& p = parts_[key];
    done = std::min(done, p.len);
    if (done <= p.reported) return;
    state_->add_units_running(static_cast<std::ptrdiff_t>(done - p.reported));
    p.reported = done;
  }
  void deliver(std::uint64_t key, Reply& r) override {
    Part& p = parts_[key];
    forget_progress(p);
    if (r.outcome.ok && p.len > 0) {
      // The one measure of speed: busy time per item on an engine (moving average).
      const double ns = static_cast<double>(r.outcome.busy_ns) / static_cast<double>(p.len);
      item_ns_ = item_ns_ == 0 ? ns : 0.75 * item_ns_ + 0.25 * ns;
    }
    const int attempt = p.tries.used();
    if (!r.outcome.ok && !cancelled_ && p.tries.failed(r.outcome.engine)) {
      state_->add_metadata(metadata_of(r, p.start, p.len, attempt));
      again_.push_back(key);  // the controller queues the job again
      return;
    }
    state_->settle(p.start, p.len, r, attempt);
  }
  // Sends nothing more: parts already on engines still deliver, the rest are dropped (a reply
  // must not put a cancelled job back on the queue).
  void cancel(std::exception_ptr why) override {
    cancelled_ = true;
    again_.clear();
    state_->cancel(std::move(why));
  }

 private:
  struct Part {
    std::size_t start;
    std::size_t len;
    Attempts tries;
    std::size_t reported = 0;  // items its engine said are done, while it runs
  };
  // The part answered or lost: what its engine said of it leaves the progress shown.
  void forget_progress(Part& p) {
    state_->add_units_running(-static_cast<std::ptrdiff_t>(p.reported));
    p.reported = 0;
  }
  void encode_part(Bytes& msg, std::size_t start, std::size_t len) const {
    msg.clear();
    // Room for the header, the callable, raw items and transport's trailer: no regrowth.
    msg.reserve(sizeof(TaskHeader) + body_.state.size() + len * sizeof(T) + 64);
    Writer w(msg);
    write_body_message(w, body_, Kind::kTask, len);
    encode_inputs(w, items_.view.data(), start, len);
  }

  // The shortest part worth a message: 100 us, or with many engines long enough that the
  // controller, kControllerNsPerPart a part, stays under 90 % busy serving them all (the
  // scaling model of docs/SCALING.md: 0.7 ms at 1024 engines).
  static constexpr double kMinPartNs = 100'000;
  static constexpr double kControllerNsPerPart = 640;
  static double min_part_ns(int workers) {
    return std::max(kMinPartNs, workers * kControllerNsPerPart / 0.9);
  }

  TaskBody body_;
  Items<T> items_;
  std::size_t chunksize_;
  std::shared_ptr<MapState<R>> state_;
  int retries_;
  std::chrono::nanoseconds timeout_;
  double item_ns_ = 0;
  std::size_t cursor_ = 0;
  std::vector<Part> parts_;
  std::deque<std::uint64_t> again_;  // failed parts waiting for a retry
  bool cancelled_ = false;
};

}  // namespace ranks::detail
