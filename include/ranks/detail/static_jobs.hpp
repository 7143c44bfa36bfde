#pragma once

// The static jobs behind Pool's static schedule and the direct views: work partitioned once
// over a group, one slot per engine, run as MPI collectives where the group is a whole
// communicator (jobs.hpp has the dynamic ones and what both share).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "ranks/detail/jobs.hpp"

namespace ranks::detail {

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
      : body_(task_body<Task>(f, [](Writer&) {})),
        items_(std::move(items)),
        state_(std::move(state)) {
    kind = "map";
    std::size_t start = 0;
    for (std::size_t len : partition(items_.view.size(), slots)) {
      slots_.emplace_back(start, len);
      start += len;
    }
    if constexpr (!is_raw_element_v<T>) {
      Writer iw(encoded_);
      for (auto [s, len] : slots_) {
        offsets_.push_back(encoded_.size());
        encode_inputs(iw, items_.view.data(), s, len);
      }
      offsets_.push_back(encoded_.size());
    }
  }
  [[nodiscard]] StateBase& state() override { return *state_; }
  [[nodiscard]] const TaskBody& body() const override { return body_; }
  [[nodiscard]] std::uint64_t count(std::size_t slot) const override { return slots_[slot].second; }
  [[nodiscard]] std::span<const std::byte> items(std::size_t slot) const override {
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
    if (len == 0 && r.outcome.ok) return;
    state_->settle(start, len, r);
  }
  void cancel(std::exception_ptr why) override { state_->cancel(std::move(why)); }

 private:
  TaskBody body_;
  Items<T> items_;
  std::shared_ptr<MapState<R>> state_;
  std::vector<std::pair<std::size_t, std::size_t>> slots_;
  Bytes encoded_;
  std::vector<std::size_t> offsets_;
};

/// A call over a group, one slot per engine: the same body to each (its count set per slot),
/// and either one payload for every slot (broadcast) or a payload per slot (scatter). The
/// slots' replies (R each, collected by gather) become one value, Out.
template <class R, class Out>
class StaticCallJob final : public StaticJob {
 public:
  using Finish = Out (*)(std::vector<R>&&);
  /// offsets: slot i's items are payload[offsets[i], offsets[i + 1]); empty: all of it for each.
  StaticCallJob(TaskBody body, std::vector<std::uint64_t> counts, Bytes payload,
                std::vector<std::size_t> offsets, Finish finish, std::shared_ptr<State<Out>> state)
      : body_(std::move(body)),
        counts_(std::move(counts)),
        payload_(std::move(payload)),
        offsets_(std::move(offsets)),
        finish_(finish),
        state_(std::move(state)),
        results_(counts_.size()),
        errors_(counts_.size()) {
    kind = "view";
  }
  [[nodiscard]] StateBase& state() override { return *state_; }
  [[nodiscard]] const TaskBody& body() const override { return body_; }
  [[nodiscard]] std::uint64_t count(std::size_t slot) const override { return counts_[slot]; }
  [[nodiscard]] std::span<const std::byte> items(std::size_t slot) const override {
    if (shared()) return payload_;
    return std::span<const std::byte>(payload_).subspan(offsets_[slot],
                                                        offsets_[slot + 1] - offsets_[slot]);
  }
  [[nodiscard]] bool shared() const override { return offsets_.empty(); }
  void deliver(std::uint64_t slot, Reply& r) override {
    state_->add_metadata(metadata_of(r, slot, 1));
    if (!r.outcome.ok) {
      errors_[slot] = remote_error(r.outcome, r.payload);
    } else {
      try {
        decode(r.payload, results_[slot]);
      } catch (...) {
        errors_[slot] = std::current_exception();
      }
    }
    const std::size_t done = state_->units_done() + 1;
    state_->set_units_done(done);
    if (done < counts_.size()) return;
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
  void cancel(std::exception_ptr why) override { state_->fail(std::move(why)); }

 private:
  TaskBody body_;
  std::vector<std::uint64_t> counts_;
  Bytes payload_;
  std::vector<std::size_t> offsets_;
  Finish finish_;
  std::shared_ptr<State<Out>> state_;
  std::vector<R> results_;
  std::vector<std::exception_ptr> errors_;
};

}  // namespace ranks::detail
