// Host executor for the GPU cost-scaling steps; see gpu_algorithm_host.hpp for the
// problem, the interleaving models, the invariant and the papers followed.
#include "gpu_algorithm_host.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include "cost_scaling.hpp"
#include "cost_scaling_ops.cuh"
#include "feasibility.hpp"
#include "residual_graph.hpp"
#include "solution.hpp"

namespace sluice::detail {
namespace {

constexpr std::int64_t kMaxScaledCost = std::int64_t{1} << 61;

// The executor runs on one thread; each step's updates are applied as one unit, which is
// what the device's atomicAdd gives per word.
struct HostAtomics {
  static void add(std::int64_t* p, std::int64_t d) { *p += d; }
};

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

class Executor {
 public:
  Executor(const DeviceGraphView& g, const GpuHostParams& params, GpuHostStats& stats)
      : g_(g), params_(params), stats_(stats), rng_(params.seed) {
    snapshot_.assign(static_cast<std::size_t>(g.n), 0);
    view_.assign(static_cast<std::size_t>(g.n), 0);
    active_.reserve(static_cast<std::size_t>(g.n));
  }

  Status status() const { return status_; }
  const std::string& message() const { return message_; }

  // Saturate, then rounds until no node holds excess.
  bool refine(std::int64_t eps) {
    ++stats_.phases;
    for (std::int32_t v = 0; v < g_.n; ++v) saturate_step<HostAtomics>(g_, v);
    if (params_.check_invariants && !check(0)) return false;
    const std::int64_t n1 = static_cast<std::int64_t>(g_.n) + 1;
    const std::int64_t cap = params_.max_rounds_per_refine > 0 ? params_.max_rounds_per_refine : 64 * n1 * n1 + 4096;
    for (std::int64_t rounds = 0;; ++rounds) {
      collect_active();
      if (active_.empty()) return true;
      if (rounds >= cap) {
        status_ = Status::kBackendError;
        message_ = "gpu-host executor: refine at eps " + std::to_string(eps) + " did not finish within " +
                   std::to_string(cap) + " rounds (" + std::to_string(active_.size()) + " nodes still active)";
        return false;
      }
      if (!round(eps)) return false;
    }
  }

  // One round over the currently active nodes, in the configured model.
  bool round(std::int64_t eps) {
    ++stats_.rounds;
    collect_active();
    switch (params_.model) {
      case InterleavingModel::kSequential:
        std::shuffle(active_.begin(), active_.end(), rng_);
        for (const std::int32_t v : active_) {
          if (!record(discharge_step<HostAtomics>(g_, g_.price, v, eps), v)) return false;
        }
        break;
      case InterleavingModel::kTwoPhaseRacy:
        // Relabel phase, then (after the grid barrier a kernel boundary gives) push phase.
        begin_phase();
        std::shuffle(active_.begin(), active_.end(), rng_);
        for (const std::int32_t v : active_) {
          prepare_view(v);
          const StepResult r = relabel_step(g_, view_.data(), v, eps);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        begin_phase();
        std::shuffle(active_.begin(), active_.end(), rng_);
        for (const std::int32_t v : active_) {
          prepare_view(v);
          const StepResult r = push_step<HostAtomics>(g_, view_.data(), v);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        break;
      case InterleavingModel::kCombinedRacy:
        begin_phase();
        std::shuffle(active_.begin(), active_.end(), rng_);
        for (const std::int32_t v : active_) {
          prepare_view(v);
          const StepResult r = discharge_step<HostAtomics>(g_, view_.data(), v, eps);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        break;
    }
    return !params_.check_invariants || check(eps);
  }

 private:
  void collect_active() {
    active_.clear();
    for (std::int32_t v = 0; v < g_.n; ++v) {
      if (g_.excess[v] > 0) active_.push_back(v);
    }
  }

  // Prices as every thread of this phase could first have read them.
  void begin_phase() {
    std::copy(g_.price, g_.price + g_.n, snapshot_.begin());
    std::copy(g_.price, g_.price + g_.n, view_.begin());
  }

  // Each neighbour-price read of v's step returns the phase-start value or the current one.
  // v's own price (a self loop's head) is always current: only v writes it.
  void prepare_view(std::int32_t v) {
    std::bernoulli_distribution stale(params_.stale_probability);
    for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
      const std::int32_t w = g_.head[e];
      view_[static_cast<std::size_t>(w)] =
          (w == v || !stale(rng_)) ? g_.price[w] : snapshot_[static_cast<std::size_t>(w)];
    }
  }
  void restore_view(std::int32_t v) {
    for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
      const std::int32_t w = g_.head[e];
      view_[static_cast<std::size_t>(w)] = snapshot_[static_cast<std::size_t>(w)];
    }
  }

  bool record(StepResult r, std::int32_t v) {
    switch (r) {
      case StepResult::kIdle:
        return true;
      case StepResult::kPushed:
        ++stats_.pushes;
        return true;
      case StepResult::kRelabeled:
        ++stats_.relabels;
        return true;
      case StepResult::kNoResidualArc:
        status_ = Status::kBackendError;
        message_ = "internal error: node " + std::to_string(v) + " holds excess but has no residual arc";
        return false;
      case StepResult::kPriceOverflow:
        status_ = Status::kCostOverflow;
        message_ = "price of node " + std::to_string(v) +
                   " fell below -2^62 during cost scaling; the cost range is too wide for 64-bit prices at this size";
        return false;
    }
    return true;
  }

  // ε-optimality and capacity bounds of the current pseudoflow.
  bool check(std::int64_t eps) {
    for (std::int32_t v = 0; v < g_.n; ++v) {
      for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
        if (g_.rescap[e] < 0) {
          status_ = Status::kBackendError;
          message_ = "invariant violated: residual capacity of arc " + std::to_string(e) + " is negative";
          return false;
        }
        if (g_.rescap[e] == 0) continue;
        const std::int32_t w = g_.head[e];
        const std::int64_t rc = g_.cost[e] + g_.price[v] - g_.price[w];
        if (rc < -eps) {
          status_ = Status::kBackendError;
          message_ = "invariant violated: residual arc " + std::to_string(v) + "->" + std::to_string(w) + " (arc " +
                     std::to_string(e) + ") has reduced cost " + std::to_string(rc) +
                     " < -eps = " + std::to_string(-eps);
          return false;
        }
      }
    }
    return true;
  }

  DeviceGraphView g_;
  GpuHostParams params_;
  GpuHostStats& stats_;
  std::mt19937_64 rng_;
  Status status_ = Status::kOptimal;
  std::string message_;
  std::vector<std::int64_t> snapshot_;
  std::vector<std::int64_t> view_;
  std::vector<std::int32_t> active_;
};

DeviceGraphView view_of(ResidualGraph& g, std::vector<std::int64_t>& price) {
  DeviceGraphView v;
  v.n = g.n;
  v.m2 = g.m2;
  v.first = g.first.data();
  v.head = g.head.data();
  v.rev = g.rev.data();
  v.cost = g.cost.data();
  v.rescap = g.rescap.data();
  v.excess = g.excess.data();
  v.price = price.data();
  return v;
}

}  // namespace

SolveResult solve_gpu_algorithm_on_host(const Network& network, const GpuHostParams& params, GpuHostStats* stats_out) {
  SolveResult result;
  result.backend = Backend::kGpu;  // the GPU algorithm, its steps run here
  result.algorithm = "lock-free cost-scaling push-relabel (host executor)";
  const Validation validation = network.validate();
  if (!validation.ok()) {
    result.status = validation.status;
    result.message = validation.message;
    return result;
  }
  GpuHostStats local;
  GpuHostStats& stats = stats_out != nullptr ? *stats_out : local;

  // 1. Residual graph and a feasible flow, exactly as the CPU solver gets them.
  ResidualGraph g = build_residual_graph(network);
  const FeasibilityResult feasible = find_feasible_flow(g);
  if (!feasible.feasible) {
    result.status = Status::kInfeasible;
    result.message = feasible.reason;
    return result;
  }
  if (g.has_negative_infinite_cycle) {
    result.status = Status::kUnbounded;
    result.message = "a cycle of infinite-capacity arcs has negative total cost";
    return result;
  }

  // 2. Scale costs by K = n + 1.
  const std::int64_t k = static_cast<std::int64_t>(g.n) + 1;
  if (static_cast<__int128>(g.max_abs_cost) * k > kMaxScaledCost) {
    result.status = Status::kCostOverflow;
    result.message =
        "max |cost| " + std::to_string(g.max_abs_cost) + " times (n+1) = " + std::to_string(k) + " exceeds 2^61";
    return result;
  }
  for (std::int64_t& c : g.cost) c *= k;

  // 3. ε-scaling phases, each a refine driven by the executor.
  std::vector<std::int64_t> price(static_cast<std::size_t>(g.n), 0);
  Executor exec(view_of(g, price), params, stats);
  std::int64_t eps = g.max_abs_cost * k;
  const std::int64_t alpha = std::max(2, params.alpha);
  while (eps > 1) {
    eps = std::max<std::int64_t>(1, eps / alpha);
    if (!exec.refine(eps)) {
      result.status = exec.status();
      result.message = exec.message();
      return result;
    }
  }

  // 4. Original costs; exact potentials from the scaled prices; the flow.
  for (std::int64_t& c : g.cost) c /= k;
  result.potential.resize(static_cast<std::size_t>(g.n));
  for (std::int32_t v = 0; v < g.n; ++v) {
    result.potential[static_cast<std::size_t>(v)] = floor_div(price[static_cast<std::size_t>(v)], k);
  }
  if (!compute_exact_potentials(g, result.potential)) {
    result.status = Status::kBackendError;
    result.message = "internal error: the final flow admits a negative residual cycle";
    return result;
  }
  result.status = Status::kOptimal;
  read_solution(network, g, std::move(result.potential), result);
  if (result.status != Status::kOptimal) return result;
  result.stats.phases = stats.phases;
  result.stats.pushes = stats.pushes;
  result.stats.relabels = stats.relabels;
  return result;
}

std::string run_one_round(RoundState& s, std::int64_t eps, const GpuHostParams& params) {
  DeviceGraphView v;
  v.n = static_cast<std::int32_t>(s.excess.size());
  v.m2 = static_cast<std::int32_t>(s.head.size());
  v.first = s.first.data();
  v.head = s.head.data();
  v.rev = s.rev.data();
  v.cost = s.cost.data();
  v.rescap = s.rescap.data();
  v.excess = s.excess.data();
  v.price = s.price.data();
  GpuHostStats stats;
  GpuHostParams p = params;
  p.check_invariants = true;
  Executor exec(v, p, stats);
  if (exec.round(eps)) return {};
  return exec.message();
}

}  // namespace sluice::detail
