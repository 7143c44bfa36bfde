#pragma once

// What travels through a cluster's door once the handshake is done: JSON frames. A frame to the
// hub, or from the hub to its engines, names an op; news the hub sends an attached program
// names an event. Each name is spelled here once: frames are made with frame() and read with
// op_of() and event_of(), so a typo is a compile error, not a frame that nobody answers.
//
//   program, `ranks cluster` -> hub:  ping, status, stop, attach, detach, report
//   engine -> hub:                    hello (role "engine"), accepted, merged, idle
//   hub -> engines:                   accept, join, abandon, grow, exit
//   hub -> attached program:          engine_lost, stopping (events)

#include <mpi.h>

#include <nlohmann/json.hpp>
#include <string>

namespace ranks::detail::cluster {

using nlohmann::json;

enum class Op {
  kUnknown,  // none, or a name not listed here
  // to the hub, from a program or the ranks command
  kPing,
  kStatus,
  kStop,
  kAttach,
  kDetach,
  kReport,  // an attached program's dashboard status ("status"), when the hub serves one
  // to the hub, from an engine
  kAccepted,  // it holds the program's intercommunicator
  kMerged,    // it has merged it
  kIdle,      // it finished serving a program; "tasks": how many it has run
  // to the engines, from the hub
  kAccept,   // accept a program at "port" (connected)
  kJoin,     // serve a program the hub relays
  kAbandon,  // the program of "session" is gone
  kGrow,     // spawn "n" engines together with the hub
  kExit,     // the cluster stops
};

enum class Event {
  kUnknown,
  kEngineLost,  // "engine" (the program's id), "host", "pid"
  kStopping,    // the cluster stops, or its hub is gone
};

/// A frame naming op, with these fields besides.
json frame(Op op, json fields = json::object());
/// News for an attached program.
json frame(Event event, json fields = json::object());
/// What a frame asks (Op::kUnknown if it names no op, or one not listed).
Op op_of(const json& f);
/// What a frame tells (Event::kUnknown if it is no event).
Event event_of(const json& f);
/// The name an op travels by.
const char* name_of(Op op);
/// The op a frame names as it was sent, listed or not (for "unknown request 'x'").
std::string op_named(const json& f);

/// An engine's first frame to the hub: which rank of the cluster's world it is, where, and the
/// port at which it accepts programs.
json engine_hello(int rank, const std::string& host, int pid, const std::string& port);
/// Whether a first frame is an engine's hello.
bool is_engine_hello(const json& f);

/// The door's address and key, from rank 0 of comm (the hub) to every rank of it (its engines,
/// at start and when the cluster grows). On rank 0 they are given, on the others received.
/// Throws ranks::Error on rank 0 if either is longer than the room kept for it.
struct DoorAddress {
  std::string door;  // host:port
  std::string key;
};
void share_door(MPI_Comm comm, DoorAddress& address);

}  // namespace ranks::detail::cluster
