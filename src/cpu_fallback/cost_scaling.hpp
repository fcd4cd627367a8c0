// Minimum-cost flow by cost scaling with push-relabel refines, in the manner of Goldberg's
// CS2 (A. V. Goldberg, "An efficient implementation of a scaling minimum-cost flow
// algorithm", J. Algorithms 22, 1997; Goldberg & Tarjan, Math. OR 15, 1990).
//
// Problem: min Σ c(a) f(a) subject to 0 <= f <= u on the residual graph's arcs and
// conservation with the node supplies (lower bounds already removed).
//
// Invariant: ε-optimality. With prices p and reduced cost c_p(v,w) = c(v,w) + p(v) - p(w),
// every residual arc has c_p >= -ε. Costs are multiplied by K = n + 1 so that ε = 1 in
// scaled units is ε < 1/n in the original ones, which makes an ε-optimal flow optimal.
// Each phase divides ε by α (default 16); a refine first saturates every arc with
// negative reduced cost (the pseudoflow is then 0-optimal) and discharges the excesses by
// pushes along admissible arcs (c_p < 0) and relabels (p(v) := max(p(w) - c(v,w)) - ε).
//
// Discharge: partial augment-relabel by default (Goldberg, ESA 2008), or push/relabel.
//
// Heuristics: global price updates (a bucket-based Dijkstra from the deficits over
// ceil-rounded reduced costs, Goldberg's "set relabel"), push look-ahead (do not push
// into a node that has no admissible arc of its own; relabel it instead), price
// refinement (before a refine, try to make the current flow ε-optimal by prices alone,
// with a bounded Bellman-Ford, and skip the refine when it succeeds), early exit (once ε is
// below one original cost unit, try to prove the flow optimal with exact integer
// potentials, again a bounded Bellman-Ford, and stop when that succeeds). Arc fixing is
// not implemented.
//
// Complexity: O(n^2 m log(nC)) in theory; near-linear per phase on scheduling networks.
//
// Overflow: scaled costs must satisfy max|c|·K <= 2^61 (checked before scaling); prices
// only decrease and are kept >= -2^62 (checked at every relabel and update), so reduced
// costs always fit in 64 bits. Either failure is reported as kCostOverflow.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "engine_outcome.hpp"
#include "residual_graph.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice::detail {

struct CostScalingParams {
  int alpha = 16;
  bool global_updates = true;
  bool push_lookahead = true;
  bool price_refinement = true;
  // Discharge by partial augment-relabel (paths of up to augment_path_length arcs) rather
  // than single pushes with look-ahead. Measured on Quincy networks, medians of 3
  // alternating runs: 150k tasks 1.65 -> 1.36 s, 500k tasks 7.18 -> 7.07 s.
  bool partial_augment = true;
  int augment_path_length = 6;
  bool progress = false;    // per-phase lines on stderr (also when SLUICE_TRACE is set)
  bool early_exit = true;  // stop once the flow is provably optimal (see cost_scaling.cpp)
  // Passes over the arcs the early-exit test may take before giving up. Measured (total
  // time, 150k / 500k Quincy tasks): 1 pass 1.42 / 7.34 s, 2 passes 1.33 / 6.19 s, 4 passes
  // 1.32 / 5.93 s, 8 passes 1.31 / 6.95 s; 2 also helps NETGEN, grid and assignment.
  double early_exit_budget = 2.0;
  const std::atomic<bool>* cancel = nullptr;  // checked every phase and every 4096 discharges
  double update_frequency = 2.0;  // global update after this many × n relabels (tuned on
                                  // Quincy networks: 0.5 → 2.6 s, 2 → 1.8 s at 150k tasks)
  // A warm start (WarmSolver): prices to begin from, in original cost units, one per node,
  // usually the exact potentials of the previous optimum; null = all zero. Prices that would
  // not fit in 64 bits once scaled are ignored (the solve starts cold).
  const std::vector<std::int64_t>* initial_potential = nullptr;
  // The first phase's ε in original cost units; 0 = the largest |cost| (a cold start).
  // From good prices only the last phases have work to do.
  std::int64_t start_eps = 0;
};

// Solves in place: on kOptimal, g.rescap holds an optimal flow. The graph may hold any
// pseudoflow with its imbalance in g.excess, but the problem must be known to be feasible
// (find_feasible_flow), since a refine on an infeasible problem never ends.
[[nodiscard]] EngineOutcome solve_cost_scaling(ResidualGraph& g, const CostScalingParams& params,
                                                    bool want_potentials, SolverStats& stats);

// Exact integer potentials certifying optimality of the flow in g (original costs), from
// an approximate start `guess`: queue-based Bellman-Ford on the residual graph. Returns
// false if the residual graph has a negative cycle (the flow is not optimal).
[[nodiscard]] bool compute_exact_potentials(const ResidualGraph& g, std::vector<std::int64_t>& potential);

enum class PotentialSearch { kFound, kNegativeCycle, kBudgetExhausted };

// The same search on costs stored multiplied by `cost_divisor`, giving up after scanning
// `arc_budget` arcs (< 0: no limit). `potential` changes only when kFound.
[[nodiscard]] PotentialSearch search_exact_potentials(const ResidualGraph& g, std::int64_t cost_divisor,
                                                      std::int64_t arc_budget,
                                                      std::vector<std::int64_t>& potential);

}  // namespace sluice::detail
