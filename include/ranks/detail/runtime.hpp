#pragma once

// The controller as the header-only API sees it: engine groups and the jobs submitted to them.
// Implemented in src/runtime.cpp; users never name anything here.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ranks/detail/job.hpp"
#include "ranks/detail/progress.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// A set of engines with its own queue (a Pool, a view).
class Group;

/// Engines for a new group: n of them (-1: every engine, spawning one per core if none).
std::shared_ptr<Group> make_group(int n, const char* who = "ranks::Pool");
/// A group of exactly these engines, in this order (they must exist). `who` names the call.
std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who);
/// The group of every engine (shared by Process and the like; spawns one per core if none).
std::shared_ptr<Group> default_group();
[[nodiscard]] int group_size(const Group& g);
[[nodiscard]] std::vector<int> group_engines(const Group& g);

/// Spawns n more engines; they join every group of all engines. Returns their ids.
std::vector<int> add_engines(int n, const char* who);
/// A Pool's options (PoolOptions): engines replaced after maxtasks tasks; lost ones replaced.
void set_group_options(Group& g, int maxtasks, bool keep_size);
/// A Pool's initializer, as a message: engines that join the group later run it first.
void set_group_init(Group& g, Bytes init);
/// Queues a dynamic job on a group; engines take its parts as they free up.
void submit(Group& g, std::shared_ptr<DynamicJob> job);
/// Queues the job on g once every state in `after` and `follow` is ready and successful, on the
/// group of the one engine that ran those of `follow` if any; otherwise fails it with
/// ranks::DependencyError naming the dependency. Waits on the controller, blocking nothing.
void submit_after(std::shared_ptr<Group> g, std::shared_ptr<DynamicJob> job,
                  std::vector<std::shared_ptr<StateBase>> after,
                  std::vector<std::shared_ptr<StateBase>> follow);
/// Sends a whole message to one engine at once (key is echoed to job->deliver).
void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key);
/// Runs a static job over the group's engines, slot i on the group's i-th engine.
void submit_static(Group& g, std::shared_ptr<StaticJob> job);
/// Drops the group's queued jobs (each is cancelled with why).
void drop_queued(Group& g, const std::exception_ptr& why);
/// Jobs queued and parts in flight for the group.
[[nodiscard]] std::size_t outstanding(const Group& g);

/// Throws ranks::Error unless this is the controller inside ranks::run. `what` names the call.
void require_controller(const char* what);
/// The started cluster whose engines the program uses, if it attached to one.
[[nodiscard]] std::optional<std::string> attached_cluster();

}  // namespace ranks::detail
