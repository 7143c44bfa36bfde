#include "objects/object_server.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "objects/containers.hpp"
#include "objects/mapped_objects.hpp"
#include "objects/pipe_object.hpp"
#include "objects/queue_object.hpp"
#include "objects/sync_object.hpp"
#include "ranks/detail/object_wire.hpp"

namespace ranks::detail::objects {

namespace {

// Drawn afresh for each program, so that a handle kept past its program (in a started cluster's
// namespace) is told from this program's own.
std::uint64_t draw_program_number() {
  std::random_device device;
  std::uint64_t n = (std::uint64_t{device()} << 32) ^ device();
  n ^= static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
  return n == 0 ? 1 : n;
}

}  // namespace

ObjectServer::ObjectServer(Port& port) : port_(port), program_(draw_program_number()) {}

ObjectServer::~ObjectServer() { forget_mapped(); }

ObjectId ObjectServer::make(ObjectKind kind, std::uint64_t capacity, std::uint32_t element,
                            bool shared) {
  // An object in shared memory gets its memory at its first use (made()): a handle made only to
  // be decoded into costs nothing.
  return {program_, next_id_.fetch_add(1, std::memory_order_relaxed),
          kind,     in_shared_memory(kind) && shared ? this_host() : 0,
          capacity, element};
}

SyncState* ObjectServer::sync_state(const ObjectId& id) {
  if (id.program != program_ || id.id == 0 || id.id >= next_id_.load(std::memory_order_relaxed) ||
      !in_shared_memory(id.kind))
    return nullptr;
  return &made(id);
}

namespace {

const char* kind_name(ObjectKind k) {
  switch (k) {
    case ObjectKind::kQueue:
      return "Queue";
    case ObjectKind::kJoinableQueue:
      return "JoinableQueue";
    case ObjectKind::kPipe:
      return "Pipe";
    case ObjectKind::kDict:
      return "dict";
    case ObjectKind::kList:
      return "list";
    case ObjectKind::kLock:
      return "Lock";
    case ObjectKind::kRLock:
      return "RLock";
    case ObjectKind::kSemaphore:
      return "Semaphore";
    case ObjectKind::kBoundedSemaphore:
      return "BoundedSemaphore";
    case ObjectKind::kEvent:
      return "Event";
    case ObjectKind::kCondition:
      return "Condition";
    case ObjectKind::kBarrier:
      return "Barrier";
    case ObjectKind::kArray:
      return "Array";
    case ObjectKind::kNone:
      break;
  }
  return "?";
}

}  // namespace

std::vector<ObjectServer::Listed> ObjectServer::list() const {
  std::vector<Listed> all;
  all.reserve(objects_.size());
  for (const auto& [id, o] : objects_)
    if (!in_shared_memory(kinds_.at(id)))
      all.push_back({id, kind_name(kinds_.at(id)), o->size(), o->waiting()});
  // Those in shared memory: made here, served here or not (their waiters wait on the memory).
  for (const ObjectId& id : mapped_ids(program_)) {
    const auto served = objects_.find(id.id);
    const bool array = id.kind == ObjectKind::kArray;
    all.push_back({id.id, array && id.capacity == 1 ? "Value" : kind_name(id.kind),
                   array ? id.capacity : 0, served != objects_.end() && served->second->waiting()});
  }
  std::sort(all.begin(), all.end(), [](const Listed& a, const Listed& b) { return a.id < b.id; });
  return all;
}

SharedObject* ObjectServer::find(const ObjectId& id) {
  if (const auto it = objects_.find(id.id); it != objects_.end()) return it->second.get();
  if (id.id == 0 || id.id >= next_id_.load(std::memory_order_relaxed)) return nullptr;
  std::unique_ptr<SharedObject> o;
  Replies& replies = *this;
  switch (id.kind) {
    case ObjectKind::kQueue:
    case ObjectKind::kJoinableQueue:
      o = std::make_unique<QueueObject>(replies, id.capacity,
                                        id.kind == ObjectKind::kJoinableQueue);
      break;
    case ObjectKind::kPipe:
      o = std::make_unique<PipeObject>(replies, id);
      break;
    case ObjectKind::kDict:
      o = std::make_unique<DictObject>(replies);
      break;
    case ObjectKind::kList:
      o = std::make_unique<ListObject>(replies);
      break;
    case ObjectKind::kNone:
      return nullptr;
    default:
      o = std::make_unique<SyncObject>(replies, made(id));
  }
  kinds_.emplace(id.id, id.kind);
  return objects_.emplace(id.id, std::move(o)).first->second.get();
}

void ObjectServer::serve(int engine, std::uint64_t number, Reader& in) {
  ObjectRequest r = read_object_request(in);
  const bool unanswered = r.unanswered;
  // Words of an engine's about a pipe's straight path, which nobody waits to hear answered.
  const bool silent = r.op == Op::kStray || r.op == Op::kAccept || r.op == Op::kDecline;
  dispatch(Caller{engine, number, nullptr, unanswered, silent}, std::move(r));
}

void ObjectServer::serve(const std::shared_ptr<LocalCall>& call, ObjectRequest&& r) {
  dispatch(Caller{-1, 0, call}, std::move(r));
}

void ObjectServer::dispatch(Caller caller, ObjectRequest&& r) {
  // Calls are served in the order each caller made them: once this one is, so were the earlier.
  if (r.op == Op::kSync) return reply(caller, ObjectAnswer{});
  if (r.object.program != program_)
    return reply(caller, failed(Status::kError,
                                "this handle was made by another program (one that has ended, "
                                "if it came from a started cluster's namespace); an object "
                                "lives as long as the program that made it: make it in this "
                                "program and pass it to the tasks that use it"));
  SharedObject* o = find(r.object);
  if (o == nullptr)
    return reply(caller, failed(Status::kError, "this handle names no object of this program"));
  const std::uint64_t id = r.object.id;
  o->serve(std::move(caller), std::move(r), Clock::now());
  note_waiting(id, *o);
}

void ObjectServer::note_waiting(std::uint64_t id, const SharedObject& o) {
  if (o.waiting()) {
    waiting_.insert(id);
  } else {
    waiting_.erase(id);
  }
}

void ObjectServer::check(Clock::time_point now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const std::uint64_t id = *it++;
    SharedObject& o = *objects_.at(id);
    o.expire(now);
    note_waiting(id, o);
  }
}

void ObjectServer::lose(const LostEngine& e) {
  recover_mapped(program_, e);
  for (auto& [id, o] : objects_) {
    if (!o->waiting() && !o->involves(e.id)) continue;
    o->lose(e);
    note_waiting(id, *o);
  }
}

void ObjectServer::end() {
  close_mapped(program_);
  for (const std::uint64_t id : waiting_) objects_.at(id)->end();
  waiting_.clear();
}

void ObjectServer::reply(const Caller& to, ObjectAnswer&& a) {
  if (to.local) {
    to.local->answer = std::move(a);
    to.local->done = true;
    return;
  }
  if (to.silent || (to.unanswered && a.status == Status::kOk)) return;
  port_.send_to_engine(to.engine, object_answer_message(to.number, std::move(a)));
}

}  // namespace ranks::detail::objects
