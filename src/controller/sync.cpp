// detail/sync.hpp's one call on an object in shared memory, from wherever it is made: on the
// object's own memory where this process maps it (sleeping on a futex while it must wait, and
// keeping the process moving meanwhile), else by the controller, which makes it on its memory.

#include "ranks/detail/sync.hpp"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "controller/controller.hpp"
#include "engine/engine.hpp"
#include "objects/mapped_objects.hpp"
#include "objects/sync_object.hpp"
#include "ranks/error.hpp"
#include "transport/shared_memory.hpp"

namespace ranks::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A small number for each thread of this process (its place in a lock word's holder).
std::uint32_t this_thread() {
  static std::atomic<std::uint32_t> next{0};
  thread_local const std::uint32_t mine = next.fetch_add(1);
  return mine;
}

[[noreturn]] void throw_step(objects::Step& step, const char* who) {
  ObjectAnswer a;
  a.status = step.status;
  a.text = std::move(step.text);
  throw_answer(a, who);
}

// While a call waits here: what comes for the engine is taken in, or the controller's progress
// driven, every millisecond.
void keep_moving(Controller* controller) {
  if (controller != nullptr) {
    (void)controller->drive();
  } else {
    keep_engine_moving();
  }
}

SyncResult here(objects::SyncState& state, SyncCall call, const objects::Party& party,
                Controller* controller, const char* who) {
  std::optional<Clock::time_point> deadline;
  if (call.timeout_ns >= 0) deadline = Clock::now() + std::chrono::nanoseconds(call.timeout_ns);
  // The program's thread drives the controller's progress while it waits (calls of processes
  // that cannot map the object wait there for it); an engine takes in what came, now and then.
  const std::chrono::microseconds kSlice(controller != nullptr ? 50 : 1000);
  constexpr int kYields = 50;
  auto moved = Clock::now();
  bool again = false;
  while (true) {
    objects::Step step = state.attempt(call, party, again);
    again = true;
    while (step.is == objects::Step::Is::kWait && deadline && Clock::now() >= *deadline) {
      step = state.timed_out(call, party);
      if (step.is == objects::Step::Is::kWait)
        transport::futex_wait(*step.word, step.seen, std::chrono::microseconds(100));
    }
    if (step.is == objects::Step::Is::kDone) return std::move(step.result);
    if (step.is == objects::Step::Is::kFailed) throw_step(step, who);
    if (state.closed()) throw Closed(std::string(who) + ": the program that made it has ended");
    // The change usually comes within microseconds (a lock held for a few instructions, the
    // last party of a barrier on its way): yield the core to whoever brings it a few times
    // before sleeping, which costs both sides a system call and a switch.
    bool changed = false;
    for (int i = 0; i < kYields && !changed; ++i) {
      sched_yield();
      changed = step.word->load(std::memory_order_relaxed) != step.seen;
    }
    if (changed) continue;
    auto slice = kSlice;
    if (deadline)
      slice = std::min(slice, std::chrono::duration_cast<std::chrono::microseconds>(
                                  *deadline - Clock::now() + std::chrono::microseconds(1)));
    if (step.sleepers != nullptr) step.sleepers->fetch_add(1);
    transport::futex_wait(*step.word, step.seen, slice);
    if (step.sleepers != nullptr) step.sleepers->fetch_sub(1);
    if (const auto now = Clock::now(); now - moved >= kSlice) {
      keep_moving(controller);
      moved = now;
    }
  }
}

bool lets_others_go_on(Op op) {
  switch (op) {
    case Op::kUnlock:
    case Op::kUnlockAll:
    case Op::kEventSet:
    case Op::kNotify:
    case Op::kBarrierWait:
      return true;
    default:
      return false;
  }
}

SyncResult by_controller(const ObjectId& id, const SyncCall& call, const char* who) {
  const ObjectAnswer a = call_object(objects::sync_request(id, call, this_thread()), who);
  if (a.status != Status::kOk) throw_answer(a, who);
  return objects::sync_result(a, call);
}

}  // namespace

SyncResult sync_call(const ObjectId& id, const SyncCall& call, const char* who) {
  if (id.id == 0) throw_unnamed(who);
  if (on_engine()) {
    // What this engine maps goes at the end of the program's session.
    static const bool forgotten_at_end = (at_session_end(&objects::forget_mapped), true);
    (void)forgotten_at_end;
    objects::SyncState* state = objects::opened(id, [&] {
      ObjectRequest share = request(Op::kShare).on(id);
      call_checked(std::move(share), who);
    });
    if (state == nullptr) return by_controller(id, call, who);  // after this task's other calls
    // What this task put or sent before it lets others go on is there before they go on, as
    // Python's pipes (written before the call returns) have it.
    if (lets_others_go_on(call.op)) settle_object_calls();
    return here(*state, call, objects::engine_party(current_engine_id(), this_thread()), nullptr,
                who);
  }
  Controller& controller = the_controller(who);
  objects::SyncState* state = controller.sync_state(id);
  if (state == nullptr) return by_controller(id, call, who);  // another program's: it says so
  return here(*state, call, objects::program_party(this_thread()), &controller, who);
}

}  // namespace ranks::detail
