#pragma once

// The tasks behind the direct view: each runs on an engine against its namespace.

#include <string>
#include <typeinfo>
#include <vector>

#include "ranks/detail/jobs.hpp"
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

/// push: items are a count, then (name, size, encoded T) per value, stored as they came.
template <class T>
struct PushTask {
  static void invoke(InvokeContext& ctx) {
    const std::size_t n = decode_size(ctx.items);
    for (std::size_t i = 0; i < n; ++i) {
      const auto name = decode_value<std::string>(ctx.items);
      const std::size_t len = decode_size(ctx.items);
      const std::byte* p = ctx.items.take(len);
      engine_namespace().set_encoded(name, typeid(T).name(), Bytes(p, p + len));
    }
  }
};

/// pull<T>(name): the stored bytes, which are the encoded T.
template <class T>
struct PullTask {
  static void invoke(InvokeContext& ctx) {
    const auto name = decode_value<std::string>(ctx.in);
    const Bytes& b = engine_namespace().encoded(name, typeid(T).name());
    ctx.out.raw(b.data(), b.size());
  }
};

/// scatter(name, values): this engine's chunk (header.count items) becomes a std::vector<T>.
template <class T>
struct ScatterTask {
  static void invoke(InvokeContext& ctx) {
    const auto name = decode_value<std::string>(ctx.in);
    std::vector<T> chunk(ctx.header.count);
    if constexpr (is_raw_element_v<T>) {
      if (!chunk.empty()) ctx.items.raw(chunk.data(), chunk.size() * sizeof(T));
    } else {
      for (auto& v : chunk) decode(ctx.items, v);
    }
    engine_namespace().set(name, chunk);
  }
};

/// gather<T>(name): the stored std::vector<T>, encoded.
template <class T>
struct GatherTask {
  static void invoke(InvokeContext& ctx) {
    const auto name = decode_value<std::string>(ctx.in);
    const Bytes& b = engine_namespace().encoded(name, typeid(std::vector<T>).name());
    ctx.out.raw(b.data(), b.size());
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
template <class R>
R only_target(std::vector<R>&& v) {
  return std::move(v.front());
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
