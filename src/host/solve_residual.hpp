// The steps every solve on our residual graph shares, cold (solve.cpp) or warm
// (warm_solver.cpp): settle feasibility from the pseudoflow the graph holds, run an
// ε-scaling engine, read the flow and its cost back in the network's arc order; and the
// certificate check that ends every solve.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "cost_scaling.hpp"
#include "network_simplex.hpp"
#include "residual_graph.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice::detail {

// The ε-scaling engine run on the residual graph once feasibility is established: ours on
// the CPU, or the CUDA kernels. Returns exact potentials when optimal.
using Engine = std::function<EngineOutcome(ResidualGraph&, SolverStats&)>;

// How feasibility is settled before the engine runs. kRouteFirst leaves the feasible flow
// the max-flow found in the graph (a cold start: zero flow has nothing worth keeping).
// kCheckOnly decides it on the side and hands the engine the pseudoflow as it was (a warm
// start: the max-flow would reroute the imbalance along arbitrary, costly paths, which
// the engine would then have to undo).
// kEngineDecides skips it for an engine that detects infeasibility itself (the CUDA
// solver's max-flow stage), unless the network is also unbounded, where the check keeps
// "infeasible" ahead of "unbounded" as in every other solve. (Network simplex, which finds
// infeasibility by the flow left on its artificial arcs, runs without a residual graph.)
enum class Feasibility { kRouteFirst, kCheckOnly, kEngineDecides };

// Runs on `g` (built from `network`, holding any pseudoflow with its excesses) and fills
// result's status, message, flow, potentials, total cost, stats and solve/potentials times.
void solve_on_residual(const Network& network, ResidualGraph& g, const Engine& engine, SolveResult& result,
                       Feasibility feasibility = Feasibility::kRouteFirst);

// The CPU algorithm for a network when the options leave it to us (kAuto), and network
// simplex's pricing block factor; the rule and its measurements are in solve_residual.cpp.
struct CpuChoice {
  CpuAlgorithm algorithm = CpuAlgorithm::kCostScaling;
  double block_factor = 1.0;
};
[[nodiscard]] CpuChoice choose_cpu_algorithm(const Network& network, const SolveOptions& options);

// Our network simplex on a validated network, from `start` when given (a warm start), the
// final basis into `finish` when given.
[[nodiscard]] SolveResult solve_network_simplex(const Network& network, const SolveOptions& options,
                                                double block_factor, const SimplexBasis* start,
                                                SimplexBasis* finish);

// The CPU engine's parameters as the options ask for them.
[[nodiscard]] CostScalingParams cpu_params(const SolveOptions& options);

// When options.verify and the result is optimal: the certificate (optimality when exact
// potentials came with the flow, else feasibility) and its time.
void attach_certificate(const Network& network, const SolveOptions& options, SolveResult& result);

}  // namespace sluice::detail
