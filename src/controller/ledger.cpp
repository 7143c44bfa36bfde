#include "controller/ledger.hpp"

#include <utility>

namespace ranks::detail {

void Ledger::hold(int engine, Group* group, bool timed) {
  ++roster_.engine(engine).load;
  if (group) ++group->inflight;
  if (timed) ++timed_;
}

void Ledger::release(int engine, Group* group, bool timed) {
  --roster_.engine(engine).load;
  if (group) --group->inflight;
  if (timed) --timed_;
}

void Ledger::add(std::uint64_t id, Part part) {
  hold(part.engine, part.group.get(), part.timed());
  parts_.emplace(id, std::move(part));
}

std::optional<Part> Ledger::take(std::uint64_t id) {
  auto it = parts_.find(id);
  if (it == parts_.end()) return std::nullopt;
  Part p = std::move(it->second);
  parts_.erase(it);
  release(p.engine, p.group.get(), p.timed());
  return p;
}

namespace {
template <class Pred>
std::vector<Part> take_if(std::unordered_map<std::uint64_t, Part>& parts, Pred pred) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, p] : parts)
    if (pred(p)) ids.push_back(id);
  std::vector<Part> out;
  out.reserve(ids.size());
  for (std::uint64_t id : ids) {
    auto it = parts.find(id);
    out.push_back(std::move(it->second));
    parts.erase(it);
  }
  return out;
}
}  // namespace

std::vector<Part> Ledger::take_engine(int engine) {
  auto out = take_if(parts_, [&](const Part& p) { return p.engine == engine; });
  for (const Part& p : out) release(p.engine, p.group.get(), p.timed());
  return out;
}

std::vector<Part> Ledger::take_expired(std::chrono::steady_clock::time_point now) {
  auto out = take_if(parts_, [&](const Part& p) { return p.deadline <= now; });
  for (const Part& p : out) release(p.engine, p.group.get(), p.timed());
  return out;
}

std::vector<Part> Ledger::take_all() {
  auto out = take_if(parts_, [](const Part&) { return true; });
  for (const Part& p : out) release(p.engine, p.group.get(), p.timed());
  return out;
}

void Ledger::add_slots(Group& g) {
  for (int e : g.engines) hold(e, &g, false);
}

void Ledger::take_slot(Group& g, std::size_t slot) { release(g.engines[slot], &g, false); }

void Ledger::take_slots(Group& g) {
  for (int e : g.engines) release(e, &g, false);
}

}  // namespace ranks::detail
