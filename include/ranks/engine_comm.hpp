#pragma once

#include <mpi.h>

/// @file
/// ranks::engine_comm(), MPI among a DirectView's engines.

namespace ranks {

/// Inside a task of DirectView::apply or execute: an MPI communicator of exactly the view's
/// engines, the view's target i being its rank i, for MPI calls of your own among them
/// (mpi4py.futures' get_comm_workers). An engine makes it the first time it is asked for a set
/// of engines, together with the others of the set: that first call is collective among them,
/// so call it on every target (as a DirectView task runs on every target) or on none. It stays
/// valid while the program runs (attached: while it stays attached); do not free it.
///
/// @code
/// dview.apply([](int) {
///   MPI_Comm c = ranks::engine_comm();
///   int rank = 0;
///   MPI_Comm_rank(c, &rank);  // == the engine's place in the view
/// }, 0).get();
/// @endcode
///
/// Throws ranks::Error in any other task (a LoadBalancedView's, an EngineView's apply, a Pool's)
/// and where the view's engines share no MPI communicator (engines of different spawns).
MPI_Comm engine_comm();

}  // namespace ranks
