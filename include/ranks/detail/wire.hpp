#pragma once

// The messages between controller and engines, and who writes each field of their headers:
//  - total: transport, as it sends (seal);
//  - kind, invoker, fn, count, aux: the task's builder, once (write_message, write_body_message,
//    stop_message);
//  - id: the controller, when it sends the task to an engine (stamp_task_id);
//  - a reply's outcome: the engine, once the task has run.

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

enum class Kind : std::uint32_t {
  // controller -> engine
  kTask = 1,          // run an invoker; reply kReply
  kStaticMap = 2,     // run an invoker over a chunk received by scatterv; reply by gather(v)
  kStop = 3,          // leave the serve loop; reply kStopped
  kStaticBcast = 4,   // as kStaticMap, but every engine receives the same payload by broadcast
  kChannel = 5,       // from now on, messages come through the shared memory named after it
  kLifeline = 6,      // connect a life line to the controller, as the text says
  kObjectAnswer = 7,  // the answer to a kObjectCall (id: the call's number)
  kPipeWord = 8,      // what came to a pipe's end this engine listens at (pipe_inbox.hpp)
  kPipeOffer = 9,     // a pipe's items from here may go straight to the engine at the other end
  kPipeBroken = 10,   // the engine that a task sent a pipe's items to straight was lost
  kPipeRevoked = 12,  // ... let go of the end: send through the controller again
  // engine -> engine, on transport::kPipeTag
  kPipeItem = 11,  // an item sent straight to the engine that listens at the pipe's end
  kPipeRing = 13,  // the sender's later items come by the shared memory named in it
  // engine -> controller
  kReply = 16,
  kStopped = 17,
  kOutput = 18,      // what tasks printed on an engine of a started cluster: stdout, then stderr
  kProgress = 19,    // how many items of the running map part (its id) are done: a uint64
  kObjectCall = 20,  // a task's call on a shared object (a queue's put): answered kObjectAnswer
};

/// Where a plain function lives: which module (by build, so that another process that loaded
/// the same build finds it) and the offset of its entry in it. module 0: no function.
struct FunctionRef {
  std::uint64_t module = 0;
  std::uint64_t offset = 0;
};

struct TaskHeader {
  std::uint64_t total = 0;  // bytes in the whole message, this header included
  Kind kind = Kind::kTask;
  std::uint32_t invoker = 0;  // index in the frozen registry
  std::uint64_t id = 0;       // chosen by the controller at dispatch, echoed in the reply
  FunctionRef fn;
  std::uint64_t count = 0;  // items in a map chunk
  std::uint64_t aux = 0;    // kStop: the exit code; kStatic*: bytes of the scattered items
};

/// How a task went on its engine. The engine writes it once, when the task has run; it travels
/// as it is to the job that sent the task: in a reply's header (point to point), or gathered
/// before the results (static collectives).
struct Outcome {
  std::int32_t engine = -1;
  std::uint32_t ok = 1;
  std::int64_t failed_item = -1;   // within a chunk: the item that threw (-1: before any item)
  std::uint64_t busy_ns = 0;       // time the engine spent running the task
  std::int64_t started_ns = 0;     // system clock of the engine, since the epoch
  std::int64_t completed_ns = 0;   //
  std::uint64_t result_bytes = 0;  // the encoded result (or error report) that follows
  std::uint64_t rss_bytes = 0;  // the engine's resident memory, measured now and then (0: not now)
};

struct ReplyHeader {
  std::uint64_t total = 0;
  Kind kind = Kind::kReply;
  std::uint32_t unused = 0;
  std::uint64_t id = 0;  // the task's
  Outcome outcome;
};

/// A message as it leaves: its bytes, the blocks that follow it as attachments, and what keeps
/// those blocks alive until MPI is done with them.
struct Message {
  Message() = default;
  explicit Message(Bytes b) : bytes(std::move(b)) {}
  Bytes bytes;
  std::vector<Attachment> attachments;
  std::shared_ptr<const void> keep;
};

/// A task before it is cut into messages: the header that each of its messages starts with (its
/// kind, count and aux set per message), then the callable's state and arguments.
struct TaskBody {
  TaskHeader header;
  Bytes state;
};

/// Appends a header.
template <class Header>
void write_header(Writer& w, const Header& h) {
  w.raw(&h, sizeof(Header));
}

/// Writes the header into the room left for it at the start of msg (by Writer::skip).
template <class Header>
void place_header(Bytes& msg, const Header& h) {
  std::memcpy(msg.data(), &h, sizeof(Header));
}

template <class Header>
Header read_header(const Bytes& msg) {
  Header h;
  if (msg.size() < sizeof(Header))
    throw Error("a message shorter than its header arrived (mismatched binaries?)");
  std::memcpy(&h, msg.data(), sizeof(Header));
  return h;
}

/// Starts a message of `body`: its header with this kind, count and aux, then its state. The
/// caller appends the items.
inline void write_body_message(Writer& w, const TaskBody& body, Kind kind, std::uint64_t count,
                               std::uint64_t aux = 0) {
  TaskHeader h = body.header;
  h.kind = kind;
  h.count = count;
  h.aux = aux;
  write_header(w, h);
  w.raw(body.state.data(), body.state.size());
}

/// The controller's mark on a task as it goes to an engine: the id the reply will carry.
inline void stamp_task_id(Bytes& msg, std::uint64_t id) {
  std::memcpy(msg.data() + offsetof(TaskHeader, id), &id, sizeof id);
}

/// Sets the leading total-length field of a finished message (transport, as it sends).
inline void seal(Bytes& msg) {
  const std::uint64_t n = msg.size();
  std::memcpy(msg.data(), &n, sizeof n);
}

/// A message of `kind` whose body is `text` (kChannel: the channel's name; kLifeline: the
/// invitation).
inline Bytes text_message(Kind kind, const std::string& text) {
  TaskHeader h;
  h.kind = kind;
  Bytes msg;
  Writer w(msg);
  write_header(w, h);
  w.raw(text.data(), text.size());
  return msg;
}

/// The text of a message text_message made.
inline std::string message_text(const Bytes& msg) {
  const auto* text = reinterpret_cast<const char*>(msg.data() + sizeof(TaskHeader));
  return std::string(text, msg.size() - sizeof(TaskHeader));
}

/// The message that tells an engine on the controller's host to take its messages from now on
/// through the shared-memory channel of this name.
inline Bytes channel_message(const std::string& name) { return text_message(Kind::kChannel, name); }

/// The message that ends an engine's serve loop with `code` as its exit code.
inline Bytes stop_message(int code) {
  TaskHeader h;
  h.kind = Kind::kStop;
  h.aux = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
  Bytes msg;
  Writer w(msg);
  write_header(w, h);
  return msg;
}

}  // namespace ranks::detail
