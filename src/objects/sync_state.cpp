#include "objects/sync_state.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>

#include "transport/shared_memory.hpp"

namespace ranks::detail::objects {

namespace {

using Word = std::atomic<std::uint32_t>;

constexpr std::uint32_t kProgram = (1U << 22) - 1;  // the program's process in a party's code
constexpr int kTracked = 4096;  // engines whose semaphore takings and barrier waits are kept
constexpr std::uint32_t kSlots = 1024;  // a condition's waiters at once
constexpr std::size_t kBody = 64;       // where an object's state begins, after the Header
constexpr std::size_t kData = 128;      // where an array's elements begin, after its lock

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

bool is_lock(ObjectKind k) {
  return k == ObjectKind::kLock || k == ObjectKind::kRLock || k == ObjectKind::kArray;
}

int engine_of(std::uint32_t word) {
  const std::uint32_t process = (word >> 1) >> 8;
  return process == 0 || process == kProgram ? -1 : static_cast<int>(process) - 1;
}

Step done(SyncResult r = {}) {
  Step s;
  s.result = std::move(r);
  return s;
}

Step ok_if(bool yes, std::int64_t value = 0) {
  SyncResult r;
  r.ok = yes;
  r.value = value;
  return done(std::move(r));
}

Step fail(Status status, std::string text) {
  Step s;
  s.is = Step::Is::kFailed;
  s.status = status;
  s.text = std::move(text);
  return s;
}

Step wait_on(Word& word, std::uint32_t seen, Word* sleepers = nullptr) {
  Step s;
  s.is = Step::Is::kWait;
  s.word = &word;
  s.seen = seen;
  s.sleepers = sleepers;
  return s;
}

// Takes l for code, or says to wait (having asked its holder to wake this one). `again`: a
// taker that slept takes it marked, since others may still sleep.
bool try_take(LockWord& l, std::uint32_t code, bool again, Step& wait) {
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

void give(LockWord& l) {
  if ((l.word.exchange(0) & 1U) != 0) transport::futex_wake(l.word, 1);
}

// Gives l back if engine e holds it; true if it did.
bool give_if_held_by(LockWord& l, int e) {
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

// Maps a large block of the object's memory into this process at once, rather than a page at a
// time as the loop below first touches each.
void populate(unsigned char* at, std::size_t bytes, bool writing) {
  if (bytes < (std::size_t{1} << 20)) return;
  const std::uintptr_t page = 4096;
  const auto begin = reinterpret_cast<std::uintptr_t>(at) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(at) + bytes;
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin,
                  writing ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

// Copies count elements of width bytes (1, 2, 4 or 8), each whole: no process that looks at the
// same time, nor one killed in the middle, sees an element torn.
#if defined(__x86_64__)
// One element per iteration of a string move, which the processor interrupts only between
// iterations (a signal, SIGKILL too, is taken there); as fast as memcpy for large blocks.
void copy_elements(unsigned char* to, const unsigned char* from, std::size_t count,
                   std::size_t width) {
  switch (width) {
    case 8:
      asm volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    case 4:
      asm volatile("rep movsl" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    case 2:
      asm volatile("rep movsw" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    default:
      asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // string stores may pass each other
}
#else
template <class U>
void copy_each(unsigned char* to, const unsigned char* from, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const U v =
        std::atomic_ref<U>(*reinterpret_cast<U*>(const_cast<unsigned char*>(from) + i * sizeof(U)))
            .load(std::memory_order_relaxed);
    std::atomic_ref<U>(*reinterpret_cast<U*>(to + i * sizeof(U)))
        .store(v, std::memory_order_relaxed);
  }
}
void copy_elements(unsigned char* to, const unsigned char* from, std::size_t count,
                   std::size_t width) {
  switch (width) {
    case 8:
      return copy_each<std::uint64_t>(to, from, count);
    case 4:
      return copy_each<std::uint32_t>(to, from, count);
    case 2:
      return copy_each<std::uint16_t>(to, from, count);
    default:
      return copy_each<std::uint8_t>(to, from, count);
  }
}
#endif

template <class U>
std::uint64_t add_bits(unsigned char* at, std::uint64_t operand, Number n) {
  std::atomic_ref<U> a(*reinterpret_cast<U*>(at));
  if constexpr (sizeof(U) < 4) {
    return a.fetch_add(static_cast<U>(operand));
  } else {
    if (n != Number::kFloat) return a.fetch_add(static_cast<U>(operand));
    using F = std::conditional_t<sizeof(U) == 4, float, double>;
    F add;
    std::memcpy(&add, &operand, sizeof add);
    U old = a.load();
    while (true) {
      F f;
      std::memcpy(&f, &old, sizeof f);
      f += add;
      U now;
      std::memcpy(&now, &f, sizeof now);
      if (a.compare_exchange_weak(old, now)) return old;
    }
  }
}

template <class U>
bool swap_bits(unsigned char* at, std::uint64_t& expected, std::uint64_t desired) {
  std::atomic_ref<U> a(*reinterpret_cast<U*>(at));
  U e = static_cast<U>(expected);
  const bool ok = a.compare_exchange_strong(e, static_cast<U>(desired));
  expected = e;
  return ok;
}

}  // namespace

Party program_party(std::uint32_t thread) { return {(kProgram << 8) | (thread & 0xffU), -1}; }

Party engine_party(int engine, std::uint32_t thread) {
  return {((static_cast<std::uint32_t>(engine) + 1) << 8) | (thread & 0xffU), engine};
}

std::size_t SyncState::size_of(const ObjectId& id) {
  std::size_t body = 0;
  switch (id.kind) {
    case ObjectKind::kSemaphore:
    case ObjectKind::kBoundedSemaphore:
      body = sizeof(SemaphoreState);
      break;
    case ObjectKind::kCondition:
      body = sizeof(ConditionState);
      break;
    case ObjectKind::kBarrier:
      body = sizeof(BarrierState);
      break;
    case ObjectKind::kArray:
      body = kData - kBody + id.capacity * (id.element & 0xffU);
      break;
    default:
      body = sizeof(LockWord);
  }
  const std::size_t page = 4096;
  return (kBody + body + page - 1) / page * page;
}

SyncState::SyncState(void* memory, const ObjectId& id)
    : memory_(static_cast<unsigned char*>(memory)), id_(id) {}

void SyncState::make() {
  if (id_.kind == ObjectKind::kSemaphore || id_.kind == ObjectKind::kBoundedSemaphore) {
    auto& s = at<SemaphoreState>(kBody);
    s.value.store(static_cast<std::uint32_t>(id_.capacity));
    if (id_.kind == ObjectKind::kBoundedSemaphore)
      s.bound = static_cast<std::uint32_t>(id_.capacity);
  } else if (id_.kind == ObjectKind::kBarrier) {
    at<BarrierState>(kBody).parties.store(static_cast<std::uint32_t>(id_.capacity));
  }
}

bool SyncState::closed() const { return at<Header>(0).closed.load() != 0; }

Step SyncState::attempt(SyncCall& call, const Party& p, bool again) {
  switch (call.op) {
    case Op::kAcquire:
      if (is_lock(id_.kind)) return lock_attempt(call, p, again);
      return semaphore_attempt(p);
    case Op::kUnlock:
    case Op::kUnlockAll:
      if (is_lock(id_.kind)) return unlock(call, p);
      return semaphore_release(p);
    case Op::kOwned: {
      if (!is_lock(id_.kind)) return ok_if(true, at<SemaphoreState>(kBody).value.load());
      const auto& l = at<LockWord>(kBody);
      const bool mine = (l.word.load() >> 1) == p.code;
      return ok_if(mine, mine ? std::max<std::int64_t>(1, l.depth.load()) : 0);
    }
    case Op::kHolderLost:
      return holder_lost();
    case Op::kEventSet:
    case Op::kEventClear:
    case Op::kEventIsSet:
    case Op::kEventWait:
      return event(call);
    case Op::kConditionEnter:
    case Op::kConditionWait:
    case Op::kNotify:
      return condition(call, p, again);
    case Op::kBarrierWait:
    case Op::kBarrierAbort:
    case Op::kBarrierReset:
    case Op::kBarrierState:
      return barrier(call, p, again);
    case Op::kRead:
    case Op::kWrite:
    case Op::kFetchAdd:
    case Op::kCompareExchange:
      return array(call);
    default:
      return fail(Status::kError, "a call that is not one of this object's");
  }
}

Step SyncState::lock_attempt(SyncCall& call, const Party& p, bool again) {
  auto& l = at<LockWord>(kBody);
  const bool recursive = id_.kind != ObjectKind::kLock;
  if ((l.word.load() >> 1) == p.code) {
    if (recursive) {
      l.depth.fetch_add(1);
      return ok_if(true);
    }
    if (call.timeout_ns < 0)
      return fail(Status::kError,
                  "this thread holds the Lock already, and would wait for itself for ever: a "
                  "Lock is not recursive (use ranks::RLock to take it again while holding it)");
  }
  Step wait;
  if (!try_take(l, p.code, again, wait)) return wait;
  if (recursive) l.depth.store(call.first > 0 ? static_cast<std::uint32_t>(call.first) : 1);
  return ok_if(true);
}

Step SyncState::unlock(SyncCall& call, const Party& p) {
  auto& l = at<LockWord>(kBody);
  const std::uint32_t w = l.word.load();
  const bool recursive = id_.kind != ObjectKind::kLock;
  if (w == 0)
    return fail(Status::kError, recursive ? "release of an RLock that nobody holds"
                                          : "release of a Lock that nobody holds (released "
                                            "more often than acquired)");
  std::int64_t depth = 1;
  if (recursive) {
    if ((w >> 1) != p.code)
      return fail(Status::kError,
                  "this thread does not hold the RLock: only its holder may release it");
    depth = l.depth.load();
    if (call.op == Op::kUnlock && depth > 1) {
      l.depth.store(static_cast<std::uint32_t>(depth - 1));
      return ok_if(true);
    }
    l.depth.store(0);
  }
  give(l);  // a Lock may be released by any process, as Python's may
  return ok_if(true, depth);
}

Step SyncState::semaphore_attempt(const Party& p) {
  auto& s = at<SemaphoreState>(kBody);
  std::uint32_t v = s.value.load();
  while (v > 0) {
    if (s.value.compare_exchange_weak(v, v - 1)) {
      if (p.engine >= 0 && p.engine < kTracked) s.held[p.engine].fetch_add(1);
      return ok_if(true);
    }
  }
  return wait_on(s.value, 0, &s.sleepers);
}

Step SyncState::semaphore_release(const Party& p) {
  auto& s = at<SemaphoreState>(kBody);
  std::uint32_t v = s.value.load();
  do {
    if (s.bound != 0 && v >= s.bound)
      return fail(Status::kError, "a BoundedSemaphore of " + std::to_string(s.bound) +
                                      " released more often than acquired (its value would pass " +
                                      std::to_string(s.bound) + ")");
  } while (!s.value.compare_exchange_weak(v, v + 1));
  if (p.engine >= 0 && p.engine < kTracked) s.held[p.engine].fetch_sub(1);
  if (s.sleepers.load() > 0) transport::futex_wake(s.value, 1);
  return ok_if(true);
}

Step SyncState::holder_lost() {
  auto& h = at<Header>(0);
  const std::uint32_t lost = h.lost.load();
  std::uint32_t told = h.lost_told.load();
  SyncResult r;
  if (lost == told || !h.lost_told.compare_exchange_strong(told, lost)) return done(r);
  r.engine = h.lost_engine.load();
  r.pid = h.lost_pid.load();
  r.signal = h.lost_signal.load();
  r.host.assign(h.lost_host, strnlen(h.lost_host, sizeof h.lost_host));
  return done(std::move(r));
}

Step SyncState::event(SyncCall& call) {
  auto& e = at<EventState>(kBody);
  switch (call.op) {
    case Op::kEventSet:
      e.flag.store(1);
      if (e.sleepers.load() > 0) transport::futex_wake(e.flag, INT_MAX);
      return ok_if(true);
    case Op::kEventClear:
      e.flag.store(0);
      return ok_if(true);
    case Op::kEventIsSet:
      return ok_if(e.flag.load() != 0);
    default:
      if (e.flag.load() != 0) return ok_if(true);
      return wait_on(e.flag, 0, &e.sleepers);
  }
}

Step SyncState::condition(SyncCall& call, const Party& p, bool again) {
  auto& c = at<ConditionState>(kBody);
  if (call.op == Op::kConditionWait) {
    if (call.first >= kSlots) return fail(Status::kError, "no such waiter of the condition");
    Slot& s = c.slots[call.first];
    const std::uint32_t state = s.state.load();
    if (state == 1) return wait_on(s.state, 1);
    s.state.store(0);
    return ok_if(state == 2);
  }
  Step wait;
  if (!try_take(c.mutex, p.code, again, wait)) return wait;
  Step out;
  if (call.op == Op::kConditionEnter) {
    std::uint32_t i = 0;
    while (i < kSlots && c.slots[i].state.load() != 0) ++i;
    if (i == kSlots) {
      out = fail(Status::kError, "more than " + std::to_string(kSlots) +
                                     " processes and threads wait on one Condition at once");
    } else {
      c.slots[i].engine.store(p.engine);
      c.slots[i].seq.store(c.next++);
      c.slots[i].state.store(1);
      c.used = std::max(c.used, i + 1);
      out = ok_if(true, i);
    }
  } else {  // kNotify: the first `first` to have come, in the order they came
    std::int64_t woken = 0;
    for (; woken < static_cast<std::int64_t>(call.first); ++woken) {
      Slot* oldest = nullptr;
      for (std::uint32_t i = 0; i < c.used; ++i) {
        Slot& s = c.slots[i];
        if (s.state.load() == 1 && (oldest == nullptr || s.seq.load() < oldest->seq.load()))
          oldest = &s;
      }
      if (oldest == nullptr) break;
      oldest->state.store(2);
      transport::futex_wake(oldest->state, 1);
    }
    out = ok_if(true, woken);
  }
  give(c.mutex);
  return out;
}

Step SyncState::barrier(SyncCall& call, const Party& p, bool again) {
  auto& b = at<BarrierState>(kBody);
  if (call.op == Op::kBarrierState) {
    SyncResult r;
    r.bits = b.broken.load();
    r.value = r.bits != 0 ? 0 : b.count.load();
    return done(std::move(r));
  }
  // A waiter that arrived (count: its index plus one; expected: its generation) looks again.
  if (call.op == Op::kBarrierWait && call.count != 0) {
    const std::uint32_t epoch = b.epoch.load();
    const auto g = static_cast<std::uint32_t>(call.expected);
    if (b.generation.load() != g) {
      if (b.broken_generation.load() == g + 1)
        return fail(Status::kBroken, "the barrier was reset while this party waited at it");
      return ok_if(true, static_cast<std::int64_t>(call.count - 1));
    }
    if (b.broken.load() != kNotBroken) return fail(Status::kBroken, broken_why());
    return wait_on(b.epoch, epoch, &b.sleepers);
  }
  Step wait;
  if (!try_take(b.mutex, p.code, again, wait)) return wait;
  Step out = ok_if(true);
  bool wake = true;
  if (call.op == Op::kBarrierAbort) {
    b.broken.store(kAborted);
  } else if (call.op == Op::kBarrierReset) {
    if (b.count.load() > 0 && b.broken.load() == 0) {
      b.broken_generation.store(b.generation.load() + 1);
      b.generation.fetch_add(1);
    }
    b.count.store(0);
    b.broken.store(0);
  } else if (b.broken.load() != kNotBroken) {
    out = fail(Status::kBroken, broken_why());
    wake = false;
  } else {
    if (p.engine >= 0 && p.engine < kTracked)
      b.users[p.engine / 64].fetch_or(std::uint64_t{1} << (p.engine % 64));
    const std::uint32_t index = b.count.fetch_add(1);
    if (index + 1 >= b.parties.load()) {
      b.count.store(0);
      b.generation.fetch_add(1);
      out = ok_if(true, index);
    } else {
      call.count = index + 1;
      call.expected = b.generation.load();
      out = wait_on(b.epoch, b.epoch.load(), &b.sleepers);
      wake = false;
    }
  }
  if (wake) b.epoch.fetch_add(1);
  give(b.mutex);
  if (wake) transport::futex_wake(b.epoch, INT_MAX);
  return out;
}

std::string SyncState::broken_why() const {
  auto& b = at<BarrierState>(kBody);
  std::string why = "the barrier is broken: ";
  switch (b.broken.load()) {
    case kAborted:
      why += "abort() was called";
      break;
    case kTimedOut:
      why += "a wait at it timed out";
      break;
    default: {
      const auto& h = at<Header>(0);
      why += "a party was lost (engine " + std::to_string(h.lost_engine.load()) + ", pid " +
             std::to_string(h.lost_pid.load()) + ", signal " +
             std::to_string(h.lost_signal.load()) + ")";
    }
  }
  return why + "; reset() makes it usable again";
}

Step SyncState::barrier_timed_out(SyncCall& call, const Party& p) {
  auto& b = at<BarrierState>(kBody);
  Step wait;
  if (!try_take(b.mutex, p.code, true, wait)) return wait;
  const bool released = b.generation.load() != static_cast<std::uint32_t>(call.expected);
  if (!released) {
    b.broken.store(kTimedOut);
    b.epoch.fetch_add(1);
  }
  give(b.mutex);
  if (released) return barrier(call, p, true);
  transport::futex_wake(b.epoch, INT_MAX);
  return fail(Status::kBroken,
              "the wait timed out, which breaks the barrier for every party waiting at it");
}

Step SyncState::timed_out(SyncCall& call, const Party& p) {
  switch (call.op) {
    case Op::kConditionWait: {
      auto& c = at<ConditionState>(kBody);
      Step wait;
      if (!try_take(c.mutex, p.code, true, wait)) return wait;
      Slot& s = c.slots[call.first];
      const bool notified = s.state.load() == 2;
      s.state.store(0);
      give(c.mutex);
      return ok_if(notified);
    }
    case Op::kBarrierWait:
      return call.count == 0 ? fail(Status::kBroken, "the wait timed out")
                             : barrier_timed_out(call, p);
    default:
      return ok_if(false);
  }
}

Step SyncState::array(SyncCall& call) {
  const std::size_t width = id_.element & 0xffU;
  const std::uint64_t n = id_.capacity;
  const std::uint64_t count =
      call.op == Op::kRead || call.op == Op::kWrite ? call.count : std::uint64_t{1};
  if (call.first > n || count > n - call.first)
    return fail(Status::kError, "elements " + std::to_string(call.first) + ".." +
                                    std::to_string(call.first + count) +
                                    " (end excluded) are outside the array of " +
                                    std::to_string(n));
  unsigned char* at = memory_ + kData + call.first * width;
  if (call.op == Op::kRead || call.op == Op::kWrite) {
    const bool reading = call.op == Op::kRead;
    const unsigned char* from = reading ? at : static_cast<const unsigned char*>(call.in);
    unsigned char* to = reading ? static_cast<unsigned char*>(call.out) : at;
    populate(at, count * width, !reading);
    if (word_sized(width)) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      copy_elements(to, from, count, width);
    } else {  // the caller holds the array's lock
      std::memcpy(to, from, count * width);
    }
    return ok_if(true);
  }
  SyncResult r;
  if (call.op == Op::kFetchAdd) {
    const auto number = static_cast<Number>(id_.element >> 8);
    if (number == Number::kNone)
      return fail(Status::kError, "fetch_add on elements that are not numbers");
    switch (width) {
      case 1:
        r.bits = add_bits<std::uint8_t>(at, call.operand, number);
        break;
      case 2:
        r.bits = add_bits<std::uint16_t>(at, call.operand, number);
        break;
      case 4:
        r.bits = add_bits<std::uint32_t>(at, call.operand, number);
        break;
      default:
        r.bits = add_bits<std::uint64_t>(at, call.operand, number);
    }
    return done(std::move(r));
  }
  std::uint64_t current = call.expected;
  switch (width) {
    case 1:
      r.ok = swap_bits<std::uint8_t>(at, current, call.operand);
      break;
    case 2:
      r.ok = swap_bits<std::uint16_t>(at, current, call.operand);
      break;
    case 4:
      r.ok = swap_bits<std::uint32_t>(at, current, call.operand);
      break;
    case 8:
      r.ok = swap_bits<std::uint64_t>(at, current, call.operand);
      break;
    default:
      return fail(Status::kError, "compare_exchange of elements larger than 8 bytes");
  }
  r.bits = current;
  return done(std::move(r));
}

void SyncState::note_lost(const LostEngine& e) {
  auto& h = at<Header>(0);
  h.lost_engine.store(e.id);
  h.lost_pid.store(e.pid);
  h.lost_signal.store(e.signal);
  std::memset(h.lost_host, 0, sizeof h.lost_host);
  std::memcpy(h.lost_host, e.host.data(), std::min(e.host.size(), sizeof h.lost_host));
  h.lost.fetch_add(1);
}

void SyncState::recover(const LostEngine& e) {
  switch (id_.kind) {
    case ObjectKind::kLock:
    case ObjectKind::kRLock:
    case ObjectKind::kArray: {
      auto& l = at<LockWord>(kBody);
      if (engine_of(l.word.load()) != e.id) return;
      note_lost(e);  // before it is given back: its next holder finds it noted
      if (!give_if_held_by(l, e.id)) at<Header>(0).lost.fetch_sub(1);
      return;
    }
    case ObjectKind::kSemaphore:
    case ObjectKind::kBoundedSemaphore: {
      auto& s = at<SemaphoreState>(kBody);
      if (e.id < 0 || e.id >= kTracked || s.held[e.id].load() <= 0) return;
      note_lost(e);
      const std::int32_t held = s.held[e.id].exchange(0);
      if (held > 0) s.value.fetch_add(static_cast<std::uint32_t>(held));
      transport::futex_wake(s.value, INT_MAX);
      return;
    }
    case ObjectKind::kCondition: {
      auto& c = at<ConditionState>(kBody);
      give_if_held_by(c.mutex, e.id);
      for (std::uint32_t i = 0; i < kSlots; ++i)
        if (c.slots[i].state.load() != 0 && c.slots[i].engine.load() == e.id)
          c.slots[i].state.store(0);
      return;
    }
    case ObjectKind::kBarrier: {
      auto& b = at<BarrierState>(kBody);
      give_if_held_by(b.mutex, e.id);
      if (e.id < 0 || e.id >= kTracked ||
          (b.users[e.id / 64].load() & (std::uint64_t{1} << (e.id % 64))) == 0)
        return;
      note_lost(e);
      b.broken.store(kPartyLost);
      b.epoch.fetch_add(1);
      transport::futex_wake(b.epoch, INT_MAX);
      return;
    }
    default:
      return;
  }
}

void SyncState::close() {
  at<Header>(0).closed.store(1);
  switch (id_.kind) {
    case ObjectKind::kSemaphore:
    case ObjectKind::kBoundedSemaphore:
      transport::futex_wake(at<SemaphoreState>(kBody).value, INT_MAX);
      break;
    case ObjectKind::kEvent:
      transport::futex_wake(at<EventState>(kBody).flag, INT_MAX);
      break;
    case ObjectKind::kCondition: {
      auto& c = at<ConditionState>(kBody);
      transport::futex_wake(c.mutex.word, INT_MAX);
      for (std::uint32_t i = 0; i < c.used; ++i) transport::futex_wake(c.slots[i].state, INT_MAX);
      break;
    }
    case ObjectKind::kBarrier: {
      auto& b = at<BarrierState>(kBody);
      b.epoch.fetch_add(1);
      transport::futex_wake(b.mutex.word, INT_MAX);
      transport::futex_wake(b.epoch, INT_MAX);
      break;
    }
    default:
      transport::futex_wake(at<LockWord>(kBody).word, INT_MAX);
  }
}

}  // namespace ranks::detail::objects
