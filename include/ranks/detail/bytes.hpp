#pragma once

// Message buffers: bytes that are written before they are read, a writer that appends to them
// (setting large blocks apart as attachments), and a reader that never reads past their end.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/error.hpp"

namespace ranks::detail {

/// Leaves new elements uninitialised: a message buffer is always written before it is read,
/// and zero-filling megabytes that are about to be overwritten costs as much as copying them.
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using Bytes = std::vector<std::byte, UninitAllocator<std::byte>>;

/// A large contiguous block (the data of a vector or string) that travels after its message as
/// an MPI message of its own: sent from where it lies and received where it belongs, never
/// copied through the message buffer.
struct Attachment {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  std::size_t at = 0;  // where, in the buffer it was set apart from, its length field lies
};

/// Blocks at least this large travel as attachments, where the writer takes them. Below it, a
/// copy into the message costs less than a second MPI message.
inline constexpr std::size_t kAttachMin = std::size_t{64} << 10;

/// Where a Reader gets a message's attachments: the receiving side of transport.
class AttachmentSource {
 public:
  /// Receives the next attachment, which must be n bytes, into dst.
  virtual void receive(void* dst, std::size_t n) = 0;

 protected:
  ~AttachmentSource() = default;
};

/// Asks the kernel for huge pages under a large buffer about to be written: first touches of a
/// fresh 64 MiB block otherwise cost more than moving its bytes.
void prefer_huge_pages(void* p, std::size_t n) noexcept;

/// Appends to a byte buffer; large blocks go to `attachments` where one is given.
class Writer {
 public:
  explicit Writer(Bytes& buf, std::vector<Attachment>* attachments = nullptr)
      : buf_(&buf), attachments_(attachments) {}
  /// Takes n bytes at p as an attachment (p must stay valid until the message is sent); false
  /// when this writer has no attachments or n is too small to be worth one. The caller writes
  /// the block's length field next (codec.hpp).
  bool attach(const void* p, std::size_t n) {
    if (attachments_ == nullptr || n < kAttachMin) return false;
    attachments_->push_back({static_cast<const std::byte*>(p), n, buf_->size()});
    return true;
  }
  [[nodiscard]] std::size_t attachment_count() const {
    return attachments_ ? attachments_->size() : 0;
  }
  /// Drops what was written after size() was `bytes` and attachment_count() was `attached`.
  void truncate(std::size_t bytes, std::size_t attached) {
    buf_->resize(bytes);
    if (attachments_) attachments_->resize(attached);
  }
  void raw(const void* p, std::size_t n) {
    if (n == 0) return;
    const std::size_t at = buf_->size();
    grow(n);
    std::memcpy(buf_->data() + at, p, n);
  }
  /// Reserves n bytes at the end and returns their offset (valid until the next write).
  std::size_t skip(std::size_t n) {
    const std::size_t at = buf_->size();
    grow(n);
    return at;
  }
  std::byte* at(std::size_t offset) { return buf_->data() + offset; }
  [[nodiscard]] std::size_t size() const { return buf_->size(); }

 private:
  void grow(std::size_t n) {
    const std::size_t need = buf_->size() + n;
    if (need > buf_->capacity()) buf_->reserve(std::max(need, buf_->capacity() * 2));
    buf_->resize(need);
  }
  Bytes* buf_;
  std::vector<Attachment>* attachments_;
};

/// Reads from a byte range; running past its end is an error, never a read out of bounds.
class Reader {
 public:
  Reader() = default;
  Reader(const std::byte* p, std::size_t n, AttachmentSource* source = nullptr)
      : p_(p), end_(p + n), source_(source) {}
  /// Receives the next attachment (n bytes) into dst.
  void attached(void* dst, std::size_t n) {
    if (source_ == nullptr)
      throw Error("a value's data was sent apart from a message that cannot carry it");
    source_->receive(dst, n);
  }
  void raw(void* out, std::size_t n) {
    if (n) std::memcpy(out, take(n), n);
  }
  const std::byte* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n)
      throw Error("a message ended early while decoding (corrupt or mismatched payload)");
    const std::byte* p = p_;
    p_ += n;
    return p;
  }
  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] const std::byte* data() const { return p_; }

 private:
  const std::byte* p_ = nullptr;
  const std::byte* end_ = nullptr;
  AttachmentSource* source_ = nullptr;
};

}  // namespace ranks::detail
