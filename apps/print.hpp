#pragma once

// Prints a vector the way Python prints a list: [0, 1, 4].

#include <iostream>
#include <string>
#include <vector>

template <class T>
std::string as_list(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
