#include "cluster/cluster_engine.hpp"

#include <unistd.h>

#include <cstdio>
#include <deque>
#include <memory>
#include <vector>

#include "base/host.hpp"
#include "base/log.hpp"
#include "controller/controller.hpp"
#include "controller/roster.hpp"
#include "door/door.hpp"
#include "door/protocol.hpp"
#include "engine/engine.hpp"
#include "engine/output_capture.hpp"
#include "ranks/error.hpp"
#include "registry/code.hpp"
#include "registry/registry_table.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

namespace {

// What the interrupt check and the code loader need (they are plain functions).
DoorClient* g_hub = nullptr;
std::string g_copies;
int g_session = -1;
int g_id = -1;  // this engine's id in the cluster, which the hub says with each program
bool g_exit = false;
std::deque<json> g_later;  // commands read while serving, for after

// Asked by transport while the engine serves or waits: has the hub said to give the client up?
bool hub_says_stop() {
  try {
    while (auto f = g_hub->poll(std::chrono::milliseconds(0))) {
      const Op op = op_of(*f);
      if (op == Op::kAbandon && f->value("session", -1) == g_session) return true;
      if (op == Op::kExit) {
        g_exit = true;
        return true;
      }
      if (op != Op::kAbandon) g_later.push_back(*f);
    }
  } catch (const Error&) {  // the hub is gone: so is the cluster
    g_exit = true;
    return true;
  }
  return false;
}

std::string load_program(const std::string& path, const std::string& build) {
  if (std::string problem = load_code(path, build, g_copies); !problem.empty()) return problem;
  if (!use_code_module(build))
    return "loaded " + path + " but found no module with its build id " + build;
  return {};
}

// One program on comm (its rank 0), from the handshake to its end, counting the tasks run into
// tasks; false if the program was lost on the way (the hub said so, or MPI failed with it).
bool serve_program(MPI_Comm comm, std::uint64_t& tasks) {
  try {
    if (const int id = join_controller(comm, load_program, g_id); id >= 0) {
      OutputCapture output;
      serve(comm, id, &tasks, &output);
    }
    return true;
  } catch (const transport::Interrupted&) {
    return false;
  } catch (const Error& e) {
    log_line(std::string("engine lost its client: ") + e.what());
    return false;
  }
}

// A program connected over MPI: from MPI_Comm_accept to letting go of it. Returns the tasks it
// ran.
std::uint64_t serve_client(DoorClient& hub, MPI_Comm engines, const std::string& port) {
  std::uint64_t tasks = 0;
  transport::Spawned link = transport::accept(port, engines, 0);
  // The hub learns each step, so that it knows an engine that waits for ever on a client that
  // died in the middle of them (only the hub can end such an engine).
  hub.send(frame(Op::kAccepted, {{"session", g_session}}));
  transport::merge_accepted(link);
  hub.send(frame(Op::kMerged, {{"session", g_session}}));
  if (serve_program(link.merged, tasks)) {
    transport::release(link);
  } else {
    transport::abandon(link);
  }
  return tasks;
}

// A program whose messages the hub relays (rank 0 of base). Returns the tasks it ran.
std::uint64_t serve_relayed(MPI_Comm base) {
  std::uint64_t tasks = 0;
  // A fresh communicator per program: nothing of the last one arrives.
  MPI_Comm comm = transport::dup_comm(base);
  serve_program(comm, tasks);
  transport::free_comm(comm);
  return tasks;
}

// The hub, the live engines and new engines spawned together: the cluster's new world, in
// which the hub stays rank 0 and the live engines keep their order (the hub's "grow").
MPI_Comm grow(MPI_Comm parents, int n) {
  transport::Spawned s = transport::spawn(n, self_exe(), {}, parents);
  return s.merged;
}

}  // namespace

int run_cluster_engine(MPI_Comm world, const std::string& copies_dir) {
  g_copies = copies_dir;
  set_on_engine(true);
  DoorAddress address;
  share_door(world, address);
  const std::string port = transport::open_port();
  DoorClient hub(address.door, address.key, std::chrono::seconds(10));
  g_hub = &hub;
  hub.send(engine_hello(transport::rank(world), host_name(), static_cast<int>(::getpid()), port));
  transport::Subset engines(world);   // the live engines: they accept a program over MPI
  transport::Subset with_hub(world);  // the hub and the live engines: it relays a program
  int rank = transport::rank(world);
  std::uint64_t tasks = 0;
  while (!g_exit) {
    std::optional<json> f;
    if (!g_later.empty()) {
      f = g_later.front();
      g_later.pop_front();
    } else {
      try {
        f = hub.poll(std::chrono::seconds(1));
      } catch (const Error&) {
        break;  // the hub is gone: so is the cluster
      }
    }
    if (!f) continue;
    const Op op = op_of(*f);
    if (op == Op::kExit) break;
    const auto live = f->value("live", std::vector<int>{});
    if (std::find(live.begin(), live.end(), rank) == live.end()) continue;
    if (op == Op::kGrow) {
      std::vector<int> members{0};
      members.insert(members.end(), live.begin(), live.end());
      try {
        world = grow(with_hub.of(members), f->value("n", 0));
        share_door(world, address);  // for the new engines
        rank = transport::rank(world);
        engines.rebase(world);
        with_hub.rebase(world);
      } catch (const Error& e) {
        log_line(std::string("engine: the cluster could not grow: ") + e.what());
      }
      continue;
    }
    if (op != Op::kAccept && op != Op::kJoin) continue;
    g_session = f->value("session", -1);
    const auto ids = f->value("ids", std::vector<int>{});
    const auto at =
        static_cast<std::size_t>(std::find(live.begin(), live.end(), rank) - live.begin());
    if (at < ids.size()) g_id = ids[at];
    transport::set_interrupt(hub_says_stop);
    if (op == Op::kAccept) {
      // The program's code loads now, while the program starts MPI (the handshake finds it).
      const json code = f->value("code", json::object());
      (void)load_program(code.value("path", ""), code.value("build", ""));
      tasks += serve_client(hub, engines.of(live), port);
    } else {
      std::vector<int> ranks{0};
      ranks.insert(ranks.end(), live.begin(), live.end());
      tasks += serve_relayed(with_hub.of(ranks));
    }
    transport::set_interrupt(nullptr);
    try {
      hub.send(frame(Op::kIdle, {{"session", g_session}, {"tasks", tasks}}));
    } catch (const Error&) {
      break;
    }
  }
  g_hub = nullptr;
  set_on_engine(false);
  return 0;
}

}  // namespace ranks::detail::cluster
