#pragma once

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "ranks/detail/traits.hpp"
#include "ranks/error.hpp"

namespace ranks {

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
  /// Stores value under name (replacing what was there, whatever its type); moved in when given
  /// as an rvalue. A C string is stored as a std::string.
  template <class T>
  void set(const std::string& name, T&& value) {
    using V = detail::wire_t<std::remove_cvref_t<T>>;
    put(name, typeid(V).name(), std::make_shared<V>(std::forward<T>(value)));
  }
  /// A copy of the value stored under name. Throws ranks::Error if there is none, or if it is
  /// not a T.
  template <class T>
  [[nodiscard]] T get(const std::string& name) const {
    return *share<T>(name);
  }
  /// The value stored under name, shared rather than copied: it stays valid after the name is
  /// erased or set again. Throws as get() does.
  template <class T>
  [[nodiscard]] std::shared_ptr<const T> share(const std::string& name) const {
    return std::static_pointer_cast<const T>(checked(name, typeid(T).name()));
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

 private:
  struct Value {
    const char* type;  // typeid(T).name(): static storage, equal across ranks of one binary
    std::shared_ptr<const void> object;
  };
  void put(const std::string& name, const char* type, std::shared_ptr<const void> object);
  /// The value under name, checked to be of `type` (a typeid(T).name()).
  [[nodiscard]] const std::shared_ptr<const void>& checked(const std::string& name,
                                                           const char* type) const;
  const Value& find(const std::string& name) const;
  std::map<std::string, Value> values_;
};

namespace detail {
/// The namespace of this engine (execute, push, pull, scatter and gather use it).
Namespace& engine_namespace();
}  // namespace detail

}  // namespace ranks
