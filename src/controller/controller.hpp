#pragma once

// The controller: its roster of engines, its bookkeeping (Scheduler), and the transport and
// progress that move them: the engines' messages, the static jobs' collectives, deaths heard
// from life lines and a cluster's hub. One mutex guards all of it and every MPI call made on
// rank 0; whoever waits drives progress.

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/group.hpp"
#include "controller/roster.hpp"
#include "controller/scheduler.hpp"
#include "controller/static_op.hpp"
#include "dashboard/dashboard.hpp"
#include "door/attach.hpp"
#include "objects/object_server.hpp"
#include "ranks/detail/job.hpp"
#include "transport/channel.hpp"
#include "transport/lifeline.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

class Controller final : private EnginePort, private objects::ObjectServer::Port {
 public:
  /// args: the program's arguments, for engines it spawns.
  explicit Controller(std::vector<std::string> args);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  /// Admits the engines started with the controller; false if they run another binary.
  bool adopt_world();
  /// Attaches to the engines of a started cluster that let this program in
  /// (AttachedCluster::enter); false (having said why) if they cannot run it.
  bool attach(std::unique_ptr<cluster::AttachedCluster> cluster);
  /// The started cluster whose engines these are, if they are.
  [[nodiscard]] std::optional<std::string> cluster();

  std::shared_ptr<Group> make_group(int n, const char* who);
  std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who);
  std::shared_ptr<Group> default_group();
  void submit(Group& g, std::shared_ptr<DynamicJob> job);
  // reduce.cpp
  std::vector<int> common_link_ranks(const Group& g);
  // dependencies.cpp
  void submit_after(std::shared_ptr<Group> g, std::shared_ptr<DynamicJob> job,
                    std::vector<std::shared_ptr<StateBase>> after,
                    std::vector<std::shared_ptr<StateBase>> follow);
  void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key);
  void submit_static(Group& g, std::shared_ptr<StaticJob> job);
  void drop_queued(Group& g, const std::exception_ptr& why);
  [[nodiscard]] std::size_t outstanding(const Group& g);
  bool wait_until(const std::function<bool()>& done,
                  std::optional<std::chrono::steady_clock::time_point> deadline);
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  void post(std::function<void()> fn) { callbacks_.push_back(std::move(fn)); }
  [[nodiscard]] int engine_count() {
    auto lk = lock();
    return roster_.size();
  }
  /// Whether an engine of the program has died or was ended (lost, timed out, terminated).
  [[nodiscard]] bool lost_any() {
    auto lk = lock();
    return roster_.alive_count() < roster_.size();
  }

  /// Spawns n engines more; they join every group of all engines. Returns their ids.
  std::vector<int> add_engines(int n, const char* who);
  /// The engines of g, once those being started in place of lost ones have joined it.
  std::vector<int> engines_of(const Group& g) {
    auto lk = settled(g);
    return g.engines;
  }
  /// abort(): the job's queued work is dropped and its running parts stopped (their engines
  /// ended, where the launch survives that); it fails with why.
  void abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why);
  /// Ends the engine running this job's part (Process::terminate, kill) with signal sig, where
  /// the launch survives a lost engine; false if no part of it runs.
  bool signal_job(const std::shared_ptr<Job>& job, int sig);

  // objects.cpp: the objects shared between the program's processes (queues, pipes, a
  // manager's containers), served here.
  ObjectId make_object(ObjectKind kind, std::uint64_t capacity, std::uint32_t element);
  /// The program's own call on an object: answered at once, or once it can be (driving
  /// progress meanwhile).
  ObjectAnswer call_object(ObjectRequest&& r);
  /// The state of this program's object in shared memory (nullptr: id names none of them).
  objects::SyncState* sync_state(const ObjectId& id) { return objects_.sync_state(id); }
  /// What one round of progress did: took in something, or left sends pending.
  struct Drove {
    bool any = false;
    bool sending = false;
  };
  /// One round of progress (wait_until's, and a thread's of the program that waits elsewhere,
  /// on a lock).
  Drove drive();

  // observers.cpp: what observers of the run see.
  /// Records every task from now on into the timeline at path (RANKS_TIMELINE). Throws
  /// ranks::Error if it cannot be written, or if another timeline is being recorded.
  void record_timeline(const std::string& path);
  /// Serves the live dashboard at `at` (RANKS_DASHBOARD) until the program ends; returns its URL.
  /// Throws ranks::Error if it cannot listen there, or if it is served already.
  std::string serve_dashboard(const dashboard::Address& at);
  /// The dashboard's JSON: the engines, the last minute's tasks, the calls in flight, the lost
  /// engines and the shared objects.
  std::string dashboard_status();

  /// Stops every engine with `code`; after `grace` without an answer, aborts the job.
  void shutdown(int code, std::chrono::milliseconds grace);

 private:
  // EnginePort: how the scheduler reaches the engines.
  void transmit(int engine, Message msg) override;
  bool end(int engine, int sig) override;
  bool gone(int engine) override;
  void spawn(int n, bool in_place) override;
  void drop_collectives(int link, const std::exception_ptr& why) override;

  /// Gives engines admitted since the last call what their messages travel by: a life line
  /// where their launch survives a loss (or its MPI ends the job on one), a shared-memory channel
  /// on this host; and the static queue of each new link.
  void equip_new_engines();
  // objects::ObjectServer::Port
  void send_to_engine(int engine, Message m) override;
  [[nodiscard]] StraightPath straight_path(int from, int to) const override;
  /// Tells the objects of engines lost since the last call (cheap when none was): before every
  /// call on an object is served, so that what comes for a waiting get of a lost engine waits
  /// for the next taker.
  void tell_objects_of_losses();

  bool poll();
  void handle(Bytes& data, AttachmentSource* attachments);
  /// An engine is gone: its life line is forgotten, the scheduler runs what it held elsewhere.
  void lose_engine(int engine, int sig);
  /// Ends the job, naming the engine and its tasks, if an engine on this host has died; an
  /// attached program hears of a cluster's dead engine from its hub instead.
  void watch_engines();
  /// What the cluster's hub said: an engine lost, the cluster stopping (at most every 200 ms).
  void hear_cluster();
  // observers.cpp
  /// The dashboard's JSON, its stream's last most_tasks tasks (under the lock).
  nlohmann::json status_json(std::size_t most_tasks);
  /// Tells a cluster's hub that serves a dashboard what this program does (at most every second).
  void report_to_cluster();
  static constexpr std::size_t kShown = Recorder::kKept;
  /// Ends the job for engine e, whose launch does not survive its death, once its life line
  /// has reported it.
  [[noreturn]] void end_job(int e);
  /// The life lines, timeouts and replacements; called from every poll (cheap when quiet).
  void check_engines();
  void run_callbacks();
  /// The lock, taken once no engine is being started in place of a lost one of g (driving
  /// progress until then: the replacement waits for the lost process to be gone).
  std::unique_lock<std::mutex> settled(const Group& g);
  /// Wakes the progress thread if it sleeps deeply (call under the lock).
  void wake_progress() {
    if (deep_sleep_) cv_.notify_one();
  }
  void progress_loop();
  [[nodiscard]] bool busy() const;

  std::mutex mu_;
  std::condition_variable cv_;
  Roster roster_;
  Scheduler scheduler_;
  std::shared_ptr<Group> default_group_;
  std::deque<StaticQueue> statics_;   // per link of the roster
  std::vector<bool> all_channelled_;  // per link: every engine's messages come by channel
  std::unique_ptr<cluster::AttachedCluster> cluster_;
  std::unique_ptr<lifeline::Watch> watch_;  // engines of launches that survive a lost one
  objects::ObjectServer objects_{*this};
  std::uint64_t losses_told_ = 0;  // roster_.losses() when the objects last heard of them
  std::set<int> told_lost_;        // engines whose loss the objects have heard of
  // RANKS_CHANNEL=0: no shared memory between processes on one host, MPI alone.
  const bool channels_off_ = [] {
    const char* v = std::getenv("RANKS_CHANNEL");
    return v != nullptr && std::string(v) == "0";
  }();
  // RANKS_STRAIGHT_PIPES=0: a pipe's items between engines go through the controller too.
  const bool straight_pipes_off_ = [] {
    const char* v = std::getenv("RANKS_STRAIGHT_PIPES");
    return v != nullptr && std::string(v) == "0";
  }();
  std::chrono::steady_clock::time_point last_heard_{};
  std::chrono::steady_clock::time_point last_report_{};
  transport::Outbox outbox_;
  transport::Incoming incoming_;
  std::vector<std::function<void()>> callbacks_;
  std::mutex callback_mu_;
  int waiters_ = 0;
  bool deep_sleep_ = false;
  bool stopping_ = false;
  std::thread progress_;
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  // Its status is asked for under the lock, on the dashboard's thread: it goes first at shutdown.
  std::unique_ptr<dashboard::Dashboard> dashboard_;
};

/// The controller of this run, or nullptr (outside ranks::run, or on an engine).
Controller* controller();
/// The controller of this run; throws ranks::Error naming `what` where there is none (outside
/// ranks::run, or inside a task on an engine).
Controller& the_controller(const char* what);
void set_controller(Controller* c);
/// True on an engine inside ranks::run.
bool on_engine();
void set_on_engine(bool e);

}  // namespace ranks::detail
