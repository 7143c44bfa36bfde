#pragma once

// Static jobs over all the engines of one link as MPI collectives: the slots' items by one
// scatterv (or one broadcast), the outcomes by one gather, the results by one gatherv. Each
// engine is sent its slot's control message first, so that it sees its work in submission
// order; the collectives of one link then run one job at a time, in that order.

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "controller/roster.hpp"
#include "ranks/detail/job.hpp"

namespace ranks::detail {

class Group;

/// Whether a static job can run as collectives over `link`: its engines' ranks there (-1 for one
/// of another link) are exactly the link's, in order, and the slots' items lie in one buffer
/// that MPI's int counts and displacements can describe.
bool fits_collective(const StaticJob& job, const std::vector<int>& ranks, const Link& link);

/// The message of one slot: its header (kind, count, and for a collective the bytes of the
/// items that follow by scatterv or broadcast), the task's state, and, sent point to point,
/// the items themselves.
Message slot_message(const StaticJob& job, std::size_t slot, bool collective);

/// The static jobs of one link whose control messages are out, running one at a time.
class StaticQueue {
 public:
  explicit StaticQueue(const Link& link);
  StaticQueue(const StaticQueue&) = delete;
  StaticQueue& operator=(const StaticQueue&) = delete;
  ~StaticQueue();

  /// Takes slot i's reply (from the group's i-th engine) as the job's collectives complete.
  using Deliver = std::function<void(StaticJob& job, Group& group, std::size_t slot, Reply& r)>;

  /// Queues a job; its collectives start at once if no other job of the link's runs.
  void push(std::shared_ptr<StaticJob> job, std::shared_ptr<Group> group);
  /// Advances the running job; once its results are in, delivers them and starts the next.
  /// True if anything moved.
  bool progress(const Deliver& deliver);
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  /// Gives up every job queued (an engine of the link is gone: their collectives cannot end):
  /// each is handed to `fail` with its group, and the queue is emptied.
  void abandon(const std::function<void(StaticJob& job, Group& group)>& fail);

 private:
  struct Op;
  void start();

  MPI_Comm comm_;
  std::size_t ranks_;  // the controller and the link's engines
  std::deque<std::unique_ptr<Op>> ops_;
};

}  // namespace ranks::detail
