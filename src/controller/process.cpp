#include "ranks/process.hpp"

#include "base/log.hpp"
#include "controller/controller.hpp"
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
  // Like Python's, a process whose engine dies is not run again: its exitcode says the signal.
  auto job =
      std::make_shared<SingleJob<void>>(Message(std::move(msg)), state, TaskPolicy{0, false, {}});
  job->kind = "Process";
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
  if (!state_->error()) return 0;
  try {
    std::rethrow_exception(state_->error());
  } catch (const EngineLost& e) {
    return -e.signal();
  } catch (...) {
  }
  return 1;
}

void ProcessHandle::end(int sig) {
  if (!state_) throw Error("Process::terminate() or kill() called before start()");
  if (state_->is_ready()) return;  // like Python: ending a finished process does nothing
  auto job = state_->job();
  if (!job) return;
  Controller& c = the_controller("Process::terminate");
  if (c.signal_job(job, sig)) {
    reported_ = true;  // the end was asked for: no "Process failed" line
    return;
  }
  // Not running yet: dropped from the queue, as if its engine had been ended.
  reported_ = true;
  c.abort(job, std::make_exception_ptr(
                   EngineLost(-1, "", 0, sig, "the process was ended before it ran")));
}

bool ProcessHandle::is_alive() const { return state_ && !state_->is_ready(); }

}  // namespace ranks::detail
