#pragma once

// The door of a started cluster: a TCP socket on its hub. Every connection opens with a
// handshake in which each side proves the profile's 256-bit key without sending it
// (handshake.hpp); then both sides send frames, a 32-bit length and that many bytes of JSON. A
// connection that does not complete the handshake and say who it is within a second is closed.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "door/handshake.hpp"
#include "transport/socket.hpp"

namespace ranks::detail::cluster {

using nlohmann::json;

inline constexpr std::uint32_t kMaxFrame = 1u << 20;

/// Sends one frame (blocking, at most timeout). Throws ranks::Error.
void send_frame(int fd, const json& message,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// A frame whose length word has this bit set relays one MPI message between a program and an
/// engine through the hub (relay.hpp); its low bits are the engine's rank.
inline constexpr std::uint32_t kRelayed = 0x80000000u;

/// A frame as it arrived: JSON text, or a relayed message.
struct Frame {
  bool relayed = false;
  int rank = 0;
  std::string body;
};

/// Bytes as they arrive on a non-blocking socket, cut into the handshake's messages and frames.
class Inbox {
 public:
  /// Reads what is there; false once the peer has closed, the stream is broken, or more than
  /// the limit waits unread (a peer that floods is cut off).
  bool fill(int fd);
  /// Lets relayed messages of any size in (a connection carrying a program's relayed work).
  void unlimit() { limit_ = ~std::size_t{0}; }
  /// The next n bytes (a handshake's message), once they are in.
  std::optional<std::string> take_bytes(std::size_t n);
  /// The next whole frame. Throws ranks::Error on a JSON frame too long.
  std::optional<Frame> take();
  /// The next whole frame, which must be JSON, parsed. Throws ranks::Error otherwise.
  std::optional<json> take_frame();

 private:
  std::string buf_;
  std::size_t limit_ = std::size_t{2} * kMaxFrame;
};

/// Reads one frame, waiting at most timeout; nullopt if the peer closed. Throws ranks::Error
/// on a timeout.
std::optional<json> receive_frame(int fd, Inbox& inbox, std::chrono::milliseconds timeout);

/// A connection to a door, past the handshake: for clients, engines and the ranks command.
class DoorClient {
 public:
  /// Connects and proves the key both ways within timeout. Throws ImpostorAtDoor
  /// (handshake.hpp) when the hub does not prove it, ranks::Error when it cannot connect.
  DoorClient(const std::string& door, const std::string& key, std::chrono::milliseconds timeout);
  /// Sends a request and waits at most timeout for the answer.
  json request(const json& message, std::chrono::milliseconds timeout);
  /// The next frame from the hub, waiting at most timeout (0: only what is there already);
  /// nullopt if none came. Throws ranks::Error when the hub has closed the connection.
  std::optional<json> poll(std::chrono::milliseconds timeout);
  void send(const json& message) { send_frame(socket_.fd(), message); }
  [[nodiscard]] int fd() const { return socket_.fd(); }
  Inbox& inbox() { return inbox_; }

 private:
  Socket socket_;
  Inbox inbox_;
};

}  // namespace ranks::detail::cluster
