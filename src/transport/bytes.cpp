#include "ranks/detail/bytes.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace ranks::detail {

void prefer_huge_pages(void* p, std::size_t n) noexcept {
  // Only the 2 MiB pages wholly inside the block: nothing outside it changes.
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (n < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(kHuge - 1);
  if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace ranks::detail
