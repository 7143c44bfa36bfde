#pragma once

// The engines the controller knows: how they came (the job's own ranks, or spawned), how to
// reach each (a communicator and a rank in it), where it runs, and whether it still lives. Both
// halves of the start-up handshake that admits engines are here.

#include <mpi.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "transport.hpp"

namespace ranks::detail {

/// How a set of engines came to the controller.
enum class Origin {
  kWorld,    // ranks 1.. of the job the controller was started in (mpirun, srun)
  kSpawned,  // started by the controller (MPI_Comm_spawn)
};

/// A communicator that reaches engines: the controller is its rank 0, and engines
/// first .. first + count - 1 are its ranks 1 .. count.
struct Link {
  MPI_Comm comm = MPI_COMM_NULL;
  Origin origin = Origin::kWorld;
  transport::Spawned spawned;  // kSpawned: what release() lets go of
  int first = 0;
  int count = 0;
};

/// One engine as the controller knows it.
struct Member {
  int link = 0;  // index in Roster::links()
  int rank = 0;  // in that link's communicator
  std::string host;
  int pid = 0;
  bool local = false;  // on the controller's host, where its death shows in /proc at once
  bool alive = true;
};

class Roster {
 public:
  /// args: the program's arguments, given to spawned engines.
  explicit Roster(std::vector<std::string> args);
  Roster(const Roster&) = delete;
  Roster& operator=(const Roster&) = delete;

  /// Admits the engines started with the controller (ranks 1.. of MPI_COMM_WORLD) once they
  /// prove they run this binary; false (having said which do not) otherwise.
  bool adopt_world();
  /// Spawns n engines of this binary and admits them. Throws ranks::Error when spawning is
  /// turned off (RANKS_SPAWN=0) or fails, with the reason.
  void spawn(int n);

  [[nodiscard]] int size() const { return static_cast<int>(members_.size()); }
  [[nodiscard]] const Member& member(int engine) const {
    return members_[static_cast<std::size_t>(engine)];
  }
  [[nodiscard]] const Link& link_of(int engine) const {
    return links_[static_cast<std::size_t>(member(engine).link)];
  }
  [[nodiscard]] const std::deque<Link>& links() const { return links_; }

  /// Engines of this host that died (killed, crashed) since the last call, each reported once;
  /// looks at most every 200 ms.
  std::vector<int> newly_dead();

  /// Lets go of spawned engines; call once they have stopped.
  void release();

 private:
  bool adopt(MPI_Comm comm, Origin origin, const transport::Spawned& spawned);

  std::vector<std::string> args_;
  std::deque<Link> links_;
  std::vector<Member> members_;
  std::chrono::steady_clock::time_point last_look_{};
};

/// The engine's half of the handshake, on rank `transport::rank(comm)` of the controller's
/// communicator: this engine's id, or -1 when the controller refused the job.
int join_controller(MPI_Comm comm);

}  // namespace ranks::detail
