#include "controller/controller.hpp"

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>

#include "base/log.hpp"
#include "ranks/detail/codec.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

namespace {

Controller* g_controller = nullptr;
bool g_on_engine = false;

using Clock = std::chrono::steady_clock;

}  // namespace

Controller* controller() { return g_controller; }
Controller& the_controller(const char* what) {
  require_controller(what);
  return *g_controller;
}
void set_controller(Controller* c) { g_controller = c; }
bool on_engine() { return g_on_engine; }
void set_on_engine(bool e) { g_on_engine = e; }

Controller::Controller(std::vector<std::string> args) : roster_(std::move(args)) {
  progress_ = std::thread([this] { progress_loop(); });
}

Controller::~Controller() {
  {
    auto lk = lock();
    stopping_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
}

bool Controller::adopt_world() {
  auto lk = lock();
  if (!roster_.adopt_world()) return false;
  fit_roster();
  return true;
}

bool Controller::attach(std::unique_ptr<cluster::Attachment> cluster) {
  const cluster::Attachment::Entry& entry = cluster->entry();
  auto lk = lock();
  if (entry.relayed) {
    std::vector<std::pair<std::string, int>> engines;
    for (const auto& e : entry.engines) engines.emplace_back(e.host, e.pid);
    roster_.attach_relayed(cluster->name(), engines);
  } else if (!roster_.attach(entry.port, cluster->name())) {
    cluster->leave();
    return false;
  }
  cluster_ = std::move(cluster);
  fit_roster();
  return true;
}

std::optional<std::string> Controller::cluster() {
  auto lk = lock();
  if (!cluster_) return std::nullopt;
  return cluster_->name();
}

void Controller::fit_roster() {
  load_.resize(static_cast<std::size_t>(roster_.size()), 0);
  while (statics_.size() < roster_.links().size())
    statics_.emplace_back(roster_.links()[statics_.size()]);
  // Engines on this host get a shared-memory channel (RANKS_CHANNEL=0: MPI alone).
  const char* use = std::getenv("RANKS_CHANNEL");
  const bool channels = !(use && std::string(use) == "0");
  while (channels_.size() < static_cast<std::size_t>(roster_.size())) {
    const int e = static_cast<int>(channels_.size());
    const Member& m = roster_.member(e);
    const Link& l = roster_.link_of(e);
    // An engine of a launch that survives its loss gets a life line first (by MPI, before the
    // channel takes over its messages). So does an engine of a job that its MPI ends when a
    // process dies (MPICH): its line says which engine it was, before the launcher ends us.
    const bool fatal = !transport::kDynamicProcesses && l.origin == Origin::kWorld;
    if ((l.survives || fatal) && m.alive && l.comm != MPI_COMM_NULL &&
        (l.origin == Origin::kWorld || l.origin == Origin::kSpawned)) {
      try {
        if (!watch_) {
          watch_ = std::make_unique<lifeline::Watch>();
          if (fatal) watch_->report_deaths(transport::recovery_advice());
        }
        const std::string who = fatal ? "engine " + std::to_string(e) + " (pid " +
                                            std::to_string(m.pid) + " on " + m.host + ")"
                                      : std::string();
        outbox_.send(l.comm, m.rank,
                     Message(text_message(Kind::kLifeline, watch_->invitation(e, m.local, who))));
      } catch (const Error& err) {
        log_line(std::string(err.what()) + "; engine deaths on other hosts go unnoticed");
      }
    }
    std::unique_ptr<transport::Channel> ch;
    if (channels && m.local && m.alive && l.comm != MPI_COMM_NULL) {
      try {
        ch = transport::Channel::create(l.comm, m.rank);
        outbox_.send(l.comm, m.rank, Message(channel_message(ch->name())));
      } catch (const Error& e) {
        log_line(std::string(e.what()) + "; this engine's messages go by MPI");
        ch.reset();
      }
    }
    channels_.push_back(std::move(ch));
  }
  ended_.resize(static_cast<std::size_t>(roster_.size()), false);
  retiring_.resize(static_cast<std::size_t>(roster_.size()), false);
  parts_sent_.resize(static_cast<std::size_t>(roster_.size()), 0);
  all_channelled_.assign(roster_.links().size(), true);
  for (int e = 0; e < roster_.size(); ++e)
    if (!channels_[static_cast<std::size_t>(e)])
      all_channelled_[static_cast<std::size_t>(roster_.member(e).link)] = false;
}

// The dynamic queue.

void Controller::send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
                      std::shared_ptr<Group> g, std::chrono::nanoseconds timeout) {
  const std::uint64_t id = next_id_++;
  stamp_task_id(msg.bytes, id);
  ++load_[static_cast<std::size_t>(engine)];
  if (g) ++g->inflight;
  const std::uint32_t invoker = read_header<TaskHeader>(msg.bytes).invoker;
  auto deadline = Clock::time_point::max();
  if (timeout.count() > 0) {
    deadline = Clock::now() + timeout;
    ++timed_;
  }
  inflight_.emplace(id, Inflight{std::move(job), key, engine, std::move(g),
                                 std::chrono::system_clock::now(), invoker, deadline});
  transmit(engine, std::move(msg));
}

void Controller::transmit(int engine, Message msg) {
  const Member& m = roster_.member(engine);
  const Link& l = roster_.link_of(engine);
  if (l.origin == Origin::kRelayed) {
    cluster_->send_relayed(m.rank, std::move(msg));
  } else if (auto& ch = channels_[static_cast<std::size_t>(engine)]) {
    ch->send(std::move(msg), outbox_);
  } else {
    outbox_.send(l.comm, m.rank, std::move(msg));
  }
}

void Controller::dispatch(Group& g) {
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
      if (!roster_.member(e).alive || retiring_[static_cast<std::size_t>(e)] ||
          !job->wants(e, workers))
        continue;
      const int load = load_[static_cast<std::size_t>(e)];
      if (load < depth && (best < 0 || load < load_[static_cast<std::size_t>(best)])) best = e;
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

void Controller::dispatch_all() {
  for (std::size_t i = 0; i < groups_.size();) {
    auto g = groups_[i].lock();
    if (!g) {
      groups_[i] = groups_.back();
      groups_.pop_back();
      continue;
    }
    if (!g->queue.empty()) dispatch(*g);
    ++i;
  }
}

void Controller::submit(Group& g, std::shared_ptr<DynamicJob> job) {
  auto lk = lock();
  job->state().set_job(job);
  if (!job->has_next()) return;  // nothing to do (an empty map is already complete)
  if (std::none_of(g.engines.begin(), g.engines.end(),
                   [&](int e) { return roster_.member(e).alive; })) {
    job->cancel(std::make_exception_ptr(
        Error("every engine of this pool or view has died; nothing is left to run the work "
              "(ranks::Client::add_engines spawns more, where the launch allows it)")));
    return;
  }
  g.queue.push_back(std::move(job));
  dispatch(g);
  wake_progress();
}

void Controller::submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key) {
  auto lk = lock();
  if (engine < 0 || engine >= roster_.size())
    throw Error("engine " + std::to_string(engine) + " does not exist; ids are 0.." +
                std::to_string(roster_.size() - 1));
  job->state().set_job(job);
  if (!roster_.member(engine).alive) {
    job->cancel(lost_error(engine, "its namespace went with it"));
    return;
  }
  send(engine, std::move(msg), std::move(job), key, nullptr);
  wake_progress();
}

void Controller::drop_queued(Group& g, const std::exception_ptr& why) {
  auto lk = lock();
  for (auto& job : g.queue) job->cancel(why);
  g.queue.clear();
}

void Controller::handle(Bytes& data, AttachmentSource* attachments) {
  const auto h = read_header<ReplyHeader>(data);
  if (h.kind == Kind::kStopped) {
    if (h.outcome.engine >= 0 && h.outcome.engine < roster_.size())
      stopped_[static_cast<std::size_t>(h.outcome.engine)] = true;
    return;
  }
  if (h.kind == Kind::kOutput) {  // what tasks printed on an engine of a started cluster
    Reader r(data.data() + sizeof(ReplyHeader), data.size() - sizeof(ReplyHeader));
    const auto out = decode_value<std::string>(r);
    const auto err = decode_value<std::string>(r);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), stderr);
    return;
  }
  auto it = inflight_.find(h.id);
  if (it == inflight_.end()) return;
  Inflight f = std::move(it->second);
  inflight_.erase(it);
  --load_[static_cast<std::size_t>(f.engine)];
  if (f.group) --f.group->inflight;
  if (f.deadline != Clock::time_point::max()) --timed_;
  // The job decodes the reply here, receiving any attached data straight into its result.
  Reply r{
      h.outcome, f.submitted,
      Reader(data.data() + sizeof(ReplyHeader), data.size() - sizeof(ReplyHeader), attachments)};
  f.job->deliver(f.key, r);
  requeue(f);
  if (retiring_[static_cast<std::size_t>(f.engine)] &&
      load_[static_cast<std::size_t>(f.engine)] == 0)
    end_engine(f.engine, SIGKILL);
}

void Controller::count_part(int engine, const Group& g) {
  const auto e = static_cast<std::size_t>(engine);
  if (retiring_[e] || ++parts_sent_[e] < g.maxtasks) return;
  if (!survives(engine) || !replaceable(engine))
    return;             // it cannot be ended, or not replaced: it goes on serving
  retiring_[e] = true;  // no more work; ended once its last part is back
}

void Controller::requeue(const Inflight& f) {
  // A dynamic job that got a part back to retry has work again: queue it, once.
  if (!f.group) return;
  auto d = std::dynamic_pointer_cast<DynamicJob>(f.job);
  if (!d || !d->has_next()) return;
  auto& q = f.group->queue;
  if (std::find(q.begin(), q.end(), d) == q.end()) q.push_back(std::move(d));
}

// Static jobs.

void Controller::submit_static(Group& g, std::shared_ptr<StaticJob> job) {
  auto lk = lock();
  job->state().set_job(job);
  auto group = g.shared_from_this();
  const std::size_t w = g.engines.size();
  for (int e : g.engines)
    if (!roster_.member(e).alive) return job->cancel(lost_error(e, "a call to this view needs it"));
  if (w == 0)
    return job->cancel(std::make_exception_ptr(
        Error("every engine of this view has died; nothing is left to run the call")));
  const int link = roster_.member(g.engines.front()).link;
  const Link& l = roster_.links()[static_cast<std::size_t>(link)];
  if (!fits_collective(*job, g.engines, l)) {
    for (std::size_t i = 0; i < w; ++i)
      send(g.engines[i], slot_message(*job, i, false), job, i, group);
  } else {
    // The control messages go out now, so that each engine sees its work in submission order
    // (a later point-to-point task cannot overtake it); the collectives are posted in turn.
    for (std::size_t i = 0; i < w; ++i) {
      transmit(g.engines[i], slot_message(*job, i, true));
      ++load_[static_cast<std::size_t>(g.engines[i])];
    }
    group->inflight += w;
    statics_[static_cast<std::size_t>(link)].push(std::move(job), std::move(group));
  }
  wake_progress();
}

void Controller::deliver_static(StaticJob& job, Group& group, std::size_t slot, Reply& r) {
  --load_[static_cast<std::size_t>(group.engines[slot])];
  --group.inflight;
  job.deliver(slot, r);
}

// Progress.

std::string Controller::tasks_on(int engine) const {
  std::set<std::string> names;
  for (const auto& [id, f] : inflight_)
    if (f.engine == engine) names.insert(task_name(f.invoker));
  std::string tasks;
  for (const auto& n : names) tasks += (tasks.empty() ? "" : ", ") + n;
  return tasks;
}

void Controller::shutdown(int code, std::chrono::milliseconds grace) {
  {
    auto lk = lock();
    stopping_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  if (watch_) watch_->quiet();
  auto lk = lock();
  callbacks_.clear();
  stopped_.assign(static_cast<std::size_t>(roster_.size()), false);
  for (int e = 0; e < roster_.size(); ++e)
    if (roster_.member(e).alive) transmit(e, Message(stop_message(code)));
  const auto deadline = Clock::now() + grace;
  transport::Backoff backoff(std::chrono::microseconds(2000));
  bool left_busy = false;
  // Engines that have not said they stopped: alive, or not yet known to have died.
  const auto running = [&] {
    int n = 0;
    for (int e = 0; e < roster_.size(); ++e)
      n += roster_.member(e).alive && !stopped_[static_cast<std::size_t>(e)] ? 1 : 0;
    return n;
  };
  while (running() > 0) {
    if (poll()) {
      backoff.reset();
      continue;
    }
    // An engine that died meanwhile (ended just before the end, killed) says nothing more.
    if (watch_ && watch_->pending())
      for (const auto& d : watch_->take())
        if (d.engine < roster_.size() && !stopped_[static_cast<std::size_t>(d.engine)])
          roster_.lose(d.engine, d.signal);
    for (int e : roster_.newly_dead())
      if (survives(e)) roster_.lose(e);
    if (cluster_) {
      last_heard_ = {};
      hear_cluster();
    }
    if (grace.count() > 0 && Clock::now() > deadline) {
      const std::string busy = std::to_string(running()) + " engine(s) still busy " +
                               std::to_string(grace.count()) + " ms after the controller ended; ";
      if (!cluster_) {
        log_line(busy + "aborting the job");
        transport::abort(code);
      }
      // A cluster's engines are not this program's to end: they finish into nothing.
      log_line(busy + "leaving them to cluster '" + cluster_->name() + "'");
      left_busy = true;
      break;
    }
    backoff.pause();
  }
  // Sends to an engine that died never complete: with one lost, what is left is let go.
  if (left_busy || roster_.alive_count() < roster_.size()) {
    outbox_.abandon();
  } else {
    outbox_.drain();
  }
  roster_.release(left_busy);
  if (cluster_) cluster_->leave();
  callbacks_.clear();
}

}  // namespace ranks::detail
