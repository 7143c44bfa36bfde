// The scheduler's engines lost and ended (scheduler.hpp): what a lost engine held, run again or
// failed with EngineLost; replacements, spawned once the lost process is gone; timeouts;
// engines ended on purpose (abort, terminate, maxtasksperchild).

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "base/log.hpp"
#include "controller/scheduler.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

std::exception_ptr Scheduler::lost_error(int engine, const std::string& what) const {
  const Engine& m = roster_.engine(engine);
  return std::make_exception_ptr(EngineLost(engine, m.host, m.pid, m.signal, what));
}

std::string Scheduler::tasks_on(int engine) const {
  std::set<std::string> names;
  for (const auto& [id, p] : ledger_.parts())
    if (p.engine == engine) names.insert(task_name(p.invoker));
  std::string tasks;
  for (const auto& n : names) tasks += (tasks.empty() ? "" : ", ") + n;
  return tasks;
}

void Scheduler::lose_all(const std::exception_ptr& why) {
  for (int e = 0; e < roster_.size(); ++e) roster_.lose(e);
  for (Part& p : ledger_.take_all()) p.job->cancel(why);
  for (int link = 0; link < static_cast<int>(roster_.links().size()); ++link)
    port_.drop_collectives(link, why);
  replacements_.clear();
  each_group([&](const std::shared_ptr<Group>& g) { drop_queued(*g, why); });
}

void Scheduler::lose_engine(int engine, int sig) {
  if (!roster_.engine(engine).alive) return;
  const bool expected = roster_.engine(engine).ended;
  const std::string tasks = tasks_on(engine);
  roster_.lose(engine, sig);
  const Engine& m = roster_.engine(engine);
  recorder_.lost(engine, m);
  if (!expected)
    log_line("engine " + std::to_string(engine) + " (pid " + std::to_string(m.pid) + " on " +
             m.host + ") died of signal " + std::to_string(sig) + " (" + strsignal(sig) + ") " +
             (tasks.empty() ? "while idle" : "while running a task of type " + tasks) +
             "; the job goes on without it");
  // What it held: parts of dynamic jobs go to other engines where their jobs allow it.
  for (Part& p : ledger_.take_engine(engine)) {
    auto d = p.group ? std::dynamic_pointer_cast<DynamicJob>(p.job) : nullptr;
    if (d && d->lost(p.key, engine)) {
      requeue(p);
      continue;
    }
    p.job->cancel(lost_error(
        engine, d ? "its task had been lost with an engine before, so it is not run again"
                  : "the call needed it"));
  }
  port_.drop_collectives(m.link, lost_error(engine, "a call over several engines needed it"));
  // Groups that change with their engines drop it. An engine the controller ended (a timeout,
  // abort, terminate) is replaced in the groups it served, as is one of a group that keeps its
  // size. Then queued work that no engine is left for fails.
  bool replace = expected;
  std::vector<std::shared_ptr<Group>> elastic;
  each_group([&](const std::shared_ptr<Group>& g) {
    if (std::find(g->engines.begin(), g->engines.end(), engine) == g->engines.end()) return;
    if (g->replace) replace = true;
    if (g->elastic) elastic.push_back(g);
  });
  if (replace && roster_.replaceable(engine) && !stopping_) {
    // It keeps its place in them (dead, so sent nothing) for the engine that will take it.
    replacements_.push_back(Replacement{.engine = engine, .served = std::move(elastic)});
  } else {
    for (auto& g : elastic) std::erase(g->engines, engine);
  }
  fail_orphaned_queues(engine);
  dispatch_all();
}

void Scheduler::fail_orphaned_queues(int lost) {
  each_group([&](const std::shared_ptr<Group>& g) {
    if (g->queue.empty() || has_engines(*g)) return;
    drop_queued(*g, lost_error(lost,
                               "it was the last engine of this pool or view, so the work "
                               "queued there fails (ranks::Client::add_engines spawns more)"));
  });
}

void Scheduler::replace_due(Clock::time_point now) {
  // Open MPI 4.1's runtime must have seen the death itself before it spawns again: spawning
  // within milliseconds of it, or of the spawn before, hangs in MPI_Comm_spawn now and then
  // (its name lookup never answers). The life line is faster than the runtime, so a
  // replacement waits until the lost process is gone (at most 500 ms), then 100 ms more, and
  // 100 ms after the last spawn; those due together are spawned at once. All of it is polled:
  // nothing sleeps under the controller's lock.
  using std::chrono::milliseconds;
  std::vector<Replacement> due;
  for (std::size_t i = 0; i < replacements_.size();) {
    Replacement& r = replacements_[i];
    if (!r.seen) r.seen = now;
    if (!r.gone && (port_.gone(r.engine) || now - *r.seen >= milliseconds(500))) r.gone = now;
    if (!r.gone || now - *r.gone < milliseconds(100) || now - last_spawn_ < milliseconds(100)) {
      ++i;
      continue;
    }
    due.push_back(std::move(r));
    replacements_.erase(replacements_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (!due.empty()) replace(due, now);
}

void Scheduler::replace(const std::vector<Replacement>& due, Clock::time_point now) {
  const int first = roster_.size();
  try {
    port_.spawn(static_cast<int>(due.size()), true);
  } catch (const Error& e) {
    for (const Replacement& r : due) {
      log_line(std::string("could not start an engine in place of engine ") +
               std::to_string(r.engine) + " (" + std::string(unprefixed(e.what())) +
               "); the job goes on with fewer");
      for (auto& g : r.served) std::erase(g->engines, r.engine);
      fail_orphaned_queues(r.engine);
    }
    last_spawn_ = now;
    return;
  }
  last_spawn_ = now;
  for (std::size_t i = 0; i < due.size(); ++i) {
    const Replacement& r = due[i];
    const int added = first + static_cast<int>(i);
    std::vector<std::shared_ptr<Group>> served = r.served;
    each_group([&](const std::shared_ptr<Group>& g) {
      if (g->all && std::find(served.begin(), served.end(), g) == served.end()) served.push_back(g);
    });
    for (auto& g : served) {
      if (auto it = std::find(g->engines.begin(), g->engines.end(), r.engine);
          it != g->engines.end()) {
        *it = added;  // in the lost engine's place
      } else {
        g->engines.push_back(added);
      }
      if (g->init) {  // the group's initializer first (a Pool's): what it returns goes nowhere
        auto state = std::make_shared<State<void>>();
        auto job = std::make_shared<SingleJob<void>>(Message(), state);
        job->kind = "initializer";
        send(added, Message(*g->init), std::move(job), 0, nullptr);
      }
    }
  }
  dispatch_all();
}

void Scheduler::stop() {
  stopping_ = true;
  for (const Replacement& r : replacements_)
    for (auto& g : r.served) std::erase(g->engines, r.engine);
  replacements_.clear();
}

bool Scheduler::end_engine(int e, int sig) {
  Engine& m = roster_.engine(e);
  if (!m.alive || !roster_.survives(e)) return false;
  if (!port_.end(e, sig)) return false;
  m.ended = true;
  return true;
}

void Scheduler::expire(Clock::time_point now) {
  for (Part& p : ledger_.take_expired(now)) {
    const bool ended = end_engine(p.engine, SIGKILL);
    p.job->cancel(std::make_exception_ptr(
        TimeoutError("a task of type " + std::string(task_name(p.invoker)) +
                     " ran past its timeout on engine " + std::to_string(p.engine) +
                     (ended ? "; the engine was ended, and replaced where engines can be spawned"
                            : "; the engine could not be ended (" + transport::recovery_advice() +
                                  ") and finishes the task into nothing"))));
  }
}

void Scheduler::check(Clock::time_point now) {
  if (now < next_check_) return;
  next_check_ = now + std::chrono::milliseconds(5);
  if (ledger_.any_timed()) expire(now);
  if (!replacements_.empty()) replace_due(now);
}

bool Scheduler::signal_job(const std::shared_ptr<Job>& job, int sig) {
  std::vector<int> engines;
  for (const auto& [id, p] : ledger_.parts())
    if (p.job == job) engines.push_back(p.engine);
  bool any = false;
  for (int e : engines) {
    if (!roster_.survives(e))
      throw Error("the engine running it (engine " + std::to_string(e) +
                  ") cannot be ended without ending the job: " + transport::recovery_advice() +
                  (transport::kDynamicProcesses
                       ? " (spawned engines and a started cluster's can be)"
                       : ""));
    any = end_engine(e, sig) || any;
  }
  return any;
}

void Scheduler::abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why) {
  if (auto d = std::dynamic_pointer_cast<DynamicJob>(job))
    each_group([&](const std::shared_ptr<Group>& g) { std::erase(g->queue, d); });
  job->cancel(why);
  // What runs of it stops where its engine can be ended (and is then replaced).
  std::vector<int> engines;
  for (const auto& [id, p] : ledger_.parts())
    if (p.job == job) engines.push_back(p.engine);
  for (int e : engines) end_engine(e, SIGKILL);
}

}  // namespace ranks::detail
