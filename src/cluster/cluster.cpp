#include "cluster/cluster.hpp"

#include <cstdlib>

#include "base/log.hpp"
#include "cluster/cluster_engine.hpp"
#include "cluster/hub.hpp"
#include "controller/roster.hpp"
#include "door/profile.hpp"
#include "engine/engine.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/environment.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

int serve_cluster(int argc, char** argv, const std::string& profile_dir,
                  const std::string& door_host) {
  freeze_registry();
  transport::Environment env(argc, argv, MPI_THREAD_SERIALIZED);
  // A client or an engine that dies must not end the cluster: errors return, they do not abort.
  transport::errors_return(MPI_COMM_WORLD);
  try {
    // An engine the hub spawned to replace a lost one: its world is the grown cluster's.
    if (MPI_Comm grown = transport::join_parent(); grown != MPI_COMM_NULL) {
      transport::errors_return(grown);
      engine_started_in_place();
      return run_cluster_engine(grown, profile_dir + "/code");
    }
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

int turn_away(int argc, char** argv, const std::string& profile_dir, const std::string& port) {
  try {
    const auto profile = load_profile_dir(profile_dir);
    if (!profile) throw Error("no profile in " + profile_dir);
    // As an attached program starts MPI (attach.cpp): through the cluster's ompi-server.
    ::setenv("OMPI_MCA_pmix_server_uri", profile->ompi_server_uri.c_str(), 1);
    for (const auto& [name, value] : profile->client_mca)
      ::setenv(("OMPI_MCA_" + name).c_str(), value.c_str(), 0);
    transport::Environment env(argc, argv, MPI_THREAD_SINGLE);
    transport::Spawned link = transport::connect(port);
    refuse_engines(link.merged);
    transport::release(link);
    return 0;
  } catch (const std::exception& e) {
    log_line(std::string("the hub could not turn the engines away: ") + e.what());
    return 1;
  }
}

}  // namespace ranks::detail::cluster
