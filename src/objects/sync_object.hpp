#pragma once

// An object in shared memory as the controller serves it to processes that cannot map it (on
// another host, or with RANKS_CHANNEL=0): the same attempts on the controller's mapping, made on
// the caller's behalf; a call that must wait is tried again at every check until it is done, its
// timeout passes, its engine is lost or the program ends. And how such a call travels.

#include <cstdint>
#include <optional>
#include <vector>

#include "objects/shared_object.hpp"
#include "objects/sync_state.hpp"

namespace ranks::detail::objects {

class SyncObject final : public SharedObject {
 public:
  SyncObject(Replies& replies, SyncState& state) : SharedObject(replies), state_(state) {}
  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  /// Tries every waiting call again, and answers those whose timeout passed.
  void expire(Clock::time_point now) override;
  void lose(const LostEngine& e) override;
  void end() override;
  [[nodiscard]] bool waiting() const override { return !waiting_.empty(); }
  [[nodiscard]] bool involves(int /*engine*/) const override { return false; }

 private:
  struct Waiter {
    Caller caller;
    SyncCall call;
    Party party;
    std::optional<Clock::time_point> deadline;
  };
  /// Answers what step came to; false if it says to wait.
  bool answer_step(const Caller& to, Step&& step);

  SyncState& state_;
  std::vector<Waiter> waiting_;
};

/// A call of thread `thread` (of an engine that cannot map the object) as it travels.
ObjectRequest sync_request(const ObjectId& id, const SyncCall& call, std::uint32_t thread);
/// Its answer, read (into call.out, for kRead).
SyncResult sync_result(const ObjectAnswer& a, const SyncCall& call);

}  // namespace ranks::detail::objects
