#pragma once

// While a part of a map runs on an engine, the engine says now and then (at most every 200 ms)
// how many of its items are done, so that the progress the controller shows (wait_interactive)
// moves as items complete rather than a whole part at a time. The clock is read about every
// 50 ms of work, counted in items: between two looks, an item costs one decrement.

#include "ranks/detail/registry.hpp"

namespace ranks::detail {

/// How a note reaches the controller: the engine's answer path.
using SendNote = void (*)(Message&&);

/// Arms ctx to send notes of its part by `send`, if it is a part of a map of more than one item.
void arm_progress_notes(InvokeContext& ctx, SendNote send);

}  // namespace ranks::detail
