#pragma once

// What other engines send straight to this one: a pipe's items for the ends its task receives
// at, by rings in shared memory (engines of this host) or by MPI. An item whose large blocks are
// still in MPI waits there until the task receives it, and they then go straight into its
// value; one at a time, and made whole in the end's inbox when the task does something else.

#include <cstdint>
#include <optional>

#include "engine/answer.hpp"
#include "ranks/detail/objects.hpp"
#include "ranks/detail/pipe_inbox.hpp"

namespace ranks::detail {

/// A task waiting in recv at an end: where the item it receives next may be decoded.
struct Sink {
  std::uint64_t object = 0;
  std::int64_t end = 0;
  ItemSink into;
  bool done = false;  // an item went into it
};

/// Makes a sink the one items are decoded into while it lives (one with no decoder: none).
class SinkWhileWaiting {
 public:
  explicit SinkWhileWaiting(Sink& sink);
  ~SinkWhileWaiting();
  SinkWhileWaiting(const SinkWhileWaiting&) = delete;
  SinkWhileWaiting& operator=(const SinkWhileWaiting&) = delete;
};

/// A task here kept an end's inbox: from now on items may come straight here.
void expect_straight_items();
/// Receives what another engine sent straight here, if anything came: into the inbox of the end
/// it is for, or (no task keeps that end any more) on to the controller. False if nothing came.
bool take_in_straight(Answer& answer);
/// For a receive at the sink's end: the item waiting with its blocks in MPI, if it is the
/// inbox's next (a poll's yes, or the item decoded into the sink); else that item is made whole
/// where it belongs, and nothing is returned.
std::optional<ObjectAnswer> answer_from_pending(Answer& answer, Sink& sink, PipeInbox& inbox,
                                                bool poll);
/// Makes the item waiting with its blocks in MPI whole, where it belongs.
void settle_pending(Answer& answer);
/// When a session with a program ends: forgets the rings and what waits.
void forget_straight_arrivals();

// Given by pipe_ends.cpp:
/// The inbox of an end that the running task keeps here, or null.
PipeInbox* kept_inbox(std::uint64_t object, std::int64_t end);
/// Whether a task uses pipe ends now (between its first call on one and its end).
bool task_uses_pipe_ends();

}  // namespace ranks::detail
