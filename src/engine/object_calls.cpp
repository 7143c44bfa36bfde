// A task's call on a shared object: sent to the controller, which serves every object, by the
// engine's answer path; the task waits for the answer while what else comes (the next tasks,
// which the controller keeps in flight) is set aside for the serve loop.

#include "engine/object_calls.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/answer.hpp"
#include "engine/engine.hpp"
#include "engine/pipe_ends.hpp"
#include "ranks/detail/object_wire.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

namespace {

std::uint64_t g_calls = 0;             // this engine's calls so far: each answer names its call
std::uint64_t g_unanswered = 0;        // calls sent since the last that was answered, not answered
std::optional<ObjectAnswer> g_failed;  // the first of those that failed

}  // namespace

bool take_in(Answer& answer, std::uint64_t awaited, std::optional<ObjectAnswer>& got) {
  transport::Incoming& in = answer.incoming;
  if (!answer.receive(in)) return take_in_straight(answer);
  const auto h = read_header<TaskHeader>(in.data);
  switch (h.kind) {
    case Kind::kObjectAnswer: {
      Reader payload(in.data.data() + sizeof(TaskHeader), in.data.size() - sizeof(TaskHeader),
                     in.attachments());
      ObjectAnswer a = read_object_answer(payload);
      if (h.id == awaited) {
        g_unanswered = 0;  // served in order: every earlier call was served before it
        got = std::move(a);
      } else if (!g_failed) {
        g_failed = std::move(a);
      }
      break;
    }
    case Kind::kChannel:  // the controller's later messages, the answer too, come by it
      answer.channel = transport::Channel::open(message_text(in.data), answer.comm, 0);
      break;
    case Kind::kPipeWord:
    case Kind::kPipeOffer:
    case Kind::kPipeBroken:
    case Kind::kPipeRevoked:
      pipe_message_came(answer, h.kind, in.data, in.attachments());
      break;
    default:
      answer.set_aside.emplace_back(in);
  }
  return true;
}

namespace {

// Waits for the answer to call `number`, handling what else comes.
ObjectAnswer await_answer(Answer& answer, std::uint64_t number,
                          std::chrono::microseconds most = std::chrono::microseconds(1000)) {
  // The answer usually comes within microseconds: spin briefly, then back off (a get that waits
  // for an item may wait long, and must not take a core from the engine that will put it).
  transport::Backoff backoff(most);
  std::optional<ObjectAnswer> got;
  while (true) {
    if (take_in(answer, number, got)) {
      if (got) return std::move(*got);
      backoff.reset();
      continue;
    }
    answer.progress();
    transport::poll_interrupt();
    backoff.pause(!answer.outbox.empty(), answer.channel.get());
  }
}

Answer& serving(const char* what) {
  Answer* answer = serving_answer();
  if (answer == nullptr)
    throw Error(std::string(what) + " on an engine outside a task; use it inside a task");
  return *answer;
}

// A call made earlier in the task, not answered, failed: the task hears of it now.
void throw_failed() {
  if (!g_failed) return;
  const ObjectAnswer a = std::move(*g_failed);
  g_failed.reset();
  throw_answer(a, "a put or send made earlier in this task");
}

}  // namespace

ObjectAnswer object_call(Answer& answer, ObjectRequest&& r) {
  r.make_whole();  // the controller keeps the item
  const std::uint64_t number = ++g_calls;
  const bool unanswered = r.unanswered;
  const ObjectKind kind = r.object.kind;
  answer.send(object_request_message(current_engine_id(), number, std::move(r)));
  if (unanswered) {
    ++g_unanswered;
    // At most a ring ahead of the controller: a task that puts faster than the controller takes
    // waits here for room (yielding its core to the controller, which two cores share with four
    // producers) rather than piling its items up in its own memory.
    if (answer.channel && !answer.channel->idle()) {
      transport::Backoff backoff(std::chrono::microseconds(100));
      while (!answer.channel->flush()) {
        answer.outbox.progress();
        backoff.pause(true, nullptr);
      }
    }
    return {};
  }
  // A lock granted by the controller is held from then on: its taker must hear it soon, or
  // every other taker waits for it meanwhile.
  ObjectAnswer a =
      await_answer(answer, number, std::chrono::microseconds(in_shared_memory(kind) ? 50 : 1000));
  // An earlier call's failure comes first where this one failed too (it changed nothing); where
  // this one went through (a get took an item), at the next call.
  if (a.status != Status::kOk && a.status != Status::kMissing) throw_failed();
  return a;
}

void keep_engine_moving() {
  Answer* answer = serving_answer();
  if (answer == nullptr) return;
  std::optional<ObjectAnswer> got;
  while (take_in(*answer, 0, got)) {
  }
  answer->progress();
  transport::poll_interrupt();
}

ObjectAnswer engine_object_call(ObjectRequest&& r) {
  Answer& answer = serving("a shared object was used");
  throw_failed();
  if (r.object.kind == ObjectKind::kPipe) return pipe_end_call(answer, std::move(r));
  return object_call(answer, std::move(r));
}

void settle_object_calls() {
  if (g_unanswered == 0) return;
  ObjectRequest sync;
  sync.op = Op::kSync;
  const std::uint64_t number = ++g_calls;
  Answer& answer = serving("a shared object was used");
  answer.send(object_request_message(current_engine_id(), number, std::move(sync)));
  (void)await_answer(answer, number);
}

void finish_object_calls() {
  Answer* serving_now = serving_answer();
  if (serving_now != nullptr) let_go_of_pipe_ends(*serving_now);
  settle_object_calls();
  if (serving_now != nullptr) wait_for_straight_sends(*serving_now);
  throw_failed();
}

}  // namespace ranks::detail
