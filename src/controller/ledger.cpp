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

std::vector<Part> Ledger::take_engine(int engine) {
  return take_if([&](const Part& p) { return p.engine == engine; });
}

std::vector<Part> Ledger::take_expired(std::chrono::steady_clock::time_point now) {
  return take_if([&](const Part& p) { return p.deadline <= now; });
}

std::vector<Part> Ledger::take_all() {
  return take_if([](const Part&) { return true; });
}

void Ledger::add_slots(Group& g) {
  for (int e : g.engines) hold(e, &g, false);
}

void Ledger::take_slot(Group& g, std::size_t slot) { release(g.engines[slot], &g, false); }

void Ledger::take_slots(Group& g) {
  for (int e : g.engines) release(e, &g, false);
}

}  // namespace ranks::detail
