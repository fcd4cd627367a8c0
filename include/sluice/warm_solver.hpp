// A min-cost-flow solver that keeps its last optimum and re-solves from it after changes:
//
//   WarmSolver solver(options);
//   solver.reset(network);
//   SolveResult first = solver.solve();        // cold: nothing to start from
//   solver.set_capacity(a, 0);                 // a machine fills up
//   solver.set_supply(v, 40);                  // a job grows
//   SolveResult next = solver.solve();         // warm: from the previous flow and prices
//
// How a warm solve starts depends on what the last one left (WarmMethod):
//  - after network simplex (the CPU backend's choice for allocation networks): the solver
//    itself is kept, edits change its arrays in place, and the next solve fits the kept
//    tree's flows and prices to them (any tree arc that no longer fits is replaced by an
//    artificial one) and pivots on, with nothing of size m rebuilt. Edits it cannot take
//    in place (new arcs or nodes, infinite capacities) rebuild it from the kept basis;
//  - after cost scaling: the previous optimal flow (clamped to the new bounds, new arcs
//    empty) and exact potentials, then successive shortest paths for the imbalance the
//    edits left, handing over to cost scaling from those prices past a budget.
// Either way the result is checked exactly like a cold one (SolveOptions::verify gives the
// same certificate).
//
// A solve that fails (infeasible, unbounded, invalid after an edit) keeps the last optimum,
// so the solver stays usable: undo or fix the edit and solve again, still warm.
// Runs on our CPU solver (the GPU kernels have no warm start yet). Not thread-safe; one
// solver per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice {

namespace detail {
class KeptSimplex;
}

// How a solve with a kept optimum proceeds.
enum class WarmMethod {
  kAuto,           // network simplex from the kept basis when there is one, else shortest
                   // paths; cold once a large share of the arcs was edited since the last
                   // optimum (the rule: warm_solver.cpp)
  kNetworkSimplex, // network simplex from the kept basis (cold network simplex without one)
  kShortestPaths,  // successive shortest paths from the kept prices (cost scaling finishes
                   // what an arc-visit budget leaves)
  kCostScaling,    // cost scaling from the kept flow and prices, small first ε
  kCold,           // from nothing, as solve() does
};
std::string_view to_string(WarmMethod m);
std::optional<WarmMethod> parse_warm_method(std::string_view name);

class WarmSolver {
 public:
  explicit WarmSolver(SolveOptions options = {});
  ~WarmSolver();
  WarmSolver(WarmSolver&&) noexcept;
  WarmSolver& operator=(WarmSolver&&) noexcept;

  // Replaces the network and forgets the last optimum: the next solve is cold.
  void reset(Network network);
  [[nodiscard]] const Network& network() const { return network_; }

  // Edits to the kept network. Each checks its ids and values (not the network as a whole:
  // solve() validates that) and changes nothing when it names a problem.
  Validation set_bounds(ArcId a, std::int64_t lower, std::int64_t capacity);
  Validation set_capacity(ArcId a, std::int64_t capacity);  // keeps the lower bound
  Validation set_cost(ArcId a, std::int64_t cost);
  Validation set_supply(NodeId v, std::int64_t supply);
  // The new arc's id, or -1 when tail or head is not a node (nothing is added then).
  ArcId add_arc(NodeId tail, NodeId head, std::int64_t lower, std::int64_t capacity, std::int64_t cost);
  // Bounds 0..0: no flow may use it. The id stays, so other ids keep their meaning.
  Validation remove_arc(ArcId a);
  NodeId add_node(std::int64_t supply = 0);
  // Supply 0 and every arc at the node removed; the id stays.
  Validation retire_node(NodeId v);

  // Solves the current network: warm when an optimum is kept, cold otherwise.
  [[nodiscard]] SolveResult solve();
  // True when the next solve starts from a kept optimum.
  [[nodiscard]] bool warm() const { return has_optimum_; }
  // True when a network simplex solve now would run on the kept solver in place, with
  // nothing rebuilt: the last solve was network simplex and every edit since could be
  // passed on to it.
  [[nodiscard]] bool in_place() const;

  // For measurements (bench/warm_bench.cpp) and tests: the method (kAuto by default), the
  // first ε of a warm cost-scaling solve in original cost units, and the arc visits (× arcs
  // of the residual graph) shortest paths may spend before cost scaling takes over
  // (0 = the solver's defaults).
  void set_method(WarmMethod method) { method_ = method; }
  void set_warm_start_eps(std::int64_t eps) { warm_start_eps_ = eps; }
  void set_shortest_path_budget(double arcs_per_arc) { shortest_path_budget_ = arcs_per_arc; }

 private:
  [[nodiscard]] Validation check_arc(ArcId a) const;
  [[nodiscard]] Validation check_node(NodeId v) const;
  [[nodiscard]] double edited_share() const;  // edits since the last optimum per arc
  [[nodiscard]] WarmMethod choose_method() const;
  [[nodiscard]] SolveResult solve_cold();
  [[nodiscard]] SolveResult solve_warm(WarmMethod method);
  [[nodiscard]] SolveResult solve_simplex(const SolveOptions& options, double block_factor, bool warm);
  void resolve_kept(SolveResult& result);
  [[nodiscard]] bool kept_fits() const;
  // Passes an edit on to the kept network simplex, or marks it out of step.
  void keep_bounds(ArcId a, std::int64_t lower, std::int64_t capacity);
  void keep_cost(ArcId a, std::int64_t cost);
  [[nodiscard]] bool validated(SolveResult& result, std::chrono::steady_clock::time_point t0) const;
  SolveResult& finish(SolveResult& result, std::chrono::steady_clock::time_point t0) const;

  SolveOptions options_;
  Network network_;
  bool has_optimum_ = false;
  std::vector<std::int64_t> flow_;       // the last optimum, per arc of its network
  std::vector<std::int64_t> potential_;  // its exact potentials, per node
  // The network simplex solver of the last optimum, when network simplex found it; in step
  // with network_ while every edit since could be passed on to it, else only its basis is
  // of use (a rebuild starts from it).
  std::unique_ptr<detail::KeptSimplex> kept_;
  bool kept_in_step_ = false;
  bool kept_is_new_ = false;  // the solve under way used or made kept_ (else it is dropped)
  std::int64_t kept_infinite_bound_ = 0;  // what kept_ holds for infinite capacities
  std::int64_t warm_start_eps_ = 0;
  double shortest_path_budget_ = 0;
  WarmMethod method_ = WarmMethod::kAuto;
  std::int64_t edits_ = 0;  // edits since the last optimum (kAuto's measure of change)
};

}  // namespace sluice
