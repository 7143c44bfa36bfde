#pragma once

// MPI started and ended with a scope: MPI_Init_thread at construction (unless MPI runs
// already), MPI_Finalize at destruction, or MPI_Abort when the scope is left by an exception.

#include <mpi.h>

namespace ranks::detail::transport {

class Environment {
 public:
  /// Starts MPI with at least `level` of thread support (MPI_THREAD_SERIALIZED: one thread at a
  /// time calls MPI). Errors on MPI_COMM_WORLD return instead of aborting.
  Environment(int& argc, char**& argv, int level);
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  /// Finalizes MPI if this started it; aborts the job instead while an exception unwinds.
  ~Environment();

 private:
  bool started_ = false;
};

}  // namespace ranks::detail::transport
