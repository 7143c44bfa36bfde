#pragma once

// The engine's side of the registry, and what identifies a binary at start-up.

#include <cstdint>
#include <string>

#include "ranks/detail/registry.hpp"

namespace ranks::detail {

/// Sorts the table and snapshots the loaded modules; call once, before MPI starts.
void freeze_registry();
/// The invoker for a wire id, or nullptr if the id names none this binary can vouch for.
InvokeFn find_invoker(std::uint32_t id);
/// The readable type name of the task type with this wire id.
const char* task_name(std::uint32_t id);
/// The address a FunctionRef names, checked to lie in executable code of the same module;
/// nullptr if it does not.
const void* resolve_function(const FunctionRef& ref);

/// What must match between controller and engines: the executable and the task table.
struct Identity {
  std::uint64_t hash = 0;  // build id (or file contents), task names, modules
  char exe[200] = {};      // for the message when they differ
  char host[64] = {};      // where the rank runs, and its pid: to watch engines on this host
  std::int32_t pid = 0;
};
Identity identity();
/// The path of this program's binary.
std::string self_exe();

}  // namespace ranks::detail
