#pragma once

// What tasks print on an engine of a started cluster. Under mpirun or spawning, Open MPI passes
// a rank's output on to the program's terminal; an attached program's engines belong to
// another job, so they capture it and send it to the program themselves.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace ranks::detail {

class OutputCapture {
 public:
  /// Points this process's stdout and stderr into pipes that a thread empties.
  OutputCapture();
  /// Puts stdout and stderr back.
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  /// What was printed since the last call, the streams flushed and the pipes emptied first;
  /// false if nothing. When nothing was printed through stdio or iostreams it makes no system
  /// call; what was written to the descriptors directly comes with a later call.
  bool take(std::string& out, std::string& err);

 private:
  void drain();

  int saved_[2] = {-1, -1};  // the engine's own stdout and stderr
  int read_[2] = {-1, -1};   // the pipes' ends this side reads
  int stop_[2] = {-1, -1};   // wakes the thread to end
  std::mutex mu_;
  std::string got_[2];
  std::atomic<bool> reading_{false};  // the thread holds bytes it has read, not yet kept
  std::atomic<bool> kept_{false};     // got_ holds something
  std::thread reader_;
};

}  // namespace ranks::detail
