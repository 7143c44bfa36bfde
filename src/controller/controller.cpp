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

Controller::Controller(std::vector<std::string> args)
    : roster_(std::move(args)), scheduler_(roster_, *this) {
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
  equip_new_engines();
  return true;
}

bool Controller::attach(std::unique_ptr<cluster::AttachedCluster> cluster) {
  const cluster::AttachedCluster::Entry& entry = cluster->entry();
  auto lk = lock();
  if (entry.relayed) {
    std::vector<Roster::Relayed> engines;
    for (const auto& e : entry.engines) engines.push_back({e.host, e.pid, e.id});
    roster_.attach_relayed(cluster->name(), engines);
  } else if (!roster_.attach(entry.port, cluster->name())) {
    cluster->leave();
    return false;
  }
  roster_.reserve_ids(entry.next_id);
  if (entry.dashboard) scheduler_.recorder().keep_recent();
  cluster_ = std::move(cluster);
  equip_new_engines();
  return true;
}

std::optional<std::string> Controller::cluster() {
  auto lk = lock();
  if (!cluster_) return std::nullopt;
  return cluster_->name();
}

void Controller::equip_new_engines() {
  while (statics_.size() < roster_.links().size())
    statics_.emplace_back(roster_.links()[statics_.size()]);
  // Engines on this host get a shared-memory channel (RANKS_CHANNEL=0: MPI alone).
  const bool channels = !channels_off_;
  for (int e = 0; e < roster_.size(); ++e) {
    Engine& m = roster_.engine(e);
    if (m.equipped) continue;
    m.equipped = true;
    const Link& l = roster_.link_of(e);
    // An engine of a launch that survives its loss gets a life line first (by MPI, before the
    // channel takes over its messages). So does an engine of a job that its MPI ends when a
    // process dies (plain mpirun, MPICH): its line says at once which engine it was, before the
    // launcher ends us (from /proc, the controller would see it up to 200 ms later, if at all).
    const bool fatal = l.origin == Origin::kWorld && !l.survives;
    if ((l.survives || fatal) && m.alive && l.comm != MPI_COMM_NULL &&
        (l.origin == Origin::kWorld || l.origin == Origin::kSpawned)) {
      try {
        if (!watch_) {
          watch_ = std::make_unique<lifeline::Watch>();
          if (fatal) watch_->report_deaths(transport::death_ends_the_job());
        }
        const std::string who = fatal ? roster_.named(e) : std::string();
        outbox_.send(l.comm, m.rank,
                     Message(text_message(Kind::kLifeline, watch_->invitation(e, m.local, who))));
      } catch (const Error& err) {
        log_line(std::string(err.what()) + "; engine deaths on other hosts go unnoticed");
      }
    }
    if (channels && m.local && m.alive && l.comm != MPI_COMM_NULL) {
      try {
        m.channel = transport::Channel::create(l.comm, m.rank);
        outbox_.send(l.comm, m.rank, Message(channel_message(m.channel->name())));
      } catch (const Error& err) {
        log_line(std::string(err.what()) + "; this engine's messages go by MPI");
        m.channel.reset();
      }
    }
  }
  all_channelled_.assign(roster_.links().size(), true);
  for (int e = 0; e < roster_.size(); ++e)
    if (!roster_.engine(e).channel && !roster_.engine(e).absent)
      all_channelled_[static_cast<std::size_t>(roster_.engine(e).link)] = false;
}

void Controller::transmit(int engine, Message msg) {
  Engine& m = roster_.engine(engine);
  const Link& l = roster_.link_of(engine);
  if (l.origin == Origin::kRelayed) {
    cluster_->send_relayed(m.rank, std::move(msg));
  } else if (m.channel) {
    m.channel->send(std::move(msg), outbox_);
  } else {
    outbox_.send(l.comm, m.rank, std::move(msg));
  }
}

void Controller::spawn(int n, bool in_place) {
  roster_.spawn(n, in_place);
  equip_new_engines();
}

// Groups and work: the scheduler's, under the lock.

std::shared_ptr<Group> Controller::make_group(int n, const char* who) {
  auto lk = lock();
  return scheduler_.make_group(n, who);
}

std::shared_ptr<Group> Controller::group_of(const std::vector<int>& engines, const char* who) {
  auto lk = lock();
  return scheduler_.group_of(engines, who);
}

std::shared_ptr<Group> Controller::default_group() {
  auto lk = lock();
  if (!default_group_ || default_group_->engines.empty())
    default_group_ = scheduler_.make_group(-1, "ranks::Process");
  return default_group_;
}

std::vector<int> Controller::add_engines(int n, const char* who) {
  auto lk = lock();
  return scheduler_.add_engines(n, who);
}

std::size_t Controller::outstanding(const Group& g) {
  auto lk = lock();
  return scheduler_.outstanding(g);
}

void Controller::submit(Group& g, std::shared_ptr<DynamicJob> job) {
  auto lk = lock();
  scheduler_.submit(g, std::move(job));
  wake_progress();
}

void Controller::submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key) {
  auto lk = lock();
  scheduler_.submit_to(engine, std::move(msg), std::move(job), key);
  wake_progress();
}

void Controller::drop_queued(Group& g, const std::exception_ptr& why) {
  auto lk = lock();
  scheduler_.drop_queued(g, why);
}

void Controller::handle(Bytes& data, AttachmentSource* attachments) {
  const auto h = read_header<ReplyHeader>(data);
  if (h.kind == Kind::kStopped) {
    if (h.outcome.engine >= 0 && h.outcome.engine < roster_.size())
      roster_.engine(h.outcome.engine).stopped = true;
    return;
  }
  Reader payload(data.data() + sizeof(ReplyHeader), data.size() - sizeof(ReplyHeader), attachments);
  if (h.kind == Kind::kProgress) {
    scheduler_.progress(h.id, decode_value<std::uint64_t>(payload));
    return;
  }
  if (h.kind == Kind::kObjectCall) {
    tell_objects_of_losses();  // a lost engine's waiting get must not take what comes now
    return objects_.serve(h.outcome.engine, h.id, payload);
  }
  if (h.kind == Kind::kOutput) {  // what tasks printed on an engine of a started cluster
    const auto out = decode_value<std::string>(payload);
    const auto err = decode_value<std::string>(payload);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), stderr);
    return;
  }
  scheduler_.reply(h, payload);
}

// Static jobs.

std::unique_lock<std::mutex> Controller::settled(const Group& g) {
  auto lk = lock();
  if (!scheduler_.replacing(g)) return lk;
  lk.unlock();
  wait_until(
      [&] {
        auto l = lock();
        return !scheduler_.replacing(g);
      },
      std::nullopt);
  lk.lock();
  return lk;
}

void Controller::submit_static(Group& g, std::shared_ptr<StaticJob> job) {
  // A call over a view's engines waits for those being started in place of lost ones.
  auto lk = settled(g);
  job->state().set_job(job);
  scheduler_.recorder().submitted(job);
  auto group = g.shared_from_this();
  const std::size_t w = g.engines.size();
  for (int e : g.engines)
    if (!roster_.engine(e).alive)
      return job->cancel(scheduler_.lost_error(e, "a call to this view needs it"));
  if (w == 0)
    return job->cancel(std::make_exception_ptr(
        Error("every engine of this view has died; nothing is left to run the call")));
  const int link = roster_.engine(g.engines.front()).link;
  const Link& l = roster_.links()[static_cast<std::size_t>(link)];
  std::vector<int> ranks;
  for (int e : g.engines)
    ranks.push_back(roster_.engine(e).link == link ? roster_.engine(e).rank : -1);
  if (!fits_collective(*job, ranks, l)) {
    // Point to point, one part a slot, through the scheduler's ledger as any part.
    for (std::size_t i = 0; i < w; ++i)
      scheduler_.submit_slot(g.engines[i], slot_message(*job, i, false), job, i, group);
  } else {
    // The control messages go out now, so that each engine sees its work in submission order
    // (a later point-to-point task cannot overtake it); the collectives are posted in turn.
    for (std::size_t i = 0; i < w; ++i) transmit(g.engines[i], slot_message(*job, i, true));
    scheduler_.ledger().add_slots(*group);
    statics_[static_cast<std::size_t>(link)].push(std::move(job), std::move(group));
  }
  wake_progress();
}

void Controller::drop_collectives(int link, const std::exception_ptr& why) {
  statics_[static_cast<std::size_t>(link)].abandon([&](StaticJob& job, Group& group) {
    scheduler_.ledger().take_slots(group);
    job.cancel(why);
  });
}

// The end.

void Controller::shutdown(int code, std::chrono::milliseconds grace) {
  dashboard_.reset();
  {
    auto lk = lock();
    stopping_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  if (watch_) watch_->quiet();
  auto lk = lock();
  objects_.end();  // a task still waiting on an object is told, and can end
  scheduler_.stop();
  callbacks_.clear();
  for (int e = 0; e < roster_.size(); ++e) roster_.engine(e).stopped = false;
  for (int e = 0; e < roster_.size(); ++e)
    if (roster_.engine(e).alive) transmit(e, Message(stop_message(code)));
  const auto deadline = Clock::now() + grace;
  transport::Backoff backoff(std::chrono::microseconds(2000));
  bool left_busy = false;
  // Engines that have not said they stopped: alive, or not yet known to have died.
  const auto running = [&] {
    int n = 0;
    for (int e = 0; e < roster_.size(); ++e)
      n += roster_.engine(e).alive && !roster_.engine(e).stopped ? 1 : 0;
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
        if (d.engine < roster_.size() && !roster_.engine(d.engine).stopped)
          roster_.lose(d.engine, d.signal);
    for (int e : roster_.newly_dead())
      if (roster_.survives(e)) roster_.lose(e);
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
  scheduler_.recorder().close();  // every reply is in
  // Sends to an engine that died never complete: with one lost, what is left is let go.
  if (left_busy || roster_.any_lost()) {
    outbox_.abandon();
  } else {
    outbox_.drain();
  }
  roster_.release(left_busy);
  if (cluster_) cluster_->leave();
  callbacks_.clear();
}

}  // namespace ranks::detail
