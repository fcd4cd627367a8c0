// A proof that a flow is optimal, checked from first principles:
//   1. feasibility: lower <= f <= capacity on every arc, conservation at every node;
//   2. complementary slackness with potentials p, reduced cost rc = cost + p[tail] - p[head]:
//      rc > 0  =>  f = lower,   rc < 0  =>  f = capacity;
//   3. primal cost Σ cost·f equals the dual cost
//      -Σ_v supply(v)·p(v) + Σ_a (rc_a >= 0 ? lower_a·rc_a : capacity_a·rc_a).
// (1) and (3) together prove optimality by weak duality; (2) is what makes (3) hold and
// names the arc at fault when it does not. All sums are computed in 128 bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/network.hpp"

namespace sluice {

struct Certificate {
  bool feasible = false;
  bool complementary_slackness = false;
  bool costs_equal = false;
  std::string primal_cost;  // decimal, exact (128-bit)
  std::string dual_cost;
  std::string message;      // the first violation found, empty when valid
  [[nodiscard]] bool valid() const { return feasible && complementary_slackness && costs_equal; }
};

[[nodiscard]] Certificate check_optimality(const Network& network,
                                           const std::vector<std::int64_t>& flow,
                                           const std::vector<std::int64_t>& potential);

// Only the feasibility part (used for results without potentials).
[[nodiscard]] Certificate check_feasibility(const Network& network,
                                            const std::vector<std::int64_t>& flow);

}  // namespace sluice
