// LEMON's NetworkSimplex and CostScaling behind our interface: the reference the tests and
// the benchmark compare against. Not our solver; never chosen by kAuto.
#pragma once

#include "sluice/solver.hpp"

namespace sluice::detail {

[[nodiscard]] bool lemon_available();

// Runs LEMON (NetworkSimplex when network_simplex, else CostScaling) on a validated
// network and fills status, total_cost, flow, potential (converted to our sign
// convention) and timings.setup_s / solve_s.
[[nodiscard]] SolveResult solve_with_lemon(const Network& network, bool network_simplex);

}  // namespace sluice::detail
