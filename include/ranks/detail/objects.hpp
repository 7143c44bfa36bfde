#pragma once

// Objects shared between processes (queues, pipes, a manager's containers) as the header-only API
// sees them: a handle that names the object, and one call that reaches it from the controller or
// from any engine. The controller serves every object (src/objects); the call is implemented in
// src/controller/objects.cpp and, on an engine, in src/engine/object_calls.cpp.

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/codec.hpp"

namespace ranks::detail {

enum class ObjectKind : std::uint32_t {
  kNone = 0,
  kQueue,
  kJoinableQueue,
  kPipe,
  kDict,
  kList,
  // in shared memory (src/objects/sync_state.hpp)
  kLock,
  kRLock,
  kSemaphore,
  kBoundedSemaphore,
  kEvent,
  kCondition,
  kBarrier,
  kArray,  // Value (an Array of one) and Array
};

/// Whether objects of kind k live in shared memory (each process on the controller's host maps
/// it; the controller serves the others).
constexpr bool in_shared_memory(ObjectKind k) { return k >= ObjectKind::kLock; }

/// Names an object: the program that made it (a number drawn afresh by each ranks::run), its
/// number in that program, and what it is. Making a handle only draws the number: the object
/// comes to be where it is served, at the first call on it, as the handle says (so a handle is
/// made without a word to anyone, and one made only to be decoded into costs nothing). A handle
/// made inside a task names none (id 0).
struct ObjectId {
  std::uint64_t program = 0;
  std::uint64_t id = 0;
  ObjectKind kind = ObjectKind::kNone;
  /// Objects in shared memory: the controller's host (a hash of its name), where processes map
  /// it; 0 where none does (the controller serves every call).
  std::uint32_t host = 0;
  /// A queue's maxsize (0: unbounded); a pipe: 1 if duplex; a semaphore's initial value; a
  /// barrier's parties; an array's length.
  std::uint64_t capacity = 0;
  /// An array's elements: their size, and (above the low byte) the kind of number they are
  /// (Number), for fetch_add.
  std::uint32_t element = 0;
  std::uint32_t unused = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar& program& id& kind& host& capacity& element;
  }
};

enum class Op : std::uint32_t {
  // queues (a: the item)
  kPut = 1,
  kGet,
  kSize,
  kFull,
  kClose,
  kTaskDone,
  kJoin,
  // a pipe's ends (index: which end, 0 or 1; a: the item)
  kSend,
  kRecv,
  kPoll,
  kCloseEnd,
  // a task's end of a pipe on an engine (src/engine/pipe_ends.cpp; index: the end)
  kListen,    // keep what comes to this end here, and have it sent on (answer: the inbox)
  kRelease,   // keep it again (answered once everything sent on has been sent)
  kGiveBack,  // a: the inbox as it was left
  kAccept,    // a: the session offered (kPipeOffer) that this task's items now go straight in
  kDecline,   // a: a session offered when no task could take it
  kUnbind,    // a: the session and how many items it sent straight
  kStray,     // a: an item sent straight to an end no task here listens at any more; b: its
              // session and number there
  kAsk,       // a task about to send a large item asks to be offered to send straight now
              // (answered after the offer, if one can be made)
  // a dict (a: the key, b: the value) and a list (index: the position, a: the item); kSize too
  kSet,
  kLookup,
  kContains,
  kErase,
  kItems,
  kClear,
  kAppend,
  kExtend,
  kAt,
  kAssign,
  kPop,
  kReverse,
  // in shared memory (src/objects/sync_state.hpp; detail/sync.hpp's SyncCall says what each
  // carries)
  kShare,  // make the object's memory now, so that the caller can map it
  kAcquire,
  kUnlock,
  kUnlockAll,
  kOwned,
  kHolderLost,
  kEventSet,
  kEventClear,
  kEventIsSet,
  kEventWait,
  kConditionEnter,
  kConditionWait,
  kNotify,
  kBarrierWait,
  kBarrierAbort,
  kBarrierReset,
  kBarrierState,
  kRead,
  kWrite,
  kFetchAdd,
  kCompareExchange,
  // no object: answered once every earlier call of the caller has been served
  kSync,
};

enum class Status : std::uint32_t {
  kOk = 0,
  kEmpty,    // nothing came in time: ranks::Empty
  kFull,     // no room came in time: ranks::Full
  kClosed,   // ranks::Closed
  kLost,     // the engine that held the other end (or items) was lost: ranks::EngineLost
  kMissing,  // a dict without the key
  kError,    // a misuse: ranks::Error with the text
  kBroken,   // a broken barrier: ranks::BrokenBarrier
};

/// Where a receive may decode its item itself, from a Reader over the item and its attachments
/// (an item straight from another engine: its large blocks are received into their places).
struct ItemSink {
  void* out = nullptr;
  void (*decode)(Reader& r, void* out) = nullptr;
};

/// One call on an object.
struct ObjectRequest {
  ObjectId object;
  Op op = Op::kSize;
  std::int64_t index = 0;        // a list's position, a pipe's end
  std::int64_t timeout_ns = -1;  // for calls that wait: -1 for ever, 0 not at all
  /// A call that cannot wait and whose success says nothing (a put on an unbounded queue, a
  /// send): a task goes on at once, and hears of a failure at its next call or when it ends.
  bool unanswered = false;
  Bytes a, b;  // encoded: the item, or the key and the value
  /// The item's large blocks that `a` does not hold (see lending): they lie in the caller's
  /// value, which outlives the call. A call that keeps the item makes it whole first.
  std::vector<Attachment> lent;
  /// Where a receive may decode its item itself (see decoding_over).
  ItemSink into;

  /// Copies the lent blocks into `a`, where each belongs.
  void make_whole() {
    if (lent.empty()) return;
    a = whole_value(a, lent);
    lent.clear();
  }

  ObjectRequest&& on(const ObjectId& o) && {
    object = o;
    return std::move(*this);
  }
  ObjectRequest&& at(std::int64_t i) && {
    index = i;
    return std::move(*this);
  }
  ObjectRequest&& waiting(std::int64_t ns) && {
    timeout_ns = ns;
    return std::move(*this);
  }
  ObjectRequest&& unanswered_if(bool yes) && {
    unanswered = yes;
    return std::move(*this);
  }
  ObjectRequest&& carrying(Bytes item, Bytes value = {}) && {
    a = std::move(item);
    b = std::move(value);
    return std::move(*this);
  }
  /// Carries item with its large blocks (64 KiB and more) left where they lie: a pipe's send,
  /// which a task on an engine sends straight from there to the engine that receives it.
  template <class T>
  ObjectRequest&& lending(const T& item) && {
    Writer w(a, &lent);
    encode(w, item);
    return std::move(*this);
  }
  /// Lets a receive decode its item over `out`, a value the caller has (a vector of the size that
  /// comes is filled where it lies); then its answer says in_place.
  template <class T>
  ObjectRequest&& decoding_over(T& out) && {
    into.out = &out;
    into.decode = [](Reader& r, void* o) { decode(r, *static_cast<T*>(o)); };
    return std::move(*this);
  }
};

/// A call of op, its other fields as the setters above give them (on the temporary, so that an
/// item is moved along, never copied).
inline ObjectRequest request(Op op) {
  ObjectRequest r;
  r.op = op;
  return r;
}

/// An engine that was lost, as ranks::EngineLost names it (id -1: none).
struct LostEngine {
  int id = -1;
  std::string host;
  int pid = 0;
  int signal = 0;
};

/// Its answer.
struct ObjectAnswer {
  Status status = Status::kOk;
  std::int64_t value = 0;  // a size, a flag
  Bytes data;              // an item, or several (kItems)
  bool in_place = false;   // the item was decoded where the request's `into` said, not in data
  std::string text;        // what went wrong, for a message
  LostEngine lost;         // kLost: the engine, for ranks::EngineLost; kHolderLost's answer
};

/// Names a new object of the program (ObjectId). On an engine (inside a task) returns an id that
/// names none, so that a handle decoded there can be default-constructed first; using such a
/// handle throws. Throws ranks::Error outside ranks::run. Takes no lock: a handle decoded on the
/// controller (a task's result) is made while the controller's lock is held.
ObjectId make_object(ObjectKind kind, std::uint64_t capacity, const char* who,
                     std::uint32_t element = 0);

/// Makes the call, from wherever this runs (the controller, or a task on an engine), and waits
/// for its answer. Throws ranks::Error for a handle that names no object (made inside a task) or
/// when called outside ranks::run.
ObjectAnswer call_object(ObjectRequest&& r, const char* who);

/// Throws what a failed answer says, as the error a user catches (ranks::Empty, ranks::Full,
/// ranks::Closed, ranks::EngineLost, ranks::Error), its message beginning with `who`.
[[noreturn]] void throw_answer(const ObjectAnswer& a, const char* who);

/// Throws ranks::Error saying that a handle (used by `who`) names no object, and what to do.
[[noreturn]] void throw_unnamed(const char* who);

/// A value as the bytes an object keeps. Throws where its serialization does (nothing is sent).
template <class T>
Bytes to_blob(const T& v) {
  Bytes b;
  Writer w(b);
  encode(w, v);
  return b;
}

template <class T>
T from_blob(const Bytes& b) {
  Reader r(b.data(), b.size());
  return decode_value<T>(r);
}

/// Several encoded values as one (a container's items): their count, then each.
inline Bytes pack_blobs(const std::vector<const Bytes*>& values) {
  Bytes out;
  Writer w(out);
  encode_size(w, values.size());
  for (const Bytes* v : values) encode(w, *v);
  return out;
}

inline std::vector<Bytes> unpack_blobs(const Bytes& packed) {
  Reader r(packed.data(), packed.size());
  std::vector<Bytes> values(decode_size(r));
  for (Bytes& v : values) decode(r, v);
  return values;
}

/// A timeout as a request carries it.
template <class Rep, class Period>
std::int64_t timeout_ns(std::chrono::duration<Rep, Period> d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return ns < 0 ? 0 : static_cast<std::int64_t>(ns);
}

/// Calls op on object and throws unless it went well.
inline ObjectAnswer call_checked(ObjectRequest&& r, const char* who) {
  ObjectAnswer a = call_object(std::move(r), who);
  if (a.status != Status::kOk) throw_answer(a, who);
  return a;
}

/// What every handle is (Queue, Connection, DictProxy, ListProxy): the object it names, and the
/// one way its calls go out.
class ObjectHandle {
 public:
  /// The handle's own data, for Boost.Serialization (a handle inside a struct that travels).
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar& id_;
  }

 protected:
  ObjectHandle() = default;
  explicit ObjectHandle(ObjectId id) : id_(id) {}
  /// Makes the call r on this object and returns its answer, failed or not.
  ObjectAnswer ask(ObjectRequest r, const char* who) const {
    r.object = id_;
    return call_object(std::move(r), who);
  }
  /// Makes the call r on this object; throws unless it went well.
  ObjectAnswer call(ObjectRequest r, const char* who) const {
    r.object = id_;
    return call_checked(std::move(r), who);
  }

  ObjectId id_;
};

/// Objects may hold only what can travel.
template <class T>
inline constexpr bool object_item_v = !std::is_reference_v<T> && !std::is_pointer_v<T>;

}  // namespace ranks::detail
