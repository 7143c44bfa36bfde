#pragma once

// The tasks behind the direct view: each runs on an engine against its namespace.

#include <cstring>
#include <iterator>
#include <string>
#include <typeinfo>
#include <vector>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/registry.hpp"
#include "ranks/namespace.hpp"

namespace ranks::detail {

/// execute(f): f(namespace).
template <class F>
struct ExecuteTask {
  static void invoke(InvokeContext& ctx) {
    F f = decode_callable<F>(ctx);
    f(engine_namespace());
  }
};

/// While it lives, ranks::engine_comm() names these engines (ranks in the engines' link).
class ViewScope {
 public:
  explicit ViewScope(const std::vector<int>& ranks);
  ~ViewScope();
  ViewScope(const ViewScope&) = delete;
  ViewScope& operator=(const ViewScope&) = delete;

 private:
  const std::vector<int>* outer_;
};

/// A direct view's apply or execute: Inner, with the view's engines first in its state (their
/// ranks in the engines' link; none where they share no communicator) for ranks::engine_comm().
template <class Inner>
struct InViewTask {
  static void invoke(InvokeContext& ctx) {
    const auto ranks = decode_value<std::vector<int>>(ctx.in);
    const ViewScope scope(ranks);
    Inner::invoke(ctx);
  }
};

/// On an engine: waits a little for its sends that the receiver has taken to complete, so that
/// the values they read in place (a pull's reply) are let go. Elsewhere nothing.
void finish_sends();

/// Stores the T that r holds under name. A vector or string pushed again over one of the same
/// type that nothing else reads is received into it: no fresh pages when the length is the same.
template <class T>
void store_decoded(const std::string& name, Reader& r) {
  Namespace& ns = engine_namespace();
  if constexpr (vector_kind<T>::raw || is_string<T>::value) {
    T* held = NamespaceAccess::sole<T>(ns, name);
    if (held == nullptr && ns.contains(name)) {  // a reply still sending it, perhaps
      finish_sends();
      held = NamespaceAccess::sole<T>(ns, name);
    }
    if (held != nullptr) {
      try {
        decode(r, *held);
      } catch (...) {
        ns.erase(name);  // half overwritten: gone rather than wrong
        throw;
      }
      return;
    }
  }
  ns.set(name, decode_value<T>(r));
}

/// push: items are a count, then (name, size, encoded T) per value.
template <class T>
struct PushTask {
  static void invoke(InvokeContext& ctx) {
    const std::size_t n = decode_size(ctx.items);
    for (std::size_t i = 0; i < n; ++i) {
      auto name = decode_value<std::string>(ctx.items);
      const std::size_t len = decode_size(ctx.items);
      Reader value(ctx.items.take(len), len);
      store_decoded<T>(name, value);
    }
  }
};

/// Sends a stored value back: large data is read in place while the reply keeps the value.
template <class T>
void encode_stored(InvokeContext& ctx, const std::string& name) {
  auto value = engine_namespace().share<T>(name);
  const std::size_t attached = ctx.out.attachment_count();
  encode(ctx.out, *value);
  if (ctx.out.attachment_count() != attached) ctx.keep = std::move(value);
}

/// pull<T>(name): the stored T.
template <class T>
struct PullTask {
  static void invoke(InvokeContext& ctx) {
    encode_stored<T>(ctx, decode_value<std::string>(ctx.in));
  }
};

/// push(name, value) to one engine, the value in the message (its large data attached).
template <class T>
struct StoreTask {
  static void invoke(InvokeContext& ctx) {
    const auto name = decode_value<std::string>(ctx.in);
    store_decoded<T>(name, ctx.in);
  }
};

/// scatter(name, values): this engine's chunk (header.count items) becomes a std::vector<T>.
template <class T>
struct ScatterTask {
  static void invoke(InvokeContext& ctx) {
    const auto name = decode_value<std::string>(ctx.in);
    std::vector<T> chunk(ctx.header.count);
    decode_items(ctx.items, chunk.data(), chunk.size());
    engine_namespace().set(name, std::move(chunk));
  }
};

/// gather<T>(name): the stored std::vector<T>.
template <class T>
struct GatherTask {
  static void invoke(InvokeContext& ctx) {
    encode_stored<std::vector<T>>(ctx, decode_value<std::string>(ctx.in));
  }
};

/// Writes the values of a push: a count, then (name, size, encoded value) for each.
template <class T>
void encode_entries(Writer& w, const std::vector<std::pair<const std::string*, const T*>>& vs) {
  encode_size(w, vs.size());
  for (auto [name, value] : vs) {
    encode(w, *name);
    const std::size_t at = w.skip(sizeof(std::uint64_t));
    const std::size_t begin = w.size();
    encode(w, *value);
    const std::uint64_t n = w.size() - begin;
    std::memcpy(w.at(at), &n, sizeof n);
  }
}

/// How the replies of every target become one value.
template <class R>
std::vector<R> each_target(std::vector<R>&& v) {
  return std::move(v);
}
template <class T>
std::vector<T> joined(std::vector<std::vector<T>>&& parts) {
  std::size_t n = 0;
  for (const auto& p : parts) n += p.size();
  std::vector<T> out;
  out.reserve(n);
  for (auto& p : parts) std::move(p.begin(), p.end(), std::back_inserter(out));
  return out;
}

}  // namespace ranks::detail
