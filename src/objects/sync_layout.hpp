#pragma once

// What each object in shared memory keeps there (SyncState's memory), and the steps on a lock
// word that several kinds share: for the files that implement SyncState (sync_state.cpp,
// sync_meetings.cpp, array_state.cpp) alone.

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "objects/sync_state.hpp"
#include "transport/shared_memory.hpp"

namespace ranks::detail::objects::layout {

using Word = std::atomic<std::uint32_t>;

inline constexpr std::uint32_t kProgram =
    (1U << 22) - 1;                    // the program's process in a party's code
inline constexpr int kTracked = 4096;  // engines whose semaphore takings and barrier waits are kept
inline constexpr std::uint32_t kSlots = 1024;  // a condition's waiters at once
inline constexpr std::size_t kBody = 64;       // where an object's state begins, after the Header
inline constexpr std::size_t kData = 128;      // where an array's elements begin, after its lock

// Every object's first 64 bytes.
struct Header {
  Word closed;     // the program ended
  Word lost;       // holders lost so far
  Word lost_told;  // how many of them someone heard of (kHolderLost)
  std::atomic<std::int32_t> lost_engine;
  std::atomic<std::int32_t> lost_pid;
  std::atomic<std::int32_t> lost_signal;
  char lost_host[40];
};
static_assert(sizeof(Header) <= kBody);

// A lock: 0 when free, else its holder's code shifted left by one, and the low bit set when
// others may sleep on it (its release wakes one). An RLock's depth beside it.
struct LockWord {
  Word word;
  Word depth;
};

struct SemaphoreState {
  Word value;
  Word sleepers;
  std::uint32_t bound;  // a bounded semaphore's initial value; 0: unbounded
  std::uint32_t unused;
  std::atomic<std::int32_t> held[kTracked];  // taken minus given, per engine
};

struct EventState {
  Word flag;
  Word sleepers;
};

// A condition's waiter: 0 free, 1 waiting, 2 notified.
struct Slot {
  Word state;
  std::atomic<std::int32_t> engine;
  std::atomic<std::uint64_t> seq;  // the order of arrival
};

struct ConditionState {
  LockWord mutex;  // over the slots, held for microseconds
  std::uint64_t next;
  std::uint32_t used;  // slots ever taken: those below are looked at
  std::uint32_t unused;
  Slot slots[kSlots];
};

struct BarrierState {
  LockWord mutex;  // over count and generation, held for microseconds
  Word parties;
  Word count;
  Word generation;
  Word broken;             // why: 0 not broken, else a Broken
  Word broken_generation;  // a generation reset broke, plus one (0: none)
  Word epoch;              // changes whenever waiters should look again
  Word sleepers;
  std::atomic<std::uint64_t> users[kTracked / 64];  // engines that waited at it
};

// Why a barrier broke.
enum Broken : std::uint32_t { kNotBroken = 0, kAborted, kTimedOut, kPartyLost };

inline bool is_lock(ObjectKind k) {
  return k == ObjectKind::kLock || k == ObjectKind::kRLock || k == ObjectKind::kArray;
}

inline int engine_of(std::uint32_t word) {
  const std::uint32_t process = (word >> 1) >> 8;
  return process == 0 || process == kProgram ? -1 : static_cast<int>(process) - 1;
}

inline Step done(SyncResult r = {}) {
  Step s;
  s.result = std::move(r);
  return s;
}

inline Step ok_if(bool yes, std::int64_t value = 0) {
  SyncResult r;
  r.ok = yes;
  r.value = value;
  return done(std::move(r));
}

inline Step fail(Status status, std::string text) {
  Step s;
  s.is = Step::Is::kFailed;
  s.status = status;
  s.text = std::move(text);
  return s;
}

inline Step wait_on(Word& word, std::uint32_t seen, Word* sleepers = nullptr) {
  Step s;
  s.is = Step::Is::kWait;
  s.word = &word;
  s.seen = seen;
  s.sleepers = sleepers;
  return s;
}

// Takes l for code, or says to wait (having asked its holder to wake this one). `again`: a
// taker that slept takes it marked, since others may still sleep.
inline bool try_take(LockWord& l, std::uint32_t code, bool again, Step& wait) {
  while (true) {
    std::uint32_t w = l.word.load();
    if (w == 0) {
      if (l.word.compare_exchange_weak(w, (code << 1) | (again ? 1U : 0U))) return true;
      continue;
    }
    if ((w & 1U) != 0 || l.word.compare_exchange_weak(w, w | 1U)) {
      wait = wait_on(l.word, w | 1U);
      return false;
    }
  }
}

inline void give(LockWord& l) {
  if ((l.word.exchange(0) & 1U) != 0) transport::futex_wake(l.word, 1);
}

// Gives l back if engine e holds it; true if it did.
inline bool give_if_held_by(LockWord& l, int e) {
  std::uint32_t w = l.word.load();
  while (w != 0 && engine_of(w) == e) {
    if (l.word.compare_exchange_weak(w, 0)) {
      l.depth.store(0);
      transport::futex_wake(l.word, INT_MAX);
      return true;
    }
  }
  return false;
}

}  // namespace ranks::detail::objects::layout
