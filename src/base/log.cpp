#include "base/log.hpp"

#include <unistd.h>

#include <string>

#include "ranks/error.hpp"

namespace ranks::detail {

std::string_view unprefixed(std::string_view text) {
  return text.substr(0, kPrefix.size()) == kPrefix ? text.substr(kPrefix.size()) : text;
}

void log_line(std::string_view text) {
  text = unprefixed(text);
  std::string line;
  line.reserve(kPrefix.size() + text.size() + 1);
  line.append(kPrefix).append(text).push_back('\n');
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace ranks::detail
