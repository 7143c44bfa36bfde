#include "controller/roster.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/host.hpp"
#include "base/log.hpp"
#include "engine/engine.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

namespace {

// What each side says at start-up. The controller broadcasts its Hello (who it is, the id of
// the first engine of the communicator and, to a started cluster, where its code is), gathers
// the engines' (who they are, what kept them from loading that code and, a started cluster's,
// their ids there), then broadcasts whether it admits them.
struct Hello {
  Identity id;
  // The controller's: the id of its first engine (the others follow); a started cluster's
  // engine's: its id there.
  std::int32_t first = -1;
  std::int32_t attach = 0;    // 1: the engines are a started cluster's and load code_path
  std::int32_t in_place = 0;  // 1: the engines stand in for lost ones
  char code_path[1024] = {};
  char code_build[96] = {};
  char problem[512] = {};  // from an engine: why it cannot serve this program
};

template <std::size_t N>
void copy_to(char (&dst)[N], const std::string& s) {
  std::strncpy(dst, s.c_str(), N - 1);
  dst[N - 1] = 0;
}

// The controller's Hello for a program's engines: for a started cluster's (attach), the
// program's code, which they load first.
Hello controller_hello(const Identity& id, std::int32_t first, bool attach,
                       const std::string& code_path, const std::string& code_build) {
  Hello mine;
  mine.id = id;
  mine.first = first;
  mine.attach = attach ? 1 : 0;
  copy_to(mine.code_path, code_path);
  copy_to(mine.code_build, code_build);
  return mine;
}

// The controller's half of the handshake, to the decision: says its Hello, and returns every
// rank's (its own first).
std::vector<Hello> greet(MPI_Comm comm, Hello mine) {
  transport::bcast(comm, &mine, sizeof mine);
  std::vector<Hello> seen(static_cast<std::size_t>(transport::size(comm)));
  transport::gather(comm, &mine, sizeof mine, seen.data());
  return seen;
}

// The end of the handshake: whether the controller admits the engines.
void decide(MPI_Comm comm, bool admit) {
  std::int32_t admitted = admit ? 1 : 0;
  transport::bcast(comm, &admitted, sizeof admitted);
}

// Why the engine of rank r (which said theirs) cannot serve the controller that said mine; ""
// if it can. cluster: the started cluster it belongs to ("" for a job's own).
std::string refusal(const Hello& theirs, int r, const Hello& mine, const std::string& cluster) {
  if (theirs.problem[0] == 0 && theirs.id.hash == mine.id.hash) return {};
  const int id = theirs.first >= 0 ? theirs.first : mine.first + r - 1;  // as join_controller
  if (!mine.attach)
    return "engine " + std::to_string(id) + " (MPI rank " + std::to_string(r) + ") runs '" +
           theirs.id.exe + "', which is not the controller's binary '" + mine.id.exe +
           "' (or was built differently); every rank must run the same executable: check the "
           "mpirun command line or hostfile";
  const std::string who = "engine " + std::to_string(id) +
                          (cluster.empty() ? "" : " of cluster '" + cluster + "'") + " (host " +
                          theirs.id.host + ")";
  if (theirs.problem[0] != 0) return who + " cannot run this program: " + theirs.problem;
  return who +
         " loaded this program's code but its tasks differ (another build of ranks on that "
         "host?); rebuild the program against the ranks the cluster runs, or restart the "
         "cluster with this one";
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

void Roster::spawn(int n, bool in_place) {
  if (!transport::kDynamicProcesses) throw Error(transport::without_dynamic_processes());
  // Some batch systems' MPIs hang or fail slowly on MPI_Comm_spawn: RANKS_SPAWN=0 forbids it.
  if (const char* allow = std::getenv("RANKS_SPAWN"); allow && std::string(allow) == "0")
    throw Error("spawning is turned off (RANKS_SPAWN=0)");
  transport::Spawned s = transport::spawn(n, self_exe(), args_);
  if (!adopt(s.merged, Origin::kSpawned, s, in_place)) {
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

void Roster::attach_relayed(const std::string& cluster, const std::vector<Relayed>& engines) {
  cluster_ = cluster;
  const std::string here = host_name();
  std::vector<Engine> records;
  std::vector<int> ids;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    records.push_back(Engine{.rank = static_cast<int>(i) + 1,
                             .host = engines[i].host,
                             .pid = engines[i].pid,
                             .local = engines[i].host == here});
    ids.push_back(engines[i].id);
  }
  admit(Link{.origin = Origin::kRelayed, .survives = true}, std::move(records), ids);
}

void Roster::reserve_ids(int next) {
  while (size() < next)
    engines_.push_back(
        Engine{.link = -1, .absent = true, .alive = false, .reported = true, .equipped = true});
}

int Roster::admit(Link link, std::vector<Engine> engines, const std::vector<int>& ids) {
  link.count = static_cast<int>(engines.size());
  links_.push_back(link);
  const int index = static_cast<int>(links_.size()) - 1;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    // An engine goes to its id, or the next; the ids below it that no engine took (those a
    // cluster lost before) stay holes.
    const int id = i < ids.size() ? ids[i] : size();
    if (id < 0 || (id < size() && !engine(id).absent))
      throw Error("two engines of cluster '" + cluster_ + "' say they are engine " +
                  std::to_string(id) + "; restart the cluster (ranks cluster stop, start)");
    reserve_ids(id + 1);
    engines[i].link = index;
    engines_[static_cast<std::size_t>(id)] = std::move(engines[i]);
  }
  return index;
}

std::string Roster::named(int e) const {
  const Engine& m = engine(e);
  return "engine " + std::to_string(e) + " (" +
         (link_of(e).origin == Origin::kWorld ? "MPI rank " + std::to_string(m.rank) + ", " : "") +
         "pid " + std::to_string(m.pid) + " on " + m.host + ")";
}

std::string Roster::live_ids() const {
  std::string out;
  for (int e = 0; e < size();) {
    if (!engine(e).alive) {
      ++e;
      continue;
    }
    int last = e;
    while (last + 1 < size() && engine(last + 1).alive) ++last;
    out += (out.empty() ? "" : ", ") + std::to_string(e);
    if (last > e) out += (last == e + 1 ? ", " : "..") + std::to_string(last);
    e = last + 1;
  }
  return out.empty() ? "none alive" : out;
}

std::string Roster::unknown(int e) const {
  const std::string ids = "; the ids alive are " + live_ids();
  if (e >= 0 && e < size() && engine(e).absent)
    return "engine " + std::to_string(e) + " of cluster '" + cluster_ +
           "' was lost before this program attached (ids are never reused)" + ids;
  return "engine " + std::to_string(e) + " does not exist" + ids;
}

bool Roster::any_lost() const {
  return std::any_of(engines_.begin(), engines_.end(),
                     [](const Engine& m) { return !m.absent && !m.alive; });
}

bool Roster::adopt(MPI_Comm comm, Origin origin, const transport::Spawned& spawned, bool in_place) {
  const bool attach = origin == Origin::kAttached;
  const ProgramCode code = attach ? program_code() : ProgramCode{};
  Hello mine = controller_hello(identity(attach ? IdentityOf::kCode : IdentityOf::kJob),
                                static_cast<std::int32_t>(engines_.size()), attach, code.path,
                                code.build_id);
  mine.in_place = in_place ? 1 : 0;
  const std::vector<Hello> seen = greet(comm, mine);
  const int n = static_cast<int>(seen.size());
  bool admitted = true;
  for (int r = 1; r < n; ++r) {
    const std::string why = refusal(seen[static_cast<std::size_t>(r)], r, mine, cluster_);
    if (why.empty()) continue;
    admitted = false;
    log_line(why);
  }
  decide(comm, admitted);
  if (!admitted) return false;
  // A started cluster runs with recovery on (ranks cluster start says so to its mpirun).
  const bool survives = origin == Origin::kAttached || recovery_enabled();
  std::vector<Engine> engines;
  std::vector<int> ids;  // a started cluster's engines say theirs
  for (int r = 1; r < n; ++r) {
    const Identity& id = seen[static_cast<std::size_t>(r)].id;
    engines.push_back(Engine{.rank = r,
                             .host = id.host,
                             .pid = id.pid,
                             .local = std::strncmp(id.host, mine.id.host, sizeof id.host) == 0});
    if (attach) ids.push_back(seen[static_cast<std::size_t>(r)].first);
  }
  admit(Link{.comm = comm, .origin = origin, .spawned = spawned, .survives = survives},
        std::move(engines), ids);
  return true;
}

std::vector<int> Roster::newly_dead() {
  std::vector<int> dead;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_look_ < std::chrono::milliseconds(200)) return dead;
  last_look_ = now;
  for (std::size_t e = 0; e < engines_.size(); ++e) {
    Engine& m = engines_[e];
    if (!m.alive || !m.local || m.reported || process_alive(m.pid)) continue;
    m.reported = true;
    dead.push_back(static_cast<int>(e));
  }
  return dead;
}

int Roster::alive_count() const {
  int n = 0;
  for (const auto& m : engines_) n += m.alive ? 1 : 0;
  return n;
}

void Roster::release(bool give_up) {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    Link& l = links_[i];
    if (l.origin == Origin::kWorld || l.origin == Origin::kRelayed) continue;
    const bool lost = std::any_of(engines_.begin(), engines_.end(), [&](const Engine& m) {
      return m.link == static_cast<int>(i) && !m.alive;
    });
    if (give_up || lost) {
      transport::abandon(l.spawned);  // disconnecting waits for every engine, gone ones too
    } else {
      transport::release(l.spawned);
    }
  }
}

int join_controller(MPI_Comm comm, CodeLoader load, int cluster_id) {
  Hello theirs;
  transport::bcast(comm, &theirs, sizeof theirs);
  Hello mine;
  mine.first = cluster_id;
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
  if (!admitted) return -1;
  if (theirs.in_place) engine_started_in_place();
  return theirs.attach && cluster_id >= 0 ? cluster_id : theirs.first + transport::rank(comm) - 1;
}

Admission admit_for_program(MPI_Comm comm, std::uint64_t hash, const std::string& code_path,
                            const std::string& code_build) {
  // The program's identity hash and code stand in for the hub's own.
  Identity id = identity(IdentityOf::kJob);
  id.hash = hash;
  const Hello mine = controller_hello(id, 0, true, code_path, code_build);
  const std::vector<Hello> seen = greet(comm, mine);
  Admission a;
  for (std::size_t r = 1; r < seen.size(); ++r) {
    a.engines.push_back({seen[r].id.host, seen[r].id.pid, seen[r].first});
    if (std::string why = refusal(seen[r], static_cast<int>(r), mine, ""); !why.empty())
      a.problems.push_back(std::move(why));
  }
  decide(comm, a.problems.empty());
  if (!a.problems.empty()) a.engines.clear();
  return a;
}

void refuse_engines(MPI_Comm comm) {
  greet(comm, controller_hello(identity(IdentityOf::kJob), 0, false, "", ""));
  decide(comm, false);
}

}  // namespace ranks::detail
