#pragma once

// A Queue or JoinableQueue as the controller keeps it: its items (encoded, of whatever type the
// program put), the gets that wait for an item, the puts that wait for room, and, joinable, how
// many items are not done yet and who took them.

#include <cstddef>
#include <deque>
#include <map>
#include <string>

#include "objects/shared_object.hpp"

namespace ranks::detail::objects {

class QueueObject final : public SharedObject {
 public:
  /// maxsize 0: unbounded.
  QueueObject(Replies& replies, std::size_t maxsize, bool joinable)
      : SharedObject(replies), maxsize_(maxsize), joinable_(joinable) {}

  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  void expire(Clock::time_point now) override;
  void lose(const LostEngine& e) override;
  void end() override;
  [[nodiscard]] bool waiting() const override {
    return !getters_.empty() || !putters_.empty() || !joiners_.empty();
  }
  [[nodiscard]] bool involves(int engine) const override {
    const auto it = taken_.find(engine);
    return it != taken_.end() && it->second > 0;
  }
  [[nodiscard]] std::size_t size() const override { return items_.size(); }

 private:
  [[nodiscard]] bool room() const { return maxsize_ == 0 || items_.size() < maxsize_; }
  void put(const Caller& caller, Bytes item);
  void give(const Caller& caller);  // the first item to caller
  /// Moves waiting puts in while there is room and waiting gets out while there are items; then,
  /// once closed and empty, tells those who still wait.
  void settle();
  void join(const Caller& caller, ObjectRequest&& r, Clock::time_point now);
  std::deque<Bytes> items_;
  std::size_t maxsize_;
  bool joinable_;
  bool closed_ = false;
  WaitList getters_, putters_, joiners_;
  // Joinable: items put and not marked done yet; per engine, those it took and has not marked.
  std::size_t unfinished_ = 0;
  std::map<int, std::size_t> taken_;
  std::string lost_;  // the takers lost with items in hand, for join()
  LostEngine last_lost_;
};

}  // namespace ranks::detail::objects
