#pragma once

// A program's side of a started cluster: where its engines come from (decided once, before MPI
// starts) and, when they are a cluster's, its connection to the cluster's hub for as long as it
// is attached: the hub notices the program's death by that connection closing.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "door.hpp"
#include "profile.hpp"

namespace ranks::detail::cluster {

/// Where a program's engines come from.
struct Source {
  enum class Kind { kJob, kSpawn, kCluster } kind = Kind::kSpawn;
  std::string cluster;  // kCluster: the profile's name
};

/// Under mpirun or srun: the job's other ranks. A plain program: RANKS_CLUSTER=NAME's cluster,
/// else a running "default" cluster, else (or with RANKS_CLUSTER=none) spawned engines.
/// Throws ranks::Error when RANKS_CLUSTER names a cluster that does not run.
Source engines_source();

class Attachment {
 public:
  /// Reads the profile of a running cluster and sets what MPI needs to connect to it; call
  /// before MPI starts. Throws ranks::Error.
  explicit Attachment(const std::string& cluster);

  /// Says hello at the door and waits until the hub lets this program in, saying so on stderr
  /// once if another program holds the cluster. Returns the MPI port where its engines accept.
  /// Throws ranks::Error.
  std::string enter();
  /// What the hub said since the last call (an engine lost, the cluster stopping), without
  /// waiting.
  std::vector<json> events();
  /// Says goodbye (the engines have let go already).
  void leave();

  [[nodiscard]] const std::string& name() const { return profile_.name; }

 private:
  Profile profile_;
  std::unique_ptr<DoorClient> door_;
};

}  // namespace ranks::detail::cluster
