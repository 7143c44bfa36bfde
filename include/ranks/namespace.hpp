#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "ranks/detail/traits.hpp"
#include "ranks/error.hpp"

/// @file
/// ranks::Namespace, each engine's store of named values.

namespace ranks {

namespace detail {
struct NamespaceAccess;
}  // namespace detail

/// Each engine's store of named values, like the namespace an IPython engine keeps. Values keep
/// their type: reading one as another type throws ranks::Error naming both, and leaves the
/// value in place. DirectView::push / pull / scatter / gather and execute() use the engine's
/// namespace; a Namespace of your own works anywhere.
///
/// @code
/// dview.execute([](ranks::Namespace& ns) { ns.set("a", 1); }).get();   // runs on each target
/// dview.execute([](ranks::Namespace& ns) { ns.set("a", ns.get<int>("a") + 1); }).get();
/// @endcode
class Namespace {
 public:
  /// Stores value under name (replacing what was there, whatever its type); moved in when given
  /// as an rvalue. A C string or a std::string_view is stored as a std::string, a std::span<T>
  /// as a std::vector<T>.
  template <class T>
  void set(const std::string& name, T&& value) {
    using V = detail::wire_t<std::remove_cvref_t<T>>;
    if constexpr (detail::is_span<std::remove_cvref_t<T>>::value) {
      put(name, typeid(V).name(), std::make_shared<V>(value.begin(), value.end()));
    } else {
      put(name, typeid(V).name(), std::make_shared<V>(std::forward<T>(value)));
    }
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
  friend struct detail::NamespaceAccess;
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

struct NamespaceAccess {
  /// The T stored under name, to be overwritten in place, if the namespace alone holds it (no
  /// share() or pull still reads it); else null.
  template <class T>
  static T* sole(Namespace& ns, const std::string& name) {
    const auto it = ns.values_.find(name);
    if (it == ns.values_.end() || it->second.object.use_count() != 1) return nullptr;
    const char* type = typeid(T).name();
    if (it->second.type != type && std::string_view(it->second.type) != type) return nullptr;
    // Stored by set() as a T made with make_shared: only the handle is const.
    return const_cast<T*>(static_cast<const T*>(it->second.object.get()));
  }
};
}  // namespace detail

}  // namespace ranks
