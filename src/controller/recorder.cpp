#include "controller/recorder.hpp"

#include <algorithm>

namespace ranks::detail {

namespace {

std::int64_t ns_of(Recorder::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::uint64_t Recorder::number_of(Job& job) {
  if (job.call_number == 0) job.call_number = ++calls_;
  return job.call_number;
}

void Recorder::ended(Job& job, std::size_t seen, const Roster& roster) {
  if (!on()) return;
  const auto& parts = job.state().metadata();
  for (std::size_t i = seen; i < parts.size(); ++i) {
    const TaskMetadata& m = parts[i];
    const TaskRecord r{m.engine_id, ns_of(m.started), ns_of(m.completed), job.kind, number_of(job),
                       m.first,     m.count,          m.attempt,          m.ok};
    if (timeline_) {
      if (!timeline_->named(m.engine_id) && roster.known(m.engine_id)) {
        const Engine& e = roster.engine(m.engine_id);
        timeline_->engine(m.engine_id, e.host, e.pid);
      }
      timeline_->task(r);
    }
    if (recent_) {
      const std::int64_t second = r.completed_ns / 1'000'000'000;
      const auto slot = static_cast<std::size_t>(second % kWindow.count());
      if (second_of_[slot] != second) {
        second_of_[slot] = second;
        per_second_[slot] = 0;
      }
      ++per_second_[slot];
      tasks_.push_back(r);
      if (tasks_.size() > kKept) tasks_.pop_front();
    }
  }
}

void Recorder::submitted(const std::shared_ptr<Job>& job) {
  if (!recent_) return;
  calls_in_flight_.push_back({job, number_of(*job), Clock::now()});
}

void Recorder::lost(int id, const Engine& e) {
  if (!on()) return;
  const auto now = Clock::now();
  if (timeline_) {
    timeline_->engine(id, e.host, e.pid);
    timeline_->lost(id, e.signal, ns_of(now));
  }
  if (recent_) losses_.push_back({id, e.signal, now});
}

void Recorder::close() {
  if (timeline_) timeline_->close();
}

void Recorder::forget_old(Clock::time_point now) {
  const std::int64_t since = ns_of(now - kWindow);
  while (!tasks_.empty() && tasks_.front().completed_ns < since) tasks_.pop_front();
}

const std::deque<TaskRecord>& Recorder::recent_tasks() {
  forget_old(Clock::now());
  return tasks_;
}

std::uint64_t Recorder::recent_count() {
  const std::int64_t now = ns_of(Clock::now()) / 1'000'000'000;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < per_second_.size(); ++i)
    if (second_of_[i] > now - kWindow.count()) n += per_second_[i];
  return n;
}

const std::vector<Recorder::Call>& Recorder::calls_in_flight() {
  std::erase_if(calls_in_flight_, [](const Call& c) {
    auto job = c.job.lock();
    return !job || job->state().is_ready();
  });
  return calls_in_flight_;
}

}  // namespace ranks::detail
