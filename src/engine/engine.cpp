#include "engine/engine.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

#include "base/host.hpp"
#include "base/log.hpp"
#include "base/symbols.hpp"
#include "engine/answer.hpp"
#include "engine/output_capture.hpp"
#include "engine/pipe_ends.hpp"
#include "engine/progress_notes.hpp"
#include "ranks/detail/error_report.hpp"
#include "ranks/detail/registry.hpp"
#include "ranks/error.hpp"
#include "registry/registry_table.hpp"
#include "transport/channel.hpp"
#include "transport/lifeline.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

namespace {
int g_engine_id = -1;
transport::Outbox* g_outbox = nullptr;  // the serving engine's sends
// A message of a running task's to the controller, now.
void send_note(Message&& m) { serving_answer()->send(std::move(m)); }
}  // namespace

int current_engine_id() noexcept { return g_engine_id; }

namespace {
std::string g_in_place_since;  // when this engine was started in place of a lost one (UTC)
}  // namespace

void engine_started_in_place() {
  if (!g_in_place_since.empty()) return;
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  g_in_place_since = buf;
}

std::string in_place_note() {
  if (g_in_place_since.empty()) return {};
  return "engine " + std::to_string(g_engine_id) + " stands in for a lost engine since " +
         g_in_place_since + ": what was pushed or set before then is not in it";
}

void finish_sends() {
  if (g_outbox == nullptr) return;
  // What the receiver has taken completes within microseconds (its acknowledgement is on the
  // way); a send it has not started on is left, after 200 us, to finish in its own time.
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  while (!g_outbox->empty() && std::chrono::steady_clock::now() < until) g_outbox->progress();
}

namespace {

using Clock = std::chrono::steady_clock;

// What the engine is running, for the last words of a crash: found before the task runs, since
// a signal handler may only read it (dladdr and strsignal are not async-signal-safe).
std::atomic<const char*> g_task_type{nullptr};
std::atomic<const char*> g_task_symbol{nullptr};

// The fatal signals' names, copied before any arrives.
constexpr std::array kFatalSignals{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
std::array<std::array<char, 48>, kFatalSignals.size()> g_signal_names{};

const char* signal_name(int sig) {
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i)
    if (kFatalSignals[i] == sig) return g_signal_names[i].data();
  return "a signal";
}

// A line built in place by a signal handler: appends copy bytes, nothing allocates, and the
// line goes out in one write(2), so that two engines that crash together do not interleave
// their words (a pipe takes up to PIPE_BUF bytes in one piece).
class CrashLine {
 public:
  CrashLine& operator<<(const char* s) {
    for (; s && *s && n_ < sizeof buf_ - 1; ++s) buf_[n_++] = *s;
    return *this;
  }
  CrashLine& operator<<(int v) {
    char digits[16];
    int i = 0;
    unsigned u = v < 0 ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
    do {
      digits[i++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u > 0 && i < 15);
    if (v < 0 && n_ < sizeof buf_ - 1) buf_[n_++] = '-';
    while (i > 0 && n_ < sizeof buf_ - 1) buf_[n_++] = digits[--i];
    return *this;
  }
  void write() {
    buf_[n_++] = '\n';
    (void)!::write(STDERR_FILENO, buf_, n_);
  }

 private:
  char buf_[1024];
  std::size_t n_ = 0;
};

// A fatal signal in a task: say which engine and which task, tell the controller which signal
// (on the life line, where there is one), then die of the same signal.
void on_fatal_signal(int sig) {
  lifeline::last_words(sig);
  CrashLine line;
  line << kPrefix.data() << "engine " << g_engine_id << " died of " << signal_name(sig);
  if (const char* type = g_task_type.load()) {
    line << " while running a task of type " << type;
    if (const char* symbol = g_task_symbol.load()) line << " (function " << symbol << ")";
  } else {
    line << " between tasks";
  }
  line.write();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Asked to end (Process::terminate, mpirun ending the job): no words on stderr, only the signal
// on the life line.
void on_terminate(int sig) {
  lifeline::last_words(sig);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_crash_handlers() {
  const auto handle = [](int sig, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, nullptr);
  };
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    const char* name = strsignal(kFatalSignals[i]);
    std::strncpy(g_signal_names[i].data(), name ? name : "a signal", g_signal_names[i].size() - 1);
    handle(kFatalSignals[i], on_fatal_signal);
  }
  handle(SIGTERM, on_terminate);
}

// An engine allocates the same large arguments and results task after task. glibc maps every
// block over 32 MiB afresh and unmaps it when freed, so each task would fault in and zero its
// pages again (slower than moving the bytes). Blocks up to 256 MiB come from the heap instead,
// and up to 256 MiB of free heap is kept for the next task. RANKS_ENGINE_MALLOC=default keeps
// glibc's own policy.
void keep_large_blocks() {
  if (const char* v = std::getenv("RANKS_ENGINE_MALLOC"); v && std::strcmp(v, "default") == 0)
    return;
  constexpr int kKeep = 256 << 20;
  mallopt(M_MMAP_THRESHOLD, kKeep);
  mallopt(M_TRIM_THRESHOLD, kKeep);
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs one invoker; the result (or the error report) goes to out, and how it went to the
// outcome, the one record of it that travels.
Outcome execute(const TaskHeader& h, Reader& in, Reader& items, Writer& out,
                std::shared_ptr<const void>& keep) {
  Outcome o;
  o.engine = g_engine_id;
  o.started_ns = wall_ns();
  const auto t0 = Clock::now();
  const std::size_t mark = out.size();
  const std::size_t attached = out.attachment_count();
  std::int64_t item = -1;
  try {
    InvokeFn fn = find_invoker(h.invoker);
    if (fn == nullptr)
      throw Error("the engine does not know task id " + std::to_string(h.invoker) +
                  " (controller and engine differ?)");
    const void* f = nullptr;
    if (h.fn.module != 0) {
      f = resolve_function(h.fn);
      if (f == nullptr)
        throw Error("the engine could not verify the function it was sent; refusing it");
    }
    InvokeContext ctx{h, in, items, out, f, -1, nullptr};
    arm_progress_notes(ctx, serving_answer() ? &send_note : nullptr);
    g_task_type.store(task_name(h.invoker), std::memory_order_relaxed);
    g_task_symbol.store(function_symbol(f), std::memory_order_relaxed);
    try {
      fn(ctx);
      finish_object_calls();  // a put the task did not wait for fails the task
      keep = std::move(ctx.keep);
      g_task_type.store(nullptr, std::memory_order_relaxed);
    } catch (...) {
      g_task_type.store(nullptr, std::memory_order_relaxed);
      item = ctx.item;
      try {
        finish_object_calls();  // the task's error is the one reported
      } catch (...) {
      }
      throw;
    }
  } catch (...) {
    const ErrorInfo e = current_error();
    out.truncate(mark, attached);
    keep.reset();
    encode_error(out, e);
    o.ok = 0;
    o.failed_item = item;
  }
  o.result_bytes = out.size() - mark;
  o.busy_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  o.completed_ns = wall_ns();
  // The engine's memory, for the dashboard: read at most once a second (a few microseconds).
  thread_local std::int64_t measured_ns = 0;
  if (o.completed_ns - measured_ns >= 1'000'000'000) {
    measured_ns = o.completed_ns;
    o.rss_bytes = resident_bytes();
  }
  return o;
}

// Runs a task message; its attached arguments are received by the decoder straight into them,
// and a large result is sent from where it lies (the reply keeps it alive).
Message run_task(const TaskHeader& h, const Bytes& msg, AttachmentSource* attachments) {
  Reader in(msg.data() + sizeof(TaskHeader), msg.size() - sizeof(TaskHeader), attachments);
  Message reply;
  reply.bytes.reserve(256);
  Writer w(reply.bytes, &reply.attachments);
  w.skip(sizeof(ReplyHeader));  // written once the task has run
  ReplyHeader rh;
  rh.id = h.id;
  rh.outcome = execute(h, in, in, w, reply.keep);
  place_header(reply.bytes, rh);
  return reply;
}

void run_static(MPI_Comm comm, const TaskHeader& h, const Bytes& msg) {
  Bytes chunk(h.aux);
  if (h.kind == Kind::kStaticMap) {
    transport::scatterv_recv(comm, chunk.data(), static_cast<int>(h.aux));
  } else if (h.aux > 0) {  // kStaticBcast; an empty payload is not broadcast at all
    transport::bcast_recv(comm, chunk.data(), static_cast<int>(h.aux));
  }
  Reader in(msg.data() + sizeof(TaskHeader), msg.size() - sizeof(TaskHeader));
  Reader items(chunk.data(), chunk.size());
  Bytes result;
  Writer w(result);
  std::shared_ptr<const void> keep;
  const Outcome o = execute(h, in, items, w, keep);
  transport::gather_send(comm, &o, sizeof o);
  transport::gatherv_send(comm, result.data(), static_cast<int>(result.size()));
}

// A message of this engine's own (kOutput, kStopped) begun in m: its header written, the writer
// returned for what follows.
Writer note(Message& m, Kind kind) {
  ReplyHeader rh;
  rh.kind = kind;
  rh.outcome.engine = g_engine_id;
  Writer w(m.bytes);
  write_header(w, rh);
  return w;
}

// What a task printed goes out before its result: sent to the controller where the output is
// captured (a started cluster's engine), else flushed for mpirun to pass on.
void pass_output(Answer& answer, OutputCapture* output) {
  if (output == nullptr) {
    std::cout.flush();
    std::fflush(stdout);
    return;
  }
  std::string out, err;
  if (!output->take(out, err)) return;
  Message m;
  Writer w = note(m, Kind::kOutput);
  encode(w, out);
  encode(w, err);
  answer.send(std::move(m));
}

int serve_loop(MPI_Comm comm, Answer& answer, std::uint64_t* tasks, OutputCapture* output) {
  // Idle a second, an engine checks every 10 ms: 64 idle engines then cost little of a core,
  // and the first task after a pause waits at most that.
  transport::Backoff backoff(std::chrono::microseconds(2000), std::chrono::microseconds(10000));
  transport::Incoming in;
  KeptMessage kept;
  while (true) {
    // What came while a task waited on a shared object first, in the order it came.
    const bool from_kept = !answer.set_aside.empty();
    if (from_kept) {
      kept = std::move(answer.set_aside.front());
      answer.set_aside.pop_front();
    } else if (!answer.receive(in)) {
      if (take_in_straight(answer)) {  // a pipe's item for a task that has ended: passed on
        backoff.reset();
        continue;
      }
      answer.progress();
      transport::poll_interrupt();
      backoff.pause(!answer.outbox.empty(), answer.channel.get());
      continue;
    }
    backoff.reset();
    Bytes& data = from_kept ? kept.data : in.data;
    AttachmentSource* attachments =
        from_kept ? static_cast<AttachmentSource*>(&kept) : in.attachments();
    const auto h = read_header<TaskHeader>(data);
    switch (h.kind) {
      case Kind::kTask: {
        Message reply = run_task(h, data, attachments);
        pass_output(answer, output);
        answer.send(std::move(reply));
        if (tasks) ++*tasks;
        break;
      }
      case Kind::kStaticMap:
      case Kind::kStaticBcast:
        run_static(comm, h, data);
        pass_output(answer, output);
        if (tasks) ++*tasks;
        break;
      case Kind::kChannel:
        answer.channel = transport::Channel::open(message_text(data), comm, 0);
        break;
      case Kind::kLifeline:
        if (std::string why = lifeline::hold(message_text(data), g_engine_id); !why.empty())
          log_line("engine " + std::to_string(g_engine_id) +
                   " cannot reach its controller for a life line (" + why +
                   "); its death will not be noticed");
        break;
      case Kind::kPipeWord:
      case Kind::kPipeOffer:
      case Kind::kPipeBroken:
      case Kind::kPipeRevoked:
        pipe_message_came(answer, h.kind, data, attachments);
        break;
      case Kind::kStop: {
        lifeline::leaving();
        pass_output(answer, output);
        Message bye;
        note(bye, Kind::kStopped);
        answer.send(std::move(bye));
        answer.drain();
        return static_cast<int>(h.aux);
      }
      default:
        log_line("engine " + std::to_string(g_engine_id) + " got a message of unknown kind " +
                 std::to_string(static_cast<unsigned>(h.kind)) + "; ignoring it");
    }
  }
}

}  // namespace

namespace {
MPI_Comm g_link = MPI_COMM_NULL;
}  // namespace

MPI_Comm engine_link() { return g_link; }

namespace {
std::vector<void (*)()>& session_end_calls() {
  static std::vector<void (*)()> calls;
  return calls;
}
}  // namespace

void at_session_end(void (*fn)()) {
  auto& calls = session_end_calls();
  if (std::find(calls.begin(), calls.end(), fn) == calls.end()) calls.push_back(fn);
}

int serve(MPI_Comm comm, int id, std::uint64_t* tasks, OutputCapture* output) {
  transport::Outbox outbox;
  // What the session sets for its tasks, and takes back however it ends.
  struct Serving {
    Serving(MPI_Comm c, int id, transport::Outbox& o) {
      g_link = c;
      g_engine_id = id;
      g_outbox = &o;
    }
    ~Serving() {
      for (auto* fn : session_end_calls()) fn();
      forget_pipe_paths();
      forget_engine_comms();
      g_link = MPI_COMM_NULL;
      g_engine_id = -1;
      g_outbox = nullptr;
      set_serving_answer(nullptr);
    }
  } serving(comm, id, outbox);
  install_crash_handlers();
  keep_large_blocks();
  Answer answer{comm, outbox, nullptr, {}, {}};
  set_serving_answer(&answer);
  try {
    return serve_loop(comm, answer, tasks, output);
  } catch (const transport::Interrupted&) {
    outbox.abandon();
    throw;
  }
}

}  // namespace ranks::detail
