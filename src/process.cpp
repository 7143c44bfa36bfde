#include "ranks/process.hpp"

#include "log.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/detail/runtime.hpp"

namespace ranks::detail {

ProcessHandle::~ProcessHandle() {
  // Like Python at exit: a started process is waited for, never abandoned.
  try {
    if (state_ && state_.use_count() == 1 && !state_->is_ready()) join();
  } catch (...) {
  }
}

void ProcessHandle::launch(Bytes msg) {
  if (state_) throw Error("Process::start() called twice; a process can be started once");
  auto group = default_group();
  auto state = std::make_shared<State<void>>();
  auto job = std::make_shared<SingleJob<void>>(Message(std::move(msg)), state);
  submit(*group, job);
  state_ = std::move(state);
}

void ProcessHandle::join() const {
  if (!state_) throw Error("Process::join() called before start()");
  auto* s = state_.get();
  if (!s->is_ready()) wait_until([s] { return s->is_ready(); });
  if (auto e = s->error()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      // Like Python, a failed run() is reported, not raised; exitcode() says 1.
      if (!reported_) {
        reported_ = true;
        log_line(std::string("Process failed: ") + ex.what());
      }
    }
  }
}

bool ProcessHandle::wait_for(std::chrono::nanoseconds timeout) const {
  if (!state_) throw Error("Process::join() called before start()");
  auto* s = state_.get();
  if (s->is_ready() ||
      wait_until([s] { return s->is_ready(); }, std::chrono::steady_clock::now() + timeout)) {
    join();
    return true;
  }
  return false;
}

std::optional<int> ProcessHandle::exitcode() const {
  if (!state_ || !state_->is_ready()) return std::nullopt;
  return state_->error() ? 1 : 0;
}

bool ProcessHandle::is_alive() const { return state_ && !state_->is_ready(); }

}  // namespace ranks::detail
