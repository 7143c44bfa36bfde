// The hub's sessions: one program at a time, connected to the engines over MPI or relayed
// through the hub; its end, and giving up a program that died (hub.hpp).

#include <algorithm>

#include "base/log.hpp"
#include "cluster/hub.hpp"
#include "controller/roster.hpp"
#include "door/relay.hpp"
#include "ranks/error.hpp"

namespace ranks::detail::cluster {

void Hub::grant_next() {
  if (session_ || !ready_ || stopping_ || growing_ > 0 || refill_due()) return;
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
  tell_engines(ranks, frame(Op::kAccept, {{"session", session_->id},
                                          {"live", live},
                                          {"ids", ids_of(ranks)},
                                          {"code", c.hello.value("code", json::object())}}));
  reply(c, {{"ok", true},
            {"go", true},
            {"port", port},
            {"engines", ranks.size()},
            {"next_id", next_id_},
            {"session", session_->id},
            {"mode", profile_.mode},
            {"dashboard", dashboard_ != nullptr}});
  log_line("cluster '" + profile_.name + "': " + c.who.value("program", "?") + " (pid " +
           std::to_string(c.who.value("pid", 0)) + " on " + c.who.value("host", "?") +
           ") attached");
  if (++connected_ >= profile_.connect_limit) relay_from_now();
}

// Open MPI 4.1 keeps what it learnt of each program that connected (about 82 kB in mpirun and
// 56 kB in each engine, the same with bare MPI_Comm_connect/accept) until the processes end.
// Past the profile's limit the hub relays the programs instead, which costs nothing that stays:
// the cluster's memory is bounded and its engines keep their namespaces.
void Hub::relay_from_now() {
  if (profile_.mode == "relay") return;
  profile_.mode = "relay";
  write_profile();  // programs that start from now on skip what connecting needs
  log_line("cluster '" + profile_.name + "': " + std::to_string(connected_) +
           " programs connected over MPI, which keeps memory of each in mpirun and the engines "
           "until they end; later programs reach the engines through the hub (ranks cluster "
           "start --connect-limit)");
}

// Across hosts the program reaches the engines through the hub: the hub admits them for it
// (they load its code) over the cluster's own MPI, then passes messages both ways.
void Hub::grant_relayed(Conn& c, const std::vector<int>& ranks) {
  json live = json::array();
  for (int r : ranks) live.push_back(r);
  tell_engines(
      ranks, frame(Op::kJoin, {{"session", session_->id}, {"live", live}, {"ids", ids_of(ranks)}}));
  std::vector<int> members{0};
  members.insert(members.end(), ranks.begin(), ranks.end());
  auto relay = std::make_unique<Relay>();
  Admission a;
  try {
    relay->comm = transport::dup_comm(with_engines_.of(members));
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
  for (const auto& e : a.engines)
    engines.push_back({{"host", e.host}, {"pid", e.pid}, {"id", e.id}});
  c.inbox.unlimit();
  session_->relay = std::move(relay);
  reply(c, {{"ok", true},
            {"go", true},
            {"mode", "relay"},
            {"engines", ranks.size()},
            {"engine_list", engines},
            {"next_id", next_id_},
            {"session", session_->id},
            {"dashboard", dashboard_ != nullptr}});
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
// had, they still wait in MPI_Comm_accept, and a program of the hub's takes the client's place
// there to turn them away (hub_repair.cpp; the hub itself never waits on MPI for a client).
void Hub::give_up_client() {
  Session& s = *session_;
  s.client = nullptr;
  if (s.abandoned) return;
  s.abandoned = true;
  s.gone_at = Clock::now();
  log_line("cluster '" + profile_.name + "': " + s.who.value("program", "?") + " (pid " +
           std::to_string(s.who.value("pid", 0)) + ") is gone; its engines wait again");
  if (s.accepted.empty() && !s.relay) {  // (relayed engines never wait in an accept)
    turn_away(engines_[s.ranks.front()].port);
  } else {
    tell_engines(s.ranks, frame(Op::kAbandon, {{"session", s.id}}));
  }
}

}  // namespace ranks::detail::cluster
