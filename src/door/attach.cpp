#include "door/attach.hpp"

#include <unistd.h>

#include <cstdlib>

#include "base/host.hpp"
#include "base/launcher.hpp"
#include "base/log.hpp"
#include "door/protocol.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

namespace {

// Whether the profile's hub answers at its door, within a short wait. Throws ImpostorAtDoor
// when something answers there that does not prove the profile's key: the program goes no
// further (it neither attaches to it nor quietly spawns engines of its own).
bool answers(const Profile& p) {
  if (p.door.empty() || p.state != "ready") return false;
  try {
    DoorClient door(p.door, p.key, std::chrono::milliseconds(500));
    return door.request(frame(Op::kPing), std::chrono::milliseconds(1000)).value("ok", false);
  } catch (const ImpostorAtDoor& e) {
    throw ImpostorAtDoor("cluster '" + p.name + "': " + std::string(unprefixed(e.what())));
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

Source engines_source() {
  if (rank_in_launch()) return {Source::Kind::kJob, {}};
  const char* chosen = std::getenv("RANKS_CLUSTER");
  if (chosen && std::string(chosen) == "none") return {Source::Kind::kSpawn, {}};
  // Without dynamic processes a program cannot reach a started cluster's engines (nor could
  // such a cluster be started): its engines are those of its own job, or none. A default
  // cluster (of another build of ranks) is not for it.
  if (!transport::kDynamicProcesses) {
    if (chosen && *chosen)
      throw Error("RANKS_CLUSTER=" + std::string(chosen) + ", but ranks was built with " +
                  transport::kMpiName +
                  ", which cannot attach a program to a started cluster (no MPI_Comm_connect); "
                  "unset RANKS_CLUSTER and run the program with its engines, e.g. `" +
                  transport::launch_command(5, self_exe()) + "`");
    return {Source::Kind::kSpawn, {}};
  }
  if (chosen && *chosen) {
    const auto p = load_profile(chosen);
    if (!p)
      throw Error("RANKS_CLUSTER=" + std::string(chosen) + ", but there is no such cluster (" +
                  profile_dir(chosen) + "); start it with ranks cluster start --profile " + chosen +
                  ", or unset RANKS_CLUSTER");
    if (!answers(*p))
      throw Error("RANKS_CLUSTER=" + std::string(chosen) + ", but cluster '" + chosen +
                  "' does not answer at " + p->door + "; ranks cluster status --profile " + chosen +
                  " says more");
    return {Source::Kind::kCluster, chosen, true};
  }
  if (const auto p = load_profile("default"); p && answers(*p))
    return {Source::Kind::kCluster, "default"};
  return {Source::Kind::kSpawn, {}};
}

AttachedCluster::AttachedCluster(const std::string& cluster) {
  auto p = load_profile(cluster);
  if (!p) throw Error("there is no cluster '" + cluster + "'");
  require_private(*p);
  profile_ = std::move(*p);
}

void AttachedCluster::enter() {
  const ProgramCode code = program_code();
  if (!code.problem.empty())
    throw Error("this program cannot run on the engines of cluster '" + profile_.name +
                "': " + code.problem);
  door_ = std::make_unique<DoorClient>(profile_.door, profile_.key, std::chrono::seconds(5));
  // Where the hub relays, it admits the engines for this program: it needs what the program
  // would say in the handshake.
  json reply =
      door_->request(frame(Op::kAttach, {{"program", self_exe()},
                                         {"pid", static_cast<int>(::getpid())},
                                         {"host", host_name()},
                                         {"code", {{"path", code.path}, {"build", code.build_id}}},
                                         {"identity", identity(IdentityOf::kCode).hash}}),
                     std::chrono::seconds(30));
  bool said = false;
  while (reply.value("ok", false) && reply.value("wait", false)) {
    if (!said) {
      const json by = reply.value("attached", json::object());
      const std::string who = by.value("program", "another program") + " (pid " +
                              std::to_string(by.value("pid", 0)) + " on " + by.value("host", "?") +
                              ")";
      log_line("cluster '" + profile_.name + "' " +
               (reply.value("gone", false)
                    ? "finishes the running tasks of " + who + ", which died; waiting for them"
                    : "serves " + who + "; waiting for it to finish"));
      said = true;
    }
    std::optional<json> next;
    while (!next) next = door_->poll(std::chrono::seconds(1));
    reply = *next;
  }
  if (!reply.value("ok", false))
    throw Error("cluster '" + profile_.name +
                "' refused this program: " + reply.value("error", std::string("no reason given")));
  entry_.relayed = reply.value("mode", "") == "relay";
  entry_.port = reply.value("port", "");
  for (const auto& e : reply.value("engine_list", json::array()))
    entry_.engines.push_back({e.value("host", ""), e.value("pid", 0), e.value("id", 0)});
  entry_.next_id = reply.value("next_id", 0);
  entry_.dashboard = reply.value("dashboard", false);
  if (entry_.relayed) door_->inbox().unlimit();
  // A program started on its own (a singleton) reaches other MPI jobs through the cluster's
  // ompi-server; MPI reads this when it starts. (A program the hub relays to needs none of it.)
  if (!profile_.ompi_server_uri.empty() && profile_.mode != "relay")
    ::setenv("OMPI_MCA_pmix_server_uri", profile_.ompi_server_uri.c_str(), 1);
  // The choices the cluster's engines were started with (the point-to-point layer they use),
  // unless this program's environment says otherwise.
  for (const auto& [name, value] : profile_.client_mca)
    ::setenv(("OMPI_MCA_" + name).c_str(), value.c_str(), 0);
}

void AttachedCluster::pump() {
  if (!door_) return;
  bool open = door_->inbox().fill(door_->fd());
  try {
    while (auto f = door_->inbox().take()) {
      if (f->relayed) {
        relayed_.emplace_back(f->rank, std::make_unique<Relayed>(std::move(f->body)));
      } else {
        events_.push_back(json::parse(f->body));
      }
    }
  } catch (const std::exception&) {
    open = false;
  }
  if (!open) {
    events_.push_back(frame(Event::kStopping));  // the hub is gone
    door_.reset();
  }
}

std::vector<json> AttachedCluster::events() {
  pump();
  std::vector<json> out(events_.begin(), events_.end());
  events_.clear();
  return out;
}

void AttachedCluster::send_relayed(int rank, Message msg) {
  if (!door_) throw Error("cluster '" + profile_.name + "' is gone");
  transport::finish(msg);
  cluster::send_relayed(door_->fd(), rank, msg.bytes, msg.attachments);
}

std::unique_ptr<Relayed> AttachedCluster::next_relayed(int& rank) {
  if (relayed_.empty()) pump();
  if (relayed_.empty()) return nullptr;
  auto [r, m] = std::move(relayed_.front());
  relayed_.pop_front();
  rank = r;
  return std::move(m);
}

void AttachedCluster::report(const json& status) {
  if (!door_) return;
  try {
    door_->send(frame(Op::kReport, {{"status", status}}));
  } catch (const Error&) {
  }
}

void AttachedCluster::leave() {
  if (!door_) return;
  try {
    door_->send(frame(Op::kDetach));
  } catch (const Error&) {
  }
  door_.reset();
}

}  // namespace ranks::detail::cluster
