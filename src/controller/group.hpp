#pragma once

// A set of engines with its own queue of dynamic jobs: a Pool's, a view's, or one engine's
// (for tasks that follow others onto the engine where those ran).

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/job.hpp"

namespace ranks::detail {

class Group : public std::enable_shared_from_this<Group> {
 public:
  /// The engines, in order. A group of every engine (`all`) or a Pool's drops those that die and
  /// takes their replacements (elastic); a group of named engines keeps them (its calls then
  /// fail with EngineLost).
  std::vector<int> engines;
  bool elastic = false;
  bool all = false;      // every engine: engines added later join it
  bool replace = false;  // spawn a replacement for each engine lost (a Pool that keeps its size)
  int maxtasks = 0;      // an engine is replaced after this many parts of the group (0: never)
  std::shared_ptr<Bytes> init;  // what an engine joining the group runs first (an initializer)
  std::deque<std::shared_ptr<DynamicJob>> queue;
  std::size_t inflight = 0;  // parts (and static slots) on engines: written by Ledger alone
};

}  // namespace ranks::detail
