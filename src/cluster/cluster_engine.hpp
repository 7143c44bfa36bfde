#pragma once

// An engine of a started cluster: ranks 1.. of the cluster's job. Between clients it waits on
// its connection to the hub (no CPU); told to, it accepts a client over MPI, loads the client's
// code, serves it, and goes back to waiting. Its namespace stays from client to client.

#include <mpi.h>

#include <string>

namespace ranks::detail::cluster {

/// Runs until the hub says exit; code of the programs it serves is copied, where a rebuilt
/// program must be loaded beside an older build, to copies_dir.
int run_cluster_engine(MPI_Comm world, const std::string& copies_dir);

}  // namespace ranks::detail::cluster
