#include "dashboard/dashboard.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "base/log.hpp"
#include "ranks/error.hpp"

namespace ranks::detail::dashboard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kRequestBytes = 8192;
constexpr int kRequestsPerSecond = 10;
constexpr std::chrono::seconds kFirstRequest{5};
constexpr std::chrono::seconds kIdle{30};

// A Host header a page on this host's loopback may be reached by (not a name a hostile page
// rebound to 127.0.0.1).
bool loopback_host(std::string_view host) {
  if (host.starts_with('['))
    host = host.substr(0, host.find(']') + 1);
  else
    host = host.substr(0, host.find(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace

Address parse_address(const std::string& text, const std::string& what) {
  Address a;
  std::string port = text;
  if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
      a.host = a.host.substr(1, a.host.size() - 2);
  }
  const auto bad = [&] {
    return Error(what + "='" + text +
                 "' is not a port (0 to 65535) or ADDRESS:PORT; give, say, 8787 (this host "
                 "only) or 0.0.0.0:8787 (every address of this host)");
  };
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw bad();
  const int p = std::stoi(port);
  if (p > 65535) throw bad();
  a.port = static_cast<unsigned short>(p);
  boost::system::error_code ec;
  asio::ip::make_address(a.host, ec);
  if (ec)
    throw Error(what + "='" + text + "': '" + a.host +
                "' is not an IP address; give one of this host's (127.0.0.1, 0.0.0.0 for all)");
  return a;
}

struct Dashboard::Server {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  Status status;
  bool loopback = true;
  std::string cached;
  Clock::time_point cached_at{};
  // Held by each connection too: those still open when the io_context goes are destroyed with it.
  std::shared_ptr<int> connections = std::make_shared<int>(0);
  std::thread thread;

  const std::string& json() {
    const auto now = Clock::now();
    if (cached.empty() || now - cached_at >= kFresh) {
      cached = status();
      cached_at = now;
    }
    return cached;
  }
  void accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Dashboard::Server& server)
      : stream_(std::move(socket)), server_(server), count_(server.connections) {
    ++*count_;
  }
  ~Session() { --*count_; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void read() {
    parser_.emplace();
    parser_->header_limit(kRequestBytes);
    parser_->body_limit(kRequestBytes);
    stream_.expires_after(served_ == 0 ? kFirstRequest : kIdle);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return close();  // closed, timed out, too large or not HTTP: dropped
    // A client that asks more than a page polling does is dropped.
    const auto now = Clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      in_window_ = 0;
    }
    if (++in_window_ > kRequestsPerSecond) return close();
    ++served_;
    respond(parser_->get());
  }

  void respond(const http::request<http::string_body>& req) {
    response_ = {};
    response_.version(req.version());
    response_.keep_alive(req.keep_alive());
    response_.set(http::field::server, "ranks");
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view host(req[http::field::host].data(), req[http::field::host].size());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      plain(http::status::method_not_allowed, "only GET and HEAD\n");
    } else if (server_.loopback && !loopback_host(host)) {
      plain(http::status::forbidden, "this dashboard answers to 127.0.0.1 and localhost\n");
    } else if (target == "/" || target == "/index.html") {
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "text/html; charset=utf-8");
      // Nothing but the page's own inline script and style, and its JSON.
      response_.set("Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                    "connect-src 'self'; img-src 'self' data:");
      response_.body() = kPage;
    } else if (target == "/api/status") {
      try {
        response_.result(http::status::ok);
        response_.set(http::field::content_type, "application/json");
        response_.body() = server_.json();
      } catch (const std::exception& e) {
        plain(http::status::internal_server_error, std::string(e.what()) + "\n");
      }
    } else {
      plain(http::status::not_found, "not found: / is the page, /api/status its JSON\n");
    }
    response_.prepare_payload();
    if (req.method() == http::verb::head) response_.body().clear();
    stream_.expires_after(kFirstRequest);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void plain(http::status s, const std::string& text) {
    response_.result(s);
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.body() = text;
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec || !response_.keep_alive()) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Dashboard::Server& server_;
  std::shared_ptr<int> count_;
  beast::flat_buffer buffer_{kRequestBytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  Clock::time_point window_{};
  int in_window_ = 0;
  std::uint64_t served_ = 0;
};

}  // namespace

void Dashboard::Server::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (*connections >= kConnections) {
        beast::error_code ignored;
        socket.close(ignored);  // full: the newcomer is turned away
      } else {
        std::make_shared<Session>(std::move(socket), *this)->read();
      }
    }
    accept();
  });
}

Dashboard::Dashboard(const Address& at, Status status) : server_(std::make_unique<Server>()) {
  Server& s = *server_;
  s.status = std::move(status);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(at.host, ec);
  s.loopback = !ec && address.is_loopback();
  const tcp::endpoint endpoint(address, at.port);
  const auto fail = [&](const char* step) {
    return Error("the dashboard cannot listen at " + at.host + ":" + std::to_string(at.port) +
                 " (" + step + ": " + ec.message() +
                 "); choose another port (0 takes any free one), or an address of this host");
  };
  if (ec) throw fail("address");
  if (s.acceptor.open(endpoint.protocol(), ec); ec) throw fail("open");
  if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) throw fail("option");
  if (s.acceptor.bind(endpoint, ec); ec) throw fail("bind");
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) throw fail("listen");
  s.accept();
  s.thread = std::thread([&s] {
    try {
      s.io.run();
    } catch (const std::exception& e) {
      log_line(std::string("the dashboard stopped: ") + e.what());
    }
  });
}

Dashboard::~Dashboard() {
  server_->io.stop();
  if (server_->thread.joinable()) server_->thread.join();
}

std::string Dashboard::url() const {
  const auto ep = server_->acceptor.local_endpoint();
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(ep.port()) + "/";
}

}  // namespace ranks::detail::dashboard
