// The progress bar of AsyncResult::wait_interactive (detail/progress.hpp): a bar redrawn on a
// terminal, a line a second in a log file.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ranks/detail/progress.hpp"

namespace ranks::detail {

void draw_progress_bar(std::size_t done, std::size_t total, const char* units,
                       std::chrono::steady_clock::duration elapsed, bool last) {
  using namespace std::chrono;
  static const bool tty = isatty(STDERR_FILENO) != 0;
  static steady_clock::time_point last_line;
  const double secs = duration<double>(elapsed).count();
  if (tty) {
    constexpr std::size_t kWidth = 40;
    const std::size_t filled = total ? kWidth * done / total : kWidth;
    const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu %s %6.1f s%s", bar.c_str(), done, total, units, secs,
                 last ? "\n" : "");
  } else {
    // A log file gets a line a second, not a redrawn bar.
    const auto now = steady_clock::now();
    if (!last && now - last_line < seconds(1)) return;
    last_line = now;
    std::fprintf(stderr, "%zu/%zu %s done after %.1f s%s\n", done, total, units, secs,
                 last ? " (finished)" : "");
  }
  std::fflush(stderr);
}

}  // namespace ranks::detail
