// Small random min-cost-flow instances for the solver tests: supplies from a random flow
// within bounds (feasible) most of the time, random balanced supplies (often infeasible)
// otherwise; lower bounds, zero and infinite capacities, negative costs, parallel arcs and
// self loops all occur.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "sluice/network.hpp"

namespace sluice::test {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 engine_;
};

inline Network random_network(std::uint64_t seed, std::int64_t max_nodes = 24) {
  Rng rng(seed);
  const auto n = static_cast<NodeId>(rng.in(2, max_nodes));
  const std::int64_t m = rng.in(0, 4 * static_cast<std::int64_t>(n));
  const std::int64_t cost_range = std::vector<std::int64_t>{3, 100, 10'000}[static_cast<std::size_t>(rng.in(0, 2))];
  const std::int64_t cap_range = std::vector<std::int64_t>{1, 10, 1000}[static_cast<std::size_t>(rng.in(0, 2))];
  const bool from_flow = rng.chance(0.75);
  const double p_negative = rng.chance(0.5) ? 0.3 : 0.0;
  const double p_inf = rng.chance(0.5) ? 0.15 : 0.0;
  const double p_lower = rng.chance(0.3) ? 0.2 : 0.0;
  Network net(n);
  std::vector<std::int64_t> supply(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < m; ++i) {
    auto t = static_cast<NodeId>(rng.in(0, n - 1));
    auto h = static_cast<NodeId>(rng.in(0, n - 1));
    if (net.num_arcs() > 0 && rng.chance(0.1)) {
      const auto prev = static_cast<ArcId>(rng.in(0, net.num_arcs() - 1));
      t = net.tail(prev);
      h = net.head(prev);
    } else if (t == h && !rng.chance(0.2)) {
      h = static_cast<NodeId>((h + 1) % n);
    }
    std::int64_t cost = rng.in(0, cost_range);
    if (rng.chance(p_negative)) cost = -cost;
    std::int64_t cap = rng.chance(0.05) ? 0 : rng.in(1, cap_range);
    std::int64_t lower = rng.chance(p_lower) ? rng.in(0, cap) : 0;
    std::int64_t f = rng.in(lower, cap);
    if (rng.chance(p_inf)) {
      if (cost < 0) cost = -cost;  // no negative infinite cycles: unboundedness is tested elsewhere
      cap = kInfiniteCapacity;
      f = lower + rng.in(0, cap_range);
    }
    net.add_arc(t, h, lower, cap, cost);
    supply[static_cast<std::size_t>(t)] += f;
    supply[static_cast<std::size_t>(h)] -= f;
  }
  if (!from_flow) {
    std::fill(supply.begin(), supply.end(), 0);
    for (int k = 0; k < 3; ++k) {
      const auto a = static_cast<NodeId>(rng.in(0, n - 1));
      const auto b = static_cast<NodeId>(rng.in(0, n - 1));
      const std::int64_t amount = rng.in(1, cap_range);
      supply[static_cast<std::size_t>(a)] += amount;
      supply[static_cast<std::size_t>(b)] -= amount;
    }
  }
  for (NodeId v = 0; v < n; ++v) net.set_supply(v, supply[static_cast<std::size_t>(v)]);
  return net;
}

}  // namespace sluice::test
