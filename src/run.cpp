#include "ranks/run.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "base/launcher.hpp"
#include "base/log.hpp"
#include "controller/controller.hpp"
#include "controller/roster.hpp"
#include "door/attach.hpp"
#include "engine/engine.hpp"
#include "ranks/detail/error_report.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/environment.hpp"
#include "transport/mpi_flavor.hpp"
#include "transport/transport.hpp"

namespace ranks {

int engine_id() noexcept { return detail::current_engine_id(); }

int engine_count() { return detail::the_controller("ranks::engine_count").engine_count(); }

namespace detail {

namespace {

// A ranks::Error that nothing caught outside ranks::run (a program that calls the API without
// it) ends the program with its message, once per launch, and exit code 1: std::terminate's
// abort would print it from every rank and make mpirun report a crash.
std::terminate_handler g_terminate_before = nullptr;
[[noreturn]] void on_terminate() {
  if (std::exception_ptr ep = std::current_exception(); ep && !controller() && !on_engine()) {
    try {
      std::rethrow_exception(ep);
    } catch (const Error& e) {
      std::fflush(stdout);
      if (rank_in_launch().value_or(0) == 0) {  // one copy a launch
        std::fprintf(stderr, "%s\n", e.what());
        std::fflush(stderr);
      } else {
        // The launcher ends the job as the first process leaves non-zero: the others give it
        // the time to say why first (they are ended meanwhile).
        std::this_thread::sleep_for(std::chrono::seconds(2));
      }
      std::_Exit(1);
    } catch (...) {
    }
  }
  if (g_terminate_before) g_terminate_before();
  std::abort();
}
[[maybe_unused]] const bool g_terminate_installed = [] {
  g_terminate_before = std::set_terminate(on_terminate);
  return true;
}();

int engine_main(MPI_Comm comm, bool spawned) {
  set_on_engine(true);
  int code = 1;
  try {
    if (const int id = join_controller(comm); id >= 0) code = serve(comm, id);
  } catch (const std::exception& e) {
    log_line(std::string("engine failed: ") + e.what());
    transport::abort(1);
  }
  if (spawned) {
    transport::Spawned s{transport::parent(), comm};
    transport::release(s);
  }
  set_on_engine(false);
  return code;
}

// RANKS_TIMELINE=FILE records the run's tasks; RANKS_DASHBOARD=[ADDRESS:]PORT serves its page.
void observe_as_told(Controller& c) {
  if (const char* path = std::getenv("RANKS_TIMELINE"); path != nullptr && *path != 0)
    c.record_timeline(path);
  if (const char* at = std::getenv("RANKS_DASHBOARD"); at != nullptr && *at != 0)
    log_line("the dashboard is at " +
             c.serve_dashboard(dashboard::parse_address(at, "RANKS_DASHBOARD")));
}

// lost: set when an engine of the program died or was ended on the way.
int controller_main(const std::function<int()>& body, int argc, char** argv,
                    std::unique_ptr<cluster::AttachedCluster> attachment, bool& lost) {
  Controller c(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
  try {
    if (attachment ? !c.attach(std::move(attachment)) : !c.adopt_world())
      return 2;  // the engines were told too; nobody serves
  } catch (const Error& e) {
    log_line(e.what());
    return 2;
  }
  set_controller(&c);
  int code = 0;
  bool threw = false;
  try {
    observe_as_told(c);
  } catch (const Error& e) {
    log_line(e.what());
    code = 2;  // the body does not run
  }
  try {
    if (code == 0) code = body();
  } catch (const std::exception& e) {
    log_line("the controller body threw " + demangle(typeid(e).name()) + ": " + e.what());
    code = 1;
    threw = true;
  } catch (...) {
    log_line("the controller body threw an exception that is not a std::exception");
    code = 1;
    threw = true;
  }
  try {
    c.shutdown(code, threw ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(0));
  } catch (const std::exception& e) {
    log_line(std::string("shutting down failed: ") + e.what());
    transport::abort(code ? code : 1);
  }
  set_controller(nullptr);
  lost = c.lost_any();
  return code;
}

// What Open MPI must be told before MPI starts.
void set_mpi_environment() {
  // A program started on its own (no mpirun, no srun): Open MPI is told to keep going when an
  // engine it spawned dies, so that ranks can go on without it (an attached program spawns the
  // engines a Pool needs beyond the cluster's; the cluster's are its own job, with recovery on).
  if (transport::kFlavor == transport::Flavor::kOpenMpi && !std::getenv("OMPI_COMM_WORLD_SIZE") &&
      !std::getenv("PMIX_RANK") && !std::getenv("SLURM_STEP_ID"))
    ::setenv("OMPI_MCA_orte_enable_recovery", "1", 0);
  // With recovery on, a process of the job may have died: MPI_Finalize would then wait for ever
  // in its opening barrier (a PMIx fence over every process of the job, the dead one included),
  // and a process that leaves without finalizing ends "without sync". Open MPI 4.1's daemons
  // report only the first process of a job on their host that ends abnormally, so mpirun, which
  // waits for every process, never ends once two processes on one remote host left that way.
  // The barrier guards nothing ranks needs (every message was answered before the shutdown
  // ended), so it is skipped. Every process of a job sees the same setting.
  if (recovery_enabled()) ::setenv("OMPI_MCA_async_mpi_finalize", "1", 0);
}

// The controller's end under mpirun --enable-recovery (launcher.hpp), before MPI_Finalize: a
// watcher for a job that lost an engine, and for a failed program either mpirun to be ended
// once MPI has finalized (true) or, under another launcher, an abort.
bool end_under_recovery(int code, bool lost) {
  if (!recovery_enabled()) return false;
  // Open MPI 4.1 can leave mpirun waiting for ever after a process of the job was killed;
  // 5 s is more than twice what mpirun takes to end when it does.
  if (lost) end_launcher_if_it_outlives(std::chrono::seconds(5));
  // mpirun --enable-recovery exits 0 whatever its processes return: once MPI has finalized,
  // ranks ends mpirun with a signal, and it exits 1.
  if (code == 0 || transport::size(MPI_COMM_WORLD) <= 1) return false;
  const bool end_launcher = launched_by_mpirun();
  log_line("the program ends with code " + std::to_string(code) +
           "; mpirun --enable-recovery exits 0 whatever its processes return, so ranks " +
           (end_launcher ? "ends mpirun, which then exits 1" : "aborts the job"));
  if (!end_launcher) transport::abort(code);
  return end_launcher;
}

// With recovery on, MPI_Finalize can wait for ever on a process that died (Open MPI 4.1.4: in
// a quarter of the runs of `survive maxtasks`, where engines are ended and replaced): past 2 s
// (a finalize takes milliseconds) the process leaves with its code instead.
void leave_if_finalize_hangs(int code) {
  if (!recovery_enabled()) return;
  std::thread([code] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::fflush(nullptr);
    std::_Exit(code);
  }).detach();
}

// Attaches to the started cluster the program's engines come from, if they come from one
// (cluster::engines_source). A cluster named by RANKS_CLUSTER that cannot take the program is an
// error (false, having said why and the way out); a running "default" one that the program did
// not ask for is passed by, in one line, and the program spawns its engines.
bool attach_to_cluster(std::unique_ptr<cluster::AttachedCluster>& attachment) {
  cluster::Source source;
  try {
    source = cluster::engines_source();
    if (source.kind != cluster::Source::Kind::kCluster) return true;
    attachment = std::make_unique<cluster::AttachedCluster>(source.cluster);
    attachment->enter();  // the engines get ready while MPI starts here
    return true;
  } catch (const Error& e) {
    attachment.reset();
    if (source.kind == cluster::Source::Kind::kCluster && !source.named) {
      log_line("not attaching to the running cluster '" + source.cluster + "' (" +
               std::string(unprefixed(e.what())) +
               "); this program spawns its engines (RANKS_CLUSTER=none does so without this line)");
      return true;
    }
    // Named by RANKS_CLUSTER, the way out is to name none (where a plain program can spawn).
    const bool way_out = transport::kDynamicProcesses && std::getenv("RANKS_CLUSTER");
    log_line(std::string(e.what()) +
             (way_out ? " (RANKS_CLUSTER=none runs it with engines of its own)" : ""));
    return false;
  }
}

}  // namespace

int run_impl(int argc, char** argv, const std::function<int()>& body) {
  if (controller() || on_engine())
    throw Error("ranks::run was called inside ranks::run; call it once, from main");
  freeze_registry();
  // Where the engines come from is decided before MPI starts: attaching to a started cluster
  // sets what MPI needs to reach it.
  std::unique_ptr<cluster::AttachedCluster> attachment;
  if (!attach_to_cluster(attachment)) return 2;
  set_mpi_environment();
  int code = 0;
  bool end_launcher = false;  // after MPI_Finalize: the one way to make mpirun say the job failed
  {
    transport::Environment env(argc, argv, MPI_THREAD_SERIALIZED);
    if (MPI_Comm parent = transport::join_parent(); parent != MPI_COMM_NULL) {
      code = engine_main(parent, true);
    } else if (transport::rank(MPI_COMM_WORLD) != 0) {
      code = engine_main(MPI_COMM_WORLD, false);
    } else {
      bool lost = false;
      code = controller_main(body, argc, argv, std::move(attachment), lost);
      end_launcher = end_under_recovery(code, lost);
    }
    leave_if_finalize_hangs(code);
  }
  if (end_launcher) end_launcher_now();
  return code;
}

}  // namespace detail
}  // namespace ranks
