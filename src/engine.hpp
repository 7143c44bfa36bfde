#pragma once

#include <mpi.h>

namespace ranks::detail {

/// An engine's life: runs what the controller (rank 0 of comm) sends until it says stop.
/// Returns the exit code the controller chose. ranks::engine_id() must be set already.
int serve(MPI_Comm comm);

}  // namespace ranks::detail
