#include "engine/pipe_ends.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  std::uint64_t session = 0;  // its items go straight to `rank` (0: through the controller)
  int rank = -1;
  bool same_host = false;  // ... and by a ring in shared memory
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
// The rings that engines (by their ranks) send items here by.
std::map<int, std::unique_ptr<transport::Channel>> g_rings;
transport::Incoming g_straight_in;
// A task waiting in recv at an end: an item straight from another engine that is the next it
// receives is decoded into the task's value, its large blocks received into their places.
struct Sink {
  EndKey key;
  ItemSink into;
  bool done = false;
};
Sink* g_sink = nullptr;
unsigned g_straight_looks = 0;
bool g_mpi_items = false;  // items came here by MPI (from another host, or where no ring was made)
bool g_in_task = false;    // a task uses pipe ends now (between its first call and its end)
bool g_ever_kept = false;  // a task here kept an end's inbox

// Straight sends in flight to one rank, at most: a task that sends faster than the other end
// receives waits for it then, as a writer to a full OS pipe does.
constexpr std::size_t kMostInFlight = 64;
// A task sending straight looks at what came after every so many items.
constexpr std::uint64_t kLookEvery = 32;
// How long an item whose blocks are still in MPI waits, outside a receive, for the task to
// receive it.
constexpr std::chrono::milliseconds kPendingMost(1);

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

// An item straight from another engine whose large blocks are still in MPI, kept so until the
// task here receives it (they then go straight into its value). One at a time; its sender's
// later messages wait behind it.
struct Pending {
  transport::Incoming in;
  PipeMessage m;
  Clock::time_point since;
};
std::optional<Pending> g_pending;

// Receives an item's lent blocks and puts them back in place in it.
void make_whole(transport::Incoming& in, PipeMessage& m) {
  if (m.lent.empty()) return;
  std::vector<Bytes> blocks = in.receive_rest();
  if (blocks.size() != m.lent.size())
    throw Error("a pipe's item came without its blocks (corrupt message)");
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    m.lent[i].data = blocks[i].data();
    m.lent[i].size = blocks[i].size();
  }
  m.word.item = whole_value(m.word.item, m.lent);
  m.lent.clear();
}

// An item that came straight, whole: into the inbox of its end, or on to the controller.
void place(Answer& answer, transport::Incoming& in, PipeMessage&& m) {
  make_whole(in, m);
  const EndKey key{m.object.id, m.end};
  if (auto l = g_listening.find(key); l != g_listening.end() && l->second.kept) {
    l->second.inbox.apply(std::move(m.word));
    return;
  }
  // The task that listened here has let go of the end: the controller keeps the item.
  ObjectRequest r = pipe_request(Op::kStray, m.object, m.end, std::move(m.word.item),
                                 session_numbers(m.word.session, m.word.count));
  r.unanswered = true;
  (void)object_call(answer, std::move(r));
}

// Whether the task waiting in recv takes m next (its blocks may go straight into its value).
bool takes_now(const PipeMessage& m) {
  if (g_sink == nullptr || g_sink->done || g_sink->key.object != m.object.id ||
      g_sink->key.end != m.end)
    return false;
  const auto l = g_listening.find(g_sink->key);
  return l != g_listening.end() && l->second.kept &&
         l->second.inbox.takes_next(m.word.session, m.word.count);
}

// Decodes m into the waiting task's value, its blocks received where they belong there.
void decode_in_place(transport::Incoming& in, PipeMessage&& m) {
  PipeInbox& inbox = g_listening.find(g_sink->key)->second.inbox;
  inbox.apply(std::move(m.word));
  const std::optional<Bytes> item = inbox.take();  // this one (nothing came before it)
  Reader r(item->data(), item->size(), in.attachments());
  g_sink->done = true;
  g_sink->into.decode(r, g_sink->into.out);
}

// The pending item, whole, where it belongs (its sender's messages may be read again).
void settle_pending(Answer& answer) {
  if (!g_pending) return;
  Pending p = std::move(*g_pending);
  g_pending.reset();
  place(answer, p.in, std::move(p.m));
}

// An item that came straight (in: the message that brought it, its attachments still in MPI).
void item_came(Answer& answer, transport::Incoming& in) {
  PipeMessage m = read_pipe_message(in.data, in.attachments());
  if (!m.lent.empty()) {
    if (takes_now(m)) return decode_in_place(in, std::move(m));
    const auto l = g_listening.find(EndKey{m.object.id, m.end});
    if (g_in_task && !g_pending && l != g_listening.end() && l->second.kept) {
      g_pending = Pending{std::move(in), std::move(m), Clock::now()};
      return;
    }
  }
  place(answer, in, std::move(m));
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
    (void)object_call(answer, pipe_request(Op::kAsk, r.object, key.end));
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
  Peer& peer = g_peers[s.rank];
  if (s.same_host && !peer.ring && !peer.ring_failed) make_ring(answer, s.rank, peer);
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
    peer.out.send(answer.comm, s.rank, std::move(m), transport::kPipeTag);
  ++s.sent;
  // Now and then, a look at what came: the receiver may have let go of its end (kPipeRevoked).
  if (s.sent % kLookEvery == 0) {
    std::optional<ObjectAnswer> none;
    (void)take_in(answer, 0, none);
  }
  // Blocks sent from where they lie in the task's item: they leave before send returns (as a
  // large write into an OS pipe returns once the reader has taken it).
  if (lent) {
    Waiter waiter(answer);
    peer.out.progress();
    while (!s.broken && !peer.out.empty()) {
      waiter.once();
      peer.out.progress();
    }
  }
  // A full ring, or too many sends in flight: the task waits for the receiver.
  if (peer.ring && !peer.ring->idle()) {
    Waiter waiter(answer);
    while (!s.broken && peer.ring && !peer.ring->flush()) waiter.once();
  }
  if (peer.out.in_flight() > kMostInFlight) {
    peer.out.progress();
    Waiter waiter(answer);
    while (!s.broken && peer.out.in_flight() > kMostInFlight) {
      waiter.once();
      peer.out.progress();
    }
  }
  return {};
}

// Gives the inbox of a kept end back to the controller.
void give_back(Answer& answer, const EndKey& key, Listening& l) {
  // Answered after every word sent on to this engine: once it is, the inbox is whole.
  (void)object_call(answer, pipe_request(Op::kRelease, l.object, key.end));
  settle_pending(answer);  // in the inbox, if it is this end's
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
  Sink sink{key, r.into};
  struct Waiting {  // the sink is there while this receive waits
    explicit Waiting(Sink* s) { g_sink = s->into.decode != nullptr ? s : nullptr; }
    ~Waiting() { g_sink = nullptr; }
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;
  } waiting(&sink);
  std::optional<Clock::time_point> deadline;
  if (r.timeout_ns >= 0) deadline = Clock::now() + std::chrono::nanoseconds(r.timeout_ns);
  Waiter waiter(answer);
  bool looked = false;  // at what came, once at least
  while (true) {
    if (g_pending) {
      if (g_pending->m.object.id == key.object && g_pending->m.end == key.end &&
          inbox.takes_next(g_pending->m.word.session, g_pending->m.word.count)) {
        ObjectAnswer a;
        if (poll) {
          a.value = 1;
          return a;
        }
        if (sink.into.decode != nullptr) {
          Pending p = std::move(*g_pending);
          g_pending.reset();
          decode_in_place(p.in, std::move(p.m));
          a.in_place = true;
          return a;
        }
      }
      settle_pending(answer);  // whole, in the inbox: its sender's next may come
    }
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
    const StraightPath path = offered_path(m.word);
    s->second.session = m.word.session;
    s->second.rank = path.rank;
    s->second.same_host = path.same_host;
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
  if (auto peer = g_peers.find(rank); peer != g_peers.end()) {
    peer->second.out.abandon();
    peer->second.ring.reset();
  }
}

bool take_in_straight(Answer& answer) {
  // Only an engine whose task kept an end is sent items straight (and one whose task has let go
  // of its end may still get some): the others need not look (a probe costs a yield when Open
  // MPI runs more ranks than cores).
  if (!g_ever_kept) return false;
  // Outside a receive (the task sends, or waits on a queue), an item kept pending a millisecond
  // is made whole: two tasks that send large items to each other at once, or one that waits on
  // a queue for what the other puts after its send, must not each wait for the other.
  if (g_pending && g_sink == nullptr && Clock::now() - g_pending->since > kPendingMost)
    settle_pending(answer);
  const int held = g_pending ? g_pending->in.source : -1;  // its ring waits behind it
  for (auto& [rank, ring] : g_rings)
    if (rank != held && ring->try_recv(g_straight_in)) {
      item_came(answer, g_straight_in);
      return true;
    }
  // Where only rings have brought items, MPI (for a new ring's name) is probed at every 64th
  // look: the rings are read in nanoseconds, and a probe that finds nothing yields the core.
  if (!g_rings.empty() && !g_mpi_items && ++g_straight_looks % 64 != 0) return false;
  if (!transport::try_recv(answer.comm, MPI_ANY_SOURCE, g_straight_in, transport::kPipeTag))
    return false;
  if (read_header<TaskHeader>(g_straight_in.data).kind == Kind::kPipeRing) {
    // Everything its engine sent here by MPI before has come (MPI keeps a sender's order).
    try {
      g_rings[g_straight_in.source] = transport::Channel::open(message_text(g_straight_in.data),
                                                               answer.comm, g_straight_in.source);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) +
                  "; engines that name one host share no /dev/shm: run with RANKS_CHANNEL=0");
    }
    return true;
  }
  g_mpi_items = true;
  // Its blocks follow the pending item's, if that came from the same engine.
  if (g_straight_in.source == held) {
    transport::Incoming next = std::move(g_straight_in);
    settle_pending(answer);
    g_straight_in = std::move(next);
  }
  item_came(answer, g_straight_in);
  return true;
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
  g_pending.reset();
  g_peers.clear();
  g_rings.clear();
  g_sending.clear();
  g_listening.clear();
  g_in_task = false;
  g_ever_kept = false;
  g_mpi_items = false;
}

}  // namespace ranks::detail
