#include "engine/output_capture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <stdio_ext.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace ranks::detail {

OutputCapture::OutputCapture() {
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  for (int stream = 0; stream < 2; ++stream) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) continue;
    ::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);  // the last drain must not wait for more
    saved_[stream] = ::dup(stream + 1);
    ::dup2(fds[1], stream + 1);
    ::close(fds[1]);
    read_[stream] = fds[0];
  }
  // Both streams buffered, so that take() sees in user space (no system call) whether a task
  // printed anything through them.
  std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
  std::setvbuf(stderr, nullptr, _IOFBF, 1 << 16);
  if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
  reader_ = std::thread([this] { drain(); });
}

OutputCapture::~OutputCapture() {
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  std::setvbuf(stderr, nullptr, _IONBF, 0);
  if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
  if (reader_.joinable()) reader_.join();
  for (int stream = 0; stream < 2; ++stream) {
    if (saved_[stream] >= 0) {
      ::dup2(saved_[stream], stream + 1);
      ::close(saved_[stream]);
    }
    if (read_[stream] >= 0) ::close(read_[stream]);
  }
  for (int fd : stop_)
    if (fd >= 0) ::close(fd);
}

// The thread: whatever a task prints is read at once, so that a task printing more than a
// pipe holds never blocks.
void OutputCapture::drain() {
  char buf[65536];
  while (true) {
    pollfd fds[3] = {{read_[0], POLLIN, 0}, {read_[1], POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) continue;
    for (int stream = 0; stream < 2; ++stream) {
      if (!(fds[stream].revents & (POLLIN | POLLHUP))) continue;
      reading_ = true;
      const ssize_t n = ::read(read_[stream], buf, sizeof buf);
      if (n > 0) {
        std::lock_guard<std::mutex> lk(mu_);
        got_[stream].append(buf, static_cast<std::size_t>(n));
        kept_ = true;
      }
      reading_ = false;
    }
    if (fds[2].revents & POLLIN) {
      // Stopping: what is still in the pipes goes back to the engine's own streams.
      std::lock_guard<std::mutex> lk(mu_);
      for (int stream = 0; stream < 2; ++stream) {
        ssize_t n;
        while (read_[stream] >= 0 && (n = ::read(read_[stream], buf, sizeof buf)) > 0 &&
               saved_[stream] >= 0)
          (void)!::write(saved_[stream], buf, static_cast<std::size_t>(n));
      }
      return;
    }
  }
}

bool OutputCapture::take(std::string& out, std::string& err) {
  // Nothing in the streams' buffers and nothing kept from the pipes (what was written to the
  // descriptors directly comes with a later call): no system call.
  if (__fpending(stdout) == 0 && __fpending(stderr) == 0 && !kept_) return false;
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  // Wait until the thread has read what is in the pipes: a task's output goes before its result.
  while (true) {
    pollfd fds[2] = {{read_[0], POLLIN, 0}, {read_[1], POLLIN, 0}};
    if (::poll(fds, 2, 0) <= 0) break;  // both empty (the usual case: one system call)
    std::this_thread::yield();
  }
  while (reading_) std::this_thread::yield();
  if (!kept_) return false;
  std::lock_guard<std::mutex> lk(mu_);
  kept_ = false;
  out.swap(got_[0]);
  err.swap(got_[1]);
  got_[0].clear();
  got_[1].clear();
  return !out.empty() || !err.empty();
}

}  // namespace ranks::detail
