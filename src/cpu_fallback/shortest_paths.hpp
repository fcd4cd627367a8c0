// Re-optimization by successive shortest paths (the primal-dual method: R. K. Ahuja,
// T. L. Magnanti, J. B. Orlin, "Network Flows", 1993, §9.7), for warm starts.
//
// Start: a pseudoflow and exact potentials under which it was optimal before some edits
// (WarmSolver). Arcs whose reduced cost c_p(v,w) = c(v,w) + p(v) - p(w) became negative
// are saturated, so every residual arc has c_p >= 0 and only an imbalance is left: excess
// where edits took flow away or added supply, deficit where they did the opposite.
//
// Each iteration runs one Dijkstra from all excess nodes at once over reduced costs,
// stopping at the first deficit node (distance D), and moves the settled nodes' prices by
// d(v) - D: every arc keeps c_p >= 0, and every shortest path to that deficit becomes a
// path of zero reduced cost. Then as much excess as the zero-cost arcs can carry is
// augmented by depth-first search (a blocking flow, as in Dinic's algorithm), and the next
// iteration starts. Prices stay exact integers, so the result needs no rounding.
//
// Work depends on the imbalance, not on the network: a few edits settle in a few
// iterations that each touch the neighbourhood of the edits. Large edit sets can need many
// iterations, so the caller gives an arc budget and hands what is left (a pseudoflow that
// is still optimal for its own imbalance) to cost scaling when it runs out.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "residual_graph.hpp"
#include "sluice/solver.hpp"

namespace sluice::detail {

struct ShortestPathParams {
  std::int64_t arc_budget = -1;  // arc visits before giving up; < 0: no limit
  const std::atomic<bool>* cancel = nullptr;
  bool progress = false;  // one line on stderr at the end
};

enum class ShortestPathEnd {
  kOptimal,          // no imbalance left: g holds an optimal flow, `potential` proves it
  kStuck,            // some excess reaches no deficit: infeasible
  kBudgetExhausted,  // out of budget (or prices would leave 62 bits): g holds a pseudoflow
                     // that `potential` proves optimal for its own imbalance
  kCancelled,
};

// Runs in place on g (any pseudoflow, its imbalance in g.excess) from `potential` (one per
// node, original cost units). Must not be called when g.has_negative_infinite_cycle.
[[nodiscard]] ShortestPathEnd reoptimize_shortest_paths(ResidualGraph& g, std::vector<std::int64_t>& potential,
                                                        const ShortestPathParams& params, SolverStats& stats);

}  // namespace sluice::detail
