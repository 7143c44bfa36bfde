#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ranks/detail/objects.hpp"

namespace ranks::detail {

class OutputCapture;

/// An engine's session: runs what the controller (rank 0 of comm) sends until it says stop, as
/// engine `id` (what ranks::engine_id() reports meanwhile; -1 again after). Returns the exit
/// code the controller chose; counts the tasks it ran into *tasks if given; sends what tasks
/// print to the controller (kOutput, before each result) if output is given. Throws
/// transport::Interrupted, having let go of its sends, when the interrupt check says to give up
/// (a started cluster's client is gone).
int serve(MPI_Comm comm, int id, std::uint64_t* tasks = nullptr, OutputCapture* output = nullptr);

/// Has fn called at the end of every session (serve) of this engine, from then on: what a layer
/// above keeps for the session's program goes with it (objects mapped in shared memory).
void at_session_end(void (*fn)());
/// On an engine: the communicator it serves its controller on (MPI_COMM_NULL when it serves
/// none), for reductions among engines.
MPI_Comm engine_link();
/// On an engine: a communicator of exactly the engines at these ranks of its link, in this
/// order, made with them the first time (collective among them) and kept while the link lasts.
MPI_Comm engines_comm(const std::vector<int>& ranks);
/// Frees the communicators engines_comm made (the link is going).
void forget_engine_comms();
[[nodiscard]] int current_engine_id() noexcept;
/// In a task: a call on a shared object, sent to the controller that serves it; waits for the
/// answer (object_calls.cpp).
ObjectAnswer engine_object_call(ObjectRequest&& r);
/// In a task that waits for something other than a message (a lock in shared memory): takes in
/// what has come meanwhile, as a wait for an object's answer does (object_calls.cpp).
void keep_engine_moving();
/// Waits until the calls this task made without waiting for their answers (puts on unbounded
/// queues, sends through the controller) have been served: before it lets other processes go
/// on (a lock released, a barrier reached), so that what it put before is there for them.
void settle_object_calls();
/// At the end of a task: waits until the calls it made without waiting for their answers (puts
/// on unbounded queues, sends) have been served, and throws the first that failed.
void finish_object_calls();
/// On an engine started in place of a lost one: remembers since when, for the messages about
/// its namespace (what was pushed before is not in it).
void engine_started_in_place();
/// "" on an engine that is no replacement; else what a message about a name missing from its
/// namespace adds: that it stands in for a lost engine, and since when.
[[nodiscard]] std::string in_place_note();

}  // namespace ranks::detail
