// What the observers of a run see (controller.hpp): the timeline it records and the dashboard it
// serves, whose JSON is made here.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/host.hpp"
#include "controller/controller.hpp"
#include "ranks/dashboard.hpp"
#include "ranks/error.hpp"
#include "ranks/timeline.hpp"

namespace ranks::detail {

using nlohmann::json;

void Controller::record_timeline(const std::string& path) {
  auto lk = lock();
  Recorder& recorder = scheduler_.recorder();
  if (const Timeline* t = recorder.timeline()) {
    if (t->path() == path) return;
    throw Error("a timeline is recorded to '" + t->path() + "' already; a run records one (" +
                "RANKS_TIMELINE or ranks::record_timeline, not both with different files)");
  }
  // How many tasks wait in memory before the oldest are written (RANKS_TIMELINE_HOLD).
  std::size_t hold = Timeline::kHold;
  if (const char* h = std::getenv("RANKS_TIMELINE_HOLD"); h != nullptr && *h != 0) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(h, &end, 10);
    if (*end != 0 || errno != 0 || n == 0 || h[0] == '-')
      throw Error(std::string("RANKS_TIMELINE_HOLD='") + h +
                  "' is not a number of tasks; give 1 or more (the tasks a timeline keeps in "
                  "memory before it writes the oldest; 1048576 if unset)");
    hold = static_cast<std::size_t>(n);
  }
  recorder.record(std::make_unique<Timeline>(path, program_invocation_short_name, hold));
}

std::string Controller::serve_dashboard(const dashboard::Address& at) {
  {
    auto lk = lock();
    if (dashboard_)
      throw Error("the dashboard is served at " + dashboard_->url() +
                  " already; a program serves one (RANKS_DASHBOARD or ranks::serve_dashboard)");
    scheduler_.recorder().keep_recent();
  }
  auto d = std::make_unique<dashboard::Dashboard>(at, [this] { return dashboard_status(); });
  auto lk = lock();
  dashboard_ = std::move(d);
  return dashboard_->url();
}

std::string Controller::dashboard_status() {
  json status;
  std::vector<std::pair<std::size_t, int>> here;  // engines of this host: index, pid
  {
    auto lk = lock();
    status = status_json(kShown);
    const json& engines = status["engines"];
    for (std::size_t i = 0; i < engines.size(); ++i) {
      const Engine& e = roster_.engine(engines[i]["id"].get<int>());
      if (e.local && e.alive) here.emplace_back(i, e.pid);
    }
  }
  // Their memory as it is now, read from /proc without the lock.
  for (const auto& [i, pid] : here)
    if (const std::uint64_t b = resident_bytes(pid); b != 0) status["engines"][i]["rss_bytes"] = b;
  return status.dump();
}

void Controller::report_to_cluster() {
  const auto now = std::chrono::steady_clock::now();
  if (!cluster_ || !cluster_->entry().dashboard || now - last_report_ < std::chrono::seconds(1))
    return;
  last_report_ = now;
  // A frame to the hub is at most 1 MiB: the stream's last 2000 tasks go (of the 4096 kept).
  cluster_->report(status_json(2000));
}

json Controller::status_json(std::size_t most_tasks) {
  using Clock = std::chrono::system_clock;
  const auto now = Clock::now();
  const auto seconds = [&](Clock::time_point t) {
    return std::chrono::duration<double>(t - started_).count();
  };
  const auto seconds_ns = [&](std::int64_t ns) {
    return static_cast<double>(ns - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        started_.time_since_epoch())
                                        .count()) /
           1e9;
  };
  json status;
  status["ranks_dashboard"] = 1;
  const std::string host = host_name();
  status["program"] = {
      {"name", program_invocation_short_name}, {"pid", ::getpid()}, {"host", host}};
  status["title"] = std::string(program_invocation_short_name) + " (pid " +
                    std::to_string(::getpid()) + " on " + host + ")";
  status["cluster"] = cluster_ ? json{{"name", cluster_->name()}} : json(nullptr);
  status["uptime_s"] = seconds(now);
  json engines = json::array();
  for (int id = 0; id < roster_.size(); ++id) {
    const Engine& e = roster_.engine(id);
    if (e.absent) continue;
    json rss = e.rss_bytes != 0 ? json(e.rss_bytes) : json(nullptr);
    engines.push_back({{"id", id},
                       {"host", e.host},
                       {"pid", e.pid},
                       {"alive", e.alive},
                       {"busy", e.alive && e.load > 0},
                       {"tasks", e.tasks_run},
                       {"rss_bytes", rss},
                       {"signal", e.signal}});
  }
  status["engines"] = std::move(engines);
  Recorder& recorder = scheduler_.recorder();
  json tasks = json::array();
  const auto& recent = recorder.recent_tasks();
  const std::size_t skip = recent.size() > most_tasks ? recent.size() - most_tasks : 0;
  for (auto it = recent.begin() + static_cast<std::ptrdiff_t>(skip); it != recent.end(); ++it) {
    const TaskRecord& t = *it;
    tasks.push_back({{"engine", t.engine},
                     {"start_s", seconds_ns(t.started_ns)},
                     {"end_s", seconds_ns(t.completed_ns)},
                     {"kind", t.kind},
                     {"call", t.call},
                     {"ok", t.ok}});
  }
  const std::size_t shown = tasks.size();
  status["stream"] = {{"window_s", Recorder::kWindow.count()},
                      {"now_s", seconds(now)},
                      {"total", std::max<std::uint64_t>(recorder.recent_count(), shown)},
                      {"shown", shown},
                      {"tasks", std::move(tasks)}};
  json calls = json::array();
  for (const Recorder::Call& c : recorder.calls_in_flight()) {
    const auto job = c.job.lock();
    const StateBase& s = job->state();
    calls.push_back({{"call", c.number},
                     {"kind", job->kind},
                     {"done", s.units_shown()},
                     {"total", s.units_total()},
                     {"unit", s.unit_name()},
                     {"age_s", std::chrono::duration<double>(now - c.since).count()}});
  }
  status["calls"] = std::move(calls);
  json lost = json::array();
  for (const Recorder::Loss& l : recorder.losses()) {
    const Engine& e = roster_.engine(l.engine);
    lost.push_back({{"id", l.engine},
                    {"host", e.host},
                    {"pid", e.pid},
                    {"signal", l.signal},
                    {"at_s", seconds(l.at)}});
  }
  status["lost"] = std::move(lost);
  json objects = json::array();
  for (const auto& o : objects_.list()) {
    const std::string_view kind = o.kind;
    std::string unit = kind == "dict" ? " entr" : kind == "Array" ? " element" : " item";
    if (kind == "dict")
      unit += o.size == 1 ? "y" : "ies";
    else if (o.size != 1)
      unit += "s";
    std::string detail = o.size > 0 || kind.ends_with("Queue") || kind == "list"
                             ? std::to_string(o.size) + unit
                             : "";
    if (o.waiting) detail += detail.empty() ? "calls wait" : ", calls wait";
    objects.push_back(
        {{"id", std::to_string(o.id)}, {"kind", o.kind}, {"size", o.size}, {"detail", detail}});
  }
  status["objects"] = std::move(objects);
  return status;
}

}  // namespace ranks::detail

namespace ranks {

void record_timeline(const std::string& path) {
  detail::the_controller("ranks::record_timeline").record_timeline(path);
}

std::string serve_dashboard(const std::string& at) {
  return detail::the_controller("ranks::serve_dashboard")
      .serve_dashboard(detail::dashboard::parse_address(at, "ranks::serve_dashboard"));
}

}  // namespace ranks
