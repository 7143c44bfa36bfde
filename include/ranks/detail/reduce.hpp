#pragma once

// Reductions over a view's engines (DirectView::reduce, allreduce): what an engine's task
// knows of a value (its elements, their kind, how two combine), handed to src/reduce.cpp,
// which makes it one MPI_Reduce or MPI_Allreduce among the engines. No MPI type shows here.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "ranks/detail/codec.hpp"
#include "ranks/detail/registry.hpp"
#include "ranks/error.hpp"
#include "ranks/namespace.hpp"

namespace ranks {

/// The smaller of two values, elementwise in a reduction of vectors (MPI_MIN for numbers).
struct min {
  template <class T>
  T operator()(const T& a, const T& b) const {
    return b < a ? b : a;
  }
};
/// The larger of two values (MPI_MAX for numbers).
struct max {
  template <class T>
  T operator()(const T& a, const T& b) const {
    return a < b ? b : a;
  }
};

namespace detail {

enum class ReduceOp : std::uint8_t { kSum, kProd, kMin, kMax, kUser };
enum class ElemKind : std::uint8_t { kInt32, kInt64, kUInt32, kUInt64, kFloat, kDouble, kBytes };

/// One reduction, as an engine runs it.
struct ReduceSpec {
  const std::vector<int>* ranks = nullptr;  // the view's engines in this engine's link, in order
  const void* in = nullptr;                 // this engine's elements
  void* out = nullptr;                      // the result's (at every engine of an allreduce)
  std::size_t count = 0;
  std::size_t elem_size = 0;
  ElemKind kind = ElemKind::kBytes;
  ReduceOp op = ReduceOp::kUser;
  void (*combine)(const void* in, void* inout, std::size_t n) = nullptr;  // for kUser
  bool all = false;                                                       // allreduce
};

/// On an engine: tells the view's other engines whether it holds the value (problem 0; 1: no
/// such name; 2: another type) and how many elements; throws ranks::Error, on every engine
/// alike, naming the first engine without it or the lengths that differ.
void agree_on_reduce(const std::vector<int>& ranks, const std::string& name, int problem,
                     std::int64_t length);
/// On an engine: one MPI_Reduce to the view's first engine, or one MPI_Allreduce. Returns this
/// engine's position among the view's engines.
int reduce_on_engines(const ReduceSpec& s);

class Group;
/// On the controller: the ranks of the group's engines in the one communicator they share with
/// it, in target order; empty unless every one is alive and all are of one communicator (a
/// reduction then folds on the controller, engine_comm() refuses).
std::vector<int> common_link_ranks(const Group& g);

// What a value is made of, for a reduction: a number (or any trivially copyable type), or a
// std::vector of them (elementwise).
template <class T>
struct Reducible {
  static constexpr bool vector = false;
  static constexpr bool value = std::is_trivially_copyable_v<T>;
  using Elem = T;
  static const Elem* data(const T& v) { return &v; }
  static Elem* data(T& v) { return &v; }
  static std::size_t size(const T&) { return 1; }
  static T sized(std::size_t) { return T{}; }
};
template <class E, class A>
struct Reducible<std::vector<E, A>> {
  static constexpr bool vector = true;
  static constexpr bool value = std::is_trivially_copyable_v<E>;
  using Elem = E;
  static const Elem* data(const std::vector<E, A>& v) { return v.data(); }
  static Elem* data(std::vector<E, A>& v) { return v.data(); }
  static std::size_t size(const std::vector<E, A>& v) { return v.size(); }
  static std::vector<E, A> sized(std::size_t n) { return std::vector<E, A>(n); }
};

template <class E>
constexpr ElemKind kind_of() {
  if constexpr (std::is_same_v<E, double>) return ElemKind::kDouble;
  if constexpr (std::is_same_v<E, float>) return ElemKind::kFloat;
  if constexpr (std::is_integral_v<E> && std::is_signed_v<E> && sizeof(E) == 4)
    return ElemKind::kInt32;
  if constexpr (std::is_integral_v<E> && std::is_signed_v<E> && sizeof(E) == 8)
    return ElemKind::kInt64;
  if constexpr (std::is_integral_v<E> && std::is_unsigned_v<E> && sizeof(E) == 4 &&
                !std::is_same_v<E, bool>)
    return ElemKind::kUInt32;
  if constexpr (std::is_integral_v<E> && std::is_unsigned_v<E> && sizeof(E) == 8)
    return ElemKind::kUInt64;
  return ElemKind::kBytes;
}

template <class Op, class E>
constexpr ReduceOp op_of() {
  if constexpr (kind_of<E>() == ElemKind::kBytes) return ReduceOp::kUser;
  if constexpr (std::is_same_v<Op, std::plus<>> || std::is_same_v<Op, std::plus<E>>)
    return ReduceOp::kSum;
  if constexpr (std::is_same_v<Op, std::multiplies<>> || std::is_same_v<Op, std::multiplies<E>>)
    return ReduceOp::kProd;
  if constexpr (std::is_same_v<Op, ranks::min>) return ReduceOp::kMin;
  if constexpr (std::is_same_v<Op, ranks::max>) return ReduceOp::kMax;
  return ReduceOp::kUser;
}

// inout[i] = op(in[i], inout[i]): MPI's order for an operation that may not commute.
template <class E, class Op>
void combine(const void* in, void* inout, std::size_t n) {
  const E* a = static_cast<const E*>(in);
  E* b = static_cast<E*>(inout);
  const Op op{};
  for (std::size_t i = 0; i < n; ++i) b[i] = op(a[i], b[i]);
}

/// reduce / allreduce of the value under a name: one MPI call among the engines. Arguments:
/// the name, the engines' ranks, and where an allreduce stores the result ("": a reduce, whose
/// result the first engine sends back).
template <class T, class Op>
struct ReduceTask {
  static void invoke(InvokeContext& ctx) {
    using V = Reducible<T>;
    const auto name = decode_value<std::string>(ctx.in);
    const auto ranks = decode_value<std::vector<int>>(ctx.in);
    const auto into = decode_value<std::string>(ctx.in);
    Namespace& ns = engine_namespace();
    std::shared_ptr<const T> mine;
    int problem = 0;
    if (!ns.contains(name)) {
      problem = 1;
    } else {
      try {
        mine = ns.share<T>(name);
      } catch (const Error&) {
        problem = 2;  // another type
      }
    }
    agree_on_reduce(ranks, name, problem,
                    mine ? static_cast<std::int64_t>(V::size(*mine)) : std::int64_t{-1});
    T result = V::sized(V::size(*mine));
    ReduceSpec s;
    s.ranks = &ranks;
    s.in = V::data(*mine);
    s.out = V::data(result);
    s.count = V::size(*mine);
    s.elem_size = sizeof(typename V::Elem);
    s.kind = kind_of<typename V::Elem>();
    s.op = op_of<Op, typename V::Elem>();
    s.combine = &combine<typename V::Elem, Op>;
    s.all = !into.empty();
    const int position = reduce_on_engines(s);
    if (s.all) {
      ns.set(into, std::move(result));
    } else if (position == 0) {
      encode(ctx.out, result);
    } else {
      encode(ctx.out, T{});  // only the first engine's counts
    }
  }
};

}  // namespace detail
}  // namespace ranks
