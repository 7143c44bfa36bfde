// A bare MPI program that does one send and receive: the floor for ranks' start-up.
// Prints the seconds from process start to the moment rank 0 has its reply.
#include <mpi.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

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
    std::ifstream f("/proc/self/stat");
    std::string line;
    std::getline(f, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i) rest >> field;
    const double start = std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    const double age = static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9 - start;
    std::printf(
        "{\"workload\": \"startup\", \"variant\": \"mpirun\", \"backend\": \"mpi-raw\", "
        "\"workers\": %d, \"median\": %g, \"min\": %g, \"max\": %g, \"unit\": \"s\", "
        "\"repeat\": 1}\n",
        size - 1, age, age, age);
  }
  MPI_Finalize();
}
