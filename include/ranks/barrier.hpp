#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "ranks/synchronize.hpp"

/// @file
/// ranks::Barrier, Python's multiprocessing.Barrier.

namespace ranks {

/// Python's multiprocessing.Barrier: `parties` processes (or threads) each call wait(), and all
/// go on once the last has come; wait() returns each one's arrival index, 0 to parties - 1. A
/// broken barrier (abort(), a wait that timed out, reset() while parties wait, a party lost) throws
/// ranks::BrokenBarrier in every party that waits at it, and at every wait until reset().
///
/// @code
/// void step(ranks::Barrier b) { compute(); b.wait(); exchange(); }
/// ranks::Barrier barrier(4);     // wait() -> this arrival's index 0..3; abort(); a dead party
///                                // breaks it: ranks::BrokenBarrier in every waiter
/// @endcode
class Barrier : public detail::SyncHandle {
 public:
  /// A handle to no barrier (made when one is received as an argument): using it throws.
  Barrier() = default;
  /// A barrier for `parties` (1 to 2147483647; else ranks::Error).
  explicit Barrier(std::size_t parties)
      : SyncHandle(detail::make_object(detail::ObjectKind::kBarrier, checked(parties),
                                       "ranks::Barrier")) {}

  /// Waits until all parties have come; this one's arrival index.
  std::size_t wait() { return index(sync(detail::Op::kBarrierWait, "ranks::Barrier::wait")); }
  /// As wait; if not all have come within `timeout`, the barrier breaks (ranks::BrokenBarrier
  /// here and in every party waiting).
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout) {
    return index(
        sync(detail::Op::kBarrierWait, "ranks::Barrier::wait", detail::timeout_ns(timeout)));
  }
  /// Breaks the barrier: those waiting, and later waits, throw ranks::BrokenBarrier.
  void abort() { (void)sync(detail::Op::kBarrierAbort, "ranks::Barrier::abort"); }
  /// Makes it usable again; parties waiting at it now throw ranks::BrokenBarrier.
  void reset() { (void)sync(detail::Op::kBarrierReset, "ranks::Barrier::reset"); }
  /// How many must come (Python's parties).
  [[nodiscard]] std::size_t parties() const { return static_cast<std::size_t>(id_.capacity); }
  /// How many wait at it now.
  [[nodiscard]] std::size_t n_waiting() const {
    return static_cast<std::size_t>(sync(detail::Op::kBarrierState, "ranks::Barrier").value);
  }
  /// Whether it is broken (Python's broken).
  [[nodiscard]] bool broken() const {
    return sync(detail::Op::kBarrierState, "ranks::Barrier::broken").bits != 0;
  }

 private:
  static std::uint64_t checked(std::size_t parties) {
    if (parties == 0 || parties > 0x7fffffffU)
      throw Error("ranks::Barrier: " + std::to_string(parties) +
                  " parties; a barrier needs at least one (and at most 2147483647)");
    return parties;
  }
  static std::size_t index(const detail::SyncResult& r) {
    return static_cast<std::size_t>(r.value);
  }
};

}  // namespace ranks
