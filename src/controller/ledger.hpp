#pragma once

// The parts the engines hold: every task sent and not yet answered, and the counts that follow
// from them: each engine's load (Engine::load), each group's parts in flight (Group::inflight)
// and how many parts have a deadline. Each count rises in one function (hold) and falls in one
// (release), so a part that leaves by any way — its reply, its engine lost, its timeout, the
// cluster stopped — leaves every count right.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "controller/group.hpp"
#include "controller/roster.hpp"
#include "ranks/detail/job.hpp"

namespace ranks::detail {

/// A part of a job on an engine: sent, not yet answered.
struct Part {
  std::shared_ptr<Job> job{};
  std::uint64_t key = 0;  // the job's name for the part
  int engine = 0;
  std::shared_ptr<Group> group{};  // the group it was dispatched for; none: sent to one engine
  std::chrono::system_clock::time_point submitted{};
  std::uint32_t invoker = 0;  // the task type, to name it if the engine dies
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  [[nodiscard]] bool timed() const {
    return deadline != std::chrono::steady_clock::time_point::max();
  }
};

class Ledger {
 public:
  explicit Ledger(Roster& roster) : roster_(roster) {}
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  /// Records a part sent under id.
  void add(std::uint64_t id, Part part);
  /// Takes the part answered under id; none if it left already (its engine was lost, it timed
  /// out, the cluster stopped): a reply that comes after is ignored.
  std::optional<Part> take(std::uint64_t id);
  /// Takes every part that engine holds.
  std::vector<Part> take_engine(int engine);
  /// Takes every part whose deadline is past at `now`.
  std::vector<Part> take_expired(std::chrono::steady_clock::time_point now);
  /// Takes every part.
  std::vector<Part> take_all();

  /// A static job's slots (one on each engine of its group, answered by collectives).
  void add_slots(Group& g);
  void take_slot(Group& g, std::size_t slot);
  void take_slots(Group& g);

  [[nodiscard]] bool empty() const { return parts_.empty(); }
  [[nodiscard]] bool any_timed() const { return timed_ > 0; }
  [[nodiscard]] const std::unordered_map<std::uint64_t, Part>& parts() const { return parts_; }

 private:
  // Takes every part that pred holds for.
  template <class Pred>
  std::vector<Part> take_if(Pred pred) {
    std::vector<Part> out;
    for (auto it = parts_.begin(); it != parts_.end();) {
      if (!pred(it->second)) {
        ++it;
        continue;
      }
      release(it->second.engine, it->second.group.get(), it->second.timed());
      out.push_back(std::move(it->second));
      it = parts_.erase(it);
    }
    return out;
  }
  // The only two places where the counts change.
  void hold(int engine, Group* group, bool timed);
  void release(int engine, Group* group, bool timed);

  Roster& roster_;
  std::unordered_map<std::uint64_t, Part> parts_;
  std::size_t timed_ = 0;
};

}  // namespace ranks::detail
