#include "engine/answer.hpp"

#include <chrono>
#include <cstring>
#include <string>

#include "ranks/error.hpp"

namespace ranks::detail {

namespace {
Answer* g_answer = nullptr;
}  // namespace

Answer* serving_answer() { return g_answer; }
void set_serving_answer(Answer* a) { g_answer = a; }

KeptMessage::KeptMessage(transport::Incoming& in)
    : data(std::move(in.data)), attachments_(in.receive_rest()) {}

void KeptMessage::receive(void* dst, std::size_t n) {
  if (next_ >= attachments_.size() || attachments_[next_].size() != n)
    throw Error(
        "a kept message's attachment does not match what its reader expects (corrupt "
        "message)");
  std::memcpy(dst, attachments_[next_].data(), n);
  ++next_;
}

void Answer::send(Message msg) {
  if (channel) {
    channel->send(std::move(msg), outbox);
  } else {
    outbox.send(comm, 0, std::move(msg));
  }
}

bool Answer::receive(transport::Incoming& in) {
  return channel ? channel->try_recv(in) : transport::try_recv(comm, 0, in);
}

void Answer::progress() {
  outbox.progress();
  if (channel) channel->flush();
}

void Answer::drain() {
  transport::Backoff backoff(std::chrono::microseconds(100));
  while (channel && !channel->flush()) backoff.pause();
  outbox.drain();
}

}  // namespace ranks::detail
