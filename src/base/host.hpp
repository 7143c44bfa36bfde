#pragma once

// This host: its name, and whether a process of it still runs, and what it holds in memory.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ranks::detail {

/// This host's name.
std::string host_name();
/// Whether the process pid of this host still runs (a zombie has died: its parent has yet to
/// reap it).
bool process_alive(pid_t pid);
/// The resident memory of process pid of this host (0: this process), in bytes; 0 if it cannot
/// be read (the process is gone). Reads /proc: a few microseconds.
std::uint64_t resident_bytes(pid_t pid = 0);

}  // namespace ranks::detail
