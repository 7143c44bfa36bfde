#pragma once

// The hub of a started cluster: rank 0 of the cluster's job, beside its engines. It keeps the
// door (a TCP socket) where clients, engines and the ranks command are let in by the profile's
// key; lets one client at a time attach, queueing the next; tells the engines when to accept a
// client and when to give one up; and watches every connection, so that a client or an engine
// that dies is noticed at once, on any host.

#include <mpi.h>

#include <string>

#include "profile.hpp"

namespace ranks::detail::cluster {

/// Runs the hub until `ranks cluster stop`; engines are ranks 1.. of world. Returns the exit
/// code. door_host: the address clients reach it at ("127.0.0.1": this host only).
int run_hub(MPI_Comm world, Profile profile, const std::string& door_host);

}  // namespace ranks::detail::cluster
