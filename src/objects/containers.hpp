#pragma once

// A Manager's containers as the controller keeps them: a dict (its entries in the order they
// were first set, as Python's dict keeps them) and a list, of encoded keys and values. Nothing
// waits on them: each call is answered at once, whole (atomic).

#include <list>
#include <map>
#include <utility>
#include <vector>

#include "objects/shared_object.hpp"

namespace ranks::detail::objects {

/// What never waits: expire, lose and end have nothing to do.
class ImmediateObject : public SharedObject {
 public:
  using SharedObject::SharedObject;
  void expire(Clock::time_point /*now*/) override {}
  void lose(const LostEngine& /*e*/) override {}
  void end() override {}
  [[nodiscard]] bool waiting() const override { return false; }
  [[nodiscard]] bool involves(int /*engine*/) const override { return false; }
};

class DictObject final : public ImmediateObject {
 public:
  using ImmediateObject::ImmediateObject;
  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  [[nodiscard]] std::size_t size() const override { return entries_.size(); }

 private:
  using Entries = std::list<std::pair<Bytes, Bytes>>;
  Entries entries_;  // in the order first set
  // Keys by their encoding: shorter first, then bytewise (any order will do; this is cheap).
  struct KeyLess {
    bool operator()(const Bytes& a, const Bytes& b) const;
  };
  std::map<Bytes, Entries::iterator, KeyLess> index_;
};

class ListObject final : public ImmediateObject {
 public:
  using ImmediateObject::ImmediateObject;
  void serve(Caller caller, ObjectRequest&& r, Clock::time_point now) override;
  [[nodiscard]] std::size_t size() const override { return items_.size(); }

 private:
  /// The position r.index names (Python's: negative counts from the end), or why none.
  [[nodiscard]] std::pair<std::size_t, std::string> position(const ObjectRequest& r) const;
  std::vector<Bytes> items_;
};

}  // namespace ranks::detail::objects
