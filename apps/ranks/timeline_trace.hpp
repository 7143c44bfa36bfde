#pragma once

// The task timeline a ranks program writes under RANKS_TIMELINE=FILE (Chrome trace event JSON,
// object form), read for `ranks timeline`: its tasks, and per engine how busy it was.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ranks::cli::trace {

// Times are microseconds from the run's start, as in the trace.
struct Task {
  double start;
  double end;
  std::uint32_t row;  // index in Trace::rows
  bool ok;
  std::uint32_t call = 0;  // index in Trace::calls
};

// A row of the chart: one engine (on one host).
struct Row {
  long engine = 0;
  std::string host;
  std::size_t tasks = 0;
  std::size_t failed = 0;
  double busy = 0;             // the engine's task time, overlaps merged
  std::optional<double> lost;  // when the engine was lost
};

struct Trace {
  std::vector<Row> rows;  // by engine id, then host
  std::vector<Task> tasks;
  std::vector<std::string> calls;   // the calls' names ("map #3"), as they first appear
  std::optional<double> run_start;  // the "run" event's
  std::optional<double> run_dur;
  std::string program;
  bool cut_short = false;      // the file ends inside the JSON: its complete events were read
  std::size_t unreadable = 0;  // task events without a number for ts or dur, left out
};

/// Reads the trace at `path`: rows sorted, their counts and busy time set, at least one task.
/// Throws ranks::Error saying what is wrong and what to do: the file is missing, empty, not
/// JSON, has no traceEvents array, or no task events.
Trace read(const std::string& path);

}  // namespace ranks::cli::trace
