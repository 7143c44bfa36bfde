#include "hub.hpp"

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

#include "door.hpp"
#include "host.hpp"
#include "log.hpp"
#include "ranks/error.hpp"
#include "relay.hpp"
#include "roster.hpp"
#include "transport.hpp"

namespace ranks::detail::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A connection to the door: new until it has greeted and said who it is.
struct Conn {
  enum class Role { kNew, kEngine, kClient, kOther };
  Socket socket;
  Inbox inbox;
  std::string peer;
  Clock::time_point deadline;  // to greet and say who it is
  bool greeted = false;
  Role role = Role::kNew;
  int rank = -1;  // an engine's
  json who;       // a client's program, pid and host
  json hello;     // a client's code and identity, for a hub that relays
  bool closing = false;
};

struct Engine {
  int rank = 0;
  std::string host;
  int pid = 0;
  std::string port;  // where it accepts when it is the root of a session
  Conn* conn = nullptr;
  bool alive = true;
  std::uint64_t tasks = 0;
};

// A program the hub relays to: the communicator of the hub (rank 0) and the session's engines.
struct Relay {
  MPI_Comm comm = MPI_COMM_NULL;
  transport::Outbox outbox;
  transport::Incoming in;
  ~Relay() {
    outbox.abandon();
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

struct Session {
  int id = 0;
  Conn* client = nullptr;  // null once it is gone
  json who;
  std::vector<int> ranks;  // the engines that serve it, in order
  std::set<int> accepted, done;
  Clock::time_point since;
  bool detached = false;  // the client said goodbye: its connection closing is no death
  bool abandoned = false;
  std::unique_ptr<Relay> relay;  // relay mode: how its messages reach the engines
};

class Hub {
 public:
  Hub(MPI_Comm world, Profile p, Socket listener)
      : world_(world),
        profile_(std::move(p)),
        listener_(std::move(listener)),
        with_engines_(world) {}
  int run();

 private:
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
  void give_up_client();
  void reply(Conn& c, const json& f);
  void tell_engines(const std::vector<int>& ranks, const json& f);
  json status() const;
  void write_profile();
  void begin_stop();
  [[nodiscard]] std::vector<int> live_ranks() const;

  MPI_Comm world_;
  Profile profile_;
  Socket listener_;
  std::list<std::unique_ptr<Conn>> conns_;
  std::map<int, Engine> engines_;
  std::optional<Session> session_;
  std::deque<Conn*> waiting_;
  transport::Subset with_engines_;  // the hub and the live engines, for relayed sessions
  Clock::time_point last_relay_{};  // while messages flow, the hub polls without sleeping
  int next_session_ = 1;
  int expected_engines_ = 0;
  Clock::time_point started_ = Clock::now();
  bool ready_ = false;
  bool stopping_ = false;
  Clock::time_point stop_deadline_;
};

constexpr milliseconds kGreetWithin(1000);
constexpr std::size_t kMaxNew = 64;  // connections still to greet: a flood beyond is refused

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

void Hub::write_profile() {
  profile_.engine_list.clear();
  profile_.hosts.clear();
  int id = 0;
  for (const auto& [r, e] : engines_) {
    profile_.engine_list.push_back({id++, r, e.host, e.pid, e.alive});
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
    if (!c.greeted) {
      if (auto g = c.inbox.take_greeting()) {
        if (!greeting_matches(*g, profile_.key)) {
          log_line("door: refused " + c.peer + ": no magic word or a wrong key");
          c.closing = true;
          return;
        }
        c.greeted = true;
      }
    }
    while (c.greeted && !c.closing) {
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
  if (!open) c.closing = true;
}

void Hub::on_frame(Conn& c, const json& f) {
  if (c.role == Conn::Role::kNew) return on_first_frame(c, f);
  if (c.role == Conn::Role::kEngine) return on_engine_frame(c, f);
  if (c.role == Conn::Role::kClient && f.value("op", "") == "detach" && session_ &&
      session_->client == &c)
    session_->detached = true;  // its connection closes next
}

void Hub::on_first_frame(Conn& c, const json& f) {
  const std::string op = f.value("op", "");
  if (f.value("role", "") == "engine") {
    c.role = Conn::Role::kEngine;
    c.rank = f.value("rank", -1);
    Engine& e = engines_[c.rank];
    e = Engine{c.rank, f.value("host", ""), f.value("pid", 0), f.value("port", ""), &c, true, 0};
    if (!ready_ && static_cast<int>(engines_.size()) == expected_engines_) {
      ready_ = true;
      profile_.state = "ready";
      write_profile();
      log_line("cluster '" + profile_.name + "': " + std::to_string(expected_engines_) +
               " engines wait at " + profile_.door);
    }
    return;
  }
  if (op == "attach") {
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
  if (op == "ping") {
    reply(c, {{"ok", true}, {"name", profile_.name}, {"ready", ready_}});
  } else if (op == "status") {
    reply(c, status());
  } else if (op == "stop") {
    reply(c, {{"ok", true}});
    log_line("cluster '" + profile_.name + "': stopping (asked from " + c.peer + ")");
    begin_stop();
  } else {
    reply(c, {{"ok", false}, {"error", "unknown request '" + op + "'"}});
    c.closing = true;
  }
}

void Hub::on_engine_frame(Conn& c, const json& f) {
  const std::string op = f.value("op", "");
  Engine& e = engines_[c.rank];
  if (!session_ || f.value("session", -1) != session_->id) {
    if (op == "idle") e.tasks = f.value("tasks", e.tasks);
    return;
  }
  if (op == "accepted") {
    session_->accepted.insert(c.rank);
  } else if (op == "idle") {
    e.tasks = f.value("tasks", e.tasks);
    session_->done.insert(c.rank);
    const bool all = std::all_of(session_->ranks.begin(), session_->ranks.end(), [&](int r) {
      return session_->done.count(r) || !engines_[r].alive;
    });
    if (all) end_session();
  }
}

void Hub::grant_next() {
  if (session_ || !ready_ || stopping_) return;
  while (!waiting_.empty()) {
    Conn* c = waiting_.front();
    waiting_.pop_front();
    if (c->closing) continue;
    grant(*c);
    return;
  }
}

void Hub::grant(Conn& c) {
  const auto ranks = live_ranks();
  if (ranks.empty()) {
    reply(c, {{"ok", false},
              {"error", "every engine of cluster '" + profile_.name +
                            "' has died; stop it and start it again"}});
    c.closing = true;
    return;
  }
  Session s;
  s.id = next_session_++;
  s.client = &c;
  s.who = c.who;
  s.ranks = ranks;
  s.since = Clock::now();
  const std::string port = engines_[ranks.front()].port;
  json live = json::array();
  for (int r : ranks) live.push_back(r);
  session_ = std::move(s);
  if (profile_.mode == "relay") return grant_relayed(c, ranks);
  tell_engines(ranks, {{"op", "accept"}, {"session", session_->id}, {"live", live}});
  reply(c, {{"ok", true},
            {"go", true},
            {"port", port},
            {"engines", ranks.size()},
            {"session", session_->id},
            {"mode", profile_.mode}});
  log_line("cluster '" + profile_.name + "': " + c.who.value("program", "?") + " (pid " +
           std::to_string(c.who.value("pid", 0)) + " on " + c.who.value("host", "?") +
           ") attached");
}

// Across hosts the program reaches the engines through the hub: the hub admits them for it
// (they load its code) over the cluster's own MPI, then passes messages both ways.
void Hub::grant_relayed(Conn& c, const std::vector<int>& ranks) {
  json live = json::array();
  for (int r : ranks) live.push_back(r);
  tell_engines(ranks, {{"op", "join"}, {"session", session_->id}, {"live", live}});
  std::vector<int> members{0};
  members.insert(members.end(), ranks.begin(), ranks.end());
  auto relay = std::make_unique<Relay>();
  Admission a;
  try {
    transport::check(MPI_Comm_dup(with_engines_.of(members), &relay->comm), "MPI_Comm_dup");
    const json code = c.hello.value("code", json::object());
    a = admit_for_program(relay->comm, c.hello.value("identity", std::uint64_t{0}),
                          code.value("path", ""), code.value("build", ""));
  } catch (const Error& e) {
    a.problems.emplace_back(unprefixed(e.what()));
  }
  if (!a.problems.empty()) {
    std::string why;
    for (const auto& p : a.problems) why += (why.empty() ? "" : "; ") + p;
    reply(c, {{"ok", false}, {"error", why}});
    c.closing = true;
    session_->relay = std::move(relay);  // the engines give it up and say they are idle
    session_->client = nullptr;
    session_->abandoned = true;
    return;
  }
  json engines = json::array();
  for (const auto& [host, pid] : a.engines) engines.push_back({{"host", host}, {"pid", pid}});
  c.inbox.unlimit();
  session_->relay = std::move(relay);
  reply(c, {{"ok", true},
            {"go", true},
            {"mode", "relay"},
            {"engines", ranks.size()},
            {"engine_list", engines},
            {"session", session_->id}});
  log_line("cluster '" + profile_.name + "': " + c.who.value("program", "?") + " (pid " +
           std::to_string(c.who.value("pid", 0)) + " on " + c.who.value("host", "?") +
           ") attached, relayed");
}

void Hub::relay_to_engine(Frame&& f) {
  last_relay_ = Clock::now();
  auto msg = std::make_shared<Relayed>(std::move(f.body));
  Message m = msg->as_message();
  m.keep = msg;
  session_->relay->outbox.send_finished(session_->relay->comm, f.rank, std::move(m));
}

// Passes the engines' messages on to the program (dropped once it is gone); true if any came.
bool Hub::relay_to_client() {
  if (!session_ || !session_->relay) return false;
  Relay& r = *session_->relay;
  r.outbox.progress();
  bool any = false;
  while (transport::try_recv(r.comm, MPI_ANY_SOURCE, r.in)) {
    any = true;
    std::vector<Bytes> blocks = r.in.receive_rest();
    if (!session_->client) continue;
    Message m;
    m.bytes.swap(r.in.data);  // the next message is received into the other buffer
    for (const auto& b : blocks) m.attachments.push_back({b.data(), b.size()});
    transport::finish(m);
    try {
      send_relayed(session_->client->socket.fd(), r.in.source, m.bytes, m.attachments);
    } catch (const Error&) {
      session_->client->closing = true;
    }
  }
  return any;
}

void Hub::end_session() {
  if (!session_) return;
  // The engines' last words (their kStopped) came before they said they are idle: pass them on.
  while (relay_to_client()) {
  }
  log_line("cluster '" + profile_.name + "': " + session_->who.value("program", "?") + " detached");
  session_.reset();  // its connection closes from its side
  grant_next();
}

// The session's client is gone before its end: engines that accepted it give it up; if none
// had, they still wait in MPI_Comm_accept, and the hub takes the client's place there to
// turn them away.
void Hub::give_up_client() {
  Session& s = *session_;
  s.client = nullptr;
  if (s.abandoned) return;
  s.abandoned = true;
  log_line("cluster '" + profile_.name + "': " + s.who.value("program", "?") + " (pid " +
           std::to_string(s.who.value("pid", 0)) + ") is gone; its engines wait again");
  if (s.accepted.empty() && !s.relay) {  // (relayed engines never wait in an accept)
    try {
      transport::Spawned link = transport::connect(engines_[s.ranks.front()].port);
      refuse_engines(link.merged);
      transport::release(link);
    } catch (const std::exception& e) {
      log_line(std::string("the hub could not turn the engines away: ") + e.what());
    }
  } else {
    tell_engines(s.ranks, {{"op", "abandon"}, {"session", s.id}});
  }
}

void Hub::on_closed(Conn& c) {
  if (c.role == Conn::Role::kEngine) {
    Engine& e = engines_[c.rank];
    e.conn = nullptr;
    if (!stopping_ && e.alive) {
      e.alive = false;
      log_line("cluster '" + profile_.name + "': engine rank " + std::to_string(c.rank) + " (pid " +
               std::to_string(e.pid) + " on " + e.host + ") died");
      write_profile();
      if (session_) {
        auto it = std::find(session_->ranks.begin(), session_->ranks.end(), c.rank);
        if (it != session_->ranks.end()) {
          if (session_->client)
            reply(*session_->client, {{"event", "engine_lost"},
                                      {"engine", it - session_->ranks.begin()},
                                      {"host", e.host},
                                      {"pid", e.pid}});
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
  std::uint64_t tasks = 0;
  int id = 0;
  for (const auto& [r, e] : engines_) {
    engines.push_back({{"id", id++},
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
          {"mode", profile_.mode},
          {"door", profile_.door}};
}

void Hub::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = Clock::now() + milliseconds(2000);
  if (session_ && session_->client) reply(*session_->client, {{"event", "stopping"}});
  for (Conn* c : waiting_)
    reply(*c, {{"ok", false}, {"error", "cluster '" + profile_.name + "' was stopped"}});
  waiting_.clear();
  tell_engines(live_ranks(), {{"op", "exit"}});
}

int Hub::run() {
  expected_engines_ = transport::size(world_) - 1;
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
    if (fds[0].revents & POLLIN) accept_new();
    for (std::size_t i = 0; i < order.size(); ++i)
      if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(*order[i]);
    const auto now = Clock::now();
    for (auto& c : conns_) {
      if (c->role == Conn::Role::kNew && now > c->deadline && !c->closing) {
        log_line("door: refused " + c->peer + ": it did not greet and say who it is within " +
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

}  // namespace

int run_hub(MPI_Comm world, Profile profile, const std::string& door_host) {
  int port = 0;
  const bool local = door_host == "127.0.0.1";
  Socket listener = listen_on(local ? "127.0.0.1" : "0.0.0.0", port);
  profile.door = door_host + ":" + std::to_string(port);
  profile.hub_pid = static_cast<int>(::getpid());
  profile.hub_host = host_name();
  // Engines learn the door and its key from the hub, then come to it.
  char door[256] = {};
  std::snprintf(door, sizeof door, "%s", profile.door.c_str());
  char key[80] = {};
  std::snprintf(key, sizeof key, "%s", profile.key.c_str());
  transport::bcast(world, door, sizeof door);
  transport::bcast(world, key, sizeof key);
  Hub hub(world, std::move(profile), std::move(listener));
  return hub.run();
}

}  // namespace ranks::detail::cluster
