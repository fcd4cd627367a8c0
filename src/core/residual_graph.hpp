// The residual graph every CPU algorithm works on: forward-star (CSR) arrays with each
// arc and its reverse paired (rev[e]), built once from a validated Network.
//
// Building it also removes lower bounds (send `lower` units up front, shift supplies) and
// clamps infinite capacities to a bound no optimal flow needs to exceed (total supply plus
// all finite capacities), after checking that no negative-cost cycle of infinite arcs
// makes the problem unbounded. Flows of the original arcs are read back with flow_of().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/network.hpp"

namespace sluice::detail {

struct ResidualGraph {
  std::int32_t n = 0;                // nodes
  std::int32_t m2 = 0;               // residual arcs (2 per network arc)
  std::vector<std::int32_t> first;   // n + 1: arcs of v are [first[v], first[v+1])
  std::vector<std::int32_t> head;    // m2
  std::vector<std::int32_t> rev;     // m2: the paired arc
  std::vector<std::int64_t> cost;    // m2: cost[rev[e]] == -cost[e]
  std::vector<std::int64_t> rescap;  // m2: residual capacity
  std::vector<std::int32_t> fwd;     // network arc a -> its forward residual arc
  std::vector<std::int64_t> excess;  // n: supplies after removing lower bounds
  bool has_negative_infinite_cycle = false;
  std::int64_t infinite_bound = 0;   // what infinite capacities were clamped to (0: none)
  std::int64_t max_abs_cost = 0;

  [[nodiscard]] std::int64_t flow_of(const Network& net, ArcId a) const {
    return net.lower(a) + rescap[static_cast<std::size_t>(rev[static_cast<std::size_t>(fwd[static_cast<std::size_t>(a)])])];
  }
  [[nodiscard]] std::size_t memory_bytes() const;
};

// The capacity infinite arcs get in the residual graph, 0 when there are none (a network
// that passed validate()).
[[nodiscard]] std::int64_t infinite_capacity_bound(const Network& network);

// Builds the residual graph of a network that passed validate().
[[nodiscard]] ResidualGraph build_residual_graph(const Network& network);

// True when the arcs of infinite capacity contain a cycle of negative total cost
// (Bellman-Ford restricted to those arcs; self loops included).
[[nodiscard]] bool has_negative_infinite_cycle(const Network& network);

}  // namespace sluice::detail
