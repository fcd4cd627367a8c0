// Frontier compaction as the device does it, reproduced on the host: the indices i < n with
// flags[i] != 0, in increasing order, and their count. On the device this is
// cub::DeviceSelect::Flagged over a counting iterator (cost_scaling_solver.cu), which is a
// tiled scan: each tile counts its flags, an exclusive scan over the tile counts gives
// every tile its output offset, and each tile scatters its selected indices from there.
// The host runs the same three steps with the same tiling, so the executor's work model
// counts what the device reads and writes, and tests can check the order CUB guarantees
// (stable) against std::copy_if.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::detail {

struct SelectWork {
  std::int64_t tiles = 0;
  std::int64_t bytes = 0;  // flags read twice (count, scatter), tile offsets, indices written
};

inline std::int32_t select_flagged(const std::uint8_t* flags, std::int32_t n, std::int32_t* out,
                                   std::int32_t tile = 2048, SelectWork* work = nullptr) {
  if (n <= 0) return 0;
  const std::int32_t tiles = (n + tile - 1) / tile;
  std::vector<std::int32_t> offset(static_cast<std::size_t>(tiles) + 1, 0);
  // 1. Per-tile counts.
  for (std::int32_t t = 0; t < tiles; ++t) {
    const std::int32_t end = t + 1 == tiles ? n : (t + 1) * tile;
    std::int32_t c = 0;
    for (std::int32_t i = t * tile; i < end; ++i) c += flags[i] != 0 ? 1 : 0;
    offset[static_cast<std::size_t>(t) + 1] = c;
  }
  // 2. Exclusive scan of the counts: each tile's first output slot.
  for (std::int32_t t = 0; t < tiles; ++t) offset[static_cast<std::size_t>(t) + 1] += offset[static_cast<std::size_t>(t)];
  // 3. Scatter, in index order within each tile.
  for (std::int32_t t = 0; t < tiles; ++t) {
    const std::int32_t end = t + 1 == tiles ? n : (t + 1) * tile;
    std::int32_t at = offset[static_cast<std::size_t>(t)];
    for (std::int32_t i = t * tile; i < end; ++i) {
      if (flags[i] != 0) out[at++] = i;
    }
  }
  const std::int32_t count = offset[static_cast<std::size_t>(tiles)];
  if (work != nullptr) {
    work->tiles += tiles;
    work->bytes += 2 * static_cast<std::int64_t>(n) + 8 * static_cast<std::int64_t>(tiles) + 4 * count;
  }
  return count;
}

}  // namespace sluice::detail
