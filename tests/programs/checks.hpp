#pragma once

// The whole programs' checks: each failed one says which on stderr and is counted; a mode exits
// 0 only if none failed.

#include <iostream>
#include <string>

inline int failures = 0;

inline void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "CHECK FAILED: " << what << std::endl;
    ++failures;
  }
}
