// A task's call on a shared object: sent to the controller, which serves every object, by the
// engine's answer path; the task waits for the answer while what else comes (the next tasks,
// which the controller keeps in flight) is set aside for the serve loop.

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/answer.hpp"
#include "engine/engine.hpp"
#include "ranks/detail/object_wire.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

namespace {
std::uint64_t g_calls = 0;  // this engine's calls so far: each answer names its call
}  // namespace

ObjectAnswer engine_object_call(ObjectRequest&& r) {
  Answer* answer = serving_answer();
  if (answer == nullptr)
    throw Error("a shared object was used on an engine outside a task; use it inside a task");
  const std::uint64_t number = ++g_calls;
  answer->send(object_request_message(current_engine_id(), number, std::move(r)));
  // The answer usually comes within microseconds: spin briefly, then back off (a get that waits
  // for an item may wait long, and must not take a core from the engine that will put it).
  transport::Backoff backoff(std::chrono::microseconds(1000));
  transport::Incoming in;
  while (true) {
    if (!answer->receive(in)) {
      answer->progress();
      transport::poll_interrupt();
      backoff.pause(!answer->outbox.empty(), answer->channel.get());
      continue;
    }
    backoff.reset();
    const auto h = read_header<TaskHeader>(in.data);
    if (h.kind == Kind::kObjectAnswer && h.id == number) {
      Reader payload(in.data.data() + sizeof(TaskHeader), in.data.size() - sizeof(TaskHeader),
                     in.attachments());
      return read_object_answer(payload);
    }
    if (h.kind == Kind::kChannel) {  // the controller's later messages, the answer too, come by it
      answer->channel = transport::Channel::open(message_text(in.data), answer->comm, 0);
      continue;
    }
    answer->set_aside.emplace_back(in);
  }
}

}  // namespace ranks::detail
