#pragma once

// The engines the controller knows: how they came (the job's own ranks, or spawned), how to
// reach each (a communicator and a rank in it), where it runs, and whether it still lives. Both
// halves of the start-up handshake that admits engines are here.

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "transport/channel.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

/// How a set of engines came to the controller.
enum class Origin {
  kWorld,     // ranks 1.. of the job the controller was started in (mpirun, srun)
  kSpawned,   // started by the controller (MPI_Comm_spawn)
  kAttached,  // a started cluster's, connected to (MPI_Comm_connect)
  kRelayed,   // a started cluster's across hosts, reached through its hub (no communicator)
};

/// A communicator that reaches engines: the controller is its rank 0, its count engines are
/// its ranks 1 .. count (each Engine says its rank).
struct Link {
  MPI_Comm comm = MPI_COMM_NULL;
  Origin origin = Origin::kWorld;
  transport::Spawned spawned{};  // kSpawned, kAttached: what release() lets go of
  int count = 0;
  bool survives = false;  // the job goes on when one of these engines dies
};

/// Whether Open MPI was told to keep a job whose process died (mpirun --enable-recovery, or
/// OMPI_MCA_orte_enable_recovery=1 in the environment, which ranks sets for engines it spawns).
bool recovery_enabled();

/// One engine as the controller knows it: where it is, whether it lives, what it holds and how
/// its messages travel. Every fact of one engine is here, and nowhere else. Its index in the
/// roster is its id, for the whole program: ids are never reused, and a started cluster's
/// engines keep the cluster's ids (those it lost before the program came are absent).
struct Engine {
  // Where it is, fixed when it is admitted.
  int link = 0;  // index in Roster::links(); -1 when absent
  int rank = 0;  // in that link's communicator
  std::string host{};
  int pid = 0;
  bool local = false;   // on the controller's host, where its death shows in /proc at once
  bool absent = false;  // an id of the cluster's whose engine was lost before the program came
  // Its life.
  bool alive = true;
  bool reported = false;  // its death seen by newly_dead()
  int signal = 0;         // what ended it, once it is dead
  bool ended = false;     // the controller ended it (a timeout, terminate): its death is no news
  bool retiring = false;  // takes no more work; ended once idle (maxtasksperchild)
  bool stopped = false;   // at shutdown: it said it stopped
  // Its work.
  int load = 0;                 // parts and static slots it holds: written by Ledger alone
  int parts_sent = 0;           // parts of groups with maxtasks it was sent
  std::uint64_t tasks_run = 0;  // parts and static slots it answered
  std::uint64_t rss_bytes = 0;  // its resident memory, as it last said (0: not yet)
  // How its messages travel, once the controller has equipped it (a life line, a channel).
  bool equipped = false;
  std::unique_ptr<transport::Channel> channel{};  // shared memory, on this host
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
  /// Spawns n engines of this binary and admits them (in_place: in place of lost ones, which
  /// they are told). Throws ranks::Error when spawning is turned off (RANKS_SPAWN=0) or fails,
  /// with the reason.
  void spawn(int n, bool in_place = false);
  /// Connects to the engines of a started cluster, waiting at `port`, and admits them once they
  /// have loaded this program's code; false (having said why) if they cannot.
  bool attach(const std::string& port, const std::string& cluster);
  /// What a started cluster's hub says of an engine it relays to.
  struct Relayed {
    std::string host;
    int pid = 0;
    int id = 0;  // the cluster's
  };
  /// Admits the engines of a started cluster that its hub relays to, having admitted them for
  /// this program, in rank order.
  void attach_relayed(const std::string& cluster, const std::vector<Relayed>& engines);
  /// Keeps ids below next for the started cluster (its next engines'): engines this program
  /// spawns get ids from there.
  void reserve_ids(int next);
  /// The started cluster whose engines these are, if they are.
  [[nodiscard]] const std::string& cluster() const { return cluster_; }
  /// Whether the engines are a started cluster's on other hosts than this one: engines this
  /// program spawned would run here, not beside them, so it spawns none.
  [[nodiscard]] bool cluster_elsewhere() const {
    if (cluster_.empty()) return false;
    for (const Engine& e : engines_)
      if (!e.local && !e.absent) return true;
    return false;
  }
  /// One past the highest id: ids are 0 .. size() - 1, some of them absent or lost.
  [[nodiscard]] int size() const { return static_cast<int>(engines_.size()); }
  /// "engine 3 (MPI rank 4, pid 123 on host)", for messages: the MPI rank where it is one of
  /// the job's own ranks.
  [[nodiscard]] std::string named(int e) const;
  /// Whether e is the id of an engine of this program (alive or lost since).
  [[nodiscard]] bool known(int e) const { return e >= 0 && e < size() && !engine(e).absent; }
  /// Why id e names no engine of this program (call when !known(e)), and which ids do.
  [[nodiscard]] std::string unknown(int e) const;
  /// The ids of the engines alive, as a short list ("0..3, 5, 7").
  [[nodiscard]] std::string live_ids() const;
  /// Whether an engine of this program died (or was ended) while it ran.
  [[nodiscard]] bool any_lost() const;
  [[nodiscard]] Engine& engine(int e) { return engines_[static_cast<std::size_t>(e)]; }
  [[nodiscard]] const Engine& engine(int e) const { return engines_[static_cast<std::size_t>(e)]; }
  [[nodiscard]] const Link& link_of(int e) const {
    return links_[static_cast<std::size_t>(engine(e).link)];
  }
  /// Whether the launch of engine e survives its loss.
  [[nodiscard]] bool survives(int e) const { return link_of(e).survives; }
  /// Whether a spawned engine can stand in for engine e (not for a started cluster's, which
  /// are the cluster's own: a program can neither spawn into it nor add more).
  [[nodiscard]] bool replaceable(int e) const {
    return link_of(e).origin != Origin::kAttached && link_of(e).origin != Origin::kRelayed;
  }
  [[nodiscard]] const std::deque<Link>& links() const { return links_; }

  /// Engines of this host that died (killed, crashed) since the last call, each reported once;
  /// looks at most every 200 ms. They are still listed alive: lose() them.
  std::vector<int> newly_dead();

  /// Marks an engine dead, of signal sig (its life line, its host or its cluster said so).
  void lose(int e, int sig = 9) {
    Engine& m = engine(e);
    if (m.alive) {
      m.signal = sig;
      ++losses_;
    }
    m.alive = false;
  }
  /// How many engines were lost so far (it changes when one is).
  [[nodiscard]] std::uint64_t losses() const { return losses_; }
  [[nodiscard]] int alive_count() const;

  /// Admits engines known already, with their link (a hub's relayed engines; the controller's
  /// tests): link.count and each record's link are set here. ids: where the engines are a
  /// started cluster's, their ids there (else they get the next ids). Returns the link's
  /// index.
  int admit(Link link, std::vector<Engine> engines, const std::vector<int>& ids = {});

  /// Lets go of spawned and attached engines; call once they have stopped. give_up: some still
  /// run (a started cluster's, left to finish into nothing): let go without waiting for them.
  void release(bool give_up = false);

 private:
  bool adopt(MPI_Comm comm, Origin origin, const transport::Spawned& spawned,
             bool in_place = false);

  std::vector<std::string> args_;
  std::deque<Link> links_;
  std::vector<Engine> engines_;
  std::chrono::steady_clock::time_point last_look_{};
  std::string cluster_;
  std::uint64_t losses_ = 0;
};

/// Loads the program code at path with build id build; returns "" or why it cannot.
using CodeLoader = std::string (*)(const std::string& path, const std::string& build);

/// The engine's half of the handshake, on rank `transport::rank(comm)` of the controller's
/// communicator: this engine's id, or -1 when the controller refused the job. An engine of a
/// started cluster passes `load`, to load the attaching program's code first, and its id in
/// the cluster, which is then its id in the program. An engine spawned in place of a lost one
/// learns it here (engine_started_in_place).
int join_controller(MPI_Comm comm, CodeLoader load = nullptr, int cluster_id = -1);

/// The controller's half of the handshake, turning every engine of comm away (a started
/// cluster's hub, standing in for a client that vanished after it was let in).
void refuse_engines(MPI_Comm comm);

/// What a started cluster's hub learns when it admits engines for a program that it relays to.
struct Admission {
  std::vector<Roster::Relayed> engines;  // in rank order
  std::vector<std::string> problems;     // why engines cannot run it (then none is)
};
/// The controller's half of the handshake, done by a hub for a program that reaches the
/// engines through it: the program's identity hash and code stand in for the hub's own.
Admission admit_for_program(MPI_Comm comm, std::uint64_t hash, const std::string& code_path,
                            const std::string& code_build);

}  // namespace ranks::detail
