#pragma once

// A call on a shared object as it travels between an engine and the controller: the engine's
// request (a kObjectCall message) and the controller's answer (a kObjectAnswer message). Items of
// 64 KiB and more travel as attachments, each an MPI message of its own.

#include <cstdint>
#include <utility>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/objects.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

struct ObjectRequestHead {
  ObjectId object;
  Op op = Op::kSize;
  std::uint32_t unanswered = 0;
  std::int64_t index = 0;
  std::int64_t timeout_ns = -1;
};

struct ObjectAnswerHead {
  Status status = Status::kOk;
  std::int32_t engine = -1;
  std::int64_t value = 0;
  std::int32_t pid = 0;
  std::int32_t signal = 0;
};

/// Engine `engine`'s request number `number`, as a message whose attachments point into r's
/// items (the message keeps r alive until it is sent).
inline Message object_request_message(int engine, std::uint64_t number, ObjectRequest&& r) {
  auto kept = std::make_shared<ObjectRequest>(std::move(r));
  Message m;
  Writer w(m.bytes, &m.attachments);
  ReplyHeader h;
  h.kind = Kind::kObjectCall;
  h.id = number;
  h.outcome.engine = engine;
  write_header(w, h);
  write_header(w, ObjectRequestHead{kept->object, kept->op, kept->unanswered ? 1u : 0u, kept->index,
                                    kept->timeout_ns});
  encode(w, kept->a);
  encode(w, kept->b);
  m.keep = std::move(kept);
  return m;
}

/// The request that follows a kObjectCall's header.
inline ObjectRequest read_object_request(Reader& in) {
  ObjectRequestHead h;
  in.raw(&h, sizeof h);
  ObjectRequest r;
  r.object = h.object;
  r.op = h.op;
  r.index = h.index;
  r.timeout_ns = h.timeout_ns;
  r.unanswered = h.unanswered != 0;
  decode(in, r.a);
  decode(in, r.b);
  return r;
}

/// An answer's fields, as they travel.
inline void write_object_answer(Writer& w, const ObjectAnswer& a) {
  write_header(w, ObjectAnswerHead{a.status, a.lost.id, a.value, a.lost.pid, a.lost.signal});
  encode(w, a.data);
  encode(w, a.text);
  encode(w, a.lost.host);
}

/// What write_object_answer wrote (after a kObjectAnswer's header, for one).
inline ObjectAnswer read_object_answer(Reader& in) {
  ObjectAnswerHead h;
  in.raw(&h, sizeof h);
  ObjectAnswer a;
  a.status = h.status;
  a.lost.id = h.engine;
  a.value = h.value;
  a.lost.pid = h.pid;
  a.lost.signal = h.signal;
  decode(in, a.data);
  decode(in, a.text);
  decode(in, a.lost.host);
  return a;
}

/// The answer to request `number`, as a message to the engine that made it.
inline Message object_answer_message(std::uint64_t number, ObjectAnswer&& a) {
  auto kept = std::make_shared<ObjectAnswer>(std::move(a));
  Message m;
  Writer w(m.bytes, &m.attachments);
  TaskHeader h;
  h.kind = Kind::kObjectAnswer;
  h.id = number;
  write_header(w, h);
  write_object_answer(w, *kept);
  m.keep = std::move(kept);
  return m;
}

}  // namespace ranks::detail
