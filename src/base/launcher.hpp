#pragma once

// The launcher that started this process (mpirun), as rank 0 sees it: ending it, at once or
// when it outlives the job.
//
// Open MPI 4.1's mpirun --enable-recovery exits 0 whatever its processes return, and Open MPI
// 4.1.4 (Debian 12) ends only the calling process on MPI_Abort then; a signal is the one way
// left to make it exit non-zero (it then exits 1).
//
// Open MPI 4.1.4's daemon on a host other than mpirun's never counts a killed process of the job
// as ended, so it never reports the end of the job's other processes on that host either, and
// mpirun, under --enable-recovery, waits for them for ever after the program has ended. A batch
// job must not hold its allocation until the wall-clock limit for that.

#include <chrono>
#include <optional>

namespace ranks::detail {

/// This process's rank in the job a launcher started (mpirun, mpiexec, srun with an MPI
/// plugin), read from what the launcher sets before MPI starts; none when it was started alone.
std::optional<int> rank_in_launch();

/// When this process's parent is mpirun (mpiexec, orterun), leaves a watcher behind (a process
/// of its own session, holding only stderr) that ends mpirun with SIGTERM, saying why, should it
/// still run `grace` from now; mpirun then ends the job's daemons and exits 1. The watcher
/// leaves as soon as mpirun has ended. Nothing otherwise.
void end_launcher_if_it_outlives(std::chrono::milliseconds grace);

/// Whether this process's parent is mpirun (mpiexec, orterun): Open MPI's launcher on its host.
bool launched_by_mpirun();

/// Ends mpirun with SIGTERM, this process's output flushed first; mpirun then ends the job and
/// exits 1. Call once MPI has finalized.
void end_launcher_now();

}  // namespace ranks::detail
