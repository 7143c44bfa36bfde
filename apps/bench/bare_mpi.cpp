// A bare MPI program that does one send and receive: the floor for ranks' start-up.
// Prints the seconds from process start to the moment rank 0 has its reply, and from the
// start of mpirun, its parent.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "process_age.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int x = 1;
  if (size > 1) {
    if (rank == 0) {
      MPI_Send(&x, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(&x, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(&x, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&x, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    }
  }
  if (rank == 0) {
    // From this rank's start, and from its parent's: mpirun, which started it (a user waits
    // from mpirun's start).
    const double age = seconds_since_start("/proc/self/stat");
    const double launch = seconds_since_start("/proc/" + std::to_string(getppid()) + "/stat");
    for (auto [variant, s] : {std::pair{"mpirun", age}, std::pair{"mpirun-launch", launch}})
      std::printf(
          "{\"workload\": \"startup\", \"variant\": \"%s\", \"backend\": \"mpi-raw\", "
          "\"workers\": %d, \"median\": %g, \"min\": %g, \"max\": %g, \"unit\": \"s\", "
          "\"repeat\": 1}\n",
          variant, size - 1, s, s, s);
  }
  MPI_Finalize();
}
