#pragma once

// The objects that live in shared memory (Lock, RLock, Semaphore, Event, Condition, Barrier,
// Value and Array): what each keeps in its memory, and every call on it as one attempt that is
// done, fails, or says which word to sleep on before the next. The same attempts serve a process
// that maps the memory (it sleeps on the word with a futex) and the controller serving a process
// that cannot (the call waits there and is tried again), so both see one state.
//
// A lock word holds its holder (a Party's code) and whether others may sleep on it: lost
// holders are found there and the lock given back (recover).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "objects/shared_object.hpp"
#include "ranks/detail/sync.hpp"

namespace ranks::detail::objects {

/// Who makes a call: the code a lock word holds for it (its process and thread), and its engine
/// (-1: the program), for what a semaphore counts per engine and a barrier's parties.
struct Party {
  std::uint32_t code = 0;
  int engine = -1;
};
/// The program's thread `thread` (a small number per thread of the process).
Party program_party(std::uint32_t thread);
/// Engine e's thread `thread`.
Party engine_party(int engine, std::uint32_t thread);

/// What an attempt came to.
struct Step {
  enum class Is { kDone, kWait, kFailed };
  Is is = Is::kDone;
  SyncResult result;            // kDone
  Status status = Status::kOk;  // kFailed: kError, kBroken or kClosed, and why
  std::string text;
  // kWait: try again once *word no longer holds seen (or after a while), counted among
  // *sleepers meanwhile where given (so that whoever changes the word knows to wake them).
  std::atomic<std::uint32_t>* word = nullptr;
  std::uint32_t seen = 0;
  std::atomic<std::uint32_t>* sleepers = nullptr;
};

/// One object's memory, as one process maps it.
class SyncState {
 public:
  /// How many bytes an object needs.
  static std::size_t size_of(const ObjectId& id);
  /// Over memory of size_of(id) bytes: zero-filled when new (make sets it up).
  SyncState(void* memory, const ObjectId& id);
  /// Sets up new memory (a semaphore's value, a barrier's parties).
  void make();

  /// One attempt at call by p; `again` after it waited. call keeps where a call that waits
  /// stands (a barrier's generation and arrival index).
  Step attempt(SyncCall& call, const Party& p, bool again);
  /// The call's timeout passed while it waited: its answer (or kWait: try this again soon).
  Step timed_out(SyncCall& call, const Party& p);
  /// Engine e was lost: a lock it held is given back, what it took of a semaphore too (the
  /// next holder can learn it: kHolderLost), a barrier it waited at breaks.
  void recover(const LostEngine& e);
  /// The program ended: whoever waits on it wakes and hears ranks::Closed.
  void close();
  [[nodiscard]] bool closed() const;
  [[nodiscard]] const ObjectId& id() const { return id_; }

 private:
  Step lock_attempt(SyncCall& call, const Party& p, bool again);
  Step unlock(SyncCall& call, const Party& p);
  Step semaphore_attempt(const Party& p);
  Step semaphore_release(const Party& p);
  Step event(SyncCall& call);
  Step condition(SyncCall& call, const Party& p, bool again);
  Step barrier(SyncCall& call, const Party& p, bool again);
  Step barrier_timed_out(SyncCall& call, const Party& p);
  [[nodiscard]] std::string broken_why() const;
  Step array(SyncCall& call);
  Step holder_lost();
  void note_lost(const LostEngine& e);
  template <class T>
  T& at(std::size_t offset) const {
    return *reinterpret_cast<T*>(memory_ + offset);
  }

  unsigned char* memory_;
  ObjectId id_;
};

}  // namespace ranks::detail::objects
