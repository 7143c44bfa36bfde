#include "cluster.hpp"

#include <boost/mpi/environment.hpp>

#include "cluster_engine.hpp"
#include "hub.hpp"
#include "log.hpp"
#include "ranks/error.hpp"
#include "registry_table.hpp"
#include "transport.hpp"

namespace ranks::detail::cluster {

int serve_cluster(int argc, char** argv, const std::string& profile_dir,
                  const std::string& door_host) {
  freeze_registry();
  boost::mpi::environment env(argc, argv, boost::mpi::threading::serialized, true);
  // A client or an engine that dies must not end the cluster: errors return, they do not abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  try {
    if (transport::rank(MPI_COMM_WORLD) != 0)
      return run_cluster_engine(MPI_COMM_WORLD, profile_dir + "/code");
    auto profile = load_profile_dir(profile_dir);
    if (!profile) throw Error("no profile in " + profile_dir);
    return run_hub(MPI_COMM_WORLD, std::move(*profile), door_host);
  } catch (const std::exception& e) {
    log_line(std::string("the cluster's rank ") + std::to_string(transport::rank(MPI_COMM_WORLD)) +
             " failed: " + e.what());
    return 1;
  }
}

}  // namespace ranks::detail::cluster
