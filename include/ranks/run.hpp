#pragma once

#include <functional>
#include <type_traits>
#include <utility>

/// @file
/// ranks::run, the entry point, and the engine a task runs on.

namespace ranks {

namespace detail {
int run_impl(int argc, char** argv, const std::function<int()>& body);
}

/// Starts ranks. On rank 0 (the controller) runs `body`; every other rank (an engine) serves
/// tasks until the body returns. Returns, on every rank, the exit code: 0, the body's int, or
/// non-zero when the body threw (the error is printed on stderr). Launch with `mpirun -np N`, or
/// as a plain program: its engines are then those of a started cluster (`RANKS_CLUSTER=NAME`,
/// or a started "default" one), else spawned when a Pool or Client asks for them. Pools,
/// clients, processes and shared objects work only inside the body and in tasks: elsewhere they
/// throw ranks::Error.
///
/// @code
/// #include <ranks/ranks.hpp>
///
/// int main(int argc, char** argv) {
///   // The body may return void or int.
///   return ranks::run(argc, argv, [] { ranks::Pool pool; /* controller code */ });
/// }
/// @endcode
template <class Body>
int run(int argc, char** argv, Body&& body) {
  return detail::run_impl(argc, argv, [&body]() -> int {
    if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
      body();
      return 0;
    } else {
      return static_cast<int>(body());
    }
  });
}

/// Inside a task: the id of the engine running it (0, 1, ...), as IPython's engines know their
/// id. On the controller: -1. Never blocks.
///
/// @code
/// std::vector<int> who = pool.map([](int) { return ranks::engine_id(); }, in);
/// @endcode
[[nodiscard]] int engine_id() noexcept;

/// On the controller inside ranks::run: how many engines the job has now (spawned ones too).
[[nodiscard]] int engine_count();

}  // namespace ranks
