#include "door/relay.hpp"

#include <arpa/inet.h>

#include <chrono>
#include <cstring>

#include "door/door.hpp"
#include "ranks/error.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

namespace {
// Relayed data may be large and its reader busy: minutes, not seconds, before giving up.
constexpr std::chrono::minutes kRelayWithin(5);
}  // namespace

void send_relayed(int fd, int rank, const Bytes& wire, const std::vector<Attachment>& attachments) {
  std::uint64_t n = wire.size();
  for (const auto& a : attachments) n += a.size;
  char head[12];
  const std::uint32_t word = htonl(kRelayed | static_cast<std::uint32_t>(rank));
  std::memcpy(head, &word, 4);
  std::memcpy(head + 4, &n, sizeof n);
  // The head and the message's bytes in one segment (most messages are small); large
  // attachments after.
  std::string first(head, sizeof head);
  first.append(reinterpret_cast<const char*>(wire.data()), wire.size());
  send_all(fd, first.data(), first.size(), kRelayWithin);
  for (const auto& a : attachments) send_all(fd, a.data, a.size, kRelayWithin);
}

Relayed::Relayed(std::string body) : body_(std::move(body)) {
  std::uint64_t total = 0;
  if (body_.size() < sizeof total) throw Error("a relayed message too short to be one");
  std::memcpy(&total, body_.data(), sizeof total);
  if (total > body_.size()) throw Error("a relayed message shorter than it says");
  data.assign(reinterpret_cast<const std::byte*>(body_.data()),
              reinterpret_cast<const std::byte*>(body_.data()) + total);
  sizes_ = transport::strip_trailer(data);
  attachments_at_ = at_ = total;
  std::uint64_t rest = 0;
  for (auto s : sizes_) rest += s;
  if (attachments_at_ + rest != body_.size())
    throw Error("a relayed message whose attachments do not add up");
}

void Relayed::receive(void* dst, std::size_t n) {
  if (next_ >= sizes_.size() || sizes_[next_] != n)
    throw Error("a relayed message's attached data does not match what its decoder expects");
  std::memcpy(dst, body_.data() + at_, n);
  at_ += n;
  ++next_;
}

Message Relayed::as_message() const {
  Message m;
  // Its bytes again with their trailer, as they arrived: the hub does not look inside.
  const std::size_t wire = attachments_at_;
  m.bytes.assign(reinterpret_cast<const std::byte*>(body_.data()),
                 reinterpret_cast<const std::byte*>(body_.data()) + wire);
  std::size_t at = wire;
  for (auto s : sizes_) {
    m.attachments.push_back({reinterpret_cast<const std::byte*>(body_.data()) + at, s});
    at += s;
  }
  return m;
}

}  // namespace ranks::detail::cluster
