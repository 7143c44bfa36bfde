#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ranks/async_result.hpp"
#include "ranks/detail/jobs.hpp"
#include "ranks/detail/reduce.hpp"
#include "ranks/detail/runtime.hpp"
#include "ranks/detail/static_jobs.hpp"
#include "ranks/detail/view_tasks.hpp"
#include "ranks/error.hpp"
#include "ranks/namespace.hpp"

/// @file
/// ranks::DirectView and ranks::EngineView, IPython parallel's direct views.

namespace ranks {

namespace detail {

// A call over every engine of a group: `body` (header, state, arguments) to each, with
// `payload` to each (offsets empty) or cut at offsets, one part per engine.
template <class R, class Out>
AsyncResult<Out> call_each(Group& g, TaskBody body, std::vector<std::uint64_t> counts,
                           Bytes payload, std::vector<std::size_t> offsets,
                           typename StaticCallJob<R, Out>::Finish finish) {
  auto state = std::make_shared<State<Out>>(counts.size());
  submit_static(g, std::make_shared<StaticCallJob<R, Out>>(std::move(body), std::move(counts),
                                                           std::move(payload), std::move(offsets),
                                                           finish, state));
  return AsyncResult<Out>(state);
}

}  // namespace detail

/// The engines a DirectView sends to, in order. Every call runs on every target and returns an
/// AsyncResult at once. Over exactly all the engines of one MPI communicator (all the engines of
/// `mpirun -np N`, or of one spawn) the calls use MPI collectives (broadcast, scatterv, gatherv);
/// over other sets, one message per engine. Like IPython's `DirectView`.
///
/// @code
/// ranks::Client rc;
/// ranks::DirectView dview = rc.direct_view("all");
/// dview.execute([](ranks::Namespace& ns) { ns.set("a", 1); }).get();   // runs on each target
/// std::vector<int> as = dview.pull<int>("a").get();                      // one value per target
/// dview.push("a", 2).get();                                              // to every target
/// dview.scatter("x", std::vector<int>{0, 1, 2, 3, 4, 5, 6}).get();      // contiguous chunks,
/// std::vector<int> x = dview.gather<int>("x").get();                     // gather undoes scatter
/// std::vector<int> sq = dview.apply(square, 7).get();                    // once per target
/// std::vector<int> m = dview.map(square, in).get();                      // static partition
/// @endcode
class DirectView {
 public:
  /// The engines of the view, in target order. A view of every engine (rc.direct_view()) has
  /// those alive now, as IPython's "all" does; a view of named engines keeps them, and its calls
  /// fail with ranks::EngineLost once one has died.
  [[nodiscard]] std::vector<int> targets() const { return detail::group_engines(*group_); }
  /// How many targets the view has now.
  [[nodiscard]] std::size_t size() const {
    return static_cast<std::size_t>(detail::group_size(*group_));
  }

  /// Runs f(ranks::Namespace&) on every target (IPython's execute, with C++ for the code);
  /// returns at once.
  ///
  /// @code
  /// dview.execute([](ranks::Namespace& ns) { ns.set("a", 1); }).get();
  /// @endcode
  template <class F>
  AsyncResult<void> execute(F f) {
    return each<detail::Nothing, void>(view_body<detail::ExecuteTask<F>>(f, none), {}, nullptr);
  }
  /// Stores value under name in every target's namespace (one broadcast where it can); returns
  /// at once (IPython's push).
  ///
  /// @code
  /// dview.push("a", 2).get();
  /// @endcode
  template <class T>
  AsyncResult<void> push(const std::string& name, const T& value) {
    return push_entries<T>({{&name, &value}});
  }
  /// Stores every (name, value) in every target's namespace.
  ///
  /// @code
  /// dview.push(std::map<std::string, int>{{"a", 2}, {"b", 3}}).get();
  /// @endcode
  template <class T>
  AsyncResult<void> push(const std::map<std::string, T>& values) {
    std::vector<std::pair<const std::string*, const T*>> entries;
    entries.reserve(values.size());
    for (const auto& [name, value] : values) entries.emplace_back(&name, &value);
    return push_entries<T>(entries);
  }
  /// The value under name on every target, in target order (IPython's pull). Fails
  /// (ranks::RemoteError) if a target has no such name or holds another type there.
  ///
  /// @code
  /// std::vector<int> as = dview.pull<int>("a").get();   // one value per target
  /// @endcode
  template <class T>
  AsyncResult<std::vector<T>> pull(const std::string& name) {
    return each<T, std::vector<T>>(named<detail::PullTask<T>>(name), {}, &detail::each_target<T>);
  }
  /// Cuts values into contiguous chunks, one per target in target order (sizes differ by at most
  /// one, larger first), and stores each target's chunk under name as a std::vector<T>
  /// (IPython's scatter).
  ///
  /// @code
  /// dview.scatter("x", std::vector<int>{0, 1, 2, 3, 4, 5, 6}).get();
  /// @endcode
  template <class T>
  AsyncResult<void> scatter(const std::string& name, const std::vector<T>& values) {
    std::vector<std::uint64_t> counts;
    std::vector<std::size_t> offsets;
    Bytes payload;
    detail::Writer w(payload);
    std::size_t start = 0;
    for (std::size_t len : detail::partition(values.size(), size())) {
      counts.push_back(len);
      offsets.push_back(payload.size());
      detail::encode_items(w, values.data() + start, len);
      start += len;
    }
    offsets.push_back(payload.size());
    return detail::call_each<detail::Nothing, void>(*group_, named<detail::ScatterTask<T>>(name),
                                                    std::move(counts), std::move(payload),
                                                    std::move(offsets), nullptr);
  }
  /// The std::vector<T> under name on every target, joined in target order (undoes scatter;
  /// IPython's gather).
  ///
  /// @code
  /// std::vector<int> x = dview.gather<int>("x").get();
  /// @endcode
  template <class T>
  AsyncResult<std::vector<T>> gather(const std::string& name) {
    return each<std::vector<T>, std::vector<T>>(named<detail::GatherTask<T>>(name), {},
                                                &detail::joined<T>);
  }
  /// The values stored under name on every target, combined with op (std::plus<>{},
  /// std::multiplies<>{}, ranks::min{}, ranks::max{} or a default-constructible functor), in
  /// target order; a std::vector is combined element by element. Where the targets share one
  /// MPI communicator and T is trivially copyable (or a std::vector of such), it is one
  /// MPI_Reduce among the engines (built-in MPI operations for numbers); otherwise the values
  /// come to the controller and are combined there. Fails with an error naming the engine that
  /// has no such value or another type, or the lengths of vectors that differ.
  ///
  /// @code
  /// double total = dview.reduce<double>("partial", std::plus<>{}).get();   // MPI_Reduce
  /// @endcode
  template <class T, class Op>
  AsyncResult<T> reduce(const std::string& name, Op /*op*/) {
    static_assert(std::is_default_constructible_v<Op>,
                  "reduce: the operation must be default-constructible (it is made again on "
                  "each engine): std::plus<>{}, std::multiplies<>{}, ranks::min{}, ranks::max{}, "
                  "or a functor without state");
    if constexpr (detail::Reducible<T>::value) {
      auto ranks = detail::common_link_ranks(*group_);
      if (!ranks.empty())
        return each<T, T>(reduce_body<T, Op>(name, ranks, ""), {},
                          [](std::vector<T>&& v) { return std::move(v.front()); });
    }
    auto out = std::make_shared<detail::State<T>>();
    auto pulled = detail::StateOf::get(pull<T>(name));
    auto lk = detail::lock();
    pulled->on_ready([out, pulled, name] {
      auto lk = detail::lock();
      if (auto e = pulled->error()) return out->fail(e);
      try {
        out->set(fold<T, Op>(pulled->value(), name));
      } catch (const Error&) {
        out->fail(std::current_exception());
      }
    });
    return AsyncResult<T>(out);
  }
  /// As reduce, leaving the result under `into` in every target's namespace (one MPI_Allreduce
  /// where reduce is one MPI_Reduce). An empty `into`: ranks::Error.
  ///
  /// @code
  /// dview.allreduce<double>("partial", std::plus<>{}, "total").get();   // each engine's "total"
  /// @endcode
  template <class T, class Op>
  AsyncResult<void> allreduce(const std::string& name, Op /*op*/, const std::string& into) {
    static_assert(std::is_default_constructible_v<Op>,
                  "allreduce: the operation must be default-constructible (it is made again on "
                  "each engine)");
    if (into.empty())
      throw Error("DirectView::allreduce: name where the result goes (\"total\", say)");
    if constexpr (detail::Reducible<T>::value) {
      auto ranks = detail::common_link_ranks(*group_);
      if (!ranks.empty())
        return each<detail::Nothing, void>(reduce_body<T, Op>(name, ranks, into), {}, nullptr);
    }
    auto out = std::make_shared<detail::State<void>>();
    auto pulled = detail::StateOf::get(pull<T>(name));
    DirectView view = *this;
    auto lk = detail::lock();
    pulled->on_ready([out, pulled, name, into, view]() mutable {
      std::shared_ptr<detail::State<void>> pushed;
      try {
        pushed = detail::StateOf::get(view.push(into, fold<T, Op>(pulled->value(), name)));
      } catch (const Error&) {
        auto lk = detail::lock();
        return out->fail(pulled->error() ? pulled->error() : std::current_exception());
      }
      auto lk = detail::lock();
      pushed->on_ready([out, pushed] {
        auto lk = detail::lock();
        if (auto e = pushed->error()) return out->fail(e);
        out->set();
      });
    });
    return AsyncResult<void>(out);
  }
  /// f(args...) once on every target; the results in target order. An argument
  /// ranks::Reference("name") is each target's own value under that name; a callable whose
  /// first parameter is ranks::Namespace& gets the target's namespace there (as in every
  /// view's apply). Inside f, ranks::engine_comm() is MPI among the view's engines. Returns at
  /// once (IPython's apply_async; an AsyncResult<void> for an f that returns nothing).
  ///
  /// @code
  /// std::vector<int> sq = dview.apply(square, 7).get();   // once per target
  /// dview.apply([](ranks::Namespace& ns) {
  ///   MPI_Comm c = ranks::engine_comm();   // MPI among the view's engines
  /// });
  /// @endcode
  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    using Task = detail::ApplyTaskFor<F, Args...>;
    using R = typename Task::Result;
    using Out = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;
    auto body = view_body<Task>(
        f, [&](detail::Writer& w) { (detail::encode(w, detail::wire_value(args)), ...); });
    if constexpr (std::is_void_v<R>) {
      return each<detail::Nothing, void>(std::move(body), {}, nullptr);
    } else {
      return each<R, Out>(std::move(body), {}, &detail::each_target<R>);
    }
  }
  /// f over every item, statically partitioned over the targets (one contiguous chunk each, by
  /// scatterv / gatherv where it can); results in input order. Returns at once (IPython's
  /// DirectView.map).
  ///
  /// @code
  /// std::vector<int> m = dview.map(square, in).get();
  /// @endcode
  template <class F, class Range>
  auto map(F f, Range&& items) {
    using T = detail::item_t<Range>;
    using Task = detail::MapTask<F, T, false>;
    using R = typename Task::Result;
    detail::check_map_result<R>();
    auto kept = detail::keep_items(std::forward<Range>(items));
    auto state = std::make_shared<detail::MapState<R>>(kept.view.size(), false);
    detail::submit_static(*group_, std::make_shared<detail::StaticMapJob<Task, F, T, R>>(
                                       f, std::move(kept), size(), state));
    return AsyncResult<std::vector<R>>(state);
  }

 protected:
  /// @cond INTERNAL
  friend class Client;
  friend class EngineView;
  explicit DirectView(std::shared_ptr<detail::Group> group) : group_(std::move(group)) {}

  using Bytes = detail::Bytes;
  static void none(detail::Writer&) {}

  template <class T, class Op>
  static detail::TaskBody reduce_body(const std::string& name, const std::vector<int>& ranks,
                                      const std::string& into) {
    return detail::task_body<detail::ReduceTask<T, Op>>(detail::Nothing{}, [&](detail::Writer& w) {
      detail::encode(w, name);
      detail::encode(w, ranks);
      detail::encode(w, into);
    });
  }
  // The values of every target combined on the controller, in target order (vectors element
  // by element).
  template <class T, class Op>
  static T fold(const std::vector<T>& values, const std::string& name) {
    if (values.empty()) throw Error("reduce of '" + name + "' over a view of no engines");
    T acc = values.front();
    const Op op{};
    for (std::size_t i = 1; i < values.size(); ++i) {
      if constexpr (detail::Reducible<T>::vector) {
        if (values[i].size() != acc.size())
          throw Error("reduce of '" + name + "': the vectors differ in length (target 0 has " +
                      std::to_string(acc.size()) + " elements, target " + std::to_string(i) +
                      " has " + std::to_string(values[i].size()) +
                      "); a reduction combines them element by element");
        for (std::size_t k = 0; k < acc.size(); ++k) acc[k] = op(acc[k], values[i][k]);
      } else {
        acc = op(acc, values[i]);
      }
    }
    return acc;
  }
  // Task, run where ranks::engine_comm() names the view's engines (none if they share no
  // communicator).
  template <class Task, class F, class Payload>
  detail::TaskBody view_body(const F& f, Payload&& payload) {
    const auto ranks = detail::common_link_ranks(*group_);
    return detail::task_body<detail::InViewTask<Task>>(
        [&](detail::Writer& w) { detail::encode(w, ranks); }, f, std::forward<Payload>(payload));
  }
  // A task with no callable: its arguments are `name`.
  template <class Task>
  static detail::TaskBody named(const std::string& name) {
    return detail::task_body<Task>(detail::Nothing{},
                                   [&](detail::Writer& w) { detail::encode(w, name); });
  }
  // The same message to every target, no items; the replies (R each) become one Out.
  template <class R, class Out>
  AsyncResult<Out> each(detail::TaskBody body, Bytes payload,
                        typename detail::StaticCallJob<R, Out>::Finish finish) {
    return detail::call_each<R, Out>(*group_, std::move(body),
                                     std::vector<std::uint64_t>(size(), 0), std::move(payload), {},
                                     finish);
  }
  template <class T>
  AsyncResult<void> push_entries(
      const std::vector<std::pair<const std::string*, const T*>>& entries) {
    Bytes payload;
    detail::Writer w(payload);
    detail::encode_entries<T>(w, entries);
    return each<detail::Nothing, void>(
        detail::task_body<detail::PushTask<detail::wire_t<T>>>(detail::Nothing{}, none),
        std::move(payload), nullptr);
  }

  std::shared_ptr<detail::Group> group_;
  /// @endcond
};

/// One engine, like IPython's `rc[i]`: the DirectView calls, with one value where a DirectView
/// gives one per target (pull, apply).
///
/// @code
/// ranks::EngineView e0 = rc[0];
/// e0.push("a", 2).get();
/// int a0 = e0.pull<int>("a").get();   // single engine: one value
/// @endcode
class EngineView {
 public:
  /// The engine's id.
  [[nodiscard]] int id() const { return id_; }
  /// Runs f(ranks::Namespace&) on the engine; returns at once.
  template <class F>
  AsyncResult<void> execute(F f) {
    return view_.execute(f);
  }
  /// Stores value under name in the engine's namespace; returns at once. Large data travels
  /// apart from the message, with no copy when the value is given as an rvalue or as a
  /// std::span (stored as a std::vector), whose memory is then lent: keep it unchanged until
  /// the result is ready. Pushed again over a vector of the same type and length, the engine
  /// receives it into the one it holds.
  template <class T>
  AsyncResult<void> push(const std::string& name, T&& value) {
    using V = detail::wire_t<std::remove_cvref_t<T>>;
    return one<void>(detail::task_message_owned<detail::StoreTask<V>>(detail::Nothing{}, name,
                                                                      std::forward<T>(value)));
  }
  /// Stores every (name, value) in the engine's namespace; returns at once.
  template <class T>
  AsyncResult<void> push(const std::map<std::string, T>& values) {
    return view_.push(values);
  }
  /// The value under name on the engine. Fails (ranks::RemoteError) if there is none or it is
  /// not a T.
  template <class T>
  AsyncResult<T> pull(const std::string& name) {
    return one<T>(detail::task_message<detail::PullTask<T>>(detail::Nothing{}, name));
  }
  /// As pull, received into `out` (a vector of the same length is received where it lies, with
  /// no fresh memory): `out` must live, untouched, until the result is ready, as a buffer given
  /// to MPI_Irecv. On failure `out` is unchanged, unless the transfer itself broke off.
  ///
  /// @code
  /// std::vector<double> v(n);
  /// e0.pull_into("v", v).get();
  /// @endcode
  template <class T>
  AsyncResult<void> pull_into(const std::string& name, T& out) {
    auto state = std::make_shared<detail::State<void>>();
    auto job = std::make_shared<detail::SingleJob<void>>(detail::Message(), state);
    job->decode_into([&out](detail::Reader& r) { detail::decode(r, out); });
    detail::submit_to(id(), detail::task_message<detail::PullTask<T>>(detail::Nothing{}, name),
                      std::move(job), 0);
    return AsyncResult<void>(state);
  }
  /// f(args...) on the engine; returns at once, with one value (IPython's `rc[i].apply`).
  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    using Task = detail::ApplyTaskFor<F, Args...>;
    using R = typename Task::Result;
    return one<R>(detail::apply_message_owned(f, std::forward<Args>(args)...));
  }
  /// f over every item, on this engine; results in input order.
  template <class F, class Range>
  auto map(F f, Range&& items) {
    return view_.map(f, std::forward<Range>(items));
  }
  /// The engine as a DirectView of one target (scatter, gather, ...).
  [[nodiscard]] const DirectView& view() const { return view_; }
  /// As view() const.
  [[nodiscard]] DirectView& view() { return view_; }

 private:
  friend class Client;
  explicit EngineView(std::shared_ptr<detail::Group> group)
      : view_(std::move(group)), id_(view_.targets().front()) {}

  // One message to this engine alone, so large arguments and results travel as attachments.
  template <class R>
  AsyncResult<R> one(detail::Message&& msg) {
    auto state = std::make_shared<detail::State<R>>();
    detail::submit_to(id(), std::move(msg),
                      std::make_shared<detail::SingleJob<R>>(detail::Message(), state), 0);
    return AsyncResult<R>(state);
  }
  DirectView view_;
  int id_;
};

}  // namespace ranks
