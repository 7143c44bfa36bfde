#pragma once

// The messages between controller and engines. Every message starts with its total length, so
// that transport can split one larger than an MPI count into parts and join them again.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ranks/detail/codec.hpp"

namespace ranks::detail {

enum class Kind : std::uint32_t {
  // controller -> engine
  kTask = 1,         // run an invoker; reply kReply
  kStaticMap = 2,    // run an invoker over a chunk received by scatterv; reply by gather(v)
  kStop = 3,         // leave the serve loop; reply kStopped
  kStaticBcast = 4,  // as kStaticMap, but every engine receives the same payload by broadcast
  // engine -> controller
  kReply = 16,
  kStopped = 17,
};

/// Where a plain function lives: which loaded module, and the offset of its entry in it.
struct FunctionRef {
  std::uint32_t module = 0;
  std::uint32_t valid = 0;
  std::uint64_t offset = 0;
};

struct TaskHeader {
  std::uint64_t total = 0;  // bytes in the whole message, this header included
  Kind kind = Kind::kTask;
  std::uint32_t invoker = 0;  // index in the frozen registry
  std::uint64_t id = 0;       // chosen by the controller at dispatch, echoed in the reply
  FunctionRef fn;
  std::uint64_t count = 0;  // items in a map chunk
  std::uint64_t aux = 0;    // kStop: the exit code; kStaticMap: bytes of the scattered chunk
};

struct ReplyHeader {
  std::uint64_t total = 0;
  Kind kind = Kind::kReply;
  std::uint32_t ok = 1;
  std::uint64_t id = 0;
  std::int64_t engine = -1;
  std::int64_t failed_item = -1;  // within a chunk: the first item that threw
  std::uint64_t busy_ns = 0;      // time the engine spent running the task
  std::int64_t started_ns = 0;    // system clock of the engine, since the epoch
  std::int64_t completed_ns = 0;
};

/// What an engine gathers to the controller before its results in a static map.
struct StaticStatus {
  std::int64_t bytes = 0;
  std::int64_t failed_item = -2;  // -2: ok; else the item that threw (-1: before any item)
  std::int64_t started_ns = 0;    // system clock of the engine, since the epoch
  std::int64_t completed_ns = 0;
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

/// What a failed task reports back.
struct ErrorInfo {
  std::string type_name;
  std::string message;
};

/// Writes a header placeholder; `finish_header` fills in the total once the payload is written.
template <class Header>
std::size_t begin_header(Writer& w, const Header& h) {
  const std::size_t at = w.skip(sizeof(Header));
  std::memcpy(w.at(at), &h, sizeof(Header));
  return at;
}

template <class Header>
Header read_header(const Bytes& msg) {
  Header h;
  if (msg.size() < sizeof(Header))
    throw Error("ranks: a message shorter than its header arrived (mismatched binaries?)");
  std::memcpy(&h, msg.data(), sizeof(Header));
  return h;
}

template <class Header>
void patch_header(Bytes& msg, const Header& h) {
  std::memcpy(msg.data(), &h, sizeof(Header));
}

/// Sets the leading total-length field of a finished message.
inline void seal(Bytes& msg) {
  const std::uint64_t n = msg.size();
  std::memcpy(msg.data(), &n, sizeof n);
}

}  // namespace ranks::detail
