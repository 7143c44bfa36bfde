#pragma once

// A value as Python's examples hold them (an int, a float, a str or None) and printed as Python
// prints it (repr), so that the C++ twins of Python's examples print the same lines.

#include <charconv>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

struct PyNone {};
inline constexpr PyNone None{};

class PyValue {
 public:
  PyValue() = default;
  PyValue(PyNone) {}  // NOLINT(google-explicit-constructor): as Python writes it
  PyValue(int i) : kind_(Kind::kInt), i_(i) {}                     // NOLINT
  PyValue(double d) : kind_(Kind::kFloat), d_(d) {}                // NOLINT
  PyValue(const char* s) : kind_(Kind::kStr), s_(s) {}             // NOLINT
  PyValue(std::string s) : kind_(Kind::kStr), s_(std::move(s)) {}  // NOLINT

  /// What Python's repr() gives: 42, 0.25, 'hello', None.
  [[nodiscard]] std::string repr() const {
    switch (kind_) {
      case Kind::kInt:
        return std::to_string(i_);
      case Kind::kFloat: {
        char buf[32];
        const auto end = std::to_chars(buf, buf + sizeof buf, d_).ptr;  // shortest, as Python's
        std::string s(buf, end);
        if (s.find_first_of(".en") == std::string::npos) s += ".0";
        return s;
      }
      case Kind::kStr:
        return "'" + s_ + "'";
      case Kind::kNone:
        break;
    }
    return "None";
  }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar& kind_& i_& d_& s_;
  }

 private:
  enum class Kind : std::uint8_t { kNone, kInt, kFloat, kStr };
  Kind kind_ = Kind::kNone;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

inline std::ostream& operator<<(std::ostream& os, const PyValue& v) { return os << v.repr(); }

/// A list as Python prints it: [42, None, 'hello'].
inline std::string repr(const std::vector<PyValue>& list) {
  std::string s = "[";
  for (std::size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + list[i].repr();
  return s + "]";
}

/// A dict as Python prints it: {1: '1', '2': 2}.
inline std::string repr(const std::vector<std::pair<PyValue, PyValue>>& dict) {
  std::string s = "{";
  for (std::size_t i = 0; i < dict.size(); ++i)
    s += (i ? ", " : "") + dict[i].first.repr() + ": " + dict[i].second.repr();
  return s + "}";
}
