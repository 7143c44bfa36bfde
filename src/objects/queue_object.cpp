#include "objects/queue_object.hpp"

#include <utility>

namespace ranks::detail::objects {

namespace {

const char* const kClosedPut = "the queue was closed (close()); nothing more can be put in it";
const char* const kClosedEmpty = "the queue was closed (close()) and every item has been taken";

}  // namespace

void QueueObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point now) {
  switch (r.op) {
    case Op::kPut:
      if (closed_) return answer(caller, failed(Status::kClosed, kClosedPut));
      if (!putters_.empty() || !room()) {
        if (r.timeout_ns == 0)
          return answer(caller,
                        failed(Status::kFull, "the queue is full (" + std::to_string(maxsize_) +
                                                  " items wait); the item was not put"));
        return putters_.park(std::move(caller), std::move(r), now);
      }
      put(caller, std::move(r.a));
      return settle();
    case Op::kGet:
      if (!items_.empty()) {
        give(caller);
        return settle();
      }
      if (closed_) return answer(caller, failed(Status::kClosed, kClosedEmpty));
      if (r.timeout_ns == 0) return answer(caller, failed(Status::kEmpty, "the queue is empty"));
      return getters_.park(std::move(caller), std::move(r), now);
    case Op::kSize:
      return ok(caller, static_cast<std::int64_t>(items_.size()));
    case Op::kFull:
      return ok(caller, room() ? 0 : 1);
    case Op::kClose:
      closed_ = true;
      ok(caller);
      return settle();
    case Op::kTaskDone: {
      if (!joinable_)
        return answer(caller, failed(Status::kError, "task_done() is a JoinableQueue's"));
      if (unfinished_ == 0)
        return answer(caller, failed(Status::kError,
                                     "task_done() was called more times than items were put "
                                     "(each get() is marked done once)"));
      --unfinished_;
      if (auto it = taken_.find(caller.local ? -1 : caller.engine);
          it != taken_.end() && it->second > 0)
        --it->second;
      ok(caller);
      return settle();
    }
    case Op::kJoin:
      return join(caller, std::move(r), now);
    default:
      return answer(caller, failed(Status::kError, "a call that is not a queue's"));
  }
}

void QueueObject::put(const Caller& caller, Bytes item) {
  items_.push_back(std::move(item));
  if (joinable_) ++unfinished_;
  ok(caller);
}

void QueueObject::give(const Caller& caller) {
  Bytes item = std::move(items_.front());
  items_.pop_front();
  if (joinable_) ++taken_[caller.local ? -1 : caller.engine];
  ok_data(caller, std::move(item));
}

void QueueObject::join(const Caller& caller, ObjectRequest&& r, Clock::time_point now) {
  if (!joinable_) return answer(caller, failed(Status::kError, "join() is a JoinableQueue's"));
  if (!lost_.empty()) return answer(caller, lost_answer(last_lost_, lost_));
  if (unfinished_ == 0) return ok(caller, 1);
  if (r.timeout_ns == 0) return ok(caller, 0);
  joiners_.park(caller, std::move(r), now);
}

void QueueObject::settle() {
  bool moved = true;
  while (moved) {
    moved = false;
    while (!putters_.empty() && room() && !closed_) {
      Waiting w = putters_.take();
      put(w.caller, std::move(w.request.a));
      moved = true;
    }
    while (!getters_.empty() && !items_.empty()) {
      Waiting w = getters_.take();
      give(w.caller);
      moved = true;
    }
  }
  if (closed_) {
    putters_.take_all([&](Waiting& w) { answer(w.caller, failed(Status::kClosed, kClosedPut)); });
    if (items_.empty())
      getters_.take_all(
          [&](Waiting& w) { answer(w.caller, failed(Status::kClosed, kClosedEmpty)); });
  }
  if (unfinished_ == 0 || !lost_.empty())
    joiners_.take_all([&](Waiting& w) {
      if (lost_.empty()) return ok(w.caller, 1);
      answer(w.caller, lost_answer(last_lost_, lost_));
    });
}

void QueueObject::expire(Clock::time_point now) {
  getters_.expire(now, [&](Waiting& w) {
    answer(w.caller, failed(Status::kEmpty, "nothing came within the timeout"));
  });
  putters_.expire(now, [&](Waiting& w) {
    answer(w.caller,
           failed(Status::kFull, "the queue stayed full (" + std::to_string(maxsize_) +
                                     " items) for the whole timeout; the item was not put"));
  });
  joiners_.expire(now, [&](Waiting& w) { ok(w.caller, 0); });
}

void QueueObject::lose(const LostEngine& e) {
  getters_.drop(e.id);
  putters_.drop(e.id);
  joiners_.drop(e.id);
  const auto it = taken_.find(e.id);
  if (it == taken_.end() || it->second == 0) return;
  const std::size_t n = it->second;
  taken_.erase(it);
  unfinished_ -= n;
  if (!lost_.empty()) lost_ += "; ";
  lost_ += "it took " + std::to_string(n) + " item(s) of this JoinableQueue and had not marked " +
           (n == 1 ? "it" : "them") + " done (task_done()): they never will be";
  last_lost_ = e;
  settle();
}

void QueueObject::end() {
  const auto ending = [&](Waiting& w) {
    answer(w.caller, failed(Status::kClosed, "the program that made the queue is ending"));
  };
  getters_.take_all(ending);
  putters_.take_all(ending);
  joiners_.take_all(ending);
}

}  // namespace ranks::detail::objects
