#include "controller/scheduler.hpp"

#include <signal.h>

#include <algorithm>
#include <csignal>
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
      port_.spawn(want - have, false);
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
    port_.spawn(n, false);
    last_spawn_ = Clock::now();
  } catch (const Error& e) {
    throw Error(std::string(who) + ": spawning " + std::to_string(n) + " engine(s) failed (" +
                std::string(unprefixed(e.what())) + ")");
  }
  std::vector<int> ids;
  for (int e = before; e < roster_.size(); ++e) ids.push_back(e);
  each_group([&](const std::shared_ptr<Group>& g) {
    if (g->all) g->engines.insert(g->engines.end(), ids.begin(), ids.end());
  });
  dispatch_all();
  return ids;
}

std::shared_ptr<Group> Scheduler::group_of(const std::vector<int>& engines, const char* who) {
  for (int e : engines)
    if (!roster_.known(e)) throw Error(std::string(who) + ": " + roster_.unknown(e));
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
  each_group([&](const std::shared_ptr<Group>& g) {
    if (!g->queue.empty()) dispatch(*g);
  });
}

void Scheduler::submit(Group& g, std::shared_ptr<DynamicJob> job) {
  job->state().set_job(job);
  recorder_.submitted(job);
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
  if (!roster_.known(engine)) throw Error(roster_.unknown(engine));
  job->state().set_job(job);
  recorder_.submitted(job);
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
  const std::size_t seen = p->job->state().metadata().size();
  p->job->deliver(p->key, r);
  delivered(p->engine, h.outcome, *p->job, seen);
  requeue(*p);
  const Engine& m = roster_.engine(p->engine);
  if (m.retiring && m.load == 0) end_engine(p->engine, SIGKILL);
}

void Scheduler::delivered(int engine, const Outcome& o, Job& job, std::size_t seen) {
  Engine& m = roster_.engine(engine);
  ++m.tasks_run;
  if (o.rss_bytes != 0) m.rss_bytes = o.rss_bytes;
  recorder_.ended(job, seen, roster_);
}

void Scheduler::progress(std::uint64_t id, std::size_t done) {
  const auto& parts = ledger_.parts();
  if (auto it = parts.find(id); it != parts.end()) it->second.job->progress(it->second.key, done);
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

}  // namespace ranks::detail
