#pragma once

// The hub of a started cluster: rank 0 of the cluster's job, beside its engines. It keeps the
// door (a TCP socket) where clients, engines and the ranks command are let in by the profile's
// key; lets one client at a time attach, queueing the next; tells the engines when to accept a
// client, or admits them for one it relays to, and when to give one up; and watches every
// connection, so that a client or an engine that dies is noticed at once, on any host.
// hub.cpp holds the connections, the engines, status and stop; hub_sessions.cpp the sessions;
// hub_repair.cpp what the hub mends: engines left waiting on a program that died, and engines
// lost (it spawns others in their place).

#include <mpi.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dashboard/dashboard.hpp"
#include "door/door.hpp"
#include "door/profile.hpp"
#include "door/protocol.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

/// Runs the hub until `ranks cluster stop`; engines are ranks 1.. of world. Returns the exit
/// code. door_host: the address clients reach it at ("127.0.0.1": this host only).
int run_hub(MPI_Comm world, Profile profile, const std::string& door_host);

class Hub {
 public:
  using Clock = std::chrono::steady_clock;

  Hub(MPI_Comm world, Profile p, Socket listener, std::string door_host)
      : world_(world),
        profile_(std::move(p)),
        listener_(std::move(listener)),
        door_host_(std::move(door_host)),
        with_engines_(world) {}
  int run();

 private:
  // A connection to the door: new until it has proved the key and said who it is.
  struct Conn {
    enum class Role { kNew, kEngine, kClient, kOther };
    Socket socket;
    Inbox inbox;
    std::string peer;
    Clock::time_point deadline;  // to prove the key and say who it is
    HubHandshake handshake;
    Role role = Role::kNew;
    int rank = -1;  // an engine's
    json who;       // a client's program, pid and host
    json hello;     // a client's code and identity, for a hub that relays
    bool closing = false;
  };

  struct Engine {
    int id = 0;    // for the cluster's life: never reused; a replacement gets a new one
    int rank = 0;  // in the cluster's MPI job, which changes as it grows
    std::string host{};
    int pid = 0;
    std::string port{};  // where it accepts when it is the root of a session
    Conn* conn = nullptr;
    bool alive = true;
    std::uint64_t tasks = 0;
    Clock::time_point lost_at{};
  };

  // A program the hub relays to: the communicator of the hub (rank 0) and the session's engines.
  struct Relay {
    MPI_Comm comm = MPI_COMM_NULL;
    transport::Outbox outbox;
    transport::Incoming in;
    ~Relay() {
      outbox.abandon();
      transport::free_comm(comm);
    }
  };

  struct Session {
    int id = 0;
    Conn* client = nullptr;  // null once it is gone
    json who;
    std::vector<int> ranks;                // the engines that serve it, in order
    std::set<int> accepted, merged, done;  // engines past MPI_Comm_accept, the merge, the end
    Clock::time_point since;
    Clock::time_point gone_at;  // when the client was found gone
    bool stuck_ended = false;   // engines it left waiting in MPI for ever were ended
    bool detached = false;      // the client said goodbye: its connection closing is no death
    bool abandoned = false;
    std::unique_ptr<Relay> relay;  // relay mode: how its messages reach the engines
  };

  void accept_new();
  void on_readable(Conn& c);
  void on_frame(Conn& c, const json& f);
  void on_first_frame(Conn& c, const json& f);
  void on_engine_frame(Conn& c, const json& f);
  void on_closed(Conn& c);
  void grant_next();
  void grant(Conn& c);
  void grant_relayed(Conn& c, const std::vector<int>& ranks);
  void relay_to_engine(Frame&& f);
  bool relay_to_client();
  void end_session();
  void relay_from_now();
  void give_up_client();
  void reply(Conn& c, const json& f);
  void tell_engines(const std::vector<int>& ranks, const json& f);
  // hub_repair.cpp
  void turn_away(const std::string& port);
  void watch_turn_away();
  void end_stuck_engines();
  void refill();
  [[nodiscard]] bool refill_due() const;
  void greet_new_engine();
  json status() const;
  // hub_dashboard.cpp: the dashboard of `ranks cluster start --dashboard`, served on its own
  // thread from what the hub's loop publishes.
  void serve_dashboard();
  /// Publishes the dashboard's JSON (at most every 250 ms): the attached program's own report
  /// where one came in the last 5 s, else what the hub knows of its engines.
  void publish_status();
  [[nodiscard]] json dashboard_status() const;
  void write_profile();
  [[nodiscard]] std::string named(const Engine& e) const;
  [[nodiscard]] json ids_of(const std::vector<int>& ranks);
  void begin_stop();
  [[nodiscard]] std::vector<int> live_ranks() const;

  MPI_Comm world_;
  Profile profile_;
  Socket listener_;
  std::string door_host_;
  std::list<std::unique_ptr<Conn>> conns_;
  std::map<int, Engine> engines_;
  std::optional<Session> session_;
  std::deque<Conn*> waiting_;
  transport::Subset with_engines_;  // the hub and the live engines, for relayed sessions
  Clock::time_point last_relay_{};  // while messages flow, the hub polls without sleeping
  int next_session_ = 1;
  int connected_ = 0;  // programs granted a session over MPI connect/accept
  int expected_engines_ = 0;
  Clock::time_point started_ = Clock::now();
  bool ready_ = false;
  bool stopping_ = false;
  Clock::time_point stop_deadline_;
  pid_t turn_away_ = 0;  // the program that turns engines away, while it runs
  Clock::time_point turn_away_since_;
  int growing_ = 0;  // engines spawned that have not come to the door yet
  Clock::time_point grow_deadline_;
  int replaced_ = 0;                // engines spawned in place of lost ones
  int next_id_ = 0;                 // the id of the next engine spawned in place of a lost one
  std::map<int, int> spawned_ids_;  // the last spawn's engines: rank -> the id set aside
  std::unique_ptr<dashboard::Dashboard> dashboard_;
  std::mutex shown_mu_;
  std::string shown_;  // the JSON the dashboard serves (under shown_mu_)
  Clock::time_point shown_at_{};
  json report_;  // the attached program's last status
  Clock::time_point report_at_{};
  std::uint64_t lost_tasks_ = 0;  // tasks run by engines lost and replaced since
  bool refill_broken_ = false;
  Clock::time_point dead_seen_{};  // when the last lost engine's process was found gone
};

}  // namespace ranks::detail::cluster
