#include "objects/shared_object.hpp"

#include <algorithm>
#include <utility>

namespace ranks::detail::objects {

ObjectAnswer lost_answer(const LostEngine& engine, const std::string& what) {
  ObjectAnswer a;
  a.status = Status::kLost;
  a.lost = engine;
  a.text = what;
  return a;
}

ObjectAnswer failed(Status s, std::string what) {
  ObjectAnswer a;
  a.status = s;
  a.text = std::move(what);
  return a;
}

void WaitList::park(Caller caller, ObjectRequest&& r, Clock::time_point now) {
  std::optional<Clock::time_point> deadline;
  if (r.timeout_ns >= 0) deadline = now + std::chrono::nanoseconds(r.timeout_ns);
  list_.push_back({std::move(caller), std::move(r), deadline});
}

Waiting WaitList::take() {
  Waiting w = std::move(list_.front());
  list_.pop_front();
  return w;
}

void WaitList::expire(Clock::time_point now, const std::function<void(Waiting&)>& on_expired) {
  for (auto it = list_.begin(); it != list_.end();) {
    if (it->deadline && *it->deadline <= now) {
      Waiting w = std::move(*it);
      it = list_.erase(it);
      on_expired(w);
    } else {
      ++it;
    }
  }
}

void WaitList::drop(int engine) {
  std::erase_if(
      list_, [engine](const Waiting& w) { return !w.caller.local && w.caller.engine == engine; });
}

void WaitList::take_all(const std::function<void(Waiting&)>& fn) {
  while (!list_.empty()) {
    Waiting w = take();
    fn(w);
  }
}

}  // namespace ranks::detail::objects
