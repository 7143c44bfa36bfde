#include "transport/lifeline.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <random>
#include <sstream>

#include "base/log.hpp"
#include "ranks/error.hpp"
#include "transport/socket.hpp"

namespace ranks::detail::lifeline {

namespace {

// What an engine says first on its line.
struct Introduction {
  std::int32_t engine;
  std::uint32_t pad;
  std::uint64_t token;
};

// This host's IPv4 addresses other than loopback, for engines on other hosts.
std::vector<std::string> host_addresses() {
  std::vector<std::string> out;
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0) return out;
  for (ifaddrs* a = all; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) != 0 || (a->ifa_flags & IFF_UP) == 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) out.emplace_back(text);
  }
  ::freeifaddrs(all);
  return out;
}

std::atomic<int> g_fd{-1};           // the engine's line
std::atomic<bool> g_leaving{false};  // the engine was told to stop: its line closing is no news

}  // namespace

Watch::Watch() {
  const Socket s = listen_on("0.0.0.0", port_);
  listen_fd_ = ::dup(s.fd());  // kept for the life of the watch
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw Error(std::string("a pipe for the life lines: ") + std::strerror(errno));
  addresses_ = host_addresses();
  thread_ = std::thread([this] { loop(); });
}

Watch::~Watch() {
  stop_ = true;
  (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (auto& [e, l] : lines_)
    if (l.fd >= 0) ::close(l.fd);
  for (int fd : pending_fds_) ::close(fd);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string Watch::invitation(int engine, bool same_host, std::string who) {
  static std::random_device rd;
  Line l;
  l.token = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  l.who = std::move(who);
  std::ostringstream s;
  bool first = true;
  if (same_host) {
    s << "127.0.0.1";
    first = false;
  }
  for (const auto& a : addresses_) {
    s << (first ? "" : ",") << a;
    first = false;
  }
  s << ' ' << port_ << ' ' << l.token;
  std::lock_guard<std::mutex> lk(mu_);
  lines_[engine] = l;
  return s.str();
}

std::vector<Death> Watch::take() {
  std::lock_guard<std::mutex> lk(mu_);
  pending_ = false;
  std::vector<Death> out;
  out.swap(deaths_);
  return out;
}

void Watch::report_deaths(std::string consequence) {
  std::lock_guard<std::mutex> lk(mu_);
  report_ = std::move(consequence);
}

void Watch::quiet() {
  std::lock_guard<std::mutex> lk(mu_);
  report_.clear();
}

bool Watch::had_line(int engine) {
  std::lock_guard<std::mutex> lk(mu_);
  return std::find(had_line_.begin(), had_line_.end(), engine) != had_line_.end();
}

bool Watch::connected(int engine) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = lines_.find(engine);
  return it != lines_.end() && it->second.fd >= 0;
}

bool Watch::end(int engine, int sig) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = lines_.find(engine);
  if (it == lines_.end() || it->second.fd < 0) return false;
  const auto b = static_cast<unsigned char>(sig);
  return ::send(it->second.fd, &b, 1, MSG_NOSIGNAL) == 1;
}

void Watch::forget(int engine) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = lines_.find(engine);
  if (it == lines_.end()) return;
  if (it->second.fd >= 0) ::close(it->second.fd);
  lines_.erase(it);
  (void)!::write(wake_[1], "x", 1);  // the loop must stop polling that descriptor
}

void Watch::loop() {
  std::vector<pollfd> fds;
  std::vector<int> owners;  // per pollfd: -2 wake, -1 listen, -3 introduction, else engine
  while (!stop_) {
    fds.clear();
    owners.clear();
    {
      std::lock_guard<std::mutex> lk(mu_);
      fds.push_back({wake_[0], POLLIN, 0});
      owners.push_back(-2);
      fds.push_back({listen_fd_, POLLIN, 0});
      owners.push_back(-1);
      for (int fd : pending_fds_) {
        fds.push_back({fd, POLLIN, 0});
        owners.push_back(-3);
      }
      for (const auto& [e, l] : lines_) {
        if (l.fd < 0) continue;
        fds.push_back({l.fd, POLLIN, 0});
        owners.push_back(e);
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    std::lock_guard<std::mutex> lk(mu_);
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      if (owners[i] == -2) {
        char buf[64];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
      } else if (owners[i] == -1) {
        const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) pending_fds_.push_back(c);
      } else if (owners[i] == -3) {
        // An introduction: 16 bytes, sent at once by the engine; anything else is a stranger.
        Introduction in{};
        const ssize_t n = ::recv(fd, &in, sizeof in, MSG_WAITALL | MSG_DONTWAIT);
        std::erase(pending_fds_, fd);
        auto it = lines_.find(in.engine);
        if (n == sizeof in && it != lines_.end() && it->second.fd < 0 &&
            it->second.token == in.token) {
          it->second.fd = fd;
          had_line_.push_back(in.engine);
        } else {
          ::close(fd);
        }
      } else {
        auto it = lines_.find(owners[i]);
        if (it == lines_.end() || it->second.fd != fd) continue;  // forgotten meanwhile
        unsigned char words[16];
        const ssize_t n = ::recv(fd, words, sizeof words, MSG_DONTWAIT);
        if (n > 0) {
          it->second.signal = words[n - 1];
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ::close(fd);
        if (!report_.empty() && !it->second.who.empty() && it->second.signal == 0)
          log_line(it->second.who + " died without a word (killed: signal 9, or out of memory); " +
                   report_);
        deaths_.push_back({owners[i], it->second.signal ? it->second.signal : SIGKILL});
        lines_.erase(it);
        pending_ = true;
      }
    }
  }
}

std::string hold(const std::string& invitation, int engine) {
  std::istringstream in(invitation);
  std::string addresses;
  int port = 0;
  std::uint64_t token = 0;
  in >> addresses >> port >> token;
  Socket s;
  std::string why;
  std::istringstream list(addresses);
  for (std::string a; std::getline(list, a, ',');) {
    try {
      s = connect_to(a + ":" + std::to_string(port), std::chrono::seconds(2));
      break;
    } catch (const Error& e) {
      why += std::string(why.empty() ? "" : "; ") + e.what();
    }
  }
  if (!s.open()) return why.empty() ? "no address to reach the controller" : why;
  const int fd = ::dup(s.fd());
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const Introduction me{engine, 0, token};
  if (::send(fd, &me, sizeof me, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof me)) {
    ::close(fd);
    return std::string("introducing this engine: ") + std::strerror(errno);
  }
  g_fd = fd;
  std::thread([fd, engine] {
    unsigned char b = 0;
    while (true) {
      const ssize_t n = ::recv(fd, &b, 1, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 1) {  // the controller ends this engine (a timeout, a terminate)
        const int sig = b;
        last_words(sig);
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        ::raise(SIGKILL);  // a signal the engine ignores or survives still ends it
      }
      break;
    }
    if (g_leaving) {
      // The controller let go of this engine; leaving MPI can still wait for ever on an engine
      // that died (disconnecting, finalizing). Past a few seconds, leave without it.
      std::this_thread::sleep_for(std::chrono::seconds(5));
      std::fflush(nullptr);
      ::_exit(0);
    }
    log_line("engine " + std::to_string(engine) +
             ": the controller is gone (its life line closed); this engine ends");
    ::_exit(1);
  }).detach();
  return {};
}

void last_words(int sig) {
  const int fd = g_fd.load();
  if (fd < 0) return;
  const auto b = static_cast<unsigned char>(sig);
  (void)!::send(fd, &b, 1, MSG_NOSIGNAL);
}

void leaving() { g_leaving = true; }

}  // namespace ranks::detail::lifeline
