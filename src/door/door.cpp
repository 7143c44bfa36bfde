#include "door/door.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "door/handshake.hpp"
#include "ranks/error.hpp"

namespace ranks::detail::cluster {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

void send_frame(int fd, const json& message, std::chrono::milliseconds timeout) {
  const std::string text = message.dump();
  const auto n = static_cast<std::uint32_t>(text.size());
  const std::uint32_t be = htonl(n);
  std::string frame(reinterpret_cast<const char*>(&be), sizeof be);
  frame += text;
  send_all(fd, frame.data(), frame.size(), timeout);
}

bool Inbox::fill(int fd) {
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      buf_.append(buf, static_cast<std::size_t>(n));
      if (buf_.size() > limit_) return false;
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

std::optional<std::string> Inbox::take_bytes(std::size_t n) {
  if (buf_.size() < n) return std::nullopt;
  std::string g = buf_.substr(0, n);
  buf_.erase(0, n);
  return g;
}

std::optional<Frame> Inbox::take() {
  if (buf_.size() < 4) return std::nullopt;
  std::uint32_t be = 0;
  std::memcpy(&be, buf_.data(), 4);
  const std::uint32_t word = ntohl(be);
  Frame f;
  if (word & kRelayed) {
    // [word][u64 length][body]: the length is of the body, a relayed message of any size.
    if (limit_ <= std::size_t{2} * kMaxFrame)
      throw Error("a relayed message arrived on a connection that may not relay");
    if (buf_.size() < 12) return std::nullopt;
    std::uint64_t n = 0;
    std::memcpy(&n, buf_.data() + 4, sizeof n);
    if (buf_.size() < 12 + n) return std::nullopt;
    f.relayed = true;
    f.rank = static_cast<int>(word & ~kRelayed);
    f.body = buf_.substr(12, n);
    buf_.erase(0, 12 + n);
    return f;
  }
  if (word > kMaxFrame) throw Error("a frame of " + std::to_string(word) + " bytes is too long");
  if (buf_.size() < 4 + word) return std::nullopt;
  f.body = buf_.substr(4, word);
  buf_.erase(0, 4 + word);
  return f;
}

std::optional<json> Inbox::take_frame() {
  auto f = take();
  if (!f) return std::nullopt;
  if (f->relayed) throw Error("a relayed message arrived where a request was expected");
  try {
    return json::parse(f->body);
  } catch (const json::exception&) {
    throw Error("a frame that is not JSON arrived");
  }
}

std::optional<json> receive_frame(int fd, Inbox& inbox, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (auto f = inbox.take_frame()) return f;
    pollfd p{fd, POLLIN, 0};
    const int left = remaining_ms(deadline);
    if (::poll(&p, 1, left) > 0) {
      if (!inbox.fill(fd)) {
        if (auto f = inbox.take_frame()) return f;
        return std::nullopt;
      }
      continue;
    }
    if (left == 0)
      throw Error("no answer from the cluster's hub within " + std::to_string(timeout.count()) +
                  " ms");
  }
}

DoorClient::DoorClient(const std::string& door, const std::string& key,
                       std::chrono::milliseconds timeout)
    : socket_(connect_to(door, timeout)) {
  prove_key_to_hub(socket_.fd(), inbox_, key, door, timeout);
}

json DoorClient::request(const json& message, std::chrono::milliseconds timeout) {
  send_frame(socket_.fd(), message, timeout);
  auto reply = receive_frame(socket_.fd(), inbox_, timeout);
  if (!reply)
    throw Error(
        "the cluster's hub closed the connection (a wrong key? the profile and the "
        "running cluster disagree: stop the cluster and start it again)");
  return *reply;
}

std::optional<json> DoorClient::poll(std::chrono::milliseconds timeout) {
  if (auto f = inbox_.take_frame()) return f;
  pollfd p{socket_.fd(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  if (!inbox_.fill(socket_.fd())) {
    if (auto f = inbox_.take_frame()) return f;
    throw Error("the cluster's hub closed the connection");
  }
  return inbox_.take_frame();
}

}  // namespace ranks::detail::cluster
