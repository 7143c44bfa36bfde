#pragma once

// A started cluster's profile: ~/.ranks/NAME/cluster.json (RANKS_PROFILE_DIR moves the folder),
// mode 0600, what a client needs to attach (the door, its key, MPI's contact) and what `ranks
// cluster stop` must end (the processes it started).

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ranks::detail::cluster {

struct EngineInfo {
  int id = 0;    // 0.. in the order of the cluster job's ranks
  int rank = 0;  // in the cluster job
  std::string host;
  int pid = 0;
  bool alive = true;
};

/// Connected programs before the hub relays the others: Open MPI keeps about 82 kB of each in
/// mpirun and 56 kB in each engine, so that 200 add at most 16 MB and 11 MB (an idle engine is
/// 16 MB).
constexpr int kDefaultConnectLimit = 200;

struct Profile {
  std::string name;
  std::string dir;    // the profile's folder
  std::string state;  // "starting", "ready"
  std::string door;   // HOST:PORT of the hub
  std::string key;    // 64 hexadecimal digits: 256 random bits
  int engines = 0;
  bool refill = false;  // the hub spawns an engine in place of each one lost
  std::vector<std::string> hosts;
  std::string ompi_server_uri;                    // file:PATH, what MPI needs to connect
  std::string mode;                               // "connect" (one host) or "relay" (across hosts)
  std::map<std::string, std::string> client_mca;  // Open MPI parameters a program starts with
  // Programs connected over MPI before the later ones are relayed: Open MPI 4.1 keeps what it
  // learnt of each connected program, in mpirun and in every engine, until they end.
  int connect_limit = kDefaultConnectLimit;
  int ompi_server_pid = 0;
  int mpirun_pid = 0;
  int hub_pid = 0;
  std::string hub_host;
  std::string started;  // ISO 8601, UTC
  std::string hostfile;
  std::string dashboard;      // where the hub serves the dashboard, as asked ("": nowhere)
  std::string dashboard_url;  // and its address, once it serves it
  std::vector<EngineInfo> engine_list;
};

/// Where profiles live: $RANKS_PROFILE_DIR, else ~/.ranks.
std::string profiles_root();
/// The folder of profile `name`.
std::string profile_dir(const std::string& name);
/// Reads a profile; nullopt if it does not exist. Throws ranks::Error if it is unreadable.
std::optional<Profile> load_profile(const std::string& name);
/// Reads the profile in `dir`.
std::optional<Profile> load_profile_dir(const std::string& dir);
/// Throws ranks::Error if others than its owner (this user) can read or write the profile, which
/// holds the cluster's key: as ssh refuses such a private key, ranks refuses such a profile,
/// saying how to fix it (chmod 600).
void require_private(const Profile& p);
/// Writes it (atomically, mode 0600), creating its folder (mode 0700).
void save_profile(const Profile& p);
/// The names of the profiles there are.
std::vector<std::string> profile_names();
/// 256 random bits as 64 hexadecimal digits.
std::string random_key();
/// The time now, ISO 8601 UTC.
std::string now_iso8601();

}  // namespace ranks::detail::cluster
