#pragma once

#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/async_result.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/detail/static_jobs.hpp"
#include "ranks/error.hpp"
#include "ranks/imap_range.hpp"

/// @file
/// ranks::Pool, Python's multiprocessing.Pool over MPI.

namespace ranks {

/// How Pool::map and friends spread items over the engines (Pool::set_schedule).
///
/// @code
/// pool.set_schedule(ranks::Schedule::kStatic);   // one MPI_Scatterv + one MPI_Gatherv per map
/// @endcode
enum class Schedule {
  kDynamic,  ///< a free engine takes the next chunk (default; balances uneven tasks)
  kStatic,   ///< one contiguous chunk per engine, sent by MPI scatter, collected by MPI gather
};

/// Options of a Pool (the third argument, as Python's keyword arguments).
///
/// @code
/// ranks::Pool leaky(4, setup, {.maxtasksperchild = 100});  // engines replaced after 100 tasks
/// @endcode
struct PoolOptions {
  /// An engine is replaced after it has run this many tasks (a map's chunk counts one), like
  /// Python's maxtasksperchild, for task code that leaks; 0: never. Needs a launch that survives
  /// a lost engine and engines that can be spawned.
  int maxtasksperchild = 0;
  /// An engine that dies is replaced (spawned), so the pool keeps its size.
  bool keep_size = false;
};

/// A pool of engines, like Python's `multiprocessing.Pool`. Calls run on the engines; results
/// come back in input order. A task is a function, a captureless lambda or a functor with
/// `serialize()`; a lambda with captures is refused at compile time. Arguments and results are
/// anything Boost.Serialization carries; contiguous trivially copyable data travels as raw
/// bytes. The destructor closes the pool and waits for all its work.
///
/// @code
/// int square(int x) { return x * x; }
///
/// struct Scale {                                  // a functor with state travels by serialize()
///   double k = 1;
///   template <class Archive> void serialize(Archive& ar, unsigned) { ar & k; }
///   double operator()(double x) const { return k * x; }
/// };
///
/// ranks::Pool pool;                               // every engine; spawned if there are none
/// std::vector<int> in{0, 1, 2, 3, 4};
/// std::vector<int> out = pool.map(square, in);                     // {0, 1, 4, 9, 16}
/// auto lam = pool.map([](int x) { return x + 1; }, in);           // captureless lambdas travel
/// auto scaled = pool.map(Scale{2.0}, std::vector<double>{1, 2});  // {2, 4}
/// int nine = pool.apply(square, 3);
/// pool.close(); pool.join();                      // the destructor does both: nothing is lost
/// @endcode
class Pool {
 public:
  /// Every engine of the job; spawns one per core where there are none (Python's `Pool()`).
  Pool() : Pool(-1, 0) {}
  /// Exactly `processes` engines, spawning those missing (Python's `Pool(4)`). Throws
  /// ranks::Error if processes < 1.
  ///
  /// @code
  /// ranks::Pool pool4(4);
  /// @endcode
  explicit Pool(int processes) : Pool(checked(processes), 0) {}
  /// As Pool(processes), then runs initializer() once on each engine before any task (like
  /// Python's `Pool(initializer=...)`). Throws ranks::RemoteError if it fails on an engine.
  ///
  /// @code
  /// void setup() { /* open a file, seed a generator, load a table */ }
  /// ranks::Pool ready(4, setup);
  /// @endcode
  template <class Init>
  Pool(int processes, Init initializer) : Pool(checked(processes), 0) {
    initialize(initializer);
  }
  /// As Pool(processes, initializer), called with these arguments on each engine (Python's
  /// `initargs`).
  ///
  /// @code
  /// ranks::Pool pool(4, init_worker, q);   // a queue for each engine's initializer
  /// @endcode
  template <class Init, class Arg, class... Args>
  requires(!std::is_same_v<std::remove_cvref_t<Arg>, PoolOptions>)
      Pool(int processes, Init initializer, Arg&& arg, Args&&... args)
      : Pool(checked(processes), 0) {
    initialize(initializer, std::forward<Arg>(arg), std::forward<Args>(args)...);
  }
  /// As Pool(processes, initializer, args...), with options (PoolOptions). Engines that replace
  /// others run the initializer, with the same arguments, before any task.
  ///
  /// @code
  /// ranks::Pool leaky(4, setup, {.maxtasksperchild = 100});
  /// @endcode
  template <class Init, class... Args>
  Pool(int processes, Init initializer, PoolOptions options, Args&&... args)
      : Pool(checked(processes), 0) {
    initialize(initializer, std::forward<Args>(args)...);
    detail::set_group_options(*group_, options.maxtasksperchild, options.keep_size);
  }
  /// As Pool(processes), with options (PoolOptions).
  Pool(int processes, PoolOptions options) : Pool(checked(processes), 0) {
    detail::set_group_options(*group_, options.maxtasksperchild, options.keep_size);
  }
  /// Closes the pool and waits for all its work (close(), then join()): nothing is lost. Left
  /// by an exception, it terminates instead, without waiting, as Python's `with Pool()` does.
  ~Pool() {
    try {
      if (!group_) return;
      if (std::uncaught_exceptions() > unwinding_) {
        terminate();  // leaving by an exception: like Python's `with Pool()`, do not wait
      } else {
        close();
        join();
      }
    } catch (...) {  // a destructor must not throw; join only fails outside ranks::run
    }
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  /// Takes over the other pool's engines and work; that one is left empty and takes no more work
  /// (ranks::Error).
  Pool(Pool&&) noexcept = default;
  /// As Pool(Pool&&).
  Pool& operator=(Pool&&) noexcept = default;

  /// The number of engines in the pool.
  [[nodiscard]] int size() const { return detail::group_size(*group_); }
  /// The engine ids of the pool.
  [[nodiscard]] std::vector<int> engines() const { return detail::group_engines(*group_); }
  /// Chooses the schedule of map, starmap and their async forms (default kDynamic).
  void set_schedule(Schedule s) { schedule_ = s; }
  /// The schedule of map, starmap and their async forms.
  [[nodiscard]] Schedule schedule() const { return schedule_; }

  /// Runs f(args...) on an engine; returns at once (Python's apply_async).
  ///
  /// @code
  /// std::vector<ranks::AsyncResult<int>> rs;
  /// for (int i = 0; i < 10; ++i) rs.push_back(pool.apply_async(square, i));
  /// @endcode
  template <class F, class... Args>
  auto apply_async(F f, Args&&... args) {
    using Task = detail::ApplyTaskFor<F, Args...>;
    using R = typename Task::Result;
    check_open("apply_async");
    auto state = std::make_shared<detail::State<R>>();
    auto msg = detail::apply_message_owned(f, std::forward<Args>(args)...);
    detail::submit(*group_, std::make_shared<detail::SingleJob<R>>(std::move(msg), state));
    return AsyncResult<R>(state);
  }
  /// Runs f(args...) on an engine and waits for the result (Python's apply). Large contiguous
  /// arguments are sent from where they lie, with no copy. The task's failure is rethrown
  /// (ranks::RemoteError).
  ///
  /// @code
  /// int nine = pool.apply(square, 3);
  /// int pow = pool.apply([](int b, int e) { int r = 1; while (e--) r *= b; return r; }, 2, 10);
  /// @endcode
  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    using Task = detail::ApplyTaskFor<F, Args...>;
    using R = typename Task::Result;
    check_open("apply");
    auto state = std::make_shared<detail::State<R>>();
    detail::Borrowed loan;  // declared before the result: it waits for the send on every path
    auto msg = detail::apply_message(f, args...);
    loan.lend(msg);
    detail::submit(*group_, std::make_shared<detail::SingleJob<R>>(std::move(msg), state));
    if (!state->is_ready()) detail::wait_until([&state] { return state->is_ready(); });
    if (auto e = state->error()) std::rethrow_exception(e);
    // Nothing else reads the value (the job only wrote it): moved out, never copied.
    if constexpr (!std::is_void_v<R>) return state->take();
  }

  /// f over every item, in input order; returns at once (Python's map_async). chunksize 0
  /// chooses chunks itself.
  ///
  /// @code
  /// ranks::AsyncResult<std::vector<int>> ar = pool.map_async(square, in);
  /// std::vector<int> out = ar.get();
  /// @endcode
  template <class F, class Range>
  auto map_async(F f, Range&& items, std::size_t chunksize = 0) {
    return start_map<false>(f, keep(std::forward<Range>(items)), chunksize);
  }
  /// f over every item; waits; results in input order (Python's map). A failure rethrows that
  /// of the lowest failing input index. chunksize 0 chooses chunks itself (on the dynamic
  /// schedule: large ones first, shrinking towards the end).
  ///
  /// @code
  /// std::vector<int> out = pool.map(square, in);   // {0, 1, 4, 9, 16}
  /// out = pool.map(square, in, /*chunksize=*/2);
  /// @endcode
  template <class F, class Range>
  auto map(F f, Range&& items, std::size_t chunksize = 0) {
    return start_map<false>(f, view(items), chunksize).get();
  }
  /// map_async where each item is a tuple of arguments: f(std::get<0>(item), ...) (Python's
  /// starmap_async).
  template <class F, class Range>
  auto starmap_async(F f, Range&& items, std::size_t chunksize = 0) {
    return start_map<true>(f, keep(std::forward<Range>(items)), chunksize);
  }
  /// map where each item is a tuple of arguments: f(std::get<0>(item), ...) (Python's starmap).
  ///
  /// @code
  /// auto sums = pool.starmap([](int a, int b) { return a + b; },
  ///                          std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}});  // {3, 7}
  /// @endcode
  template <class F, class Range>
  auto starmap(F f, Range&& items, std::size_t chunksize = 0) {
    return start_map<true>(f, view(items), chunksize).get();
  }

  /// f over every item; iterate the results in input order as they arrive (Python's imap).
  /// Returns at once; each step of the loop waits for its result, and rethrows its failure.
  ///
  /// @code
  /// for (int v : pool.imap(square, in)) { /* in input order, as they arrive */ }
  /// @endcode
  template <class F, class Range>
  auto imap(F f, Range&& items, std::size_t chunksize = 0) {
    return ImapRange<result_t<F, Range, false>>(
        start_map_state<false>(f, keep(std::forward<Range>(items)), chunksize, true), true);
  }
  /// f over every item; iterate the results in the order they complete (Python's
  /// imap_unordered). ImapRange::indexed() gives each one's input position too.
  ///
  /// @code
  /// for (int v : pool.imap_unordered(square, in)) { /* in completion order */ }
  /// @endcode
  template <class F, class Range>
  auto imap_unordered(F f, Range&& items, std::size_t chunksize = 0) {
    return ImapRange<result_t<F, Range, false>>(
        start_map_state<false>(f, keep(std::forward<Range>(items)), chunksize, true), false);
  }

  /// No more work may be submitted (later calls throw ranks::Error); work already submitted
  /// goes on (Python's close).
  ///
  /// @code
  /// pool.close(); pool.join();
  /// @endcode
  void close() { closed_ = true; }
  /// Closes the pool and drops queued work (its results fail with ranks::Error); work already on
  /// an engine finishes (where Python's terminate stops it).
  void terminate() {
    closed_ = true;
    detail::drop_queued(
        *group_, std::make_exception_ptr(Error("the pool was terminated before this work ran")));
  }
  /// Waits until all the pool's work is done (Python's join). Call close() or terminate() first:
  /// on an open pool it throws ranks::Error.
  void join() {
    if (!closed_)
      throw Error("Pool::join() called on an open pool; call close() or terminate() first");
    auto* g = group_.get();
    detail::wait_until([g] { return detail::outstanding(*g) == 0; });
  }

 private:
  template <class Range>
  using item_t = detail::item_t<Range>;
  template <class F, class Range, bool Star>
  using task_t = detail::MapTask<F, item_t<Range>, Star>;
  template <class F, class Range, bool Star>
  using result_t = typename task_t<F, Range, Star>::Result;

  Pool(int processes, int) : group_(detail::make_group(processes)) {}

  static int checked(int processes) {
    if (processes < 1)
      throw Error("Pool(" + std::to_string(processes) +
                  "): a pool needs at least one engine; use Pool() for every engine or Pool(n) "
                  "with n >= 1");
    return processes;
  }
  void check_open(const char* what) const {
    if (!group_) throw Error(std::string("Pool::") + what + " on a moved-from pool");
    if (closed_)
      throw Error(std::string("Pool::") + what +
                  " on a closed pool; create a new Pool for more work");
  }

  template <class Range>
  static auto view(Range& items) {
    return detail::view_items(items);
  }
  template <class Range>
  static auto keep(Range&& items) {
    return detail::keep_items(std::forward<Range>(items));
  }

  template <bool Star, class F, class T>
  auto start_map_state(F f, detail::Items<T> items, std::size_t chunksize, bool dynamic_only) {
    using Task = detail::MapTask<F, T, Star>;
    using R = typename Task::Result;
    detail::check_map_result<R>();
    check_open(Star ? "starmap" : "map");
    auto state = std::make_shared<detail::MapState<R>>(items.view.size(), dynamic_only);
    if (schedule_ == Schedule::kStatic && !dynamic_only) {
      detail::submit_static(*group_, std::make_shared<detail::StaticMapJob<Task, F, T, R>>(
                                         f, std::move(items), size(), state));
    } else {
      detail::submit(*group_, std::make_shared<detail::DynamicMapJob<Task, F, T, R>>(
                                  f, std::move(items), chunksize, state));
    }
    return state;
  }
  template <bool Star, class F, class T>
  auto start_map(F f, detail::Items<T> items, std::size_t chunksize) {
    using R = typename detail::MapTask<F, T, Star>::Result;
    return AsyncResult<std::vector<R>>(
        start_map_state<Star>(f, std::move(items), chunksize, false));
  }

  // The initializer's message (with its arguments) is kept for engines that join later.
  template <class Init, class... Args>
  void initialize(Init init, Args&&... args) {
    using Task = detail::ApplyTaskFor<Init, Args...>;
    const auto arguments = [&](detail::Writer& w) {
      (detail::encode(w, detail::wire_value(args)), ...);
    };
    detail::set_group_init(*group_, detail::make_message<Task>(init, arguments));
    std::vector<AsyncResult<void>> done;
    for (int e : engines()) {
      auto state = std::make_shared<detail::State<void>>();
      auto msg = detail::make_message<Task>(init, arguments);
      detail::submit_to(e, detail::Message(std::move(msg)),
                        std::make_shared<detail::SingleJob<void>>(detail::Message(), state), 0);
      done.emplace_back(state);
    }
    for (auto& d : done) d.get();
  }
  using Bytes = detail::Bytes;

  std::shared_ptr<detail::Group> group_;
  int unwinding_ = std::uncaught_exceptions();
  bool closed_ = false;
  Schedule schedule_ = Schedule::kDynamic;
};

}  // namespace ranks
