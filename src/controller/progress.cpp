// Waiting while driving progress (moving messages and collectives along): the controller's
// poll, its progress thread and result callbacks (members of Controller), and what the
// header-only API calls to wait (detail/progress.hpp).

#include "ranks/detail/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "base/log.hpp"
#include "controller/controller.hpp"
#include "ranks/detail/state.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_in_callbacks = false;

// Marks the thread as running callbacks, so a callback that waits does not run others inside.
struct CallbackScope {
  CallbackScope() { t_in_callbacks = true; }
  ~CallbackScope() { t_in_callbacks = false; }
};

}  // namespace

bool Controller::poll() {
  if (scheduler_.needs_check() || (watch_ && watch_->pending())) check_engines();
  tell_objects_of_losses();
  if (objects_.waiting()) objects_.check(Clock::now());
  outbox_.progress();
  bool any = false;
  for (int e = 0; e < roster_.size(); ++e) {
    transport::Channel* ch = roster_.engine(e).channel.get();
    if (!ch) continue;
    while (ch->try_recv(incoming_)) {
      any = true;
      handle(incoming_.data, incoming_.attachments());
    }
  }
  for (std::size_t i = 0; i < roster_.links().size(); ++i) {
    const Link& l = roster_.links()[i];
    // Engines with a channel send nothing by MPI but their attachments (and messages too large
    // for the ring, which the channel receives itself): no probe needed.
    if (all_channelled_[i]) continue;
    if (l.origin == Origin::kRelayed) {
      int rank = 0;
      while (auto r = cluster_->next_relayed(rank)) {
        any = true;
        handle(r->data, r->attachments());
      }
      continue;
    }
    while (transport::try_recv(l.comm, MPI_ANY_SOURCE, incoming_)) {
      any = true;
      handle(incoming_.data, incoming_.attachments());
    }
  }
  const StaticQueue::Deliver deliver = [this](StaticJob& job, Group& group, std::size_t slot,
                                              Reply& r) {
    scheduler_.ledger().take_slot(group, slot);
    const std::size_t seen = job.state().metadata().size();
    job.deliver(slot, r);
    scheduler_.delivered(group.engines[slot], r.outcome, job, seen);
  };
  for (auto& q : statics_)
    if (q.progress(deliver)) any = true;
  if (any) scheduler_.dispatch_all();
  // The receive buffer is kept between polls (no page faults for every large reply), unless huge.
  if (incoming_.data.capacity() > (std::size_t{256} << 20)) incoming_.data = Bytes();
  return any;
}

bool Controller::busy() const {
  if (scheduler_.busy() || !callbacks_.empty() || !outbox_.empty()) return true;
  for (int e = 0; e < roster_.size(); ++e)
    if (const auto& c = roster_.engine(e).channel; c && !c->idle()) return true;
  return std::any_of(statics_.begin(), statics_.end(),
                     [](const StaticQueue& q) { return !q.empty(); });
}

void Controller::run_callbacks() {
  if (t_in_callbacks) return;
  std::unique_lock<std::mutex> cb(callback_mu_, std::try_to_lock);
  if (!cb.owns_lock()) return;
  CallbackScope scope;
  while (true) {
    std::vector<std::function<void()>> batch;
    {
      auto lk = lock();
      batch.swap(callbacks_);
    }
    if (batch.empty()) return;
    for (auto& fn : batch) {
      try {
        fn();
      } catch (const std::exception& e) {
        log_line(std::string("a result callback threw: ") + e.what());
      }
    }
  }
}

Controller::Drove Controller::drive() {
  Drove d;
  {
    auto lk = lock();
    d.any = poll();
    if (!d.any) watch_engines();
    d.sending = !outbox_.empty();
  }
  run_callbacks();
  return d;
}

bool Controller::wait_until(const std::function<bool()>& done,
                            std::optional<Clock::time_point> deadline) {
  struct Waiting {
    Controller& c;
    explicit Waiting(Controller& c) : c(c) {
      auto lk = c.lock();
      ++c.waiters_;
    }
    ~Waiting() {
      auto lk = c.lock();
      --c.waiters_;
    }
  } waiting(*this);
  transport::Backoff backoff(std::chrono::microseconds(1000));
  bool ok = true;
  while (!done()) {
    if (deadline && Clock::now() >= *deadline) {
      ok = false;
      break;
    }
    const Drove d = drive();
    if (d.any) {
      backoff.reset();
    } else {
      backoff.pause(d.sending);
    }
  }
  // Callbacks of what just finished run before the caller goes on (they may use its locals).
  if (!t_in_callbacks) {
    while (true) {
      {
        auto lk = lock();
        if (callbacks_.empty()) break;
      }
      run_callbacks();
      std::this_thread::yield();
    }
  }
  return ok;
}

void Controller::progress_loop() {
  // Keeps results moving while no caller waits. It never spins: a caller that waits drives
  // progress itself (a thread hand-off costs more than an MPI round trip), so this thread
  // polls at a growing interval and is woken only from a deep sleep: waking it for every
  // submit would steal a core from the engines on a small machine.
  using std::chrono::microseconds;
  microseconds pause(200);
  auto last_active = Clock::now();
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    if (waiters_ > 0 || !busy()) {
      if (waiters_ > 0) {
        cv_.wait_for(lk, std::chrono::milliseconds(10));  // the caller polls; look in later
      } else if (Clock::now() - last_active < std::chrono::seconds(1)) {
        cv_.wait_for(lk, std::chrono::milliseconds(1));
      } else {
        deep_sleep_ = true;
        cv_.wait_for(lk, std::chrono::milliseconds(100));
        deep_sleep_ = false;
      }
      if (waiters_ > 0) last_active = Clock::now();
      if (waiters_ == 0) watch_engines();
      pause = microseconds(200);
      continue;
    }
    last_active = Clock::now();
    if (cv_.wait_for(lk, pause, [this] { return waiters_ > 0 || stopping_; })) continue;
    bool any = false;
    try {
      any = poll();
    } catch (const std::exception& e) {
      log_line(std::string("the controller's progress failed: ") + e.what());
      transport::abort(1);
    }
    lk.unlock();
    run_callbacks();
    lk.lock();
    if (!any) watch_engines();
    pause = any ? microseconds(200) : std::min(microseconds(2000), pause * 2);
  }
}

bool wait_until(const std::function<bool()>& done,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
  return the_controller("waiting for a result").wait_until(done, deadline);
}

std::unique_lock<std::mutex> lock() { return the_controller("ranks").lock(); }

void post(std::function<void()> fn) { controller()->post(std::move(fn)); }

void abort(StateBase& s) {
  if (s.is_ready()) return;
  auto why = std::make_exception_ptr(
      Aborted("the work was aborted (AsyncResult::abort) before it finished"));
  auto job = s.job();
  if (!job) {  // not sent yet: it waits for the tasks it depends on
    auto lk = lock();
    s.fail(why);
    return;
  }
  the_controller("AsyncResult::abort").abort(job, why);
}

}  // namespace ranks::detail
