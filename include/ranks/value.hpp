#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ranks/synchronize.hpp"

/// @file
/// ranks::Value and ranks::Array, Python's shared values.

namespace ranks {

/// Python's multiprocessing.Array: n values of T that every process of the program shares, on
/// any host. Elements of 1, 2, 4 or 8 bytes are loaded and stored whole (atomic): a process that
/// dies while it writes leaves each element old or new, never torn. Larger ones are read and
/// written under get_lock(). fetch_add and compare_exchange are atomic across every process.
/// An index outside the array: ranks::Error naming it and the size, nothing read or written.
///
/// @code
/// void negate(ranks::Array<int> a) {
///   for (std::size_t i = 0; i < a.size(); ++i) a.store(i, -a.load(i));
/// }
/// ranks::Array<int> a(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
/// ranks::Process p(negate, a);
/// p.start();
/// p.join();
/// std::vector<int> all = a.read();   // {0, -1, -2, ..., -9}; a.read(first, count)
/// a.store(3, -3);  int x = a.load(3);  a.fetch_add(3, 1);
/// a.write(0, std::span<const int>(block));   // a block at once, at MPI's bandwidth
/// @endcode
template <class T>
class Array : public detail::SyncHandle {
  static_assert(std::is_trivially_copyable_v<T>,
                "ranks: a Value or Array holds a type that is not trivially copyable: its bytes "
                "are shared between processes as they are, so T must be trivially copyable "
                "(numbers, plain structs of them); for other types use a Manager's dict or list");
  static_assert(!std::is_pointer_v<T>,
                "ranks: a Value or Array of pointers: an address means nothing in another "
                "process; share the values themselves");

 public:
  /// A handle to no array (made when one is received as an argument): using it throws.
  Array() : lock_(detail::ObjectId{}) {}
  /// n zeros.
  explicit Array(std::size_t n) : Array(n, "ranks::Array") {}
  /// A copy of values.
  explicit Array(std::span<const T> values) : Array(values.size(), "ranks::Array") {
    write(0, values);
  }
  /// A copy of values.
  explicit Array(const std::vector<T>& values) : Array(std::span<const T>(values)) {}
  /// These values: `ranks::Array<int> a{1, 2, 3}`.
  Array(std::initializer_list<T> values)
      : Array(std::span<const T>(values.begin(), values.size())) {}

  /// How many elements it has (Python's `len(a)`).
  [[nodiscard]] std::size_t size() const { return static_cast<std::size_t>(id_.capacity); }

  /// Element i (Python's `a[i]`).
  [[nodiscard]] T load(std::size_t i) const {
    check(i, 1, "ranks::Array::load");
    T v;
    read_raw(i, 1, &v, "ranks::Array::load");
    return v;
  }
  /// Sets element i to v (Python's `a[i] = v`).
  void store(std::size_t i, const T& v) {
    check(i, 1, "ranks::Array::store");
    write_raw(i, 1, &v, "ranks::Array::store");
  }
  /// Adds d to element i, atomically across every process; its value before. For numbers.
  T fetch_add(std::size_t i, T d) requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    check(i, 1, "ranks::Array::fetch_add");
    detail::SyncCall c;
    c.op = detail::Op::kFetchAdd;
    c.first = i;
    c.operand = bits(d);
    return value(detail::sync_call(id_, c, "ranks::Array::fetch_add").bits);
  }
  /// Stores desired at i if it holds expected (compared bytewise), atomically across every
  /// process; else sets expected to what it holds. Whether it stored.
  bool compare_exchange(std::size_t i, T& expected, const T& desired) {
    const char* who = "ranks::Array::compare_exchange";
    check(i, 1, who);
    if constexpr (detail::word_sized(sizeof(T))) {
      detail::SyncCall c;
      c.op = detail::Op::kCompareExchange;
      c.first = i;
      c.expected = bits(expected);
      c.operand = bits(desired);
      const detail::SyncResult r = detail::sync_call(id_, c, who);
      if (!r.ok) expected = value(r.bits);
      return r.ok;
    } else {
      std::scoped_lock g(lock_);
      T now = load(i);
      if (std::memcmp(&now, &expected, sizeof(T)) != 0) {
        expected = now;
        return false;
      }
      store(i, desired);
      return true;
    }
  }

  /// Every element, at once.
  [[nodiscard]] std::vector<T> read() const { return read(0, size()); }
  /// count elements from first.
  [[nodiscard]] std::vector<T> read(std::size_t first, std::size_t count) const {
    check(first, count, "ranks::Array::read");
    std::vector<T> out(count);
    read_raw(first, count, out.data(), "ranks::Array::read");
    return out;
  }
  /// Into out, from first (as many as out holds).
  void read_into(std::size_t first, std::span<T> out) const {
    check(first, out.size(), "ranks::Array::read_into");
    read_raw(first, out.size(), out.data(), "ranks::Array::read_into");
  }
  /// Writes block from first, at once (each element whole).
  void write(std::size_t first, std::span<const T> block) {
    check(first, block.size(), "ranks::Array::write");
    write_raw(first, block.size(), block.data(), "ranks::Array::write");
  }
  /// As write(first, std::span<const T>(block)).
  void write(std::size_t first, const std::vector<T>& block) {
    write(first, std::span<const T>(block));
  }

  /// The lock that goes with it (Python's get_lock(): an RLock), for a change made of several
  /// calls: std::scoped_lock g(a.get_lock()).
  RLock& get_lock() { return lock_; }

 protected:
  /// @cond INTERNAL
  Array(std::size_t n, const char* who)
      : SyncHandle(
            detail::make_object(detail::ObjectKind::kArray, n, who, detail::element_of<T>())),
        lock_(id_) {}
  /// @endcond

 private:
  static std::uint64_t bits(const T& v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T) <= 8 ? sizeof(T) : 8);
    return b;
  }
  static T value(std::uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T) <= 8 ? sizeof(T) : 8);
    return v;
  }
  void check(std::size_t first, std::size_t count, const char* who) const {
    const std::size_t n = size();
    if (first <= n && count <= n - first && (count > 0 || first < n || n == 0)) return;
    std::string what = std::string(who) + ": ";
    what += count == 1 ? "index " + std::to_string(first)
                       : "elements " + std::to_string(first) + ".." +
                             std::to_string(first + count) + " (end excluded)";
    what += " outside the array of " + std::to_string(n) +
            (n == 0 ? " (it is empty)" : " (0.." + std::to_string(n - 1) + ")") +
            "; nothing was read or written";
    throw Error(what);
  }
  void read_raw(std::size_t first, std::size_t count, T* out, const char* who) const {
    move_raw(detail::Op::kRead, first, count, out, nullptr, who);
  }
  void write_raw(std::size_t first, std::size_t count, const T* in, const char* who) {
    move_raw(detail::Op::kWrite, first, count, nullptr, in, who);
  }
  // Elements of a word each whole, larger ones under the lock.
  void move_raw(detail::Op op, std::size_t first, std::size_t count, T* out, const T* in,
                const char* who) const {
    detail::SyncCall c;
    c.op = op;
    c.first = first;
    c.count = count;
    c.out = out;
    c.in = in;
    if constexpr (detail::word_sized(sizeof(T))) {
      (void)detail::sync_call(id_, c, who);
    } else {
      std::scoped_lock g(lock_);
      (void)detail::sync_call(id_, c, who);
    }
  }

  mutable RLock lock_;
};

/// Python's multiprocessing.Value: one T that every process of the program shares, on any host
/// (an Array of one).
///
/// @code
/// ranks::Value<double> total(0.0);   // one trivially copyable value every process shares
/// total.store(3.1415927);  double v = total.load();
/// total.fetch_add(2.0);              // atomic across processes and hosts (numbers)
/// total.compare_exchange(expected, desired);
/// { std::scoped_lock g(total.get_lock()); total.store(total.load() * 2); }  // Python's get_lock()
/// @endcode
template <class T>
class Value : public Array<T> {
 public:
  /// A value of `initial` (Python's `Value('d', 0.0)`).
  explicit Value(const T& initial = T{}) : Array<T>(1, "ranks::Value") {
    if (!std::is_trivially_default_constructible_v<T> || !is_zero(initial)) store(initial);
  }
  /// The value now (Python's `v.value`).
  [[nodiscard]] T load() const { return Array<T>::load(0); }
  /// Sets it (Python's `v.value = x`).
  void store(const T& v) { Array<T>::store(0, v); }
  /// Adds d, atomically across every process; its value before. For numbers.
  T fetch_add(T d) requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    return Array<T>::fetch_add(0, d);
  }
  /// Stores desired if it holds expected (compared bytewise), atomically across every process;
  /// else sets expected to what it holds. Whether it stored.
  bool compare_exchange(T& expected, const T& desired) {
    return Array<T>::compare_exchange(0, expected, desired);
  }

 private:
  static bool is_zero(const T& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    for (std::size_t i = 0; i < sizeof(T); ++i)
      if (p[i] != 0) return false;
    return true;
  }
};

}  // namespace ranks
