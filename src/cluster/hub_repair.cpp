// What the hub mends (hub.hpp): engines that a program left waiting when it died in the middle
// of attaching, and engines lost, which a cluster on one host replaces by spawning others.
//
// A program that dies while the engines wait in MPI_Comm_accept leaves them there: the hub has
// a small program (`ranks cluster turn-away`) connect in its place and refuse them. One that dies
// inside the connection's handshake or merge leaves them waiting for ever in a collective with a
// dead process, which Open MPI 4.1 cannot leave: the hub ends those engines (the cluster runs
// with recovery on, so the job goes on) and, where it refills, spawns others in their place.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "base/host.hpp"
#include "base/log.hpp"
#include "cluster/hub.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): for posix_spawn

namespace ranks::detail::cluster {

namespace {

using std::chrono::milliseconds;

// How long engines may take to leave a program that died before the hub ends them: the merge
// or the refusal takes milliseconds, a program turning them away a fraction of a second.
constexpr milliseconds kStuckAfter(5000);
// How long spawned engines may take to come to the door.
constexpr milliseconds kGrowWithin(20000);

// The environment of a program of its own: without what mpirun gave the hub, which would make
// it take itself for a rank of the cluster's job.
std::vector<std::string> own_environment() {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string v = *e;
    const bool mpi = v.rfind("OMPI_", 0) == 0 || v.rfind("PMIX_", 0) == 0 ||
                     v.rfind("OPAL_", 0) == 0 || v.rfind("ORTE_", 0) == 0;
    if (!mpi || v.rfind("OMPI_ALLOW_RUN_AS_ROOT", 0) == 0) out.push_back(v);
  }
  return out;
}

pid_t start_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto env_strings = own_environment();
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) throw Error("could not start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

void Hub::turn_away(const std::string& port) {
  try {
    turn_away_ = start_program(
        {self_exe(), "cluster", "turn-away", "--profile-dir", profile_.dir, "--port", port});
    turn_away_since_ = Clock::now();
  } catch (const Error& e) {
    log_line(std::string("the hub could not turn the engines away: ") + e.what());
  }
}

void Hub::watch_turn_away() {
  if (turn_away_ == 0) return;
  int st = 0;
  if (::waitpid(turn_away_, &st, WNOHANG) == turn_away_) {
    turn_away_ = 0;
    return;
  }
  // Still at it when the engines are ended as stuck, or long after: it waits on them in vain.
  if (Clock::now() - turn_away_since_ > kStuckAfter + milliseconds(1000) ||
      (session_ && session_->stuck_ended)) {
    ::kill(turn_away_, SIGKILL);
    ::waitpid(turn_away_, &st, 0);
    turn_away_ = 0;
  }
}

void Hub::end_stuck_engines() {
  if (!session_ || !session_->abandoned || session_->relay || session_->stuck_ended) return;
  if (Clock::now() - session_->gone_at < kStuckAfter) return;
  session_->stuck_ended = true;
  for (int r : session_->ranks) {
    Engine& e = engines_[r];
    // An engine past the merge serves, or finishes a task into nothing: it comes back by itself.
    if (!e.alive || session_->done.count(r) || session_->merged.count(r)) continue;
    log_line("cluster '" + profile_.name + "': " + named(e) + " waits for ever in MPI on " +
             session_->who.value("program", "?") + ", which died while attaching; the hub ends it" +
             (profile_.refill ? " and starts another" : ""));
    if (e.host == host_name() && e.pid > 0) ::kill(e.pid, SIGKILL);
  }
}

bool Hub::refill_due() const {
  return profile_.refill && !refill_broken_ && ready_ && !stopping_ &&
         static_cast<int>(live_ranks().size()) < profile_.engines;
}

void Hub::refill() {
  const auto now = Clock::now();
  if (growing_ > 0 && now > grow_deadline_) {
    log_line("cluster '" + profile_.name + "': " + std::to_string(growing_) +
             " spawned engine(s) did not come within " +
             std::to_string(kGrowWithin.count() / 1000) + " s; it refills no more");
    growing_ = 0;
    refill_broken_ = true;
    grant_next();
  }
  if (session_ || growing_ > 0 || !refill_due()) return;
  const std::vector<int> live = live_ranks();
  const int missing = profile_.engines - static_cast<int>(live.size());
  // Spawning while Open MPI's runtime has not yet seen a death makes MPI_Comm_spawn hang now
  // and then (open-mpi/ompi#9713): first the lost processes are gone (an engine whose process
  // lingers is not waited for past 5 s), then 100 ms pass.
  for (const auto& [r, e] : engines_) {
    if (!e.alive && e.host == host_name() && process_alive(e.pid) &&
        now - e.lost_at < milliseconds(5000)) {
      dead_seen_ = {};
      return;
    }
  }
  if (dead_seen_ == Clock::time_point{}) dead_seen_ = now;
  if (now - dead_seen_ < milliseconds(100)) return;
  dead_seen_ = {};

  log_line("cluster '" + profile_.name + "': spawning " + std::to_string(missing) +
           " engine(s) in place of lost ones");
  tell_engines(live, frame(Op::kGrow, {{"n", missing}, {"live", live}}));
  std::vector<int> members{0};
  members.insert(members.end(), live.begin(), live.end());
  try {
    transport::Spawned grown = transport::spawn(
        missing, self_exe(),
        {"cluster", "serve", "--profile-dir", profile_.dir, "--door-host", door_host_},
        with_engines_.of(members));
    // The new engines learn the door and its key as the first ones did (run_hub).
    DoorAddress address{profile_.door, profile_.key};
    share_door(grown.merged, address);
    world_ = grown.merged;
  } catch (const Error& e) {
    refill_broken_ = true;
    log_line("cluster '" + profile_.name + "': could not spawn engines (" + e.what() +
             "); it goes on with " + std::to_string(live.size()) + " and refills no more");
    return;
  }
  // In the grown world the live engines come first, in their order, then the new ones.
  // The lost engines leave the list; what they ran stays in the cluster's total.
  std::map<int, Engine> renumbered;
  int rank = 1;
  for (const auto& [old, e] : engines_) {
    if (!e.alive) lost_tasks_ += e.tasks;
  }
  for (int old : live) {
    Engine e = engines_[old];
    e.rank = rank;
    if (e.conn) e.conn->rank = rank;
    renumbered[rank++] = e;
  }
  engines_ = std::move(renumbered);
  with_engines_.rebase(world_);
  growing_ = missing;
  spawned_ids_.clear();
  for (int i = 0; i < missing; ++i) spawned_ids_[rank + i] = next_id_++;  // after the live ones
  grow_deadline_ = Clock::now() + kGrowWithin;
}

void Hub::greet_new_engine() {
  ++replaced_;
  if (--growing_ > 0) return;
  write_profile();
  log_line("cluster '" + profile_.name + "': " + std::to_string(live_ranks().size()) +
           " engines wait again");
  grant_next();
}

}  // namespace ranks::detail::cluster
