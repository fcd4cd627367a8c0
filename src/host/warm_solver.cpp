// WarmSolver: edits to a kept network, and solves that start from the last optimum.
#include "sluice/warm_solver.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cost_scaling.hpp"
#include "network_simplex.hpp"
#include "residual_graph.hpp"
#include "seconds_since.hpp"
#include "shortest_paths.hpp"
#include "solution.hpp"
#include "solve_residual.hpp"

namespace sluice {
namespace {

using detail::Clock;
using detail::seconds_since;

Validation invalid(std::string message) {
  Validation v;
  v.status = Status::kInvalidInput;
  v.message = std::move(message);
  return v;
}

// The constants below were chosen by hand with sluice_bench_warm (--method, --warm-eps,
// --path-budget) on the 150k-task allocation networks under spread and fgd, α = 4, warm
// against cold in the same run, when cold solves were still cost scaling; those runs are
// not recorded, the resulting behaviour is
// (bench/results/warm_resolve).
//
// A warm cost-scaling solve's first ε, in original cost units, when the caller sets none:
// 16 took 0.45-0.97 of a cold solve after 0.1-1% of edits, 4 took 0.44-1.06 and 1 up to 1.8.
constexpr std::int64_t kDefaultWarmStartEps = 16;

// kAuto's rule, on the edits since the last optimum as a share of the arcs: a warm start up
// to kWarmUpTo (network simplex on the kept solver; successive shortest paths up to
// kPathsUpTo), a cold solve above it. The kept network simplex (sluice_bench_warm
// --method network-simplex, f1174d9): 0.16-0.63 of a cold solve with 2-7% of the arcs
// edited on openb, 0.35-0.44 with 3.4% at 150k tasks, 0.4-1.1 with 13%. Shortest paths and
// cost scaling: after 10% of edits they took as long as a cold solve or longer.
// The arc visits (× residual arcs) shortest paths may spend before cost scaling
// takes over: few edits settle in a handful of iterations, each visiting about every arc,
// so they get room to finish (budget 32: 0.15-0.24 of a cold solve after 0.1%, budget 8:
// 0.40-0.49); more edits need dozens, and cost scaling finishes those sooner (after 1%,
// budget 8: 0.42-0.64, budget 64: 0.68-1.4).
constexpr double kWarmUpTo = 0.10;
constexpr double kPathsUpTo = 0.05;
constexpr double kFewEdits = 0.003;
constexpr double kBudgetFewEdits = 32.0;
constexpr double kBudgetMoreEdits = 8.0;

// Puts the previous optimum's flow into a freshly built residual graph: each arc's flow is
// clamped to its new bounds, and what that changes shows up as excess at its end nodes.
void load_flow(const Network& network, const std::vector<std::int64_t>& flow, detail::ResidualGraph& g) {
  const ArcId kept = std::min<ArcId>(network.num_arcs(), static_cast<ArcId>(flow.size()));
  for (ArcId a = 0; a < kept; ++a) {
    const std::int32_t e = g.fwd[static_cast<std::size_t>(a)];
    const std::int32_t r = g.rev[static_cast<std::size_t>(e)];
    // The graph holds zero flow above the lower bound: rescap[e] is the arc's whole span.
    const std::int64_t span = g.rescap[static_cast<std::size_t>(e)];
    // Both are non-negative 64-bit values, so the difference cannot overflow.
    const std::int64_t above_lower =
        std::clamp<std::int64_t>(flow[static_cast<std::size_t>(a)] - network.lower(a), 0, span);
    if (above_lower == 0) continue;
    g.rescap[static_cast<std::size_t>(e)] -= above_lower;
    g.rescap[static_cast<std::size_t>(r)] += above_lower;
    g.excess[static_cast<std::size_t>(network.tail(a))] -= above_lower;
    g.excess[static_cast<std::size_t>(network.head(a))] += above_lower;
  }
}

}  // namespace

WarmSolver::WarmSolver(SolveOptions options) : options_(std::move(options)) {}
WarmSolver::~WarmSolver() = default;
WarmSolver::WarmSolver(WarmSolver&&) noexcept = default;
WarmSolver& WarmSolver::operator=(WarmSolver&&) noexcept = default;

void WarmSolver::reset(Network network) {
  network_ = std::move(network);
  has_optimum_ = false;
  edits_ = 0;
  kept_.reset();
  kept_in_step_ = false;
  flow_.clear();
  potential_.clear();
}

Validation WarmSolver::check_arc(ArcId a) const {
  if (a < 0 || a >= network_.num_arcs()) {
    return invalid("arc " + std::to_string(a) + " does not exist (the network has " +
                   std::to_string(network_.num_arcs()) + " arcs)");
  }
  return {};
}

Validation WarmSolver::check_node(NodeId v) const {
  if (v < 0 || v >= network_.num_nodes()) {
    return invalid("node " + std::to_string(v) + " does not exist (the network has " +
                   std::to_string(network_.num_nodes()) + " nodes)");
  }
  return {};
}

Validation WarmSolver::set_bounds(ArcId a, std::int64_t lower, std::int64_t capacity) {
  Validation ok = check_arc(a);
  if (!ok.ok()) return ok;
  if (capacity < 0 || lower < 0 || lower > capacity) {
    return invalid("arc " + std::to_string(a) + ": bounds [" + std::to_string(lower) + ", " +
                   std::to_string(capacity) + "] need 0 <= lower <= capacity");
  }
  keep_bounds(a, lower, capacity);
  network_.set_bounds(a, lower, capacity);
  ++edits_;
  return ok;
}

Validation WarmSolver::set_capacity(ArcId a, std::int64_t capacity) {
  Validation ok = check_arc(a);
  if (!ok.ok()) return ok;
  return set_bounds(a, network_.lower(a), capacity);
}

Validation WarmSolver::set_cost(ArcId a, std::int64_t cost) {
  Validation ok = check_arc(a);
  if (!ok.ok()) return ok;
  keep_cost(a, cost);
  network_.set_cost(a, cost);
  ++edits_;
  return ok;
}

Validation WarmSolver::set_supply(NodeId v, std::int64_t supply) {
  Validation ok = check_node(v);
  if (!ok.ok()) return ok;
  std::int64_t change = 0;
  if (__builtin_sub_overflow(supply, network_.supply(v), &change)) kept_in_step_ = false;
  if (kept_in_step_) kept_->add_supply(v, change);
  network_.set_supply(v, supply);
  ++edits_;
  return ok;
}

ArcId WarmSolver::add_arc(NodeId tail, NodeId head, std::int64_t lower, std::int64_t capacity, std::int64_t cost) {
  if (!check_node(tail).ok() || !check_node(head).ok()) return -1;
  ++edits_;
  kept_in_step_ = false;  // the kept solver's arrays have no room: rebuilt from its basis
  return network_.add_arc(tail, head, lower, capacity, cost);
}

Validation WarmSolver::remove_arc(ArcId a) { return set_bounds(a, 0, 0); }

NodeId WarmSolver::add_node(std::int64_t supply) {
  ++edits_;
  kept_in_step_ = false;
  return network_.add_node(supply);
}

Validation WarmSolver::retire_node(NodeId v) {
  Validation ok = check_node(v);
  if (!ok.ok()) return ok;
  (void)set_supply(v, 0);
  for (ArcId a = 0; a < network_.num_arcs(); ++a) {
    if (network_.tail(a) == v || network_.head(a) == v) (void)set_bounds(a, 0, 0);
  }
  return ok;
}

void WarmSolver::keep_bounds(ArcId a, std::int64_t lower, std::int64_t capacity) {
  if (!kept_in_step_) return;
  // An infinite capacity may need the unboundedness check: rebuild.
  if (capacity == kInfiniteCapacity) {
    kept_in_step_ = false;
    return;
  }
  // The kept solver works above lower bounds: a changed lower bound moves supply.
  std::int64_t shift = 0;
  if (__builtin_sub_overflow(lower, network_.lower(a), &shift)) {
    kept_in_step_ = false;
    return;
  }
  kept_->set_arc(a, capacity - lower, network_.cost(a));
  if (shift != 0) {
    kept_->add_supply(network_.tail(a), -shift);
    kept_->add_supply(network_.head(a), shift);
  }
}

void WarmSolver::keep_cost(ArcId a, std::int64_t cost) {
  if (!kept_in_step_) return;
  // Its artificial arcs must cost more than any path: (|c| + 1)·(n + 1) within what it has.
  const __int128 needed = (cost < 0 ? -static_cast<__int128>(cost) : static_cast<__int128>(cost)) + 1;
  if (network_.capacity(a) == kInfiniteCapacity ||
      needed * (static_cast<__int128>(kept_->nodes()) + 1) > kept_->artificial_cost()) {
    kept_in_step_ = false;
    return;
  }
  kept_->set_arc(a, network_.capacity(a) - network_.lower(a), cost);
}

double WarmSolver::edited_share() const {
  return static_cast<double>(edits_) / std::max<ArcId>(1, network_.num_arcs());
}

WarmMethod WarmSolver::choose_method() const {
  if (method_ != WarmMethod::kAuto) return method_;
  if (edited_share() > (kept_ ? kWarmUpTo : kPathsUpTo)) return WarmMethod::kCold;
  return kept_ ? WarmMethod::kNetworkSimplex : WarmMethod::kShortestPaths;
}

SolveResult WarmSolver::solve() {
  kept_is_new_ = false;
  const WarmMethod method = has_optimum_ ? choose_method() : WarmMethod::kCold;
  SolveResult result = method == WarmMethod::kCold ? solve_cold() : solve_warm(method);
  if (options_.backend != Backend::kCpu && options_.backend != Backend::kAuto) {
    result.fell_back = true;
    result.fallback_reason = "WarmSolver runs on the CPU solver only";
  }
  if (result.status == Status::kOptimal) {
    flow_ = result.flow;
    potential_ = result.potential;
    has_optimum_ = true;
    edits_ = 0;
    // Only network simplex leaves a solver to keep; after any other solve it is stale.
    if (!kept_is_new_) {
      kept_.reset();
      kept_in_step_ = false;
    }
  }
  return result;
}

SolveResult WarmSolver::solve_cold() {
  SolveOptions cold = options_;
  cold.backend = Backend::kCpu;
  cold.want_potentials = true;  // the next warm start begins from them
  const detail::CpuChoice choice = detail::choose_cpu_algorithm(network_, cold);
  if (choice.algorithm != CpuAlgorithm::kNetworkSimplex) return sluice::solve(network_, cold);
  return solve_simplex(cold, choice.block_factor, /*warm=*/false);
}

// Network simplex: on the kept solver when `warm` and it is in step with the network,
// else on a new one (from the kept solver's basis when `warm` and there is one), which is
// kept for the next solve.
SolveResult WarmSolver::solve_simplex(const SolveOptions& options, double block_factor, bool warm) {
  const auto t0 = Clock::now();
  SolveResult result;
  if (!validated(result, t0)) return result;
  result.timings.validate_s = seconds_since(t0);
  result.backend = Backend::kCpu;
  if (!(warm && kept_ && kept_in_step_ && kept_fits())) {
    const auto t = Clock::now();
    const std::int64_t infinite_bound = detail::infinite_capacity_bound(network_);
    if (infinite_bound > 0 && detail::has_negative_infinite_cycle(network_)) {
      // Infeasible or unbounded, decided in the order a cold solve decides them.
      result = detail::solve_network_simplex(network_, options, block_factor, nullptr, nullptr);
      kept_.reset();
      kept_in_step_ = false;
      return finish(result, t0);
    }
    std::unique_ptr<detail::SimplexBasis> basis;
    if (warm && kept_) {
      basis = std::make_unique<detail::SimplexBasis>();
      kept_->save(*basis);
    }
    kept_ = std::make_unique<detail::KeptSimplex>(network_, infinite_bound, block_factor, basis.get());
    kept_in_step_ = true;
    kept_infinite_bound_ = infinite_bound;
    result.timings.setup_s = seconds_since(t);
  }
  kept_is_new_ = true;
  resolve_kept(result);
  return finish(result, t0);
}

bool WarmSolver::in_place() const { return kept_ && kept_in_step_ && kept_fits(); }

// The kept solver holds infinite capacities at the bound of the network it was built from;
// edits that raise supplies or finite capacities may need a higher one.
bool WarmSolver::kept_fits() const {
  return kept_infinite_bound_ == 0 || detail::infinite_capacity_bound(network_) <= kept_infinite_bound_;
}

// Solves on the kept solver and reads its flows back in the network's terms.
void WarmSolver::resolve_kept(SolveResult& result) {
  auto t = Clock::now();
  detail::EngineOutcome outcome = kept_->solve(options_.cancel, options_.progress, result.stats);
  result.timings.solve_s = seconds_since(t);
  result.status = outcome.status;
  result.message = std::move(outcome.message);
  result.algorithm = outcome.warm_start ? "network simplex, warm start" : "network simplex";
  if (result.status == Status::kCostOverflow) {
    kept_.reset();  // beyond its cost range: nothing to keep
    kept_in_step_ = false;
  }
  if (result.status != Status::kOptimal) return;
  t = Clock::now();
  result.flow = network_.lowers();
  kept_->add_flows(result.flow);
  detail::set_total_cost(network_, std::move(outcome.potential), result);
  result.timings.potentials_s = seconds_since(t);
}

SolveResult WarmSolver::solve_warm(WarmMethod method) {
  if (method == WarmMethod::kNetworkSimplex) {
    SolveOptions options = options_;
    options.backend = Backend::kCpu;
    return solve_simplex(options, detail::choose_cpu_algorithm(network_, options).block_factor, /*warm=*/true);
  }
  const auto t0 = Clock::now();
  SolveResult result;
  if (!validated(result, t0)) return result;
  result.timings.validate_s = seconds_since(t0);
  result.backend = Backend::kCpu;

  auto t = Clock::now();
  detail::ResidualGraph g = detail::build_residual_graph(network_);
  load_flow(network_, flow_, g);
  // New nodes start at the highest kept price: any start is correct (arcs it leaves with a
  // negative reduced cost are saturated first), and prices only fall from there.
  std::vector<std::int64_t> start = potential_;
  start.resize(static_cast<std::size_t>(network_.num_nodes()),
               start.empty() ? 0 : *std::max_element(start.begin(), start.end()));
  result.timings.setup_s = seconds_since(t);
  if (g.has_negative_infinite_cycle) {
    // Infeasible or unbounded, decided in the order a cold solve decides them.
    result.algorithm = "warm start";
    detail::solve_on_residual(network_, g, {}, result, detail::Feasibility::kCheckOnly);
    return finish(result, t0);
  }

  // Successive shortest paths from the kept prices, within a budget of arc visits; what
  // the budget leaves is finished by cost scaling from where it stopped.
  t = Clock::now();
  double paths_s = 0;
  if (method == WarmMethod::kShortestPaths) {
    detail::ShortestPathParams paths;
    paths.arc_budget = static_cast<std::int64_t>(
        (shortest_path_budget_ > 0                 ? shortest_path_budget_
         : edited_share() <= kFewEdits ? kBudgetFewEdits
                                                  : kBudgetMoreEdits) *
        g.m2);
    paths.cancel = options_.cancel;
    paths.progress = options_.progress;
    const detail::ShortestPathEnd end = detail::reoptimize_shortest_paths(g, start, paths, result.stats);
    paths_s = seconds_since(t);
    if (end == detail::ShortestPathEnd::kOptimal) {
      result.timings.solve_s = paths_s;
      result.status = Status::kOptimal;
      result.algorithm = "successive shortest paths, warm start";
      const auto t_read = Clock::now();
      detail::read_solution(network_, g, std::move(start), result);
      result.timings.potentials_s = seconds_since(t_read);
      return finish(result, t0);
    }
    if (end == detail::ShortestPathEnd::kCancelled) {
      result.timings.solve_s = paths_s;
      result.status = Status::kCancelled;
      result.message = "cancelled during a warm re-solve";
      return finish(result, t0);
    }
    // Out of budget, or stuck (infeasible): cost scaling from here decides feasibility on
    // the side, names what is stranded if anything is, and otherwise finishes the solve.
    result.algorithm = "successive shortest paths, then cost scaling, warm start";
  } else {
    result.algorithm = "cost-scaling push-relabel, warm start";
  }
  detail::CostScalingParams params = detail::cpu_params(options_);
  params.initial_potential = &start;
  params.start_eps = warm_start_eps_ > 0 ? warm_start_eps_ : kDefaultWarmStartEps;
  detail::solve_on_residual(
      network_, g,
      [&](detail::ResidualGraph& graph, SolverStats& stats) {
        return detail::solve_cost_scaling(graph, params, /*want_potentials=*/true, stats);
      },
      result, detail::Feasibility::kCheckOnly);
  result.timings.solve_s += paths_s;
  return finish(result, t0);
}

// False, with the result saying why, when the edited network is not a valid one.
bool WarmSolver::validated(SolveResult& result, std::chrono::steady_clock::time_point t0) const {
  const Validation validation = network_.validate();
  if (validation.ok()) return true;
  result.status = validation.status;
  result.message = validation.message;
  result.timings.validate_s = result.timings.total_s = seconds_since(t0);
  return false;
}

SolveResult& WarmSolver::finish(SolveResult& result, std::chrono::steady_clock::time_point t0) const {
  detail::attach_certificate(network_, options_, result);
  result.timings.total_s = seconds_since(t0);
  return result;
}

std::string_view to_string(WarmMethod m) {
  switch (m) {
    case WarmMethod::kAuto: return "auto";
    case WarmMethod::kShortestPaths: return "shortest-paths";
    case WarmMethod::kCostScaling: return "cost-scaling";
    case WarmMethod::kNetworkSimplex: return "network-simplex";
    case WarmMethod::kCold: return "cold";
  }
  return "unknown";
}

std::optional<WarmMethod> parse_warm_method(std::string_view name) {
  for (const WarmMethod m : {WarmMethod::kAuto, WarmMethod::kShortestPaths, WarmMethod::kCostScaling,
                             WarmMethod::kNetworkSimplex, WarmMethod::kCold}) {
    if (name == to_string(m)) return m;
  }
  return std::nullopt;
}

}  // namespace sluice
