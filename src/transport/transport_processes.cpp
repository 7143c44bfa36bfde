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
  MPI_Info_create(&info);
  // More engines than cores is what a user asks for with Pool(8) on a laptop: allow it.
  MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
  Spawned s;
  std::vector<int> errcodes(static_cast<std::size_t>(n));
  MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
  const int rc =
      MPI_Comm_spawn(exe.c_str(), argv.data(), n, info, 0, parent, &s.inter, errcodes.data());
  MPI_Info_free(&info);
  check(rc, "MPI_Comm_spawn");
  check(MPI_Intercomm_merge(s.inter, 0, &s.merged), "MPI_Intercomm_merge");
  return s;
}

MPI_Comm join_parent() {
  MPI_Comm parent = MPI_COMM_NULL;
  MPI_Comm_get_parent(&parent);
  if (parent == MPI_COMM_NULL) return MPI_COMM_NULL;
  MPI_Comm merged = MPI_COMM_NULL;
  check(MPI_Intercomm_merge(parent, 1, &merged), "MPI_Intercomm_merge");
  return merged;
}

Spawned connect(const std::string& port) {
  Spawned s;
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  check(MPI_Comm_connect(port.c_str(), MPI_INFO_NULL, 0, MPI_COMM_SELF, &s.inter),
        "MPI_Comm_connect");
  MPI_Comm_set_errhandler(s.inter, MPI_ERRORS_RETURN);
  check(MPI_Intercomm_merge(s.inter, 0, &s.merged), "MPI_Intercomm_merge");
  MPI_Comm_set_errhandler(s.merged, MPI_ERRORS_RETURN);
  return s;
}

Spawned accept(const std::string& port, MPI_Comm comm, int root) {
  Spawned s;
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  check(MPI_Comm_accept(port.c_str(), MPI_INFO_NULL, root, comm, &s.inter), "MPI_Comm_accept");
  MPI_Comm_set_errhandler(s.inter, MPI_ERRORS_RETURN);
  return s;
}

void merge_accepted(Spawned& s) {
  check(MPI_Intercomm_merge(s.inter, 1, &s.merged), "MPI_Intercomm_merge");
  MPI_Comm_set_errhandler(s.merged, MPI_ERRORS_RETURN);
}

void abandon(Spawned& s) {
  if (s.merged != MPI_COMM_NULL) MPI_Comm_free(&s.merged);
  if (s.inter != MPI_COMM_NULL) MPI_Comm_free(&s.inter);
}

std::string open_port() {
  char port[MPI_MAX_PORT_NAME] = {};
  check(MPI_Open_port(MPI_INFO_NULL, port), "MPI_Open_port");
  return port;
}

void release(Spawned& s) {
  // Freeing the merged communicator and disconnecting the intercommunicator (not disconnecting
  // both) is what lets Open MPI end spawned jobs cleanly.
  if (s.merged != MPI_COMM_NULL) MPI_Comm_free(&s.merged);
  if (s.inter != MPI_COMM_NULL) MPI_Comm_disconnect(&s.inter);
}

}  // namespace ranks::detail::transport
