// Engines lost (members of Controller): deaths heard from life lines, this host's processes and
// a started cluster's hub, handed to the scheduler; engines ended on purpose (the scheduler's
// EnginePort::end); jobs ended where the launch does not survive a lost engine.

#include <signal.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "base/host.hpp"
#include "base/log.hpp"
#include "controller/controller.hpp"
#include "door/protocol.hpp"
#include "ranks/error.hpp"
#include "transport/mpi_flavor.hpp"

namespace ranks::detail {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

void Controller::lose_engine(int engine, int sig) {
  if (watch_) watch_->forget(engine);
  scheduler_.lose_engine(engine, sig);
  // Its objects hear of it now, before anyone hears that its work failed: a lock it held is
  // given back, and its place at a condition dropped, before the program can notify there.
  tell_objects_of_losses();
}

void Controller::hear_cluster() {
  const auto now = Clock::now();
  if (now - last_heard_ < std::chrono::milliseconds(200)) return;
  last_heard_ = now;
  report_to_cluster();
  for (const auto& ev : cluster_->events()) {
    const cluster::Event what = cluster::event_of(ev);
    if (what == cluster::Event::kEngineLost) {
      const int e = ev.value("engine", -1);
      if (!roster_.known(e)) continue;
      lose_engine(e, ev.value("signal", SIGKILL));
    } else if (what == cluster::Event::kStopping) {
      const std::string msg = "cluster '" + cluster_->name() + "' was stopped; work on it fails";
      log_line(msg);
      scheduler_.lose_all(std::make_exception_ptr(Error(msg)));
    }
  }
}

bool Controller::end(int e, int sig) {
  const Engine& m = roster_.engine(e);
  if (watch_ && watch_->end(e, sig)) return true;
  return m.local && m.pid > 0 && ::kill(m.pid, sig) == 0;
}

bool Controller::gone(int e) {
  const Engine& m = roster_.engine(e);
  return !m.local || !process_alive(m.pid);
}

void Controller::check_engines() {
  if (stopping_) return;
  if (watch_ && watch_->pending())
    for (const auto& d : watch_->take())
      if (d.engine < roster_.size()) {
        if (!roster_.survives(d.engine)) end_job(d.engine);  // reported already
        lose_engine(d.engine, d.signal);
      }
  if (scheduler_.needs_check()) scheduler_.check(Clock::now());
}

void Controller::watch_engines() {
  if (stopping_) return;
  check_engines();
  if (cluster_) return hear_cluster();
  for (int e : roster_.newly_dead()) {
    if (roster_.survives(e)) {
      // Its life line tells, with the signal; an engine without one is taken as killed.
      if (!watch_ || !watch_->connected(e)) lose_engine(e, SIGKILL);
      continue;
    }
    if (watch_ && watch_->had_line(e)) end_job(e);  // its line tells
    const std::string tasks = scheduler_.tasks_on(e);
    log_line(roster_.named(e) + " died " +
             (tasks.empty() ? "while idle" : "while running a task of type " + tasks) +
             " (killed, out of memory, or crashed); " + transport::death_ends_the_job());
    end_job(e);
  }
}

void Controller::end_job(int e) {
  // The life line's thread says which engine died (it may be a moment behind this thread), or
  // the engine said so itself, or this thread did.
  for (int i = 0; i < 100 && watch_ && !watch_->pending(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // The launcher ends a job whose process died, and its report then names that process, after
  // ranks' (MPI_Abort's would blame the controller, and could end the job before mpirun has
  // passed ranks' report on). Only a launcher that lets the job run is left to MPI_Abort, and
  // engines this program spawned, which no launcher watches.
  if (roster_.link_of(e).origin == Origin::kWorld) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    log_line("the launcher did not end the job within 5 s of the engine's death; ranks ends it");
  }
  transport::abort(1, roster_.link_of(e).comm);
}

bool Controller::signal_job(const std::shared_ptr<Job>& job, int sig) {
  auto lk = lock();
  return scheduler_.signal_job(job, sig);
}

void Controller::abort(const std::shared_ptr<Job>& job, const std::exception_ptr& why) {
  auto lk = lock();
  scheduler_.abort(job, why);
}

}  // namespace ranks::detail
