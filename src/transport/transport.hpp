#pragma once

// The only code that touches MPI (with the rest of src/transport/; docs/LAYOUT.md says so and
// tests/layout/check.sh keeps it so): init, point-to-point messages of any size, probing with
// backoff, the collectives of the static schedule, spawning. Every MPI call's result is checked:
// check() throws ranks::MpiError, check_cleanup() (letting go, where nothing can be done) says
// what failed on stderr.

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "ranks/detail/wire.hpp"

namespace ranks::detail::transport {

// Every tag ranks uses, on any communicator.
/// Messages between the controller (or a hub) and engines.
inline constexpr int kTag = 4242;
/// The tag of attachments: apart from messages, so that a probe for the next message never
/// finds one; per source they arrive in the order they were sent.
inline constexpr int kDataTag = 4243;
/// MPI_Comm_create_group's, for a Subset of a communicator.
inline constexpr int kSubsetTag = 4244;
/// The tag of a message that a shared-memory channel (channel.hpp) sent by MPI instead (too
/// large for its ring): a probe for kTag never finds it, only the channel's own receive does.
inline constexpr int kViaTag = 4245;
/// Items a task sends straight to the engine whose task receives at the other end of a Pipe.
inline constexpr int kPipeTag = 4246;
/// MPI_Comm_create_group's, for the communicators among engines (engine_comm(), reductions).
inline constexpr int kEnginesTag = 4251;
/// Largest single MPI message; bigger ones travel as several (count is an int).
inline constexpr std::size_t kMaxPart = std::size_t{1} << 30;

/// Throws ranks::MpiError (the routine, MPI's code, its class and description) when rc is not
/// MPI_SUCCESS.
void check(int rc, const char* routine);
/// For letting go (freeing, disconnecting), where a failure changes nothing the caller can do:
/// says on stderr which routine failed and why, and goes on.
void check_cleanup(int rc, const char* routine) noexcept;

/// A message as it travels: its bytes, then a trailer (each attachment's size, then how many),
/// sealed with its total length. Outbox::send does this; a relay through a hub does it too.
void finish(Message& msg);
/// Takes the trailer off a message as it arrived and returns its attachments' sizes. Throws
/// ranks::Error if it has none.
std::vector<std::uint64_t> strip_trailer(Bytes& data);

/// Sends that complete in the background; buffers (and what the message keeps alive) live
/// until MPI is done with them. A message's attachments follow it on kDataTag, and a trailer
/// after its bytes lists their sizes.
class Outbox {
 public:
  Outbox() = default;
  /// An outbox that frees finished sends only when progress() is called, not at every send
  /// too: for sends that follow each other within microseconds (a pipe's items straight to
  /// another engine), where a test that finds nothing done would yield the core (Open MPI does
  /// when it runs more ranks than cores).
  struct Lazy {};
  explicit Outbox(Lazy /*unused*/) : lazy_(true) {}
  void send(MPI_Comm comm, int dest, Message msg, int tag = kTag);
  /// Sends a message finished already (a hub passing on one it was given), on `tag`.
  void send_finished(MPI_Comm comm, int dest, Message msg, int tag = kTag);
  /// Sends only the attachments of a finished message whose bytes travel another way (a
  /// shared-memory channel), keeping it alive until MPI is done with them.
  void send_attachments(MPI_Comm comm, int dest, Message msg);
  /// Frees finished sends, wherever they are in the queue (one MPI_Testsome over all of them).
  void progress();
  /// Waits for every send to finish.
  void drain();
  /// Gives up on the sends not finished (their receiver is gone): MPI frees them when it can.
  void abandon();
  [[nodiscard]] bool empty() const { return requests_.empty(); }
  /// Sends (and attachments) not finished yet, as of the last progress().
  [[nodiscard]] std::size_t in_flight() const { return requests_.size(); }

 private:
  struct Pending {
    Message msg;
    std::size_t left = 0;  // requests not yet complete
  };
  // Posts msg's attachments, and its bytes on `tag` unless tag is -1.
  void post(MPI_Comm comm, int dest, Message msg, int tag);
  std::vector<Pending> slots_;
  std::vector<std::size_t> free_;
  std::vector<MPI_Request> requests_;
  std::vector<std::size_t> owner_;  // the slot of each request
  std::vector<int> done_;
  bool lazy_ = false;
};

/// A message received whole, and its attachments, which stay in MPI until a decoder asks for
/// them (straight into their destination). Those nobody read (a failed task, a cancelled job)
/// are dropped by the next try_recv, so that every message starts clean.
class Incoming final : public AttachmentSource {
 public:
  int source = -1;
  Bytes data;

  void receive(void* dst, std::size_t n) override;
  [[nodiscard]] AttachmentSource* attachments() { return this; }
  /// Receives every attachment not read yet, in order (a hub passing the message on).
  std::vector<Bytes> receive_rest();
  /// Takes a message that arrived another way (a shared-memory channel) from `source` of
  /// comm: its bytes, trailer and all; its attachments follow by MPI. What the previous one
  /// left unread is dropped first.
  void take(Bytes bytes, MPI_Comm comm, int source);

 private:
  friend bool try_recv(MPI_Comm comm, int source, Incoming& out, int tag);
  void drain();
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::vector<std::uint64_t> sizes_;
  std::size_t next_ = 0;
};

/// Receives one waiting message from `source` (MPI_ANY_SOURCE: anyone) on `tag`, if there is
/// one.
bool try_recv(MPI_Comm comm, int source, Incoming& out, int tag = kTag);

class Channel;

/// Spin for 2 us (or as set) after activity, then yield until 500 us (microsecond latency while
/// work flows, without taking a core from a busy rank), then sleep with growing intervals up to
/// max_sleep (an idle rank stays cool), and after a second of nothing up to cold_sleep (many
/// idle ranks stay cool together).
class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds max_sleep,
                   std::chrono::microseconds cold_sleep = std::chrono::microseconds(0))
      : max_sleep_(max_sleep), cold_sleep_(std::max(max_sleep, cold_sleep)) {
    reset();
  }
  /// Spins for `spin` after activity instead of 2 us: for a wait whose answer comes by MPI
  /// from another engine, within microseconds, while work flows (a pipe's items straight).
  Backoff& spinning(std::chrono::microseconds spin) {
    spin_ = spin;
    return *this;
  }
  void reset();
  /// Waits a little, longer the longer nothing happened; `sending`: this rank has sends in
  /// flight, so it sleeps no longer than kSendingSleep. With a `doorbell` (the channel its work
  /// comes by) it sleeps there instead, as long as it may, woken by the next message.
  void pause(bool sending = false, Channel* doorbell = nullptr);
  static constexpr std::chrono::microseconds kSendingSleep{50};
  static constexpr std::chrono::microseconds kDoorbellColdSleep{50'000};

 private:
  std::chrono::steady_clock::time_point last_;
  std::chrono::microseconds sleep_{0};
  std::chrono::microseconds spin_{2};
  std::chrono::microseconds max_sleep_;
  std::chrono::microseconds cold_sleep_;
};

/// Engines started by MPI_Comm_spawn: the intercommunicator and its merge (controller rank 0).
struct Spawned {
  MPI_Comm inter = MPI_COMM_NULL;
  MPI_Comm merged = MPI_COMM_NULL;
};
/// Spawns n copies of the executable, collectively over `parent` (its rank 0 names what to
/// run), the parents first in the merge; throws ranks::MpiError with MPI's reason on failure.
Spawned spawn(int n, const std::string& exe, const std::vector<std::string>& args,
              MPI_Comm parent = MPI_COMM_SELF);
/// On a spawned engine: the communicator with its controller (rank 0), or MPI_COMM_NULL.
MPI_Comm join_parent();
/// Lets go of a spawned set of engines (both sides call it).
void release(Spawned& s);
/// A client's side of connecting to engines that accept at `port`: the intercommunicator and
/// its merge, the client rank 0. Errors on them return rather than abort.
Spawned connect(const std::string& port);
/// The engines' side (collective over comm, whose rank `root` opened the port): the
/// intercommunicator only, so that the engines can say they hold it before merge_accepted.
Spawned accept(const std::string& port, MPI_Comm comm, int root = 0);
/// Merges what accept returned, the client rank 0. Like every collective with the client, it
/// waits for ever if the client dies meanwhile (Open MPI 4.1 has no way out).
void merge_accepted(Spawned& s);
/// Lets go of a connection whose other side is gone, without waiting for it.
void abandon(Spawned& s);
/// Opens a port for accept.
std::string open_port();

/// The communicator of these ranks of whole, made by them alone (MPI_Comm_create_group on
/// `tag`), errors returned rather than fatal.
MPI_Comm subset(MPI_Comm whole, const std::vector<int>& ranks, int tag);
/// A copy of comm (MPI_Comm_dup), errors returned rather than fatal.
MPI_Comm dup_comm(MPI_Comm comm);
/// Frees comm (where it is not MPI_COMM_NULL) and sets it to MPI_COMM_NULL.
void free_comm(MPI_Comm& comm);
/// Makes errors on comm return (and be thrown by check) rather than end the job.
void errors_return(MPI_Comm comm);
/// On a spawned engine: the intercommunicator with its parent, or MPI_COMM_NULL.
MPI_Comm parent();

/// The communicator of some ranks of a communicator, made again only when the ranks change.
/// Every rank in the set makes it together (MPI_Comm_create_group); the others never call.
class Subset {
 public:
  explicit Subset(MPI_Comm whole) : whole_(whole) {}
  Subset(const Subset&) = delete;
  Subset& operator=(const Subset&) = delete;
  ~Subset();
  MPI_Comm of(const std::vector<int>& ranks);
  /// The same, of another communicator from now on (a cluster that grew).
  void rebase(MPI_Comm whole);

 private:
  MPI_Comm whole_;
  std::vector<int> ranks_;
  MPI_Comm comm_ = MPI_COMM_NULL;
};

/// Thrown from transport's waits when the interrupt check says to give up (an engine of a
/// started cluster whose client died).
struct Interrupted {};
/// What transport's waits ask, at most every millisecond, to know whether to give up; none by
/// default.
void set_interrupt(bool (*check)());
/// Asks the interrupt check (at most every millisecond); throws Interrupted if it says so.
void poll_interrupt();

[[nodiscard]] int rank(MPI_Comm comm);
[[nodiscard]] int size(MPI_Comm comm);

// Collectives, root 0. The root posts non-blocking ones and tests them while it polls; engines
// post the same non-blocking ones (only those match) and wait for them with backoff.
MPI_Request iscatterv(MPI_Comm comm, const std::byte* base, const std::vector<int>& counts,
                      const std::vector<int>& displs);
MPI_Request ibcast(MPI_Comm comm, const std::byte* data, int n);
MPI_Request igather(MPI_Comm comm, void* recv, int each);
MPI_Request igatherv(MPI_Comm comm, std::byte* recv, const std::vector<int>& counts,
                     const std::vector<int>& displs);
/// True once every request is complete (completed ones become MPI_REQUEST_NULL).
bool test_all(std::vector<MPI_Request>& requests);
void scatterv_recv(MPI_Comm comm, std::byte* buf, int n);
void bcast_recv(MPI_Comm comm, std::byte* buf, int n);
void gather_send(MPI_Comm comm, const void* data, int n);
void gatherv_send(MPI_Comm comm, const std::byte* data, int n);
/// Broadcasts n bytes from root 0 (nonblocking underneath: it waits with backoff, and can be
/// interrupted).
void bcast(MPI_Comm comm, void* data, int n);
/// Gathers n bytes from every rank to root 0 (recv: n * size bytes on the root).
void gather(MPI_Comm comm, const void* data, int n, void* recv);
/// Ends the job: every rank of comm (and of the jobs connected to it) with a non-zero code.
[[noreturn]] void abort(int code, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace ranks::detail::transport
