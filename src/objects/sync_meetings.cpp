// SyncState's conditions and barriers: where processes wait for each other.

#include <algorithm>
#include <climits>
#include <string>

#include "objects/sync_layout.hpp"
#include "objects/sync_state.hpp"
#include "transport/shared_memory.hpp"

namespace ranks::detail::objects {

using namespace layout;

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

}  // namespace ranks::detail::objects
