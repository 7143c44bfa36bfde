#pragma once

// The benchmark's workloads, defined exactly so that every backend (and every peer script)
// runs the same tasks.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

namespace bench {

inline constexpr int kTinyN = 100000;    // tiny: map(square, 0..N-1)
inline constexpr int kLatencyN = 2000;   // latency: sequential apply(square, i)
inline constexpr int kImbalanceN = 400;  // imbalance: tasks of 0.1 - 5 ms
inline constexpr std::size_t kBandwidthBytes = std::size_t{64} << 20;  // 64 MiB round trip
inline constexpr std::size_t kReduceN = 1'000'000;  // doubles per engine, summed elementwise

inline int square(int x) { return x * x; }

/// Busy-waits (spins on a monotonic clock, never sleeps) for `ms` milliseconds; returns ms.
inline double spin(double ms) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double, std::milli>(ms));
  while (std::chrono::steady_clock::now() < end) {
  }
  return ms;
}

/// Sleeps `us` microseconds (needs no core: many engines share two); returns us. The
/// engines and the thread pool sleep alike, timer slack and all.
inline double nap(double us) {
  std::this_thread::sleep_for(std::chrono::duration<double, std::micro>(us));
  return us;
}

/// How many sleeping tasks of `us` keep `workers` busy for about `seconds`: at least 4 each,
/// at most 200 000 (a run's length stays bounded at 100 us).
inline std::size_t nap_count(double us, int workers, double seconds) {
  const double n = seconds * 1e6 / us * workers;
  return static_cast<std::size_t>(std::clamp(n, 4.0 * workers, 200000.0));
}

/// d_i = 0.1 + 4.9 * ((i * 7919) % 400) / 399 ms.
inline double task_ms(int i) {
  return 0.1 + 4.9 * static_cast<double>((static_cast<long long>(i) * 7919) % kImbalanceN) / 399.0;
}

/// The imbalance tasks' durations, in the order of increasing (i * 2654435761) mod 2^32.
inline std::vector<double> imbalance_tasks() {
  std::vector<int> order(kImbalanceN);
  std::iota(order.begin(), order.end(), 0);
  auto key = [](int i) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) * 2654435761ull);
  };
  std::sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  std::vector<double> ms;
  for (int i : order) ms.push_back(task_ms(i));
  return ms;
}

inline double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

inline std::vector<int> iota_ints(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace bench
