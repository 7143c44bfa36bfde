#include "controller/timeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <utility>

#include "base/host.hpp"
#include "base/log.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

namespace {

constexpr std::size_t kBatch = 16384;  // records handed over at once, at most
// Batches the writer keeps ready, their pages touched: the controller's records never fault.
constexpr std::size_t kSpares = 2;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// text as a JSON string, quoted.
void quoted(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(c));
      out += u;
    } else {
      out += c;
    }
  }
  out += '"';
}

void number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// ns as microseconds with three decimals (nanoseconds), from an integer: exact and fast.
void micros(std::string& out, std::int64_t ns) {
  if (ns < 0) {
    out += '-';
    ns = -ns;
  }
  number(out, ns / 1000);
  const auto frac = static_cast<int>(ns % 1000);
  char buf[5] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                 static_cast<char>('0' + frac % 10), 0};
  out += buf;
}

}  // namespace

Timeline::Timeline(const std::string& path, const std::string& program, std::size_t hold)
    : path_(path),
      start_ns_(now_ns()),
      batch_(std::clamp<std::size_t>(hold, 1, kBatch)),
      held_(std::max<std::size_t>(1, hold / batch_)) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr)
    throw Error("the timeline file '" + path + "' cannot be written (" + std::strerror(errno) +
                "); give RANKS_TIMELINE (or ranks::record_timeline) a path in a directory that "
                "exists and is writable");
  std::string head = "{\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,";
  head += "\"tid\":0,\"args\":{\"name\":";
  quoted(head,
         "program " + program + " (pid " + std::to_string(::getpid()) + " on " + host_name() + ")");
  head += "}}";
  put(head);
  filling_.entries.reserve(batch_);
  writer_ = std::thread([this] { write_loop(); });
}

Timeline::~Timeline() { close(); }

void Timeline::engine(int id, const std::string& host, int pid) {
  if (id < 0 || named(id)) return;
  if (static_cast<std::size_t>(id) >= host_of_.size()) host_of_.resize(id + 1, 0);
  auto [it, added] = host_index_.emplace(host, static_cast<int>(host_index_.size()));
  if (added) filling_.new_hosts.push_back(host);
  host_of_[id] = it->second + 1;
  Entry e;
  e.is = Entry::Is::kEngine;
  e.engine = id;
  e.call = static_cast<std::uint32_t>(it->second);
  e.first = static_cast<std::uint64_t>(pid);
  filling_.entries.push_back(e);
}

void Timeline::task(const TaskRecord& r) {
  if (closed_) return;
  filling_.entries.push_back({r.started_ns, r.completed_ns, r.first, r.kind,
                              static_cast<std::uint32_t>(r.call),
                              static_cast<std::uint32_t>(r.count), r.engine,
                              static_cast<std::uint16_t>(r.attempt), Entry::Is::kTask, r.ok});
  ++tasks_;
  if (filling_.entries.size() >= batch_) hand_over();
}

void Timeline::lost(int engine, int signal, std::int64_t at_ns) {
  if (closed_) return;
  Entry e;
  e.is = Entry::Is::kLost;
  e.engine = engine;
  e.started_ns = at_ns;
  e.first = static_cast<std::uint64_t>(signal);
  filling_.entries.push_back(e);
}

void Timeline::hand_over() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return full_.size() < 2 * held_; });
  full_.push_back(std::move(filling_));
  filling_ = Batch();
  if (!spares_.empty()) {
    filling_.entries = std::move(spares_.back());
    spares_.pop_back();
  } else {
    filling_.entries.reserve(batch_);
  }
  cv_.notify_all();  // the writer makes another spare, or writes
}

void Timeline::close() {
  if (closed_) return;
  closed_ = true;
  const std::int64_t end_ns = now_ns();
  hand_over();
  {
    std::lock_guard<std::mutex> lk(mu_);
    ending_ = true;
  }
  cv_.notify_all();
  writer_.join();
  std::string tail = ",\n{\"name\":\"run\",\"cat\":\"run\",\"ph\":\"X\",\"ts\":0,\"dur\":";
  micros(tail, end_ns - start_ns_);
  tail += ",\"pid\":0,\"tid\":0,\"args\":{\"engines\":";
  number(tail, static_cast<std::int64_t>(host_of_.size()));
  tail += ",\"tasks\":";
  number(tail, static_cast<std::int64_t>(tasks_));
  tail += "}}\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"ranks_timeline\":1,";
  tail += "\"start_unix_us\":";
  number(tail, start_ns_ / 1000);
  tail += "}}\n";
  put(tail);
  if (std::fclose(file_) != 0 && !failed_)
    log_line("the timeline '" + path_ + "' could not be completed (" + std::strerror(errno) + ")");
  file_ = nullptr;
}

void Timeline::write_loop() {
  while (true) {
    Batch b;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return full_.size() > held_ || ending_ || spares_.size() < kSpares; });
      if (full_.size() <= held_ && !ending_) {
        lk.unlock();
        std::vector<Entry> spare;
        spare.resize(batch_);  // every page written once, here
        spare.clear();
        lk.lock();
        spares_.push_back(std::move(spare));
        continue;
      }
      if (full_.empty()) return;
      b = std::move(full_.front());
      full_.pop_front();
    }
    cv_.notify_all();
    write(b);
  }
}

void Timeline::write(const Batch& b) {
  for (const auto& h : b.new_hosts) {
    hosts_.push_back(h);
    text_ += ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":";
    number(text_, static_cast<std::int64_t>(hosts_.size()));
    text_ += ",\"tid\":0,\"args\":{\"name\":";
    quoted(text_, "host " + h);
    text_ += "}}";
  }
  for (const Entry& e : b.entries) {
    if (e.is == Entry::Is::kEngine) {
      if (static_cast<std::size_t>(e.engine) >= engine_host_.size())
        engine_host_.resize(e.engine + 1, -1);
      engine_host_[e.engine] = static_cast<int>(e.call);
    }
    const int host =
        static_cast<std::size_t>(e.engine) < engine_host_.size() ? engine_host_[e.engine] : -1;
    text_ += ",\n{\"name\":";
    switch (e.is) {
      case Entry::Is::kEngine:
        text_ += "\"thread_name\",\"ph\":\"M\"";
        break;
      case Entry::Is::kLost:
        text_ += "\"engine lost\",\"cat\":\"loss\",\"ph\":\"i\",\"s\":\"t\",\"ts\":";
        micros(text_, e.started_ns - start_ns_);
        break;
      case Entry::Is::kTask:
        text_ += '"';
        text_ += e.kind;
        text_ += " #";
        number(text_, e.call);
        text_ += "\",\"cat\":\"";
        text_ += e.kind;
        text_ += "\",\"ph\":\"X\",\"ts\":";
        micros(text_, e.started_ns - start_ns_);
        text_ += ",\"dur\":";
        micros(text_, e.completed_ns - e.started_ns);
        break;
    }
    text_ += ",\"pid\":";
    number(text_, host + 1);
    text_ += ",\"tid\":";
    number(text_, e.engine + 1);
    text_ += ",\"args\":{";
    if (e.is == Entry::Is::kEngine) {
      text_ += "\"name\":\"engine ";
      number(text_, e.engine);
      text_ += " (pid ";
      number(text_, static_cast<std::int64_t>(e.first));
      text_ += ")\"}}";
      continue;
    }
    text_ += "\"engine\":";
    number(text_, e.engine);
    text_ += ",\"host\":";
    quoted(text_, host >= 0 ? hosts_[host] : std::string("?"));
    if (e.is == Entry::Is::kLost) {
      text_ += ",\"signal\":";
      number(text_, static_cast<std::int64_t>(e.first));
    } else {
      text_ += ",\"call\":";
      number(text_, e.call);
      text_ += ",\"first\":";
      number(text_, static_cast<std::int64_t>(e.first));
      text_ += ",\"count\":";
      number(text_, e.count);
      text_ += ",\"attempt\":";
      number(text_, e.attempt);
      text_ += e.ok ? ",\"ok\":true" : ",\"ok\":false";
    }
    text_ += "}}";
    if (text_.size() >= (std::size_t{1} << 20)) {
      put(text_);
      text_.clear();
    }
  }
  put(text_);
  text_.clear();
}

void Timeline::put(const std::string& text) {
  if (failed_ || text.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file_) == text.size()) return;
  failed_ = true;
  log_line("writing the timeline '" + path_ + "' failed (" + std::strerror(errno) +
           "); the rest of the run is not in it");
}

}  // namespace ranks::detail
