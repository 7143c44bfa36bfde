#include "timeline_trace.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "ranks/error.hpp"

namespace ranks::cli::trace {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& message) { throw Error(message); }

std::string how_to_write(const std::string& path) {
  return "write one by running the program with RANKS_TIMELINE=" + path;
}

// The file, mapped: a trace of a million tasks is read without a copy of it in memory.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) fail(path + " does not exist; " + how_to_write(path));
    if (fd_ < 0) fail("cannot read " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot read " + path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail(path + " is a directory, not a trace; " + how_to_write(path));
    if (st.st_size == 0) fail(path + " is empty; " + how_to_write(path));
    size_ = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) fail("cannot read " + path + ": " + std::strerror(errno));
    data_ = static_cast<const char*>(p);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  [[nodiscard]] std::string_view text() const { return {data_, size_}; }

 private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Members read without throwing: a field of another type counts as absent.
const json* member(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::optional<double> number(const json& o, const char* key) {
  const json* m = member(o, key);
  if (m && m->is_number()) return m->get<double>();
  return std::nullopt;
}

std::string text(const json& o, const char* key) {
  const json* m = member(o, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

// The number after `prefix` in `s` ("engine 2 (pid 456)" -> 2), if s starts so.
std::optional<long> number_after(const std::string& s, std::string_view prefix) {
  if (s.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(s.c_str() + prefix.size(), &end, 10);
  if (end == s.c_str() + prefix.size() || errno != 0) return std::nullopt;
  return n;
}

// Reads the events one at a time as the parser completes them, keeping only what the chart and
// the table need.
class Reader {
 public:
  Trace read(const std::string& path) {
    const MappedFile file(path);
    parse(path, file.text());
    if (!saw_events_ && trace_.cut_short)
      fail(path + " ends (cut short) before its traceEvents array; " + how_to_write(path));
    if (!saw_events_)
      fail(path + " has no traceEvents array: it is not a ranks timeline; " + how_to_write(path));
    add_engines_without_tasks();
    if (trace_.tasks.empty())
      fail(path + " has no task events (\"X\" events whose args name an engine): the program ran " +
           "no task on an engine" + (trace_.cut_short ? " before the file was cut short" : ""));
    if (trace_.program.empty()) trace_.program = program_name_.empty() ? path : program_name_;
    sort_rows();
    measure();
    return std::move(trace_);
  }

 private:
  void parse(const std::string& path, std::string_view text) {
    std::string key;  // the top-level member being read
    bool in_events = false;
    const auto on_value = [&](int depth, json::parse_event_t event, json& value) {
      using E = json::parse_event_t;
      if (depth == 1 && event == E::key) key = value.get<std::string>();
      if (depth == 1 && key == "traceEvents" && event == E::array_start)
        saw_events_ = in_events = true;
      if (depth == 1 && event == E::array_end) in_events = false;
      if (depth == 2 && in_events && event == E::object_end) {
        on_event(value);
        return false;  // read: not kept
      }
      if (depth == 1 && key == "otherData" && event == E::object_end)
        trace_.program = ::ranks::cli::trace::text(value, "program");
      return true;
    };
    try {
      const json rest = json::parse(text.begin(), text.end(), on_value);
    } catch (const json::parse_error& e) {
      // At the end of the input the program stopped writing; elsewhere the file is not JSON.
      if (e.byte <= text.size()) {
        std::string why = e.what();
        why = why.substr(why.find(']') + 2);
        fail(path + " is not JSON (" + why + "); " + how_to_write(path));
      }
      trace_.cut_short = true;
    }
  }

  void on_event(const json& e) {
    const std::string ph = text(e, "ph");
    if (ph == "M") return on_metadata(e);
    const json* args = member(e, "args");
    const json* engine = args ? member(*args, "engine") : nullptr;
    if (engine && !engine->is_number()) engine = nullptr;
    if (ph == "X" && engine) return on_task(e, *args, std::lround(engine->get<double>()));
    if (ph == "X" && text(e, "name") == "run") {
      trace_.run_start = number(e, "ts");
      trace_.run_dur = number(e, "dur");
    } else if ((ph == "i" || ph == "I") && engine && text(e, "cat") == "loss") {
      if (const auto ts = number(e, "ts")) {
        auto& lost = trace_.rows[row_of(std::lround(engine->get<double>()), host(*args))].lost;
        lost = std::min(lost.value_or(*ts), *ts);
      }
    }
  }

  void on_task(const json& e, const json& args, long engine) {
    const std::optional<double> ts = number(e, "ts"), dur = number(e, "dur");
    if (!ts || !dur || !std::isfinite(*ts) || !std::isfinite(*dur) || *dur < 0) {
      ++trace_.unreadable;
      return;
    }
    const json* ok = member(args, "ok");
    trace_.tasks.push_back({*ts, *ts + *dur, row_of(engine, host(args)),
                            !(ok && ok->is_boolean() && !ok->get<bool>()),
                            call_of(text(e, "name"))});
  }

  // Names of the program (pid 0), of hosts (pid k: "host node0") and of engines (a thread of a
  // host: "engine 2 (pid 456)"): these give a row to an engine that ran no task.
  void on_metadata(const json& e) {
    const json* args = member(e, "args");
    const std::optional<double> pid = number(e, "pid");
    if (!args || !pid) return;
    const std::string name = text(*args, "name"), what = text(e, "name");
    if (what == "process_name" && *pid == 0) program_name_ = name;
    if (what == "process_name" && name.rfind("host ", 0) == 0)
      host_of_pid_[std::lround(*pid)] = name.substr(5);
    if (what == "thread_name")
      if (const auto engine = number_after(name, "engine "))
        engine_threads_.emplace_back(std::lround(*pid), *engine);
  }

  static std::string host(const json& args) {
    std::string h = text(args, "host");
    return h.empty() ? "?" : h;
  }

  std::uint32_t call_of(const std::string& name) {
    const auto [it, added] =
        call_index_.try_emplace(name, static_cast<std::uint32_t>(trace_.calls.size()));
    if (added) trace_.calls.push_back(name);
    return it->second;
  }

  std::uint32_t row_of(long engine, const std::string& host) {
    const auto [it, added] =
        row_index_.try_emplace({engine, host}, static_cast<std::uint32_t>(trace_.rows.size()));
    if (added) {
      Row row;
      row.engine = engine;
      row.host = host;
      trace_.rows.push_back(std::move(row));
    }
    return it->second;
  }

  void add_engines_without_tasks() {
    for (const auto& [pid, engine] : engine_threads_) {
      const auto first = row_index_.lower_bound({engine, std::string()});
      if (first != row_index_.end() && first->first.first == engine) continue;
      const auto h = host_of_pid_.find(pid);
      row_of(engine, h == host_of_pid_.end() ? "?" : h->second);
    }
  }

  // Rows by engine id, then host (row_index_'s order); tasks name their new row.
  void sort_rows() {
    std::vector<std::uint32_t> new_index(trace_.rows.size());
    std::vector<Row> rows;
    rows.reserve(trace_.rows.size());
    for (const auto& [key, old] : row_index_) {
      new_index[old] = static_cast<std::uint32_t>(rows.size());
      rows.push_back(std::move(trace_.rows[old]));
    }
    trace_.rows = std::move(rows);
    for (Task& t : trace_.tasks) t.row = new_index[t.row];
  }

  // Each row's task count, failures and busy time (the union of its tasks' intervals).
  void measure() {
    auto& tasks = trace_.tasks;
    std::sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) {
      return a.row != b.row ? a.row < b.row : a.start < b.start;
    });
    for (std::size_t i = 0; i < tasks.size();) {
      Row& row = trace_.rows[tasks[i].row];
      double start = tasks[i].start, end = tasks[i].end;
      for (; i < tasks.size() && &trace_.rows[tasks[i].row] == &row; ++i) {
        ++row.tasks;
        if (!tasks[i].ok) ++row.failed;
        if (tasks[i].start > end) {
          row.busy += end - start;
          start = tasks[i].start;
        }
        end = std::max(end, tasks[i].end);
      }
      row.busy += end - start;
    }
  }

  Trace trace_;
  bool saw_events_ = false;
  std::map<std::pair<long, std::string>, std::uint32_t> row_index_;
  std::map<std::string, std::uint32_t> call_index_;
  std::map<long, std::string> host_of_pid_;
  std::vector<std::pair<long, long>> engine_threads_;  // (pid, engine id)
  std::string program_name_;                           // pid 0's
};

}  // namespace

Trace read(const std::string& path) { return Reader().read(path); }

}  // namespace ranks::cli::trace
