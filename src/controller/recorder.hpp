#pragma once

// What the observers of a run see: each task that ended, each call submitted, each engine lost.
// It feeds the timeline (RANKS_TIMELINE) and the dashboard's last minute (RANKS_DASHBOARD); with
// neither on, it keeps nothing and each of its hooks costs one test. Used under the controller's
// lock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "controller/roster.hpp"
#include "controller/timeline.hpp"
#include "ranks/detail/job.hpp"

namespace ranks::detail {

class Recorder {
 public:
  using Clock = std::chrono::system_clock;
  /// The dashboard's window: tasks that ended in the last minute.
  static constexpr std::chrono::seconds kWindow{60};
  /// The most tasks of the window kept for the page (those beyond are counted, not kept).
  static constexpr std::size_t kKept = 4096;

  /// Whether anyone observes: the hooks below do nothing otherwise.
  [[nodiscard]] bool on() const { return timeline_ != nullptr || recent_; }

  /// Records every task from now on into t.
  void record(std::unique_ptr<Timeline> t) { timeline_ = std::move(t); }
  [[nodiscard]] const Timeline* timeline() const { return timeline_.get(); }
  /// Keeps the last minute of tasks, the calls in flight and the engines lost, for the
  /// dashboard.
  void keep_recent() { recent_ = true; }

  /// The entries of job's metadata from `seen` on are tasks that just ended.
  void ended(Job& job, std::size_t seen, const Roster& roster);
  /// A call was submitted.
  void submitted(const std::shared_ptr<Job>& job);
  /// Engine id (as the roster has it now) was lost.
  void lost(int id, const Engine& e);
  /// The program ends: the timeline is completed.
  void close();

  /// For the dashboard: tasks of the window, oldest first (at most kKept).
  struct Call {
    std::weak_ptr<Job> job;
    std::uint64_t number = 0;
    Clock::time_point since;
  };
  struct Loss {
    int engine = -1;
    int signal = 0;
    Clock::time_point at;
  };
  [[nodiscard]] const std::deque<TaskRecord>& recent_tasks();
  /// Tasks that ended in the window, kept or not.
  [[nodiscard]] std::uint64_t recent_count();
  /// The calls submitted that are not final yet (those that are, are dropped now).
  [[nodiscard]] const std::vector<Call>& calls_in_flight();
  [[nodiscard]] const std::vector<Loss>& losses() const { return losses_; }

 private:
  std::uint64_t number_of(Job& job);
  void forget_old(Clock::time_point now);

  std::unique_ptr<Timeline> timeline_;
  bool recent_ = false;
  std::uint64_t calls_ = 0;
  std::deque<TaskRecord> tasks_;
  // Tasks ended per second of the window, by second since the epoch modulo its length.
  std::vector<std::uint64_t> per_second_ = std::vector<std::uint64_t>(kWindow.count(), 0);
  std::vector<std::int64_t> second_of_ = std::vector<std::int64_t>(kWindow.count(), -1);
  std::vector<Call> calls_in_flight_;
  std::vector<Loss> losses_;
};

}  // namespace ranks::detail
