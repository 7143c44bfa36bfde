// The dashboard of a started cluster (`ranks cluster start --dashboard PORT`): whoever is
// attached reports what it does every second (Op::kReport, the JSON of its own dashboard), and
// the hub shows that; with nobody attached, or a program that stopped reporting, it shows what
// it knows itself: its engines, their memory on this host, the tasks they ran, those lost.

#include <chrono>
#include <string>

#include "base/host.hpp"
#include "base/log.hpp"
#include "cluster/hub.hpp"

namespace ranks::detail::cluster {

using std::chrono::milliseconds;

void Hub::serve_dashboard() {
  if (profile_.dashboard.empty()) return;
  // The JSON is made on the hub's thread; the dashboard's only hands out the last one.
  dashboard_ = std::make_unique<dashboard::Dashboard>(
      dashboard::parse_address(profile_.dashboard, "--dashboard"), [this] {
        const std::lock_guard<std::mutex> g(shown_mu_);
        return shown_;
      });
  profile_.dashboard_url = dashboard_->url();
  write_profile();
  log_line("cluster '" + profile_.name + "': the dashboard is at " + profile_.dashboard_url);
  publish_status();
}

void Hub::publish_status() {
  if (!dashboard_) return;
  const auto now = Clock::now();
  if (!shown_.empty() && now - shown_at_ < dashboard::Dashboard::kFresh) return;
  shown_at_ = now;
  std::string text = dashboard_status().dump();
  const std::lock_guard<std::mutex> g(shown_mu_);
  shown_ = std::move(text);
}

json Hub::dashboard_status() const {
  const auto now = Clock::now();
  const auto seconds = [&](Clock::time_point t) {
    return std::chrono::duration<double>(t - started_).count();
  };
  const bool attached = session_ && session_->client != nullptr;
  json s;
  if (attached && report_.is_object() && now - report_at_ < std::chrono::seconds(5)) {
    s = report_;
    s["title"] = "cluster " + profile_.name + ": " + report_.value("title", std::string());
  } else {
    s = {{"ranks_dashboard", 1},
         {"title", "cluster " + profile_.name},
         {"uptime_s", seconds(now)},
         {"stream",
          {{"window_s", 60},
           {"now_s", seconds(now)},
           {"total", 0},
           {"shown", 0},
           {"tasks", json::array()}}},
         {"calls", json::array()},
         {"objects", json::array()}};
    s["program"] = attached ? json{{"name", session_->who.value("program", "")},
                                   {"pid", session_->who.value("pid", 0)},
                                   {"host", session_->who.value("host", "")}}
                            : json(nullptr);
    json engines = json::array();
    json lost = json::array();
    const std::string here = host_name();
    for (const auto& [rank, e] : engines_) {
      json rss = nullptr;
      if (e.alive && e.host == here)
        if (const std::uint64_t b = resident_bytes(e.pid); b != 0) rss = b;
      engines.push_back({{"id", e.id},
                         {"host", e.host},
                         {"pid", e.pid},
                         {"alive", e.alive},
                         {"busy", false},
                         {"tasks", e.tasks},
                         {"rss_bytes", rss},
                         {"signal", e.alive ? 0 : 9}});
      if (!e.alive)
        lost.push_back({{"id", e.id},
                        {"host", e.host},
                        {"pid", e.pid},
                        {"signal", 9},
                        {"at_s", seconds(e.lost_at)}});
    }
    s["engines"] = std::move(engines);
    s["lost"] = std::move(lost);
  }
  s["cluster"] = {{"name", profile_.name}};
  return s;
}

}  // namespace ranks::detail::cluster
