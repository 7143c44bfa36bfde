#pragma once

// What the tests' MPI allows (RANKS_TEST_DYNAMIC, set by tests/CMakeLists.txt): Open MPI starts
// engines for a running program, MPICH does not, and then a pool larger than the job is refused
// with the launch to use instead.

#include <ranks/run.hpp>
#include <string>

namespace ranks_test {

#ifndef RANKS_TEST_DYNAMIC
#define RANKS_TEST_DYNAMIC 1
#endif
inline constexpr bool kCanSpawn = RANKS_TEST_DYNAMIC != 0;

/// Whether n engines can be had: by spawning, or from the job's own ranks.
inline bool can_have(int n) { return kCanSpawn || ranks::engine_count() >= n; }

/// The launch a refusal advises for n processes: "mpirun -np n" or "mpiexec -n n".
inline std::string launch_of(int n) {
  return (kCanSpawn ? "mpirun -np " : "mpiexec -n ") + std::to_string(n);
}

}  // namespace ranks_test
