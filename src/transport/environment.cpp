#include "transport/environment.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "ranks/error.hpp"
#include "transport/mpi_flavor.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::transport {

namespace {

// Open MPI 4.1.4's MPI_Finalize in a process started on its own (a singleton: every plain
// program, attached or not) unloads its PMIx component (mca_pmix_ext3x.so, and libpmix with it)
// before it stops its progress thread; a PMIx notification that arrived meanwhile is handed to
// that thread to run in the component (process_event), which then executes unmapped code: a
// SIGSEGV at exit, after the program's output, and a second one in libgcc_s while Open MPI's
// handler unwinds for its backtrace (1 in about 2000 relayed programs). The components stay
// mapped until the process ends.
void keep_pmix_components_loaded() {
  std::vector<std::string> components;  // dlopen is not called from inside dl_iterate_phdr
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "/mca_pmix_"))
          static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
        return 0;
      },
      &components);
  for (const auto& c : components)
    (void)::dlopen(c.c_str(), RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

}  // namespace

Environment::Environment(int& argc, char**& argv, int level) {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = MPI_THREAD_SINGLE;
    // Before MPI has started, it cannot be asked to describe its own error.
    if (const int rc = MPI_Init_thread(&argc, &argv, level, &provided); rc != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed (MPI error " + std::to_string(rc) + ")");
    started_ = true;
    if constexpr (kFlavor == Flavor::kOpenMpi) keep_pmix_components_loaded();
  }
  errors_return(MPI_COMM_WORLD);
}

Environment::~Environment() {
  if (!started_) return;
  if (std::uncaught_exceptions() > 0) MPI_Abort(MPI_COMM_WORLD, 1);
  int finalized = 0;
  check_cleanup(MPI_Finalized(&finalized), "MPI_Finalized");
  if (!finalized) check_cleanup(MPI_Finalize(), "MPI_Finalize");
}

}  // namespace ranks::detail::transport
