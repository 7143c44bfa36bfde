#pragma once

#include <mpi.h>

namespace ranks::detail {

/// An engine's life: runs what the controller (rank 0 of comm) sends until it says stop.
/// Returns the exit code the controller chose.
int serve(MPI_Comm comm, int engine_id);
/// The id engine_id() reports inside tasks.
void set_engine_id(int id);

}  // namespace ranks::detail
