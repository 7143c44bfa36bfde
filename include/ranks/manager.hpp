#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/objects.hpp"

/// @file
/// ranks::Manager and its shared containers, ranks::DictProxy and ranks::ListProxy.

namespace ranks {

namespace detail {

/// A key as a message shows it: what operator<< prints, where T has one.
template <class T>
std::string shown_key(const T& k) {
  if constexpr (requires(std::ostream & os) { os << k; }) {
    std::ostringstream os;
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      os << '\'' << k << '\'';
    } else {
      os << k;
    }
    return os.str();
  } else {
    return "(a key that cannot be printed)";
  }
}

}  // namespace detail

/// A dict that every process of the program shares (Python's DictProxy, from Manager::dict):
/// each call is one whole operation, atomic, served by the controller. Entries keep the order
/// in which their keys were first set, as Python's dict does. A handle that travels as a task's
/// argument.
///
/// @code
/// auto d = manager.dict<std::string, int>();
/// d.set("a", 1);
/// int a = d.get("a");                 // missing: ranks::Error naming the key
/// int b = d.get("b", 0);              // missing: the fallback
/// if (d.contains("a")) d.erase("a");
/// for (auto& [k, v] : d.items()) std::cout << k << ' ' << v << '\n';
/// @endcode
template <class K, class V>
class DictProxy : public detail::ObjectHandle {
 public:
  /// A handle to no dict (made when one is received as an argument); use Manager::dict.
  DictProxy() = default;

  /// Sets key to value (Python's `d[key] = value`); a new key goes last.
  void set(const K& key, const V& value) {
    call(detail::request(detail::Op::kSet).carrying(detail::to_blob(key), detail::to_blob(value)),
         "ranks::DictProxy::set");
  }
  /// The value of key; a key that is not there: ranks::Error naming it.
  V get(const K& key) const {
    std::optional<V> v = find(key);
    if (!v)
      throw Error("ranks::DictProxy::get: no key " + detail::shown_key(key) +
                  " in the dict; set it first, or give a fallback: get(key, fallback)");
    return std::move(*v);
  }
  /// The value of key, or fallback where it is not there.
  V get(const K& key, V fallback) const {
    std::optional<V> v = find(key);
    return v ? std::move(*v) : std::move(fallback);
  }
  /// Whether key is there (Python's `key in d`).
  [[nodiscard]] bool contains(const K& key) const {
    return call(detail::request(detail::Op::kContains).carrying(detail::to_blob(key)),
                "ranks::DictProxy::contains")
               .value != 0;
  }
  /// Removes key; false if it was not there.
  bool erase(const K& key) {
    return call(detail::request(detail::Op::kErase).carrying(detail::to_blob(key)),
                "ranks::DictProxy::erase")
               .value != 0;
  }
  /// How many entries it has (Python's `len(d)`).
  [[nodiscard]] std::size_t size() const {
    return static_cast<std::size_t>(
        call(detail::request(detail::Op::kSize), "ranks::DictProxy::size").value);
  }
  /// Removes every entry.
  void clear() { call(detail::request(detail::Op::kClear), "ranks::DictProxy::clear"); }
  /// Every entry, in the order the keys were first set (one atomic read).
  [[nodiscard]] std::vector<std::pair<K, V>> items() const {
    const auto blobs = detail::unpack_blobs(
        call(detail::request(detail::Op::kItems), "ranks::DictProxy::items").data);
    std::vector<std::pair<K, V>> out;
    out.reserve(blobs.size() / 2);
    for (std::size_t i = 0; i + 1 < blobs.size(); i += 2)
      out.emplace_back(detail::from_blob<K>(blobs[i]), detail::from_blob<V>(blobs[i + 1]));
    return out;
  }
  /// Every key, in order (one atomic read).
  [[nodiscard]] std::vector<K> keys() const {
    std::vector<K> out;
    for (auto& [k, v] : items()) out.push_back(std::move(k));
    return out;
  }
  /// Every value, in the order of their keys (one atomic read).
  [[nodiscard]] std::vector<V> values() const {
    std::vector<V> out;
    for (auto& [k, v] : items()) out.push_back(std::move(v));
    return out;
  }

 private:
  friend class Manager;
  explicit DictProxy(detail::ObjectId id) : ObjectHandle(id) {}
  std::optional<V> find(const K& key) const {
    const char* who = "ranks::DictProxy::get";
    const detail::ObjectAnswer a =
        ask(detail::request(detail::Op::kLookup).carrying(detail::to_blob(key)), who);
    if (a.status == detail::Status::kMissing) return std::nullopt;
    if (a.status != detail::Status::kOk) detail::throw_answer(a, who);
    return detail::from_blob<V>(a.data);
  }
};

/// A list that every process of the program shares (Python's ListProxy, from Manager::list):
/// each call is one whole operation, atomic. Positions may count from the end, as Python's do:
/// -1 is the last item. A position outside the list: ranks::Error naming it and the size, the
/// list unchanged.
///
/// @code
/// auto l = manager.list<int>();
/// l.append(7);
/// l.set(0, l.at(0) + 1);
/// int last = l.at(-1);
/// std::vector<int> all = l.items();
/// @endcode
template <class T>
class ListProxy : public detail::ObjectHandle {
 public:
  /// A handle to no list (made when one is received as an argument); use Manager::list.
  ListProxy() = default;

  /// Puts item at the end.
  void append(const T& item) {
    call(detail::request(detail::Op::kAppend).carrying(detail::to_blob(item)),
         "ranks::ListProxy::append");
  }
  /// Appends every item, in one atomic call.
  void extend(const std::vector<T>& items) {
    std::vector<detail::Bytes> blobs;
    blobs.reserve(items.size());
    for (const T& x : items) blobs.push_back(detail::to_blob(x));
    std::vector<const detail::Bytes*> all;
    all.reserve(blobs.size());
    for (const auto& b : blobs) all.push_back(&b);
    call(detail::request(detail::Op::kExtend).carrying(detail::pack_blobs(all)),
         "ranks::ListProxy::extend");
  }
  /// The item at i (Python's `l[i]`; -1 is the last).
  [[nodiscard]] T at(std::ptrdiff_t i) const {
    return detail::from_blob<T>(
        call(detail::request(detail::Op::kAt).at(i), "ranks::ListProxy::at").data);
  }
  /// Replaces the item at i (Python's `l[i] = item`).
  void set(std::ptrdiff_t i, const T& item) {
    call(detail::request(detail::Op::kAssign).at(i).carrying(detail::to_blob(item)),
         "ranks::ListProxy::set");
  }
  /// Removes and returns the item at i (the last by default).
  T pop(std::ptrdiff_t i = -1) {
    return detail::from_blob<T>(
        call(detail::request(detail::Op::kPop).at(i), "ranks::ListProxy::pop").data);
  }
  /// Reverses the items in place.
  void reverse() { call(detail::request(detail::Op::kReverse), "ranks::ListProxy::reverse"); }
  /// Removes every item.
  void clear() { call(detail::request(detail::Op::kClear), "ranks::ListProxy::clear"); }
  /// How many items it has (Python's `len(l)`).
  [[nodiscard]] std::size_t size() const {
    return static_cast<std::size_t>(
        call(detail::request(detail::Op::kSize), "ranks::ListProxy::size").value);
  }
  /// Every item, in order (one atomic read).
  [[nodiscard]] std::vector<T> items() const {
    const auto blobs = detail::unpack_blobs(
        call(detail::request(detail::Op::kItems), "ranks::ListProxy::items").data);
    std::vector<T> out;
    out.reserve(blobs.size());
    for (const auto& b : blobs) out.push_back(detail::from_blob<T>(b));
    return out;
  }

 private:
  friend class Manager;
  explicit ListProxy(detail::ObjectId id) : ObjectHandle(id) {}
};

/// Python's multiprocessing.Manager: containers that every process of the program shares,
/// served by the controller (no server process of its own). Made by the program, inside
/// ranks::run; the containers live until the program ends.
///
/// @code
/// ranks::Manager manager;                      // Python's Manager()
/// auto d = manager.dict<std::string, int>();   // d.set(k, v), d.get(k), d.contains(k), d.items()
/// auto l = manager.list<int>({0, 1, 2});       // l.append(x), l.at(i), l.set(i, x), l.items()
/// pool.apply(fill, d, l);            // void fill(ranks::DictProxy<std::string, int> d, ...)
/// for (auto& [k, v] : d.items()) std::cout << k << ' ' << v << '\n';
/// @endcode
class Manager {
 public:
  /// A new, empty dict (Python's `manager.dict()`).
  template <class K, class V>
  DictProxy<K, V> dict() {
    return DictProxy<K, V>(detail::make_object(detail::ObjectKind::kDict, 0, "ranks::Manager"));
  }
  /// A list, holding `items` to begin with.
  template <class T>
  ListProxy<T> list(const std::vector<T>& items = {}) {
    ListProxy<T> l(detail::make_object(detail::ObjectKind::kList, 0, "ranks::Manager"));
    if (!items.empty()) l.extend(items);
    return l;
  }
};

}  // namespace ranks
