#pragma once

// Which MPI this build of ranks runs on: the one place in the code that says so. Open MPI and
// MPICH (and MPICH's descendants: Intel MPI, MVAPICH, Cray MPICH) each name themselves in mpi.h;
// CMake reads the same macros (RANKS_MPI_FLAVOR) to register the tests that apply.
//
// What differs, for ranks:
// - Open MPI starts processes for a running program: MPI_Comm_spawn (engines of a program run
//   on its own, replacements for lost ones), connect and accept through ompi-server (a started
//   cluster), and mpirun --enable-recovery keeps a job whose process died.
// - MPICH (Debian's 4.0, ch4:ucx) has none of those: MPI_Comm_spawn fails, MPI_Open_port is not
//   supported, and a process that dies ends the job. The engines are the ranks of the mpiexec
//   (or srun) job.

#include <mpi.h>

#include <string>

namespace ranks::detail::transport {

enum class Flavor { kOpenMpi, kMpich, kOther };

#if defined(OPEN_MPI)
inline constexpr Flavor kFlavor = Flavor::kOpenMpi;
inline constexpr const char* kMpiName = "Open MPI";
#elif defined(MPICH_VERSION)
inline constexpr Flavor kFlavor = Flavor::kMpich;
inline constexpr const char* kMpiName = "MPICH";
#else
inline constexpr Flavor kFlavor = Flavor::kOther;
inline constexpr const char* kMpiName = "an MPI other than Open MPI or MPICH";
#endif

/// Whether this MPI can start processes for a running program (spawn engines, connect to a
/// started cluster) and keep a job that lost one (mpirun --enable-recovery).
inline constexpr bool kDynamicProcesses = kFlavor == Flavor::kOpenMpi;

/// The launch of `processes` ranks of `exe` with this MPI's launcher: "mpirun -np 5 ./app" or
/// "mpiexec -n 5 ./app".
std::string launch_command(int processes, const std::string& exe);
/// Why engines cannot be started for a running program, naming the MPI; for messages.
std::string without_dynamic_processes();
/// What to do so that a lost engine does not end the job: Open MPI's flag, or that this MPI
/// has none; for messages.
std::string recovery_advice();
/// What the death of a process means to a job that does not survive it, and how to launch one
/// that does; for the report of a lost engine.
std::string death_ends_the_job();

}  // namespace ranks::detail::transport
