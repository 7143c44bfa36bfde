#include "objects/pipe_object.hpp"

#include <string>
#include <utility>

namespace ranks::detail::objects {

std::string PipeObject::misuse(int e, Op op) const {
  if (!duplex_ && e == 0 && op == Op::kSend)
    return "this end of a one-way Pipe only receives (Pipe<T>(false) returns the receiving end "
           "first, then the sending end, as Python's Pipe(duplex=False) does)";
  if (!duplex_ && e == 1 && (op == Op::kRecv || op == Op::kPoll))
    return "this end of a one-way Pipe only sends (Pipe<T>(false) returns the receiving end "
           "first, then the sending end, as Python's Pipe(duplex=False) does)";
  if (ends_[static_cast<std::size_t>(e)].closed)
    return "this end was closed (close()); it can neither send nor receive";
  return {};
}

void PipeObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point now) {
  if (r.index != 0 && r.index != 1)
    return answer(caller, failed(Status::kError, "a pipe has ends 0 and 1 only"));
  const int e = static_cast<int>(r.index);
  End& mine = ends_[static_cast<std::size_t>(e)];
  End& other = ends_[static_cast<std::size_t>(1 - e)];
  mine.user = caller.local ? -1 : caller.engine;
  if (r.op == Op::kCloseEnd) {
    mine.closed = true;
    ok(caller);
    settle(e);
    return settle(1 - e);
  }
  if (r.op != Op::kSend && r.op != Op::kRecv && r.op != Op::kPoll)
    return answer(caller, failed(Status::kError, "a call that is not a pipe's"));
  if (std::string why = misuse(e, r.op); !why.empty())
    return answer(caller, failed(Status::kError, std::move(why)));
  if (r.op == Op::kSend) {
    if (other.closed)
      return answer(caller, failed(Status::kClosed,
                                   "the other end of the pipe was closed; nothing sent now "
                                   "would be received"));
    other.inbox.push_back(std::move(r.a));
    ok(caller);
    return settle(1 - e);
  }
  if (r.timeout_ns == 0 && mine.inbox.empty() && !other.closed && !other.lost) {
    if (r.op == Op::kPoll) return ok(caller, 0);
    return answer(caller, failed(Status::kEmpty, "nothing has been sent to this end"));
  }
  mine.waiting.park(std::move(caller), std::move(r), now);
  settle(e);
}

void PipeObject::settle(int e) {
  End& mine = ends_[static_cast<std::size_t>(e)];
  const End& other = ends_[static_cast<std::size_t>(1 - e)];
  while (!mine.waiting.empty()) {
    if (mine.closed) {
      Waiting gone = mine.waiting.take();
      answer(gone.caller, failed(Status::kClosed, "this end was closed (close()) meanwhile"));
      continue;
    }
    const bool ready = !mine.inbox.empty() || other.closed || other.lost;
    if (!ready) return;
    Waiting next = mine.waiting.take();
    if (next.request.op == Op::kPoll) {
      ok(next.caller, 1);
    } else if (!mine.inbox.empty()) {
      Bytes item = std::move(mine.inbox.front());
      mine.inbox.pop_front();
      ok_data(next.caller, std::move(item));
    } else if (other.closed) {
      answer(next.caller, failed(Status::kClosed,
                                 "the other end was closed and everything it sent has been "
                                 "received"));
    } else {
      answer(next.caller, lost_answer(*other.lost,
                                      "it used the other end of the pipe, and everything it "
                                      "sent has been received"));
    }
  }
}

void PipeObject::expire(Clock::time_point now) {
  for (End& end : ends_)
    end.waiting.expire(now, [&](Waiting& w) {
      if (w.request.op == Op::kPoll) return ok(w.caller, 0);
      answer(w.caller, failed(Status::kEmpty, "nothing came within the timeout"));
    });
}

void PipeObject::lose(const LostEngine& lost) {
  for (int e = 0; e < 2; ++e) {
    End& end = ends_[static_cast<std::size_t>(e)];
    end.waiting.drop(lost.id);
    if (end.user == lost.id && !end.closed) end.lost = lost;
  }
  settle(0);
  settle(1);
}

void PipeObject::end() {
  for (End& end : ends_)
    end.waiting.take_all([&](Waiting& w) {
      answer(w.caller, failed(Status::kClosed, "the program that made the pipe is ending"));
    });
}

}  // namespace ranks::detail::objects
