#pragma once

// What the codec asks of a type: how it travels. Free of Boost, so that headers which only need
// a trait (a Namespace stores a C string as a std::string) do not compile the archives.

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ranks {

/// For a plain struct whose serialize() is written outside it (non-intrusive Boost.Serialization,
/// in namespace boost::serialization), where ranks cannot see it: specialize to true, and ranks
/// sends it through that serialize() instead of refusing it at compile time.
/// @code
/// template <> inline constexpr bool ranks::serialized_elsewhere<Point> = true;
/// @endcode
template <class T>
inline constexpr bool serialized_elsewhere = false;

}  // namespace ranks

namespace ranks::detail {

/// Views of another's memory (std::span, std::string_view): they travel as the elements they
/// show, never as their pointer, and arrive as the container that owns such elements.
template <class T>
struct is_span : std::false_type {};
template <class T, std::size_t N>
struct is_span<std::span<T, N>> : std::true_type {};
template <class T>
struct is_string_view : std::false_type {};
template <class C, class Tr>
struct is_string_view<std::basic_string_view<C, Tr>> : std::true_type {};
template <class T>
inline constexpr bool is_view_v = is_span<T>::value || is_string_view<T>::value;

/// True where a value travels as its bytes (as boost::mpi's is_mpi_datatype picks MPI types).
template <class T>
inline constexpr bool is_raw_v =
    std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
    !std::is_empty_v<T> && !is_view_v<T>;

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string : std::false_type {};
template <class C, class Tr, class A>
struct is_string<std::basic_string<C, Tr, A>> : std::true_type {};
template <class T>
struct is_tuple_like : std::false_type {};
template <class... T>
struct is_tuple_like<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

/// True where a std::vector<T> of the type is contiguous raw memory (not std::vector<bool>).
template <class T>
inline constexpr bool is_raw_element_v = is_raw_v<T> && !std::is_same_v<T, bool>;

template <class T>
struct vector_kind {
  static constexpr bool raw = false;
  static constexpr bool other = false;
};
template <class T, class A>
struct vector_kind<std::vector<T, A>> {
  static constexpr bool raw = is_raw_element_v<T>;
  static constexpr bool other = !raw && !std::is_same_v<T, bool>;
};
/// A span is sent as the vector of its elements would be.
template <class T, std::size_t N>
struct vector_kind<std::span<T, N>> : vector_kind<std::vector<std::remove_cv_t<T>>> {};

template <class T>
inline constexpr bool is_c_string_v =
    std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>;

template <class T>
struct wire_type {
  using type = std::conditional_t<is_c_string_v<T>, std::string, std::decay_t<T>>;
};
template <class T, std::size_t N>
struct wire_type<std::span<T, N>> {
  using type = std::vector<std::remove_cv_t<T>>;
};
template <class C, class Tr>
struct wire_type<std::basic_string_view<C, Tr>> {
  using type = std::basic_string<C, Tr>;
};

/// What an argument arrives as: C strings (and string literals) and string views as
/// std::string, a std::span<T> as a std::vector<T>, the rest as is.
template <class T>
using wire_t = typename wire_type<std::decay_t<T>>::type;

template <class T>
decltype(auto) wire_value(const T& v) {
  if constexpr (is_c_string_v<T>) {
    return std::string(v);
  } else {
    return (v);
  }
}

}  // namespace ranks::detail
