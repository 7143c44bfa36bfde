#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "ranks/error.hpp"
#include "ranks/namespace.hpp"

/// @file
/// ranks::Reference, an engine's own value named in a task's arguments.

namespace ranks {

/// A value in the engine's own namespace, named where an argument goes (IPython's Reference):
/// apply, map and starmap items, and a Process's arguments. Only the name travels; on the
/// engine the task's parameter gets the value stored under it, typed by the parameter and
/// checked as pull checks (no such name, or another type: the task fails naming both). Large
/// data pushed once is read where it lies, never sent again.
///
/// @code
/// auto c = lview.apply(f, ranks::Reference("data"));   // the engine's own namespace value "data"
/// dview.push("data", big_vector).get();
/// auto sums = lview.apply([](const std::vector<double>& d) { return sum(d); },
///                         ranks::Reference("data"));
/// @endcode
///
/// A parameter of type `const T&` reads the stored value in place; `T` copies it; `T&` is
/// refused at compile time (the engine keeps the value). Where the parameter's type cannot be
/// known (a generic lambda's `auto`, a functor with several operator()), the parameter
/// receives the Reference itself: read it with `get<T>()`.
class Reference {
 public:
  /// A Reference to no name (made when one is received as an argument).
  Reference() = default;
  /// Stands for the value under `name` in the namespace of the engine that runs the task.
  explicit Reference(std::string name) : name_(std::move(name)) {}
  /// As Reference(std::string).
  explicit Reference(const char* name) : name_(name) {}

  /// The name it stands for.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// On an engine: the value under the name in its namespace, held while this Reference lives.
  /// No such name, or not a T: ranks::Error naming both.
  template <class T>
  [[nodiscard]] const T& get() const {
    try {
      auto value = detail::engine_namespace().share<T>(name_);
      const T& ref = *value;
      held_ = std::move(value);
      return ref;
    } catch (const Error& e) {
      std::string_view why = e.what();
      if (why.starts_with(detail::kPrefix)) why.remove_prefix(detail::kPrefix.size());
      throw Error("ranks::Reference(\"" + name_ + "\"): " + std::string(why));
    }
  }
  /// For Boost.Serialization: only the name travels.
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar& name_;
  }

 private:
  std::string name_;
  mutable std::shared_ptr<const void> held_;
};

}  // namespace ranks
