#include "cost_scaling.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>

#include "eps_scaling.hpp"

namespace sluice::detail {
namespace {

constexpr std::int64_t kPriceFloor = -(std::int64_t{1} << 62);
constexpr std::int32_t kNone = -1;

// Floor division for a positive divisor.
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

class CostScaling {
 public:
  CostScaling(ResidualGraph& g, const CostScalingParams& params, SolverStats& stats)
      : g_(g), params_(params), stats_(stats), n_(g.n) {
    price_.assign(static_cast<std::size_t>(n_), 0);
    current_.assign(g.first.begin(), g.first.end() - 1);
    bucket_next_.assign(static_cast<std::size_t>(n_), kNone);
    bucket_prev_.assign(static_cast<std::size_t>(n_), kNone);
    dist_.assign(static_cast<std::size_t>(n_), 0);
    state_.assign(static_cast<std::size_t>(n_), 0);
    queue_.reserve(static_cast<std::size_t>(n_));
    first_ = g.first.data();
    head_ = g.head.data();
    rev_ = g.rev.data();
    cost_ = g.cost.data();
    rescap_ = g.rescap.data();
    excess_ = g.excess.data();
    p_ = price_.data();
    // One byte per residual arc, kept equal to (rescap > 0): most arc visits only ask
    // whether an arc is residual, and a byte stream answers that with 1/8 of the memory
    // traffic of the capacities (measured at 500k tasks: 11.0 s -> 8.8 s with both arrays;
    // see bench/results/README.md).
    open_bytes_.resize(static_cast<std::size_t>(g.m2));
    for (std::int32_t e = 0; e < g.m2; ++e) open_bytes_[static_cast<std::size_t>(e)] = g.rescap[static_cast<std::size_t>(e)] > 0;
    open_ = open_bytes_.data();
    rev_open_bytes_.resize(static_cast<std::size_t>(g.m2));
    for (std::int32_t e = 0; e < g.m2; ++e) rev_open_bytes_[static_cast<std::size_t>(e)] = open_[rev_[e]];
    rev_open_ = rev_open_bytes_.data();
    trace_ = params.progress;
    path_.reserve(8);
  }

  EngineOutcome run(bool want_potentials) {
    EngineOutcome out;
    // 1. Scale costs by K = n + 1, after checking that they fit.
    const std::int64_t k = static_cast<std::int64_t>(n_) + 1;
    if (!scaled_costs_fit(g_.max_abs_cost, k)) {
      out.status = Status::kCostOverflow;
      out.message = "max |cost| " + std::to_string(g_.max_abs_cost) + " times (n+1) = " +
                    std::to_string(k) + " exceeds 2^61; costs up to " +
                    std::to_string(kMaxScaledCost / k) + " are supported at this size";
      return out;
    }
    for (std::int32_t e = 0; e < g_.m2; ++e) cost_[e] *= k;
    const std::int64_t alpha = std::max(2, params_.alpha);
    std::int64_t eps = g_.max_abs_cost * k;
    if (load_initial_prices(k) && params_.start_eps > 0 && params_.start_eps < g_.max_abs_cost) {
      // The loop divides before the first phase: start one step above the wanted ε.
      eps = std::min<std::int64_t>(eps, params_.start_eps * k * alpha);
    }

    // 2. ε-scaling phases (the driver: src/core/eps_scaling.hpp; the steps below).
    balanced_ = std::none_of(g_.excess.begin(), g_.excess.end(), [](std::int64_t x) { return x != 0; });
    k_ = k;
    PhaseSwitches on;
    on.price_refinement = params_.price_refinement;
    on.early_exit = params_.early_exit;
    PhaseCounts counts;
    const bool ok = run_eps_scaling(*this, eps, k, params_.alpha, on, counts);
    stats_.skipped_phases += counts.skipped_phases;
    if (!ok) {
      out.status = status_;
      out.message = message_;
      return out;
    }
    std::vector<std::int64_t> exact = std::move(exact_);  // set when the early exit proved the flow optimal

    // 3. Back to original costs; exact potentials from the scaled prices.
    for (std::int32_t e = 0; e < g_.m2; ++e) cost_[e] /= k;
    if (!exact.empty()) {
      out.potential = std::move(exact);
    } else if (want_potentials) {
      out.potential.resize(static_cast<std::size_t>(n_));
      for (std::int32_t v = 0; v < n_; ++v) out.potential[static_cast<std::size_t>(v)] = floor_div(p_[v], k);
      if (!compute_exact_potentials(g_, out.potential)) {
        out.status = Status::kBackendError;
        out.message = "internal error: the final flow admits a negative residual cycle";
        return out;
      }
    }
    return out;
  }

  // ---- The steps run_eps_scaling drives (src/core/eps_scaling.hpp). ----
  bool begin_phase(std::int64_t /*eps*/) {
    ++stats_.phases;  // here, not from the driver's count: the cancellation message names it
    refined_ = false;
    return !cancelled();
  }
  bool fix_arcs(std::int64_t /*prev_eps*/) { return true; }  // not used on the CPU
  bool free_violated(std::int64_t /*eps*/, std::int64_t& freed) {
    freed = 0;
    return true;
  }
  // Price refinement keeps the flow as it is, so it may only skip a refine once no excess
  // is left (a warm start begins with the edits' imbalance still in place).
  bool refine_prices(std::int64_t eps, bool& found) {
    found = balanced_ && price_refine(eps);
    return true;
  }
  bool refine(std::int64_t eps) {
    phase_start_ = std::chrono::steady_clock::now();
    phase_before_ = stats_;
    if (!refine_once(eps)) return false;
    balanced_ = true;
    refined_ = true;
    return true;
  }
  bool phase_done(std::int64_t eps) {
    if (trace_ && refined_) {
      std::fprintf(stderr, "[cost-scaling] eps %lld: %.3f s, %lld pushes, %lld relabels, %lld updates\n",
                   static_cast<long long>(eps),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_start_).count(),
                   static_cast<long long>(stats_.pushes - phase_before_.pushes),
                   static_cast<long long>(stats_.relabels - phase_before_.relabels),
                   static_cast<long long>(stats_.global_updates - phase_before_.global_updates));
    }
    return true;
  }
  // Below one original cost unit the flow is often optimal already. Test it exactly
  // (integer potentials with every residual reduced cost >= 0, searched from the rounded
  // prices, giving up after early_exit_budget passes over the arcs); the phases it saves
  // count as skipped.
  bool prove_optimal(std::int64_t eps, bool& optimal) {
    std::vector<std::int64_t> guess(static_cast<std::size_t>(n_));
    for (std::int32_t v = 0; v < n_; ++v) guess[static_cast<std::size_t>(v)] = floor_div(p_[v], k_);
    const auto t_test = std::chrono::steady_clock::now();
    const auto budget = static_cast<std::int64_t>(params_.early_exit_budget * g_.m2);
    const PotentialSearch found = search_exact_potentials(g_, k_, budget, guess);
    if (trace_) {
      std::fprintf(stderr, "[cost-scaling] optimality test after eps %lld: %s in %.3f s\n",
                   static_cast<long long>(eps),
                   found == PotentialSearch::kFound           ? "optimal"
                   : found == PotentialSearch::kNegativeCycle ? "not optimal"
                                                              : "gave up",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t_test).count());
    }
    optimal = found == PotentialSearch::kFound;
    if (optimal) {
      exact_ = std::move(guess);
      const std::int64_t alpha = std::max(2, params_.alpha);
      for (std::int64_t rest = eps; rest > 1; rest = std::max<std::int64_t>(1, rest / alpha)) {
        ++stats_.skipped_phases;
      }
    }
    return true;
  }

 private:
  // Scaled warm-start prices from params.initial_potential; false (all prices 0) when there
  // are none or one would leave the range the overflow checks keep prices in.
  bool load_initial_prices(std::int64_t k) {
    const std::vector<std::int64_t>* start = params_.initial_potential;
    if (start == nullptr || start->size() != static_cast<std::size_t>(n_) || n_ == 0) return false;
    // Shifted to a maximum of 0, as a cold start's prices are (they only fall from there):
    // then every reduced cost stays within 64 bits, as argued at the top of the header.
    const std::int64_t top = *std::max_element(start->begin(), start->end());
    for (std::int32_t v = 0; v < n_; ++v) {
      const __int128 scaled = (static_cast<__int128>((*start)[static_cast<std::size_t>(v)]) - top) * k;
      if (scaled < kPriceFloor / 2) return false;
    }
    for (std::int32_t v = 0; v < n_; ++v) p_[v] = ((*start)[static_cast<std::size_t>(v)] - top) * k;
    return true;
  }

  bool fail_overflow(std::int32_t v) {
    status_ = Status::kCostOverflow;
    message_ = "price of node " + std::to_string(v) +
               " fell below -2^62 during cost scaling; the cost range is too wide for 64-bit "
               "prices at this size";
    return false;
  }

  void push(std::int32_t v, std::int32_t e, std::int64_t delta) {
    const std::int32_t w = head_[e];
    const std::int32_t r = rev_[e];
    rescap_[e] -= delta;
    set_open(e, r, rescap_[e] > 0);
    rescap_[r] += delta;
    set_open(r, e, 1);
    excess_[v] -= delta;
    const std::int64_t before = excess_[w];
    excess_[w] = before + delta;
    ++stats_.pushes;
    if (before <= 0 && before + delta > 0) queue_.push_back(w);
  }

  // Arc e (paired with r) becomes residual or not; both byte arrays follow.
  void set_open(std::int32_t e, std::int32_t r, std::uint8_t is_open) {
    open_[e] = is_open;
    rev_open_[r] = is_open;
  }

  // p(v) := max over residual arcs (p(w) - c(v,w)) - ε. Returns false on overflow or when
  // v has no residual arc at all: a node holding excess always has the reverse of the arc
  // that brought it, and feasibility was settled before, so that would be a bug.
  bool relabel(std::int32_t v, std::int64_t eps) {
    std::int64_t best = std::numeric_limits<std::int64_t>::min();
    std::int32_t best_e = kNone;
    const std::int32_t end = first_[v + 1];
    for (std::int32_t e = first_[v]; e < end; ++e) {
      if (open_[e]) {
        const std::int64_t val = p_[head_[e]] - cost_[e];
        if (val > best) {
          best = val;
          best_e = e;
        }
      }
    }
    ++stats_.relabels;
    ++relabels_since_update_;
    if (best_e == kNone) {
      status_ = Status::kBackendError;
      message_ = "internal error: node " + std::to_string(v) + " holds excess but has no residual arc";
      return false;
    }
    const std::int64_t np = best - eps;
    if (np < kPriceFloor) return fail_overflow(v);
    p_[v] = np;
    current_[static_cast<std::size_t>(v)] = best_e;
    return true;
  }

  // Look-ahead found that w = head(e) has no admissible arc: relabel it instead of pushing
  // into it. A node with no residual arc at all (a dead end) cannot be relabelled the
  // usual way; lowering its price until e has reduced cost 0 keeps ε-optimality (only arcs
  // into w change, and their reduced costs grow) and stops the useless push.
  bool lookahead_relabel(std::int32_t v, std::int32_t e, std::int64_t eps) {
    const std::int32_t w = head_[e];
    bool has_residual = false;
    for (std::int32_t f = first_[w]; f < first_[w + 1]; ++f) {
      if (open_[f]) {
        has_residual = true;
        break;
      }
    }
    if (has_residual) return relabel(w, eps);
    const std::int64_t np = cost_[e] + p_[v];
    if (np < kPriceFloor) return fail_overflow(w);
    p_[w] = np;
    return true;
  }

  // True when v has an admissible arc; moves its current arc to it.
  bool has_admissible(std::int32_t v) {
    const std::int32_t end = first_[v + 1];
    const std::int64_t pv = p_[v];
    for (std::int32_t e = current_[static_cast<std::size_t>(v)]; e < end; ++e) {
      if (open_[e] && cost_[e] + pv - p_[head_[e]] < 0) {
        current_[static_cast<std::size_t>(v)] = e;
        return true;
      }
    }
    current_[static_cast<std::size_t>(v)] = end;
    return false;
  }

  // Partial augment-relabel (Goldberg, "The partial augment-relabel algorithm for the
  // maximum flow problem", ESA 2008; LEMON's default cost-scaling method): grow a path of
  // admissible arcs from `start`, relabelling and retreating when the tip is stuck, until it
  // reaches a node with demand or `augment_path_length` arcs; then push one amount along all of
  // it. Flow crosses short scheduling paths (task -> machine -> sink) in one go instead of
  // waiting in the queue at every intermediate node. The admissible graph is acyclic
  // during a refine, so the path is simple; the length cap bounds it regardless.
  bool augment_discharge(std::int32_t start, std::int64_t eps) {
    const std::size_t max_length = static_cast<std::size_t>(std::max(1, params_.augment_path_length));
    while (excess_[start] > 0) {
      path_.clear();
      std::int32_t tip = start;
      while (true) {
        const std::int32_t end = first_[tip + 1];
        const std::int64_t pt = p_[tip];
        std::int32_t e = current_[static_cast<std::size_t>(tip)];
        while (e < end && !(open_[e] && cost_[e] + pt - p_[head_[e]] < 0)) ++e;
        if (e < end) {
          current_[static_cast<std::size_t>(tip)] = e;
          const std::int32_t w = head_[e];
          // A relabel moves the current arc to its argmax, so a price may drop by less
          // than ε and the admissible graph need not stay acyclic: never close a cycle,
          // or an arc would appear twice on the path and be pushed past its capacity.
          if (on_path(start, w)) break;
          path_.push_back(e);
          tip = w;
          if (excess_[tip] < 0 || path_.size() == max_length) break;
          continue;
        }
        if (path_.empty()) {  // the start itself is stuck: relabel it and search again
          if (!relabel(start, eps)) return false;
          continue;
        }
        // Retreat: relabel the stuck tip (or, for a dead end without residual arcs, lower
        // its price) so the arc into it is no longer admissible, then resume one node back.
        const std::int32_t into_tip = path_.back();
        path_.pop_back();
        const std::int32_t prev = path_.empty() ? start : head_[path_.back()];
        if (!lookahead_relabel(prev, into_tip, eps)) return false;
        tip = prev;
      }
      // Only a self loop could lead start straight back to itself, and self loops are
      // never admissible; should one be, the single-push discharge handles it.
      if (path_.empty()) return discharge(start, eps);
      std::int64_t delta = excess_[start];
      for (const std::int32_t e : path_) delta = std::min(delta, rescap_[e]);
      for (const std::int32_t e : path_) {
        const std::int32_t r = rev_[e];
        rescap_[e] -= delta;
        set_open(e, r, rescap_[e] > 0);
        rescap_[r] += delta;
        set_open(r, e, 1);
      }
      stats_.pushes += static_cast<std::int64_t>(path_.size());
      excess_[start] -= delta;
      const std::int64_t before = excess_[tip];
      excess_[tip] = before + delta;
      if (before <= 0 && before + delta > 0) queue_.push_back(tip);
    }
    return true;
  }

  bool on_path(std::int32_t start, std::int32_t w) const {
    if (w == start) return true;
    for (const std::int32_t e : path_) {
      if (head_[e] == w) return true;
    }
    return false;
  }

  bool discharge(std::int32_t v, std::int64_t eps) {
    while (excess_[v] > 0) {
      const std::int32_t end = first_[v + 1];
      std::int32_t e = current_[static_cast<std::size_t>(v)];
      for (; e < end; ++e) {
        if (!open_[e]) continue;
        const std::int32_t w = head_[e];
        if (cost_[e] + p_[v] - p_[w] >= 0) continue;
        if (params_.push_lookahead && excess_[w] >= 0 && !has_admissible(w)) {
          if (!lookahead_relabel(v, e, eps)) return false;
          if (cost_[e] + p_[v] - p_[w] >= 0) continue;
        }
        push(v, e, std::min(excess_[v], rescap_[e]));
        if (excess_[v] == 0) break;
      }
      if (excess_[v] == 0) {
        current_[static_cast<std::size_t>(v)] = e;
        break;
      }
      if (!relabel(v, eps)) return false;
    }
    return true;
  }

  static constexpr std::uint32_t kCancelCheckEvery = 4096;

  // True (with the status set) once the caller's cancel flag is raised.
  bool cancelled() {
    if (params_.cancel == nullptr || !params_.cancel->load(std::memory_order_relaxed)) return false;
    status_ = Status::kCancelled;
    message_ = "cancelled during ε-scaling phase " + std::to_string(stats_.phases);
    return true;
  }

  bool refine_once(std::int64_t eps) {
    // Saturate every residual arc of negative reduced cost: the pseudoflow becomes
    // 0-optimal, hence ε-optimal for any ε.
    for (std::int32_t v = 0; v < n_; ++v) {
      const std::int64_t pv = p_[v];
      for (std::int32_t e = first_[v]; e < first_[v + 1]; ++e) {
        if (open_[e] && cost_[e] + pv - p_[head_[e]] < 0) {
          const std::int64_t r = rescap_[e];
          const std::int32_t re = rev_[e];
          rescap_[e] = 0;
          set_open(e, re, 0);
          rescap_[re] += r;
          set_open(re, e, 1);
          excess_[v] -= r;
          excess_[head_[e]] += r;
        }
      }
    }
    queue_.clear();
    for (std::int32_t v = 0; v < n_; ++v) {
      current_[static_cast<std::size_t>(v)] = first_[v];
      if (excess_[v] > 0) queue_.push_back(v);
    }
    relabels_since_update_ = 0;
    if (params_.global_updates && !queue_.empty() && !global_update(eps)) return false;

    const std::int64_t update_after =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(params_.update_frequency * n_));
    std::size_t qhead = 0;
    std::uint32_t until_cancel_check = kCancelCheckEvery;
    while (qhead < queue_.size()) {
      const std::int32_t v = queue_[qhead++];
      if (excess_[v] <= 0) continue;
      if (--until_cancel_check == 0) {
        until_cancel_check = kCancelCheckEvery;
        if (cancelled()) return false;
      }
      if (!(params_.partial_augment ? augment_discharge(v, eps) : discharge(v, eps))) return false;
      if (params_.global_updates && relabels_since_update_ >= update_after) {
        // Drop processed entries, then recompute prices from the deficits.
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(qhead));
        qhead = 0;
        if (!global_update(eps)) return false;
      } else if (qhead > static_cast<std::size_t>(n_) && 2 * qhead > queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(qhead));
        qhead = 0;
      }
    }
    return true;
  }

  // ---- buckets for the Dijkstra-like updates -------------------------------------------
  void bucket_insert(std::int64_t d, std::int32_t v) {
    const std::size_t b = static_cast<std::size_t>(d);
    bucket_prev_[static_cast<std::size_t>(v)] = kNone;
    bucket_next_[static_cast<std::size_t>(v)] = buckets_[b];
    if (buckets_[b] != kNone) bucket_prev_[static_cast<std::size_t>(buckets_[b])] = v;
    buckets_[b] = v;
  }
  void bucket_remove(std::int64_t d, std::int32_t v) {
    const std::int32_t nx = bucket_next_[static_cast<std::size_t>(v)];
    const std::int32_t pv = bucket_prev_[static_cast<std::size_t>(v)];
    if (pv != kNone) bucket_next_[static_cast<std::size_t>(pv)] = nx;
    else buckets_[static_cast<std::size_t>(d)] = nx;
    if (nx != kNone) bucket_prev_[static_cast<std::size_t>(nx)] = pv;
  }

  // Global price update: d(v) = shortest distance from v to a deficit node, with arc
  // lengths floor(c_p/ε) + 1 >= 0; then p(v) -= d(v)·ε. Keeps ε-optimality and makes every
  // reached node's shortest path admissible. Stops once every excess node is settled
  // (after finishing that bucket); the unsettled nodes all get d = last bucket + 1.
  bool global_update(std::int64_t eps) {
    ++stats_.global_updates;
    relabels_since_update_ = 0;
    const std::int64_t max_bucket = static_cast<std::int64_t>(n_) + 1;
    buckets_.assign(static_cast<std::size_t>(max_bucket) + 1, kNone);
    // state: 0 unseen, 1 in a bucket, 2 settled
    std::fill(state_.begin(), state_.end(), 0);
    std::int64_t active_left = 0;
    for (std::int32_t v = 0; v < n_; ++v) {
      if (excess_[v] > 0) ++active_left;
      if (excess_[v] < 0) {
        dist_[static_cast<std::size_t>(v)] = 0;
        state_[static_cast<std::size_t>(v)] = 1;
        bucket_insert(0, v);
      }
    }
    std::int64_t level = 0;
    std::int64_t last_full = -1;
    for (; level <= max_bucket; ++level) {
      if (active_left == 0) break;
      while (buckets_[static_cast<std::size_t>(level)] != kNone) {
        const std::int32_t w = buckets_[static_cast<std::size_t>(level)];
        bucket_remove(level, w);
        state_[static_cast<std::size_t>(w)] = 2;
        if (excess_[w] > 0) --active_left;
        const std::int64_t pw = p_[w];
        for (std::int32_t e = first_[w]; e < first_[w + 1]; ++e) {
          const std::int32_t u = head_[e];
          if (state_[static_cast<std::size_t>(u)] == 2) continue;
          if (!rev_open_[e]) continue;  // the arc u -> w, rev(e), has no residual capacity
          const std::int64_t rc = p_[u] - cost_[e] - pw;  // cost(u -> w) == -cost(e)
          const std::int64_t len = floor_div(rc, eps) + 1;
          const std::int64_t nd = level + len;
          if (nd > max_bucket) continue;
          if (state_[static_cast<std::size_t>(u)] == 0) {
            dist_[static_cast<std::size_t>(u)] = nd;
            state_[static_cast<std::size_t>(u)] = 1;
            bucket_insert(nd, u);
          } else if (nd < dist_[static_cast<std::size_t>(u)]) {
            bucket_remove(dist_[static_cast<std::size_t>(u)], u);
            dist_[static_cast<std::size_t>(u)] = nd;
            bucket_insert(nd, u);
          }
        }
      }
      last_full = level;
    }
    const std::int64_t rest = last_full + 1;
    for (std::int32_t v = 0; v < n_; ++v) {
      std::int64_t d;
      if (state_[static_cast<std::size_t>(v)] == 2) {
        d = dist_[static_cast<std::size_t>(v)];
      } else {
        d = rest;
      }
      if (d == 0) continue;
      const __int128 np = static_cast<__int128>(p_[v]) - static_cast<__int128>(d) * eps;
      if (np < kPriceFloor) return fail_overflow(v);
      p_[v] = static_cast<std::int64_t>(np);
      current_[static_cast<std::size_t>(v)] = first_[v];
    }
    return true;
  }

  // Price refinement: before a refine at the new ε, look for prices under which the
  // current flow (no excesses left) is already ε-optimal; if found, the refine is skipped.
  // Such prices are p + d with d(w) <= d(v) + c_p(v,w) + ε on every residual arc: a
  // feasible potential for lengths c_p + ε, found by queue-based Bellman-Ford from a
  // virtual source (d = 0 everywhere). Arcs with c_p >= -ε start satisfied, so late
  // phases, where the flow is nearly optimal, converge in a few relaxations. The search
  // gives up after about m relaxations (the flow is then far from ε-optimal and a refine
  // is cheaper); nothing changes unless it succeeds.
  bool price_refine(std::int64_t eps);

  ResidualGraph& g_;
  CostScalingParams params_;
  SolverStats& stats_;
  std::int32_t n_;
  Status status_ = Status::kOptimal;
  std::string message_;

  std::vector<std::int64_t> price_;
  std::vector<std::int32_t> current_;
  std::vector<std::int32_t> queue_;
  std::vector<std::int32_t> path_;  // arcs of the partial augmenting path
  std::vector<std::int32_t> buckets_;
  std::vector<std::int32_t> bucket_next_;
  std::vector<std::int32_t> bucket_prev_;
  std::vector<std::int64_t> dist_;
  std::vector<std::uint8_t> state_;
  std::vector<std::uint8_t> open_bytes_;
  std::vector<std::uint8_t> rev_open_bytes_;  // rev_open_[e] == open_[rev_[e]], for updates
  std::int64_t relabels_since_update_ = 0;
  bool trace_ = false;  // params.progress: per-phase figures on stderr
  // The driver's phase state: no excess left (price refinement may skip a refine), a refine
  // ran this phase (its progress line), K, and the potentials the optimality test proved.
  bool balanced_ = false;
  bool refined_ = false;
  std::int64_t k_ = 1;
  std::vector<std::int64_t> exact_;
  std::chrono::steady_clock::time_point phase_start_;
  SolverStats phase_before_;

  const std::int32_t* first_ = nullptr;
  const std::int32_t* head_ = nullptr;
  const std::int32_t* rev_ = nullptr;
  std::int64_t* cost_ = nullptr;
  std::int64_t* rescap_ = nullptr;
  std::int64_t* excess_ = nullptr;
  std::int64_t* p_ = nullptr;
  std::uint8_t* open_ = nullptr;
  std::uint8_t* rev_open_ = nullptr;
};

bool CostScaling::price_refine(std::int64_t eps) {
  std::vector<std::int64_t>& d = dist_;
  std::fill(d.begin(), d.end(), 0);
  std::vector<std::int32_t>& queue = queue_;
  queue.clear();
  std::fill(state_.begin(), state_.end(), 0);  // 1 = queued
  for (std::int32_t v = 0; v < n_; ++v) {
    const std::int64_t pv = p_[v];
    for (std::int32_t e = first_[v]; e < first_[v + 1]; ++e) {
      if (open_[e] && cost_[e] + pv - p_[head_[e]] < -eps) {
        queue.push_back(v);
        state_[static_cast<std::size_t>(v)] = 1;
        break;
      }
    }
  }
  if (queue.empty()) return true;  // already ε-optimal with the current prices
  std::int64_t budget = static_cast<std::int64_t>(g_.m2);
  std::size_t qhead = 0;
  while (qhead < queue.size()) {
    const std::int32_t v = queue[qhead++];
    state_[static_cast<std::size_t>(v)] = 0;
    const std::int32_t end = first_[v + 1];
    budget -= end - first_[v];
    if (budget < 0) return false;
    const std::int64_t base = d[static_cast<std::size_t>(v)] + p_[v] + eps;
    for (std::int32_t e = first_[v]; e < end; ++e) {
      if (!open_[e]) continue;
      const std::int32_t w = head_[e];
      const std::int64_t nd = base + cost_[e] - p_[w];
      if (nd < d[static_cast<std::size_t>(w)]) {
        d[static_cast<std::size_t>(w)] = nd;
        if (!state_[static_cast<std::size_t>(w)]) {
          state_[static_cast<std::size_t>(w)] = 1;
          queue.push_back(w);
        }
      }
    }
    if (qhead > static_cast<std::size_t>(n_) && 2 * qhead > queue.size()) {
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(qhead));
      qhead = 0;
    }
  }
  for (std::int32_t v = 0; v < n_; ++v) {
    const std::int64_t np = p_[v] + d[static_cast<std::size_t>(v)];
    if (np < kPriceFloor) return false;  // leave it to the refine, which reports overflow
  }
  for (std::int32_t v = 0; v < n_; ++v) p_[v] += d[static_cast<std::size_t>(v)];
  return true;
}

}  // namespace

EngineOutcome solve_cost_scaling(ResidualGraph& g, const CostScalingParams& params,
                                      bool want_potentials, SolverStats& stats) {
  CostScaling solver(g, params, stats);
  return solver.run(want_potentials);
}

PotentialSearch search_exact_potentials(const ResidualGraph& g, std::int64_t cost_divisor,
                                        std::int64_t arc_budget, std::vector<std::int64_t>& potential) {
  // Shortest distances from a virtual source joined to every node (d = 0), over residual
  // arcs with reduced costs under `potential`; then potential += d makes every residual
  // reduced cost non-negative. The start is within one unit of exact, so few passes run.
  const std::int32_t n = g.n;
  std::vector<std::int64_t> d(static_cast<std::size_t>(n), 0);
  // Edges on the current shortest path to each node: n or more means a negative cycle.
  std::vector<std::int32_t> hops(static_cast<std::size_t>(n), 0);
  std::vector<char> queued(static_cast<std::size_t>(n), 1);
  std::deque<std::int32_t> queue;
  for (std::int32_t v = 0; v < n; ++v) queue.push_back(v);
  const std::int64_t* pot = potential.data();
  const std::int32_t* first = g.first.data();
  const std::int32_t* head = g.head.data();
  const std::int64_t* cost = g.cost.data();
  const std::int64_t* rescap = g.rescap.data();
  while (!queue.empty()) {
    const std::int32_t u = queue.front();
    queue.pop_front();
    queued[static_cast<std::size_t>(u)] = 0;
    if (arc_budget >= 0) {
      arc_budget -= first[u + 1] - first[u];
      if (arc_budget < 0) return PotentialSearch::kBudgetExhausted;
    }
    const std::int64_t base = d[static_cast<std::size_t>(u)] + pot[u];
    for (std::int32_t e = first[u]; e < first[u + 1]; ++e) {
      if (rescap[e] <= 0) continue;
      const std::int32_t w = head[e];
      const std::int64_t nd = base + cost[e] / cost_divisor - pot[w];
      if (nd < d[static_cast<std::size_t>(w)]) {
        d[static_cast<std::size_t>(w)] = nd;
        hops[static_cast<std::size_t>(w)] = hops[static_cast<std::size_t>(u)] + 1;
        if (hops[static_cast<std::size_t>(w)] >= n) return PotentialSearch::kNegativeCycle;
        if (!queued[static_cast<std::size_t>(w)]) {
          queued[static_cast<std::size_t>(w)] = 1;
          queue.push_back(w);
        }
      }
    }
  }
  for (std::int32_t v = 0; v < n; ++v) potential[static_cast<std::size_t>(v)] += d[static_cast<std::size_t>(v)];
  return PotentialSearch::kFound;
}

bool compute_exact_potentials(const ResidualGraph& g, std::vector<std::int64_t>& potential) {
  return search_exact_potentials(g, 1, -1, potential) == PotentialSearch::kFound;
}

}  // namespace sluice::detail
