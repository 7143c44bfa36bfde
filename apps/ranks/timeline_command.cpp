#include "timeline_command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "ranks/error.hpp"
#include "timeline_trace.hpp"

extern char** environ;

namespace ranks::cli {

namespace {

namespace fs = std::filesystem;
using trace::Row;
using trace::Task;
using trace::Trace;

[[noreturn]] void fail(const std::string& message) { throw Error(message); }

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

std::string percent(double fraction) { return fixed(100 * fraction, 1) + "%"; }

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The run's start and length (microseconds): the "run" event's, or else the tasks' span.
struct Span {
  double start = 0;
  double length = 0;
};

Span run_span(const Trace& t) {
  if (t.run_dur && *t.run_dur > 0) return {t.run_start.value_or(0), *t.run_dur};
  double first = t.tasks.front().start, last = t.tasks.front().end;
  for (const Task& k : t.tasks) {
    first = std::min(first, k.start);
    last = std::max(last, k.end);
  }
  return {0, last - first};  // ts count from the run's start even when its event is missing
}

double busy_fraction(double busy, double length) { return length > 0 ? busy / length : 0; }

std::string summary(const Trace& t, const Span& run) {
  std::size_t failed = 0;
  for (const Row& r : t.rows) failed += r.failed;
  std::string s = fixed(run.length / 1e6, 3) + " s, " + plural(t.tasks.size(), "task") + " on " +
                  plural(t.rows.size(), "engine");
  if (failed > 0) s += ", " + std::to_string(failed) + " failed";
  return s;
}

// Per engine its tasks, busy seconds and busy fraction, then the totals.
void print_table(const Trace& t, const Span& run) {
  std::size_t host_width = 4, failed = 0;
  double busy = 0;
  bool any_lost = false;
  for (const Row& r : t.rows) {
    host_width = std::max(host_width, r.host.size());
    failed += r.failed;
    busy += r.busy;
    any_lost = any_lost || r.lost.has_value();
  }
  const auto line = [&](const std::string& engine, const std::string& host,
                        const std::string& tasks, const std::string& failed_tasks,
                        const std::string& seconds, const std::string& fraction,
                        const std::string& lost) {
    std::ostringstream l;
    l << std::right << std::setw(6) << engine << "  " << std::left
      << std::setw(static_cast<int>(host_width)) << host << std::right << std::setw(9) << tasks
      << std::setw(8) << failed_tasks << std::setw(11) << seconds << std::setw(8) << fraction;
    if (any_lost) l << std::setw(11) << lost;
    const std::string text = l.str();
    std::cout << text.substr(0, text.find_last_not_of(' ') + 1) << "\n";
  };
  line("engine", "host", "tasks", "failed", "busy s", "busy", "lost at s");
  for (const Row& r : t.rows)
    line(std::to_string(r.engine), r.host, std::to_string(r.tasks), std::to_string(r.failed),
         fixed(r.busy / 1e6, 3), percent(busy_fraction(r.busy, run.length)),
         r.lost ? fixed((*r.lost - run.start) / 1e6, 3) : "");
  line("total", "", std::to_string(t.tasks.size()), std::to_string(failed), fixed(busy / 1e6, 3),
       percent(busy_fraction(busy, run.length * static_cast<double>(t.rows.size()))), "");
}

// A directory of its own for gnuplot's script and data, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ranks-timeline.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      fail("cannot make a temporary directory in " + pattern.substr(0, pattern.rfind('/')) + ": " +
           std::strerror(errno) + "; set TMPDIR to a writable directory");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes through a large buffer: a million lines must not cost a million writes.
class DataFile {
 public:
  explicit DataFile(const std::string& path) : out_(std::fopen(path.c_str(), "w")), path_(path) {
    if (!out_) fail("cannot write " + path + ": " + std::strerror(errno));
    buffer_.reserve(kFlushAt + 256);
  }
  ~DataFile() {
    if (out_) std::fclose(out_);
  }
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;

  // Microseconds as seconds, to the microsecond.
  void seconds(double us) {
    char text[64];
    const auto end = std::to_chars(text, text + sizeof text, us / 1e6, std::chars_format::fixed, 6);
    buffer_.append(text, end.ptr).push_back(' ');
  }
  void row(std::uint32_t r) { buffer_.append(std::to_string(r)).push_back('\n'); }
  // After row(): one more column on its line, a colour (0xRRGGBB, for `lc rgb variable`).
  void colour(unsigned rgb) {
    buffer_.back() = ' ';
    buffer_.append(std::to_string(rgb)).push_back('\n');
  }
  void end_line() {
    if (buffer_.size() >= kFlushAt) flush();
  }
  void close() {
    flush();
    const bool failed = std::fclose(out_) != 0;
    out_ = nullptr;
    if (failed) fail("cannot write " + path_ + ": " + std::strerror(errno));
  }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  void flush() {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size())
      fail("cannot write " + path_ + ": " + std::strerror(errno));
    buffer_.clear();
  }
  std::FILE* out_;
  std::string path_;
  std::string buffer_;
};

// Each call's colour, and a lighter one: a row's tasks take them in turn, so that one task ends
// visibly where the next begins.
constexpr std::array<std::pair<unsigned, unsigned>, 8> kCallColours{{{0x4477aa, 0x6f9bc8},
                                                                     {0x228833, 0x52b062},
                                                                     {0xee7733, 0xf4a373},
                                                                     {0xaa3377, 0xc8689e},
                                                                     {0x009988, 0x4dbdb1},
                                                                     {0x997700, 0xc4a340},
                                                                     {0x6f4e9c, 0x9a7fc2},
                                                                     {0x555555, 0x8a8a8a}}};
constexpr unsigned kFailedColour = 0xcc3311;

// Lines "start end row colour" in seconds from the run's start, the tasks that failed or the
// others (coloured by call).
std::size_t write_boxes(const std::string& path, const Trace& t, const Span& run, bool ok) {
  DataFile out(path);
  std::size_t n = 0;
  std::vector<unsigned> turn(t.rows.size(), 0);
  for (const Task& k : t.tasks) {
    if (k.ok != ok) continue;
    out.seconds(k.start - run.start);
    out.seconds(k.end - run.start);
    out.row(k.row);
    const auto& [dark, light] = kCallColours[k.call % kCallColours.size()];
    out.colour(ok ? (turn[k.row]++ % 2 == 0 ? dark : light) : kFailedColour);
    out.end_line();
    ++n;
  }
  out.close();
  return n;
}

// Lines "time row": where an engine was lost.
std::size_t write_losses(const std::string& path, const Trace& t, const Span& run) {
  DataFile out(path);
  std::size_t n = 0;
  for (std::uint32_t r = 0; r < t.rows.size(); ++r) {
    if (!t.rows[r].lost) continue;
    out.seconds(*t.rows[r].lost - run.start);
    out.row(r);
    ++n;
  }
  out.close();
  return n;
}

// A gnuplot string: single quotes, where only a doubled quote is special.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\n') continue;
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A tic label is a format: its own % are doubled.
std::string format_text(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '%' ? "%%" : std::string(1, c);
  return out;
}

int chart_height(const TimelineOptions& o, std::size_t rows) {
  if (o.height > 0) return o.height;
  return static_cast<int>(std::clamp<std::size_t>(140 + 26 * rows, 360, 2400));
}

// One label per row ("engine 2 (node0) 87%"), or every k-th where rows would overlap.
std::string ytics(const Trace& t, const Span& run, int height) {
  const std::size_t fit = static_cast<std::size_t>(std::max(1, (height - 140) / 12));
  const std::size_t every = (t.rows.size() + fit - 1) / fit;
  std::string tics = "set ytics nomirror scale 0 (";
  for (std::size_t r = 0; r < t.rows.size(); r += every) {
    const Row& row = t.rows[r];
    const long pct = std::lround(100 * busy_fraction(row.busy, run.length));
    if (r > 0) tics += ", \\\n  ";
    tics += quoted(format_text("engine " + std::to_string(row.engine) + " (" + row.host + ") ") +
                   std::to_string(pct) + "%%") +
            " " + std::to_string(r);
  }
  return tics + ")\n";
}

struct DataFiles {
  std::string ok, failed, lost;  // empty: nothing to draw
};

std::string gnuplot_script(const TimelineOptions& o, const Trace& t, const Span& run,
                           const DataFiles& data, const std::string& png) {
  double last = run.start + run.length;
  for (const Task& k : t.tasks) last = std::max(last, k.end);
  const double x_max = std::max((last - run.start) / 1e6, 1e-6);
  const int height = chart_height(o, t.rows.size());
  const std::string size = std::to_string(o.width) + "," + std::to_string(height);
  const std::string box = "using (($1+$2)/2):3:1:2:($3-0.35):($3+0.35):4 with boxxyerror lw 0.5";
  std::ostringstream s;
  s << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
    << "  set terminal pngcairo size " << size << " noenhanced font ',10'\n"
    << "} else {\n"
    << "  set terminal png size " << size << " noenhanced\n"
    << "}\n"
    << "set output " << quoted(png) << "\n"
    << "set title " << quoted(t.program + ": " + summary(t, run)) << "\n"
    << "set xlabel 'seconds from the start of the run'\n"
    << "set xrange [0:" << fixed(x_max, 6) << "]\n"
    << "set yrange [" << t.rows.size() << "-0.5:-0.5]\n"
    << ytics(t, run, height) << "set xtics nomirror\nset grid xtics\nset border 3\n"
    << "set key below horizontal height 1.5\n"
    // A border in the box's colour: a task shorter than a pixel still shows, in its colour
    // (thousands of them, filled only, blend into another hue).
    << "set style fill solid 1.0 border\n";
  std::vector<std::string> plots;
  if (!data.ok.empty()) plots.push_back(quoted(data.ok) + " " + box + " lc rgb variable notitle");
  if (!data.failed.empty())
    plots.push_back(quoted(data.failed) + " " + box + " lc rgb variable notitle");
  // The key: the first calls by their colour, and failed tasks.
  constexpr std::size_t kKeyed = 6;
  for (std::size_t c = 0; c < std::min(t.calls.size(), kKeyed); ++c) {
    char colour[16];
    std::snprintf(colour, sizeof colour, "#%06x", kCallColours[c % kCallColours.size()].first);
    plots.push_back("keyentry with boxes lc rgb '" + std::string(colour) + "' t " +
                    quoted(t.calls[c]));
  }
  if (t.calls.size() > kKeyed)
    plots.push_back("keyentry with boxes lc rgb 'white' t " +
                    quoted("and " + std::to_string(t.calls.size() - kKeyed) + " calls more"));
  if (!data.failed.empty()) plots.emplace_back("keyentry with boxes lc rgb '#cc3311' t 'failed'");
  if (!data.lost.empty())
    plots.push_back(quoted(data.lost) +
                    " using 1:2 with points pt 2 ps 2 lw 2 lc rgb 'black' t 'engine lost'");
  s << "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) s << (i ? ", \\\n  " : "") << plots[i];
  s << "\n";
  return s.str();
}

std::string contents(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `gnuplot script`, its output in log; fails with what gnuplot said.
void run_gnuplot(const std::string& script, const std::string& log) {
  posix_spawn_file_actions_t io;
  ::posix_spawn_file_actions_init(&io);
  ::posix_spawn_file_actions_addopen(&io, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&io, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::posix_spawn_file_actions_adddup2(&io, 1, 2);
  std::string program = "gnuplot";
  std::vector<char*> argv{program.data(), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "gnuplot", &io, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&io);
  if (rc == ENOENT)
    fail("gnuplot is not installed (or not on PATH); install it: apt install gnuplot-nox");
  if (rc != 0) fail(std::string("cannot run gnuplot: ") + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail(std::string("waiting for gnuplot: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string how = WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  fail("gnuplot " + how + " while drawing the chart; it said:\n" + contents(log));
}

// Says at once, before the work, that the chart could not be written there.
void check_writable(const std::string& output) {
  const fs::path out(output);
  std::error_code ec;
  if (fs::is_directory(out, ec)) fail(output + " is a directory; give -o a file name (run.png)");
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const bool exists = fs::exists(out, ec);
  if (!exists && !fs::is_directory(dir, ec))
    fail("cannot write " + output + ": the directory " + dir.string() + " does not exist");
  if (::access(exists ? output.c_str() : dir.c_str(), W_OK) != 0)
    fail("cannot write " + output + ": " + std::strerror(errno));
}

void draw_chart(const TimelineOptions& o, const Trace& t, const Span& run) {
  TempDir dir;
  DataFiles data;
  if (write_boxes(dir.file("ok.dat"), t, run, true) > 0) data.ok = dir.file("ok.dat");
  if (write_boxes(dir.file("failed.dat"), t, run, false) > 0) data.failed = dir.file("failed.dat");
  if (write_losses(dir.file("lost.dat"), t, run) > 0) data.lost = dir.file("lost.dat");
  const std::string png = dir.file("chart.png");
  {
    std::ofstream script(dir.file("chart.gp"));
    script << gnuplot_script(o, t, run, data, png);
    if (!script) fail("cannot write " + dir.file("chart.gp"));
  }
  run_gnuplot(dir.file("chart.gp"), dir.file("gnuplot.log"));
  std::error_code ec;
  if (fs::file_size(png, ec) == 0 || ec)
    fail("gnuplot drew no chart; it said:\n" + contents(dir.file("gnuplot.log")));
  fs::copy_file(png, o.output, fs::copy_options::overwrite_existing, ec);
  if (ec) fail("cannot write " + o.output + ": " + ec.message());
}

}  // namespace

int timeline(const TimelineOptions& o) {
  check_writable(o.output);
  Trace t = trace::read(o.file);
  if (t.cut_short)
    std::cerr << "ranks: " << o.file
              << " was cut short (the program ended before it closed the trace, or still runs); "
                 "showing the "
              << t.tasks.size() << " tasks written before the cut\n";
  if (t.unreadable > 0)
    std::cerr << "ranks: skipped " << plural(t.unreadable, "task event")
              << " without a number for ts and dur\n";
  const Span run = run_span(t);
  std::cout << o.file << ": " << t.program << ", " << summary(t, run) << "\n";
  print_table(t, run);
  draw_chart(o, t, run);
  std::cout << "wrote " << o.output << "\n";
  return 0;
}

}  // namespace ranks::cli
