#pragma once

// Work as the controller sees it: a job hands out parts (messages) and takes their replies.
// Its methods run under the controller's lock, one at a time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/state.hpp"
#include "ranks/detail/wire.hpp"
#include "ranks/metadata.hpp"

namespace ranks::detail {

/// One part's reply, as its job receives it: the outcome the engine wrote, when the part was
/// sent, and the result (or, when the outcome is not ok, the error report).
struct Reply {
  Outcome outcome;
  std::chrono::system_clock::time_point submitted;  // on the controller
  Reader payload;
};

/// What a reply says about its part, for AsyncResult::metadata.
inline TaskMetadata metadata_of(const Reply& r, std::size_t first, std::size_t count,
                                int attempt = 0) {
  using std::chrono::system_clock;
  auto at = [](std::int64_t ns) {
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
  };
  const Outcome& o = r.outcome;
  return TaskMetadata{o.engine, r.submitted, at(o.started_ns), at(o.completed_ns),
                      first,    count,       attempt,          o.ok != 0};
}

class Job {
 public:
  virtual ~Job() = default;
  /// What call this is, as a timeline and the dashboard name it: "apply", "map", "view" (a
  /// direct view's call), "Process", "initializer".
  const char* kind = "apply";
  /// Its number among the program's calls (1, 2, ...), given when a timeline or the dashboard
  /// first sees it; 0 until then.
  std::uint64_t call_number = 0;
  /// One part's reply.
  virtual void deliver(std::uint64_t key, Reply& r) = 0;
  /// The job gets no more replies, or sends no more parts (terminate, a part that could not be
  /// encoded, shutdown): fail what is outstanding.
  virtual void cancel(std::exception_ptr why) = 0;
  /// What an AsyncResult of this job reads (for abort()).
  [[nodiscard]] virtual StateBase& state() = 0;
  /// The engine running part `key` says `done` of its items are done (for the progress shown).
  virtual void progress(std::uint64_t /*key*/, std::size_t /*done*/) {}
};

/// Work cut into parts as engines free up (the dynamic queue).
class DynamicJob : public Job {
 public:
  /// Whether a part waits to be sent (never, once the job is cancelled).
  [[nodiscard]] virtual bool has_next() const = 0;
  /// Whether the next part may go to `engine` (a retry avoids the engine where it failed).
  [[nodiscard]] virtual bool wants(int /*engine*/, int /*workers*/) const { return true; }
  /// Parts kept in flight per engine: enough to cover a round trip.
  [[nodiscard]] virtual int depth() const { return 2; }
  /// Encodes the next part for `engine` into msg (a whole message) and returns its key. May
  /// throw (an input that cannot be encoded): the controller then cancels this job alone.
  virtual std::uint64_t next(Message& msg, int workers, int depth, int engine) = 0;
  /// The part `key` was lost with its engine: true if it will be sent again (has_next() then
  /// says so); false if it may not (it has lost engines before), and the controller cancels the
  /// job with why.
  virtual bool lost(std::uint64_t /*key*/, int /*engine*/) { return false; }
  /// How long a part may run before its engine is ended and the part fails with TimeoutError;
  /// zero: no limit.
  [[nodiscard]] virtual std::chrono::nanoseconds timeout() const { return {}; }
};

/// Work partitioned once over a group: one slot per engine (MPI scatter/gather where it can).
/// Each slot's message is the body with the slot's count, then its items.
class StaticJob : public Job {
 public:
  [[nodiscard]] virtual const TaskBody& body() const = 0;
  /// Items in slot i (its message's count).
  [[nodiscard]] virtual std::uint64_t count(std::size_t slot) const = 0;
  /// The encoded items of slot i.
  [[nodiscard]] virtual std::span<const std::byte> items(std::size_t slot) const = 0;
  /// True when every slot gets the same items (sent by one broadcast where it can).
  [[nodiscard]] virtual bool shared() const { return false; }
};

}  // namespace ranks::detail
