#pragma once

// The engine's side of the registry, the program's code as a started cluster's engines load it,
// and what identifies a program at start-up.

#include <cstdint>
#include <string>

#include "ranks/detail/registry.hpp"

namespace ranks::detail {

/// Snapshots the loaded modules and makes the table of every task type registered; call once,
/// before MPI starts.
void freeze_registry();
/// The invoker for a wire id, or nullptr if the id names none this program can vouch for.
InvokeFn find_invoker(std::uint32_t id);
/// The readable type name of the task type with this wire id.
const char* task_name(std::uint32_t id);
/// The address a FunctionRef names, checked to lie in executable code of a module of that
/// build; nullptr if it does not.
const void* resolve_function(const FunctionRef& ref);

/// Where the program's code is, for the engines of a started cluster to load: the shared
/// object that holds every task type (ranks_add_executable builds one).
struct ProgramCode {
  std::string path;      // empty when the program registers no task type
  std::string build_id;  // hexadecimal
  std::string problem;   // why no engine can load it (then path is empty), with what to do
};
ProgramCode program_code();
/// On an engine of a started cluster: wire ids now index the task types of the loaded module
/// with this build id (the code of the program being served). False if none is loaded.
bool use_code_module(const std::string& build_id);

/// What must match between controller and engines.
struct Identity {
  std::uint64_t hash = 0;  // see IdentityOf
  char exe[200] = {};      // for the message when they differ
  char host[64] = {};      // where the rank runs, and its pid: to watch engines on this host
  std::int32_t pid = 0;
};
enum class IdentityOf {
  kJob,   // every rank runs one binary: its build, its modules and the task table
  kCode,  // a program and a started cluster: the code module's build, ranks', the task table
};
Identity identity(IdentityOf what = IdentityOf::kJob);
/// The path of this program's binary.
std::string self_exe();

}  // namespace ranks::detail
