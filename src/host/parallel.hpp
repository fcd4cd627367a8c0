// Splitting a pass over many items between threads (the allocator's repair and extract).
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace sluice::detail {

// Runs fn(chunk, begin, end) over [0, n) cut into `chunks` contiguous ranges, one thread
// per range (the calling thread takes the first).
template <typename Fn>
inline void for_chunks(std::size_t chunks, const std::vector<std::size_t>& bounds, Fn&& fn) {
  std::vector<std::thread> pool;
  for (std::size_t k = 1; k < chunks; ++k) pool.emplace_back([&, k] { fn(k, bounds[k], bounds[k + 1]); });
  fn(0, bounds[0], bounds[1]);
  for (std::thread& t : pool) t.join();
}

// Threads for a pass over `work` items: one per 50,000, at most what the machine has (and 8).
inline std::size_t threads_for(std::size_t work) {
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<std::size_t>(work / 50'000, 1, std::min<std::size_t>(hw, 8));
}

}  // namespace sluice::detail
