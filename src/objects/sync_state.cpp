#include "objects/sync_state.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "objects/sync_layout.hpp"
#include "transport/shared_memory.hpp"

namespace ranks::detail::objects {

using namespace layout;

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
  r.lost.id = h.lost_engine.load();
  r.lost.pid = h.lost_pid.load();
  r.lost.signal = h.lost_signal.load();
  r.lost.host.assign(h.lost_host, strnlen(h.lost_host, sizeof h.lost_host));
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
