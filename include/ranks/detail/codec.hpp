#pragma once

// How values travel: raw bytes for trivially copyable data (one memcpy, no per-element work),
// element-wise for standard containers of other types, a Boost.Serialization binary archive for
// everything else.

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
#include <streambuf>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/traits.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

/// Marks, in a length field, that the data follows as an attachment.
inline constexpr std::uint64_t kAttached = std::uint64_t{1} << 63;

/// A value written with attachments (`parts`, in order, each with where its length field lies
/// in `bytes`) as a Writer without attachments writes it: each block in place after its length.
inline Bytes whole_value(const Bytes& bytes, const std::vector<Attachment>& parts) {
  std::size_t size = bytes.size();
  for (const Attachment& a : parts) size += a.size;
  Bytes out;
  out.reserve(size);
  std::size_t from = 0;
  for (const Attachment& a : parts) {
    std::uint64_t field = 0;
    if (a.at < from || a.at + sizeof field > bytes.size())
      throw Error("a value's attachment lies outside it (corrupt message)");
    std::memcpy(&field, bytes.data() + a.at, sizeof field);
    field &= ~kAttached;
    out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from),
               bytes.begin() + static_cast<std::ptrdiff_t>(a.at));
    const auto* f = reinterpret_cast<const std::byte*>(&field);
    out.insert(out.end(), f, f + sizeof field);
    out.insert(out.end(), a.data, a.data + a.size);
    from = a.at + sizeof field;
  }
  out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end());
  return out;
}

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

/// Whether Boost.Serialization can carry T, as far as ranks can tell: a plain struct (an
/// aggregate) that is not trivially copyable needs a serialize(), of its own or found beside it;
/// other types are left to Boost.
template <class T>
inline constexpr bool archivable_v =
    !(std::is_class_v<T> && std::is_aggregate_v<T>) || serialized_elsewhere<T> ||
    requires(T & t, boost::archive::binary_oarchive& ar) {
  t.serialize(ar, 0u);
}
|| requires(T& t, boost::archive::binary_oarchive& ar) { serialize(ar, t, 0u); };

/// Stops the build, first of all its errors, at a type that cannot travel; the lines before the
/// error name it ("In instantiation of ...<T>").
template <class T>
struct type_cannot_travel_give_it_serialize_or_make_it_trivially_copyable {
  static_assert(archivable_v<T>,
                "ranks: a struct that is not trivially copyable (it holds a std::string, a "
                "container or a pointer) and has no serialize() cannot travel between processes "
                "(which struct: the T of type_cannot_travel_...<T> above). Give it serialize() "
                "(template <class Archive> void serialize(Archive& ar, unsigned) { ar & a & b; "
                "}), or make it trivially copyable (members of fixed size only).");
  static constexpr bool value = archivable_v<T>;
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
  } else if constexpr (is_string<T>::value || is_string_view<T>::value || vector_kind<T>::raw) {
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
  } else if constexpr (type_cannot_travel_give_it_serialize_or_make_it_trivially_copyable<
                           T>::value) {
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
      if (n > v.max_size()) throw Error("a received length is impossible (corrupt message)");
      if (v.size() != n) {  // else received where it lies: no fresh pages to fault in
        v.clear();
        v.reserve(n);
        prefer_huge_pages(v.data(), n * sizeof(E));
        v.resize(n);
      }
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
  } else if constexpr (type_cannot_travel_give_it_serialize_or_make_it_trivially_copyable<
                           T>::value) {
    decode_archive(r, v);
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

/// Reads n elements into p (the items or results of one map chunk); raw types in one memcpy.
template <class T>
void decode_items(Reader& r, T* p, std::size_t n) {
  if constexpr (is_raw_element_v<T>) {
    r.raw(p, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) decode(r, p[i]);
  }
}

}  // namespace ranks::detail
