#pragma once

// TCP between processes of ranks, on any host: a started cluster's door and the engines' life
// lines. Sockets are non-blocking; the calls that wait take a timeout.

#include <chrono>
#include <cstddef>
#include <string>

namespace ranks::detail {

/// A socket, closed when it goes.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] bool open() const { return fd_ >= 0; }
  void close();

 private:
  int fd_ = -1;
};

/// Listens on bind_host (an address, "0.0.0.0" for every interface) at an ephemeral port;
/// port is set to it. Throws ranks::Error.
Socket listen_on(const std::string& bind_host, int& port);
/// Connects to "HOST:PORT" within timeout. Throws ranks::Error saying why.
Socket connect_to(const std::string& door, std::chrono::milliseconds timeout);

/// Sends n bytes (blocking, at most timeout). Throws ranks::Error if the connection broke or
/// the peer stopped reading.
void send_all(int fd, const void* data, std::size_t n, std::chrono::milliseconds timeout);

/// The milliseconds left until deadline, for poll(): never negative.
int remaining_ms(std::chrono::steady_clock::time_point deadline);

}  // namespace ranks::detail
