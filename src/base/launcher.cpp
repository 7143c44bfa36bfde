#include "base/launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>

namespace ranks::detail {

namespace {

bool is_mpirun(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name == "mpirun" || name == "mpiexec" || name == "orterun";
}

}  // namespace

std::optional<int> rank_in_launch() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* r = std::getenv(v); r && *r) return std::atoi(r);
  return std::nullopt;
}

bool launched_by_mpirun() { return is_mpirun(::getppid()); }

void end_launcher_now() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  if (launched_by_mpirun()) ::kill(::getppid(), SIGTERM);
}

void end_launcher_if_it_outlives(std::chrono::milliseconds grace) {
  const pid_t launcher = ::getppid();
  if (!is_mpirun(launcher)) return;
  // Made before the fork: the watcher, a child of a threaded process, only makes system calls.
  const std::string said = "ranks: mpirun (pid " + std::to_string(launcher) + ") still runs " +
                           std::to_string(grace.count()) +
                           " ms after the program ended, waiting for a host's report that "
                           "Open MPI never sends after a process there was killed; ending it\n";
  const std::string err = "/proc/" + std::to_string(launcher) + "/fd/2";
  const int steps = static_cast<int>(grace.count() / 100);
  const pid_t watcher = ::fork();
  if (watcher != 0) return;  // this process (or a failed fork) goes on
  ::setsid();                // out of mpirun's reach: it does not wait for this process, nor end it
  // None of this process's files stays open, stderr neither: mpirun waits for the pipes of its
  // processes' output to close. The message goes to mpirun's own stderr.
  ::close_range(0, ~0U, 0);
  const timespec step{0, 100'000'000};
  for (int i = 0; i < steps; ++i) {
    if (::kill(launcher, 0) != 0) ::_exit(0);
    ::nanosleep(&step, nullptr);
  }
  if (::kill(launcher, 0) == 0) {
    if (const int fd = ::open(err.c_str(), O_WRONLY | O_APPEND); fd >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(fd, said.data(), said.size());
      ::close(fd);
    }
    ::kill(launcher, SIGTERM);
  }
  ::_exit(0);
}

}  // namespace ranks::detail
