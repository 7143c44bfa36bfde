#pragma once

/// @file
/// ranks::serve_dashboard: a live page of the running program.

#include <string>

namespace ranks {

/// Serves the live dashboard of this program until it ends, and returns its address
/// ("http://127.0.0.1:8787/"): a page, and its JSON at /api/status, showing the engines (host,
/// pid, alive, busy or idle, tasks run, resident memory), the tasks of the last minute, each
/// call in flight with its progress, the engines lost and the shared objects. `at` is a port
/// ("8787", on loopback: a login node is shared, reach it with `ssh -L`) or "ADDRESS:PORT"
/// ("0.0.0.0:8787": every address of this host); port 0 takes any free one. The same as running
/// the program with `RANKS_DASHBOARD=at`. Call it on the controller inside ranks::run; throws
/// ranks::Error if it cannot listen there, or if the dashboard is served already.
///
/// @code
/// ranks::run(argc, argv, [] {
///   std::cout << "dashboard: " << ranks::serve_dashboard("8787") << '\n';
///   ranks::Pool pool;
///   pool.map(slow_square, in);
/// });
/// @endcode
std::string serve_dashboard(const std::string& at = "0");

}  // namespace ranks
