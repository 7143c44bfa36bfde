#include "objects/containers.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "ranks/detail/codec.hpp"

namespace ranks::detail::objects {

bool DictObject::KeyLess::operator()(const Bytes& a, const Bytes& b) const {
  if (a.size() != b.size()) return a.size() < b.size();
  return !a.empty() && std::memcmp(a.data(), b.data(), a.size()) < 0;
}

void DictObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point /*now*/) {
  switch (r.op) {
    case Op::kSet: {
      if (auto it = index_.find(r.a); it != index_.end()) {
        it->second->second = std::move(r.b);
      } else {
        entries_.emplace_back(r.a, std::move(r.b));
        index_.emplace(std::move(r.a), std::prev(entries_.end()));
      }
      return ok(caller);
    }
    case Op::kLookup: {
      const auto it = index_.find(r.a);
      if (it == index_.end()) return answer(caller, failed(Status::kMissing, ""));
      return ok_data(caller, it->second->second);
    }
    case Op::kContains:
      return ok(caller, index_.count(r.a) ? 1 : 0);
    case Op::kErase: {
      const auto it = index_.find(r.a);
      if (it == index_.end()) return ok(caller, 0);
      entries_.erase(it->second);
      index_.erase(it);
      return ok(caller, 1);
    }
    case Op::kSize:
      return ok(caller, static_cast<std::int64_t>(entries_.size()));
    case Op::kItems: {
      std::vector<const Bytes*> all;
      all.reserve(entries_.size() * 2);
      for (const auto& [k, v] : entries_) {
        all.push_back(&k);
        all.push_back(&v);
      }
      return ok_data(caller, pack_blobs(all));
    }
    case Op::kClear:
      entries_.clear();
      index_.clear();
      return ok(caller);
    default:
      return answer(caller, failed(Status::kError, "a call that is not a dict's"));
  }
}

std::pair<std::size_t, std::string> ListObject::position(const ObjectRequest& r) const {
  const auto n = static_cast<std::int64_t>(items_.size());
  const std::int64_t i = r.index < 0 ? r.index + n : r.index;
  if (i >= 0 && i < n) return {static_cast<std::size_t>(i), {}};
  std::string why = "index " + std::to_string(r.index) + " is outside the list of " +
                    std::to_string(n) + " item" + (n == 1 ? "" : "s");
  why += n == 0 ? " (it is empty)"
                : " (0.." + std::to_string(n - 1) + ", or -" + std::to_string(n) +
                      "..-1 from the end)";
  return {0, why + "; nothing was changed"};
}

void ListObject::serve(Caller caller, ObjectRequest&& r, Clock::time_point /*now*/) {
  switch (r.op) {
    case Op::kAppend:
      items_.push_back(std::move(r.a));
      return ok(caller);
    case Op::kExtend:
      for (Bytes& v : unpack_blobs(r.a)) items_.push_back(std::move(v));
      return ok(caller);
    case Op::kAt:
    case Op::kAssign:
    case Op::kPop: {
      auto [i, why] = position(r);
      if (!why.empty()) return answer(caller, failed(Status::kError, why));
      if (r.op == Op::kAt) return ok_data(caller, items_[i]);
      if (r.op == Op::kAssign) {
        items_[i] = std::move(r.a);
        return ok(caller);
      }
      Bytes item = std::move(items_[i]);
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
      return ok_data(caller, std::move(item));
    }
    case Op::kReverse:
      std::reverse(items_.begin(), items_.end());
      return ok(caller);
    case Op::kSize:
      return ok(caller, static_cast<std::int64_t>(items_.size()));
    case Op::kItems: {
      std::vector<const Bytes*> all;
      all.reserve(items_.size());
      for (const Bytes& v : items_) all.push_back(&v);
      return ok_data(caller, pack_blobs(all));
    }
    case Op::kClear:
      items_.clear();
      return ok(caller);
    default:
      return answer(caller, failed(Status::kError, "a call that is not a list's"));
  }
}

}  // namespace ranks::detail::objects
