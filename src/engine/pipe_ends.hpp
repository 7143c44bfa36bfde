#pragma once

// A task's ends of pipes on an engine. Where the task receives at an end, it keeps that end's
// inbox while it runs (it listens there); where it sends to an end that a task on another engine
// of the same communicator listens at, its items go straight there, point to point (by a ring in
// shared memory where both engines are on one host, by MPI otherwise). Everything else about a
// pipe goes through the controller (src/objects/pipe_object.hpp says how the two fit together).
// When the task ends, it gives back what it kept.

#include "engine/answer.hpp"
#include "engine/pipe_arrivals.hpp"
#include "ranks/detail/objects.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// A task's call at an end of a pipe: send, recv, poll, close.
ObjectAnswer pipe_end_call(Answer& answer, ObjectRequest&& r);
/// A word from the controller (kPipeWord, kPipeBroken) for a pipe end of this engine's task.
void pipe_message_came(Answer& answer, Kind kind, const Bytes& data, AttachmentSource* attachments);
/// At the end of a task, before its last word with the controller: gives back the inboxes it
/// kept, and says how many items each of its straight sends sent.
void let_go_of_pipe_ends(Answer& answer);
/// Then: waits until what it sent straight has left (or its receiver was lost).
void wait_for_straight_sends(Answer& answer);

/// When a session with a program ends: forgets the engines its tasks sent straight to and the
/// rings they sent here by (ranks of its communicator name other processes in the next).
void forget_pipe_paths();

}  // namespace ranks::detail
