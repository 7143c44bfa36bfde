#pragma once

// Life lines: a TCP connection from each engine to its controller, open while both live. An
// engine's death closes it at once, whatever ended the engine and on whichever host it ran
// (its kernel closes the socket), while a stopped or busy engine keeps it open. A fatal signal
// the engine can catch is written on the line first, so the controller learns which; an engine
// that leaves no word was killed (SIGKILL, the out-of-memory killer). The controller asks an
// engine to end itself through its line (a task past its timeout, Process::terminate), and an
// engine whose controller is gone ends itself.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ranks::detail::lifeline {

/// An engine's line that closed: which engine, and the signal that ended it (9 if it left no
/// word).
struct Death {
  int engine;
  int signal;
};

/// The controller's end: a socket listening on every interface and a thread that waits on it
/// and on every line, asleep until something happens.
class Watch {
 public:
  /// Throws ranks::Error when it cannot listen.
  Watch();
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  /// What engine `engine` needs to connect: the addresses to try (loopback first for an engine
  /// on this host), the port, and a token of its own. Registers the engine; `who` names it in
  /// the reports of report_deaths.
  std::string invitation(int engine, bool same_host, std::string who = {});
  /// From now on, a line that closes without last words (SIGKILL, the out-of-memory killer) is
  /// reported at once, from the watch's thread: "<who> died ...; <consequence>". For a job that
  /// its MPI ends when a process dies: the launcher may end this process before any other
  /// thread looks. (An engine that catches its signal reports itself.)
  void report_deaths(std::string consequence);
  /// No more reports: the engines were told to stop, and their lines close as they leave.
  void quiet();
  /// Whether engine's line was up at some time (its death is then known here).
  [[nodiscard]] bool had_line(int engine);
  /// Whether a line closed since the last take() (one atomic load: cheap enough for every poll).
  [[nodiscard]] bool pending() const { return pending_.load(std::memory_order_acquire); }
  /// The lines that closed since the last call.
  std::vector<Death> take();
  /// Whether engine's line is up.
  [[nodiscard]] bool connected(int engine);
  /// Asks the engine to end itself with signal sig; false if its line is not up.
  bool end(int engine, int sig);
  /// Forgets an engine whose end is expected (its line closing is then no news).
  void forget(int engine);

 private:
  struct Line {
    std::uint64_t token = 0;
    int fd = -1;
    int signal = 0;  // its last words
    std::string who;
  };
  void loop();

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::unordered_map<int, Line> lines_;
  std::vector<int> pending_fds_;  // accepted, not yet introduced
  std::vector<Death> deaths_;
  std::vector<int> had_line_;
  std::string report_;  // report_deaths's consequence; empty: no reports
  std::atomic<bool> pending_{false};
  std::atomic<bool> stop_{false};
  std::vector<std::string> addresses_;
  std::thread thread_;
};

/// The engine's end: connects to its controller as the invitation says and watches the line
/// from a thread of its own. Returns "" or why it could not connect.
std::string hold(const std::string& invitation, int engine);
/// The engine was told to stop: its line closing from now on is no news.
void leaving();
/// From a fatal signal's handler: writes sig on the line (async-signal-safe; a no-op without one).
void last_words(int sig);

}  // namespace ranks::detail::lifeline
