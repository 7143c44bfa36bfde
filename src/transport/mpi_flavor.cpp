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

std::string death_ends_the_job() {
  if (!kDynamicProcesses) return recovery_advice();
  return std::string(kMpiName) + " ends the job. To go on without a lost engine, " +
         recovery_advice() +
         " (engines that ranks spawns, and a started cluster's, survive by "
         "themselves)";
}

}  // namespace ranks::detail::transport
