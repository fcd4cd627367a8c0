// Host executor for the GPU solver's steps; see gpu_algorithm_host.hpp for the problem,
// the phases, the interleaving models, the invariants and the papers followed.
#include "gpu_algorithm_host.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include "cost_scaling.hpp"
#include "cost_scaling_ops.cuh"
#include "distance_ops.cuh"
#include "eps_scaling.hpp"
#include "feasibility.hpp"
#include "max_flow_ops.cuh"
#include "residual_graph.hpp"
#include "select_host.hpp"
#include "solution.hpp"

namespace sluice::detail {
namespace {

// The executor runs on one thread; each step's updates are applied as one unit, which is
// what the device's atomicAdd / atomicMin give per word.
struct HostAtomics {
  static void add(std::int64_t* p, std::int64_t d) { *p += d; }
  static std::int64_t min(std::int64_t* p, std::int64_t v) {
    const std::int64_t old = *p;
    if (v < old) *p = v;
    return old;
  }
};

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::int64_t degree(const DeviceGraphView& g, std::int32_t v) { return g.first[v + 1] - g.first[v]; }

class Executor {
 public:
  Executor(const DeviceGraphView& g, const GpuHostParams& params, GpuHostStats& stats)
      : g_(g), params_(params), stats_(stats), rng_(params.seed) {
    const auto n = static_cast<std::size_t>(g.n);
    snapshot_.assign(n, 0);
    view_.assign(n, 0);
    list_.assign(n, 0);
    flags_.assign(n, 0);
    next_.assign(n, 0);
    label_.assign(n, 0);
    fixed_.assign(static_cast<std::size_t>(g.m2), 0);
    if (params.arc_fixing) g_.fixed = fixed_.data();
  }

  Status status() const { return status_; }
  const std::string& message() const { return message_; }

  // ---- Feasibility: push-relabel max flow on supplies (max_flow_ops.cuh). ----
  // Returns false on an error or infeasibility (status_ says which).
  bool max_flow() {
    const std::int64_t n = g_.n;
    const std::int64_t cap = params_.max_rounds_per_refine > 0 ? params_.max_rounds_per_refine
                                                               : 64 * (n + 1) * (n + 1) + 4096;
    if (!global_relabel()) return false;
    std::int64_t relabels_since = 0;
    for (std::int64_t rounds = 0;; ++rounds) {
      select_active();
      if (active_count_ == 0) return true;
      if (rounds >= cap) return fail(Status::kBackendError, "gpu-host executor: max flow did not finish within " +
                                                                std::to_string(cap) + " rounds");
      if (params_.global_updates &&
          relabels_since >= std::max<std::int64_t>(1, static_cast<std::int64_t>(params_.update_frequency * n))) {
        relabels_since = 0;
        if (!global_relabel()) return false;
        select_active();
        if (active_count_ == 0) return true;
      }
      ++stats_.max_flow_rounds;
      order_active();
      std::int64_t arcs = 0;
      begin_phase(label_);
      for (std::int32_t i = 0; i < active_count_; ++i) {
        const std::int32_t v = list_[static_cast<std::size_t>(i)];
        prepare_view(v, label_);
        const StepResult r = max_flow_relabel_step(g_, view_.data(), label_.data(), v, n);
        restore_view(v);
        arcs += degree(g_, v);
        if (r == StepResult::kRelabeled) ++relabels_since;
        if (r == StepResult::kCutOff || r == StepResult::kNoResidualArc) return infeasible(v);
      }
      stats_.work.launch(LaunchKind::kMaxFlowRelabel, active_count_, arcs);
      arcs = 0;
      std::int64_t pushes = 0;
      for (std::int32_t i = 0; i < active_count_; ++i) {
        const std::int32_t v = list_[static_cast<std::size_t>(i)];
        if (max_flow_push_step<HostAtomics>(g_, label_.data(), v) == StepResult::kPushed) ++pushes;
        arcs += degree(g_, v);
      }
      stats_.work.launch(LaunchKind::kMaxFlowPush, active_count_, arcs, 48 * pushes);
      if (params_.check_invariants && !check_heights()) return false;
    }
  }

  // ---- Cost scaling. ----
  // ---- Cost scaling: the steps run_eps_scaling (src/core/eps_scaling.hpp) drives. ----
  bool fix_arcs(std::int64_t prev_eps) {
    const std::int64_t threshold = fixing_threshold(g_.n, prev_eps, params_.fixing_percent);
    std::int64_t arcs = 0;
    for (std::int32_t v = 0; v < g_.n; ++v) {
      stats_.fixed_arcs += fix_arcs_step(g_, fixed_.data(), v, threshold);
      arcs += degree(g_, v);
    }
    stats_.work.launch(LaunchKind::kFixArcs, g_.n, arcs);
    return true;
  }
  bool begin_phase(std::int64_t /*eps*/) { return true; }
  bool refine_prices(std::int64_t eps, bool& found) {
    found = tighten_sweeps(eps);
    return true;
  }
  // Tightening with slack 0 settles only on an optimal flow (costs are scaled by n + 1).
  bool prove_optimal(std::int64_t /*eps*/, bool& optimal) {
    optimal = tighten_sweeps(0);
    return true;
  }
  // Frees the fixed residual arcs with c_p < -ε, counting them in `freed`.
  bool free_violated(std::int64_t eps, std::int64_t& freed) {
    freed = 0;
    if (!params_.arc_fixing) return true;
    std::int64_t arcs = 0;
    for (std::int32_t v = 0; v < g_.n; ++v) {
      freed += unfix_violated_step(g_, fixed_.data(), v, eps);
      arcs += degree(g_, v);
    }
    stats_.work.launch(LaunchKind::kFixArcs, g_.n, arcs);
    ++stats_.work.host_syncs;  // the count decides whether to refine again
    stats_.freed_arcs += freed;
    return true;
  }
  bool phase_done(std::int64_t eps) { return !params_.check_invariants || check(eps, true); }

  // For tests: one distance computation (eps > 0: price-update lengths; 0: hops).
  bool distances_for_test(std::int64_t eps, std::int64_t limit) {
    return eps > 0 ? distances(limit, ReducedCostLength{eps}) : distances(limit, HopLength{});
  }
  const std::vector<std::int64_t>& labels() const { return label_; }

  // Saturate, then rounds until no node holds excess.
  bool refine(std::int64_t eps) {
    std::int64_t arcs = 0;
    for (std::int32_t v = 0; v < g_.n; ++v) {
      saturate_step<HostAtomics>(g_, v);
      arcs += degree(g_, v);
    }
    stats_.work.launch(LaunchKind::kSaturate, g_.n, arcs);
    if (params_.check_invariants && !check(0)) return false;
    const std::int64_t n1 = static_cast<std::int64_t>(g_.n) + 1;
    const std::int64_t cap = params_.max_rounds_per_refine > 0 ? params_.max_rounds_per_refine : 64 * n1 * n1 + 4096;
    relabels_since_update_ = 0;
    bool first = true;
    for (std::int64_t rounds = 0;; ++rounds) {
      select_active();
      if (active_count_ == 0) return true;
      if (rounds >= cap) {
        return fail(Status::kBackendError, "gpu-host executor: refine at eps " + std::to_string(eps) +
                                               " did not finish within " + std::to_string(cap) + " rounds (" +
                                               std::to_string(active_count_) + " nodes still active)");
      }
      // At least one relabel between two updates: relabels are finite (each lowers a price
      // by ε or more), so the updates stop and the plain rounds finish. Updating every round
      // regardless can keep moving excess sideways forever.
      if (params_.global_updates &&
          (first || relabels_since_update_ >= std::max<std::int64_t>(
                                                  1, static_cast<std::int64_t>(params_.update_frequency * g_.n)))) {
        if (!price_update(eps)) return false;
      }
      first = false;
      if (!round_on_active(eps)) return false;
    }
  }

  // One round over the nodes that hold excess now, in the configured model.
  bool round(std::int64_t eps) {
    select_active();
    return round_on_active(eps);
  }

  // One round over the selected active list.
  bool round_on_active(std::int64_t eps) {
    ++stats_.rounds;
    order_active();
    std::int64_t arcs = 0;
    for (std::int32_t i = 0; i < active_count_; ++i) arcs += degree(g_, list_[static_cast<std::size_t>(i)]);
    const std::int64_t pushes_before = stats_.pushes;
    switch (params_.model) {
      case InterleavingModel::kSequential:
        for (std::int32_t i = 0; i < active_count_; ++i) {
          const std::int32_t v = list_[static_cast<std::size_t>(i)];
          if (!record(discharge_step<HostAtomics>(g_, g_.price, v, eps), v)) return false;
        }
        stats_.work.launch(LaunchKind::kRelabel, active_count_, arcs);
        break;
      case InterleavingModel::kTwoPhaseRacy:
        // Relabel phase, then (after the grid barrier a kernel boundary gives) push phase.
        begin_phase(price_of());
        for (std::int32_t i = 0; i < active_count_; ++i) {
          const std::int32_t v = list_[static_cast<std::size_t>(i)];
          prepare_view(v, price_of());
          const StepResult r = relabel_step(g_, view_.data(), v, eps);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        stats_.work.launch(LaunchKind::kRelabel, active_count_, arcs);
        begin_phase(price_of());
        for (std::int32_t i = 0; i < active_count_; ++i) {
          const std::int32_t v = list_[static_cast<std::size_t>(i)];
          prepare_view(v, price_of());
          const StepResult r = params_.push_all ? push_all_step<HostAtomics>(g_, view_.data(), v)
                                                : push_step<HostAtomics>(g_, view_.data(), v);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        stats_.work.launch(LaunchKind::kPush, active_count_, arcs, 32 * (stats_.pushes - pushes_before));
        break;
      case InterleavingModel::kCombinedRacy:
        begin_phase(price_of());
        for (std::int32_t i = 0; i < active_count_; ++i) {
          const std::int32_t v = list_[static_cast<std::size_t>(i)];
          prepare_view(v, price_of());
          const StepResult r = discharge_step<HostAtomics>(g_, view_.data(), v, eps);
          restore_view(v);
          if (!record(r, v)) return false;
        }
        stats_.work.launch(LaunchKind::kRelabel, active_count_, arcs);
        break;
    }
    return !params_.check_invariants || check(eps);
  }

 private:
  // Prices live in g_.price (a raw pointer); label_ holds max-flow heights and distances.
  struct PriceRef {
    std::int64_t* p;
    std::int64_t& operator[](std::size_t i) const { return p[i]; }
    std::int64_t* data() const { return p; }
  };
  PriceRef price_of() const { return PriceRef{g_.price}; }

  // The frontier of nodes with excess, compacted as the device compacts it.
  void select_active() {
    for (std::int32_t v = 0; v < g_.n; ++v) flags_[static_cast<std::size_t>(v)] = g_.excess[v] > 0 ? 1 : 0;
    select_into_list(flags_, g_.n);
    stats_.work.launch(LaunchKind::kSelect, g_.n, 0, 8 * static_cast<std::int64_t>(g_.n));  // excess read to flag
  }
  void select_into_list(const std::vector<std::uint8_t>& flags, std::int32_t n) {
    SelectWork w;
    active_count_ = select_flagged(flags.data(), n, list_.data(), 2048, &w);
    stats_.work.launch(LaunchKind::kSelect, 0, 0, w.bytes);
    ++stats_.work.host_syncs;  // the count decides the next launch's grid
  }
  void order_active() {
    if (params_.shuffle) std::shuffle(list_.begin(), list_.begin() + active_count_, rng_);
  }

  // Labels as every thread of this phase could first have read them.
  template <class Labels>
  void begin_phase(const Labels& live) {
    std::copy(live.data(), live.data() + g_.n, snapshot_.begin());
    std::copy(live.data(), live.data() + g_.n, view_.begin());
  }
  // Each neighbour read of v's step returns the phase-start value or the current one. v's
  // own label (a self loop's head) is always current: only v writes it.
  template <class Labels>
  void prepare_view(std::int32_t v, const Labels& live) {
    std::bernoulli_distribution stale(params_.stale_probability);
    for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
      const std::int32_t w = g_.head[e];
      view_[static_cast<std::size_t>(w)] =
          (w == v || !stale(rng_)) ? live[static_cast<std::size_t>(w)] : snapshot_[static_cast<std::size_t>(w)];
    }
  }
  void restore_view(std::int32_t v) {
    for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
      const std::int32_t w = g_.head[e];
      view_[static_cast<std::size_t>(w)] = snapshot_[static_cast<std::size_t>(w)];
    }
  }
  // A label the thread reads for its own node in a sweep: the sweep-start value or current.
  std::int64_t own_read(const std::int64_t* live, std::int32_t v) {
    std::bernoulli_distribution stale(params_.stale_probability);
    return stale(rng_) ? snapshot_[static_cast<std::size_t>(v)] : live[v];
  }

  // Distances to the nearest node with negative excess (distance_ops.cuh), frontier
  // sweeps to the fixpoint; labels capped at `limit`.
  template <class Length>
  bool distances(std::int64_t limit, Length length) {
    const std::int32_t n = g_.n;
    for (std::int32_t v = 0; v < n; ++v) {
      const bool deficit = g_.excess[v] < 0;
      label_[static_cast<std::size_t>(v)] = deficit ? 0 : limit;
      next_[static_cast<std::size_t>(v)] = deficit ? 1 : 0;
    }
    stats_.work.launch(LaunchKind::kApplyPrices, n, 0);  // labels and flags set: one pass over the nodes
    for (std::int64_t sweep = 0;; ++sweep) {
      std::swap(flags_, next_);
      select_into_list(flags_, n);
      if (active_count_ == 0) return true;
      if (sweep > static_cast<std::int64_t>(n) + 1) {
        return fail(Status::kBackendError, "gpu-host executor: distance sweeps did not settle");
      }
      ++stats_.relax_sweeps;
      std::fill(next_.begin(), next_.end(), 0);
      order_active();
      std::copy(label_.begin(), label_.end(), snapshot_.begin());
      std::int64_t arcs = 0;
      for (std::int32_t i = 0; i < active_count_; ++i) {
        const std::int32_t w = list_[static_cast<std::size_t>(i)];
        (void)relax_into_step<HostAtomics>(g_, own_read(label_.data(), w), label_.data(), next_.data(), w, limit,
                                           length);
        arcs += degree(g_, w);
      }
      stats_.work.launch(LaunchKind::kRelax, active_count_, arcs);
    }
  }

  // Exact hop distances as max-flow heights; an active node cut off means infeasible.
  bool global_relabel() {
    ++stats_.global_updates;
    if (!distances(g_.n, HopLength{})) return false;
    for (std::int32_t v = 0; v < g_.n; ++v) {
      if (g_.excess[v] > 0 && label_[static_cast<std::size_t>(v)] >= g_.n) return infeasible(v);
    }
    return true;
  }

  // Global price update: p -= ε·d, d the distance under lengths floor(c_p/ε) + 1.
  bool price_update(std::int64_t eps) {
    ++stats_.global_updates;
    relabels_since_update_ = 0;
    const std::int64_t limit = static_cast<std::int64_t>(g_.n) + 1;
    if (!distances(limit, ReducedCostLength{eps})) return false;
    for (std::int32_t v = 0; v < g_.n; ++v) {
      if (apply_distance_step(g_, label_.data(), v, eps, limit) == StepResult::kPriceOverflow) {
        return record(StepResult::kPriceOverflow, v);
      }
    }
    stats_.work.launch(LaunchKind::kApplyPrices, g_.n, 0);
    return !params_.check_invariants || check(eps);
  }

  // The largest prices below the current ones under which the flow is slack-optimal, by
  // frontier sweeps; false (prices restored) when they do not settle within the budget.
  bool tighten_sweeps(std::int64_t slack) {
    const std::int32_t n = g_.n;
    const std::vector<std::int64_t> kept(g_.price, g_.price + n);
    std::fill(next_.begin(), next_.end(), 1);
    for (std::int32_t sweep = 0;; ++sweep) {
      std::swap(flags_, next_);
      select_into_list(flags_, n);
      if (active_count_ == 0) return true;
      if (sweep >= params_.tighten_max_sweeps) break;
      std::fill(next_.begin(), next_.end(), 0);
      order_active();
      std::copy(g_.price, g_.price + n, snapshot_.begin());
      std::int64_t arcs = 0;
      bool overflow = false;
      for (std::int32_t i = 0; i < active_count_ && !overflow; ++i) {
        const std::int32_t u = list_[static_cast<std::size_t>(i)];
        std::int32_t lowered = 0;
        overflow = tighten_step<HostAtomics>(g_, own_read(g_.price, u), next_.data(), u, slack, &lowered) ==
                   StepResult::kPriceOverflow;
        arcs += degree(g_, u);
      }
      stats_.work.launch(LaunchKind::kTighten, active_count_, arcs);
      if (overflow) break;
    }
    std::copy(kept.begin(), kept.end(), g_.price);
    return false;
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
        ++relabels_since_update_;
        return true;
      case StepResult::kNoResidualArc:
      case StepResult::kCutOff:
        return fail(Status::kBackendError,
                    "internal error: node " + std::to_string(v) + " holds excess but has no residual arc");
      case StepResult::kPriceOverflow:
        return fail(Status::kCostOverflow,
                    "price of node " + std::to_string(v) +
                        " fell below -2^62 during cost scaling; the cost range is too wide for 64-bit prices at "
                        "this size");
    }
    return true;
  }

  bool fail(Status s, std::string why) {
    status_ = s;
    message_ = std::move(why);
    return false;
  }
  bool infeasible(std::int32_t v) {
    return fail(Status::kInfeasible, "supply cannot reach any demand: node " + std::to_string(v) + " holds " +
                                         std::to_string(g_.excess[v]) +
                                         " units with no residual path to a node short of flow");
  }

  // ε-optimality and capacity bounds of the current pseudoflow. Inside a refine the fixed
  // arcs are out of the graph (they are verified when it ends); at a phase's end every arc
  // counts (with_fixed).
  bool check(std::int64_t eps, bool with_fixed = false) {
    for (std::int32_t v = 0; v < g_.n; ++v) {
      for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
        if (g_.rescap[e] < 0) {
          return fail(Status::kBackendError,
                      "invariant violated: residual capacity of arc " + std::to_string(e) + " is negative");
        }
        if (g_.rescap[e] == 0 || (!with_fixed && arc_fixed(g_, e))) continue;
        const std::int32_t w = g_.head[e];
        const std::int64_t rc = g_.cost[e] + g_.price[v] - g_.price[w];
        if (rc < -eps) {
          return fail(Status::kBackendError, "invariant violated: residual arc " + std::to_string(v) + "->" +
                                                 std::to_string(w) + " (arc " + std::to_string(e) +
                                                 ") has reduced cost " + std::to_string(rc) +
                                                 " < -eps = " + std::to_string(-eps));
        }
      }
    }
    return true;
  }
  // Valid max-flow heights: h(v) <= h(w) + 1 on every residual arc out of a node below n.
  bool check_heights() {
    for (std::int32_t v = 0; v < g_.n; ++v) {
      const std::int64_t hv = label_[static_cast<std::size_t>(v)];
      for (std::int32_t e = g_.first[v]; e < g_.first[v + 1]; ++e) {
        if (g_.rescap[e] < 0) {
          return fail(Status::kBackendError,
                      "invariant violated: residual capacity of arc " + std::to_string(e) + " is negative");
        }
        if (g_.rescap[e] == 0) continue;
        if (hv > label_[static_cast<std::size_t>(g_.head[e])] + 1) {
          return fail(Status::kBackendError, "invariant violated: height of node " + std::to_string(v) +
                                                 " exceeds its residual neighbour " + std::to_string(g_.head[e]) +
                                                 "'s by more than one");
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
  std::vector<std::int32_t> list_;
  std::int32_t active_count_ = 0;
  std::vector<std::uint8_t> flags_, next_;
  std::vector<std::int64_t> label_;
  std::vector<std::uint8_t> fixed_;
  std::int64_t relabels_since_update_ = 0;
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

DeviceGraphView view_of(RoundState& s) {
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

  // 1. Residual graph (to the device) and a feasible flow.
  ResidualGraph g = build_residual_graph(network);
  std::vector<std::int64_t> price(static_cast<std::size_t>(g.n), 0);
  // first, head, rev (4 B each per entry), cost, rescap (8 B), excess (8 B) in; rescap,
  // excess, prices out.
  stats.work.transfer_bytes += 4 * (static_cast<std::int64_t>(g.n) + 1) + 32 * static_cast<std::int64_t>(g.m2) +
                               8 * static_cast<std::int64_t>(g.n) + 8 * static_cast<std::int64_t>(g.m2) +
                               16 * static_cast<std::int64_t>(g.n);
  Executor exec(view_of(g, price), params, stats);
  if (params.device_max_flow) {
    if (!exec.max_flow()) {
      result.status = exec.status();
      result.message = exec.message();
      return result;
    }
  } else {
    const FeasibilityResult feasible = find_feasible_flow(g);
    if (!feasible.feasible) {
      result.status = Status::kInfeasible;
      result.message = feasible.reason;
      return result;
    }
  }
  if (g.has_negative_infinite_cycle) {
    result.status = Status::kUnbounded;
    result.message = "a cycle of infinite-capacity arcs has negative total cost";
    return result;
  }

  // 2. Scale costs by K = n + 1.
  const std::int64_t k = static_cast<std::int64_t>(g.n) + 1;
  if (!scaled_costs_fit(g.max_abs_cost, k)) {
    result.status = Status::kCostOverflow;
    result.message =
        "max |cost| " + std::to_string(g.max_abs_cost) + " times (n+1) = " + std::to_string(k) + " exceeds 2^61";
    return result;
  }
  for (std::int64_t& c : g.cost) c *= k;

  // 3. ε-scaling phases.
  PhaseSwitches on;
  on.arc_fixing = params.arc_fixing;
  on.price_refinement = params.price_refinement;
  on.early_exit = params.early_exit;
  PhaseCounts counts;
  const bool ok = run_eps_scaling(exec, g.max_abs_cost * k, k, params.alpha, on, counts);
  stats.phases = counts.phases;
  stats.skipped_phases = counts.skipped_phases;
  stats.early_exit = counts.early_exit;
  if (!ok) {
    result.status = exec.status();
    result.message = exec.message();
    return result;
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
  result.stats.skipped_phases = stats.skipped_phases;
  result.stats.pushes = stats.pushes;
  result.stats.relabels = stats.relabels;
  result.stats.global_updates = stats.global_updates;
  return result;
}

std::string run_one_round(RoundState& s, std::int64_t eps, const GpuHostParams& params) {
  const DeviceGraphView v = view_of(s);
  GpuHostStats stats;
  GpuHostParams p = params;
  p.check_invariants = true;
  p.arc_fixing = false;
  Executor exec(v, p, stats);
  if (exec.round(eps)) return {};
  return exec.message();
}

std::vector<std::int64_t> run_distances(RoundState& s, std::int64_t eps, std::int64_t limit,
                                        const GpuHostParams& params) {
  const DeviceGraphView v = view_of(s);
  GpuHostStats stats;
  GpuHostParams p = params;
  p.arc_fixing = false;
  Executor exec(v, p, stats);
  if (!exec.distances_for_test(eps, limit)) return {};
  return exec.labels();
}

}  // namespace sluice::detail
