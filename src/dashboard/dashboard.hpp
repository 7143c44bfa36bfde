#pragma once

// The live dashboard: a page (page.html, built in) and its JSON (/api/status), served over HTTP
// by Boost.Beast on a thread of its own. It is bounded, so that no client can slow the program:
// at most kConnections at once, requests of at most 8 KiB (and a body of as much), 10 requests a
// second on a connection, a request's bytes within 5 s and an idle connection closed after 30 s;
// beyond any of these the client is dropped. The JSON is asked of the program at most 4 times a
// second, whatever the number of clients; between, they get the last one.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ranks::detail::dashboard {

/// Where to listen, from RANKS_DASHBOARD or `--dashboard`: "PORT" (loopback), or
/// "ADDRESS:PORT" (an address of this host; 0.0.0.0 for all). Port 0: any free one.
struct Address {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
};
/// Reads "PORT" or "ADDRESS:PORT"; throws ranks::Error saying what is expected (`what` names
/// where it came from, as "RANKS_DASHBOARD").
Address parse_address(const std::string& text, const std::string& what);

class Dashboard {
 public:
  /// The status JSON, asked for on the dashboard's thread (at most 4 times a second).
  using Status = std::function<std::string()>;
  static constexpr int kConnections = 32;
  static constexpr std::chrono::milliseconds kFresh{250};

  /// Listens at `at` and serves until destroyed. Throws ranks::Error if it cannot listen there
  /// (the port is taken, the address is not this host's), saying what to do.
  Dashboard(const Address& at, Status status);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  /// Where it listens (the port chosen, for port 0), as http://HOST:PORT/.
  [[nodiscard]] std::string url() const;

  struct Server;

 private:
  std::unique_ptr<Server> server_;
};

/// The page, built into the library from page.html.
extern const char* const kPage;

}  // namespace ranks::detail::dashboard
