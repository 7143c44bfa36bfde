#include "transport/shared_memory.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "ranks/error.hpp"

namespace ranks::detail::transport {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

SharedMemory SharedMemory::create(const std::string& name, std::size_t size,
                                  const std::string& what, const std::function<void(void*)>& init) {
  // Made whole under a name of its own, then given its name: whoever opens it by that name finds
  // all of it (a shorter file would fault there with SIGBUS).
  const std::string making = name + ".making";
  const int fd = ::open(making.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("cannot make " + what + " (" + name + "): " + std::strerror(errno));
  void* map = MAP_FAILED;
  // Its pages are had now (zero-filled), as Python's shared memory has them at its making: not
  // at each first touch by each process that writes it.
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err == 0) {
    map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    err = map == MAP_FAILED ? errno : 0;
  }
  ::close(fd);
  if (err == 0 && init) init(map);
  if (err == 0 && ::link(making.c_str(), name.c_str()) != 0) err = errno;
  ::unlink(making.c_str());
  if (err != 0) {
    if (map != MAP_FAILED) ::munmap(map, size);
    throw Error("cannot make " + what + " (" + name + "): " + std::strerror(err));
  }
  SharedMemory m;
  m.name_ = name;
  m.map_ = map;
  m.size_ = size;
  m.owns_file_ = true;
  return m;
}

SharedMemory SharedMemory::open(const std::string& name, std::size_t size,
                                const std::string& what) {
  const int fd = ::open(name.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + what + " " + name + ": " + std::strerror(errno));
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);
  if (map == MAP_FAILED) throw Error("cannot map " + what + " " + name + ": " + std::strerror(err));
  SharedMemory m;
  m.name_ = name;
  m.map_ = map;
  m.size_ = size;
  return m;
}

SharedMemory& SharedMemory::operator=(SharedMemory&& o) noexcept {
  if (this != &o) {
    release();
    name_ = std::move(o.name_);
    map_ = std::exchange(o.map_, nullptr);
    size_ = std::exchange(o.size_, 0);
    owns_file_ = std::exchange(o.owns_file_, false);
  }
  return *this;
}

SharedMemory::~SharedMemory() { release(); }

void SharedMemory::release() noexcept {
  if (map_ != nullptr) ::munmap(map_, size_);
  map_ = nullptr;
  if (owns_file_) ::unlink(name_.c_str());
  owns_file_ = false;
}

void SharedMemory::unlink() {
  if (!name_.empty()) ::unlink(name_.c_str());
  owns_file_ = false;
}

// The futex calls on a word in memory shared between processes (not FUTEX_PRIVATE).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                std::chrono::microseconds most) {
  const auto us = most.count();
  const timespec ts{static_cast<std::time_t>(us / 1'000'000),
                    static_cast<long>(us % 1'000'000) * 1000};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word, int n) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, n, nullptr, nullptr, 0);
}

}  // namespace ranks::detail::transport
