#pragma once

// Lines on stderr: what the job's user must see (a crash, a refused engine, a failed callback).

#include <string_view>

namespace ranks::detail {

/// Writes "ranks: ", text and a newline to stderr in one write, so that lines of several ranks
/// sharing a terminal do not interleave. A text that starts with "ranks: " (a ranks::Error's
/// what()) keeps its one prefix.
void log_line(std::string_view text);
/// text without a leading "ranks: ".
std::string_view unprefixed(std::string_view text);

}  // namespace ranks::detail
