#pragma once

// The objects a program shares between its processes, as its controller serves them: made by
// the program, called by the program itself and by tasks on any engine, freed when the program
// ends. A call that cannot be answered yet (a get on an empty queue) waits here, never on the
// engine's side, until it can be, its timeout passes, its engine is lost or the program ends.

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "objects/shared_object.hpp"
#include "objects/sync_state.hpp"
#include "ranks/detail/bytes.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail::objects {

class ObjectServer final : private Replies {
 public:
  /// How the server reaches the engines: the controller's.
  class Port {
   public:
    /// Sends a message (an answer, a word for a pipe's end) to engine e (nothing, if it is
    /// lost).
    virtual void send_to_engine(int engine, Message m) = 0;
    /// How engine `from` reaches engine `to` straight (rank -1: it cannot).
    [[nodiscard]] virtual StraightPath straight_path(int from, int to) const = 0;

   protected:
    ~Port() = default;
  };

  explicit ObjectServer(Port& port);
  ~ObjectServer();
  ObjectServer(const ObjectServer&) = delete;
  ObjectServer& operator=(const ObjectServer&) = delete;

  /// The number that tells this program's handles from another's.
  [[nodiscard]] std::uint64_t program() const { return program_; }
  /// A new object's handle: a number drawn, nothing else (the object comes to be at its first
  /// call; one in shared memory is there where `shared` says, on this host). Safe from any
  /// thread, with or without the controller's lock.
  ObjectId make(ObjectKind kind, std::uint64_t capacity, std::uint32_t element, bool shared);
  /// Engine `engine`'s call number `number`, read from its message (after the header).
  void serve(int engine, std::uint64_t number, Reader& in);
  /// A call of the controller's own, answered into `call` now or later.
  void serve(const std::shared_ptr<LocalCall>& call, ObjectRequest&& r);
  /// Whether calls wait (check() then has deadlines to look at).
  [[nodiscard]] bool waiting() const { return !waiting_.empty(); }
  /// Answers the calls whose timeout has passed.
  void check(Clock::time_point now);
  /// Engine e was lost: its waiting calls go, and the objects it held hear of it.
  void lose(const LostEngine& e);
  /// The program ends: every waiting call is answered (ranks::Closed).
  void end();
  [[nodiscard]] std::size_t count() const { return objects_.size(); }
  /// An object as the dashboard lists it.
  struct Listed {
    std::uint64_t id = 0;
    const char* kind = "";
    std::size_t size = 0;  // SharedObject::size
    bool waiting = false;  // calls wait on it
  };
  /// The objects made so far (each at its first call), by id.
  [[nodiscard]] std::vector<Listed> list() const;
  /// The state of this program's object in shared memory that id names, made at its first use;
  /// nullptr if id names none of this program's. Safe from any thread.
  SyncState* sync_state(const ObjectId& id);

 private:
  void reply(const Caller& to, ObjectAnswer&& a) override;
  void tell(int engine, Message m) override { port_.send_to_engine(engine, std::move(m)); }
  [[nodiscard]] StraightPath straight_path(int from, int to) const override {
    return port_.straight_path(from, to);
  }
  void dispatch(Caller caller, ObjectRequest&& r);
  void note_waiting(std::uint64_t id, const SharedObject& o);
  /// The object a call names, made at its first call; nullptr if the handle names none.
  SharedObject* find(const ObjectId& id);

  Port& port_;
  std::uint64_t program_;
  std::atomic<std::uint64_t> next_id_{1};
  std::unordered_map<std::uint64_t, std::unique_ptr<SharedObject>> objects_;
  std::unordered_map<std::uint64_t, ObjectKind> kinds_;  // of each object made
  std::set<std::uint64_t> waiting_;                      // objects on which calls wait
};

}  // namespace ranks::detail::objects
