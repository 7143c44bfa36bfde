#pragma once

// How values travel: raw bytes for trivially copyable data (one memcpy, no per-element work),
// element-wise for standard containers of other types, a Boost.Serialization binary archive for
// everything else.

#include <array>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/unordered_set.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <streambuf>
#include <string>
#include <tuple>
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
};

/// Blocks at least this large travel as attachments, where the writer takes them. Below it, a
/// copy into the message costs less than a second MPI message.
inline constexpr std::size_t kAttachMin = std::size_t{64} << 10;
/// Marks, in a length field, that the data follows as an attachment.
inline constexpr std::uint64_t kAttached = std::uint64_t{1} << 63;

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
  /// when this writer has no attachments or n is too small to be worth one.
  bool attach(const void* p, std::size_t n) {
    if (attachments_ == nullptr || n < kAttachMin) return false;
    attachments_->push_back({static_cast<const std::byte*>(p), n});
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
  Bytes& buffer() { return *buf_; }

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
      throw Error("ranks: a value's data was sent apart from a message that cannot carry it");
    source_->receive(dst, n);
  }
  void raw(void* out, std::size_t n) { std::memcpy(out, take(n), n); }
  const std::byte* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n)
      throw Error("ranks: a message ended early while decoding (corrupt or mismatched payload)");
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

template <class T>
inline constexpr bool is_raw_v = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                                 !std::is_member_pointer_v<T> && !std::is_empty_v<T>;

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string : std::false_type {};
template <class C, class Tr, class A>
struct is_string<std::basic_string<C, Tr, A>> : std::true_type {};
template <class T>
struct is_tuple_like : std::false_type {};
template <class... T>
struct is_tuple_like<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

/// True where a std::vector<T> of the type is contiguous raw memory (not std::vector<bool>).
template <class T>
inline constexpr bool is_raw_element_v = is_raw_v<T> && !std::is_same_v<T, bool>;

template <class T>
struct vector_kind {
  static constexpr bool raw = false;
  static constexpr bool other = false;
};
template <class T, class A>
struct vector_kind<std::vector<T, A>> {
  static constexpr bool raw = is_raw_element_v<T>;
  static constexpr bool other = !raw && !std::is_same_v<T, bool>;
};

// A streambuf over the Writer / Reader, so Boost archives write straight into the message.
class WriterBuf : public std::streambuf {
 public:
  explicit WriterBuf(Writer& w) : w_(w) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    w_.raw(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      const char ch = traits_type::to_char_type(c);
      w_.raw(&ch, 1);
    }
    return c;
  }

 private:
  Writer& w_;
};

class ReaderBuf : public std::streambuf {
 public:
  ReaderBuf(const std::byte* p, std::size_t n) {
    char* b = const_cast<char*>(reinterpret_cast<const char*>(p));
    setg(b, b, b + n);
  }
};

template <class T>
void encode(Writer& w, const T& v);
template <class T>
void decode(Reader& r, T& v);

template <class T>
void encode_archive(Writer& w, const T& v) {
  const std::size_t at = w.skip(sizeof(std::uint64_t));
  const std::size_t begin = w.size();
  {
    WriterBuf sb(w);
    boost::archive::binary_oarchive ar(sb, boost::archive::no_header | boost::archive::no_codecvt);
    ar << v;
  }
  const std::uint64_t n = w.size() - begin;
  std::memcpy(w.at(at), &n, sizeof n);
}

template <class T>
void decode_archive(Reader& r, T& v) {
  std::uint64_t n = 0;
  r.raw(&n, sizeof n);
  const std::byte* p = r.take(n);
  ReaderBuf sb(p, n);
  boost::archive::binary_iarchive ar(sb, boost::archive::no_header | boost::archive::no_codecvt);
  ar >> v;
}

inline void encode_size(Writer& w, std::size_t n) {
  const std::uint64_t v = n;
  w.raw(&v, sizeof v);
}
inline std::size_t decode_size(Reader& r) {
  std::uint64_t v = 0;
  r.raw(&v, sizeof v);
  return static_cast<std::size_t>(v);
}

template <class T>
void encode(Writer& w, const T& v) {
  if constexpr (is_raw_v<T>) {
    w.raw(&v, sizeof(T));
  } else if constexpr (std::is_empty_v<T> && std::is_default_constructible_v<T>) {
    // nothing to send
  } else if constexpr (is_string<T>::value || vector_kind<T>::raw) {
    const std::size_t bytes = v.size() * sizeof(typename T::value_type);
    if (w.attach(v.data(), bytes)) {
      encode_size(w, v.size() | kAttached);
    } else {
      encode_size(w, v.size());
      w.raw(v.data(), bytes);
    }
  } else if constexpr (vector_kind<T>::other) {
    encode_size(w, v.size());
    for (const auto& e : v) encode(w, e);
  } else if constexpr (is_std_array<T>::value) {
    for (const auto& e : v) encode(w, e);
  } else if constexpr (is_tuple_like<T>::value) {
    std::apply([&](const auto&... e) { (encode(w, e), ...); }, v);
  } else if constexpr (is_optional<T>::value) {
    const std::uint8_t has = v.has_value();
    w.raw(&has, 1);
    if (has) encode(w, *v);
  } else {
    encode_archive(w, v);
  }
}

template <class T>
void decode(Reader& r, T& v) {
  if constexpr (is_raw_v<T>) {
    r.raw(&v, sizeof(T));
  } else if constexpr (std::is_empty_v<T> && std::is_default_constructible_v<T>) {
  } else if constexpr (is_string<T>::value || vector_kind<T>::raw) {
    using E = typename T::value_type;
    const std::uint64_t field = decode_size(r);
    if (field & kAttached) {
      const std::size_t n = field & ~kAttached;
      if (n > v.max_size()) throw Error("ranks: a received length is impossible (corrupt message)");
      v.clear();
      v.reserve(n);
      prefer_huge_pages(v.data(), n * sizeof(E));
      v.resize(n);
      r.attached(v.data(), n * sizeof(E));
    } else {
      const std::size_t n = field;
      const std::byte* p = r.take(n * sizeof(E));
      v.resize(n);
      if (n) std::memcpy(v.data(), p, n * sizeof(E));
    }
  } else if constexpr (vector_kind<T>::other) {
    const std::size_t n = decode_size(r);
    v.clear();
    v.resize(n);
    for (auto& e : v) decode(r, e);
  } else if constexpr (is_std_array<T>::value) {
    for (auto& e : v) decode(r, e);
  } else if constexpr (is_tuple_like<T>::value) {
    std::apply([&](auto&... e) { (decode(r, e), ...); }, v);
  } else if constexpr (is_optional<T>::value) {
    std::uint8_t has = 0;
    r.raw(&has, 1);
    if (has) {
      typename T::value_type x{};
      decode(r, x);
      v = std::move(x);
    } else {
      v.reset();
    }
  } else {
    decode_archive(r, v);
  }
}

template <class T>
inline constexpr bool is_c_string_v =
    std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>;

/// How an argument travels: C strings (and string literals) as std::string, the rest as is.
template <class T>
using wire_t = std::conditional_t<is_c_string_v<T>, std::string, std::decay_t<T>>;

template <class T>
decltype(auto) wire_value(const T& v) {
  if constexpr (is_c_string_v<T>) {
    return std::string(v);
  } else {
    return (v);
  }
}

template <class T>
T decode_value(Reader& r) {
  T v{};
  decode(r, v);
  return v;
}

/// Writes n elements starting at p (the items of one map chunk); raw types in one memcpy.
template <class T>
void encode_items(Writer& w, const T* p, std::size_t n) {
  if constexpr (is_raw_element_v<T>) {
    w.raw(p, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) encode(w, p[i]);
  }
}

}  // namespace ranks::detail
