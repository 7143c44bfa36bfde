#pragma once

// Messages between a program and engines through a started cluster's hub, where MPI cannot
// connect the two (the engines span hosts): on the program's door connection, a relayed frame
// (door.hpp) carries one message as transport sends it, with its trailer, then its attachments.
// The hub passes it on over the cluster's own MPI, and the engines' replies back the same way.

#include <cstdint>
#include <string>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail::cluster {

/// Writes a finished message (transport::finish) and its attachments as one relayed frame for
/// `rank`, blocking until the socket took it all. Throws ranks::Error if the connection broke.
void send_relayed(int fd, int rank, const Bytes& wire, const std::vector<Attachment>& attachments);

/// A relayed message taken apart: its bytes (trailer removed) and its attachments, which a
/// Reader receives from here as it would from MPI.
class Relayed final : public AttachmentSource {
 public:
  /// Splits a relayed frame's body. Throws ranks::Error if it is malformed.
  explicit Relayed(std::string body);
  void receive(void* dst, std::size_t n) override;
  [[nodiscard]] AttachmentSource* attachments() { return this; }
  Bytes data;
  /// The message finished again, attachments pointing into this object (for a hub to send on).
  [[nodiscard]] Message as_message() const;

 private:
  std::string body_;
  std::vector<std::uint64_t> sizes_;
  std::size_t at_ = 0;  // where the next attachment starts in body_
  std::size_t next_ = 0;
  std::size_t attachments_at_ = 0;
};

}  // namespace ranks::detail::cluster
