#pragma once

// The controller as the header-only API sees it: engine groups, jobs and waiting. Implemented in
// src/controller.cpp; users never name anything here.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// One reply from an engine, as a job receives it.
struct Reply {
  int engine = -1;
  bool ok = true;
  std::int64_t failed_item = -1;
  std::uint64_t busy_ns = 0;
  std::chrono::system_clock::time_point submitted;  // on the controller
  std::int64_t started_ns = 0;                      // on the engine, since the epoch
  std::int64_t completed_ns = 0;
  Reader payload;  // the result, or an encoded ErrorInfo when !ok
};

/// The exception a failed reply stands for.
std::exception_ptr remote_error(Reply& r, std::ptrdiff_t index_base = -1);

/// Work the controller sends. Its methods run under the controller's lock, one at a time.
class Job {
 public:
  virtual ~Job() = default;
  /// One part's reply.
  virtual void deliver(std::uint64_t key, Reply& r) = 0;
  /// The job will get no more replies (terminate, shutdown); fail what is outstanding.
  virtual void cancel(std::exception_ptr why) = 0;

  /// Parts kept in flight per engine: enough to cover a round trip, by the measured part time.
  [[nodiscard]] int depth() const {
    const std::uint64_t t = part_ns_;
    if (t == 0) return 2;
    const std::uint64_t d = 2 + 40'000 / (t + 1);
    return static_cast<int>(d > 16 ? 16 : d);
  }
  void note_busy(std::uint64_t ns) { part_ns_ = part_ns_ == 0 ? ns : (part_ns_ * 3 + ns) / 4; }

 private:
  std::uint64_t part_ns_ = 0;
};

/// Work cut into parts as engines free up (the dynamic queue).
class DynamicJob : public Job {
 public:
  [[nodiscard]] virtual bool has_next() const = 0;
  /// Whether the next part may go to `engine` (a retry avoids the engine where it failed).
  [[nodiscard]] virtual bool wants(int /*engine*/, int /*workers*/) const { return true; }
  /// Encodes the next part for `engine` into msg (a whole message) and returns its key.
  virtual std::uint64_t next(Message& msg, int workers, int depth, int engine) = 0;
};

/// Work partitioned once over a group: one slot per engine (MPI scatter/gather where it can).
class StaticJob : public Job {
 public:
  /// The control message of slot i: header (count = items) and the callable's state.
  virtual Bytes control(std::size_t slot) = 0;
  /// The encoded items of slot i.
  virtual std::span<const std::byte> items(std::size_t slot) = 0;
  /// True when every slot gets the same items (sent by one broadcast where it can).
  [[nodiscard]] virtual bool shared() const { return false; }
};

/// A set of engines with its own queue (a Pool, a view).
class Group;

/// Engines for a new group: n of them (-1: every engine, spawning one per core if none).
std::shared_ptr<Group> make_group(int n, const char* who = "ranks::Pool");
/// A group of exactly these engines, in this order (they must exist). `who` names the call.
std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who);
/// The group of every engine (shared by Process and the like; spawns one per core if none).
std::shared_ptr<Group> default_group();
[[nodiscard]] int group_size(const Group& g);
[[nodiscard]] std::vector<int> group_engines(const Group& g);

/// Queues a dynamic job on a group; engines take its parts as they free up.
void submit(Group& g, std::shared_ptr<DynamicJob> job);
/// Sends a whole message to one engine at once (key is echoed to job->deliver).
void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key);
/// Runs a static job over the group's engines, slot i on the group's i-th engine.
void submit_static(Group& g, std::shared_ptr<StaticJob> job);
/// Drops the group's queued jobs (each is cancelled with why).
void drop_queued(Group& g, const std::exception_ptr& why);
/// Parts queued or in flight for the group.
[[nodiscard]] std::size_t outstanding(const Group& g);

/// Waits until done() holds, driving progress meanwhile; false if the deadline passed first.
bool wait_until(const std::function<bool()>& done,
                std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

/// The lock under which jobs and results change.
std::unique_lock<std::mutex> lock();
/// Runs fn on the controller outside the lock, soon, one callback at a time (call under lock).
void post(std::function<void()> fn);

/// Draws a progress line on stderr (a bar on a terminal, plain lines otherwise); `last` ends it.
void show_progress(std::size_t done, std::size_t total, std::chrono::steady_clock::duration elapsed,
                   bool last);

/// Throws ranks::Error unless this is the controller inside ranks::run. `what` names the call.
void require_controller(const char* what);

}  // namespace ranks::detail
