#include "ranks/run.hpp"

#include <unistd.h>

#include <boost/mpi/environment.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <typeinfo>
#include <vector>

#include "controller.hpp"
#include "engine.hpp"
#include "ranks/error.hpp"
#include "registry_table.hpp"
#include "transport.hpp"
#include "wire_internal.hpp"

namespace ranks::detail {

namespace {

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The engine's half of Controller::adopt: the first engine id of this communicator, or -1
// when the controller refused the job.
int engine_handshake(MPI_Comm comm) {
  struct Hello {
    Identity id;
    std::int32_t first;
  } hello{};
  transport::bcast(comm, &hello, sizeof hello);
  const Identity mine = identity();
  transport::gather(comm, &mine, sizeof mine, nullptr);
  std::int32_t all_ok = 0;
  transport::bcast(comm, &all_ok, sizeof all_ok);
  return all_ok ? hello.first : -1;
}

int engine_main(MPI_Comm comm, bool spawned) {
  set_on_engine(true);
  int code = 1;
  try {
    const int first = engine_handshake(comm);
    if (first >= 0) code = serve(comm, first + transport::rank(comm) - 1);
  } catch (const std::exception& e) {
    std::cerr << "ranks: engine failed: " << e.what() << std::endl;
    transport::abort(1);
  }
  if (spawned) {
    MPI_Comm parent = MPI_COMM_NULL;
    MPI_Comm_get_parent(&parent);
    transport::Spawned s{parent, comm};
    transport::release(s);
  }
  set_on_engine(false);
  return code;
}

int controller_main(const std::function<int()>& body, int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  Controller c(self_exe(), std::move(args));
  if (!c.adopt_world()) {
    return 2;  // the engines were told too; nobody serves
  }
  set_controller(&c);
  int code = 0;
  bool threw = false;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::cerr << "ranks: the controller body threw " << demangle(typeid(e).name()) << ": "
              << e.what() << std::endl;
    code = 1;
    threw = true;
  } catch (...) {
    std::cerr << "ranks: the controller body threw an exception that is not a std::exception"
              << std::endl;
    code = 1;
    threw = true;
  }
  try {
    c.shutdown(code, threw ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(0));
  } catch (const std::exception& e) {
    std::cerr << "ranks: shutting down failed: " << e.what() << std::endl;
    transport::abort(code ? code : 1);
  }
  set_controller(nullptr);
  return code;
}

}  // namespace

int run_impl(int argc, char** argv, const std::function<int()>& body) {
  if (controller() || on_engine())
    throw Error("ranks: ranks::run was called inside ranks::run; call it once, from main");
  freeze_registry();
  boost::mpi::environment env(argc, argv, boost::mpi::threading::serialized, true);
  if (MPI_Comm parent = transport::join_parent(); parent != MPI_COMM_NULL)
    return engine_main(parent, true);
  if (transport::rank(MPI_COMM_WORLD) != 0) return engine_main(MPI_COMM_WORLD, false);
  return controller_main(body, argc, argv);
}

}  // namespace ranks::detail
