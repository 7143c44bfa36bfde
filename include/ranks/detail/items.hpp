#pragma once

// The input of a map: a view on the caller's items, and what keeps them alive while the map
// runs.

#include <memory>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace ranks::detail {

template <class T>
struct Items {
  std::span<const T> view;
  std::shared_ptr<const void> keep;
};

template <class Range>
using item_t = std::remove_cvref_t<std::ranges::range_value_t<Range>>;

/// The items of an asynchronous call: kept alive by the job (moved in where they can be).
template <class Range>
Items<item_t<Range>> keep_items(Range&& items) {
  using T = item_t<Range>;
  std::shared_ptr<const std::vector<T>> owned;
  if constexpr (std::is_same_v<std::remove_cvref_t<Range>, std::vector<T>> &&
                !std::is_lvalue_reference_v<Range>) {
    owned = std::make_shared<const std::vector<T>>(std::forward<Range>(items));
  } else {
    owned =
        std::make_shared<const std::vector<T>>(std::ranges::begin(items), std::ranges::end(items));
  }
  return {std::span<const T>(owned->data(), owned->size()), owned};
}

/// The items of a synchronous call: a view, the caller waits while they are used.
template <class Range>
Items<item_t<Range>> view_items(Range& items) {
  using T = item_t<Range>;
  if constexpr (std::ranges::contiguous_range<Range> && std::ranges::sized_range<Range>) {
    return {std::span<const T>(std::ranges::data(items), std::ranges::size(items)), nullptr};
  } else {
    return keep_items(items);
  }
}

}  // namespace ranks::detail
