// Dynamic processes (transport.hpp): spawning engines, connecting to and accepting a started
// cluster's, and letting go of them.

#include <string>
#include <vector>

#include "transport/transport.hpp"

namespace ranks::detail::transport {

Spawned spawn(int n, const std::string& exe, const std::vector<std::string>& args,
              MPI_Comm parent) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  MPI_Info info;
  check(MPI_Info_create(&info), "MPI_Info_create");
  // More engines than cores is what a user asks for with Pool(8) on a laptop: allow it.
  const int set_rc = MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
  Spawned s;
  std::vector<int> errcodes(static_cast<std::size_t>(n));
  errors_return(parent);
  const int rc = set_rc != MPI_SUCCESS ? set_rc
                                       : MPI_Comm_spawn(exe.c_str(), argv.data(), n, info, 0,
                                                        parent, &s.inter, errcodes.data());
  check_cleanup(MPI_Info_free(&info), "MPI_Info_free");
  check(set_rc, "MPI_Info_set");
  check(rc, "MPI_Comm_spawn");
  check(MPI_Intercomm_merge(s.inter, 0, &s.merged), "MPI_Intercomm_merge");
  return s;
}

MPI_Comm parent() {
  MPI_Comm comm = MPI_COMM_NULL;
  check(MPI_Comm_get_parent(&comm), "MPI_Comm_get_parent");
  return comm;
}

MPI_Comm join_parent() {
  MPI_Comm up = parent();
  if (up == MPI_COMM_NULL) return MPI_COMM_NULL;
  MPI_Comm merged = MPI_COMM_NULL;
  check(MPI_Intercomm_merge(up, 1, &merged), "MPI_Intercomm_merge");
  return merged;
}

Spawned connect(const std::string& port) {
  Spawned s;
  errors_return(MPI_COMM_SELF);
  check(MPI_Comm_connect(port.c_str(), MPI_INFO_NULL, 0, MPI_COMM_SELF, &s.inter),
        "MPI_Comm_connect");
  errors_return(s.inter);
  check(MPI_Intercomm_merge(s.inter, 0, &s.merged), "MPI_Intercomm_merge");
  errors_return(s.merged);
  return s;
}

Spawned accept(const std::string& port, MPI_Comm comm, int root) {
  Spawned s;
  errors_return(comm);
  check(MPI_Comm_accept(port.c_str(), MPI_INFO_NULL, root, comm, &s.inter), "MPI_Comm_accept");
  errors_return(s.inter);
  return s;
}

void merge_accepted(Spawned& s) {
  check(MPI_Intercomm_merge(s.inter, 1, &s.merged), "MPI_Intercomm_merge");
  errors_return(s.merged);
}

void abandon(Spawned& s) {
  free_comm(s.merged);
  free_comm(s.inter);
}

std::string open_port() {
  char port[MPI_MAX_PORT_NAME] = {};
  check(MPI_Open_port(MPI_INFO_NULL, port), "MPI_Open_port");
  return port;
}

void release(Spawned& s) {
  // Freeing the merged communicator and disconnecting the intercommunicator (not disconnecting
  // both) is what lets Open MPI end spawned jobs cleanly.
  free_comm(s.merged);
  if (s.inter != MPI_COMM_NULL) check_cleanup(MPI_Comm_disconnect(&s.inter), "MPI_Comm_disconnect");
}

}  // namespace ranks::detail::transport
