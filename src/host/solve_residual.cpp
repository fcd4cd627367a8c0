#include "solve_residual.hpp"

#include <utility>
#include <vector>

#include "feasibility.hpp"
#include "seconds_since.hpp"
#include "solution.hpp"
#include "sluice/certificate.hpp"

namespace sluice::detail {

void solve_on_residual(const Network& network, ResidualGraph& g, const Engine& engine, SolveResult& result,
                       Feasibility feasibility) {
  auto t = Clock::now();
  FeasibilityResult feasible;
  if (feasibility == Feasibility::kEngineDecides && !g.has_negative_infinite_cycle) {
    feasible.feasible = true;  // the engine reports kInfeasible itself
  } else if (feasibility != Feasibility::kRouteFirst) {
    // The max-flow moves only capacities and excesses: run it, then put those back.
    std::vector<std::int64_t> rescap = g.rescap;
    std::vector<std::int64_t> excess = g.excess;
    feasible = find_feasible_flow(g);
    g.rescap.swap(rescap);
    g.excess.swap(excess);
  } else {
    feasible = find_feasible_flow(g);
  }
  result.stats.pushes += feasible.pushes;
  result.stats.relabels += feasible.relabels;
  if (!feasible.feasible) {
    result.timings.solve_s = seconds_since(t);
    result.status = Status::kInfeasible;
    result.message = feasible.reason;
    return;
  }
  if (g.has_negative_infinite_cycle) {
    result.timings.solve_s = seconds_since(t);
    result.status = Status::kUnbounded;
    result.message = "a cycle of infinite-capacity arcs has negative total cost";
    return;
  }
  EngineOutcome outcome = engine(g, result.stats);
  result.timings.solve_s = seconds_since(t);
  result.status = outcome.status;
  result.message = std::move(outcome.message);
  if (result.status != Status::kOptimal) return;

  const auto t_read = Clock::now();
  read_solution(network, g, std::move(outcome.potential), result);
  result.timings.potentials_s = seconds_since(t_read);
}

// The CPU algorithm for a network, by its shape, when the caller leaves the choice to us.
// Measured (bench/results/cpu_algorithms, this project's 2-core machine):
//  - Unit supplies (a node per task, Quincy/Firmament as generated; assignment problems):
//    cost scaling, by far (150k-task Quincy: 1.8 s against 25 s for network simplex).
//  - Aggregated supplies spread over many nodes (the allocation networks `sluice allocate`
//    builds: shape nodes with supplies in the tens to thousands, one sink): network simplex
//    with small pricing blocks, 0.4-0.5x LEMON's NetworkSimplex at 1M tasks where cost
//    scaling takes 2-5x as long as it.
//  - Few sources with large supplies (grids, NETGEN): network simplex with √m blocks.
CpuChoice choose_cpu_algorithm(const Network& network, const SolveOptions& options) {
  CpuChoice choice;
  std::int64_t sources = 0;
  __int128 supply = 0;
  for (const std::int64_t s : network.supplies()) {
    if (s > 0) {
      ++sources;
      supply += s;
    }
  }
  const bool many_sources = sources * 100 >= network.num_nodes();
  if (options.cpu_algorithm == CpuAlgorithm::kAuto) {
    choice.algorithm = sources > 0 && supply >= 2 * static_cast<__int128>(sources) ? CpuAlgorithm::kNetworkSimplex
                                                                                      : CpuAlgorithm::kCostScaling;
  } else {
    choice.algorithm = options.cpu_algorithm;
  }
  choice.block_factor = options.ns_block_factor > 0 ? options.ns_block_factor : many_sources ? 0.06 : 1.0;
  return choice;
}

SolveResult solve_network_simplex(const Network& network, const SolveOptions& options, double block_factor,
                                  const SimplexBasis* start, SimplexBasis* finish) {
  NetworkSimplexParams params;
  params.block_factor = block_factor;
  params.cancel = options.cancel;
  params.progress = options.progress;
  params.start = start;
  params.finish = finish;
  SolveResult result;
  result.backend = Backend::kCpu;
  const auto t = Clock::now();
  ResidualGraph g = build_residual_graph(network);
  result.timings.setup_s = seconds_since(t);
  bool warm = false;  // the basis was taken (one that does not fit this network is not)
  solve_on_residual(
      network, g,
      [&](ResidualGraph& graph, SolverStats& stats) {
        EngineOutcome out = solve_network_simplex(graph, params, stats);
        warm = out.warm_start;
        return out;
      },
      result, Feasibility::kEngineDecides);
  result.algorithm = warm ? "network simplex, warm start" : "network simplex";
  return result;
}

CostScalingParams cpu_params(const SolveOptions& options) {
  CostScalingParams params;
  if (options.scale_factor > 0) params.alpha = options.scale_factor;
  params.global_updates = options.global_updates;
  params.push_lookahead = options.push_lookahead;
  params.price_refinement = options.price_refinement;
  params.early_exit = options.early_exit;
  params.partial_augment = options.partial_augment;
  params.progress = options.progress;
  params.cancel = options.cancel;
  if (options.update_frequency > 0) params.update_frequency = options.update_frequency;
  return params;
}

void attach_certificate(const Network& network, const SolveOptions& options, SolveResult& result) {
  if (!options.verify || result.status != Status::kOptimal) return;
  const auto t = Clock::now();
  const bool has_potentials = result.potential.size() == static_cast<std::size_t>(network.num_nodes()) &&
                              (options.want_potentials || result.backend == Backend::kLemonNetworkSimplex ||
                               result.backend == Backend::kLemonCostScaling);
  result.certificate = has_potentials ? check_optimality(network, result.flow, result.potential)
                                      : check_feasibility(network, result.flow);
  result.timings.verify_s = seconds_since(t);
}

}  // namespace sluice::detail
