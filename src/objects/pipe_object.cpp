#include "objects/pipe_object.hpp"

#include <string>
#include <utility>

namespace ranks::detail::objects {

namespace {

PipeWord word(PipeWord::Mark mark, std::uint64_t session = 0, std::uint64_t count = 0,
              Bytes item = {}) {
  PipeWord w;
  w.mark = mark;
  w.session = session;
  w.count = count;
  w.item = std::move(item);
  return w;
}

PipeWord end_word(ObjectAnswer a) {
  PipeWord w = word(PipeWord::Mark::kEnd);
  w.answer = std::move(a);
  return w;
}

}  // namespace

std::string PipeObject::misuse(int e, Op op) const {
  const bool sends = op == Op::kSend || op == Op::kAsk;
  const bool receives = op == Op::kRecv || op == Op::kPoll || op == Op::kListen;
  if (!duplex_ && e == 0 && sends)
    return "this end of a one-way Pipe only receives (Pipe<T>(false) returns the receiving end "
           "first, then the sending end, as Python's Pipe(duplex=False) does)";
  if (!duplex_ && e == 1 && receives)
    return "this end of a one-way Pipe only sends (Pipe<T>(false) returns the receiving end "
           "first, then the sending end, as Python's Pipe(duplex=False) does)";
  if (ends_[static_cast<std::size_t>(e)].closed && (sends || receives))
    return "this end was closed (close()); it can neither send nor receive";
  return {};
}

void PipeObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point now) {
  if (r.index != 0 && r.index != 1)
    return answer(caller, failed(Status::kError, "a pipe has ends 0 and 1 only"));
  const int e = static_cast<int>(r.index);
  End& mine = ends_[static_cast<std::size_t>(e)];
  End& other = ends_[static_cast<std::size_t>(1 - e)];
  if (r.op == Op::kStray) {  // passed on by an engine, not used by it
    deliver(e, word(PipeWord::Mark::kDirect, session_number_at(r.b, 0), session_number_at(r.b, 1),
                    std::move(r.a)));
    return ok(caller);
  }
  mine.user = caller.local ? -1 : caller.engine;
  if (std::string why = misuse(e, r.op); !why.empty())
    return answer(caller, failed(Status::kError, std::move(why)));
  switch (r.op) {
    case Op::kCloseEnd:
      if (!mine.closed) {
        mine.closed = true;
        deliver(1 - e, end_word(failed(Status::kClosed,
                                       "the other end was closed and everything it sent has "
                                       "been received")));
      }
      ok(caller);
      return settle(e);
    case Op::kSend:
      if (other.closed)
        return answer(caller, failed(Status::kClosed,
                                     "the other end of the pipe was closed; nothing sent now "
                                     "would be received"));
      ok(caller);
      deliver(1 - e, word(PipeWord::Mark::kItem, 0, 0, std::move(r.a)));
      if (!caller.local) offer(caller.engine, e);
      return;
    case Op::kRecv:
    case Op::kPoll:
      if (r.timeout_ns == 0 && mine.keeper < 0 && !mine.coming_back && !mine.inbox.ready()) {
        if (r.op == Op::kPoll) return ok(caller, 0);
        return answer(caller, failed(Status::kEmpty, "nothing has been sent to this end"));
      }
      mine.waiting.park(std::move(caller), std::move(r), now);
      return settle(e);
    case Op::kListen:
      return listen(caller, e);
    case Op::kAsk:
      if (!caller.local) offer(caller.engine, e);
      return ok(caller);
    case Op::kRelease:
      if (mine.keeper == caller.engine) {
        mine.coming_back = true;  // until its inbox is back
        // Those sending straight to it go through the controller again (what is on its way
        // there, the engine passes on: kStray).
        for (auto& [id, session] : mine.sessions) {
          if (session.receiver != caller.engine || !session.accepted) continue;
          PipeWord w = word(PipeWord::Mark::kLeave, id);
          replies().tell(session.sender,
                         pipe_message(Kind::kPipeRevoked, id_, 1 - e, std::move(w)));
        }
      }
      return ok(caller);
    case Op::kGiveBack: {
      if (!mine.coming_back || mine.keeper != caller.engine) return ok(caller);
      Reader in(r.a.data(), r.a.size());
      mine.inbox = PipeInbox::read(in);
      for (PipeWord& w : mine.meanwhile) mine.inbox.apply(std::move(w));
      mine.meanwhile.clear();
      mine.coming_back = false;
      mine.keeper = -1;
      ok(caller);
      return settle(e);
    }
    case Op::kAccept: {
      const auto it = other.sessions.find(session_number_at(r.a, 0));
      if (it == other.sessions.end()) {  // its receiver was lost meanwhile
        PipeWord w = word(PipeWord::Mark::kLeave, session_number_at(r.a, 0));
        return replies().tell(caller.engine, pipe_message(Kind::kPipeBroken, id_, e, std::move(w)));
      }
      it->second.accepted = true;
      return deliver(1 - e, word(PipeWord::Mark::kJoin, it->first));
    }
    case Op::kDecline:
      other.sessions.erase(session_number_at(r.a, 0));
      return;
    case Op::kUnbind: {
      const std::uint64_t session = session_number_at(r.a, 0);
      ok(caller);
      // A session whose receiver was lost left nothing to wait for.
      if (other.sessions.erase(session) == 0) return;
      return deliver(1 - e, word(PipeWord::Mark::kLeave, session, session_number_at(r.a, 1)));
    }
    default:
      return answer(caller, failed(Status::kError, "a call that is not a pipe's"));
  }
}

void PipeObject::listen(const Caller& caller, int e) {
  End& mine = ends_[static_cast<std::size_t>(e)];
  // One engine keeps an end at a time, and only while nobody waits here for it.
  if (caller.local || mine.keeper >= 0 || !mine.waiting.empty()) return ok(caller, 0);
  mine.keeper = caller.engine;
  ObjectAnswer a;
  a.value = 1;
  Writer w(a.data);
  mine.inbox.write(w);
  mine.inbox = PipeInbox();
  answer(caller, std::move(a));
  // The engine that sends at the other end may send straight here from now on.
  const End& other = ends_[static_cast<std::size_t>(1 - e)];
  if (other.user >= 0 && !other.closed) offer(other.user, 1 - e);
}

void PipeObject::offer(int sender, int e) {
  End& other = ends_[static_cast<std::size_t>(1 - e)];
  if (other.keeper < 0 || other.coming_back || other.keeper == sender) return;
  for (const auto& [id, session] : other.sessions)
    if (session.sender == sender && session.receiver == other.keeper) return;  // offered
  const StraightPath path = replies().straight_path(sender, other.keeper);
  if (path.rank < 0) return;
  const std::uint64_t session = ++next_session_;
  other.sessions[session] = Session{sender, other.keeper, path.rank, false};
  replies().tell(sender, pipe_message(Kind::kPipeOffer, id_, e, offer_word(session, path)));
}

void PipeObject::deliver(int e, PipeWord&& w) {
  End& end = ends_[static_cast<std::size_t>(e)];
  if (end.coming_back) {
    end.meanwhile.push_back(std::move(w));
  } else if (end.keeper >= 0) {
    replies().tell(end.keeper, pipe_message(Kind::kPipeWord, id_, e, std::move(w)));
  } else {
    end.inbox.apply(std::move(w));
    settle(e);
  }
}

void PipeObject::settle(int e) {
  End& mine = ends_[static_cast<std::size_t>(e)];
  while (!mine.waiting.empty()) {
    if (mine.closed) {
      Waiting gone = mine.waiting.take();
      answer(gone.caller, failed(Status::kClosed, "this end was closed (close()) meanwhile"));
      continue;
    }
    if (mine.keeper >= 0) return;  // an engine keeps the inbox: answered once it is back
    Waiting& next = mine.waiting.front();
    if (next.request.op == Op::kPoll) {
      if (!mine.inbox.ready()) return;
      ok(mine.waiting.take().caller, 1);
      continue;
    }
    if (std::optional<Bytes> item = mine.inbox.take()) {
      ok_data(mine.waiting.take().caller, std::move(*item));
    } else if (const ObjectAnswer* ended = mine.inbox.ended()) {
      answer(mine.waiting.take().caller, ObjectAnswer(*ended));
    } else {
      return;
    }
  }
}

void PipeObject::drop_keeper(int e) {
  End& end = ends_[static_cast<std::size_t>(e)];
  end.keeper = -1;
  end.coming_back = false;
  end.inbox = PipeInbox();  // what it kept was lost with it
  for (PipeWord& w : end.meanwhile) end.inbox.apply(std::move(w));
  end.meanwhile.clear();
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
    if (end.keeper == lost.id) drop_keeper(e);
    // Tasks that send straight to it hear so (and stop waiting for their items to leave).
    for (auto it = end.sessions.begin(); it != end.sessions.end();) {
      if (it->second.receiver != lost.id) {
        ++it;
        continue;
      }
      PipeWord w =
          word(PipeWord::Mark::kLeave, it->first, static_cast<std::uint64_t>(it->second.rank));
      replies().tell(it->second.sender, pipe_message(Kind::kPipeBroken, id_, 1 - e, std::move(w)));
      it = end.sessions.erase(it);
    }
  }
  for (int e = 0; e < 2; ++e) {
    End& end = ends_[static_cast<std::size_t>(e)];
    if (end.user == lost.id && !end.closed && !end.lost) {
      end.lost = true;
      deliver(1 - e, end_word(lost_answer(lost,
                                          "it used the other end of the pipe, and everything it "
                                          "sent has been received")));
    }
  }
  settle(0);
  settle(1);
}

bool PipeObject::involves(int engine) const {
  for (const End& end : ends_) {
    if (end.user == engine || end.keeper == engine) return true;
    for (const auto& [id, session] : end.sessions)
      if (session.sender == engine || session.receiver == engine) return true;
  }
  return false;
}

void PipeObject::end() {
  for (End& end : ends_)
    end.waiting.take_all([&](Waiting& w) {
      answer(w.caller, failed(Status::kClosed, "the program that made the pipe is ending"));
    });
}

}  // namespace ranks::detail::objects
