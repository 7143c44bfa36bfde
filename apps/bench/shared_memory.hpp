#pragma once

// The shared-memory references: a C++ thread pool (workers take chunks from an atomic counter)
// and OpenMP's dynamic schedule.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  [[nodiscard]] int size() const { return static_cast<int>(threads_.size()); }

  /// Runs body(begin, end) over [0, n) in chunks of `chunk`; returns when all are done.
  void parallel_for(std::size_t n, std::size_t chunk,
                    const std::function<void(std::size_t, std::size_t)>& body) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      body_ = &body;
      n_ = n;
      chunk_ = chunk == 0 ? 1 : chunk;
      next_.store(0);
      active_ = static_cast<int>(threads_.size());
      ++generation_;
    }
    cv_.notify_all();
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return active_ == 0; });
  }

 private:
  void work() {
    std::uint64_t seen = 0;
    while (true) {
      const std::function<void(std::size_t, std::size_t)>* body;
      std::size_t n, chunk;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        body = body_;
        n = n_;
        chunk = chunk_;
      }
      while (true) {
        const std::size_t begin = next_.fetch_add(chunk);
        if (begin >= n) break;
        (*body)(begin, std::min(n, begin + chunk));
      }
      std::lock_guard<std::mutex> lk(mu_);
      if (--active_ == 0) done_cv_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::size_t, std::size_t)>* body_ = nullptr;
  std::size_t n_ = 0, chunk_ = 1;
  std::atomic<std::size_t> next_{0};
  int active_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

/// OpenMP's parallel for, schedule(dynamic, chunk).
void openmp_for(int workers, std::size_t n, std::size_t chunk,
                const std::function<void(std::size_t)>& body);
int* openmp_square_all(int workers, const std::vector<int>& in, std::vector<int>& out,
                       std::size_t chunk);

}  // namespace bench
