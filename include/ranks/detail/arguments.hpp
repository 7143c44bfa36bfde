#pragma once

// How a task's decoded arguments reach its callable on the engine. A ranks::Reference becomes
// the engine's own value under its name, typed by the callable's parameter where the
// parameter's type is known (plain functions, lambdas and functors with one operator()); a
// generic parameter receives the Reference itself. A callable whose first parameter is
// ranks::Namespace& gets the engine's namespace there, before the arguments.

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ranks/namespace.hpp"
#include "ranks/reference.hpp"

namespace ranks::detail {

/// The parameter types of F, where F has one signature.
template <class M>
struct MemberParams {
  static constexpr bool known = false;
};
template <class R, class C, class... P>
struct MemberParams<R (C::*)(P...)> {
  static constexpr bool known = true;
  using type = std::tuple<P...>;
};
template <class R, class C, class... P>
struct MemberParams<R (C::*)(P...) const> : MemberParams<R (C::*)(P...)> {};
template <class R, class C, class... P>
struct MemberParams<R (C::*)(P...) noexcept> : MemberParams<R (C::*)(P...)> {};
template <class R, class C, class... P>
struct MemberParams<R (C::*)(P...) const noexcept> : MemberParams<R (C::*)(P...)> {};

template <class F>
struct Params {
  static constexpr bool known = false;
};
template <class R, class... P>
struct Params<R (*)(P...)> {
  static constexpr bool known = true;
  using type = std::tuple<P...>;
};
template <class R, class... P>
struct Params<R (*)(P...) noexcept> : Params<R (*)(P...)> {};
template <class F>
requires requires { &F::operator(); }
struct Params<F> : MemberParams<decltype(&F::operator())> {};

/// What the callable receives for its I-th argument, of type A: A itself (moved or not), or for
/// a Reference, the value it names as the parameter's type.
template <class F, std::size_t I, class A, bool Move>
struct PassAs {
  using type = std::conditional_t<Move, A&&, A&>;
  static constexpr bool resolved = false;
};
template <class F, std::size_t I, bool Move>
requires(Params<F>::known&& I <
         std::tuple_size_v<typename Params<F>::type>) struct PassAs<F, I, Reference, Move> {
  using Param = std::remove_cvref_t<std::tuple_element_t<I, typename Params<F>::type>>;
  static constexpr bool resolved = !std::is_same_v<Param, Reference>;
  using type = std::conditional_t<resolved, const Param&, Reference&>;
};

/// Calls F with the elements of a tuple of arguments (moved if Move), References resolved,
/// after the engine's namespace if Ns (a callable whose first parameter is ranks::Namespace&).
template <class F, class Tuple, bool Move, bool Ns = false,
          class Is = std::make_index_sequence<std::tuple_size_v<Tuple>>>
struct Resolved;
template <class F, class Tuple, bool Move, bool Ns, std::size_t... I>
struct Resolved<F, Tuple, Move, Ns, std::index_sequence<I...>> {
  template <std::size_t K>
  using As = PassAs<F, K + (Ns ? 1 : 0), std::remove_cvref_t<std::tuple_element_t<K, Tuple>>, Move>;
  template <class... P>
  using Invoke = std::conditional_t<Ns, std::invoke_result<F&, Namespace&, P...>,
                                    std::invoke_result<F&, P...>>;
  template <class... P>
  static constexpr bool kInvocable =
      Ns ? std::is_invocable_v<F&, Namespace&, P...> : std::is_invocable_v<F&, P...>;

  static constexpr bool invocable = kInvocable<typename As<I>::type...>;
  using Result = typename std::conditional_t<invocable, Invoke<typename As<I>::type...>,
                                             std::type_identity<void>>::type;

  static decltype(auto) call(F& f, Tuple& args) {
    if constexpr (Ns) {
      return std::invoke(f, engine_namespace(), pass<I>(std::get<I>(args))...);
    } else {
      return std::invoke(f, pass<I>(std::get<I>(args))...);
    }
  }

 private:
  template <std::size_t K, class A>
  static typename As<K>::type pass(A& a) {
    if constexpr (As<K>::resolved) {
      return a.template get<typename As<K>::Param>();
    } else {
      return static_cast<typename As<K>::type>(a);
    }
  }
};

/// Whether a Reference among the arguments meets a parameter of F taken as T& (not const), after
/// the engine's namespace or not: the engine lends its value to be read, not changed.
template <class F, class Tuple, class Is = std::make_index_sequence<std::tuple_size_v<Tuple>>>
struct BindsReferenceToMutable : std::false_type {};
template <class F, class Tuple, std::size_t... I>
requires(Params<F>::known) struct BindsReferenceToMutable<F, Tuple, std::index_sequence<I...>> {
  using P = typename Params<F>::type;
  template <std::size_t K, std::size_t At>
  static constexpr bool mutable_at() {
    if constexpr (At >= std::tuple_size_v<P>) {
      return false;
    } else {
      using Param = std::tuple_element_t<At, P>;
      return std::is_same_v<std::remove_cvref_t<std::tuple_element_t<K, Tuple>>, Reference> &&
             std::is_lvalue_reference_v<Param> && !std::is_const_v<std::remove_reference_t<Param>>;
    }
  }
  static constexpr bool value = (mutable_at<I, I>() || ...) || (mutable_at<I, I + 1>() || ...);
};

/// Calls f with a tuple of arguments: moved where f takes them so (no copy of a large vector),
/// as lvalues where it takes them by non-const reference; if f cannot take them but can take
/// the engine's namespace before them, with that. A callable that cannot take them stops the
/// build here, where the task's result type is first asked for: before any error it would
/// cause in the caller's code.
template <class F, class Tuple>
struct Call {
  static constexpr bool ns =
      !Resolved<F, Tuple, true>::invocable && !Resolved<F, Tuple, false>::invocable &&
      (Resolved<F, Tuple, true, true>::invocable || Resolved<F, Tuple, false, true>::invocable);
  static constexpr bool moved = Resolved<F, Tuple, true, ns>::invocable;
  using Way = Resolved<F, Tuple, moved, ns>;
  static constexpr bool invocable = Way::invocable;
  static constexpr bool mutable_reference = BindsReferenceToMutable<F, Tuple>::value;
  static_assert(invocable || !mutable_reference,
                "ranks: a ranks::Reference is bound to a T& parameter, but the engine lends its "
                "value to be read, not changed: take that parameter as const T& (or T, a copy); "
                "to change the value, set it again (ranks::Namespace::set)");
  static_assert(invocable || mutable_reference,
                "ranks: the callable cannot be called with these arguments: check their number "
                "and types against its parameters");
  using Result = std::remove_cvref_t<typename Way::Result>;
};

template <class F, class Tuple>
decltype(auto) call_with(F& f, Tuple& args) {
  return Call<F, Tuple>::Way::call(f, args);
}

}  // namespace ranks::detail
