#include "ranks/detail/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "controller.hpp"

namespace ranks::detail {

bool wait_until(const std::function<bool()>& done,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
  return the_controller("waiting for a result").wait_until(done, deadline);
}

std::unique_lock<std::mutex> lock() { return the_controller("ranks").lock(); }

void post(std::function<void()> fn) { controller()->post(std::move(fn)); }

void show_progress(std::size_t done, std::size_t total, std::chrono::steady_clock::duration elapsed,
                   bool last) {
  using namespace std::chrono;
  static const bool tty = isatty(STDERR_FILENO) != 0;
  static steady_clock::time_point last_line;
  const double secs = duration<double>(elapsed).count();
  if (tty) {
    constexpr std::size_t kWidth = 40;
    const std::size_t filled = total ? kWidth * done / total : kWidth;
    const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu tasks %6.1f s%s", bar.c_str(), done, total, secs,
                 last ? "\n" : "");
  } else {
    // A log file gets a line a second, not a redrawn bar.
    const auto now = steady_clock::now();
    if (!last && now - last_line < seconds(1)) return;
    last_line = now;
    std::fprintf(stderr, "%zu/%zu tasks done after %.1f s%s\n", done, total, secs,
                 last ? " (finished)" : "");
  }
  std::fflush(stderr);
}

}  // namespace ranks::detail
