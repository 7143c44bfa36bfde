#include "transport/channel.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <utility>

#include "ranks/error.hpp"

namespace ranks::detail::transport {

namespace {

// Bytes a ring holds: messages up to half of it travel through it (most are under a kilobyte;
// blocks of 64 KiB and more are attachments, which go by MPI).
constexpr std::uint64_t kCapacity = std::uint64_t{256} << 10;
constexpr std::uint64_t kMarker = ~std::uint64_t{0};  // "the next message came by MPI"

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
  SharedMemory memory = SharedMemory::create(name, 2 * sizeof(Ring), "a shared-memory channel");
  auto* rings = static_cast<Ring*>(memory.data());
  for (int i = 0; i < 2; ++i) {
    new (&rings[i].head) std::atomic<std::uint64_t>(0);
    new (&rings[i].tail) std::atomic<std::uint64_t>(0);
    new (&rings[i].bell) std::atomic<std::uint32_t>(0);
    new (&rings[i].asleep) std::atomic<std::uint32_t>(0);
  }
  // Until the engine has mapped it, the file is this side's to remove (the engine may die first).
  return std::unique_ptr<Channel>(new Channel(std::move(memory), true, comm, peer));
}

std::unique_ptr<Channel> Channel::open(const std::string& name, MPI_Comm comm, int peer) {
  SharedMemory memory = SharedMemory::open(name, 2 * sizeof(Ring), "the shared-memory channel");
  memory.unlink();  // both sides have it mapped: it goes when they do
  return std::unique_ptr<Channel>(new Channel(std::move(memory), false, comm, peer));
}

Channel::Channel(SharedMemory memory, bool creator, MPI_Comm comm, int peer)
    : memory_(std::move(memory)),
      out_(static_cast<Ring*>(memory_.data()) + (creator ? 0 : 1)),
      in_(static_cast<Ring*>(memory_.data()) + (creator ? 1 : 0)),
      comm_(comm),
      peer_(peer) {}

Channel::~Channel() = default;

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
