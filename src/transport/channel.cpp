#include "transport/channel.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include "ranks/error.hpp"

namespace ranks::detail::transport {

namespace {

// Bytes a ring holds: messages up to half of it travel through it (most are under a kilobyte;
// blocks of 64 KiB and more are attachments, which go by MPI).
constexpr std::uint64_t kCapacity = std::uint64_t{256} << 10;
constexpr std::uint64_t kMarker = ~std::uint64_t{0};  // "the next message came by MPI"

// The futex calls on a word in memory shared between processes (not FUTEX_PRIVATE).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                std::chrono::microseconds most) {
  const auto us = most.count();
  const timespec ts{static_cast<std::time_t>(us / 1'000'000),
                    static_cast<long>(us % 1'000'000) * 1000};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}
void futex_wake(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace

// One direction: a single writer advances head, a single reader tail (both count every byte
// ever passed); the bytes live at their count modulo the capacity. A reader with nothing to
// read may sleep on the bell (a futex): it says so in `asleep`, and the writer of a frame
// rings it then.
struct Channel::Ring {
  alignas(64) std::atomic<std::uint64_t> head;
  alignas(64) std::atomic<std::uint64_t> tail;
  alignas(64) std::atomic<std::uint32_t> bell;
  std::atomic<std::uint32_t> asleep;
  alignas(64) std::byte data[kCapacity];

  void copy_in(std::uint64_t at, const std::byte* p, std::size_t n) {
    const std::size_t off = at % kCapacity, first = std::min<std::size_t>(n, kCapacity - off);
    std::memcpy(data + off, p, first);
    std::memcpy(data, p + first, n - first);
  }
  void copy_out(std::uint64_t at, std::byte* p, std::size_t n) const {
    const std::size_t off = at % kCapacity, first = std::min<std::size_t>(n, kCapacity - off);
    std::memcpy(p, data + off, first);
    std::memcpy(p + first, data, n - first);
  }
};

std::unique_ptr<Channel> Channel::create(MPI_Comm comm, int peer) {
  std::random_device rd;
  const std::string name = "/dev/shm/ranks." + std::to_string(::getpid()) + "." +
                           std::to_string(peer) + "." + std::to_string(rd());
  const int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error("cannot make a shared-memory channel (" + name + "): " + std::strerror(errno));
  const std::size_t size = 2 * sizeof(Ring);
  void* map = MAP_FAILED;
  if (::ftruncate(fd, static_cast<off_t>(size)) == 0)
    map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    ::unlink(name.c_str());
    throw Error("cannot map a shared-memory channel (" + name + "): " + std::strerror(errno));
  }
  auto* rings = static_cast<Ring*>(map);
  for (int i = 0; i < 2; ++i) {
    new (&rings[i].head) std::atomic<std::uint64_t>(0);
    new (&rings[i].tail) std::atomic<std::uint64_t>(0);
    new (&rings[i].bell) std::atomic<std::uint32_t>(0);
    new (&rings[i].asleep) std::atomic<std::uint32_t>(0);
  }
  return std::unique_ptr<Channel>(new Channel(name, map, size, true, comm, peer));
}

std::unique_ptr<Channel> Channel::open(const std::string& name, MPI_Comm comm, int peer) {
  const int fd = ::open(name.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    throw Error("cannot open the shared-memory channel " + name + ": " + std::strerror(errno));
  const std::size_t size = 2 * sizeof(Ring);
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  ::unlink(name.c_str());  // both sides have it mapped: it goes when they do
  if (map == MAP_FAILED)
    throw Error("cannot map the shared-memory channel " + name + ": " + std::strerror(errno));
  return std::unique_ptr<Channel>(new Channel(name, map, size, false, comm, peer));
}

Channel::Channel(std::string name, void* map, std::size_t size, bool creator, MPI_Comm comm,
                 int peer)
    : name_(std::move(name)),
      map_(map),
      size_(size),
      out_(static_cast<Ring*>(map) + (creator ? 0 : 1)),
      in_(static_cast<Ring*>(map) + (creator ? 1 : 0)),
      comm_(comm),
      peer_(peer),
      creator_(creator) {}

Channel::~Channel() {
  ::munmap(map_, size_);
  if (creator_) ::unlink(name_.c_str());  // the engine never came for it (it died first)
}

bool Channel::write_frame(const std::byte* p, std::size_t n) {
  const std::uint64_t head = out_->head.load(std::memory_order_relaxed);
  const std::uint64_t tail = out_->tail.load(std::memory_order_acquire);
  if (kCapacity - (head - tail) < n) return false;
  out_->copy_in(head, p, n);
  out_->head.store(head + n, std::memory_order_seq_cst);
  if (out_->asleep.load(std::memory_order_seq_cst) != 0) {
    out_->bell.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(out_->bell);
  }
  return true;
}

void Channel::wait(std::chrono::microseconds most) {
  const std::uint32_t seen = in_->bell.load(std::memory_order_seq_cst);
  in_->asleep.store(1, std::memory_order_seq_cst);
  // A frame written before `asleep` was seen is here now; one written after it rings the bell.
  if (in_->head.load(std::memory_order_seq_cst) == in_->tail.load(std::memory_order_relaxed) &&
      waiting_.empty())
    futex_wait(in_->bell, seen, most);
  in_->asleep.store(0, std::memory_order_relaxed);
}

void Channel::send(Message msg, Outbox& outbox) {
  finish(msg);
  Bytes frame(sizeof(std::uint64_t));
  if (msg.bytes.size() > kCapacity / 2) {
    std::memcpy(frame.data(), &kMarker, sizeof kMarker);
    outbox.send_finished(comm_, peer_, std::move(msg), kViaTag);
  } else {
    const std::uint64_t n = msg.bytes.size();
    std::memcpy(frame.data(), &n, sizeof n);
    frame.insert(frame.end(), msg.bytes.begin(), msg.bytes.end());
    outbox.send_attachments(comm_, peer_, std::move(msg));
  }
  // In order: behind whatever waits already, which goes first as far as there is room (a side
  // that sends many messages in a row, as a task putting into a queue does, calls nothing else
  // that would move them).
  flush();
  if (!waiting_.empty() || !write_frame(frame.data(), frame.size()))
    waiting_.push_back(std::move(frame));
}

bool Channel::flush() {
  while (!waiting_.empty() && write_frame(waiting_.front().data(), waiting_.front().size()))
    waiting_.pop_front();
  return waiting_.empty();
}

bool Channel::try_recv(Incoming& in) {
  flush();
  const std::uint64_t tail = in_->tail.load(std::memory_order_relaxed);
  const std::uint64_t head = in_->head.load(std::memory_order_acquire);
  if (head == tail) return false;
  std::uint64_t n = 0;
  in_->copy_out(tail, reinterpret_cast<std::byte*>(&n), sizeof n);
  if (n == kMarker) {
    in_->tail.store(tail + sizeof n, std::memory_order_release);
    // The message went by MPI before the marker was written: it is there, or on its way.
    Backoff backoff(std::chrono::microseconds(100));
    while (!transport::try_recv(comm_, peer_, in, kViaTag)) {
      flush();
      backoff.pause();
    }
    return true;
  }
  Bytes bytes(n);
  in_->copy_out(tail + sizeof n, bytes.data(), n);
  in_->tail.store(tail + sizeof n + n, std::memory_order_release);
  in.take(std::move(bytes), comm_, peer_);
  return true;
}

}  // namespace ranks::detail::transport
