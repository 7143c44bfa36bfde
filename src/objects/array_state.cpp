// SyncState's values and arrays: blocks read and written whole element by element, fetch_add
// and compare_exchange.

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <string>
#include <type_traits>

#include "objects/sync_layout.hpp"
#include "objects/sync_state.hpp"

namespace ranks::detail::objects {

using namespace layout;

namespace {

// Maps a large block of the object's memory into this process at once, rather than a page at a
// time as the loop below first touches each.
void populate(unsigned char* at, std::size_t bytes, bool writing) {
  if (bytes < (std::size_t{1} << 20)) return;
  const std::uintptr_t page = 4096;
  const auto begin = reinterpret_cast<std::uintptr_t>(at) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(at) + bytes;
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin,
                  writing ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

// Copies count elements of width bytes (1, 2, 4 or 8), each whole: no process that looks at the
// same time, nor one killed in the middle, sees an element torn.
#if defined(__x86_64__)
// One element per iteration of a string move, which the processor interrupts only between
// iterations (a signal, SIGKILL too, is taken there); as fast as memcpy for large blocks.
void copy_elements(unsigned char* to, const unsigned char* from, std::size_t count,
                   std::size_t width) {
  switch (width) {
    case 8:
      asm volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    case 4:
      asm volatile("rep movsl" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    case 2:
      asm volatile("rep movsw" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
      break;
    default:
      asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // string stores may pass each other
}
#else
template <class U>
void copy_each(unsigned char* to, const unsigned char* from, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const U v =
        std::atomic_ref<U>(*reinterpret_cast<U*>(const_cast<unsigned char*>(from) + i * sizeof(U)))
            .load(std::memory_order_relaxed);
    std::atomic_ref<U>(*reinterpret_cast<U*>(to + i * sizeof(U)))
        .store(v, std::memory_order_relaxed);
  }
}
void copy_elements(unsigned char* to, const unsigned char* from, std::size_t count,
                   std::size_t width) {
  switch (width) {
    case 8:
      return copy_each<std::uint64_t>(to, from, count);
    case 4:
      return copy_each<std::uint32_t>(to, from, count);
    case 2:
      return copy_each<std::uint16_t>(to, from, count);
    default:
      return copy_each<std::uint8_t>(to, from, count);
  }
}
#endif

// Calls f with a zero of the unsigned type of `width` bytes (1, 2, 4 or 8).
template <class F>
void by_width(std::size_t width, F f) {
  switch (width) {
    case 1:
      return f(std::uint8_t{});
    case 2:
      return f(std::uint16_t{});
    case 4:
      return f(std::uint32_t{});
    default:
      return f(std::uint64_t{});
  }
}

template <class U>
std::uint64_t add_bits(unsigned char* at, std::uint64_t operand, Number n) {
  std::atomic_ref<U> a(*reinterpret_cast<U*>(at));
  if constexpr (sizeof(U) < 4) {
    return a.fetch_add(static_cast<U>(operand));
  } else {
    if (n != Number::kFloat) return a.fetch_add(static_cast<U>(operand));
    using F = std::conditional_t<sizeof(U) == 4, float, double>;
    F add;
    std::memcpy(&add, &operand, sizeof add);
    U old = a.load();
    while (true) {
      F f;
      std::memcpy(&f, &old, sizeof f);
      f += add;
      U now;
      std::memcpy(&now, &f, sizeof now);
      if (a.compare_exchange_weak(old, now)) return old;
    }
  }
}

template <class U>
bool swap_bits(unsigned char* at, std::uint64_t& expected, std::uint64_t desired) {
  std::atomic_ref<U> a(*reinterpret_cast<U*>(at));
  U e = static_cast<U>(expected);
  const bool ok = a.compare_exchange_strong(e, static_cast<U>(desired));
  expected = e;
  return ok;
}

}  // namespace

Step SyncState::array(SyncCall& call) {
  const std::size_t width = id_.element & 0xffU;
  const std::uint64_t n = id_.capacity;
  const std::uint64_t count =
      call.op == Op::kRead || call.op == Op::kWrite ? call.count : std::uint64_t{1};
  if (call.first > n || count > n - call.first)
    return fail(Status::kError, "elements " + std::to_string(call.first) + ".." +
                                    std::to_string(call.first + count) +
                                    " (end excluded) are outside the array of " +
                                    std::to_string(n));
  unsigned char* at = memory_ + kData + call.first * width;
  if (call.op == Op::kRead || call.op == Op::kWrite) {
    const bool reading = call.op == Op::kRead;
    const unsigned char* from = reading ? at : static_cast<const unsigned char*>(call.in);
    unsigned char* to = reading ? static_cast<unsigned char*>(call.out) : at;
    populate(at, count * width, !reading);
    if (word_sized(width)) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      copy_elements(to, from, count, width);
    } else {  // the caller holds the array's lock
      std::memcpy(to, from, count * width);
    }
    return ok_if(true);
  }
  if (!word_sized(width))
    return fail(Status::kError, "fetch_add or compare_exchange of elements larger than 8 bytes");
  const auto number = static_cast<Number>(id_.element >> 8);
  if (call.op == Op::kFetchAdd && number == Number::kNone)
    return fail(Status::kError, "fetch_add on elements that are not numbers");
  SyncResult r;
  by_width(width, [&](auto word) {
    using U = decltype(word);
    if (call.op == Op::kFetchAdd) {
      r.bits = add_bits<U>(at, call.operand, number);
    } else {
      r.bits = call.expected;
      r.ok = swap_bits<U>(at, r.bits, call.operand);
    }
  });
  return done(std::move(r));
}

}  // namespace ranks::detail::objects
