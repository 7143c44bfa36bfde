#include "engine/pipe_arrivals.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/object_calls.hpp"
#include "transport/channel.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

namespace {

using Clock = std::chrono::steady_clock;

// How long an item whose blocks are still in MPI waits, outside a receive, for the task to
// receive it.
constexpr std::chrono::milliseconds kPendingMost(1);

// The rings that engines (by their ranks) send items here by.
std::map<int, std::unique_ptr<transport::Channel>> g_rings;
transport::Incoming g_straight_in;
Sink* g_sink = nullptr;
unsigned g_straight_looks = 0;
bool g_mpi_items = false;  // items came here by MPI (from another host, or where no ring was made)
bool g_ever_kept = false;  // a task here kept an end's inbox

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
  if (PipeInbox* inbox = kept_inbox(m.object.id, m.end)) {
    inbox->apply(std::move(m.word));
    return;
  }
  // The task that listened here has let go of the end: the controller keeps the item.
  (void)object_call(
      answer, request(Op::kStray)
                  .on(m.object)
                  .at(m.end)
                  .unanswered_if(true)
                  .carrying(std::move(m.word.item), session_numbers(m.word.session, m.word.count)));
}

// Whether the task waiting in recv takes m next (its blocks may go straight into its value).
bool takes_now(const PipeMessage& m) {
  if (g_sink == nullptr || g_sink->done || g_sink->object != m.object.id || g_sink->end != m.end)
    return false;
  PipeInbox* inbox = kept_inbox(g_sink->object, g_sink->end);
  return inbox != nullptr && inbox->takes_next(m.word.session, m.word.count);
}

// Decodes m into the sink's value, its blocks received where they belong there.
void decode_in_place(Sink& sink, transport::Incoming& in, PipeMessage&& m) {
  PipeInbox& inbox = *kept_inbox(sink.object, sink.end);
  inbox.apply(std::move(m.word));
  const std::optional<Bytes> item = inbox.take();  // this one (nothing came before it)
  Reader r(item->data(), item->size(), in.attachments());
  sink.done = true;
  sink.into.decode(r, sink.into.out);
}

// An item that came straight (in: the message that brought it, its attachments still in MPI).
void item_came(Answer& answer, transport::Incoming& in) {
  PipeMessage m = read_pipe_message(in.data, in.attachments());
  if (!m.lent.empty()) {
    if (takes_now(m)) return decode_in_place(*g_sink, in, std::move(m));
    if (task_uses_pipe_ends() && !g_pending && kept_inbox(m.object.id, m.end) != nullptr) {
      g_pending = Pending{std::move(in), std::move(m), Clock::now()};
      return;
    }
  }
  place(answer, in, std::move(m));
}

}  // namespace

SinkWhileWaiting::SinkWhileWaiting(Sink& sink) {
  g_sink = sink.into.decode != nullptr ? &sink : nullptr;
}
SinkWhileWaiting::~SinkWhileWaiting() { g_sink = nullptr; }

void expect_straight_items() { g_ever_kept = true; }

void settle_pending(Answer& answer) {
  if (!g_pending) return;
  Pending p = std::move(*g_pending);
  g_pending.reset();
  place(answer, p.in, std::move(p.m));
}

std::optional<ObjectAnswer> answer_from_pending(Answer& answer, Sink& sink, PipeInbox& inbox,
                                                bool poll) {
  if (!g_pending) return std::nullopt;
  if (g_pending->m.object.id == sink.object && g_pending->m.end == sink.end &&
      inbox.takes_next(g_pending->m.word.session, g_pending->m.word.count)) {
    ObjectAnswer a;
    if (poll) {
      a.value = 1;
      return a;
    }
    if (sink.into.decode != nullptr) {
      Pending p = std::move(*g_pending);
      g_pending.reset();
      decode_in_place(sink, p.in, std::move(p.m));
      a.in_place = true;
      return a;
    }
  }
  settle_pending(answer);  // whole, in the inbox: its sender's next may come
  return std::nullopt;
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

void forget_straight_arrivals() {
  g_pending.reset();
  g_rings.clear();
  g_ever_kept = false;
  g_mpi_items = false;
}

}  // namespace ranks::detail
