// The ε-scaling driver, written once for every cost-scaling solver we have: the CPU's
// (src/cpu_fallback/cost_scaling.cpp), the CUDA host loop (kernels/cost_scaling_solver.cu)
// and the host executor that validates the kernels (kernels/host_executor/). Each supplies
// its steps; the order of the phases and what may skip what lives here. Plain C++.
//
// Problem: min-cost flow from a flow whose excesses the refine can settle, costs already
// multiplied by K = n + 1 (scaled_costs_fit checks that they fit), so ε = 1 means optimal.
// Per phase, ε /= α (at least 1), then in this order:
//   1. begin_phase: the solver's own checks (cancellation);
//   2. arc fixing with the previous ε, where the solver fixes arcs at all;
//   3. price refinement: prices under which the current flow is ε-optimal already; if found
//      and no fixed arc is violated, the refine is skipped;
//   4. the refine, repeated while the check of the fixed arcs frees any;
//   5. phase_done (checks, progress);
//   6. once ε is below one original unit, the optimality test: if the flow is provably
//      optimal now, scaling ends early.
// Invariant: ε-optimality at the end of every phase. A step returns false on an error
// (or cancellation), which the solver reads from its own state; the driver stops there.
// Follows: Goldberg & Tarjan 1990 (ε-scaling, fixed arcs); Goldberg 1997 (price refinement,
// the heuristics' order).
#pragma once

#include <algorithm>
#include <cstdint>

namespace sluice::detail {

// Scaled costs must satisfy max|c|·K <= 2^61, so prices (floor -2^62) and reduced costs
// stay within 64 bits.
inline constexpr std::int64_t kMaxScaledCost = std::int64_t{1} << 61;
[[nodiscard]] inline bool scaled_costs_fit(std::int64_t max_abs_cost, std::int64_t k) {
  return static_cast<__int128>(max_abs_cost) * k <= kMaxScaledCost;
}

struct PhaseSwitches {
  bool arc_fixing = false;
  bool price_refinement = true;
  bool early_exit = true;
};

struct PhaseCounts {
  std::int64_t phases = 0;
  std::int64_t skipped_phases = 0;  // by price refinement
  bool early_exit = false;          // the optimality test ended the scaling
};

// Steps, each returning false on an error: begin_phase(eps), fix_arcs(prev_eps),
// refine_prices(eps, found&), free_violated(eps, freed&), refine(eps), phase_done(eps),
// prove_optimal(eps, optimal&).
template <class Steps>
bool run_eps_scaling(Steps& steps, std::int64_t first_eps, std::int64_t k, int alpha, const PhaseSwitches& on,
                     PhaseCounts& counts) {
  const std::int64_t a = std::max(2, alpha);
  for (std::int64_t eps = first_eps; eps > 1;) {
    const std::int64_t prev = eps;
    eps = std::max<std::int64_t>(1, eps / a);
    ++counts.phases;
    if (!steps.begin_phase(eps)) return false;
    if (on.arc_fixing && !steps.fix_arcs(prev)) return false;
    bool found = false;
    std::int64_t freed = 0;
    if (on.price_refinement && !steps.refine_prices(eps, found)) return false;
    if (found && !steps.free_violated(eps, freed)) return false;
    if (found && freed == 0) {
      ++counts.skipped_phases;
      if (!steps.phase_done(eps)) return false;
      continue;
    }
    do {
      if (!steps.refine(eps) || !steps.free_violated(eps, freed)) return false;
    } while (freed > 0);
    if (!steps.phase_done(eps)) return false;
    if (on.early_exit && eps > 1 && eps < k) {
      bool optimal = false;
      if (!steps.prove_optimal(eps, optimal)) return false;
      if (optimal) {
        counts.early_exit = true;
        break;
      }
    }
  }
  return true;
}

}  // namespace sluice::detail
