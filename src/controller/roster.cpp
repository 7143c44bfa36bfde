#include "controller/roster.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/host.hpp"
#include "base/log.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

namespace {

// What each side says at start-up. The controller broadcasts its Hello (who it is, the id of
// the first engine of the communicator and, to a started cluster, where its code is), gathers
// the engines' (who they are, and what kept them from loading that code), then broadcasts
// whether it admits them.
struct Hello {
  Identity id;
  std::int32_t first = -1;
  std::int32_t attach = 0;  // 1: the engines are a started cluster's and load code_path
  char code_path[1024] = {};
  char code_build[96] = {};
  char problem[512] = {};  // from an engine: why it cannot serve this program
};

template <std::size_t N>
void copy_to(char (&dst)[N], const std::string& s) {
  std::strncpy(dst, s.c_str(), N - 1);
  dst[N - 1] = 0;
}

}  // namespace

bool recovery_enabled() {
  if (!transport::kDynamicProcesses) return false;  // OMPI_MCA_* means nothing to another MPI
  const char* v = std::getenv("OMPI_MCA_orte_enable_recovery");
  if (v == nullptr) return false;
  const std::string s(v);
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

Roster::Roster(std::vector<std::string> args) : args_(std::move(args)) {}

bool Roster::adopt_world() {
  return transport::size(MPI_COMM_WORLD) <= 1 ||
         adopt(MPI_COMM_WORLD, Origin::kWorld, transport::Spawned{});
}

void Roster::spawn(int n) {
  if (!transport::kDynamicProcesses) throw Error(transport::without_dynamic_processes());
  // Some batch systems' MPIs hang or fail slowly on MPI_Comm_spawn: RANKS_SPAWN=0 forbids it.
  if (const char* allow = std::getenv("RANKS_SPAWN"); allow && std::string(allow) == "0")
    throw Error("spawning is turned off (RANKS_SPAWN=0)");
  transport::Spawned s = transport::spawn(n, self_exe(), args_);
  if (!adopt(s.merged, Origin::kSpawned, s)) {
    transport::release(s);
    throw Error("the spawned engines run a different binary");
  }
}

bool Roster::attach(const std::string& port, const std::string& cluster) {
  transport::Spawned link = transport::connect(port);
  cluster_ = cluster;
  if (adopt(link.merged, Origin::kAttached, link)) return true;
  transport::release(link);
  return false;
}

void Roster::attach_relayed(const std::string& cluster,
                            const std::vector<std::pair<std::string, int>>& engines) {
  cluster_ = cluster;
  const int first = static_cast<int>(members_.size());
  links_.push_back(
      Link{MPI_COMM_NULL, Origin::kRelayed, {}, first, static_cast<int>(engines.size()), true});
  const int link = static_cast<int>(links_.size()) - 1;
  const std::string here = host_name();
  for (std::size_t i = 0; i < engines.size(); ++i)
    members_.push_back(Member{link, static_cast<int>(i) + 1, engines[i].first, engines[i].second,
                              engines[i].first == here, true, false, 0});
}

bool Roster::adopt(MPI_Comm comm, Origin origin, const transport::Spawned& spawned) {
  Hello mine;
  mine.first = static_cast<std::int32_t>(members_.size());
  if (origin == Origin::kAttached) {
    const ProgramCode code = program_code();
    mine.id = identity(IdentityOf::kCode);
    mine.attach = 1;
    copy_to(mine.code_path, code.path);
    copy_to(mine.code_build, code.build_id);
  } else {
    mine.id = identity(IdentityOf::kJob);
  }
  transport::bcast(comm, &mine, sizeof mine);
  const int n = transport::size(comm);
  std::vector<Hello> seen(static_cast<std::size_t>(n));
  transport::gather(comm, &mine, sizeof mine, seen.data());
  std::int32_t admitted = 1;
  for (int r = 1; r < n; ++r) {
    const Hello& h = seen[static_cast<std::size_t>(r)];
    if (h.problem[0] == 0 && h.id.hash == mine.id.hash) continue;
    admitted = 0;
    if (origin != Origin::kAttached) {
      log_line("engine rank " + std::to_string(r) + " runs '" + h.id.exe +
               "', which is not the controller's binary '" + mine.id.exe +
               "' (or was built differently); every rank must run the same executable: check "
               "the mpirun command line or hostfile");
    } else if (h.problem[0] != 0) {
      log_line("engine " + std::to_string(r - 1) + " of cluster '" + cluster_ + "' (host " +
               h.id.host + ") cannot run this program: " + h.problem);
    } else {
      log_line("engine " + std::to_string(r - 1) + " of cluster '" + cluster_ + "' (host " +
               h.id.host +
               ") loaded this program's code but its tasks differ (another build "
               "of ranks on that host?); rebuild the program against the ranks the cluster "
               "runs, or restart the cluster with this one");
    }
  }
  transport::bcast(comm, &admitted, sizeof admitted);
  if (!admitted) return false;
  // A started cluster runs with recovery on (ranks cluster start says so to its mpirun).
  const bool survives = origin == Origin::kAttached || recovery_enabled();
  links_.push_back(Link{comm, origin, spawned, mine.first, n - 1, survives});
  const int link = static_cast<int>(links_.size()) - 1;
  for (int r = 1; r < n; ++r) {
    const Identity& id = seen[static_cast<std::size_t>(r)].id;
    const bool local = std::strncmp(id.host, mine.id.host, sizeof id.host) == 0;
    members_.push_back(Member{link, r, id.host, id.pid, local, true, false, 0});
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
    if (!m.alive || !m.local || m.reported || process_alive(m.pid)) continue;
    m.reported = true;
    dead.push_back(static_cast<int>(e));
  }
  return dead;
}

int Roster::alive_count() const {
  int n = 0;
  for (const auto& m : members_) n += m.alive ? 1 : 0;
  return n;
}

void Roster::release(bool give_up) {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    Link& l = links_[i];
    if (l.origin == Origin::kWorld || l.origin == Origin::kRelayed) continue;
    const bool lost = std::any_of(members_.begin(), members_.end(), [&](const Member& m) {
      return m.link == static_cast<int>(i) && !m.alive;
    });
    if (give_up || lost) {
      transport::abandon(l.spawned);  // disconnecting waits for every engine, gone ones too
    } else {
      transport::release(l.spawned);
    }
  }
}

int join_controller(MPI_Comm comm, CodeLoader load) {
  Hello theirs;
  transport::bcast(comm, &theirs, sizeof theirs);
  Hello mine;
  if (theirs.attach && load != nullptr) {
    const std::string problem = load(theirs.code_path, theirs.code_build);
    copy_to(mine.problem, problem);
    mine.id = problem.empty() ? identity(IdentityOf::kCode) : identity(IdentityOf::kJob);
  } else {
    mine.id = identity(IdentityOf::kJob);
  }
  transport::gather(comm, &mine, sizeof mine, nullptr);
  std::int32_t admitted = 0;
  transport::bcast(comm, &admitted, sizeof admitted);
  return admitted ? theirs.first + transport::rank(comm) - 1 : -1;
}

Admission admit_for_program(MPI_Comm comm, std::uint64_t hash, const std::string& code_path,
                            const std::string& code_build) {
  Hello mine;
  mine.id = identity(IdentityOf::kJob);
  mine.id.hash = hash;
  mine.first = 0;
  mine.attach = 1;
  copy_to(mine.code_path, code_path);
  copy_to(mine.code_build, code_build);
  transport::bcast(comm, &mine, sizeof mine);
  const int n = transport::size(comm);
  std::vector<Hello> seen(static_cast<std::size_t>(n));
  transport::gather(comm, &mine, sizeof mine, seen.data());
  Admission a;
  for (int r = 1; r < n; ++r) {
    const Hello& h = seen[static_cast<std::size_t>(r)];
    a.engines.emplace_back(h.id.host, h.id.pid);
    if (h.problem[0] != 0) {
      a.problems.push_back("engine " + std::to_string(r - 1) + " (host " + h.id.host +
                           ") cannot run this program: " + h.problem);
    } else if (h.id.hash != hash) {
      a.problems.push_back("engine " + std::to_string(r - 1) + " (host " + h.id.host +
                           ") loaded this program's code but its tasks differ (another build of "
                           "ranks on that host?); rebuild the program against the ranks the "
                           "cluster runs, or restart the cluster with this one");
    }
  }
  std::int32_t admitted = a.problems.empty() ? 1 : 0;
  transport::bcast(comm, &admitted, sizeof admitted);
  if (!admitted) a.engines.clear();
  return a;
}

void refuse_engines(MPI_Comm comm) {
  Hello mine;
  mine.id = identity(IdentityOf::kJob);
  transport::bcast(comm, &mine, sizeof mine);
  std::vector<Hello> seen(static_cast<std::size_t>(transport::size(comm)));
  transport::gather(comm, &mine, sizeof mine, seen.data());
  std::int32_t admitted = 0;
  transport::bcast(comm, &admitted, sizeof admitted);
}

}  // namespace ranks::detail
