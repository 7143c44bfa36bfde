#include <omp.h>

#include "shared_memory.hpp"
#include "workloads.hpp"

namespace bench {

void openmp_for(int workers, std::size_t n, std::size_t chunk,
                const std::function<void(std::size_t)>& body) {
  const auto c = static_cast<int>(chunk == 0 ? 1 : chunk);
#pragma omp parallel for schedule(dynamic, c) num_threads(workers)
  for (std::size_t i = 0; i < n; ++i) body(i);
}

int* openmp_square_all(int workers, const std::vector<int>& in, std::vector<int>& out,
                       std::size_t chunk) {
  const auto c = static_cast<int>(chunk == 0 ? 1 : chunk);
  const auto n = static_cast<long>(in.size());
#pragma omp parallel for schedule(dynamic, c) num_threads(workers)
  for (long i = 0; i < n; ++i)
    out[static_cast<std::size_t>(i)] = square(in[static_cast<std::size_t>(i)]);
  return out.data();
}

}  // namespace bench
