#pragma once

// `ranks timeline FILE -o PNG`: a Gantt chart of a run's tasks, one row per engine, drawn with
// gnuplot from the trace a program writes under RANKS_TIMELINE=FILE, and each engine's busy
// fraction printed as a table.

#include <string>

namespace ranks::cli {

struct TimelineOptions {
  std::string file;    // the trace (Chrome trace event JSON, as ranks writes it)
  std::string output;  // the PNG to write
  int width = 1200;    // pixels
  int height = 0;      // pixels; 0: from the number of engines
};

/// Reads the trace, prints the table on stdout and writes the chart; returns the exit code.
/// Throws ranks::Error, saying what to do, when the trace cannot be read or gnuplot fails.
int timeline(const TimelineOptions& o);

}  // namespace ranks::cli
