#include "door/protocol.hpp"

#include <array>
#include <cstring>
#include <string_view>
#include <utility>

#include "ranks/error.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

namespace {

constexpr std::array<std::pair<Op, std::string_view>, 14> kOps{{
    {Op::kPing, "ping"},
    {Op::kStatus, "status"},
    {Op::kStop, "stop"},
    {Op::kAttach, "attach"},
    {Op::kDetach, "detach"},
    {Op::kReport, "report"},
    {Op::kAccepted, "accepted"},
    {Op::kMerged, "merged"},
    {Op::kIdle, "idle"},
    {Op::kAccept, "accept"},
    {Op::kJoin, "join"},
    {Op::kAbandon, "abandon"},
    {Op::kGrow, "grow"},
    {Op::kExit, "exit"},
}};

constexpr std::array<std::pair<Event, std::string_view>, 2> kEvents{{
    {Event::kEngineLost, "engine_lost"},
    {Event::kStopping, "stopping"},
}};

// The name a value travels by in one of the tables above ("" for none).
template <class E, std::size_t N>
std::string_view name_in(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return {};
}

// The value a name in field `key` of frame f stands for in table; `unknown` for none.
template <class E, std::size_t N>
E value_in(const std::array<std::pair<E, std::string_view>, N>& table, const json& f,
           const char* key, E unknown) {
  if (!f.is_object()) return unknown;
  const std::string name = f.value(key, "");
  for (const auto& [v, n] : table)
    if (n == name) return v;
  return unknown;
}

// Room kept for the door's address and its key when they are broadcast.
constexpr std::size_t kDoorRoom = 256;
constexpr std::size_t kKeyRoom = 80;

void share(MPI_Comm comm, std::string& s, std::size_t room, const char* what) {
  std::string buf(room, '\0');
  if (transport::rank(comm) == 0) {
    if (s.size() >= room)
      throw Error(std::string("the cluster's ") + what + " is " + std::to_string(s.size()) +
                  " characters, more than the " + std::to_string(room - 1) + " its engines take");
    std::memcpy(buf.data(), s.data(), s.size());
  }
  transport::bcast(comm, buf.data(), static_cast<int>(room));
  s.assign(buf.c_str());
}

}  // namespace

const char* name_of(Op op) { return name_in(kOps, op).data(); }

std::string op_named(const json& f) {
  return f.is_object() ? f.value("op", std::string()) : std::string();
}

json frame(Op op, json fields) {
  fields["op"] = name_of(op);
  return fields;
}

json frame(Event event, json fields) {
  fields["event"] = name_in(kEvents, event);
  return fields;
}

Op op_of(const json& f) { return value_in(kOps, f, "op", Op::kUnknown); }

Event event_of(const json& f) { return value_in(kEvents, f, "event", Event::kUnknown); }

json engine_hello(int rank, const std::string& host, int pid, const std::string& port) {
  return {{"role", "engine"}, {"rank", rank}, {"host", host}, {"pid", pid}, {"port", port}};
}

bool is_engine_hello(const json& f) { return f.is_object() && f.value("role", "") == "engine"; }

void share_door(MPI_Comm comm, DoorAddress& address) {
  share(comm, address.door, kDoorRoom, "door address");
  share(comm, address.key, kKeyRoom, "key");
}

}  // namespace ranks::detail::cluster
