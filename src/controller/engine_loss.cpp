// Engines lost (members of Controller): deaths heard from life lines, this host's processes
// and a started cluster's hub; the work they held run again or failed with EngineLost;
// replacements; engines ended on purpose (timeouts, abort, terminate, maxtasksperchild).

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/host.hpp"
#include "base/log.hpp"
#include "controller/controller.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

std::exception_ptr Controller::lost_error(int engine, const std::string& what) const {
  const Member& m = roster_.member(engine);
  return std::make_exception_ptr(EngineLost(engine, m.host, m.pid, m.signal, what));
}

bool Controller::survives(int e) const { return roster_.link_of(e).survives; }

bool Controller::replaceable(int e) const {
  // A started cluster's engines are its own: a program can neither spawn into it nor add more.
  const Origin origin = roster_.link_of(e).origin;
  return origin != Origin::kAttached && origin != Origin::kRelayed;
}

void Controller::hear_cluster() {
  const auto now = Clock::now();
  if (now - last_heard_ < std::chrono::milliseconds(200)) return;
  last_heard_ = now;
  for (const auto& ev : cluster_->events()) {
    const std::string what = ev.value("event", "");
    if (what == "engine_lost") {
      const int e = ev.value("engine", -1);
      if (e < 0 || e >= roster_.size()) continue;
      lose_engine(e, ev.value("signal", SIGKILL), ended_[static_cast<std::size_t>(e)]);
    } else if (what == "stopping") {
      const std::string msg = "cluster '" + cluster_->name() + "' was stopped; work on it fails";
      log_line(msg);
      lose_all(std::make_exception_ptr(Error(msg)));
    }
  }
}

void Controller::lose_all(const std::exception_ptr& why) {
  for (int e = 0; e < roster_.size(); ++e) roster_.lose(e);
  for (auto& [id, f] : inflight_) f.job->cancel(why);
  inflight_.clear();
  timed_ = 0;
  std::fill(load_.begin(), load_.end(), 0);
  for (auto& q : statics_) q.abandon([&](StaticJob& job, Group&) { job.cancel(why); });
  for (auto& weak : groups_) {
    auto g = weak.lock();
    if (!g) continue;
    g->inflight = 0;
    for (auto& job : g->queue) job->cancel(why);
    g->queue.clear();
  }
}

void Controller::lose_engine(int engine, int sig, bool expected) {
  if (!roster_.member(engine).alive) return;
  roster_.lose(engine, sig);
  if (watch_) watch_->forget(engine);
  const Member& m = roster_.member(engine);
  const std::string tasks = tasks_on(engine);
  if (!expected)
    log_line("engine " + std::to_string(engine) + " (pid " + std::to_string(m.pid) + " on " +
             m.host + ") died of signal " + std::to_string(sig) + " (" + strsignal(sig) + ") " +
             (tasks.empty() ? "while idle" : "while running a task of type " + tasks) +
             "; the job goes on without it");
  // What it held: parts of dynamic jobs go to other engines where their jobs allow it.
  std::vector<Inflight> held;
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    if (it->second.engine != engine) {
      ++it;
      continue;
    }
    held.push_back(std::move(it->second));
    it = inflight_.erase(it);
  }
  for (Inflight& f : held) {
    --load_[static_cast<std::size_t>(engine)];
    if (f.group) --f.group->inflight;
    if (f.deadline != Clock::time_point::max()) --timed_;
    auto d = f.group ? std::dynamic_pointer_cast<DynamicJob>(f.job) : nullptr;
    if (d && d->lost(f.key, engine)) {
      requeue(f);
      continue;
    }
    f.job->cancel(lost_error(
        engine, d ? "its task had been lost with an engine before, so it is not run again"
                  : "the call needed it"));
  }
  statics_[static_cast<std::size_t>(m.link)].abandon([&](StaticJob& job, Group& group) {
    for (int e : group.engines) --load_[static_cast<std::size_t>(e)];
    group.inflight -= group.engines.size();
    job.cancel(lost_error(engine, "a call over several engines needed it"));
  });
  // Groups that change with their engines drop it. An engine the controller ended (a timeout,
  // abort, terminate) is replaced in the groups it served, as is one of a group that keeps its
  // size. Then queued work that no engine is left for fails.
  bool replace = expected;
  std::vector<std::shared_ptr<Group>> served;
  for (auto& weak : groups_) {
    auto g = weak.lock();
    if (!g) continue;
    const bool member = std::find(g->engines.begin(), g->engines.end(), engine) != g->engines.end();
    if (member && g->replace) replace = true;
    if (member && g->elastic) {
      std::erase(g->engines, engine);
      served.push_back(g);
    }
  }
  if (replace && replaceable(engine) && !stopping_) replace_engine(engine, served);
  for (auto& weak : groups_) {
    auto g = weak.lock();
    if (!g || g->queue.empty()) continue;
    if (std::any_of(g->engines.begin(), g->engines.end(),
                    [&](int e) { return roster_.member(e).alive; }))
      continue;
    const auto why = lost_error(engine,
                                "it was the last engine of this pool or view, so the work "
                                "queued there fails (ranks::Client::add_engines spawns more)");
    for (auto& job : g->queue) job->cancel(why);
    g->queue.clear();
  }
  dispatch_all();
}

void Controller::replace_engine(int engine, std::vector<std::shared_ptr<Group>> served) {
  for (auto& weak : groups_)
    if (auto g = weak.lock();
        g && g->all && std::find(served.begin(), served.end(), g) == served.end())
      served.push_back(g);
  // Open MPI 4.1's runtime must have seen the death itself before it spawns again: spawning
  // within milliseconds of it hangs in MPI_Comm_spawn now and then (its name lookup never
  // answers). The life line is faster than the runtime, so wait for the process to be gone.
  const Member& m = roster_.member(engine);
  if (m.local)
    for (int i = 0; i < 100 && process_alive(m.pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  try {
    roster_.spawn(1);
  } catch (const Error& e) {
    log_line(std::string("could not start an engine in place of engine ") + std::to_string(engine) +
             " (" + std::string(unprefixed(e.what())) + "); the job goes on with fewer");
    return;
  }
  fit_roster();
  const int added = roster_.size() - 1;
  for (auto& g : served) {
    g->engines.push_back(added);
    if (g->init) {  // the group's initializer first (a Pool's): what it returns goes nowhere
      auto state = std::make_shared<State<void>>();
      send(added, Message(*g->init), std::make_shared<SingleJob<void>>(Message(), state), 0,
           nullptr);
    }
  }
}

bool Controller::end_engine(int e, int sig) {
  const Member& m = roster_.member(e);
  if (!m.alive || !survives(e)) return false;
  if (watch_ && watch_->end(e, sig)) {
    ended_[static_cast<std::size_t>(e)] = true;
    return true;
  }
  if (m.local && m.pid > 0 && ::kill(m.pid, sig) == 0) {
    ended_[static_cast<std::size_t>(e)] = true;
    return true;
  }
  return false;
}

void Controller::expire_tasks() {
  const auto now = Clock::now();
  std::vector<std::uint64_t> late;
  for (const auto& [id, f] : inflight_)
    if (f.deadline <= now) late.push_back(id);
  for (std::uint64_t id : late) {
    auto it = inflight_.find(id);
    Inflight f = std::move(it->second);
    inflight_.erase(it);
    --timed_;
    --load_[static_cast<std::size_t>(f.engine)];
    if (f.group) --f.group->inflight;
    const bool ended = end_engine(f.engine, SIGKILL);
    f.job->cancel(std::make_exception_ptr(
        TimeoutError("a task of type " + std::string(task_name(f.invoker)) +
                     " ran past its timeout on engine " + std::to_string(f.engine) +
                     (ended ? "; the engine was ended, and replaced where engines can be spawned"
                            : "; the engine could not be ended (" + transport::recovery_advice() +
                                  ") and finishes the task into nothing"))));
  }
}

void Controller::check_engines() {
  if (stopping_) return;
  if (watch_ && watch_->pending())
    for (const auto& d : watch_->take())
      if (d.engine < roster_.size()) {
        if (!survives(d.engine)) end_job(d.engine);  // reported already, by the line or itself
        lose_engine(d.engine, d.signal, ended_[static_cast<std::size_t>(d.engine)]);
      }
  if (timed_ > 0 && Clock::now() >= next_expiry_) {
    expire_tasks();
    next_expiry_ = Clock::now() + std::chrono::milliseconds(5);
  }
}

void Controller::watch_engines() {
  if (stopping_) return;
  check_engines();
  if (cluster_) return hear_cluster();
  for (int e : roster_.newly_dead()) {
    if (survives(e)) {
      // Its life line tells, with the signal; an engine without one is taken as killed.
      if (!watch_ || !watch_->connected(e))
        lose_engine(e, SIGKILL, ended_[static_cast<std::size_t>(e)]);
      continue;
    }
    if (watch_ && watch_->had_line(e)) end_job(e);  // its line tells
    const std::string tasks = tasks_on(e);
    log_line("engine " + std::to_string(e) + " (pid " + std::to_string(roster_.member(e).pid) +
             ") died " + (tasks.empty() ? "while idle" : "while running a task of type " + tasks) +
             " (killed, out of memory, or crashed); ending the job, as " + transport::kMpiName +
             " would." +
             (transport::kDynamicProcesses
                  ? " To go on without a lost engine, launch with mpirun --enable-recovery "
                    "(engines that ranks spawns, and a started cluster's, survive by themselves)"
                  : ""));
    transport::abort(1, roster_.link_of(e).comm);
  }
}

void Controller::end_job(int e) {
  // The life line's thread says which engine died (it may be a moment behind this thread), or
  // the engine said so itself; then the job ends, as the MPI would end it anyway.
  for (int i = 0; i < 100 && !watch_->pending(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  transport::abort(1, roster_.link_of(e).comm);
}

bool Controller::signal_job(const std::shared_ptr<Job>& job, int sig) {
  auto lk = lock();
  bool any = false;
  std::vector<int> engines;
  for (const auto& [id, f] : inflight_)
    if (f.job == job) engines.push_back(f.engine);
  for (int e : engines) {
    if (!survives(e))
      throw Error("the engine running it (engine " + std::to_string(e) +
                  ") cannot be ended without ending the job: " + transport::recovery_advice() +
                  (transport::kDynamicProcesses
                       ? " (spawned engines and a started cluster's can be)"
                       : ""));
    any = end_engine(e, sig) || any;
  }
  return any;
}

void Controller::abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why) {
  auto lk = lock();
  if (auto d = std::dynamic_pointer_cast<DynamicJob>(job))
    for (auto& weak : groups_)
      if (auto g = weak.lock()) std::erase(g->queue, d);
  job->cancel(why);
  // What runs of it stops where its engine can be ended (and is then replaced).
  std::vector<int> engines;
  for (const auto& [id, f] : inflight_)
    if (f.job == job) engines.push_back(f.engine);
  for (int e : engines) end_engine(e, SIGKILL);
}

}  // namespace ranks::detail
