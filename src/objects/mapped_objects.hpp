#pragma once

// Where a process finds the objects that live in shared memory. The controller makes an object's
// memory at its first use (in /dev/shm, named after the program and the object, where its handle
// says so); a process on the controller's host maps it at its first call on it; elsewhere
// (another host, or RANKS_CHANNEL=0) it cannot, and its calls go to the controller.

#include <cstdint>
#include <functional>
#include <vector>

#include "objects/shared_object.hpp"
#include "objects/sync_state.hpp"

namespace ranks::detail::objects {

/// This host, as an object's handle names it (ObjectId::host; never 0).
std::uint32_t this_host();
/// The controller: the state of its object id, its memory made now if this is its first use (in
/// /dev/shm where id.host is this host and that works, else in the controller's own memory).
SyncState& made(const ObjectId& id);
/// A process that did not make it: its state, mapped at the first call; nullptr where it cannot
/// be. Where the file is not there yet, calls `make` (which has the controller make it) and
/// tries once more.
SyncState* opened(const ObjectId& id, const std::function<void()>& make);
/// Engine e of program `program` was lost: what it held is given back (SyncState::recover).
void recover_mapped(std::uint64_t program, const LostEngine& e);
/// Program `program` ended: those who wait on its objects wake (ranks::Closed).
void close_mapped(std::uint64_t program);
/// The ids of program's objects in shared memory that this process has made or mapped.
std::vector<ObjectId> mapped_ids(std::uint64_t program);
/// Forgets every object, unmapping it (and removing the files this process made): the program
/// ended.
void forget_mapped();

}  // namespace ranks::detail::objects
