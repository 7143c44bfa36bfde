#pragma once

// The objects that live in shared memory (locks, events, conditions, barriers, values and arrays)
// as the header-only API sees them: one call, made where the handle is used. On the controller's
// host the caller does it on its own mapping of the object; elsewhere the controller does it on
// its behalf (src/controller/sync.cpp, src/objects/sync_state.hpp).

#include <cstdint>
#include <string>
#include <type_traits>

#include "ranks/detail/objects.hpp"

namespace ranks::detail {

/// What kind of number an array's elements are, for fetch_add (none: it is refused).
enum class Number : std::uint32_t { kNone = 0, kSigned, kUnsigned, kFloat };

/// An array's element as its handle describes it (ObjectId::element).
template <class T>
constexpr std::uint32_t element_of() {
  Number n = Number::kNone;
  if constexpr (std::is_floating_point_v<T>) {
    n = Number::kFloat;
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    n = std::is_signed_v<T> ? Number::kSigned : Number::kUnsigned;
  }
  return static_cast<std::uint32_t>(sizeof(T)) | (static_cast<std::uint32_t>(n) << 8);
}

/// Whether elements of this size are loaded and stored whole by one instruction (then every
/// process sees each element old or new, never torn); larger ones go under the array's lock.
constexpr bool word_sized(std::size_t size) {
  return size == 1 || size == 2 || size == 4 || size == 8;
}

/// One call on an object in shared memory. Which fields an op reads:
/// - kAcquire: timeout_ns; first: the depth to take an RLock at (a Condition's wait gives back
///   what kUnlockAll took), 0 for one.
/// - kUnlock, kUnlockAll (answers the depth it let go), kOwned, kHolderLost: nothing.
/// - kEventSet, kEventClear, kEventIsSet: nothing; kEventWait: timeout_ns.
/// - kConditionEnter (answers the waiter's place), kConditionWait: first (the place),
///   timeout_ns; kNotify: first (how many; answers how many were woken).
/// - kBarrierWait: timeout_ns (answers the arrival index); kBarrierAbort, kBarrierReset;
///   kBarrierState (answers how many wait, and whether it is broken in bits).
/// - kRead: first, count, out; kWrite: first, count, in; kFetchAdd: first, operand (answers the
///   old value's bits); kCompareExchange: first, expected, operand (the desired value).
struct SyncCall {
  Op op = Op::kAcquire;
  std::int64_t timeout_ns = -1;
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  void* out = nullptr;
  const void* in = nullptr;
  std::uint64_t operand = 0;
  std::uint64_t expected = 0;
};

/// Its answer. A misuse, a closed object (the program ended) and a broken barrier are thrown.
struct SyncResult {
  bool ok = true;          // acquired, set, swapped; false: the timeout passed
  std::int64_t value = 0;  // a place, a depth, an arrival index, a count
  std::uint64_t bits = 0;  // a value's bits (fetch_add's old one, compare_exchange's current)
  LostEngine lost;  // kHolderLost: the engine lost while it held it (id -1: none since asked)
};

/// Makes the call on the object id names, from wherever this runs. Throws ranks::Error for a
/// misuse (saying what to do), ranks::Closed once the program has ended, ranks::BrokenBarrier.
SyncResult sync_call(const ObjectId& id, const SyncCall& call, const char* who);

}  // namespace ranks::detail
