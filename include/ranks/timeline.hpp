#pragma once

/// @file
/// ranks::record_timeline: where the run's time went, task by task.

#include <string>

namespace ranks {

/// Records every task of this run from now on (engine, host, start, end, the call it belongs
/// to, ok or failed, attempt) into the file at `path`, written when the program ends, in the
/// Chrome trace event JSON that Perfetto (ui.perfetto.dev) and chrome://tracing open: one track
/// per engine, grouped by host. `ranks timeline FILE -o PNG` draws it as a Gantt chart with
/// each engine's busy fraction. The same as running the program with `RANKS_TIMELINE=path`.
/// Call it on the controller inside ranks::run; throws ranks::Error if the file cannot be
/// written, or if a timeline to another file is being recorded.
///
/// @code
/// ranks::run(argc, argv, [] {
///   ranks::record_timeline("run.json");
///   ranks::Pool pool;
///   pool.map(square, in);
/// });  // run.json is complete here
/// @endcode
void record_timeline(const std::string& path);

}  // namespace ranks
