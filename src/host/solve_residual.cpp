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
