// Seeded uniform integers that are the same on every standard library (the standard
// distributions are not), shared by the instance and snapshot generators.
#pragma once

#include <cstdint>
#include <random>

namespace sluice::detail {

__extension__ typedef unsigned __int128 Uint128;

// Uniform integers from mt19937_64, identical on every standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, bound); bound > 0. Lemire, "Fast Random Integer Generation in an
  // Interval" (2019): one multiplication, a division only on the rare rejection path.
  std::uint64_t below(std::uint64_t bound) {
    Uint128 m = static_cast<Uint128>(engine_()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<Uint128>(engine_()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi]; requires lo <= hi. The full int64 range is handled.
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
    if (span == 0) return static_cast<std::int64_t>(engine_());
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span));
  }

  std::int32_t index(std::int64_t n) {
    return static_cast<std::int32_t>(below(static_cast<std::uint64_t>(n)));
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace sluice::detail
