#include "ranks/namespace.hpp"

#include <cstring>

#include "engine/engine.hpp"
#include "ranks/detail/error_report.hpp"
#include "ranks/error.hpp"
#include "ranks/run.hpp"

namespace ranks {

namespace {

std::string where() {
  const int e = engine_id();
  return e >= 0 ? "engine " + std::to_string(e) + "'s namespace" : "the namespace";
}

// What the namespace holds, and on a replacement engine why a name may be missing.
std::string listing(const std::vector<std::string>& names) {
  std::string s = names.empty() ? "it is empty" : "it holds ";
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (std::string note = detail::in_place_note(); !note.empty()) s += "; " + note;
  return s;
}

}  // namespace

std::vector<std::string> Namespace::names() const {
  std::vector<std::string> out;
  out.reserve(values_.size());
  for (const auto& [name, value] : values_) out.push_back(name);
  return out;
}

std::string Namespace::type_name(const std::string& name) const {
  return detail::demangle(find(name).type);
}

void Namespace::put(const std::string& name, const char* type, std::shared_ptr<const void> object) {
  values_.insert_or_assign(name, Value{type, std::move(object)});
}

const std::shared_ptr<const void>& Namespace::checked(const std::string& name,
                                                      const char* type) const {
  if (!contains(name))
    throw Error("no name '" + name + "' (read as a " + detail::demangle(type) + ") in " + where() +
                " (" + listing(names()) + "); push it or set it first");
  const Value& v = find(name);
  // Names of one binary's type_info may still differ in address across shared objects.
  if (v.type != type && std::strcmp(v.type, type) != 0)
    throw Error("'" + name + "' in " + where() + " holds a " + detail::demangle(v.type) +
                ", not a " + detail::demangle(type) + "; read it as " + detail::demangle(v.type));
  return v.object;
}

const Namespace::Value& Namespace::find(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw Error("no name '" + name + "' in " + where() + " (" + listing(names()) +
                "); push it or set it first");
  return it->second;
}

namespace detail {
Namespace& engine_namespace() {
  static Namespace ns;
  return ns;
}
}  // namespace detail

}  // namespace ranks
