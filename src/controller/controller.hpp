#pragma once

// The controller: the dynamic queue and the jobs in flight, over the engines of its roster,
// and the progress that moves them. One mutex guards all of it and every MPI call made on
// rank 0; whoever waits drives progress.

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "controller/roster.hpp"
#include "controller/static_op.hpp"
#include "door/attach.hpp"
#include "ranks/detail/job.hpp"
#include "transport/channel.hpp"
#include "transport/lifeline.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

/// A set of engines with its own queue of dynamic jobs (a Pool, a view).
class Group : public std::enable_shared_from_this<Group> {
 public:
  /// The engines, in order. A group of every engine (`all`) or a Pool's drops those that die and
  /// takes their replacements (elastic); a group of named engines keeps them (its calls then
  /// fail with EngineLost).
  std::vector<int> engines;
  bool elastic = false;
  bool all = false;      // every engine: engines added later join it
  bool replace = false;  // spawn a replacement for each engine lost (a Pool that keeps its size)
  int maxtasks = 0;      // an engine is replaced after this many parts of the group (0: never)
  std::shared_ptr<Bytes> init;  // what an engine joining the group runs first (an initializer)
  std::deque<std::shared_ptr<DynamicJob>> queue;
  std::size_t inflight = 0;  // parts (and static slots) on engines
};

class Controller {
 public:
  /// args: the program's arguments, for engines it spawns.
  explicit Controller(std::vector<std::string> args);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  /// Admits the engines started with the controller; false if they run another binary.
  bool adopt_world();
  /// Attaches to the engines of a started cluster that let this program in (Attachment::enter);
  /// false (having said why) if they cannot run it.
  bool attach(std::unique_ptr<cluster::Attachment> cluster);
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
  /// The engines of g now (under the lock).
  std::vector<int> engines_of(const Group& g) {
    auto lk = lock();
    return g.engines;
  }
  /// abort(): the job's queued work is dropped and its running parts stopped (their engines
  /// ended, where the launch survives that); it fails with why.
  void abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why);
  /// Ends the engine running this job's part (Process::terminate, kill) with signal sig, where
  /// the launch survives a lost engine; false if no part of it runs.
  bool signal_job(const std::shared_ptr<Job>& job, int sig);

  /// Stops every engine with `code`; after `grace` without an answer, aborts the job.
  void shutdown(int code, std::chrono::milliseconds grace);

 private:
  struct Inflight {
    std::shared_ptr<Job> job;
    std::uint64_t key = 0;
    int engine = 0;
    std::shared_ptr<Group> group;
    std::chrono::system_clock::time_point submitted;
    std::uint32_t invoker = 0;  // the task type, to name it if the engine dies
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  };

  /// Keeps the per-engine and per-link state as large as the roster (after it grew).
  void fit_roster();
  void send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
            std::shared_ptr<Group> g, std::chrono::nanoseconds timeout = {});
  /// ranks::EngineLost for a dead engine, saying what was lost with it.
  [[nodiscard]] std::exception_ptr lost_error(int engine, const std::string& what) const;
  /// Puts a whole message on its way to an engine: over MPI, or through the cluster's hub.
  void transmit(int engine, Message msg);
  void dispatch(Group& g);
  void dispatch_all();
  bool poll();
  void handle(Bytes& data, AttachmentSource* attachments);
  void requeue(const Inflight& f);
  /// Counts a part sent to engine for g (a Pool with maxtasksperchild); at the limit it takes no
  /// more work and is ended, to be replaced, once its parts are back.
  void count_part(int engine, const Group& g);
  void deliver_static(StaticJob& job, Group& group, std::size_t slot, Reply& r);
  /// Ends the job, naming the engine and its tasks, if an engine on this host has died; an
  /// attached program hears of a cluster's dead engine from its hub instead.
  void watch_engines();
  /// What the cluster's hub said: an engine lost, the cluster stopping (at most every 200 ms).
  void hear_cluster();
  /// An engine is gone (it died of signal sig, or was ended): the parts it ran go to other
  /// engines where their jobs allow it, the rest fails with ranks::EngineLost, as does every
  /// static job over its link; queued work no engine is left for fails at once. `expected`:
  /// the controller ended it (a timeout, a terminate), so no news on stderr.
  void lose_engine(int engine, int sig, bool expected = false);
  /// Fails everything the engines hold and everything queued (a cluster that stopped).
  void lose_all(const std::exception_ptr& why);
  /// Ends engine e with signal sig (through its life line, or kill() on this host); false if
  /// it cannot.
  bool end_engine(int e, int sig);
  /// Parts past their timeout: their engines are ended, the parts fail with TimeoutError.
  void expire_tasks();
  /// Spawns an engine to stand in for `engine` in the groups it served and those of all engines.
  void replace_engine(int engine, std::vector<std::shared_ptr<Group>> served);
  /// Whether the launch of engine e survives its loss.
  [[nodiscard]] bool survives(int e) const;
  /// Ends the job for engine e, whose launch does not survive its death, once its life line
  /// has reported it.
  [[noreturn]] void end_job(int e);
  /// Whether a spawned engine can stand in for engine e (not for a started cluster's).
  [[nodiscard]] bool replaceable(int e) const;
  /// The life lines and local checks, timeouts; called from every poll (cheap when quiet).
  void check_engines();
  /// The names of the tasks engine e runs now, for a message.
  std::string tasks_on(int engine) const;
  void run_callbacks();
  /// Wakes the progress thread if it sleeps deeply (call under the lock).
  void wake_progress() {
    if (deep_sleep_) cv_.notify_one();
  }
  void progress_loop();
  [[nodiscard]] bool busy() const;

  std::mutex mu_;
  std::condition_variable cv_;
  Roster roster_;
  std::vector<int> load_;                                      // parts in flight per engine
  std::deque<StaticQueue> statics_;                            // per link of the roster
  std::vector<std::unique_ptr<transport::Channel>> channels_;  // per engine on this host
  std::vector<bool> all_channelled_;  // per link: every engine's messages come by channel
  std::unique_ptr<cluster::Attachment> cluster_;
  std::unique_ptr<lifeline::Watch> watch_;  // engines of launches that survive a lost one
  std::size_t timed_ = 0;                   // parts in flight with a timeout
  std::chrono::steady_clock::time_point next_expiry_{};
  std::vector<bool> ended_;      // per engine: ended by the controller (no news)
  std::vector<bool> retiring_;   // per engine: takes no more work, ended once idle
  std::vector<int> parts_sent_;  // per engine: parts of groups with maxtasks
  std::chrono::steady_clock::time_point last_heard_{};
  std::unordered_map<std::uint64_t, Inflight> inflight_;
  std::vector<std::weak_ptr<Group>> groups_;
  std::shared_ptr<Group> default_group_;
  std::vector<std::shared_ptr<Group>> engine_groups_;  // one engine each, for follow
  std::uint64_t next_id_ = 1;
  transport::Outbox outbox_;
  transport::Incoming incoming_;
  std::vector<std::function<void()>> callbacks_;
  std::mutex callback_mu_;
  int waiters_ = 0;
  bool deep_sleep_ = false;
  std::vector<bool> stopped_;  // per engine, at shutdown: said it stopped
  bool stopping_ = false;
  std::thread progress_;
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
