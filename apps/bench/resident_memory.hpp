#pragma once

// What a process holds in memory: the benchmark's footprint rows.

#include <fstream>
#include <string>

/// This process's resident memory, in MB (VmRSS of /proc/self/status). The unused argument lets
/// it run as a task on each engine.
inline double resident_mb(int = 0) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}
