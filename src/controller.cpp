#include "controller.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>

#include "ranks/error.hpp"
#include "registry_table.hpp"

namespace ranks::detail {

namespace {

Controller* g_controller = nullptr;
bool g_on_engine = false;
thread_local bool t_in_callbacks = false;

using Clock = std::chrono::steady_clock;

// Marks the thread as running callbacks, so a callback that waits does not run others inside.
struct CallbackScope {
  CallbackScope() { t_in_callbacks = true; }
  ~CallbackScope() { t_in_callbacks = false; }
};

}  // namespace

Controller* controller() { return g_controller; }
void set_controller(Controller* c) { g_controller = c; }
bool on_engine() { return g_on_engine; }
void set_on_engine(bool e) { g_on_engine = e; }

struct Controller::Batch::StaticOp {
  std::shared_ptr<StaticJob> job;
  std::shared_ptr<Group> group;
  int stage = 0;  // 0 waiting, 1 scatter + status gather posted, 2 result gather posted
  std::vector<int> counts, displs;
  const std::byte* base = nullptr;
  std::chrono::system_clock::time_point submitted;
  std::vector<StaticStatus> status;
  std::vector<MPI_Request> requests;
  Bytes results;
  std::vector<int> rcounts, rdispls;
};

Controller::Controller(std::string exe, std::vector<std::string> args)
    : exe_(std::move(exe)), args_(std::move(args)) {
  progress_ = std::thread([this] { progress_loop(); });
}

Controller::~Controller() {
  {
    auto lk = lock();
    stopping_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
}

bool Controller::adopt_world() {
  const int n = transport::size(MPI_COMM_WORLD);
  return n <= 1 || adopt(MPI_COMM_WORLD, transport::Spawned{});
}

bool Controller::adopt(MPI_Comm comm, const transport::Spawned& spawned) {
  // The handshake: every engine must run this binary. It also tells which engines share this
  // host, and their pids, so that one that dies there is noticed (watch_engines).
  const int first = static_cast<int>(engines_.size());
  struct Hello {
    Identity id;
    std::int32_t first;
  } hello{identity(), first};
  transport::bcast(comm, &hello, sizeof hello);
  const int n = transport::size(comm);
  std::vector<Identity> seen(static_cast<std::size_t>(n));
  transport::gather(comm, &hello.id, sizeof(Identity), seen.data());
  std::int32_t all_ok = 1;
  for (int r = 1; r < n; ++r) {
    if (seen[r].hash == hello.id.hash) continue;
    all_ok = 0;
    std::cerr << "ranks: engine rank " << r << " runs '" << seen[r].exe
              << "', which is not the controller's binary '" << hello.id.exe
              << "' (or was built differently); every rank must run the same executable: "
                 "check the mpirun command line or hostfile"
              << std::endl;
  }
  transport::bcast(comm, &all_ok, sizeof all_ok);
  if (!all_ok) return false;
  Batch b;
  b.comm = comm;
  b.spawned = spawned;
  b.first = first;
  b.count = n - 1;
  batches_.push_back(std::move(b));
  const int index = static_cast<int>(batches_.size()) - 1;
  for (int r = 1; r < n; ++r) {
    const bool here = std::strncmp(seen[r].host, hello.id.host, sizeof hello.id.host) == 0;
    engines_.push_back({index, r, 0, here ? seen[r].pid : 0});
  }
  return true;
}

void Controller::spawn(int n) {
  // Some batch systems' MPIs hang or fail slowly on MPI_Comm_spawn: RANKS_SPAWN=0 forbids it.
  if (const char* allow = std::getenv("RANKS_SPAWN"); allow && std::string(allow) == "0")
    throw Error("spawning is turned off (RANKS_SPAWN=0)");
  transport::Spawned s = transport::spawn(n, exe_, args_);
  if (!adopt(s.merged, s)) {
    transport::release(s);
    throw Error("ranks: the spawned engines run a different binary");
  }
}

std::shared_ptr<Group> Controller::make_group(int n, const char* who) {
  auto lk = lock();
  const int have = static_cast<int>(engines_.size());
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = n < 0 ? (have > 0 ? have : cores) : n;
  if (want > have) {
    try {
      spawn(want - have);
    } catch (const Error& e) {
      throw Error(std::string("ranks: ") + who + " needs " + std::to_string(want) +
                  " engines but the job has " + std::to_string(have) + ", and spawning " +
                  std::to_string(want - have) + " more failed (" + e.what() +
                  "); launch with more ranks, e.g. mpirun -np " + std::to_string(want + 1));
    }
  }
  auto g = std::make_shared<Group>();
  for (int e = 0; e < want; ++e) g->engines.push_back(e);
  groups_.push_back(g);
  return g;
}

std::shared_ptr<Group> Controller::group_of(const std::vector<int>& engines, const char* who) {
  auto lk = lock();
  const int n = static_cast<int>(engines_.size());
  for (int e : engines)
    if (e < 0 || e >= n)
      throw Error(std::string("ranks: ") + who + ": engine " + std::to_string(e) +
                  " does not exist; ids are 0.." + std::to_string(n - 1));
  auto g = std::make_shared<Group>();
  g->engines = engines;
  groups_.push_back(g);
  return g;
}

std::shared_ptr<Group> Controller::default_group() {
  {
    auto lk = lock();
    if (default_group_ && !engines_.empty() && default_group_->engines.size() == engines_.size())
      return default_group_;
  }
  auto g = make_group(-1, "ranks::Process");
  auto lk = lock();
  default_group_ = g;
  return g;
}

void Controller::send(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
                      std::shared_ptr<Group> g) {
  const std::uint64_t id = next_id_++;
  std::memcpy(msg.bytes.data() + offsetof(TaskHeader, id), &id, sizeof id);
  auto& e = engines_[static_cast<std::size_t>(engine)];
  ++e.inflight;
  if (g) ++g->inflight;
  std::uint32_t invoker = 0;
  std::memcpy(&invoker, msg.bytes.data() + offsetof(TaskHeader, invoker), sizeof invoker);
  inflight_.emplace(id, Inflight{std::move(job), key, engine, std::move(g),
                                 std::chrono::system_clock::now(), invoker});
  const Batch& b = batches_[static_cast<std::size_t>(e.batch)];
  outbox_.send(b.comm, e.rank, std::move(msg));
}

void Controller::dispatch(Group& g) {
  const int workers = static_cast<int>(g.engines.size());
  while (!g.queue.empty()) {
    auto job = g.queue.front();
    if (!job->has_next()) {
      g.queue.pop_front();
      continue;
    }
    const int depth = job->depth();
    int best = -1;
    for (int e : g.engines) {
      if (!job->wants(e, workers)) continue;
      const int load = engines_[static_cast<std::size_t>(e)].inflight;
      if (load < depth && (best < 0 || load < engines_[static_cast<std::size_t>(best)].inflight))
        best = e;
    }
    if (best < 0) return;
    Message msg;
    const std::uint64_t key = job->next(msg, workers, depth, best);
    send(best, std::move(msg), job, key, g.shared_from_this());
    if (!job->has_next()) g.queue.pop_front();
  }
}

void Controller::dispatch_all() {
  for (std::size_t i = 0; i < groups_.size();) {
    auto g = groups_[i].lock();
    if (!g) {
      groups_[i] = groups_.back();
      groups_.pop_back();
      continue;
    }
    if (!g->queue.empty()) dispatch(*g);
    ++i;
  }
}

void Controller::submit(Group& g, std::shared_ptr<DynamicJob> job) {
  auto lk = lock();
  if (!job->has_next()) return;  // nothing to do (an empty map is already complete)
  g.queue.push_back(std::move(job));
  dispatch(g);
  wake_progress();
}

void Controller::submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key,
                           std::shared_ptr<Group> g) {
  auto lk = lock();
  if (engine < 0 || engine >= static_cast<int>(engines_.size()))
    throw Error("ranks: engine " + std::to_string(engine) + " does not exist; ids are 0.." +
                std::to_string(static_cast<int>(engines_.size()) - 1));
  send(engine, std::move(msg), std::move(job), key, std::move(g));
  wake_progress();
}

void Controller::submit_static(Group& g, std::shared_ptr<StaticJob> job) {
  auto lk = lock();
  const std::size_t w = g.engines.size();
  // One collective when the group is exactly the engines of one communicator and the slots lie
  // in one buffer that MPI's int counts can describe; otherwise one message per engine.
  const auto& first = engines_[static_cast<std::size_t>(g.engines.front())];
  Batch& b = batches_[static_cast<std::size_t>(first.batch)];
  bool collective = static_cast<int>(w) == b.count;
  for (std::size_t i = 0; collective && i < w; ++i)
    collective = g.engines[i] == b.first + static_cast<int>(i);
  const std::byte* base = nullptr;
  for (std::size_t i = 0; collective && i < w; ++i) {
    auto s = job->items(i);
    if (s.empty()) continue;
    if (!base) base = s.data();
    const auto off = s.data() - base;
    collective =
        off >= 0 && off + static_cast<std::ptrdiff_t>(s.size()) < std::numeric_limits<int>::max();
  }
  auto group = g.shared_from_this();
  if (!collective) {
    for (std::size_t i = 0; i < w; ++i) {
      Bytes msg = job->control(i);
      auto items = job->items(i);
      msg.insert(msg.end(), items.begin(), items.end());
      seal(msg);
      send(g.engines[i], Message(std::move(msg)), job, i, group);
    }
  } else {
    // The control messages go out now, so that each engine sees its work in submission order
    // (a later point-to-point task cannot overtake it); the collectives are posted in turn.
    auto op = std::make_shared<Batch::StaticOp>();
    op->job = std::move(job);
    op->group = group;
    op->submitted = std::chrono::system_clock::now();
    const bool shared = op->job->shared();
    op->counts.assign(w + 1, 0);
    op->displs.assign(w + 1, 0);
    for (std::size_t i = 0; i < w; ++i) {
      auto s = op->job->items(i);
      if (!s.empty()) {
        if (!op->base) op->base = s.data();
        op->counts[i + 1] = static_cast<int>(s.size());
        op->displs[i + 1] = static_cast<int>(s.data() - op->base);
      }
      Bytes msg = op->job->control(i);
      auto h = read_header<TaskHeader>(msg);
      h.kind = shared ? Kind::kStaticBcast : Kind::kStaticMap;
      h.aux = static_cast<std::uint64_t>(op->counts[i + 1]);
      patch_header(msg, h);
      seal(msg);
      outbox_.send(b.comm, static_cast<int>(i) + 1, Message(std::move(msg)));
    }
    for (int e : g.engines) ++engines_[static_cast<std::size_t>(e)].inflight;
    group->inflight += w;
    b.statics.push_back(op);
    if (b.statics.size() == 1) start_static(b);
  }
  wake_progress();
}

void Controller::start_static(Batch& b) {
  auto& op = *b.statics.front();
  const auto n = static_cast<std::size_t>(b.count) + 1;
  op.status.assign(n, StaticStatus{});
  op.requests.clear();
  if (!op.job->shared()) {
    op.requests.push_back(transport::iscatterv(b.comm, op.base, op.counts, op.displs));
  } else if (op.counts[1] > 0) {
    op.requests.push_back(transport::ibcast(b.comm, op.base, op.counts[1]));
  }
  op.requests.push_back(transport::igather(b.comm, op.status.data(), sizeof(StaticStatus)));
  op.stage = 1;
}

bool Controller::progress_static(Batch& b) {
  auto op = b.statics.front();
  if (!transport::test_all(op->requests)) return false;
  const auto n = static_cast<std::size_t>(b.count) + 1;
  if (op->stage == 1) {
    op->rcounts.assign(n, 0);
    op->rdispls.assign(n, 0);
    std::size_t total = 0;
    for (std::size_t i = 1; i < n; ++i) {
      op->rcounts[i] = static_cast<int>(op->status[i].bytes);
      op->rdispls[i] = static_cast<int>(total);
      total += static_cast<std::size_t>(op->status[i].bytes);
    }
    op->results.resize(total);
    op->requests = {transport::igatherv(b.comm, op->results.data(), op->rcounts, op->rdispls)};
    op->stage = 2;
    return true;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const int engine = b.first + static_cast<int>(i) - 1;
    Reply r;
    r.engine = engine;
    r.ok = op->status[i].failed_item == -2;
    r.failed_item = r.ok ? -1 : op->status[i].failed_item;
    r.submitted = op->submitted;
    r.started_ns = op->status[i].started_ns;
    r.completed_ns = op->status[i].completed_ns;
    r.payload =
        Reader(op->results.data() + op->rdispls[i], static_cast<std::size_t>(op->rcounts[i]));
    --engines_[static_cast<std::size_t>(engine)].inflight;
    --op->group->inflight;
    op->job->deliver(i - 1, r);
  }
  b.statics.pop_front();
  if (!b.statics.empty()) start_static(b);
  return true;
}

void Controller::drop_queued(Group& g, const std::exception_ptr& why) {
  for (auto& job : g.queue) job->cancel(why);
  g.queue.clear();
}

void Controller::handle(Batch& b, transport::Incoming& in) {
  const auto h = read_header<ReplyHeader>(in.data);
  if (h.kind == Kind::kStopped) {
    ++stopped_;
    return;
  }
  auto it = inflight_.find(h.id);
  if (it == inflight_.end()) return;
  Inflight f = std::move(it->second);
  inflight_.erase(it);
  --engines_[static_cast<std::size_t>(f.engine)].inflight;
  if (f.group) --f.group->inflight;
  Reply r;
  r.engine = b.first + in.source - 1;
  r.ok = h.ok != 0;
  r.failed_item = h.failed_item;
  r.busy_ns = h.busy_ns;
  r.submitted = f.submitted;
  r.started_ns = h.started_ns;
  r.completed_ns = h.completed_ns;
  // The job decodes the reply here, receiving any attached data straight into its result.
  r.payload = Reader(in.data.data() + sizeof(ReplyHeader), in.data.size() - sizeof(ReplyHeader),
                     in.attachments());
  f.job->note_busy(h.busy_ns);
  f.job->deliver(f.key, r);
  requeue(f);
}

void Controller::requeue(const Inflight& f) {
  // A dynamic job that got a part back to retry has work again: queue it, once.
  if (!f.group) return;
  auto d = std::dynamic_pointer_cast<DynamicJob>(f.job);
  if (!d || !d->has_next()) return;
  auto& q = f.group->queue;
  if (std::find(q.begin(), q.end(), d) == q.end()) q.push_back(std::move(d));
}

bool Controller::poll() {
  outbox_.progress();
  bool any = false;
  for (auto& b : batches_) {
    while (transport::try_recv(b.comm, MPI_ANY_SOURCE, incoming_)) {
      any = true;
      handle(b, incoming_);
    }
    if (!b.statics.empty() && progress_static(b)) any = true;
  }
  if (any) dispatch_all();
  // The receive buffer is kept between polls (no page faults for every large reply), unless huge.
  if (incoming_.data.capacity() > (std::size_t{256} << 20)) incoming_.data = Bytes();
  return any;
}

bool Controller::busy() const {
  if (!inflight_.empty() || !callbacks_.empty() || !outbox_.empty()) return true;
  for (const auto& b : batches_)
    if (!b.statics.empty()) return true;
  return false;
}

namespace {
// Whether a process of this host still runs (a zombie has died: its parent has yet to reap it).
bool alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X';
}
}  // namespace

void Controller::watch_engines() {
  const auto now = Clock::now();
  if (stopping_ || now - last_watch_ < std::chrono::milliseconds(200)) return;
  last_watch_ = now;
  for (std::size_t e = 0; e < engines_.size(); ++e) {
    const int pid = engines_[e].local_pid;
    if (pid == 0 || alive(pid)) continue;
    std::string tasks;
    for (const auto& [id, f] : inflight_)
      if (static_cast<std::size_t>(f.engine) == e)
        tasks += std::string(tasks.empty() ? "" : ", ") + task_name(f.invoker);
    std::cerr << "ranks: engine " << e << " (pid " << pid << ") died "
              << (tasks.empty() ? "while idle" : "while running a task of type " + tasks)
              << " (killed, out of memory, or crashed); ending the job" << std::endl;
    transport::abort(1, batches_[static_cast<std::size_t>(engines_[e].batch)].comm);
  }
}

void Controller::run_callbacks() {
  if (t_in_callbacks) return;
  std::unique_lock<std::mutex> cb(callback_mu_, std::try_to_lock);
  if (!cb.owns_lock()) return;
  CallbackScope scope;
  while (true) {
    std::vector<std::function<void()>> batch;
    {
      auto lk = lock();
      batch.swap(callbacks_);
    }
    if (batch.empty()) return;
    for (auto& fn : batch) {
      try {
        fn();
      } catch (const std::exception& e) {
        std::cerr << "ranks: a result callback threw: " << e.what() << std::endl;
      }
    }
  }
}

bool Controller::wait_until(const std::function<bool()>& done,
                            std::optional<Clock::time_point> deadline) {
  struct Waiting {
    Controller& c;
    explicit Waiting(Controller& c) : c(c) {
      auto lk = c.lock();
      ++c.waiters_;
    }
    ~Waiting() {
      auto lk = c.lock();
      --c.waiters_;
    }
  } waiting(*this);
  transport::Backoff backoff(std::chrono::microseconds(1000));
  bool ok = true;
  while (!done()) {
    if (deadline && Clock::now() >= *deadline) {
      ok = false;
      break;
    }
    bool any = false;
    {
      auto lk = lock();
      any = poll();
      if (!any) watch_engines();
    }
    run_callbacks();
    if (any) {
      backoff.reset();
    } else {
      backoff.pause();
    }
  }
  // Callbacks of what just finished run before the caller goes on (they may use its locals).
  if (!t_in_callbacks) {
    while (true) {
      {
        auto lk = lock();
        if (callbacks_.empty()) break;
      }
      run_callbacks();
      std::this_thread::yield();
    }
  }
  return ok;
}

void Controller::progress_loop() {
  // Keeps results moving while no caller waits. It never spins: a caller that waits drives
  // progress itself (a thread hand-off costs more than an MPI round trip), so this thread
  // polls at a growing interval and is woken only from a deep sleep: waking it for every
  // submit would steal a core from the engines on a small machine.
  using std::chrono::microseconds;
  microseconds pause(200);
  auto last_active = Clock::now();
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    if (waiters_ > 0 || !busy()) {
      if (waiters_ > 0) {
        cv_.wait_for(lk, std::chrono::milliseconds(10));  // the caller polls; look in later
      } else if (Clock::now() - last_active < std::chrono::seconds(1)) {
        cv_.wait_for(lk, std::chrono::milliseconds(1));
      } else {
        deep_sleep_ = true;
        cv_.wait_for(lk, std::chrono::milliseconds(100));
        deep_sleep_ = false;
      }
      if (waiters_ > 0) last_active = Clock::now();
      if (waiters_ == 0) watch_engines();
      pause = microseconds(200);
      continue;
    }
    last_active = Clock::now();
    if (cv_.wait_for(lk, pause, [this] { return waiters_ > 0 || stopping_; })) continue;
    bool any = false;
    try {
      any = poll();
    } catch (const std::exception& e) {
      std::cerr << "ranks: the controller's progress failed: " << e.what() << std::endl;
      transport::abort(1);
    }
    lk.unlock();
    run_callbacks();
    lk.lock();
    if (!any) watch_engines();
    pause = any ? microseconds(200) : std::min(microseconds(2000), pause * 2);
  }
}

void Controller::shutdown(int code, std::chrono::milliseconds grace) {
  {
    auto lk = lock();
    stopping_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  auto lk = lock();
  callbacks_.clear();
  for (const auto& e : engines_) {
    Bytes msg(sizeof(TaskHeader));
    TaskHeader h;
    h.kind = Kind::kStop;
    h.aux = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
    patch_header(msg, h);
    seal(msg);
    outbox_.send(batches_[static_cast<std::size_t>(e.batch)].comm, e.rank, Message(std::move(msg)));
  }
  const auto deadline = Clock::now() + grace;
  transport::Backoff backoff(std::chrono::microseconds(2000));
  while (stopped_ < static_cast<int>(engines_.size())) {
    if (poll()) {
      backoff.reset();
    } else {
      if (grace.count() > 0 && Clock::now() > deadline) {
        std::cerr << "ranks: " << engines_.size() - static_cast<std::size_t>(stopped_)
                  << " engine(s) still busy " << grace.count()
                  << " ms after the controller ended; aborting the job" << std::endl;
        transport::abort(code);
      }
      backoff.pause();
    }
  }
  outbox_.drain();
  for (auto& b : batches_)
    if (b.spawned.inter != MPI_COMM_NULL) transport::release(b.spawned);
  callbacks_.clear();
}

// The functions the header-only API calls.

void require_controller(const char* what) {
  if (g_controller) return;
  if (g_on_engine)
    throw Error(std::string("ranks: ") + what +
                " was called inside a task on an engine; engines cannot start work of their "
                "own: return the data and call it from the controller");
  throw Error(std::string("ranks: ") + what +
              " was called outside ranks::run; wrap your program's body in "
              "ranks::run(argc, argv, body)");
}

namespace {
Controller& ctl(const char* what) {
  require_controller(what);
  return *g_controller;
}
}  // namespace

std::shared_ptr<Group> make_group(int n, const char* who) { return ctl(who).make_group(n, who); }
std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who) {
  return ctl(who).group_of(engines, who);
}
std::shared_ptr<Group> default_group() { return ctl("ranks::Process").default_group(); }
int group_size(const Group& g) { return static_cast<int>(g.engines.size()); }
std::vector<int> group_engines(const Group& g) { return g.engines; }
void submit(Group& g, std::shared_ptr<DynamicJob> job) {
  ctl("submitting work").submit(g, std::move(job));
}
void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key) {
  ctl("submitting work").submit_to(engine, std::move(msg), std::move(job), key);
}
void submit_static(Group& g, std::shared_ptr<StaticJob> job) {
  ctl("submitting work").submit_static(g, std::move(job));
}
void drop_queued(Group& g, const std::exception_ptr& why) {
  ctl("Pool::terminate").drop_queued(g, why);
}
std::size_t outstanding(const Group& g) {
  auto lk = ctl("waiting").lock();
  return g.inflight + g.queue.size();
}
bool wait_until(const std::function<bool()>& done, std::optional<Clock::time_point> deadline) {
  return ctl("waiting for a result").wait_until(done, deadline);
}
std::unique_lock<std::mutex> lock() { return ctl("ranks").lock(); }
void post(std::function<void()> fn) { g_controller->post(std::move(fn)); }

}  // namespace ranks::detail

namespace ranks {
int engine_count() { return detail::ctl("ranks::engine_count").engine_count(); }
}  // namespace ranks
