#include "solve_residual.hpp"

#include <algorithm>
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
// Measured (bench/results/cpu_algorithms, this project's 2-core machine, against LEMON's
// NetworkSimplex in the same run):
//  - Supplies aggregated over many sources (at least 1% of the nodes, 2 units each on
//    average) into few sinks (at most one per hundred sources): the allocation networks
//    `sluice allocate` builds, shape nodes with supplies in the tens to thousands and one
//    sink. Network simplex with pricing blocks of 0.06·√m arcs: 0.35-0.40x LEMON at 1M
//    tasks, 0.46-0.49x at 150k, 0.41-0.57x on openb, where cost scaling takes 1.0-2.8x.
//  - Unit supplies over many sources into few sinks (Quincy as generated, a node per
//    task): cost scaling, 0.63-0.72x LEMON at 2,500 machines, where network simplex
//    takes 0.86x (and cost scaling 0.32-0.48x at 12,500-50,000 machines, README).
//  - Everything else (NETGEN, grids, assignment problems): network simplex with LEMON's
//    blocks of √m arcs and arc order: 0.75x LEMON on 4096-node NETGEN (cost scaling
//    2.5x), 0.88x on a 128x128 grid (4.7x), 0.78x on a 2000x2000 assignment with 20 arcs
//    a node (0.95x) (bench/results/lemon_arc_order/families_vs_lemon.txt).
CpuChoice choose_cpu_algorithm(const Network& network, const SolveOptions& options) {
  CpuChoice choice;
  std::int64_t sources = 0;
  std::int64_t sinks = 0;
  __int128 supply = 0;
  for (const std::int64_t s : network.supplies()) {
    if (s > 0) {
      ++sources;
      supply += s;
    } else if (s < 0) {
      ++sinks;
    }
  }
  const bool many_sources = sources > 0 && sources * 100 >= network.num_nodes();
  const bool aggregated = supply >= 2 * static_cast<__int128>(sources);
  const bool few_sinks = sinks <= std::max<std::int64_t>(1, sources / 100);
  const bool allocation_like = many_sources && aggregated && few_sinks;
  const bool node_per_task = many_sources && !aggregated && few_sinks;
  if (options.cpu_algorithm == CpuAlgorithm::kAuto) {
    choice.algorithm = node_per_task ? CpuAlgorithm::kCostScaling : CpuAlgorithm::kNetworkSimplex;
  } else {
    choice.algorithm = options.cpu_algorithm;
  }
  // Small blocks where many arcs are nearly interchangeable (allocation networks); LEMON's
  // √m elsewhere.
  choice.block_factor = options.ns_block_factor > 0 ? options.ns_block_factor : allocation_like ? 0.06 : 1.0;
  return choice;
}

SolveResult solve_network_simplex(const Network& network, const SolveOptions& options, double block_factor,
                                  const SimplexBasis* start, SimplexBasis* finish) {
  SolveResult result;
  result.backend = Backend::kCpu;
  result.algorithm = "network simplex";
  auto t = Clock::now();
  const std::int64_t infinite_bound = infinite_capacity_bound(network);
  if (infinite_bound > 0 && has_negative_infinite_cycle(network)) {
    // Infeasible or unbounded, decided as every other solve decides them (infeasible
    // first): the engine is never reached.
    ResidualGraph g = build_residual_graph(network);
    result.timings.setup_s = seconds_since(t);
    solve_on_residual(network, g, {}, result, Feasibility::kCheckOnly);
    return result;
  }
  KeptSimplex simplex(network, infinite_bound, block_factor, start);
  result.timings.setup_s = seconds_since(t);
  t = Clock::now();
  EngineOutcome outcome = simplex.solve(options.cancel, options.progress, result.stats);
  result.timings.solve_s = seconds_since(t);
  result.status = outcome.status;
  result.message = std::move(outcome.message);
  if (outcome.warm_start) result.algorithm = "network simplex, warm start";
  if (result.status != Status::kOptimal) return result;
  t = Clock::now();
  result.flow = network.lowers();
  simplex.add_flows(result.flow);
  set_total_cost(network, std::move(outcome.potential), result);
  if (finish != nullptr) simplex.save(*finish);
  result.timings.potentials_s = seconds_since(t);
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
