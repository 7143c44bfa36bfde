#pragma once

// Types the suites send to engines.

#include <string>
#include <vector>

namespace ranks_test {

// A user type that is not trivially copyable: travels through Boost.Serialization.
struct Person {
  std::string name;
  std::vector<int> scores;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& name& scores;
  }
  bool operator==(const Person&) const = default;
};

}  // namespace ranks_test
