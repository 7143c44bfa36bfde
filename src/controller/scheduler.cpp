#include "controller/scheduler.hpp"

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "base/log.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

// Groups.

std::shared_ptr<Group> Scheduler::make_group(int n, const char* who) {
  const int have = roster_.alive_count();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = n < 0 ? (have > 0 ? have : cores) : n;
  const std::string needs =
      std::string(who) + " needs " + std::to_string(want) + " engines but " +
      (roster_.cluster().empty() ? "the job" : "cluster '" + roster_.cluster() + "'") + " has " +
      std::to_string(have);
  if (want > have && roster_.cluster_elsewhere())
    throw Error(needs +
                "; its engines run on other hosts, beside which a program cannot start more: "
                "start it with more (ranks cluster stop, then ranks cluster start -n " +
                std::to_string(want) + ")");
  // Where the engines are too few, the program starts the missing ones for itself, beside a
  // started cluster's too (they end with the program; the cluster keeps its size).
  if (want > have && !(n < 0 && have > 0)) {
    try {
      port_.spawn(want - have);
      last_spawn_ = Clock::now();
    } catch (const Error& e) {
      const std::string why(unprefixed(e.what()));
      if (!transport::kDynamicProcesses)
        throw Error(needs + ", and " + why + "; run it as `" +
                    transport::launch_command(want + 1, self_exe()) + "`");
      const std::string fix =
          roster_.cluster().empty()
              ? "launch with more ranks, e.g. mpirun -np " + std::to_string(want + 1)
              : "start the cluster with more (ranks cluster start -n " + std::to_string(want) + ")";
      throw Error(needs + ", and spawning " + std::to_string(want - have) + " more failed (" + why +
                  "); " + fix);
    }
  }
  auto g = std::make_shared<Group>();
  g->elastic = true;
  g->all = n < 0;
  for (int e = 0; e < roster_.size() && static_cast<int>(g->engines.size()) < want; ++e)
    if (roster_.engine(e).alive) g->engines.push_back(e);
  if (g->engines.empty() && want > 0)
    throw Error(std::string(who) +
                ": every engine of the job has died; nothing is left to run "
                "work (spawn more with ranks::Client::add_engines, where the launch allows it)");
  groups_.push_back(g);
  return g;
}

std::vector<int> Scheduler::add_engines(int n, const char* who) {
  if (n < 1) throw Error(std::string(who) + "(" + std::to_string(n) + "): add at least one engine");
  if (roster_.cluster_elsewhere())
    throw Error(std::string(who) + ": the engines of cluster '" + roster_.cluster() +
                "' run on other hosts, beside which a program cannot start more; start it "
                "with more");
  const int before = roster_.size();
  try {
    port_.spawn(n);
    last_spawn_ = Clock::now();
  } catch (const Error& e) {
    throw Error(std::string(who) + ": spawning " + std::to_string(n) + " engine(s) failed (" +
                std::string(unprefixed(e.what())) + ")");
  }
  std::vector<int> ids;
  for (int e = before; e < roster_.size(); ++e) ids.push_back(e);
  for (auto& g : live_groups())
    if (g->all) g->engines.insert(g->engines.end(), ids.begin(), ids.end());
  dispatch_all();
  return ids;
}

std::shared_ptr<Group> Scheduler::group_of(const std::vector<int>& engines, const char* who) {
  const int n = roster_.size();
  for (int e : engines)
    if (e < 0 || e >= n)
      throw Error(std::string(who) + ": engine " + std::to_string(e) +
                  " does not exist; ids are 0.." + std::to_string(n - 1));
  auto g = std::make_shared<Group>();
  g->engines = engines;
  groups_.push_back(g);
  return g;
}

std::shared_ptr<Group> Scheduler::engine_group(int e) {
  if (engine_groups_.size() <= static_cast<std::size_t>(e))
    engine_groups_.resize(static_cast<std::size_t>(e) + 1);
  auto& one = engine_groups_[static_cast<std::size_t>(e)];
  if (!one) {
    one = std::make_shared<Group>();
    one->engines = {e};
    groups_.push_back(one);
  }
  return one;
}

std::vector<std::shared_ptr<Group>> Scheduler::live_groups() {
  std::vector<std::shared_ptr<Group>> live;
  for (std::size_t i = 0; i < groups_.size();) {
    if (auto g = groups_[i].lock()) {
      live.push_back(std::move(g));
      ++i;
    } else {
      groups_[i] = groups_.back();
      groups_.pop_back();
    }
  }
  return live;
}

bool Scheduler::has_engines(const Group& g) const {
  return std::any_of(g.engines.begin(), g.engines.end(),
                     [&](int e) { return roster_.engine(e).alive; }) ||
         replacing(g);
}

bool Scheduler::replacing(const Group& g) const {
  return std::any_of(replacements_.begin(), replacements_.end(), [&](const Replacement& r) {
    return g.all || std::any_of(r.served.begin(), r.served.end(),
                                [&](const auto& s) { return s.get() == &g; });
  });
}

// Work.

void Scheduler::send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
                     std::shared_ptr<Group> g, std::chrono::nanoseconds timeout) {
  const std::uint64_t id = next_id_++;
  stamp_task_id(msg.bytes, id);
  Part p{.job = std::move(job),
         .key = key,
         .engine = engine,
         .group = std::move(g),
         .submitted = std::chrono::system_clock::now(),
         .invoker = read_header<TaskHeader>(msg.bytes).invoker};
  if (timeout.count() > 0) p.deadline = Clock::now() + timeout;
  ledger_.add(id, std::move(p));
  port_.transmit(engine, std::move(msg));
}

void Scheduler::dispatch(Group& g) {
  const int workers = static_cast<int>(g.engines.size());
  while (!g.queue.empty()) {
    auto job = g.queue.front();
    if (!job->has_next()) {
      g.queue.pop_front();
      continue;
    }
    const int depth = job->depth();
    int best = -1;
    for (int e : g.engines) {
      const Engine& m = roster_.engine(e);
      if (!m.alive || m.retiring || !job->wants(e, workers)) continue;
      if (m.load < depth && (best < 0 || m.load < roster_.engine(best).load)) best = e;
    }
    if (best < 0) return;
    Message msg;
    std::uint64_t key = 0;
    try {
      key = job->next(msg, workers, depth, best);
    } catch (...) {
      // A part that cannot be encoded fails its own job; the queue and the pool go on.
      g.queue.pop_front();
      job->cancel(std::current_exception());
      continue;
    }
    send(best, std::move(msg), job, key, g.shared_from_this(), job->timeout());
    if (g.maxtasks > 0) count_part(best, g);
    if (!job->has_next()) g.queue.pop_front();
  }
}

void Scheduler::dispatch_all() {
  for (auto& g : live_groups())
    if (!g->queue.empty()) dispatch(*g);
}

void Scheduler::submit(Group& g, std::shared_ptr<DynamicJob> job) {
  job->state().set_job(job);
  if (!job->has_next()) return;  // nothing to do (an empty map is already complete)
  if (!has_engines(g)) {
    job->cancel(std::make_exception_ptr(
        Error("every engine of this pool or view has died; nothing is left to run the work "
              "(ranks::Client::add_engines spawns more, where the launch allows it)")));
    return;
  }
  g.queue.push_back(std::move(job));
  dispatch(g);
}

void Scheduler::submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key) {
  if (engine < 0 || engine >= roster_.size())
    throw Error("engine " + std::to_string(engine) + " does not exist; ids are 0.." +
                std::to_string(roster_.size() - 1));
  job->state().set_job(job);
  if (!roster_.engine(engine).alive) {
    job->cancel(lost_error(engine, "its namespace went with it"));
    return;
  }
  send(engine, std::move(msg), std::move(job), key, nullptr);
}

void Scheduler::drop_queued(Group& g, const std::exception_ptr& why) {
  for (auto& job : g.queue) job->cancel(why);
  g.queue.clear();
}

void Scheduler::reply(const ReplyHeader& h, Reader payload) {
  auto p = ledger_.take(h.id);
  if (!p) return;
  // The job decodes the reply here, receiving any attached data straight into its result.
  Reply r{h.outcome, p->submitted, payload};
  p->job->deliver(p->key, r);
  requeue(*p);
  const Engine& m = roster_.engine(p->engine);
  if (m.retiring && m.load == 0) end_engine(p->engine, SIGKILL);
}

void Scheduler::count_part(int engine, const Group& g) {
  Engine& m = roster_.engine(engine);
  if (m.retiring || ++m.parts_sent < g.maxtasks) return;
  if (!roster_.survives(engine) || !roster_.replaceable(engine))
    return;           // it cannot be ended, or not replaced: it goes on serving
  m.retiring = true;  // no more work; ended once its last part is back
}

void Scheduler::requeue(const Part& p) {
  if (!p.group) return;
  auto d = std::dynamic_pointer_cast<DynamicJob>(p.job);
  if (!d || !d->has_next()) return;
  auto& q = p.group->queue;
  if (std::find(q.begin(), q.end(), d) == q.end()) q.push_back(std::move(d));
}

// Engines lost and ended.

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
  for (auto& g : live_groups()) drop_queued(*g, why);
}

void Scheduler::lose_engine(int engine, int sig) {
  if (!roster_.engine(engine).alive) return;
  const bool expected = roster_.engine(engine).ended;
  const std::string tasks = tasks_on(engine);
  roster_.lose(engine, sig);
  const Engine& m = roster_.engine(engine);
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
  for (auto& g : live_groups()) {
    if (std::find(g->engines.begin(), g->engines.end(), engine) == g->engines.end()) continue;
    if (g->replace) replace = true;
    if (g->elastic) elastic.push_back(g);
  }
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
  for (auto& g : live_groups()) {
    if (g->queue.empty() || has_engines(*g)) continue;
    drop_queued(*g, lost_error(lost,
                               "it was the last engine of this pool or view, so the work "
                               "queued there fails (ranks::Client::add_engines spawns more)"));
  }
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
    port_.spawn(static_cast<int>(due.size()));
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
    for (auto& g : live_groups())
      if (g->all && std::find(served.begin(), served.end(), g) == served.end()) served.push_back(g);
    for (auto& g : served) {
      if (auto it = std::find(g->engines.begin(), g->engines.end(), r.engine);
          it != g->engines.end()) {
        *it = added;  // in the lost engine's place
      } else {
        g->engines.push_back(added);
      }
      if (g->init) {  // the group's initializer first (a Pool's): what it returns goes nowhere
        auto state = std::make_shared<State<void>>();
        send(added, Message(*g->init), std::make_shared<SingleJob<void>>(Message(), state), 0,
             nullptr);
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
    for (auto& g : live_groups()) std::erase(g->queue, d);
  job->cancel(why);
  // What runs of it stops where its engine can be ended (and is then replaced).
  std::vector<int> engines;
  for (const auto& [id, p] : ledger_.parts())
    if (p.job == job) engines.push_back(p.engine);
  for (int e : engines) end_engine(e, SIGKILL);
}

}  // namespace ranks::detail
