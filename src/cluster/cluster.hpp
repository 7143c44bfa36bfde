#pragma once

// What `ranks cluster start` runs under mpirun: rank 0 becomes the hub, the others engines; and
// the small program with which the hub turns engines away.

#include <string>

namespace ranks::detail::cluster {

/// Serves the started cluster whose profile is in profile_dir until it is stopped. door_host:
/// the address clients reach the hub at ("127.0.0.1" when the cluster is on this host only).
int serve_cluster(int argc, char** argv, const std::string& profile_dir,
                  const std::string& door_host);

/// What the hub runs when a program died while the engines waited in MPI_Comm_accept for it:
/// connects in its place, at the engines' port, and refuses them, so that they wait again.
int turn_away(int argc, char** argv, const std::string& profile_dir, const std::string& port);

}  // namespace ranks::detail::cluster
