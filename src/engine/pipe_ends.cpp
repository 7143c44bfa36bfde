#include "engine/pipe_ends.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/log.hpp"
#include "engine/engine.hpp"
#include "engine/object_calls.hpp"
#include "ranks/detail/pipe_inbox.hpp"
#include "transport/channel.hpp"
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
  std::uint64_t session = 0;  // its items go straight along `path` (0: through the controller)
  StraightPath path;
  std::uint64_t sent = 0;  // straight
  std::uint64_t through_controller = 0;
  bool broken = false;  // the receiver was lost: through the controller again
  bool asked = false;   // for an offer, before a large item
};

std::map<EndKey, Listening> g_listening;
std::map<EndKey, Sending> g_sending;
// An engine (by its rank in the link) that tasks here send straight to. On the same host the
// items go by a ring in shared memory (made at the first, and named to it by MPI); their
// attachments, and items to other hosts, by MPI.
struct Peer {
  transport::Outbox out = transport::Outbox(transport::Outbox::Lazy{});
  std::unique_ptr<transport::Channel> ring;
  bool ring_failed = false;  // none could be made: MPI alone
};
std::map<int, Peer> g_peers;
bool g_in_task = false;  // a task uses pipe ends now (between its first call and its end)

// Straight sends in flight to one rank, at most: a task that sends faster than the other end
// receives waits for it then, as a writer to a full OS pipe does.
constexpr std::size_t kMostInFlight = 64;
// A task sending straight looks at what came after every so many items.
constexpr std::uint64_t kLookEvery = 32;
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
      for (auto& [rank, peer] : g_peers) peer.out.progress();
      transport::poll_interrupt();
    }
    // The clock is read at every fourth look only: between, a pause of the core.
    if (looks_ % 4 != 0) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      return;
    }
    // No doorbell: items that come straight do not ring the channel's.
    bool sending = !answer_.outbox.empty();
    for (const auto& [rank, peer] : g_peers) sending = sending || !peer.out.empty();
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

// Waits, taking in what comes, while more() holds and the receiver of s lives.
template <class More>
void wait_while(Answer& answer, const Sending& s, More more) {
  Waiter waiter(answer);
  while (!s.broken && more()) waiter.once();
}

// Makes the ring a task here sends to the engine at `rank` (on this host) by, and names it to
// that engine, by MPI after the items sent that way: it reads the ring once it has them.
void make_ring(Answer& answer, int rank, Peer& peer) {
  try {
    peer.ring = transport::Channel::create(answer.comm, rank);
    peer.out.send(answer.comm, rank, Message(text_message(Kind::kPipeRing, peer.ring->name())),
                  transport::kPipeTag);
  } catch (const Error& e) {
    log_line(std::string(e.what()) + "; a pipe's items to engine rank " + std::to_string(rank) +
             " go by MPI");
    peer.ring.reset();
    peer.ring_failed = true;
  }
}

ObjectAnswer send(Answer& answer, const EndKey& key, ObjectRequest&& r) {
  auto [at, first] = g_sending.try_emplace(key);
  Sending& s = at->second;
  if (first) s.object = r.object;
  g_in_task = true;
  if (s.session == 0 && !s.asked && !r.lent.empty()) {
    // A large item need not go through the controller first to let it know who sends here: the
    // offer, if the other end is received at on an engine near, comes before this answer.
    s.asked = true;
    (void)object_call(answer, request(Op::kAsk).on(r.object).at(key.end));
  }
  if (s.session == 0 || s.broken) {
    ObjectAnswer a = object_call(answer, std::move(r));
    // An offer to send straight comes by the controller: a look for it now and then.
    if (s.through_controller++ % kLookEvery == 0) {
      std::optional<ObjectAnswer> none;
      (void)take_in(answer, 0, none);
    }
    return a;
  }
  const int rank = s.path.rank;
  Peer& peer = g_peers[rank];
  if (s.path.same_host && !peer.ring && !peer.ring_failed) make_ring(answer, rank, peer);
  PipeWord w;
  w.mark = PipeWord::Mark::kDirect;
  w.session = s.session;
  w.count = s.sent;  // its number in the session
  w.item = std::move(r.a);
  const bool lent = !r.lent.empty();
  Message m = pipe_message(Kind::kPipeItem, r.object, 1 - key.end, std::move(w), std::move(r.lent));
  if (peer.ring)
    peer.ring->send(std::move(m), peer.out);
  else
    peer.out.send(answer.comm, rank, std::move(m), transport::kPipeTag);
  ++s.sent;
  // Now and then, a look at what came: the receiver may have let go of its end (kPipeRevoked).
  if (s.sent % kLookEvery == 0) {
    std::optional<ObjectAnswer> none;
    (void)take_in(answer, 0, none);
  }
  // Blocks sent from where they lie in the task's item leave before send returns (as a large
  // write into an OS pipe returns once the reader has taken it); a full ring, or too many sends
  // in flight, and the task waits for the receiver.
  if (lent)
    wait_while(answer, s, [&] {
      peer.out.progress();
      return !peer.out.empty();
    });
  if (peer.ring && !peer.ring->idle())
    wait_while(answer, s, [&] { return peer.ring && !peer.ring->flush(); });
  if (peer.out.in_flight() > kMostInFlight)
    wait_while(answer, s, [&] {
      peer.out.progress();
      return peer.out.in_flight() > kMostInFlight;
    });
  return {};
}

// Gives the inbox of a kept end back to the controller.
void give_back(Answer& answer, const EndKey& key, Listening& l) {
  // Answered after every word sent on to this engine: once it is, the inbox is whole.
  (void)object_call(answer, request(Op::kRelease).on(l.object).at(key.end));
  settle_pending(answer);  // in the inbox, if it is this end's
  Bytes state;
  Writer w(state);
  l.inbox.write(w);
  (void)object_call(answer, request(Op::kGiveBack)
                                .on(l.object)
                                .at(key.end)
                                .unanswered_if(true)
                                .carrying(std::move(state)));
}

// Ends the straight session of a sending end: the controller hears how many items it sent.
void unbind(Answer& answer, const Sending& s, const EndKey& key) {
  if (s.session == 0 || s.broken) return;
  (void)object_call(answer, request(Op::kUnbind)
                                .on(s.object)
                                .at(key.end)
                                .unanswered_if(true)
                                .carrying(session_numbers(s.session, s.sent)));
}

ObjectAnswer receive(Answer& answer, const EndKey& key, ObjectRequest&& r) {
  auto it = g_listening.find(key);
  if (it == g_listening.end()) {
    ObjectAnswer a = object_call(answer, request(Op::kListen).on(r.object).at(key.end));
    if (a.status != Status::kOk) return a;
    Listening l{r.object, a.value != 0, {}};
    if (l.kept) {
      Reader in(a.data.data(), a.data.size());
      l.inbox = PipeInbox::read(in);
    }
    if (l.kept) expect_straight_items();
    it = g_listening.emplace(key, std::move(l)).first;
    g_in_task = true;
  }
  if (!it->second.kept) return object_call(answer, std::move(r));
  PipeInbox& inbox = it->second.inbox;
  const bool poll = r.op == Op::kPoll;
  Sink sink{key.object, key.end, r.into};
  const SinkWhileWaiting waiting(sink);
  std::optional<Clock::time_point> deadline;
  if (r.timeout_ns >= 0) deadline = Clock::now() + std::chrono::nanoseconds(r.timeout_ns);
  Waiter waiter(answer);
  bool looked = false;  // at what came, once at least
  while (true) {
    if (std::optional<ObjectAnswer> a = answer_from_pending(answer, sink, inbox, poll)) return *a;
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
    if (sink.done) {
      ObjectAnswer a;
      a.in_place = true;
      return a;
    }
  }
}

}  // namespace

PipeInbox* kept_inbox(std::uint64_t object, std::int64_t end) {
  const auto l = g_listening.find(EndKey{object, end});
  return l != g_listening.end() && l->second.kept ? &l->second.inbox : nullptr;
}

bool task_uses_pipe_ends() { return g_in_task; }

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
      settle_pending(answer);
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
      (void)object_call(answer, request(Op::kDecline)
                                    .on(m.object)
                                    .at(m.end)
                                    .unanswered_if(true)
                                    .carrying(session_numbers(m.word.session)));
      return;
    }
    // The controller places the session after what this task sent through it so far.
    (void)object_call(answer, request(Op::kAccept)
                                  .on(m.object)
                                  .at(m.end)
                                  .unanswered_if(true)
                                  .carrying(session_numbers(m.word.session)));
    s->second.session = m.word.session;
    s->second.path = offered_path(m.word);
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
    rank = s->second.path.rank;
  }
  if (auto peer = g_peers.find(rank); peer != g_peers.end()) {
    peer->second.out.abandon();
    peer->second.ring.reset();
  }
}

void let_go_of_pipe_ends(Answer& answer) {
  settle_pending(answer);
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
    for (auto& [rank, peer] : g_peers) {
      peer.out.progress();
      left = left && peer.out.empty() && (!peer.ring || peer.ring->flush());
    }
    if (left) return;
    waiter.once();
  }
}

void forget_pipe_paths() {
  for (auto& [rank, peer] : g_peers)
    if (!peer.out.empty()) peer.out.abandon();
  g_peers.clear();
  g_sending.clear();
  g_listening.clear();
  g_in_task = false;
  forget_straight_arrivals();
}

}  // namespace ranks::detail
