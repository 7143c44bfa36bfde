#include "engine/pipe_ends.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "engine/engine.hpp"
#include "engine/object_calls.hpp"
#include "ranks/detail/pipe_inbox.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct EndKey {
  std::uint64_t object = 0;
  std::int64_t end = 0;
  bool operator<(const EndKey& o) const {
    return object != o.object ? object < o.object : end < o.end;
  }
};

// An end the running task receives at.
struct Listening {
  ObjectId object;
  bool kept = false;  // it keeps the inbox (else another engine does: it asks the controller)
  PipeInbox inbox;
};

// An end the running task sends at.
struct Sending {
  ObjectId object;
  std::uint64_t session = 0;  // its items go straight to `rank` (0: through the controller)
  int rank = -1;
  std::uint64_t sent = 0;  // straight
  std::uint64_t through_controller = 0;
  bool broken = false;  // the receiver was lost: through the controller again
};

std::map<EndKey, Listening> g_listening;
std::map<EndKey, Sending> g_sending;
std::map<int, transport::Outbox> g_straight;  // sends to each rank of the link
transport::Incoming g_straight_in;
bool g_in_task = false;    // a task uses pipe ends now (between its first call and its end)
bool g_ever_kept = false;  // a task here kept an end's inbox

// Straight sends in flight to one rank, at most: a task that sends faster than the other end
// receives waits for it then, as a writer to a full OS pipe does.
constexpr std::size_t kMostInFlight = 64;
// A task sending straight looks at what came after every so many items.
constexpr std::uint64_t kLookEvery = 32;

ObjectRequest pipe_request(Op op, const ObjectId& object, std::int64_t end, Bytes a = {},
                           Bytes b = {}) {
  ObjectRequest r = request(op).at(end).carrying(std::move(a), std::move(b));
  r.object = object;
  return r;
}

ObjectAnswer failure(Status s, const char* what) {
  ObjectAnswer a;
  a.status = s;
  a.text = what;
  return a;
}

// Waits a little for what comes, handling it (take_in).
class Waiter {
 public:
  explicit Waiter(Answer& answer) : answer_(answer) {}
  void once() {
    std::optional<ObjectAnswer> none;
    if (take_in(answer_, 0, none)) {
      backoff_.reset();
      return;
    }
    // Between looks, little else: sends in flight move on every 16th.
    if (++looks_ % 16 == 0) {
      answer_.progress();
      for (auto& [rank, out] : g_straight) out.progress();
      transport::poll_interrupt();
    }
    // No doorbell: items that come straight do not ring the channel's.
    bool sending = !answer_.outbox.empty();
    for (const auto& [rank, out] : g_straight) sending = sending || !out.empty();
    backoff_.pause(sending, nullptr);
  }

 private:
  Answer& answer_;
  unsigned looks_ = 0;
  // It spins longer than other waits: what comes straight from another engine comes within a
  // few microseconds while items flow, and a yield costs as much.
  transport::Backoff backoff_ =
      transport::Backoff(std::chrono::microseconds(500)).spinning(std::chrono::microseconds(50));
};

ObjectAnswer send(Answer& answer, const EndKey& key, ObjectRequest&& r) {
  auto [at, first] = g_sending.try_emplace(key);
  Sending& s = at->second;
  if (first) s.object = r.object;
  g_in_task = true;
  if (s.session == 0 || s.broken) {
    ObjectAnswer a = object_call(answer, std::move(r));
    // An offer to send straight comes by the controller: a look for it now and then.
    if (s.through_controller++ % kLookEvery == 0) {
      std::optional<ObjectAnswer> none;
      (void)take_in(answer, 0, none);
    }
    return a;
  }
  transport::Outbox& out = g_straight.try_emplace(s.rank, transport::Outbox::Lazy{}).first->second;
  PipeWord w;
  w.mark = PipeWord::Mark::kDirect;
  w.session = s.session;
  w.count = s.sent;  // its number in the session
  w.item = std::move(r.a);
  out.send(answer.comm, s.rank, pipe_message(Kind::kPipeItem, r.object, 1 - key.end, std::move(w)),
           transport::kPipeTag);
  ++s.sent;
  // Now and then, a look at what came: the receiver may have let go of its end (kPipeRevoked).
  if (s.sent % kLookEvery == 0) {
    std::optional<ObjectAnswer> none;
    (void)take_in(answer, 0, none);
  }
  if (out.in_flight() > kMostInFlight) {
    out.progress();
    Waiter waiter(answer);
    while (!s.broken && out.in_flight() > kMostInFlight) {
      waiter.once();
      out.progress();
    }
  }
  return {};
}

// Gives the inbox of a kept end back to the controller.
void give_back(Answer& answer, const EndKey& key, Listening& l) {
  // Answered after every word sent on to this engine: once it is, the inbox is whole.
  (void)object_call(answer, pipe_request(Op::kRelease, l.object, key.end));
  Bytes state;
  Writer w(state);
  l.inbox.write(w);
  ObjectRequest r = pipe_request(Op::kGiveBack, l.object, key.end, std::move(state));
  r.unanswered = true;
  (void)object_call(answer, std::move(r));
}

// Ends the straight session of a sending end: the controller hears how many items it sent.
void unbind(Answer& answer, const Sending& s, const EndKey& key) {
  if (s.session == 0 || s.broken) return;
  ObjectRequest r =
      pipe_request(Op::kUnbind, s.object, key.end, session_numbers(s.session, s.sent));
  r.unanswered = true;
  (void)object_call(answer, std::move(r));
}

ObjectAnswer receive(Answer& answer, const EndKey& key, ObjectRequest&& r) {
  auto it = g_listening.find(key);
  if (it == g_listening.end()) {
    ObjectAnswer a = object_call(answer, pipe_request(Op::kListen, r.object, key.end));
    if (a.status != Status::kOk) return a;
    Listening l{r.object, a.value != 0, {}};
    if (l.kept) {
      Reader in(a.data.data(), a.data.size());
      l.inbox = PipeInbox::read(in);
    }
    g_ever_kept = g_ever_kept || l.kept;
    it = g_listening.emplace(key, std::move(l)).first;
    g_in_task = true;
  }
  if (!it->second.kept) return object_call(answer, std::move(r));
  PipeInbox& inbox = it->second.inbox;
  const bool poll = r.op == Op::kPoll;
  std::optional<Clock::time_point> deadline;
  if (r.timeout_ns >= 0) deadline = Clock::now() + std::chrono::nanoseconds(r.timeout_ns);
  Waiter waiter(answer);
  bool looked = false;  // at what came, once at least
  while (true) {
    if (poll && inbox.ready()) {
      ObjectAnswer a;
      a.value = 1;
      return a;
    }
    if (!poll) {
      if (std::optional<Bytes> item = inbox.take()) {
        ObjectAnswer a;
        a.data = std::move(*item);
        return a;
      }
      if (const ObjectAnswer* ended = inbox.ended()) return *ended;
    }
    if (looked && deadline && Clock::now() >= *deadline) {
      if (poll) return {};
      return r.timeout_ns == 0 ? failure(Status::kEmpty, "nothing has been sent to this end")
                               : failure(Status::kEmpty, "nothing came within the timeout");
    }
    waiter.once();
    looked = true;
  }
}

}  // namespace

ObjectAnswer pipe_end_call(Answer& answer, ObjectRequest&& r) {
  const EndKey key{r.object.id, r.index};
  switch (r.op) {
    case Op::kSend:
      return send(answer, key, std::move(r));
    case Op::kRecv:
    case Op::kPoll:
      return receive(answer, key, std::move(r));
    case Op::kCloseEnd:
      // What was sent straight, and what this end kept, go before the close.
      if (auto s = g_sending.find(key); s != g_sending.end()) {
        unbind(answer, s->second, key);
        g_sending.erase(s);
      }
      if (auto l = g_listening.find(key); l != g_listening.end()) {
        if (l->second.kept) give_back(answer, key, l->second);
        g_listening.erase(l);
      }
      return object_call(answer, std::move(r));
    default:
      return object_call(answer, std::move(r));
  }
}

void pipe_message_came(Answer& answer, Kind kind, const Bytes& data,
                       AttachmentSource* attachments) {
  PipeMessage m = read_pipe_message(data, attachments);
  const EndKey key{m.object.id, m.end};
  if (kind == Kind::kPipeWord) {
    // Words come only while the end is kept here (the release is answered after the last).
    if (auto l = g_listening.find(key); l != g_listening.end() && l->second.kept)
      l->second.inbox.apply(std::move(m.word));
    return;
  }
  if (kind == Kind::kPipeOffer) {
    auto s = g_sending.find(key);
    if (!g_in_task || s == g_sending.end() || s->second.session != 0) {
      // No task here sends at that end now (or it has a session already).
      ObjectRequest r =
          pipe_request(Op::kDecline, m.object, m.end, session_numbers(m.word.session));
      r.unanswered = true;
      (void)object_call(answer, std::move(r));
      return;
    }
    // The controller places the session after what this task sent through it so far.
    ObjectRequest r = pipe_request(Op::kAccept, m.object, m.end, session_numbers(m.word.session));
    r.unanswered = true;
    (void)object_call(answer, std::move(r));
    s->second.session = m.word.session;
    s->second.rank = static_cast<int>(m.word.count);
    s->second.broken = false;
    return;
  }
  if (kind == Kind::kPipeRevoked) {
    // The receiver let go of its end: this task's items go through the controller again, after
    // those it sent straight (which the receiver's engine passes on).
    auto s = g_sending.find(key);
    if (s == g_sending.end() || s->second.session != m.word.session) return;
    unbind(answer, s->second, key);
    s->second.session = 0;
    s->second.sent = 0;
    return;
  }
  // kPipeBroken: the receiver (at rank `count`) was lost; what is still on its way to it never
  // will be received.
  int rank = static_cast<int>(m.word.count);
  if (auto s = g_sending.find(key); s != g_sending.end() && s->second.session == m.word.session) {
    s->second.broken = true;
    rank = s->second.rank;
  }
  if (auto out = g_straight.find(rank); out != g_straight.end()) out->second.abandon();
}

bool take_in_straight(Answer& answer) {
  // Only an engine whose task kept an end is sent items straight (and one whose task has let go
  // of its end may still get some): the others need not look (a probe costs a yield when Open
  // MPI runs more ranks than cores).
  if (!g_ever_kept) return false;
  if (!transport::try_recv(answer.comm, MPI_ANY_SOURCE, g_straight_in, transport::kPipeTag))
    return false;
  PipeMessage m = read_pipe_message(g_straight_in.data, g_straight_in.attachments());
  const EndKey key{m.object.id, m.end};
  if (auto l = g_listening.find(key); l != g_listening.end() && l->second.kept) {
    l->second.inbox.apply(std::move(m.word));
    return true;
  }
  // The task that listened here has let go of the end: the controller keeps the item.
  ObjectRequest r = pipe_request(Op::kStray, m.object, m.end, std::move(m.word.item),
                                 session_numbers(m.word.session, m.word.count));
  r.unanswered = true;
  (void)object_call(answer, std::move(r));
  return true;
}

void let_go_of_pipe_ends(Answer& answer) {
  g_in_task = false;  // offers that come now are declined
  for (auto& [key, s] : g_sending) {
    unbind(answer, s, key);
    s.session = 0;  // said once (a revoke that comes while the ends are given back is moot)
  }
  for (auto& [key, l] : g_listening)
    if (l.kept) give_back(answer, key, l);
  g_sending.clear();
  g_listening.clear();
}

void wait_for_straight_sends(Answer& answer) {
  Waiter waiter(answer);
  while (true) {
    bool left = true;
    for (auto& [rank, out] : g_straight) {
      out.progress();
      left = left && out.empty();
    }
    if (left) return;
    waiter.once();
  }
}

}  // namespace ranks::detail
