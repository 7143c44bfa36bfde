#include "objects/sync_object.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ranks::detail::objects {

namespace {

// A call's fields after its op, as they travel (in the request's a; a write's elements in b).
struct CallWire {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  std::uint64_t operand = 0;
  std::uint64_t expected = 0;
  std::uint32_t thread = 0;
  std::uint32_t unused = 0;
};

// An answer's fields besides its value (in its data; a read's elements after them).
struct ResultWire {
  std::uint64_t bits = 0;
  std::uint32_t ok = 0;
  std::uint32_t unused = 0;
};

std::size_t width_of(const ObjectId& id) { return id.element & 0xffU; }

}  // namespace

ObjectRequest sync_request(const ObjectId& id, const SyncCall& call, std::uint32_t thread) {
  ObjectRequest r = request(call.op).on(id).waiting(call.timeout_ns);
  const CallWire w{call.first, call.count, call.operand, call.expected, thread, 0};
  r.a.resize(sizeof w);
  std::memcpy(r.a.data(), &w, sizeof w);
  if (call.op == Op::kWrite) {
    const auto* in = static_cast<const std::byte*>(call.in);
    r.b.assign(in, in + call.count * width_of(id));
  }
  return r;
}

SyncResult sync_result(const ObjectAnswer& a, const SyncCall& call) {
  SyncResult r;
  r.value = a.value;
  r.lost = a.lost;
  ResultWire w;
  if (a.data.size() >= sizeof w) {
    std::memcpy(&w, a.data.data(), sizeof w);
    if (call.op == Op::kRead)
      std::memcpy(call.out, a.data.data() + sizeof w, a.data.size() - sizeof w);
  }
  r.ok = w.ok != 0;
  r.bits = w.bits;
  return r;
}

bool SyncObject::answer_step(const Caller& to, Step&& step) {
  if (step.is == Step::Is::kWait) return false;
  if (step.is == Step::Is::kFailed) {
    answer(to, failed(step.status, std::move(step.text)));
    return true;
  }
  ObjectAnswer a;
  a.value = step.result.value;
  a.lost = std::move(step.result.lost);
  const ResultWire w{step.result.bits, step.result.ok ? 1U : 0U, 0};
  a.data.resize(sizeof w);
  std::memcpy(a.data.data(), &w, sizeof w);
  answer(to, std::move(a));
  return true;
}

void SyncObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point now) {
  if (r.op == Op::kShare) return ok(caller);  // made when this object was (ObjectServer::find)
  CallWire w;
  if (r.a.size() != sizeof w) return answer(caller, failed(Status::kError, "a malformed call"));
  std::memcpy(&w, r.a.data(), sizeof w);
  SyncCall call;
  call.op = r.op;
  call.timeout_ns = r.timeout_ns;
  call.first = w.first;
  call.count = w.count;
  call.operand = w.operand;
  call.expected = w.expected;
  const std::size_t width = width_of(state_.id());
  if (r.op == Op::kWrite) {
    if (w.count > r.b.size() / std::max<std::size_t>(width, 1))
      return answer(caller, failed(Status::kError, "a write with fewer elements than it says"));
    call.in = r.b.data();
  }
  const Party party =
      caller.local ? program_party(w.thread) : engine_party(caller.engine, w.thread);
  const std::uint64_t n = state_.id().capacity;
  if (r.op == Op::kRead && w.first <= n && w.count <= n - w.first) {
    // The elements follow the answer's fields (a read never waits, nor fails within bounds).
    ObjectAnswer a;
    const ResultWire done{0, 1, 0};
    a.data.resize(sizeof done + w.count * width);
    std::memcpy(a.data.data(), &done, sizeof done);
    call.out = a.data.data() + sizeof done;
    (void)state_.attempt(call, party, false);
    return answer(caller, std::move(a));
  }
  if (answer_step(caller, state_.attempt(call, party, false))) return;
  if (state_.closed())
    return answer(caller, failed(Status::kClosed, "the program that made it has ended"));
  std::optional<Clock::time_point> deadline;
  if (call.timeout_ns >= 0) deadline = now + std::chrono::nanoseconds(call.timeout_ns);
  waiting_.push_back({std::move(caller), call, party, deadline});
}

void SyncObject::expire(Clock::time_point now) {
  std::vector<Waiter> still;
  for (Waiter& w : waiting_) {
    Step step = state_.attempt(w.call, w.party, true);
    if (step.is == Step::Is::kWait && w.deadline && *w.deadline <= now)
      step = state_.timed_out(w.call, w.party);
    if (!answer_step(w.caller, std::move(step))) still.push_back(std::move(w));
  }
  waiting_ = std::move(still);
}

void SyncObject::lose(const LostEngine& e) {
  std::erase_if(waiting_,
                [&](const Waiter& w) { return !w.caller.local && w.caller.engine == e.id; });
}

void SyncObject::end() {
  for (Waiter& w : waiting_)
    answer(w.caller, failed(Status::kClosed, "the program that made it has ended"));
  waiting_.clear();
}

}  // namespace ranks::detail::objects
