// The examples of DESIGN.md (Pool, AsyncResult, Errors, Process, IPython parallel, the task graph,
// between processes), checked as their comments say.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <ranks/ranks.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) throw std::logic_error(std::string("check failed: ") + #cond); \
  } while (0)

int square(int x) { return x * x; }

struct Scale {  // a functor with state travels by serialize()
  double k = 1;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& k;
  }
  double operator()(double x) const { return k * x; }
};

int g_setup_calls = 0;
void setup() { ++g_setup_calls; }
int setup_calls(int) { return g_setup_calls; }

int slow(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return x;
}

class Hello : public ranks::Process<Hello> {
 public:
  Hello() = default;
  explicit Hello(int id) : id_(id) {}
  void run() { std::cout << "Soy el proceso con el ID: " << id_ << std::endl; }  // on an engine
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& id_;
  }

 private:
  int id_ = 0;
};

void greet(int id) { std::cout << "Soy el proceso con el ID: " << id << std::endl; }

void pool_examples() {
  ranks::Pool pool;      // every engine; spawns some where there are none
  ranks::Pool pool4(4);  // exactly 4 engines; spawns those missing
  CHECK(pool4.size() == 4);
  std::vector<int> in{0, 1, 2, 3, 4};
  std::vector<int> out = pool.map(square, in);
  CHECK((out == std::vector<int>{0, 1, 4, 9, 16}));
  auto lam = pool.map([](int x) { return x + 1; }, in);
  CHECK((lam == std::vector<int>{1, 2, 3, 4, 5}));
  auto scaled = pool.map(Scale{2.0}, std::vector<double>{1, 2});
  CHECK((scaled == std::vector<double>{2, 4}));
  ranks::AsyncResult<std::vector<int>> ar = pool.map_async(square, in);
  out = ar.get();
  CHECK((out == std::vector<int>{0, 1, 4, 9, 16}));
  int nine = pool.apply(square, 3);
  CHECK(nine == 9);
  std::vector<ranks::AsyncResult<int>> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(pool.apply_async(square, i));
  for (int i = 0; i < 10; ++i) CHECK(rs[i].get() == i * i);
  int pow = pool.apply(
      [](int b, int e) {
        int r = 1;
        while (e--) r *= b;
        return r;
      },
      2, 10);
  CHECK(pow == 1024);
  auto sums = pool.starmap([](int a, int b) { return a + b; },
                           std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}});
  CHECK((sums == std::vector<int>{3, 7}));
  std::vector<int> seen;
  for (int v : pool.imap(square, in)) seen.push_back(v);
  CHECK((seen == std::vector<int>{0, 1, 4, 9, 16}));
  seen.clear();
  for (int v : pool.imap_unordered(square, in)) seen.push_back(v);
  std::sort(seen.begin(), seen.end());
  CHECK((seen == std::vector<int>{0, 1, 4, 9, 16}));
  out = pool.map(square, in, /*chunksize=*/2);
  CHECK((out == std::vector<int>{0, 1, 4, 9, 16}));
  int got = 0;
  std::string err;
  pool.apply_async(square, 3).then([&](int v) { got = v; },
                                   [&](const ranks::RemoteError& e) { err = e.what(); });
  pool.apply_async([](int) -> int { throw std::runtime_error("boom"); }, 0)
      .then([&](int) {}, [&](const ranks::RemoteError& e) { err = e.message(); });
  pool.close();
  pool.join();  // the destructor does both: nothing is lost
  CHECK(got == 9);
  CHECK(err == "boom");

  ranks::Pool ready(4, setup);  // setup() runs once on each engine before any task
  auto calls = ready.map(setup_calls, std::vector<int>(40, 0), 1);
  for (int c : calls) CHECK(c >= 1);
}

void async_result_examples() {
  ranks::Pool pool(2);
  ranks::AsyncResult<int> r = pool.apply_async(slow, 7);
  bool timed_out = false;
  try {
    r.get(std::chrono::milliseconds(50));
  } catch (const ranks::TimeoutError&) {
    timed_out = true;
  }
  CHECK(timed_out);
  bool threw = false;
  try {
    (void)r.successful();  // successful() before ready: throws
  } catch (const ranks::Error&) {
    threw = true;
  }
  CHECK(threw);
  r.wait();
  bool done = r.wait(std::chrono::seconds(1));
  CHECK(done && r.ready() && r.successful());
  CHECK(r.get() == 7);
}

void error_examples() {
  ranks::Pool pool(2);
  try {
    pool.apply([](int) -> int { throw std::runtime_error("boom"); }, 1);
    CHECK(false);
  } catch (const ranks::RemoteError& e) {
    CHECK(e.type_name() == "std::runtime_error");
    CHECK(e.message() == "boom");
    CHECK(e.engine_id() >= 0 && e.engine_id() < ranks::engine_count());
    CHECK(std::string(e.what()).find("boom") != std::string::npos);
  }
  CHECK(pool.apply(square, 4) == 16);  // the engine serves on
  bool threw = false;
  try {
    ranks::Pool zero(0);
  } catch (const ranks::Error&) {
    threw = true;
  }
  CHECK(threw);
}

void process_examples() {
  Hello p(0);
  p.start();
  p.join();
  CHECK(p.exitcode() == 0);
  CHECK(!p.is_alive());
  ranks::Process t(greet, 1);
  t.start();
  t.join();
  CHECK(t.exitcode() == 0);
}

void ipython_examples() {
  std::vector<int> in{0, 1, 2, 3, 4};
  ranks::Client rc;  // every engine (spawns some where there are none)
  std::vector<int> ids = rc.ids();
  CHECK(!ids.empty());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == static_cast<int>(i));
  ranks::DirectView dview = rc.direct_view("all");
  CHECK(rc.direct_view().targets() == ids);
  ranks::EngineView e0 = rc[0];
  std::vector<int> first{0, 1};
  if (ids.size() < 2) first = {0};
  ranks::DirectView some = rc[first];
  CHECK(some.targets() == first);

  dview.execute([](ranks::Namespace& ns) { ns.set("a", 1); }).get();  // runs on each target
  std::vector<int> as = dview.pull<int>("a").get();                   // one value per target
  CHECK(as == std::vector<int>(ids.size(), 1));
  dview.push("a", 2).get();  // to every target
  CHECK(dview.pull<int>("a").get() == std::vector<int>(ids.size(), 2));
  dview.push(std::map<std::string, int>{{"a", 2}, {"b", 3}}).get();
  CHECK(dview.pull<int>("b").get() == std::vector<int>(ids.size(), 3));
  int a0 = e0.pull<int>("a").get();  // single engine: one value
  CHECK(a0 == 2);
  dview.scatter("x", std::vector<int>{0, 1, 2, 3, 4, 5, 6}).get();  // contiguous chunks,
  std::vector<int> x = dview.gather<int>("x").get();  // target order; gather undoes scatter
  CHECK((x == std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  CHECK(e0.pull<std::vector<int>>("x").get().size() == (7 + ids.size() - 1) / ids.size());
  std::vector<int> sq = dview.apply(square, 7).get();  // once per target
  CHECK(sq == std::vector<int>(ids.size(), 49));
  std::vector<int> m = dview.map(square, in).get();  // static partition, input order
  CHECK((m == std::vector<int>{0, 1, 4, 9, 16}));

  ranks::LoadBalancedView tview = rc.load_balanced_view();
  std::vector<int> lb = tview.map(square, in).get();  // dynamic queue
  CHECK((lb == std::vector<int>{0, 1, 4, 9, 16}));
  int one = tview.apply(square, 5).get();
  CHECK(one == 25);
  tview.set_retries(2);  // a failed task is resubmitted, to another engine if any
  auto failing = tview.apply([](int) -> int { throw std::runtime_error("always"); }, 0);
  bool threw = false;
  try {
    failing.get();
  } catch (const ranks::RemoteError& e) {
    threw = e.message() == "always";
  }
  CHECK(threw && failing.metadata().size() == 3);  // the first try and two retries

  // Values keep their type; reading one as another type is an error that names both types.
  e0.push("typed", 1.5).get();
  threw = false;
  try {
    (void)e0.pull<int>("typed").get();
  } catch (const ranks::RemoteError& e) {
    threw = e.message().find("double") != std::string::npos &&
            e.message().find("int") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try {
    (void)rc[static_cast<int>(ids.size())];  // an engine id that does not exist
  } catch (const ranks::Error& e) {
    threw = std::string(e.what()).find("does not exist") != std::string::npos;
  }
  CHECK(threw);
  auto where = dview.apply([] { return ranks::engine_id(); }).get();  // inside a task
  CHECK(where == ids);
}

std::string load(std::string path) {
  if (path.empty()) throw std::runtime_error("no path");
  return path;
}
int clean(int x) { return x + 1; }

double f(const std::vector<double>& data) { return data.at(0) * static_cast<double>(data.size()); }

// "Task graph and data plane".
void task_graph_examples() {
  ranks::Client rc;
  auto lview = rc.load_balanced_view();
  auto dview = rc.direct_view();
  auto a = lview.apply(load, std::string("data.bin"));
  auto b = lview.with({.after = {a}}).apply(clean, 3);  // runs once a has succeeded
  CHECK(b.get() == 4);
  CHECK(b.metadata().at(0).started >= a.metadata().at(0).completed);
  auto bad = lview.apply(load, std::string());
  auto b2 = lview.with({.after = {bad}}).apply(clean, 3);  // if a failed: b fails, naming a
  bool named = false;
  try {
    b2.get();
  } catch (const ranks::DependencyError& e) {
    named = std::string(e.what()).find("no path") != std::string::npos;
  }
  CHECK(named);
  std::vector<ranks::AsyncResult<int>> results;
  for (int i = 0; i < 6; ++i) results.push_back(lview.apply(square, i));
  int seen = 0;
  for (auto& r : ranks::as_completed(results)) {  // each AsyncResult as it completes
    CHECK(r.ready());
    seen += r.get();
  }
  CHECK(seen == 0 + 1 + 4 + 9 + 16 + 25);
  dview.execute([](ranks::Namespace& ns) { ns.set("partial", ranks::engine_id() + 1.0); }).get();
  double expected = 0;
  for (int id : rc.ids()) expected += id + 1.0;
  double total = dview.reduce<double>("partial", std::plus<>{}).get();  // MPI_Reduce
  CHECK(total == expected);
  dview.allreduce<double>("partial", std::plus<>{}, "total").get();  // each engine's "total"
  for (double t : dview.pull<double>("total").get()) CHECK(t == expected);
  dview.push("data", std::vector<double>(1000, 0.5)).get();
  auto c = lview.apply(f, ranks::Reference("data"));  // the engine's own namespace value "data"
  CHECK(c.get() == 500.0);
  auto sizes = dview
                   .apply([](ranks::Namespace& ns) {
                     MPI_Comm c = ranks::engine_comm(); /* MPI among engines */
                     int size = 0;
                     MPI_Comm_size(c, &size);
                     ns.set("comm_size", size);
                     return size;
                   })
                   .get();
  CHECK(sizes == std::vector<int>(rc.ids().size(), static_cast<int>(rc.ids().size())));
}

// Between processes: queues, pipes, a manager.
struct Job {
  int n = 0;
};
struct Msg {
  int v = 0;
};
void producer(ranks::Queue<std::string> q, int id) { q.put("hello from " + std::to_string(id)); }
void init_worker(ranks::Queue<std::string> q) { q.put("ready"); }
int task(ranks::Queue<std::string> q, int x) {
  q.put("task " + std::to_string(x));
  return x;
}
void child(ranks::Connection<Msg> end) {
  end.send(Msg{42});
  const Msg reply = end.recv();
  end.send(Msg{reply.v + 1});
}
int consume(ranks::JoinableQueue<Job> work) {
  int sum = 0;
  for (Job j = work.get(); j.n >= 0; j = work.get()) {
    sum += j.n;
    work.task_done();
  }
  work.task_done();  // the end marker too
  return sum;
}
void fill(ranks::DictProxy<std::string, int> d, ranks::ListProxy<int> l) {
  d.set("from a task", 7);
  l.append(ranks::engine_id());
}

void meet(ranks::Barrier barrier, ranks::Value<int> arrivals) {
  arrivals.fetch_add(static_cast<int>(barrier.wait()));
}
void set_when_counted(ranks::Condition cond, ranks::Value<int> count, ranks::Event done) {
  std::unique_lock g(cond);
  cond.wait_for(std::chrono::seconds(30), [&] { return count.load() >= 1; });
  done.set();
}

template <class E, class F>
void check_throws(F f) {
  try {
    f();
  } catch (const E&) {
    return;
  }
  throw std::logic_error("check failed: the call did not throw as documented");
}

void between_processes_examples(int engines) {
  using namespace std::chrono_literals;
  ranks::Queue<std::string> q;  // unbounded
  ranks::Process p(producer, q, 7);
  p.start();
  std::string s = q.get();  // waits
  CHECK(s == "hello from 7");
  check_throws<ranks::Empty>([&] { q.get(100ms); });  // past the timeout: ranks::Empty
  std::optional<std::string> o = q.try_get();         // nothing waiting: empty
  CHECK(!o);
  ranks::Queue<Job> jobs(100);  // put waits while 100 wait
  for (int i = 0; i < 100; ++i) jobs.put(Job{i});
  check_throws<ranks::Full>([&] { jobs.put(Job{}, 50ms); });  // still full: ranks::Full
  CHECK(jobs.qsize() == 100 && jobs.full() && !jobs.empty());
  q.put("left");
  q.close();  // later puts throw; gets take what is left, then ranks::Closed
  check_throws<ranks::Closed>([&] { q.put("more"); });
  CHECK(q.get() == "left");
  check_throws<ranks::Closed>([&] { q.get(); });
  p.join();

  ranks::JoinableQueue<Job> work;  // task_done() after each get; join() waits for all
  ranks::Process c(consume, work);
  c.start();
  for (int i = 1; i <= 10; ++i) work.put(Job{i});
  work.put(Job{-1});
  work.join();
  c.join();

  ranks::Queue<std::string> ready;
  ranks::Pool pool(engines, init_worker, ready);  // the initializer's arguments follow it
  for (int i = 0; i < engines; ++i) CHECK(ready.get(30s) == "ready");
  auto r = pool.apply_async(task, ready, 3);  // a queue as a task's argument
  CHECK(r.get() == 3 && ready.get() == "task 3");

  auto [left, right] = ranks::Pipe<Msg>();  // two ranks::Connection<Msg>, duplex
  ranks::Process cp(child, right);
  cp.start();
  Msg m = left.recv();
  CHECK(m.v == 42);
  left.send(Msg{1});
  bool ready_now = left.poll(30s);
  CHECK(ready_now && left.recv().v == 2);
  left.close();
  cp.join();
  check_throws<ranks::Closed>([&] { right.recv(); });  // the other end closed, nothing left

  ranks::Manager manager;  // containers served to every process
  auto d = manager.dict<std::string, int>();
  auto l = manager.list<int>();
  pool.apply(fill, d, l);
  d.set("k", 1);
  CHECK(d.get("k") == 1 && d.get("missing", -1) == -1 && d.contains("from a task"));
  check_throws<ranks::Error>([&] { (void)d.get("missing"); });  // naming the key
  CHECK(d.erase("k") && d.size() == 1 && d.items().front().second == 7);
  l.append(5);
  CHECK(l.size() == 2 && l.at(1) == 5 && l.items().back() == 5);
  l.set(1, 6);
  CHECK(l.at(-1) == 6);

  ranks::Lock lock;  // Lockable: std::scoped_lock g(lock); try_lock(); try_lock_for(1s)
  {
    std::scoped_lock g(lock);
    CHECK(!lock.try_lock_for(10ms));
  }
  CHECK(lock.try_lock());
  lock.unlock();
  ranks::RLock rlock;  // the holder may take it again
  {
    std::scoped_lock g(rlock);
    std::scoped_lock again(rlock);
  }
  ranks::Semaphore slots(3);  // acquire(), release(), try_acquire_for(1s)
  for (int i = 0; i < 3; ++i) slots.acquire();
  CHECK(!slots.try_acquire_for(10ms));
  slots.release();
  CHECK(slots.try_acquire_for(1s));
  ranks::Event done;            // set(), clear(), is_set(), wait(), wait(1s) -> bool
  ranks::Condition cond(lock);  // wait(), wait_for(1s, pred), notify(n), notify_all()
  ranks::Value<int> count(0);
  ranks::Process waiter(set_when_counted, cond, count, done);
  waiter.start();
  CHECK(!done.wait(20ms) && !done.is_set());
  {
    std::scoped_lock g(cond);
    count.store(1);
    cond.notify_all();
  }
  CHECK(done.wait(30s) && done.is_set());
  waiter.join();
  done.clear();
  CHECK(!done.is_set());
  ranks::Barrier barrier(4);  // wait() -> this arrival's index 0..3
  ranks::Value<int> arrivals(0);
  ranks::Client rc;  // three engines at once (the pool made sure there are), and the program
  std::vector<ranks::AsyncResult<void>> parties;
  for (std::size_t i = 0; i < 3; ++i)
    parties.push_back(rc[rc.ids()[i]].apply(meet, barrier, arrivals));
  arrivals.fetch_add(static_cast<int>(barrier.wait()));
  for (auto& party : parties) party.get();
  CHECK(arrivals.load() == 0 + 1 + 2 + 3);
  barrier.abort();  // a dead party breaks it too: ranks::BrokenBarrier in every waiter
  check_throws<ranks::BrokenBarrier>([&] { barrier.wait(); });

  ranks::Value<double> total(0.0);  // one trivially copyable value every process shares
  total.store(3.1415927);
  double v = total.load();
  CHECK(v == 3.1415927);
  total.fetch_add(2.0);  // atomic across processes and hosts (numbers)
  double expected = 5.1415927;
  CHECK(total.compare_exchange(expected, 1.0) && total.load() == 1.0);
  {
    std::scoped_lock g(total.get_lock());  // Python's get_lock()
    total.store(total.load() * 2);
  }
  CHECK(total.load() == 2.0);
  ranks::Array<int> a(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // or Array<int>(n): zeros
  a.store(3, -3);
  int x = a.load(3);
  a.fetch_add(3, 1);
  CHECK(x == -3 && a.load(3) == -2);
  std::vector<int> all = a.read();  // the whole array; a.read(first, count)
  CHECK(all.size() == 10 && all[3] == -2 && a.read(8, 2) == (std::vector<int>{8, 9}));
  const std::size_t first = 4;
  std::vector<int> block{40, 50};
  a.write(first, std::span<const int>(block));  // a block at once
  CHECK(a.load(5) == 50);
  check_throws<ranks::Error>([&] { a.store(10, 1); });  // outside: nothing written
  CHECK(ranks::Array<int>(3).read() == (std::vector<int>{0, 0, 0}));
}

int main(int argc, char** argv) {
  // "task-graph": that section alone (on a started cluster, whose engines a Pool cannot add to).
  const std::string only = argc > 1 ? argv[1] : "";
  if (only == "task-graph")
    return ranks::run(argc, argv, [] {
      task_graph_examples();
      std::cout << "the task graph's DESIGN.md examples behaved as documented" << std::endl;
    });
  // "between": that section alone, with a Pool of the cluster's engines.
  if (only == "between")
    return ranks::run(argc, argv, [] {
      between_processes_examples(
          ranks::Client().ids().size() > 0 ? static_cast<int>(ranks::Client().ids().size()) : 1);
      std::cout << "the between-processes DESIGN.md examples behaved as documented" << std::endl;
    });
  return ranks::run(argc, argv, [] {
    // First, while every engine comes from one launch: engine_comm() spans the engines of one
    // launch (the Pool examples spawn more where there are too few).
    task_graph_examples();
    pool_examples();
    async_result_examples();
    error_examples();
    process_examples();
    ipython_examples();
    between_processes_examples(4);
    std::cout << "all DESIGN.md examples behaved as documented" << std::endl;
  });
}
