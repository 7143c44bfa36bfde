#pragma once

// This host: its name, and whether a process of it still runs.

#include <sys/types.h>

#include <string>

namespace ranks::detail {

/// This host's name.
std::string host_name();
/// Whether the process pid of this host still runs (a zombie has died: its parent has yet to
/// reap it).
bool process_alive(pid_t pid);

}  // namespace ranks::detail
