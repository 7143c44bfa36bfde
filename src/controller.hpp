#pragma once

// The controller: engines and their load, the dynamic queue, static collectives, async results.
// One mutex guards all of it and every MPI call made on rank 0; whoever waits drives progress.

#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ranks/detail/runtime.hpp"
#include "transport.hpp"

namespace ranks::detail {

class Group : public std::enable_shared_from_this<Group> {
 public:
  std::vector<int> engines;
  std::deque<std::shared_ptr<DynamicJob>> queue;
  std::size_t inflight = 0;  // parts (and static slots) on engines
};

class Controller {
 public:
  Controller(std::string exe, std::vector<std::string> args);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  /// Adopts the engines started with the controller (ranks 1.. of MPI_COMM_WORLD) after
  /// checking they run this binary; false (having said which do not) otherwise.
  bool adopt_world();

  std::shared_ptr<Group> make_group(int n, const char* who);
  std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who);
  std::shared_ptr<Group> default_group();
  void submit(Group& g, std::shared_ptr<DynamicJob> job);
  void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
                 std::shared_ptr<Group> g = nullptr);
  void submit_static(Group& g, std::shared_ptr<StaticJob> job);
  void drop_queued(Group& g, const std::exception_ptr& why);
  bool wait_until(const std::function<bool()>& done,
                  std::optional<std::chrono::steady_clock::time_point> deadline);
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  void post(std::function<void()> fn) { callbacks_.push_back(std::move(fn)); }
  [[nodiscard]] int engine_count() {
    auto lk = lock();
    return static_cast<int>(engines_.size());
  }

  /// Stops every engine with `code`; after `grace` without an answer, aborts the job.
  void shutdown(int code, std::chrono::milliseconds grace);

 private:
  struct Batch {
    MPI_Comm comm = MPI_COMM_NULL;
    transport::Spawned spawned;  // empty for the world's engines
    int first = 0;
    int count = 0;
    struct StaticOp;
    std::deque<std::shared_ptr<StaticOp>> statics;  // the front one is running
  };
  struct Engine {
    int batch = 0;
    int rank = 0;
    int inflight = 0;
    int local_pid = 0;  // the engine's pid when it runs on this host (0: elsewhere)
  };
  struct Inflight {
    std::shared_ptr<Job> job;
    std::uint64_t key = 0;
    int engine = 0;
    std::shared_ptr<Group> group;
    std::chrono::system_clock::time_point submitted;
    std::uint32_t invoker = 0;  // the task type, to name it if the engine dies
  };

  void spawn(int n);
  /// Checks and adds the engines of comm (ranks 1..); false if some run another binary.
  bool adopt(MPI_Comm comm, const transport::Spawned& spawned);
  bool poll();
  void handle(Batch& b, transport::Incoming& in);
  void requeue(const Inflight& f);
  void dispatch(Group& g);
  void dispatch_all();
  void send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
            std::shared_ptr<Group> g);
  void start_static(Batch& b);
  bool progress_static(Batch& b);
  void run_callbacks();
  /// Ends the job, naming the engine and its tasks, if an engine on this host has died
  /// (killed, crashed); looks at most every 200 ms. Call under the lock.
  void watch_engines();
  /// Wakes the progress thread if it sleeps deeply (call under the lock).
  void wake_progress() {
    if (deep_sleep_) cv_.notify_one();
  }
  void progress_loop();
  [[nodiscard]] bool busy() const;
  std::shared_ptr<Group> find_group(Group& g);

  std::mutex mu_;
  std::condition_variable cv_;
  std::string exe_;
  std::vector<std::string> args_;
  std::deque<Batch> batches_;
  std::vector<Engine> engines_;
  std::unordered_map<std::uint64_t, Inflight> inflight_;
  std::vector<std::weak_ptr<Group>> groups_;
  std::shared_ptr<Group> default_group_;
  std::uint64_t next_id_ = 1;
  transport::Outbox outbox_;
  transport::Incoming incoming_;
  std::vector<std::function<void()>> callbacks_;
  std::mutex callback_mu_;
  int waiters_ = 0;
  std::chrono::steady_clock::time_point last_watch_{};
  bool deep_sleep_ = false;
  int stopped_ = 0;
  bool stopping_ = false;
  std::thread progress_;
};

/// The controller of this run, or nullptr (outside ranks::run, or on an engine).
Controller* controller();
void set_controller(Controller* c);
/// True on an engine inside ranks::run.
bool on_engine();
void set_on_engine(bool e);

}  // namespace ranks::detail
