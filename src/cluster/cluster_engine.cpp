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
bool g_exit = false;
std::deque<json> g_later;  // commands read while serving, for after

// Asked by transport while the engine serves or waits: has the hub said to give the client up?
bool hub_says_stop() {
  try {
    while (auto f = g_hub->poll(std::chrono::milliseconds(0))) {
      const std::string op = f->value("op", "");
      if (op == "abandon" && f->value("session", -1) == g_session) return true;
      if (op == "exit") {
        g_exit = true;
        return true;
      }
      if (op != "abandon") g_later.push_back(*f);
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

// One client, from MPI_Comm_accept to letting go of it. Returns the tasks it ran.
std::uint64_t serve_client(DoorClient& hub, MPI_Comm engines, const std::string& port) {
  std::uint64_t tasks = 0;
  transport::Spawned link = transport::accept(port, engines, 0);
  // The hub learns each step, so that it knows an engine that waits for ever on a client that
  // died in the middle of them (only the hub can end such an engine).
  hub.send({{"op", "accepted"}, {"session", g_session}});
  transport::merge_accepted(link);
  hub.send({{"op", "merged"}, {"session", g_session}});
  try {
    const int id = join_controller(link.merged, load_program);
    if (id >= 0) {
      set_engine_id(id);
      OutputCapture output;
      serve(link.merged, &tasks, &output);
      set_engine_id(-1);
    }
    transport::release(link);
  } catch (const transport::Interrupted&) {
    set_engine_id(-1);
    transport::abandon(link);
  } catch (const Error& e) {
    set_engine_id(-1);
    log_line(std::string("engine lost its client: ") + e.what());
    transport::abandon(link);
  }
  return tasks;
}

// One program whose messages the hub relays (rank 0 of comm), from the handshake to its end.
std::uint64_t serve_relayed(MPI_Comm base) {
  std::uint64_t tasks = 0;
  MPI_Comm comm = MPI_COMM_NULL;  // a fresh one per program: nothing of the last one arrives
  transport::check(MPI_Comm_dup(base, &comm), "MPI_Comm_dup");
  try {
    const int id = join_controller(comm, load_program);
    if (id >= 0) {
      set_engine_id(id);
      OutputCapture output;
      serve(comm, &tasks, &output);
    }
  } catch (const transport::Interrupted&) {
  } catch (const Error& e) {
    log_line(std::string("engine lost its client: ") + e.what());
  }
  set_engine_id(-1);
  MPI_Comm_free(&comm);
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
  char door[256] = {};
  char key[80] = {};
  transport::bcast(world, door, sizeof door);
  transport::bcast(world, key, sizeof key);
  const std::string port = transport::open_port();
  DoorClient hub(door, key, std::chrono::seconds(10));
  g_hub = &hub;
  hub.send({{"role", "engine"},
            {"rank", transport::rank(world)},
            {"host", host_name()},
            {"pid", static_cast<int>(::getpid())},
            {"port", port}});
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
    const std::string op = f->value("op", "");
    if (op == "exit") break;
    const auto live = f->value("live", std::vector<int>{});
    if (std::find(live.begin(), live.end(), rank) == live.end()) continue;
    if (op == "grow") {
      std::vector<int> members{0};
      members.insert(members.end(), live.begin(), live.end());
      try {
        world = grow(with_hub.of(members), f->value("n", 0));
        transport::bcast(world, door, sizeof door);  // for the new engines
        transport::bcast(world, key, sizeof key);
        rank = transport::rank(world);
        engines.rebase(world);
        with_hub.rebase(world);
      } catch (const Error& e) {
        log_line(std::string("engine: the cluster could not grow: ") + e.what());
      }
      continue;
    }
    if (op != "accept" && op != "join") continue;
    g_session = f->value("session", -1);
    transport::set_interrupt(hub_says_stop);
    if (op == "accept") {
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
      hub.send({{"op", "idle"}, {"session", g_session}, {"tasks", tasks}});
    } catch (const Error&) {
      break;
    }
  }
  g_hub = nullptr;
  set_on_engine(false);
  return 0;
}

}  // namespace ranks::detail::cluster
