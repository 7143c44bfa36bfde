#pragma once

// A Pipe as the controller keeps it: two ends, each with the items sent to it, whether it was
// closed, and which process uses it (so that the other end hears of its loss).

#include <array>
#include <deque>
#include <optional>

#include "objects/shared_object.hpp"

namespace ranks::detail::objects {

class PipeObject final : public SharedObject {
 public:
  /// duplex false: end 0 only receives, end 1 only sends (Python's Pipe(duplex=False)).
  PipeObject(Replies& replies, bool duplex) : SharedObject(replies), duplex_(duplex) {}

  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  void expire(Clock::time_point now) override;
  void lose(const LostEngine& e) override;
  void end() override;
  [[nodiscard]] bool waiting() const override {
    return !ends_[0].waiting.empty() || !ends_[1].waiting.empty();
  }
  [[nodiscard]] bool involves(int engine) const override {
    return ends_[0].user == engine || ends_[1].user == engine;
  }

 private:
  static constexpr int kNobody = -2;  // an end no process has used yet; -1: the controller
  struct End {
    std::deque<Bytes> inbox;  // sent to this end, not received yet
    bool closed = false;
    int user = kNobody;  // the engine that last used it
    std::optional<LostEngine> lost;
    WaitList waiting;  // recv and poll at this end
  };
  /// Answers what waits at end e, as far as it can be answered now.
  void settle(int e);
  /// Why end e cannot be used for op, or "" when it can.
  [[nodiscard]] std::string misuse(int e, Op op) const;

  bool duplex_;
  std::array<End, 2> ends_;
};

}  // namespace ranks::detail::objects
