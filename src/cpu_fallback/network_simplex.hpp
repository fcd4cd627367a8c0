// Minimum-cost flow by the primal network simplex method on a spanning-tree basis
// (Ahuja, Magnanti & Orlin, "Network Flows", 1993, ch. 11; strongly feasible trees after
// W. H. Cunningham, Math. Programming 11, 1976, which rule out cycling).
//
// Start: an artificial root joined to every node by an arc carrying its supply (cost 0 out
// of a source, a cost above any real path into a sink), so the first basis is feasible.
// Each pivot brings in an arc whose reduced cost c_p(v,w) = c(v,w) + p(v) - p(w) has the
// wrong sign for its bound (block search: the most violating arc of the next block of
// about √m arcs, Grigoriadis 1986), sends flow round the cycle it closes in the tree until
// an arc hits a bound (the last such arc met from the cycle's apex leaves, keeping the tree
// strongly feasible), re-hangs the cut-off subtree from the entering arc and shifts the
// prices of that subtree or of the rest of the tree, whichever is smaller. Optimal when no arc violates; prices are exact integers throughout.
//
// Why here: on aggregated allocation networks (shape nodes with large supplies, one sink)
// cost scaling pays for moving big groups of prices together in small ε steps, while a
// pivot moves a whole subtree's prices at once (measured: bench/results/cpu_algorithms).
//
// Overflow: needs (max|c| + 1)·(n + 1) <= 2^60 for the artificial cost, so that prices stay
// below 2^61 in absolute value and every reduced cost fits in 64 bits; otherwise it
// declines (kCostOverflow with a message) and the caller uses cost scaling.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine_outcome.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice::detail {

// A basis kept between solves (WarmSolver): which arcs are in the tree or at a bound, and
// the tree itself. Ids are the network's; arcs and nodes added since are handled (new arcs
// start at zero flow, new nodes hang from the root).
struct SimplexBasis {
  std::vector<std::int8_t> arc_state;      // per arc: -1 at capacity, 0 in the tree, 1 at zero
  std::vector<std::int32_t> parent;        // per node: its parent, -1 for the artificial root
  std::vector<std::int32_t> tree_arc;      // per node: the arc to its parent, -1 its artificial arc
  std::vector<std::int8_t> artificial_up;  // per node: its artificial arc runs node -> root
};

class NetworkSimplex;

// The solver, loaded straight from a validated network (no residual graph), for one solve
// (solve_residual.cpp) or kept between solves (WarmSolver). Edits change its arcs and
// supplies in place; the next solve moves the kept tree's flows by what they changed,
// fits its prices, and pivots on from there, so a re-solve after a few edits does no work
// of size m beyond the pricing. After any status the tree is still a basis: a later
// solve goes on from it.
//
// Infeasibility is found here (kInfeasible, naming the stranded supply); a negative cycle
// of infinite arcs is not (check it first).
class KeptSimplex {
 public:
  // Loads `network` with infinite capacities at `infinite_bound` (infinite_capacity_bound()),
  // pricing blocks of block_factor·√m arcs (at least 10; after a warm start at least √m).
  // From `start` when given and it describes a spanning tree of this network: its tree
  // flows are worked out for today's bounds and supplies, and a tree arc whose flow would
  // leave its bounds (or break strong feasibility) goes to a bound, its subtree re-hung
  // from the root by an artificial arc carrying the difference, which the pivots then
  // drive out.
  KeptSimplex(const Network& network, std::int64_t infinite_bound, double block_factor, const SimplexBasis* start);
  ~KeptSimplex();
  KeptSimplex(const KeptSimplex&) = delete;
  KeptSimplex& operator=(const KeptSimplex&) = delete;

  // Pivots to optimality from the current basis (checking `cancel` every 1024 pivots;
  // `progress`: one line on stderr); on kOptimal the outcome holds exact potentials and
  // add_flows() gives the flows. kCostOverflow when the costs are out of range.
  [[nodiscard]] EngineOutcome solve(const std::atomic<bool>* cancel, bool progress, SolverStats& stats);

  // Edits, by network arc and node id. `span` is capacity minus lower bound (finite);
  // `delta` changes a node's supply after lower bounds (its excess in the graph).
  void set_arc(std::int32_t arc, std::int64_t span, std::int64_t cost);
  void add_supply(std::int32_t node, std::int64_t delta);

  // flow[arc] += the arc's flow above its lower bound, for every arc (after kOptimal).
  void add_flows(std::vector<std::int64_t>& flow) const;
  // The cost of its artificial arcs, (max|c| + 1)·(n + 1) when loaded; 0 on overflow. An
  // edit that raises max|c| past what this covers needs a new solver.
  [[nodiscard]] std::int64_t artificial_cost() const;
  [[nodiscard]] std::int32_t nodes() const;
  [[nodiscard]] std::int32_t arcs() const;
  void save(SimplexBasis& basis) const;

 private:
  std::unique_ptr<NetworkSimplex> impl_;
};

}  // namespace sluice::detail
