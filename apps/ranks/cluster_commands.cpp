#include "cluster_commands.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "base/host.hpp"
#include "base/log.hpp"
#include "dashboard/dashboard.hpp"
#include "door/door.hpp"
#include "door/profile.hpp"
#include "door/protocol.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::cli {

namespace {

using namespace ranks::detail;
using namespace ranks::detail::cluster;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

[[noreturn]] void fail(const std::string& message) { throw Error(message); }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    std::string p = d;
    p.append("/").append(name);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  fail(name + " is not on PATH; install Open MPI (Debian: openmpi-bin)");
}

// Starts argv detached from this shell (its own session, stdin from /dev/null, output to log)
// and returns its pid. It waits until `release` is called before it runs, so that the profile
// can name it first.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) {
    int fds[2];
    if (::pipe(fds) != 0) fail(std::string("pipe: ") + std::strerror(errno));
    pid_ = ::fork();
    if (pid_ < 0) fail(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      ::close(fds[1]);
      char c;
      while (::read(fds[0], &c, 1) > 0) {
      }
      ::close(fds[0]);
      ::setsid();
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::fprintf(stderr, "ranks: cannot run %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(fds[0]);
    go_ = fds[1];
  }
  void release() {
    if (go_ >= 0) ::close(go_);
    go_ = -1;
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Whether it has exited (then its status is in *status).
  bool exited(int* status) { return ::waitpid(pid_, status, WNOHANG) == pid_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

std::string tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  for (std::size_t i = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0;
       i < all.size(); ++i)
    out += "    " + all[i] + "\n";
  return out;
}

// The processes on this host whose command line holds `needle` (engines and hub of a profile).
std::vector<pid_t> processes_with(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == ::getpid()) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// Whether the profile's hub answers at its door.
bool hub_answers(const Profile& p) {
  if (p.door.empty()) return false;
  try {
    DoorClient door(p.door, p.key, milliseconds(500));
    return door.request(frame(Op::kPing), milliseconds(1000)).value("ok", false);
  } catch (const Error&) {
    return false;
  }
}

// Ends what a profile started (gently, then not) and says how many processes of its job were
// left to end by force.
int end_processes(const Profile& p, milliseconds grace) {
  const std::string needle = "cluster serve --profile-dir " + p.dir + " ";
  auto job_alive = [&] { return process_alive(p.mpirun_pid) || !processes_with(needle).empty(); };
  auto alive_any = [&] { return job_alive() || process_alive(p.ompi_server_pid); };
  // The job ends by itself once the hub has told its engines to; ompi-server never does.
  const auto deadline = Clock::now() + grace;
  while (job_alive() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  int ended = 0;
  for (int sig : {SIGTERM, SIGKILL}) {
    if (!alive_any()) break;
    // mpirun and ompi-server lead process groups of their own (start made them so); only
    // what was left of the job counts as ended by force.
    for (pid_t pid : {static_cast<pid_t>(p.mpirun_pid), static_cast<pid_t>(p.ompi_server_pid)})
      if (process_alive(pid)) {
        ::kill(-pid, sig);
        ::kill(pid, sig);
        if (pid == p.mpirun_pid) ++ended;
      }
    for (pid_t pid : processes_with(needle)) {
      ::kill(pid, sig);
      ++ended;
    }
    const auto wait_until = Clock::now() + milliseconds(sig == SIGTERM ? 1500 : 1000);
    while (alive_any() && Clock::now() < wait_until) std::this_thread::sleep_for(milliseconds(20));
  }
  return ended;
}

void remove_profile(const Profile& p) {
  ::unlink((p.dir + "/cluster.json").c_str());
  ::unlink((p.dir + "/ompi-server.uri").c_str());
}

// A profile whose cluster no longer answers: ends what is left of it and removes it.
void clean_stale(const Profile& p) {
  end_processes(p, milliseconds(0));
  remove_profile(p);
  std::cerr << "ranks: cluster '" << p.name << "' had died (its hub no longer answers at "
            << (p.door.empty() ? std::string("its door") : p.door)
            << "); cleaned its profile and what was left of its processes" << std::endl;
}

std::vector<std::string> hostfile_hosts(const std::string& path) {
  std::vector<std::string> hosts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string host;
    if (words >> host) hosts.push_back(host);
  }
  return hosts;
}

bool is_this_host(const std::string& h) {
  return h == "localhost" || h == "127.0.0.1" || h == host_name();
}

std::string describe_engines(const json& engines) {
  std::set<std::string> hosts;
  int alive = 0;
  for (const auto& e : engines) {
    hosts.insert(e.value("host", ""));
    alive += e.value("alive", true) ? 1 : 0;
  }
  std::string on;
  for (const auto& h : hosts) on += (on.empty() ? "" : ", ") + h;
  return std::to_string(alive) + " engine" + (alive == 1 ? "" : "s") + " on " + on;
}

std::string duration(long s) {
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

int start(const StartOptions& o) {
  // A started cluster is an mpirun job that programs connect to and that spawns replacements.
  if (!transport::kDynamicProcesses)
    fail(std::string("ranks was built with ") + transport::kMpiName +
         ", which cannot start a cluster: programs could not attach to it (no MPI_Open_port, "
         "MPI_Comm_connect or MPI_Comm_spawn); run each program with its engines instead, e.g. "
         "`" +
         transport::launch_command(5, "./app") + "`");
  const auto t0 = Clock::now();
  if (o.engines == 0 || o.engines < -1)
    fail("-n " + std::to_string(o.engines) +
         ": a cluster needs at least one engine (-n 1 or more)");
  const int n = o.engines > 0 ? o.engines
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!o.hostfile.empty() && ::access(o.hostfile.c_str(), R_OK) != 0)
    fail("the hostfile " + o.hostfile + " does not exist or cannot be read");
  if (o.profile.empty() || o.profile.find('/') != std::string::npos || o.profile[0] == '.')
    fail("'" + o.profile + "' is not a profile name (letters, digits, - and _)");
  if (auto old = load_profile(o.profile)) {
    if (hub_answers(*old))
      fail("cluster '" + o.profile + "' runs already (" + std::to_string(old->engines) +
           " engines since " + old->started + "); stop it first: ranks cluster stop --profile " +
           o.profile);
    clean_stale(*old);
  }
  const std::string mpirun = find_program("mpirun");
  const std::string ompi_server = find_program("ompi-server");

  Profile p;
  p.name = o.profile;
  p.dir = profile_dir(o.profile);
  p.state = "starting";
  p.key = random_key();
  p.engines = n;
  p.started = now_iso8601();
  p.hostfile = o.hostfile;
  if (!o.dashboard.empty()) {
    (void)ranks::detail::dashboard::parse_address(o.dashboard, "--dashboard");  // said now if bad
    p.dashboard = o.dashboard;
  }
  std::string door_host = "127.0.0.1";
  p.mode = o.relay ? "relay" : "connect";
  bool across_hosts = false;
  if (!o.hostfile.empty()) {
    const auto hosts = hostfile_hosts(o.hostfile);
    if (hosts.empty()) fail("the hostfile " + o.hostfile + " names no host");
    const bool here = std::all_of(hosts.begin(), hosts.end(), is_this_host);
    if (!here) {
      across_hosts = true;
      door_host = hosts.front();  // mpirun puts rank 0, the hub, on the first host
      p.mode = "relay";
    }
  }
  // Replacing lost engines spawns them (MPI_Comm_spawn), which Open MPI 4.1 does on this host
  // but not across the hosts tested so far.
  p.refill = !o.no_refill && door_host == "127.0.0.1";
  if (o.connect_limit >= 0) p.connect_limit = o.connect_limit;
  if (p.connect_limit == 0) p.mode = "relay";
  p.ompi_server_uri = "file:" + p.dir + "/ompi-server.uri";
  // Programs attach as singletons, whose MPI_Init otherwise spends 0.25 s probing transports
  // for networks (the cm layer's providers). On one host the engines and programs use ob1
  // (shared memory, TCP) anyway: say so to both. Across hosts the engines keep Open MPI's
  // choice, and a relayed program, which sends nothing by MPI, takes ob1 alone. A pml given in
  // --mpirun-args or the environment wins.
  const bool pml_given =
      std::getenv("OMPI_MCA_pml") != nullptr ||
      std::find(o.mpirun_args.begin(), o.mpirun_args.end(), "pml") != o.mpirun_args.end();
  const bool engines_ob1 = !pml_given && p.mode == "connect";
  // Across hosts, no daemon writes the hardware topology into a file for its engines to map
  // (rtc_hwloc_vmhole none: each engine reads the topology itself). Hosts that share a /tmp
  // (network namespaces or containers on one machine) can give two daemons one such file, and
  // two writers of one file crash in hwloc_shmem_topology_write, failing the whole launch. A
  // value given in --mpirun-args or the environment wins (mpirun refuses one given twice).
  const bool vmhole_given = std::getenv("OMPI_MCA_rtc_hwloc_vmhole") != nullptr ||
                            std::find(o.mpirun_args.begin(), o.mpirun_args.end(),
                                      "rtc_hwloc_vmhole") != o.mpirun_args.end();
  const bool no_topology_shmem = across_hosts && !vmhole_given;
  if (engines_ob1 || p.mode == "relay") p.client_mca["pml"] = "ob1";
  ::unlink((p.dir + "/ompi-server.uri").c_str());
  save_profile(p);

  Child server({ompi_server, "--no-daemonize", "-r", p.dir + "/ompi-server.uri"},
               p.dir + "/ompi-server.log");
  p.ompi_server_pid = server.pid();
  save_profile(p);
  server.release();
  for (int i = 0; i < 500 && ::access((p.dir + "/ompi-server.uri").c_str(), R_OK) != 0; ++i) {
    int st = 0;
    if (server.exited(&st))
      fail("ompi-server did not start:\n" + tail(p.dir + "/ompi-server.log", 10));
    std::this_thread::sleep_for(milliseconds(10));
  }

  std::vector<std::string> argv{
      mpirun, "--ompi-server",      p.ompi_server_uri, "--enable-recovery", "--oversubscribe",
      "-np",  std::to_string(n + 1)};
  if (!o.hostfile.empty()) {
    argv.emplace_back("--hostfile");
    argv.push_back(o.hostfile);
  }
  if (engines_ob1) argv.insert(argv.end(), {"--mca", "pml", "ob1"});
  if (no_topology_shmem) argv.insert(argv.end(), {"--mca", "rtc_hwloc_vmhole", "none"});
  argv.insert(argv.end(), o.mpirun_args.begin(), o.mpirun_args.end());
  argv.insert(argv.end(),
              {self_exe(), "cluster", "serve", "--profile-dir", p.dir, "--door-host", door_host});
  ::unlink((p.dir + "/cluster.log").c_str());
  Child job(argv, p.dir + "/cluster.log");
  p.mpirun_pid = job.pid();
  save_profile(p);
  job.release();

  const auto deadline = t0 + std::chrono::duration<double>(o.timeout_s);
  while (true) {
    int st = 0;
    if (job.exited(&st)) {
      const std::string log = tail(p.dir + "/cluster.log", 15);
      end_processes(p, milliseconds(0));
      remove_profile(p);
      fail("the cluster's job ended before its engines were ready (mpirun exit " +
           std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) + "):\n" + log);
    }
    if (auto now = load_profile(o.profile); now && now->state == "ready") {
      p = *now;
      break;
    }
    if (Clock::now() > deadline) {
      const std::string log = tail(p.dir + "/cluster.log", 15);
      end_processes(p, milliseconds(0));
      remove_profile(p);
      fail("the engines were not ready within " + std::to_string(o.timeout_s) +
           " s; the cluster was stopped. Its log:\n" + log);
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::cout << "cluster '" << p.name << "' started in " << std::fixed << std::setprecision(2)
            << seconds_since(t0) << " s: " << p.engines << " engines waiting on ";
  for (std::size_t i = 0; i < p.hosts.size(); ++i) std::cout << (i ? ", " : "") << p.hosts[i];
  std::cout << " (door " << p.door << ")\n"
            << "Programs built with ranks_add_executable now attach when run plain: ./program"
            << (p.name == "default" ? "" : " with RANKS_CLUSTER=" + p.name) << "\n"
            << "See it: ranks cluster status" << (p.name == "default" ? "" : " --profile " + p.name)
            << "; end it: ranks cluster stop" << (p.name == "default" ? "" : " --profile " + p.name)
            << "\n";
  return 0;
}

int stop(const std::string& profile) {
  const auto t0 = Clock::now();
  auto p = load_profile(profile);
  if (!p) fail("there is no cluster '" + profile + "' to stop (ranks cluster list shows them)");
  bool asked = false;
  try {
    DoorClient door(p->door, p->key, milliseconds(1000));
    asked = door.request(frame(Op::kStop), milliseconds(2000)).value("ok", false);
  } catch (const Error&) {
  }
  const int forced = end_processes(*p, asked ? milliseconds(3000) : milliseconds(0));
  remove_profile(*p);
  if (!asked) {
    std::cerr << "ranks: cluster '" << profile
              << "' did not answer; ended what was left of its processes" << std::endl;
    return 0;
  }
  std::cout << "cluster '" << profile << "' stopped in " << std::fixed << std::setprecision(2)
            << seconds_since(t0) << " s"
            << (forced ? " (" + std::to_string(forced) + " process(es) had to be killed)" : "")
            << "\n";
  return 0;
}

int status(const std::string& profile, bool as_json) {
  auto p = load_profile(profile);
  if (!p) fail("there is no cluster '" + profile + "' (ranks cluster list shows them)");
  require_private(*p);  // its key is not to be used while others can read it
  json s;
  // A hub busy with a program that vanished mid-start can take seconds to answer: ask for up
  // to 10 s while its job lives; only a cluster whose job is gone is stale.
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (true) {
    try {
      DoorClient door(p->door, p->key, milliseconds(1000));
      s = door.request(frame(Op::kStatus), milliseconds(2000));
      break;
    } catch (const ImpostorAtDoor& e) {
      fail("cluster '" + profile + "': " + std::string(unprefixed(e.what())));
    } catch (const Error&) {
      if (p->state == "starting" && process_alive(p->mpirun_pid))
        fail("cluster '" + profile + "' is still starting");
      if (!process_alive(p->mpirun_pid)) {
        clean_stale(*p);
        return 1;
      }
      if (Clock::now() > give_up) {
        std::string why = "cluster '" + profile + "' runs (mpirun pid ";
        why += std::to_string(p->mpirun_pid);
        why += ") but its hub has not answered for 10 s; try again, or end it: ranks cluster ";
        why += "stop --profile " + profile;
        fail(why);
      }
    }
  }
  if (as_json) {
    std::cout << s.dump(2) << "\n";
    return 0;
  }
  std::cout << "cluster '" << s.value("name", profile) << "': up "
            << duration(s.value("uptime_s", 0L)) << ", " << describe_engines(s["engines"])
            << ", door " << s.value("door", p->door) << " (" << s.value("mode", "") << ")\n";
  if (const std::string d = s.value("dashboard", ""); !d.empty())
    std::cout << "  dashboard " << d << "\n";
  std::cout << "  engine  host              pid      alive  tasks\n";
  for (const auto& e : s["engines"]) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-7d %-17s %-8d %-6s %llu\n", e.value("id", 0),
                  e.value("host", std::string()).c_str(), e.value("pid", 0),
                  e.value("alive", true) ? "yes" : "DEAD",
                  static_cast<unsigned long long>(e.value("tasks", 0ULL)));
    std::cout << line;
  }
  const json& c = s["client"];
  if (c.is_null()) {
    std::cout << "attached: none\n";
  } else {
    std::cout << "attached: " << c.value("program", "?") << " (pid " << c.value("pid", 0) << " on "
              << c.value("host", "?") << ", since " << c.value("since", "?") << ")\n";
  }
  for (const auto& w : s["waiting"])
    std::cout << "waiting:  " << w.value("program", "?") << " (pid " << w.value("pid", 0) << " on "
              << w.value("host", "?") << ")\n";
  std::cout << "tasks run: " << s.value("tasks", 0ULL) << "\n";
  if (s.value("connected", 0) > 0)
    std::cout << "programs connected over MPI: " << s.value("connected", 0) << " of at most "
              << s.value("connect_limit", 0) << " (later ones relayed)\n";
  std::cout << "lost engines: " << (s.value("refill", false) ? "replaced" : "not replaced") << ", "
            << s.value("replaced", 0) << " so far\n";
  return 0;
}

int list() {
  const auto names = profile_names();
  if (names.empty()) {
    std::cout << "no clusters (profiles in " << profiles_root()
              << "); start one: ranks cluster start\n";
    return 0;
  }
  for (const auto& name : names) {
    const auto p = load_profile(name);
    if (!p) continue;
    const bool up = hub_answers(*p);
    std::cout << name << ": " << (up ? "running" : (p->state == "starting" ? "starting" : "stale"))
              << ", " << p->engines << " engines";
    if (up) std::cout << ", since " << p->started << ", door " << p->door;
    if (!up && p->state != "starting")
      std::cout << " (ranks cluster stop --profile " << name << " cleans it)";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace ranks::cli
