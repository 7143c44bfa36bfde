// The controller's groups of engines (members of Controller): a Pool's or a view's engines,
// made, spawned for, added to.

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "controller/controller.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

std::shared_ptr<Group> Controller::make_group(int n, const char* who) {
  auto lk = lock();
  const int have = roster_.alive_count();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = n < 0 ? (have > 0 ? have : cores) : n;
  const std::string needs =
      std::string(who) + " needs " + std::to_string(want) + " engines but " +
      (roster_.cluster().empty() ? "the job" : "cluster '" + roster_.cluster() + "'") + " has " +
      std::to_string(have);
  if (want > have && roster_.cluster_elsewhere())
    throw Error(needs +
                "; its engines run on other hosts, beside which a program cannot start more: "
                "start it with more (ranks cluster stop, then ranks cluster start -n " +
                std::to_string(want) + ")");
  // Where the engines are too few, the program starts the missing ones for itself, beside a
  // started cluster's too (they end with the program; the cluster keeps its size).
  if (want > have && !(n < 0 && have > 0)) {
    try {
      roster_.spawn(want - have);
    } catch (const Error& e) {
      const std::string why(unprefixed(e.what()));
      if (!transport::kDynamicProcesses)
        throw Error(needs + ", and " + why + "; run it as `" +
                    transport::launch_command(want + 1, self_exe()) + "`");
      const std::string fix =
          roster_.cluster().empty()
              ? "launch with more ranks, e.g. mpirun -np " + std::to_string(want + 1)
              : "start the cluster with more (ranks cluster start -n " + std::to_string(want) + ")";
      throw Error(needs + ", and spawning " + std::to_string(want - have) + " more failed (" + why +
                  "); " + fix);
    }
    fit_roster();
  }
  auto g = std::make_shared<Group>();
  g->elastic = true;
  g->all = n < 0;
  for (int e = 0; e < roster_.size() && static_cast<int>(g->engines.size()) < want; ++e)
    if (roster_.member(e).alive) g->engines.push_back(e);
  if (g->engines.empty() && want > 0)
    throw Error(std::string(who) +
                ": every engine of the job has died; nothing is left to run "
                "work (spawn more with ranks::Client::add_engines, where the launch allows it)");
  groups_.push_back(g);
  return g;
}

std::vector<int> Controller::add_engines(int n, const char* who) {
  if (n < 1) throw Error(std::string(who) + "(" + std::to_string(n) + "): add at least one engine");
  auto lk = lock();
  if (roster_.cluster_elsewhere())
    throw Error(std::string(who) + ": the engines of cluster '" + roster_.cluster() +
                "' run on other hosts, beside which a program cannot start more; start it "
                "with more");
  const int before = roster_.size();
  try {
    roster_.spawn(n);
  } catch (const Error& e) {
    throw Error(std::string(who) + ": spawning " + std::to_string(n) + " engine(s) failed (" +
                std::string(unprefixed(e.what())) + ")");
  }
  fit_roster();
  std::vector<int> ids;
  for (int e = before; e < roster_.size(); ++e) ids.push_back(e);
  for (auto& weak : groups_)
    if (auto g = weak.lock(); g && g->all)
      g->engines.insert(g->engines.end(), ids.begin(), ids.end());
  dispatch_all();
  return ids;
}

std::shared_ptr<Group> Controller::group_of(const std::vector<int>& engines, const char* who) {
  auto lk = lock();
  const int n = roster_.size();
  for (int e : engines)
    if (e < 0 || e >= n)
      throw Error(std::string(who) + ": engine " + std::to_string(e) +
                  " does not exist; ids are 0.." + std::to_string(n - 1));
  auto g = std::make_shared<Group>();
  g->engines = engines;
  groups_.push_back(g);
  return g;
}

std::shared_ptr<Group> Controller::default_group() {
  {
    auto lk = lock();
    if (default_group_ && !default_group_->engines.empty()) return default_group_;
  }
  auto g = make_group(-1, "ranks::Process");
  auto lk = lock();
  default_group_ = g;
  return g;
}

std::size_t Controller::outstanding(const Group& g) {
  auto lk = lock();
  return g.inflight + g.queue.size();
}

}  // namespace ranks::detail
