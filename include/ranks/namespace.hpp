#pragma once

#include <map>
#include <string>
#include <typeinfo>
#include <vector>

#include "ranks/detail/codec.hpp"

namespace ranks {

namespace detail {
/// A readable type name ("int", "std::vector<double, std::allocator<double> >").
std::string demangle(const char* name);
}  // namespace detail

/// Each engine's store of named values, like the namespace an IPython engine keeps. Values keep
/// their type: reading one as another type throws ranks::Error naming both, and leaves the
/// value in place. DirectView::push / pull / scatter / gather and execute() use the engine's
/// namespace; a Namespace of your own works anywhere.
///
/// @code
/// dview.execute([](ranks::Namespace& ns) { ns.set("a", ns.get<int>("a") + 1); }).get();
/// @endcode
class Namespace {
 public:
  /// Stores value under name (replacing what was there, whatever its type).
  template <class T>
  void set(const std::string& name, const T& value) {
    detail::Bytes bytes;
    detail::Writer w(bytes);
    detail::encode(w, value);
    set_encoded(name, typeid(T).name(), std::move(bytes));
  }
  /// The value stored under name. Throws ranks::Error if there is none, or if it is not a T.
  template <class T>
  [[nodiscard]] T get(const std::string& name) const {
    const detail::Bytes& bytes = encoded(name, typeid(T).name());
    detail::Reader r(bytes.data(), bytes.size());
    return detail::decode_value<T>(r);
  }
  /// Whether name holds a value.
  [[nodiscard]] bool contains(const std::string& name) const { return values_.count(name) != 0; }
  /// Removes name; returns whether it was there.
  bool erase(const std::string& name) { return values_.erase(name) != 0; }
  /// Every name, sorted.
  [[nodiscard]] std::vector<std::string> names() const;
  /// The readable type of the value under name. Throws ranks::Error if there is none.
  [[nodiscard]] std::string type_name(const std::string& name) const;
  /// Removes every name.
  void clear() { values_.clear(); }

  /// Stores a value already encoded by detail::encode; `type` is its typeid(T).name().
  void set_encoded(const std::string& name, const char* type, detail::Bytes bytes);
  /// The encoded value under name, checked to be of `type` (a typeid(T).name()).
  [[nodiscard]] const detail::Bytes& encoded(const std::string& name, const char* type) const;

 private:
  struct Value {
    const char* type;  // typeid(T).name(): static storage, equal across ranks of one binary
    detail::Bytes bytes;
  };
  const Value& find(const std::string& name) const;
  std::map<std::string, Value> values_;
};

namespace detail {
/// The namespace of this engine (execute, push, pull, scatter and gather use it).
Namespace& engine_namespace();
}  // namespace detail

}  // namespace ranks
