#pragma once

// How a callable is named on the controller and found again on an engine. Every task type is an
// instantiation of a class template below; each instantiation registers its invoker at static
// initialisation under its mangled type name. All ranks run the same binary (checked at start-up),
// so every rank builds the same table; an id is an index in that table, sorted by name.

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "ranks/detail/arguments.hpp"
#include "ranks/detail/codec.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// What an invoker sees of the task it runs on an engine.
struct InvokeContext {
  const TaskHeader& header;
  Reader& in;              // callable state, then arguments
  Reader& items;           // the items of a map chunk (the same reader as `in` unless scattered)
  Writer& out;             // the encoded result
  const void* fn;          // the plain function, already checked, for function-pointer tasks
  std::int64_t item = -1;  // the chunk item running now, to name a failure
  std::shared_ptr<const void> keep;  // what `out`'s attachments point into, until it is sent
  // Progress within a chunk: tick(ctx, done) runs when countdown reaches 0 after an item (it
  // may say how many are done, and sets the next countdown); never while countdown starts at 0.
  std::int64_t countdown = 0;
  void (*tick)(InvokeContext&, std::size_t done) = nullptr;
};

/// After item `done - 1` of a chunk: one decrement, and now and then the engine's tick.
inline void item_done(InvokeContext& ctx, std::size_t done) {
  if (--ctx.countdown == 0) ctx.tick(ctx, done);
}

using InvokeFn = void (*)(InvokeContext&);

/// Adds an invoker at static initialisation; returns its registration token.
std::uint32_t register_invoker(const char* name, InvokeFn fn);
/// The id that travels for a token (valid once ranks::run has frozen the table).
std::uint32_t wire_id(std::uint32_t token);
/// Where a plain function lives, as a reference another rank of the same binary can check.
FunctionRef function_ref(const void* fn);

template <class Task>
struct Registered {
  static inline const std::uint32_t token = register_invoker(typeid(Task).name(), &Task::invoke);
};

template <class Task>
std::uint32_t invoker_id() {
  return wire_id(Registered<Task>::token);
}

template <class F>
concept HasSerialize = requires(F& f, boost::archive::binary_oarchive& ar) {
  f.serialize(ar, 0u);
};

template <class F>
inline constexpr bool is_plain_function_v =
    std::is_pointer_v<F>&& std::is_function_v<std::remove_pointer_t<F>>;

template <class F>
inline constexpr bool is_stateless_v =
    std::is_class_v<F>&& std::is_empty_v<F>&& std::is_default_constructible_v<F>;

template <class F>
inline constexpr bool is_travelling_v = is_plain_function_v<F> || is_stateless_v<F> ||
                                        (std::is_class_v<F> && HasSerialize<F> &&
                                         std::is_default_constructible_v<F>);

template <class F>
struct is_std_function : std::false_type {};
template <class S>
struct is_std_function<std::function<S>> : std::true_type {};

/// Refuses, at compile time and before anything else it would break, a callable that cannot be
/// rebuilt on an engine; true for one that can.
template <class F>
constexpr bool check_callable() {
  static_assert(!is_std_function<F>::value,
                "ranks: a std::function cannot travel: it hides what it calls, which another "
                "process cannot rebuild. Pass a function, a captureless lambda or a functor with "
                "serialize() instead.");
  static_assert(is_std_function<F>::value || is_travelling_v<F>,
                "ranks: this callable cannot travel to an engine. A lambda with captures cannot be "
                "sent: pass the captured values as task arguments, or write a functor with a "
                "serialize() member (and a default constructor). Plain functions, captureless "
                "lambdas and functors with serialize() travel.");
  return is_travelling_v<F>;
}

/// Where f's code is, for a plain function (the engine checks it before calling); else nothing.
template <class F>
FunctionRef callable_ref(const F& f) {
  check_callable<F>();
  if constexpr (is_plain_function_v<F>) {
    return function_ref(reinterpret_cast<const void*>(f));
  } else {
    return {};
  }
}

/// Writes f's state: nothing for plain functions and stateless lambdas, its bytes for trivially
/// copyable functors, a Boost archive for the rest.
template <class F>
void encode_callable(Writer& w, const F& f) {
  if constexpr (!check_callable<F>() || is_plain_function_v<F> || is_stateless_v<F>) {
  } else if constexpr (is_raw_v<F>) {
    w.raw(&f, sizeof(F));
  } else {
    encode_archive(w, f);
  }
}

/// The header of a task of type Task running f: which invoker, and where f's code is.
template <class Task, class F>
TaskHeader task_header(const F& f) {
  TaskHeader h;
  h.invoker = invoker_id<Task>();
  h.fn = callable_ref(f);
  return h;
}

template <class F>
F decode_callable(InvokeContext& ctx) {
  if constexpr (is_plain_function_v<F>) {
    return reinterpret_cast<F>(const_cast<void*>(ctx.fn));
  } else if constexpr (is_stateless_v<F>) {
    return F{};
  } else if constexpr (is_raw_v<F>) {
    F f;
    ctx.in.raw(&f, sizeof(F));
    return f;
  } else if constexpr (is_travelling_v<F>) {
    F f{};
    decode_archive(ctx.in, f);
    return f;
  } else {
    throw Error("a callable that cannot travel reached an engine");  // check_callable refused it
  }
}

/// apply(f, args...): one call, one result.
template <class F, class... Args>
struct ApplyTask {
  using Result = typename Call<F, std::tuple<Args...>>::Result;
  static void invoke(InvokeContext& ctx) {
    F f = decode_callable<F>(ctx);
    std::tuple<Args...> args;
    decode(ctx.in, args);
    if constexpr (std::is_void_v<Result>) {
      call_with(f, args);  // the arguments are moved in where f takes them by value
    } else {
      Result r = call_with(f, args);
      const std::size_t attached = ctx.out.attachment_count();
      encode(ctx.out, r);
      // The attachments point into r's heap blocks, which stay where they are when r moves.
      if (ctx.out.attachment_count() != attached) ctx.keep = std::make_shared<Result>(std::move(r));
    }
  }
};

/// map(f, items) and starmap (Star: each item is a tuple of arguments): one chunk of items.
template <class F, class T, bool Star>
struct MapTask {
  using Args = std::conditional_t<Star, T, std::tuple<T&>>;
  static decltype(auto) call(F& f, T& item) {
    if constexpr (Star) {
      return Resolved<F, T, false>::call(f, item);
    } else {
      std::tuple<T&> args{item};
      return Resolved<F, std::tuple<T&>, false>::call(f, args);
    }
  }
  using Result = std::remove_cvref_t<typename Resolved<F, Args, false>::Result>;

  static void invoke(InvokeContext& ctx) {
    F f = decode_callable<F>(ctx);
    const std::size_t n = ctx.header.count;
    std::vector<T> items(n);
    decode_items(ctx.items, items.data(), n);
    if constexpr (std::is_void_v<Result>) {
      for (std::size_t i = 0; i < n; ++i) {
        ctx.item = static_cast<std::int64_t>(i);
        call(f, items[i]);
        item_done(ctx, i + 1);
      }
    } else if constexpr (is_raw_element_v<Result>) {
      const std::size_t at = ctx.out.skip(n * sizeof(Result));
      for (std::size_t i = 0; i < n; ++i) {
        ctx.item = static_cast<std::int64_t>(i);
        const Result r = call(f, items[i]);
        std::memcpy(ctx.out.at(at + i * sizeof(Result)), &r, sizeof(Result));
        item_done(ctx, i + 1);
      }
    } else {
      // Kept until encoded, and after that while attachments point into them.
      auto results = std::make_shared<std::vector<Result>>();
      results->reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        ctx.item = static_cast<std::int64_t>(i);
        results->push_back(call(f, items[i]));
        item_done(ctx, i + 1);
      }
      const std::size_t attached = ctx.out.attachment_count();
      for (const auto& r : *results) encode(ctx.out, r);
      if (ctx.out.attachment_count() != attached) ctx.keep = std::move(results);
    }
    ctx.item = -1;
  }
};

}  // namespace ranks::detail
