#include "transport/environment.hpp"

#include <exception>

#include "ranks/error.hpp"

namespace ranks::detail::transport {

Environment::Environment(int& argc, char**& argv, int level) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(&argc, &argv, level, &provided) != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed");
    started_ = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

Environment::~Environment() {
  if (!started_) return;
  if (std::uncaught_exceptions() > 0) MPI_Abort(MPI_COMM_WORLD, 1);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace ranks::detail::transport
