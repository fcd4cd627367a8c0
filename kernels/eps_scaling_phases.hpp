// The GPU solver's ε-scaling phases, written once for the CUDA host loop
// (cost_scaling_solver.cu) and the host executor that validates it
// (host_executor/gpu_algorithm_host.cpp); each supplies the steps, on the device or on the
// host. Plain C++, host code only.
//
// Problem: min-cost flow from a feasible flow, costs already multiplied by K = n + 1, so
// ε = 1 means optimal. Per phase, ε /= α, then in this order:
//   1. arc fixing with the previous ε (the flow is ε_prev-optimal there);
//   2. price refinement: tighten prices with slack ε; when they settle and no fixed arc is
//      violated, the flow is ε-optimal already and the refine is skipped;
//   3. the refine, repeated while the check of the fixed arcs frees any;
//   4. once ε is below one original unit, the early exit: tightening with slack 0 settles
//      only on an optimal flow, which ends the scaling.
// Invariant: ε-optimality at the end of every phase (the executor checks it through
// phase_done). Steps return false on an error, which the caller reads from its state.
// Follows: Goldberg & Tarjan 1990 (ε-scaling, fixed arcs); Goldberg 1997 (price refinement).
#pragma once

#include <algorithm>
#include <cstdint>

namespace sluice::detail {

struct PhaseSwitches {
  bool arc_fixing = true;
  bool price_refinement = true;
  bool early_exit = true;
};

struct PhaseCounts {
  std::int64_t phases = 0;
  std::int64_t skipped_phases = 0;  // by price refinement
  bool early_exit = false;
};

// Steps: fix_arcs(prev_eps), tighten(slack, settled&), free_violated(eps, freed&),
// refine(eps), phase_done(eps); each returns false on an error.
template <class Steps>
bool run_eps_scaling(Steps& steps, std::int64_t first_eps, std::int64_t k, int alpha, const PhaseSwitches& on,
                     PhaseCounts& counts) {
  const std::int64_t a = std::max(2, alpha);
  for (std::int64_t eps = first_eps; eps > 1;) {
    const std::int64_t prev = eps;
    eps = std::max<std::int64_t>(1, eps / a);
    ++counts.phases;
    if (on.arc_fixing && !steps.fix_arcs(prev)) return false;
    bool tightened = false;
    std::int64_t freed = 0;
    if (on.price_refinement && !steps.tighten(eps, tightened)) return false;
    if (tightened && !steps.free_violated(eps, freed)) return false;
    if (tightened && freed == 0) {
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
      if (!steps.tighten(0, optimal)) return false;
      if (optimal) {
        counts.early_exit = true;
        break;
      }
    }
  }
  return true;
}

}  // namespace sluice::detail
