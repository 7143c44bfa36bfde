#include "cluster/hub.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "base/host.hpp"
#include "base/log.hpp"
#include "controller/roster.hpp"
#include "door/door.hpp"
#include "door/relay.hpp"
#include "ranks/error.hpp"
#include "transport/transport.hpp"

namespace ranks::detail::cluster {

namespace {

using Clock = Hub::Clock;
using std::chrono::milliseconds;

constexpr milliseconds kGreetWithin(1000);
constexpr std::size_t kMaxNew = 64;  // connections still to greet: a flood beyond is refused

// What a connection that ran out of time had not done.
std::string late(HubHandshake::Step step) {
  switch (step) {
    case HubHandshake::Step::kHello:
      return "it did not greet";
    case HubHandshake::Step::kProof:
      return "it stopped halfway through the handshake (greeted, but did not prove the key)";
    case HubHandshake::Step::kDone:
      break;
  }
  return "it proved the key but did not say who it is";
}

// Where in the handshake a connection that closed by itself left (past its hello).
std::string left(HubHandshake::Step step) {
  if (step == HubHandshake::Step::kProof)
    return "halfway through the handshake, before proving the key (a program with another key, "
           "or one that found this hub an impostor)";
  return "after the handshake, before saying who it is";
}

}  // namespace

void Hub::reply(Conn& c, const json& f) {
  try {
    send_frame(c.socket.fd(), f, milliseconds(2000));
  } catch (const Error&) {
    c.closing = true;
  }
}

void Hub::tell_engines(const std::vector<int>& ranks, const json& f) {
  for (int r : ranks) {
    auto it = engines_.find(r);
    if (it != engines_.end() && it->second.alive && it->second.conn) reply(*it->second.conn, f);
  }
}

std::vector<int> Hub::live_ranks() const {
  std::vector<int> out;
  for (const auto& [r, e] : engines_)
    if (e.alive) out.push_back(r);
  return out;
}

std::string Hub::named(const Engine& e) const {
  return "engine " + std::to_string(e.id) + " (MPI rank " + std::to_string(e.rank) + ", pid " +
         std::to_string(e.pid) + " on " + e.host + ")";
}

json Hub::ids_of(const std::vector<int>& ranks) {
  json ids = json::array();
  for (int r : ranks) ids.push_back(engines_[r].id);
  return ids;
}

void Hub::write_profile() {
  profile_.engine_list.clear();
  profile_.hosts.clear();
  for (const auto& [r, e] : engines_) {
    profile_.engine_list.push_back({e.id, r, e.host, e.pid, e.alive});
    if (std::find(profile_.hosts.begin(), profile_.hosts.end(), e.host) == profile_.hosts.end())
      profile_.hosts.push_back(e.host);
  }
  save_profile(profile_);
}

void Hub::accept_new() {
  while (true) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    const int fd = ::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&from), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Socket s(fd);
    // Frames are small and answered at once: no Nagle delay waiting for the peer's ACK.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char host[64] = "?";
    if (from.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&from);
      ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    }
    const std::size_t fresh = static_cast<std::size_t>(std::count_if(
        conns_.begin(), conns_.end(), [](const auto& c) { return c->role == Conn::Role::kNew; }));
    if (fresh >= kMaxNew) {
      log_line(std::string("door: refused a connection from ") + host + ": " +
               std::to_string(fresh) + " others are still to greet (a flood?)");
      continue;  // closed as s goes
    }
    auto c = std::make_unique<Conn>();
    c->socket = std::move(s);
    c->peer = host;
    c->deadline = Clock::now() + kGreetWithin;
    conns_.push_back(std::move(c));
  }
}

void Hub::on_readable(Conn& c) {
  const bool open = c.inbox.fill(c.socket.fd());
  try {
    if (!c.handshake.done()) {
      try {
        c.handshake.advance(c.socket.fd(), c.inbox, profile_.key);
      } catch (const Error& e) {
        log_line("door: refused " + c.peer + ": " + std::string(unprefixed(e.what())));
        c.closing = true;
        return;
      }
    }
    while (c.handshake.done() && !c.closing) {
      auto f = c.inbox.take();
      if (!f) break;
      if (f->relayed) {
        if (c.role != Conn::Role::kClient || !session_ || session_->client != &c ||
            !session_->relay)
          throw Error("a relayed message from a connection that holds no relayed session");
        relay_to_engine(std::move(*f));
        continue;
      }
      json j;
      try {
        j = json::parse(f->body);
      } catch (const json::exception&) {
        throw Error("a frame that is not JSON arrived");
      }
      on_frame(c, j);
    }
  } catch (const Error& e) {
    log_line("door: dropped " + c.peer + ": " + std::string(unprefixed(e.what())));
    c.closing = true;
  }
  if (!open && !c.closing && c.role == Conn::Role::kNew &&
      c.handshake.step() != HubHandshake::Step::kHello)
    log_line("door: " + c.peer + " left " + left(c.handshake.step()));
  if (!open) c.closing = true;
}

void Hub::on_frame(Conn& c, const json& f) {
  if (c.role == Conn::Role::kNew) return on_first_frame(c, f);
  if (c.role == Conn::Role::kEngine) return on_engine_frame(c, f);
  if (c.role != Conn::Role::kClient || !session_ || session_->client != &c) return;
  if (op_of(f) == Op::kDetach) {
    session_->detached = true;  // its connection closes next
  } else if (op_of(f) == Op::kReport && dashboard_) {
    report_ = f.value("status", json());
    report_at_ = Clock::now();
  }
}

void Hub::on_first_frame(Conn& c, const json& f) {
  if (is_engine_hello(f)) {
    c.role = Conn::Role::kEngine;
    c.rank = f.value("rank", -1);
    Engine& e = engines_[c.rank];
    // The first engines are numbered in rank order from 0; one spawned later has the id its
    // spawn set aside for its rank.
    const auto reserved = spawned_ids_.find(c.rank);
    e = Engine{.id = reserved != spawned_ids_.end() ? reserved->second : c.rank - 1,
               .rank = c.rank,
               .host = f.value("host", ""),
               .pid = f.value("pid", 0),
               .port = f.value("port", ""),
               .conn = &c};
    if (growing_ > 0) return greet_new_engine();
    if (!ready_ && static_cast<int>(engines_.size()) == expected_engines_) {
      ready_ = true;
      profile_.state = "ready";
      write_profile();
      log_line("cluster '" + profile_.name + "': " + std::to_string(expected_engines_) +
               " engines wait at " + profile_.door);
    }
    return;
  }
  const Op op = op_of(f);
  if (op == Op::kAttach) {
    c.role = Conn::Role::kClient;
    c.who = {{"program", f.value("program", "")},
             {"pid", f.value("pid", 0)},
             {"host", f.value("host", "")},
             {"since", now_iso8601()}};
    c.hello = {{"code", f.value("code", json::object())},
               {"identity", f.value("identity", std::uint64_t{0})}};
    if (stopping_) {
      reply(c, {{"ok", false}, {"error", "cluster '" + profile_.name + "' is stopping"}});
      c.closing = true;
      return;
    }
    waiting_.push_back(&c);
    if (session_ || waiting_.size() > 1) {
      const json& by = session_ ? session_->who : waiting_.front()->who;
      const bool gone = session_ && session_->abandoned;
      reply(c, {{"ok", true}, {"wait", true}, {"attached", by}, {"gone", gone}});
    }
    grant_next();
    return;
  }
  c.role = Conn::Role::kOther;
  if (op == Op::kPing) {
    reply(c, {{"ok", true}, {"name", profile_.name}, {"ready", ready_}});
  } else if (op == Op::kStatus) {
    reply(c, status());
  } else if (op == Op::kStop) {
    reply(c, {{"ok", true}});
    log_line("cluster '" + profile_.name + "': stopping (asked from " + c.peer + ")");
    begin_stop();
  } else {
    reply(c, {{"ok", false}, {"error", "unknown request '" + op_named(f) + "'"}});
    c.closing = true;
  }
}

void Hub::on_engine_frame(Conn& c, const json& f) {
  const Op op = op_of(f);
  Engine& e = engines_[c.rank];
  if (!session_ || f.value("session", -1) != session_->id) {
    if (op == Op::kIdle) e.tasks = f.value("tasks", e.tasks);
    return;
  }
  if (op == Op::kAccepted) {
    session_->accepted.insert(c.rank);
  } else if (op == Op::kMerged) {
    session_->merged.insert(c.rank);
  } else if (op == Op::kIdle) {
    e.tasks = f.value("tasks", e.tasks);
    session_->done.insert(c.rank);
    const bool all = std::all_of(session_->ranks.begin(), session_->ranks.end(), [&](int r) {
      return session_->done.count(r) || !engines_[r].alive;
    });
    if (all) end_session();
  }
}

void Hub::on_closed(Conn& c) {
  if (c.role == Conn::Role::kEngine) {
    Engine& e = engines_[c.rank];
    e.conn = nullptr;
    if (!stopping_ && e.alive) {
      e.alive = false;
      e.lost_at = Clock::now();
      log_line("cluster '" + profile_.name + "': " + named(e) + " died");
      write_profile();
      if (session_) {
        auto it = std::find(session_->ranks.begin(), session_->ranks.end(), c.rank);
        if (it != session_->ranks.end()) {
          if (session_->client)
            reply(*session_->client,
                  frame(Event::kEngineLost, {{"engine", e.id}, {"host", e.host}, {"pid", e.pid}}));
          const bool all = std::all_of(session_->ranks.begin(), session_->ranks.end(), [&](int r) {
            return session_->done.count(r) || !engines_[r].alive;
          });
          if (all) end_session();
        }
      }
    }
  } else if (c.role == Conn::Role::kClient) {
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), &c), waiting_.end());
    if (session_ && session_->client == &c) {
      if (session_->detached) {
        session_->client = nullptr;
      } else {
        give_up_client();
      }
    }
  }
}

json Hub::status() const {
  json engines = json::array();
  std::uint64_t tasks = lost_tasks_;
  for (const auto& [r, e] : engines_) {
    engines.push_back({{"id", e.id},
                       {"rank", r},
                       {"host", e.host},
                       {"pid", e.pid},
                       {"alive", e.alive},
                       {"tasks", e.tasks}});
    tasks += e.tasks;
  }
  json waiting = json::array();
  for (const Conn* c : waiting_) waiting.push_back(c->who);
  const auto up = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_);
  return {{"ok", true},
          {"name", profile_.name},
          {"engines", engines},
          {"uptime_s", up.count()},
          {"client", session_ && session_->client ? session_->who : json(nullptr)},
          {"waiting", waiting},
          {"tasks", tasks},
          {"refill", profile_.refill && !refill_broken_},
          {"replaced", replaced_},
          {"mode", profile_.mode},
          {"connected", connected_},
          {"connect_limit", profile_.connect_limit},
          {"door", profile_.door},
          {"dashboard", profile_.dashboard_url}};
}

void Hub::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = Clock::now() + milliseconds(2000);
  if (session_ && session_->client) reply(*session_->client, frame(Event::kStopping));
  for (Conn* c : waiting_)
    reply(*c, {{"ok", false}, {"error", "cluster '" + profile_.name + "' was stopped"}});
  waiting_.clear();
  tell_engines(live_ranks(), frame(Op::kExit));
}

int Hub::run() {
  expected_engines_ = transport::size(world_) - 1;
  next_id_ = expected_engines_;
  serve_dashboard();
  while (true) {
    std::vector<pollfd> fds{{listener_.fd(), POLLIN, 0}};
    std::vector<Conn*> order;
    for (auto& c : conns_) {
      fds.push_back({c->socket.fd(), POLLIN, 0});
      order.push_back(c.get());
    }
    int wait_ms = 100;
    if (session_ && session_->relay) wait_ms = Clock::now() - last_relay_ < milliseconds(2) ? 0 : 1;
    ::poll(fds.data(), fds.size(), wait_ms);
    if (relay_to_client()) last_relay_ = Clock::now();
    watch_turn_away();
    end_stuck_engines();
    refill();
    publish_status();
    if (fds[0].revents & POLLIN) accept_new();
    for (std::size_t i = 0; i < order.size(); ++i)
      if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(*order[i]);
    const auto now = Clock::now();
    for (auto& c : conns_) {
      if (c->role == Conn::Role::kNew && now > c->deadline && !c->closing) {
        log_line("door: refused " + c->peer + ": " + late(c->handshake.step()) + " within " +
                 std::to_string(kGreetWithin.count()) + " ms");
        c->closing = true;
      }
    }
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (!(*it)->closing) {
        ++it;
        continue;
      }
      on_closed(**it);
      it = conns_.erase(it);
    }
    if (stopping_) {
      const bool engines_gone = std::none_of(engines_.begin(), engines_.end(),
                                             [](const auto& e) { return e.second.conn; });
      if (engines_gone || now > stop_deadline_) break;
    }
  }
  return 0;
}

int run_hub(MPI_Comm world, Profile profile, const std::string& door_host) {
  int port = 0;
  const bool local = door_host == "127.0.0.1";
  Socket listener = listen_on(local ? "127.0.0.1" : "0.0.0.0", port);
  profile.door = door_host + ":" + std::to_string(port);
  profile.hub_pid = static_cast<int>(::getpid());
  profile.hub_host = host_name();
  // Engines learn the door and its key from the hub, then come to it.
  DoorAddress address{profile.door, profile.key};
  share_door(world, address);
  Hub hub(world, std::move(profile), std::move(listener), door_host);
  return hub.run();
}

}  // namespace ranks::detail::cluster
