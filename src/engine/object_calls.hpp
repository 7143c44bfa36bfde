#pragma once

// How a task's calls on shared objects travel to the controller and back, for the engine's
// other parts that make such calls (pipe_ends.cpp).

#include <cstdint>
#include <optional>

#include "engine/answer.hpp"
#include "ranks/detail/objects.hpp"

namespace ranks::detail {

/// Sends a call to the controller and, unless it is one not to be answered, waits for its answer
/// (handling what else comes meanwhile).
ObjectAnswer object_call(Answer& answer, ObjectRequest&& r);

/// One look at what has come, from the controller and straight from other engines: the answer
/// to call `awaited` into got; an earlier call's failure kept; words for a pipe's ends applied;
/// the rest set aside for the serve loop. False if nothing came.
bool take_in(Answer& answer, std::uint64_t awaited, std::optional<ObjectAnswer>& got);

}  // namespace ranks::detail
