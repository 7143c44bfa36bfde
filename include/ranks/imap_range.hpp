#pragma once

#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <utility>

#include "ranks/detail/map_state.hpp"
#include "ranks/detail/progress.hpp"

/// @file
/// ranks::ImapRange: the results of Pool::imap, as they come.

namespace ranks {

/// The results of Pool::imap and Pool::imap_unordered: a range whose iterator waits for the
/// next result. A failed item rethrows its failure when the loop reaches it. Copies share the
/// results.
///
/// @code
/// for (int v : pool.imap(square, in)) { /* in input order, as they arrive */ }
/// @endcode
template <class R>
class ImapRange {
 public:
  /// @cond INTERNAL
  ImapRange(std::shared_ptr<detail::MapState<R>> state, bool ordered)
      : state_(std::move(state)), ordered_(ordered) {}
  /// @endcond

  /// Walks the results; `*it` is the result at hand, `++it` waits for the next one.
  class iterator {
   public:
    using value_type = R;                    ///< the result type
    using difference_type = std::ptrdiff_t;  ///< as input iterators have
    /// An iterator at the end.
    iterator() = default;
    /// @cond INTERNAL
    iterator(detail::MapState<R>* s, bool ordered, std::size_t pos)
        : s_(s), ordered_(ordered), pos_(pos) {
      settle();
    }
    /// @endcond
    /// The result at hand.
    const R& operator*() const { return s_->result(index_); }
    /// The position in the input of the result at hand (for imap_unordered, where results come
    /// in completion order).
    [[nodiscard]] std::size_t index() const { return index_; }
    /// Waits for the next result; rethrows its failure (ranks::RemoteError).
    iterator& operator++() {
      ++pos_;
      settle();
      return *this;
    }
    /// As ++it.
    void operator++(int) { ++*this; }
    /// Whether every result has been walked.
    bool operator==(std::default_sentinel_t) const { return s_ == nullptr || pos_ >= s_->size(); }

   private:
    // Waits until the pos_-th result is here, and finds where it is.
    void settle() {
      if (s_ == nullptr || pos_ >= s_->size()) return;
      auto* s = s_;
      const std::size_t pos = pos_;
      if (ordered_) {
        detail::wait_until([s, pos] { return s->prefix() > pos || s->cancelled(); });
        auto lk = detail::lock();
        s->rethrow_at(pos);
        index_ = pos;
        return;
      }
      detail::wait_until([s, pos] { return s->units_done() > pos || s->cancelled(); });
      auto lk = detail::lock();
      // pos only grows: resume the walk over the arrived chunks where the last one ended.
      const auto& arrivals = s->arrivals();
      for (; scan_ < arrivals.size(); ++scan_) {
        const auto [start, len] = arrivals[scan_];
        if (pos < seen_ + len) {
          s->rethrow_at(start);
          index_ = start + (pos - seen_);
          return;
        }
        seen_ += len;
      }
      s->rethrow_at(s->size());  // cancelled before pos arrived
    }

    detail::MapState<R>* s_ = nullptr;
    bool ordered_ = true;
    std::size_t pos_ = 0;
    std::size_t index_ = 0;
    std::size_t scan_ = 0;  // unordered: the arrived chunk holding pos_
    std::size_t seen_ = 0;  // items in the arrived chunks before it
  };

  /// Waits for the first result.
  iterator begin() { return iterator(state_.get(), ordered_, 0); }
  /// The end: an iterator equals it once every result has been walked.
  std::default_sentinel_t end() { return {}; }

  /// The same results, each with its position in the input.
  /// @code
  /// for (auto [i, v] : pool.imap_unordered(f, in).indexed()) out[i] = v;
  /// @endcode
  class Indexed {
   public:
    /// As ImapRange::iterator, giving (input position, result) pairs.
    class iterator {
     public:
      using value_type = std::pair<std::size_t, const R&>;  ///< (input position, result)
      using difference_type = std::ptrdiff_t;               ///< as input iterators have
      /// An iterator at the end.
      iterator() = default;
      /// Walks what `it` walks.
      explicit iterator(ImapRange::iterator it) : it_(std::move(it)) {}
      /// The result at hand and its position in the input.
      value_type operator*() const { return {it_.index(), *it_}; }
      /// Waits for the next result; rethrows its failure (ranks::RemoteError).
      iterator& operator++() {
        ++it_;
        return *this;
      }
      /// As ++it.
      void operator++(int) { ++*this; }
      /// Whether every result has been walked.
      bool operator==(std::default_sentinel_t end) const { return it_ == end; }

     private:
      ImapRange::iterator it_;
    };
    /// The results of r, with their positions.
    explicit Indexed(ImapRange r) : range_(std::move(r)) {}
    /// Waits for the first result.
    iterator begin() { return iterator(range_.begin()); }
    /// The end, as ImapRange::end().
    std::default_sentinel_t end() { return {}; }

   private:
    ImapRange range_;  // a copy shares the results: it keeps them alive for the loop
  };
  /// Each result with its input position.
  Indexed indexed() const { return Indexed(*this); }

 private:
  std::shared_ptr<detail::MapState<R>> state_;
  bool ordered_;
};

}  // namespace ranks
