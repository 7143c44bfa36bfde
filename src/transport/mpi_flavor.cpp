#include "transport/mpi_flavor.hpp"

namespace ranks::detail::transport {

std::string launch_command(int processes, const std::string& exe) {
  if (kFlavor == Flavor::kOpenMpi) return "mpirun -np " + std::to_string(processes) + " " + exe;
  return "mpiexec -n " + std::to_string(processes) + " " + exe;
}

std::string without_dynamic_processes() {
  return std::string("ranks was built with ") + kMpiName +
         ", which cannot start engines for a running program (no MPI_Comm_spawn, no "
         "MPI_Comm_connect): the engines are the ranks of the job";
}

std::string recovery_advice() {
  if (kDynamicProcesses) return "launch with mpirun --enable-recovery";
  return std::string(kMpiName) + " ends the job when one of its processes dies";
}

}  // namespace ranks::detail::transport
