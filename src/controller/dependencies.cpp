// Tasks that wait for others (TaskOptions::after) or run where others ran (::follow): held on
// the controller until the tasks they depend on are ready, then queued, or failed with
// ranks::DependencyError. Nothing blocks: each dependency's readiness is a continuation.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

namespace {

// A task waiting for its dependencies. Memory: this, the task's job (its message) and one
// continuation per dependency.
struct Waiting {
  std::shared_ptr<Group> group;
  std::shared_ptr<DynamicJob> job;
  std::vector<std::shared_ptr<StateBase>> after, follow;
  std::size_t left = 0;
};

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an unknown error";
  }
}

// Why the task cannot run, if it cannot: a dependency failed (under the lock).
std::string failed_dependency(const Waiting& w) {
  auto check = [](const std::vector<std::shared_ptr<StateBase>>& deps, const char* kind) {
    for (std::size_t i = 0; i < deps.size(); ++i) {
      if (auto e = deps[i]->error())
        return "the task did not run: the task it " + std::string(kind) + " (" +
               std::to_string(i + 1) + " of " + std::to_string(deps.size()) +
               ") failed: " + what_of(e);
    }
    return std::string();
  };
  std::string why = check(w.after, "waited for, after");
  if (why.empty()) why = check(w.follow, "follows");
  return why;
}

// The engine that ran a result: that of its last successful part (-1: none).
int engine_that_ran(const StateBase& s) {
  const auto& parts = s.metadata();
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    if (it->ok) return it->engine_id;
  return -1;
}

}  // namespace

void Controller::submit_after(std::shared_ptr<Group> g, std::shared_ptr<DynamicJob> job,
                              std::vector<std::shared_ptr<StateBase>> after,
                              std::vector<std::shared_ptr<StateBase>> follow) {
  auto w = std::make_shared<Waiting>();
  w->group = std::move(g);
  w->job = std::move(job);
  w->after = std::move(after);
  w->follow = std::move(follow);
  w->left = w->after.size() + w->follow.size();
  // Once every dependency is ready: queue the task, or fail it (outside the lock, where
  // result callbacks run; submit takes the lock itself).
  auto release = [this, w] {
    std::shared_ptr<Group> target = w->group;
    {
      auto lk = lock();
      StateBase& state = w->job->state();
      if (state.is_ready()) return;  // aborted while it waited
      auto fail = [&](const std::string& why) {
        w->job->cancel(std::make_exception_ptr(DependencyError(why)));
      };
      if (std::string why = failed_dependency(*w); !why.empty()) return fail(why);
      if (!w->follow.empty()) {
        int engine = -1;
        for (const auto& d : w->follow) {
          const int e = engine_that_ran(*d);
          if (e < 0)
            return fail(
                "the task did not run: a task it follows ran on no engine of its own (follow "
                "takes results of apply or map on a view or pool)");
          if (engine >= 0 && e != engine)
            return fail("the task did not run: the tasks it follows ran on different engines (" +
                        std::to_string(engine) + " and " + std::to_string(e) +
                        "); follow them one engine at a time, or use after");
          engine = e;
        }
        if (!roster_.engine(engine).alive)
          return fail("the task did not run: engine " + std::to_string(engine) +
                      ", where the tasks it follows ran, is gone");
        target = scheduler_.engine_group(engine);
      }
    }
    submit(*target, w->job);
    // What it waited for is no longer needed: the chain does not keep every result alive.
    w->after.clear();
    w->follow.clear();
  };
  auto lk = lock();
  if (w->left == 0) {
    lk.unlock();
    return submit(*w->group, w->job);
  }
  auto each = [this, w, release] {
    {
      auto lk = lock();
      if (--w->left > 0) return;
    }
    release();
  };
  for (const auto& d : w->after) d->on_ready(each);
  for (const auto& d : w->follow) d->on_ready(each);
}

}  // namespace ranks::detail
