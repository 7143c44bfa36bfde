#include "door/profile.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ranks/error.hpp"
#include "registry/modules.hpp"

namespace ranks::detail::cluster {

namespace {

using nlohmann::json;

json to_json(const Profile& p) {
  json engines = json::array();
  for (const auto& e : p.engine_list)
    engines.push_back(
        {{"id", e.id}, {"rank", e.rank}, {"host", e.host}, {"pid", e.pid}, {"alive", e.alive}});
  return json{{"name", p.name},
              {"state", p.state},
              {"door", p.door},
              {"key", p.key},
              {"engines", p.engines},
              {"refill", p.refill},
              {"hosts", p.hosts},
              {"mpi",
               {{"ompi_server", p.ompi_server_uri},
                {"mode", p.mode},
                {"connect_limit", p.connect_limit},
                {"client_mca", p.client_mca}}},
              {"pids",
               {{"ompi_server", p.ompi_server_pid},
                {"mpirun", p.mpirun_pid},
                {"hub", p.hub_pid},
                {"hub_host", p.hub_host}}},
              {"started", p.started},
              {"hostfile", p.hostfile},
              {"dashboard", p.dashboard},
              {"dashboard_url", p.dashboard_url},
              {"engine_list", engines}};
}

Profile from_json(const json& j, const std::string& dir) {
  Profile p;
  p.dir = dir;
  p.name = j.value("name", "");
  p.state = j.value("state", "");
  p.door = j.value("door", "");
  p.key = j.value("key", "");
  p.engines = j.value("engines", 0);
  p.refill = j.value("refill", false);
  p.hosts = j.value("hosts", std::vector<std::string>{});
  if (j.contains("mpi")) {
    p.ompi_server_uri = j["mpi"].value("ompi_server", "");
    p.mode = j["mpi"].value("mode", "");
    p.connect_limit = j["mpi"].value("connect_limit", kDefaultConnectLimit);
    p.client_mca = j["mpi"].value("client_mca", std::map<std::string, std::string>{});
  }
  if (j.contains("pids")) {
    p.ompi_server_pid = j["pids"].value("ompi_server", 0);
    p.mpirun_pid = j["pids"].value("mpirun", 0);
    p.hub_pid = j["pids"].value("hub", 0);
    p.hub_host = j["pids"].value("hub_host", "");
  }
  p.started = j.value("started", "");
  p.hostfile = j.value("hostfile", "");
  p.dashboard = j.value("dashboard", "");
  p.dashboard_url = j.value("dashboard_url", "");
  for (const auto& e : j.value("engine_list", json::array()))
    p.engine_list.push_back({e.value("id", 0), e.value("rank", 0), e.value("host", ""),
                             e.value("pid", 0), e.value("alive", true)});
  return p;
}

}  // namespace

std::string profiles_root() {
  if (const char* d = std::getenv("RANKS_PROFILE_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.ranks";
}

std::string profile_dir(const std::string& name) { return profiles_root() + "/" + name; }

std::optional<Profile> load_profile_dir(const std::string& dir) {
  std::ifstream in(dir + "/cluster.json");
  if (!in) return std::nullopt;
  try {
    return from_json(json::parse(in), dir);
  } catch (const json::exception& e) {
    throw Error(dir + "/cluster.json is not a profile ranks can read (" + e.what() +
                "); remove the folder, or ranks cluster stop --profile " +
                dir.substr(dir.find_last_of('/') + 1));
  }
}

std::optional<Profile> load_profile(const std::string& name) {
  return load_profile_dir(profile_dir(name));
}

void require_private(const Profile& p) {
  const std::string file = p.dir + "/cluster.json";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;  // gone meanwhile: whoever reads it next says so
  const unsigned mode = st.st_mode & 0777U;
  if (st.st_uid != ::geteuid())
    throw Error("the profile " + file + " holds cluster '" + p.name +
                "''s key but belongs to another user (uid " + std::to_string(st.st_uid) +
                "); start a cluster of your own, or point RANKS_PROFILE_DIR elsewhere");
  if ((mode & 077U) != 0) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    throw Error("the profile " + file + " holds cluster '" + p.name +
                "''s key but others can read it (mode " + octal +
                "); ranks will not use it until it is private: chmod 600 " + file);
  }
}

void save_profile(const Profile& p) {
  ::mkdir(profiles_root().c_str(), 0700);
  ::mkdir(p.dir.c_str(), 0700);
  const std::string tmp = p.dir + "/.cluster.json." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    throw Error("cannot write the profile " + tmp + " (" + std::strerror(errno) +
                "); check RANKS_PROFILE_DIR or the permissions of " + p.dir);
  const std::string text = to_json(p).dump(2) + "\n";
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (off != text.size() || ::rename(tmp.c_str(), (p.dir + "/cluster.json").c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw Error("cannot write the profile in " + p.dir + " (" + std::strerror(errno) + ")");
  }
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  DIR* d = ::opendir(profiles_root().c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (::stat((profiles_root() + "/" + n + "/cluster.json").c_str(), &st) == 0) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string random_key() {
  unsigned char bytes[32];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) throw Error("no random bytes for the cluster's key (getrandom failed)");
    got += static_cast<std::size_t>(n);
  }
  return hex(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace ranks::detail::cluster
