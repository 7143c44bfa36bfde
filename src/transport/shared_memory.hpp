#pragma once

// Memory that processes on one host share: a file in /dev/shm that one side makes and the others
// map by its name, and the futex calls that let a process sleep on a word in it until another
// changes it. The controller's channels to its engines, the rings between engines, and the
// objects that live in shared memory stand on these.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace ranks::detail::transport {

/// A mapping of a named file in /dev/shm. Made by create (which makes the file, zero-filled, and
/// removes it when dropped unless someone took it over) or open (which maps an existing one).
class SharedMemory {
 public:
  SharedMemory() = default;
  /// Makes the file `name` (under /dev/shm) of `size` bytes, zero-filled, and maps it. Throws
  /// ranks::Error saying why it cannot (`what` names it there).
  /// `init`, if given, sets up the memory before the file has its name (before anyone can open
  /// it).
  static SharedMemory create(const std::string& name, std::size_t size,
                             const std::string& what = "shared memory",
                             const std::function<void(void*)>& init = {});
  /// Maps the existing file `name`. Throws ranks::Error saying why it cannot (on another host
  /// the file is not there).
  static SharedMemory open(const std::string& name, std::size_t size,
                           const std::string& what = "shared memory");
  SharedMemory(SharedMemory&& o) noexcept { *this = std::move(o); }
  SharedMemory& operator=(SharedMemory&& o) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory();

  [[nodiscard]] void* data() const { return map_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  /// Removes the file now (the mappings stay): once every side has mapped it.
  void unlink();

 private:
  void release() noexcept;
  std::string name_;
  void* map_ = nullptr;
  std::size_t size_ = 0;
  bool owns_file_ = false;  // the file is removed when this goes
};

/// Sleeps while `word` (in shared memory) holds `seen`, at most `most`; wakes early for nothing
/// now and then, as futexes may.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                std::chrono::microseconds most);
/// Wakes up to n processes sleeping on `word`.
void futex_wake(std::atomic<std::uint32_t>& word, int n = 1);

}  // namespace ranks::detail::transport
