#pragma once

// A Pipe as the controller keeps it: two ends, each with what was sent to it (its inbox), whether
// it was closed, and which process uses it (so that the other end hears of its loss).
//
// A task on an engine that receives at an end may keep that end's inbox itself while it runs (it
// listens there): what comes through the controller is then sent on to it, and a task on another
// engine of the same communicator that sends to that end sends straight to it, in a session
// that the listener's inbox is told of (pipe_inbox.hpp). When the task ends, the inbox comes
// back.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "objects/shared_object.hpp"
#include "ranks/detail/pipe_inbox.hpp"

namespace ranks::detail::objects {

class PipeObject final : public SharedObject {
 public:
  /// id.capacity 0: end 0 only receives, end 1 only sends (Python's Pipe(duplex=False)).
  PipeObject(Replies& replies, const ObjectId& id)
      : SharedObject(replies), id_(id), duplex_(id.capacity != 0) {}

  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  void expire(Clock::time_point now) override;
  void lose(const LostEngine& e) override;
  void end() override;
  [[nodiscard]] bool waiting() const override {
    return !ends_[0].waiting.empty() || !ends_[1].waiting.empty();
  }
  [[nodiscard]] bool involves(int engine) const override;

 private:
  static constexpr int kNobody = -2;  // an end no process has used yet; -1: the controller
  struct Session {
    int sender = -1;
    int receiver = -1;  // the keeper it was offered (which passes items on once it let go)
    int rank = -1;      // the receiver's, where the sender reaches it
    bool accepted = false;
  };
  struct End {
    PipeInbox inbox;  // what was sent to this end, while no engine keeps it
    bool closed = false;
    int user = kNobody;               // the engine that last used it
    bool lost = false;                // its user was lost (the other end heard so)
    WaitList waiting;                 // recv and poll at this end, served here
    int keeper = -1;                  // the engine whose task listens here and keeps the inbox
    bool coming_back = false;         // the keeper let go: its inbox is on its way back
    std::vector<PipeWord> meanwhile;  // what came while it is on its way
    std::map<std::uint64_t, Session> sessions;  // tasks that send straight to an engine here
  };
  /// What came to end e: into its inbox, or on to the engine that keeps it.
  void deliver(int e, PipeWord&& w);
  /// Answers what waits at end e, as far as it can be answered now.
  void settle(int e);
  /// Why end e cannot be used for op, or "" when it can.
  [[nodiscard]] std::string misuse(int e, Op op) const;
  /// The keeper of end e is gone (lost): what it kept is lost with it.
  void drop_keeper(int e);
  void listen(const Caller& caller, int e);
  /// Offers engine `sender`, which sends at end e, to send straight to the keeper of the other
  /// end, where it can and has not been offered already.
  void offer(int sender, int e);

  ObjectId id_;
  bool duplex_;
  std::array<End, 2> ends_;
  std::uint64_t next_session_ = 0;
};

}  // namespace ranks::detail::objects
