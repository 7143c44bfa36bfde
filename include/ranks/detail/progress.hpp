#pragma once

// Waiting for results: whoever waits drives the controller's progress. Implemented in
// src/progress.cpp over the controller of this run.

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>

namespace ranks::detail {

/// Waits until done() holds, driving progress meanwhile; false if the deadline passed first.
bool wait_until(const std::function<bool()>& done,
                std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

/// The lock under which jobs and results change.
std::unique_lock<std::mutex> lock();
/// Runs fn on the controller outside the lock, soon, one callback at a time (call under lock).
void post(std::function<void()> fn);

class StateBase;
/// AsyncResult::abort(): the work behind s is dropped where queued and stopped where it runs.
void abort(StateBase& s);

/// Draws a progress line on stderr (a bar on a terminal, plain lines otherwise) of `done` of
/// `total` units ("items", "tasks"); `last` ends it.
void draw_progress_bar(std::size_t done, std::size_t total, const char* units,
                       std::chrono::steady_clock::duration elapsed, bool last);

}  // namespace ranks::detail
