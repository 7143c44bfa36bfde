#pragma once

// A program's side of a started cluster: where its engines come from (decided once, before MPI
// starts) and, when they are a cluster's, its connection to the cluster's hub for as long as it
// is attached: the hub notices the program's death by that connection closing.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "door/door.hpp"
#include "door/profile.hpp"
#include "door/relay.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail::cluster {

/// Where a program's engines come from.
struct Source {
  enum class Kind { kJob, kSpawn, kCluster } kind = Kind::kSpawn;
  std::string cluster;  // kCluster: the profile's name
  bool named = false;   // kCluster: RANKS_CLUSTER names it (else it is a running "default")
};

/// Under mpirun or srun: the job's other ranks. A plain program: RANKS_CLUSTER=NAME's cluster,
/// else a running "default" cluster, else (or with RANKS_CLUSTER=none) spawned engines.
/// Throws ranks::Error when RANKS_CLUSTER names a cluster that does not run.
Source engines_source();

/// This program attached to a started cluster: its place at the door, the engines it was let
/// in to, the hub's news (lost engines, the cluster stopping) and, where the hub relays,
/// the messages to and from the engines.
class AttachedCluster {
 public:
  /// Reads the profile of a running cluster. Throws ranks::Error.
  explicit AttachedCluster(const std::string& cluster);

  /// An engine as the hub describes it when it relays.
  struct Engine {
    std::string host;
    int pid = 0;
    int id = 0;  // the cluster's
  };
  /// What the hub said when it let this program in.
  struct Entry {
    bool relayed = false;         // through the hub (its engines span hosts)
    std::string port;             // else: the MPI port where the engines accept
    std::vector<Engine> engines;  // relayed: the engines, in rank order, which loaded the program
    int next_id = 0;         // the id the cluster gives its next engine: those below are its own
    bool dashboard = false;  // the hub serves a dashboard: report() what this program does
  };
  /// Says hello at the door and waits until the hub lets this program in, saying so on stderr
  /// once if another program holds the cluster; the answer is kept (entry()). Call before MPI
  /// starts: the engines load the program's code and wait for it meanwhile; once it is let in,
  /// sets what MPI needs to connect to them. Throws ranks::Error (with the engines' reasons
  /// when they cannot run this program), having set nothing.
  void enter();
  [[nodiscard]] const Entry& entry() const { return entry_; }
  /// What the hub said since the last call (an engine lost, the cluster stopping), without
  /// waiting.
  std::vector<json> events();
  /// Sends a message to the engine of rank `rank` through the hub.
  void send_relayed(int rank, Message msg);
  /// The next message the hub relayed from an engine, if one is in; nullptr otherwise.
  std::unique_ptr<Relayed> next_relayed(int& rank);
  /// Tells the hub what this program does, for the cluster's dashboard (the JSON of the
  /// program's own); nothing if the hub is gone.
  void report(const json& status);
  /// Says goodbye (the engines have let go already).
  void leave();

  [[nodiscard]] const std::string& name() const { return profile_.name; }

 private:
  // Reads what the hub sent: events and relayed messages, kept apart.
  void pump();

  Profile profile_;
  std::unique_ptr<DoorClient> door_;
  Entry entry_;
  std::deque<json> events_;
  std::deque<std::pair<int, std::unique_ptr<Relayed>>> relayed_;
};

}  // namespace ranks::detail::cluster
