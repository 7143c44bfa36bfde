#pragma once

// A faster way between the controller and an engine on the same host: two rings of bytes in
// shared memory, one each way, that carry their messages. Attachments (large blocks) still
// travel by MPI, as they do without a channel, and a message too large for a ring goes by MPI
// (kViaTag) with a marker in the ring where it belongs, so that order is kept.
//
// Open MPI gives a program started on its own (a singleton) no shared memory with other jobs:
// its vader BTL needs local peers in the program's own job. Without channels, a plain program
// and the engines it spawns or attaches to talk TCP over loopback.

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "transport/shared_memory.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::transport {

class Channel {
 public:
  /// The controller's side, for the engine of rank peer in comm: makes the shared memory (a
  /// file in /dev/shm, which the engine removes once it has mapped it). Throws ranks::Error.
  static std::unique_ptr<Channel> create(MPI_Comm comm, int peer);
  /// The engine's side: maps the controller's, by name, and removes its file.
  static std::unique_ptr<Channel> open(const std::string& name, MPI_Comm comm, int peer);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  [[nodiscard]] const std::string& name() const { return memory_.name(); }

  /// Sends a message (finished here): its bytes into the ring, or waiting for room there, or
  /// by MPI with a marker in the ring when they would take more than half of it; its
  /// attachments by MPI through outbox.
  void send(Message msg, Outbox& outbox);
  /// Puts what waits into the ring, as far as there is room. True once nothing waits.
  bool flush();
  [[nodiscard]] bool idle() const { return waiting_.empty(); }
  /// Receives the next message, if one is in: its bytes from the ring (or, at a marker, by
  /// MPI), its attachments left in MPI until the decoder asks for them.
  bool try_recv(Incoming& in);
  /// Sleeps until a message comes into the ring (the writer wakes this side) or `most` has
  /// passed; at once if one is there. For the side that waits for work with nothing else to do.
  void wait(std::chrono::microseconds most);

 private:
  struct Ring;
  Channel(SharedMemory memory, bool creator, MPI_Comm comm, int peer);
  bool write_frame(const std::byte* p, std::size_t n);

  SharedMemory memory_;
  Ring* out_;  // this side writes
  Ring* in_;   // this side reads
  MPI_Comm comm_;
  int peer_;
  std::deque<Bytes> waiting_;  // frames (length and bytes) with no room in the ring yet
};

}  // namespace ranks::detail::transport
