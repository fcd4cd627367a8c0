// Feasibility of a transshipment problem, decided by push-relabel maximum flow
// (Goldberg & Tarjan 1988) run directly on supplies: excess starts at the sources, the
// distance label of a node is its residual hop distance to the nearest node with demand,
// and a node whose label reaches n is cut off. Only the first phase (maximum preflow) is
// needed: the problem is feasible iff every unit of supply is absorbed by a demand.
// FIFO selection with global relabelling (reverse BFS) every ~n relabels.
// O(n^2 m) in theory, near linear on scheduling networks in practice.
//
// On success the graph holds a feasible flow (all excesses zero). On failure it names how
// much supply is stranded and one node holding some of it.
#pragma once

#include <string>

#include "residual_graph.hpp"

namespace sluice::detail {

struct FeasibilityResult {
  bool feasible = false;
  std::string reason;  // when infeasible
  std::int64_t relabels = 0;
  std::int64_t pushes = 0;
};

[[nodiscard]] FeasibilityResult find_feasible_flow(ResidualGraph& g);

}  // namespace sluice::detail
