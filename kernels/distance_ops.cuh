// Per-node steps of the GPU solver's label computations, written once for the kernels
// (cost_scaling_kernels.cuh) and the host executor that validates them
// (host_executor/gpu_algorithm_host.hpp). Plain C++ outside nvcc.
//
// Four jobs share one shape, a frontier-driven Bellman-Ford sweep with atomic minimums:
//   - distances to the nearest demand: the global price update of cost scaling (arc length
//     floor(c_p/ε) + 1, Goldberg 1997 §4) and the global relabel of the max-flow phase
//     (length 1). Labels start at 0 on nodes with negative excess and at `limit` elsewhere
//     and only fall; a node whose label fell this sweep is flagged for the next.
//   - tightening prices: the largest prices p' <= p under which the current flow is
//     slack-optimal, p'(w) <= p'(u) + cost(u,w) + slack on every residual arc. With slack = ε
//     it is price refinement (skip a refine whose flow is ε-optimal already); with slack 0 it
//     is the early optimality exit (costs are scaled by n + 1, so 0 on scaled costs is exact
//     optimality). It diverges when the lengths hold a negative cycle; the caller stops it
//     after a budget of sweeps and keeps the old prices.
//   - arc fixing (Goldberg & Tarjan 1990, §6): for an ε-optimal flow, an arc with
//     |c_p| > 2nε keeps its flow in later ε'-optimal flows while prices move within the
//     theorem's bounds; it is marked and every scan skips it. Global updates can move prices
//     further, so every refine ends by checking the fixed arcs (unfix_violated_step) and
//     refining again with the violated ones freed: the result never depends on the theorem.
//
// Concurrency: a sweep is one launch over the frontier. A step reads its own node's label
// once (the caller passes it in) and lowers neighbours' labels with an atomic minimum. A stale read only gives a
// weaker bound; the node whose label fell after it was read is flagged and sweeps again.
// So when a sweep lowers nothing, every arc satisfies its inequality: the result is the
// exact fixpoint in any interleaving, which is what the host executor checks.
// Complexity per step O(deg); sweeps: at most the number of arcs on the longest shortest
// path (hops), far fewer than n on scheduling networks.
#pragma once

#include <cstdint>

#include "cost_scaling_ops.cuh"

namespace sluice::detail {

// Residual arc a = (u -> w) of length 1: hop distances (max-flow heights).
struct HopLength {
  SLUICE_HD std::int64_t operator()(const DeviceGraphView&, std::int32_t, std::int32_t, std::int32_t) const { return 1; }
};

// Residual arc a = (u -> w) under ε-optimal prices: floor(c_p(a)/ε) + 1 >= 0. Prices do not
// change while the distances are computed.
struct ReducedCostLength {
  std::int64_t eps = 1;
  SLUICE_HD std::int64_t operator()(const DeviceGraphView& g, std::int32_t a, std::int32_t u, std::int32_t w) const {
    const std::int64_t rc = g.cost[a] + g.price[u] - g.price[w];
    if (rc < 0) return 0;  // -ε <= rc < 0 in an ε-optimal state
    return rc / eps + 1;
  }
};

// Labels into the nodes that reach w: for every residual arc u -> w (the reverse of one of
// w's arcs), dist(u) <- min(dist(u), dw + length), flagging u in `next` when it fell. `dw`
// is w's label as the thread read it (stale or fresh). Labels at or above `limit` are
// "unreached". Returns how many labels this step lowered.
template <class Atomics, class Length>
SLUICE_HD inline std::int32_t relax_into_step(const DeviceGraphView& g, std::int64_t dw, std::int64_t* dist,
                                              std::uint8_t* next, std::int32_t w, std::int64_t limit, Length length) {
  if (dw >= limit) return 0;
  std::int32_t lowered = 0;
  for (std::int32_t e = g.first[w]; e < g.first[w + 1]; ++e) {
    const std::int32_t a = g.rev[e];
    if (g.rescap[a] <= 0 || arc_fixed(g, a)) continue;
    const std::int32_t u = g.head[e];
    const std::int64_t len = length(g, a, u, w);
    if (len >= limit - dw) continue;
    const std::int64_t nd = dw + len;
    if (Atomics::min(&dist[u], nd) > nd) {
      next[u] = 1;
      ++lowered;
    }
  }
  return lowered;
}

// Global price update, last step: p(v) -= ε·dist(v), labels capped at `limit` (the
// unreached nodes all move by the cap, which keeps ε-optimality: no residual arc leads
// from an unreached node to a reached one). Own node only.
SLUICE_HD inline StepResult apply_distance_step(const DeviceGraphView& g, const std::int64_t* dist, std::int32_t v,
                                                std::int64_t eps, std::int64_t limit) {
  std::int64_t d = dist[v];
  if (d > limit) d = limit;
  if (d <= 0) return StepResult::kIdle;
  // p - d·ε >= floor  <=>  d <= (p - floor) / ε, without forming d·ε.
  if (d > (g.price[v] - kOpsPriceFloor) / eps) return StepResult::kPriceOverflow;
  g.price[v] -= d * eps;
  return StepResult::kRelabeled;
}

// Price tightening from u: for every residual arc u -> w, p(w) <- min(p(w), p(u) + cost +
// slack), flagging w when it fell; `pu` is u's price as the thread read it. kPriceOverflow
// when a candidate falls below the floor (a negative cycle under these lengths; the caller
// gives up and restores the prices).
template <class Atomics>
SLUICE_HD inline StepResult tighten_step(const DeviceGraphView& g, std::int64_t pu, std::uint8_t* next,
                                         std::int32_t u, std::int64_t slack, std::int32_t* lowered) {
  StepResult r = StepResult::kIdle;
  for (std::int32_t e = g.first[u]; e < g.first[u + 1]; ++e) {
    if (g.rescap[e] <= 0 || arc_fixed(g, e)) continue;
    const std::int32_t w = g.head[e];
    const std::int64_t cand = pu + g.cost[e] + slack;
    if (cand < kOpsPriceFloor) return StepResult::kPriceOverflow;
    if (Atomics::min(&g.price[w], cand) > cand) {
      next[w] = 1;
      ++*lowered;
      r = StepResult::kRelabeled;
    }
  }
  return r;
}

// Arc fixing on v's own arcs: mark every arc with |c_p| > threshold (2nε). The reverse arc
// has the opposite reduced cost, so its tail marks it in the same launch: no cross writes.
SLUICE_HD inline std::int32_t fix_arcs_step(const DeviceGraphView& g, std::uint8_t* fixed, std::int32_t v,
                                            std::int64_t threshold) {
  std::int32_t marked = 0;
  const std::int64_t pv = g.price[v];
  for (std::int32_t e = g.first[v]; e < g.first[v + 1]; ++e) {
    if (fixed[e] != 0) continue;
    const std::int64_t rc = g.cost[e] + pv - g.price[g.head[e]];
    if (rc > threshold || rc < -threshold) {
      fixed[e] = 1;
      ++marked;
    }
  }
  return marked;
}

// Verification of the fixed arcs after a refine at ε: a fixed residual arc of v with c_p < -ε
// breaks ε-optimality (prices drift further than the theorem's bound once global updates
// lower unreached nodes by the label cap). Such an arc and its reverse are freed, and the
// caller refines again at the same ε; freed arcs stay free for the phase, so this ends.
SLUICE_HD inline std::int32_t unfix_violated_step(const DeviceGraphView& g, std::uint8_t* fixed, std::int32_t v,
                                                  std::int64_t eps) {
  std::int32_t freed = 0;
  const std::int64_t pv = g.price[v];
  for (std::int32_t e = g.first[v]; e < g.first[v + 1]; ++e) {
    if (fixed[e] == 0 || g.rescap[e] <= 0) continue;
    if (g.cost[e] + pv - g.price[g.head[e]] >= -eps) continue;
    fixed[e] = 0;
    fixed[g.rev[e]] = 0;
    ++freed;
  }
  return freed;
}

// factor·n·ε (the theorem's factor is 2), factor in hundredths; saturates at the largest
// int64 when it is too large to matter.
SLUICE_HD inline std::int64_t fixing_threshold(std::int64_t n, std::int64_t eps, std::int64_t factor_percent = 200) {
  constexpr std::int64_t kMax = 0x7fffffffffffffffLL;
  if (n <= 0 || factor_percent <= 0) return 0;
  const __int128 t = static_cast<__int128>(n) * eps * factor_percent / 100;
  return t > kMax ? kMax : static_cast<std::int64_t>(t);
}

}  // namespace sluice::detail
