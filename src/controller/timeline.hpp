#pragma once

// A run's timeline (RANKS_TIMELINE=FILE, ranks::record_timeline): every task that ended, on the
// engine that ran it, and every engine lost, in Chrome's trace event JSON, which Perfetto and
// chrome://tracing open. A host is a process of the trace (pid 1, 2, ...; the program is pid 0),
// an engine a thread of it (tid: the engine's id + 1); times are microseconds from the run's
// start. The controller hands each record (48 bytes) over in a few nanoseconds. Records wait in
// memory, so that writing costs the run nothing, up to a million tasks (RANKS_TIMELINE_HOLD);
// beyond, a thread of the timeline's own writes the oldest, so that a run of any length holds a
// bounded part of it. The file is complete when the program ends; a program killed on the way
// leaves what was written (nothing of its last million tasks), which `ranks timeline` still
// reads.

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ranks::detail {

/// One task as it ended: where it ran, when (the engine's clock, ns since the epoch), and the
/// call it belongs to.
struct TaskRecord {
  int engine = -1;
  std::int64_t started_ns = 0;
  std::int64_t completed_ns = 0;
  const char* kind = "";  // Job::kind
  std::uint64_t call = 0;
  std::uint64_t first = 0;
  std::uint64_t count = 1;
  int attempt = 0;
  bool ok = true;
};

class Timeline {
 public:
  /// Tasks kept in memory before the oldest are written, unless RANKS_TIMELINE_HOLD says.
  static constexpr std::size_t kHold = std::size_t{1} << 20;
  /// Starts the file at path, for the program named program (pid, host: the controller's),
  /// holding up to `hold` tasks in memory. Throws ranks::Error, saying what to do, if it cannot
  /// be written.
  Timeline(const std::string& path, const std::string& program, std::size_t hold = kHold);
  /// Completes the file (close()).
  ~Timeline();
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  /// Whether engine id's track is named.
  [[nodiscard]] bool named(int id) const {
    return id >= 0 && static_cast<std::size_t>(id) < host_of_.size() && host_of_[id] != 0;
  }
  /// Names an engine's track: before its first task or loss (again: nothing).
  void engine(int id, const std::string& host, int pid);
  /// A task that ended.
  void task(const TaskRecord& r);
  /// An engine lost (its death heard) at at_ns, by signal.
  void lost(int engine, int signal, std::int64_t at_ns);
  /// Writes the rest and the run's own event; the file is then complete. Again: nothing.
  void close();
  /// The file's path.
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  // A record as it waits to be written: 48 bytes.
  struct Entry {
    std::int64_t started_ns = 0;  // kLost: when
    std::int64_t completed_ns = 0;
    std::uint64_t first = 0;  // kEngine: the engine's pid; kLost: the signal
    const char* kind = "";
    std::uint32_t call = 0;  // kEngine: its host's index
    std::uint32_t count = 1;
    std::int32_t engine = -1;
    std::uint16_t attempt = 0;
    enum class Is : std::uint8_t { kTask, kLost, kEngine } is = Is::kTask;
    bool ok = true;
  };
  struct Batch {
    std::vector<Entry> entries;
    std::vector<std::string> new_hosts;  // named by kEngine entries, in order
  };
  void hand_over();
  void write_loop();
  void write(const Batch& b);
  void put(const std::string& text);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::int64_t start_ns_ = 0;
  std::size_t batch_;  // records handed over at once
  std::size_t held_;   // batches kept unwritten while the run goes on; past twice as many, wait
  // The controller's side.
  Batch filling_;
  std::map<std::string, int> host_index_;
  std::vector<int> host_of_;  // by engine id: its host's index + 1 (0: not named yet)
  std::uint64_t tasks_ = 0;
  bool closed_ = false;
  // The writer's.
  std::vector<std::string> hosts_;
  std::vector<int> engine_host_;  // by engine id: its host's index
  std::string text_;
  bool failed_ = false;  // a write failed: said once, nothing more is written
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> full_;
  std::vector<std::vector<Entry>> spares_;  // empty, their pages touched
  bool ending_ = false;
  std::thread writer_;
};

}  // namespace ranks::detail
