#pragma once

// The controller's bookkeeping: its groups of engines and their queues of dynamic jobs, which
// engine gets the next part, the parts in flight (Ledger), and what becomes of them when a reply
// comes, an engine is lost or ended, or a part runs past its timeout. It makes no MPI call and
// takes no lock: the controller holds its lock around every call, and the scheduler reaches the
// engines through an EnginePort, which the controller implements and tests replace.

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/group.hpp"
#include "controller/ledger.hpp"
#include "controller/recorder.hpp"
#include "controller/roster.hpp"
#include "ranks/detail/job.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// What the bookkeeping asks of the engines' transport.
class EnginePort {
 public:
  virtual ~EnginePort() = default;
  /// Puts a whole message on its way to engine e.
  virtual void transmit(int engine, Message msg) = 0;
  /// Ends engine e with signal sig (its life line, or kill() on this host); false if it cannot.
  virtual bool end(int engine, int sig) = 0;
  /// Whether engine e's process is gone (a replacement is spawned only once it is).
  virtual bool gone(int engine) = 0;
  /// Starts n engines more and admits them to the roster (in_place: they stand in for lost
  /// ones, which their namespaces' messages say); throws ranks::Error saying why it cannot.
  virtual void spawn(int n, bool in_place) = 0;
  /// Fails with why every static job queued on link (an engine of it is gone, so their
  /// collectives cannot end), taking their slots from the ledger.
  virtual void drop_collectives(int link, const std::exception_ptr& why) = 0;
};

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  Scheduler(Roster& roster, EnginePort& port) : roster_(roster), port_(port), ledger_(roster) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Groups.
  /// A group of n engines (n < 0: every engine, and those added later), spawning those missing
  /// where the launch allows it; `who` names the caller in errors.
  std::shared_ptr<Group> make_group(int n, const char* who);
  /// A group of exactly these engines (a view's).
  std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who);
  /// The group of engine e alone (tasks that follow others onto the engine where those ran).
  std::shared_ptr<Group> engine_group(int e);
  /// Spawns n engines more; they join every group of all engines. Returns their ids.
  std::vector<int> add_engines(int n, const char* who);
  /// Whether an engine is being started in place of a lost one of g (the lost one keeps its
  /// place in g.engines meanwhile).
  [[nodiscard]] bool replacing(const Group& g) const;
  /// Parts of g in flight and jobs queued.
  [[nodiscard]] std::size_t outstanding(const Group& g) const {
    return g.inflight + g.queue.size();
  }

  // Work.
  void submit(Group& g, std::shared_ptr<DynamicJob> job);
  void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key);
  /// A static job's slot sent point to point (a group that is not one link's engines).
  void submit_slot(int engine, Message msg, std::shared_ptr<Job> job, std::size_t slot,
                   std::shared_ptr<Group> g) {
    send(engine, std::move(msg), std::move(job), slot, std::move(g));
  }
  void drop_queued(Group& g, const std::exception_ptr& why);
  /// Sends queued parts to the engines with room for them.
  void dispatch_all();
  /// A reply: the part it answers goes to its job (a reply to a part that left the ledger, by a
  /// lost engine or a timeout, is ignored).
  void reply(const ReplyHeader& h, Reader payload);
  /// Part or slot of job was answered by engine (outcome o) and delivered: the engine's record
  /// is kept up, and the tasks that ended (job's metadata from `seen` on) are recorded.
  void delivered(int engine, const Outcome& o, Job& job, std::size_t seen);
  /// Where tasks that end, calls and lost engines are recorded.
  [[nodiscard]] Recorder& recorder() { return recorder_; }
  /// An engine says how many items of part `id` are done (ignored once the part left).
  void progress(std::uint64_t id, std::size_t done);
  /// Static jobs' slots: the controller runs their collectives, the ledger counts them.
  [[nodiscard]] Ledger& ledger() { return ledger_; }

  // Engines lost and ended.
  /// An engine is gone (it died of signal sig, or was ended): the parts it ran go to other
  /// engines where their jobs allow it, the rest fails with ranks::EngineLost, as does every
  /// static job over its link; queued work no engine is left for fails. One the controller
  /// ended (Engine::ended: a timeout, a terminate) is no news on stderr, and is replaced.
  void lose_engine(int engine, int sig);
  /// Fails everything the engines hold and everything queued (a cluster that stopped).
  void lose_all(const std::exception_ptr& why);
  /// Ends engine e with signal sig where its launch survives that; false if it cannot.
  bool end_engine(int e, int sig);
  /// At most every 5 ms (of `now`): fails the parts past their deadline with TimeoutError,
  /// ending their engines, and spawns the replacements whose engines are gone.
  void check(Clock::time_point now);
  /// Whether check() has something to look at (parts with a deadline, replacements to spawn).
  [[nodiscard]] bool needs_check() const { return ledger_.any_timed() || !replacements_.empty(); }
  /// Whether parts are in flight or replacements are coming.
  [[nodiscard]] bool busy() const { return !ledger_.empty() || !replacements_.empty(); }
  /// abort(): the job's queued work is dropped, it fails with why, and the engines running its
  /// parts are ended where they can be.
  void abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why);
  /// Ends the engines running parts of job with sig; false if none was. Throws ranks::Error if
  /// one cannot be ended without ending the job.
  bool signal_job(const std::shared_ptr<Job>& job, int sig);
  /// No replacement is spawned from now on (the program is ending): those awaited are given up.
  void stop();

  /// ranks::EngineLost for a dead engine, saying what was lost with it.
  [[nodiscard]] std::exception_ptr lost_error(int engine, const std::string& what) const;
  /// The names of the task types engine e runs now, for a message.
  [[nodiscard]] std::string tasks_on(int engine) const;

 private:
  /// An engine to stand in for a lost one, spawned once the lost one's process is gone.
  struct Replacement {
    int engine = 0;
    std::vector<std::shared_ptr<Group>> served{};  // elastic groups it was dropped from
    std::optional<Clock::time_point> seen{};       // the first check() that saw it wanted
    std::optional<Clock::time_point> gone{};       // when its process was seen gone
  };

  void send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
            std::shared_ptr<Group> g, std::chrono::nanoseconds timeout = {});
  void dispatch(Group& g);
  /// A dynamic job that got a part back to retry has work again: it is queued, once.
  void requeue(const Part& p);
  /// Counts a part sent to engine for g (a Pool with maxtasksperchild); at the limit it takes no
  /// more work and is ended, to be replaced, once its parts are back.
  void count_part(int engine, const Group& g);
  void expire(Clock::time_point now);
  /// Spawns one engine for each replacement due, in one spawn, each in its lost engine's place.
  void replace(const std::vector<Replacement>& due, Clock::time_point now);
  void replace_due(Clock::time_point now);
  /// Whether g has an engine alive, or one coming in place of a lost one.
  [[nodiscard]] bool has_engines(const Group& g) const;
  /// Fails the queued work of groups that no engine is left for, naming the one lost last.
  void fail_orphaned_queues(int lost);
  /// Calls f with each group still alive, dropping those gone, in place: dispatch_all runs it
  /// on every poll that brought anything, so it allocates nothing. f must not add groups.
  template <class F>
  void each_group(F&& f) {
    for (std::size_t i = 0; i < groups_.size();) {
      if (auto g = groups_[i].lock()) {
        f(g);
        ++i;
      } else {
        groups_[i] = groups_.back();
        groups_.pop_back();
      }
    }
  }

  Roster& roster_;
  EnginePort& port_;
  Ledger ledger_;
  Recorder recorder_;
  std::vector<std::weak_ptr<Group>> groups_;
  std::vector<std::shared_ptr<Group>> engine_groups_;  // one engine each, for follow
  std::vector<Replacement> replacements_;
  std::uint64_t next_id_ = 1;
  Clock::time_point next_check_{};
  Clock::time_point last_spawn_{};  // replacements wait 100 ms after it
  bool stopping_ = false;
};

}  // namespace ranks::detail
