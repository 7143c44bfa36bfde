#include "roster.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "log.hpp"
#include "ranks/error.hpp"
#include "registry_table.hpp"

namespace ranks::detail {

namespace {

// What each side says at start-up: who it is (binary, host, pid); the controller adds the id
// of the first engine of the communicator. The controller broadcasts its Hello, gathers the
// engines', then broadcasts whether it admits them.
struct Hello {
  Identity id;
  std::int32_t first = -1;
};

// Whether a process of this host still runs (a zombie has died: its parent has yet to reap it).
bool alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace

Roster::Roster(std::vector<std::string> args) : args_(std::move(args)) {}

bool Roster::adopt_world() {
  return transport::size(MPI_COMM_WORLD) <= 1 ||
         adopt(MPI_COMM_WORLD, Origin::kWorld, transport::Spawned{});
}

void Roster::spawn(int n) {
  // Some batch systems' MPIs hang or fail slowly on MPI_Comm_spawn: RANKS_SPAWN=0 forbids it.
  if (const char* allow = std::getenv("RANKS_SPAWN"); allow && std::string(allow) == "0")
    throw Error("spawning is turned off (RANKS_SPAWN=0)");
  transport::Spawned s = transport::spawn(n, self_exe(), args_);
  if (!adopt(s.merged, Origin::kSpawned, s)) {
    transport::release(s);
    throw Error("the spawned engines run a different binary");
  }
}

bool Roster::adopt(MPI_Comm comm, Origin origin, const transport::Spawned& spawned) {
  Hello mine{identity(), static_cast<std::int32_t>(members_.size())};
  transport::bcast(comm, &mine, sizeof mine);
  const int n = transport::size(comm);
  std::vector<Hello> seen(static_cast<std::size_t>(n));
  transport::gather(comm, &mine, sizeof mine, seen.data());
  std::int32_t admitted = 1;
  for (int r = 1; r < n; ++r) {
    if (seen[r].id.hash == mine.id.hash) continue;
    admitted = 0;
    log_line("engine rank " + std::to_string(r) + " runs '" + seen[r].id.exe +
             "', which is not the controller's binary '" + mine.id.exe +
             "' (or was built differently); every rank must run the same executable: check the "
             "mpirun command line or hostfile");
  }
  transport::bcast(comm, &admitted, sizeof admitted);
  if (!admitted) return false;
  links_.push_back(Link{comm, origin, spawned, mine.first, n - 1});
  const int link = static_cast<int>(links_.size()) - 1;
  for (int r = 1; r < n; ++r) {
    const Identity& id = seen[r].id;
    const bool local = std::strncmp(id.host, mine.id.host, sizeof id.host) == 0;
    members_.push_back(Member{link, r, id.host, id.pid, local, true});
  }
  return true;
}

std::vector<int> Roster::newly_dead() {
  std::vector<int> dead;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_look_ < std::chrono::milliseconds(200)) return dead;
  last_look_ = now;
  for (std::size_t e = 0; e < members_.size(); ++e) {
    Member& m = members_[e];
    if (!m.alive || !m.local || alive(m.pid)) continue;
    m.alive = false;
    dead.push_back(static_cast<int>(e));
  }
  return dead;
}

void Roster::release() {
  for (auto& l : links_)
    if (l.origin == Origin::kSpawned) transport::release(l.spawned);
}

int join_controller(MPI_Comm comm) {
  Hello theirs;
  transport::bcast(comm, &theirs, sizeof theirs);
  const Hello mine{identity(), -1};
  transport::gather(comm, &mine, sizeof mine, nullptr);
  std::int32_t admitted = 0;
  transport::bcast(comm, &admitted, sizeof admitted);
  return admitted ? theirs.first + transport::rank(comm) - 1 : -1;
}

}  // namespace ranks::detail
