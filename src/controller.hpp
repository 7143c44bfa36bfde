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

#include "attach.hpp"
#include "channel.hpp"
#include "ranks/detail/job.hpp"
#include "roster.hpp"
#include "static_op.hpp"
#include "transport.hpp"

namespace ranks::detail {

/// A set of engines with its own queue of dynamic jobs (a Pool, a view).
class Group : public std::enable_shared_from_this<Group> {
 public:
  std::vector<int> engines;
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
  };

  /// Keeps the per-engine and per-link state as large as the roster (after it grew).
  void fit_roster();
  void send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
            std::shared_ptr<Group> g);
  /// Puts a whole message on its way to an engine: over MPI, or through the cluster's hub.
  void transmit(int engine, Message msg);
  void dispatch(Group& g);
  void dispatch_all();
  bool poll();
  void handle(Bytes& data, AttachmentSource* attachments);
  void requeue(const Inflight& f);
  void deliver_static(StaticJob& job, Group& group, std::size_t slot, Reply& r);
  /// Ends the job, naming the engine and its tasks, if an engine on this host has died; an
  /// attached program hears of a cluster's dead engine from its hub instead.
  void watch_engines();
  /// What the cluster's hub said: an engine lost, the cluster stopping (at most every 200 ms).
  void hear_cluster();
  /// An engine of an attached cluster is gone: the work it held and every static job over its
  /// link fail with why; queued work no engine can take fails too.
  void lose_engine(int engine, const std::exception_ptr& why);
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
  std::chrono::steady_clock::time_point last_heard_{};
  std::unordered_map<std::uint64_t, Inflight> inflight_;
  std::vector<std::weak_ptr<Group>> groups_;
  std::shared_ptr<Group> default_group_;
  std::uint64_t next_id_ = 1;
  transport::Outbox outbox_;
  transport::Incoming incoming_;
  std::vector<std::function<void()>> callbacks_;
  std::mutex callback_mu_;
  int waiters_ = 0;
  bool deep_sleep_ = false;
  int stopped_ = 0;
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
