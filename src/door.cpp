#include "door.hpp"

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

#include "ranks/error.hpp"

namespace ranks::detail::cluster {

namespace {

using Clock = std::chrono::steady_clock;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::pair<std::string, std::string> split_door(const std::string& door) {
  const auto colon = door.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= door.size())
    throw Error("'" + door +
                "' is not a door (HOST:PORT); the profile is damaged: stop the "
                "cluster and start it again");
  return {door.substr(0, colon), door.substr(colon + 1)};
}

int from_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string key_bytes(const std::string& key_hex) {
  std::string out(kKeyBytes, '\0');
  for (std::size_t i = 0; i < kKeyBytes && 2 * i + 1 < key_hex.size(); ++i) {
    const int hi = from_hex(key_hex[2 * i]), lo = from_hex(key_hex[2 * i + 1]);
    out[i] = static_cast<char>(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo));
  }
  return out;
}

}  // namespace

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() { close(); }

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Socket listen_on(const std::string& bind_host, int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("cannot open the door: socket: ") + std::strerror(errno));
  Socket s(fd);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  if (::inet_pton(AF_INET, bind_host.c_str(), &a.sin_addr) != 1)
    throw Error("cannot open the door on '" + bind_host + "': not an IPv4 address");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0)
    throw Error("cannot open the door on " + bind_host + ": " + std::strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  set_nonblocking(fd);
  return s;
}

Socket connect_to(const std::string& door, std::chrono::milliseconds timeout) {
  const auto [host, port] = split_door(door);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw Error("cannot find the door " + door + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  Socket s(fd);
  set_nonblocking(fd);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS)
    throw Error("cannot reach the door " + door + ": " + std::strerror(errno));
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
    throw Error("the door " + door + " did not answer within " + std::to_string(timeout.count()) +
                " ms");
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) throw Error("cannot reach the door " + door + ": " + std::strerror(err));
  return s;
}

std::string greeting(const std::string& key_hex) {
  return std::string(kMagic, sizeof kMagic) + key_bytes(key_hex);
}

bool greeting_matches(const std::string& got, const std::string& key_hex) {
  const std::string want = greeting(key_hex);
  if (got.size() != want.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    diff |= static_cast<unsigned char>(got[i] ^ want[i]);
  return diff == 0;
}

void send_all(int fd, const void* data, std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k > 0) {
      p += k;
      n -= static_cast<std::size_t>(k);
      continue;
    }
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      throw Error(std::string("the door's connection broke: ") + std::strerror(errno));
    pollfd pf{fd, POLLOUT, 0};
    if (::poll(&pf, 1, remaining_ms(deadline)) <= 0 && Clock::now() >= deadline)
      throw Error("the door's peer stopped reading");
  }
}

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

std::optional<std::string> Inbox::take_greeting() {
  if (buf_.size() < kGreeting) return std::nullopt;
  std::string g = buf_.substr(0, kGreeting);
  buf_.erase(0, kGreeting);
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
  const std::string g = greeting(key);
  send_all(socket_.fd(), g.data(), g.size(), timeout);
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
