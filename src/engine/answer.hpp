#pragma once

// How an engine answers its controller (through the shared-memory channel once it has one, else
// by MPI), and the messages it sets aside while a task waits for the answer to a call on a shared
// object: they are served, in order, once the task is done.

#include <mpi.h>

#include <deque>
#include <memory>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/wire.hpp"
#include "transport/channel.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

/// A message that came while a task waited, kept whole: its attachments received with it (later
/// messages and their attachments come after them).
class KeptMessage final : public AttachmentSource {
 public:
  KeptMessage() = default;
  explicit KeptMessage(transport::Incoming& in);
  void receive(void* dst, std::size_t n) override;

  Bytes data;

 private:
  std::vector<Bytes> attachments_;
  std::size_t next_ = 0;
};

struct Answer {
  MPI_Comm comm;
  transport::Outbox& outbox;
  std::unique_ptr<transport::Channel> channel;
  std::deque<KeptMessage> set_aside;  // came while a task waited; served first
  transport::Incoming incoming{};     // what a task's wait receives (object_calls.cpp)

  void send(Message msg);
  /// A message that has just come, if one has.
  bool receive(transport::Incoming& in);
  void progress();
  /// Waits until everything sent has left (the last words before leaving the serve loop).
  void drain();
};

/// How the engine serving now answers its controller (nullptr when it serves none).
Answer* serving_answer();
void set_serving_answer(Answer* a);

}  // namespace ranks::detail
