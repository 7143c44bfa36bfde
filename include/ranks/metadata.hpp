#pragma once

#include <chrono>
#include <cstddef>

/// @file
/// ranks::TaskMetadata, what AsyncResult::metadata() tells of each task.

namespace ranks {

/// What is known about one task (one message to an engine: an apply, a map chunk, one target of
/// a direct-view call), like IPython's `AsyncResult.metadata`.
///
/// @code
/// auto r = pool.map_async(square, in);
/// r.wait();
/// for (const ranks::TaskMetadata& m : r.metadata())   // one per chunk
///   std::cout << "engine " << m.engine_id << ": " << m.count << " items from " << m.first << '\n';
/// @endcode
struct TaskMetadata {
  int engine_id = -1;                               ///< the engine that ran it
  std::chrono::system_clock::time_point submitted;  ///< when the controller sent it
  std::chrono::system_clock::time_point started;    ///< when the engine began running it
  std::chrono::system_clock::time_point completed;  ///< when the engine finished it
  std::size_t first = 0;  ///< for map-like calls: the first input index it covered
  std::size_t count = 1;  ///< for map-like calls: how many inputs it covered
  int attempt = 0;        ///< 0 for the first try, 1.. for retries (LoadBalancedView)
  bool ok = true;         ///< whether it succeeded
};

}  // namespace ranks
