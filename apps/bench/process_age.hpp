#pragma once

// How long a process has run: what the start-up rows measure, from a process's own start or
// from its launcher's (mpirun's).

#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

/// Seconds from the start of the process whose /proc stat file this is, to now.
inline double seconds_since_start(const std::string& stat_path = "/proc/self/stat") {
  std::ifstream f(stat_path);
  std::string line;
  std::getline(f, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) rest >> field;  // field 22: starttime, in clock ticks
  const double start = std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9 - start;
}
