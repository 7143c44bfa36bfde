#pragma once

// Reductions over a communicator: MPI's own operation where the elements are numbers it knows,
// the caller's combine function otherwise (in rank order, not commutative).

#include <mpi.h>

#include <cstdint>

#include "ranks/detail/reduce.hpp"

namespace ranks::detail::transport {

/// Combines s's elements of every rank of comm: at rank 0 (MPI_Reduce), or at every rank
/// (s.all, MPI_Allreduce). Throws ranks::MpiError if MPI fails.
void reduce(MPI_Comm comm, const ReduceSpec& s);
/// Gathers n values from every rank of comm, at every rank (all: n * size values).
void allgather(MPI_Comm comm, const std::int64_t* mine, int n, std::int64_t* all);

}  // namespace ranks::detail::transport
