// Per-node steps of lock-free cost-scaling push-relabel, written once for the GPU kernels
// (cost_scaling_kernels.cuh) and the host executor that tests them
// (host_executor/gpu_algorithm_host.hpp). Plain C++ outside nvcc: no CUDA types.
//
// Problem: min-cost flow on the CSR residual graph of residual_graph.hpp (paired reverse
// arcs, costs already multiplied by n + 1), one refine of ε-scaling at a time.
//
// Invariant: ε-optimality, c_p(v,w) = cost(v,w) + p(v) - p(w) >= -ε on every residual
// arc. Prices only decrease. Each step touches only its own node's price and outgoing
// capacities; neighbours' excesses and reverse capacities change through `Atomics::add`.
//
// Concurrency model the kernels must follow (validated by the host executor, see
// gpu_algorithm_host.hpp): a round is a RELABEL phase (relabel_step on every active node;
// neighbours' prices may be read stale or fresh, each read atomic) followed, after a grid
// barrier, by a PUSH phase (push_step; prices do not change in it). Concurrent relabels
// are safe because each relabel only needs lower bounds on its neighbours' prices and
// prices only fall; concurrent pushes are safe because prices are fixed, an arc and its
// reverse are never both admissible, and only v lowers excess(v). The combined
// push-or-relabel step (discharge_step, Hong's single-kernel form) is correct only when
// each step sees the current state: a push decided on a stale p(w) while w relabels can
// leave the reverse arc with c_p < -ε. It is kept for the sequential host model only.
//
// Complexity per step: O(deg v). Rounds per refine: O(n^2) relabels in the worst case
// (Goldberg & Tarjan), far fewer on scheduling networks.
//
// Follows: B. Hong, "A lock-free multi-threaded algorithm for the maximum flow problem"
// (MTAAP 2008) and Z. He & B. Hong, "Dynamically tuned push-relabel algorithm for the
// maximum flow problem on CPU-GPU-hybrid platforms" (IPDPS 2010), adapted to cost scaling
// (Goldberg & Tarjan 1990; Goldberg 1997), with pushes and relabels in separate
// barrier-delimited phases as GPU cost-scaling implementations commonly do.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define SLUICE_HD __host__ __device__
#else
#define SLUICE_HD
#endif

namespace sluice::detail {

// A CSR residual graph held as raw pointers (host vectors or device buffers).
struct DeviceGraphView {
  std::int32_t n = 0;
  std::int32_t m2 = 0;
  const std::int32_t* first = nullptr;  // n + 1
  const std::int32_t* head = nullptr;   // m2
  const std::int32_t* rev = nullptr;    // m2
  const std::int64_t* cost = nullptr;   // m2, scaled by n + 1
  std::int64_t* rescap = nullptr;       // m2
  std::int64_t* excess = nullptr;       // n
  std::int64_t* price = nullptr;        // n
  // Arc fixing (distance_ops.cuh): arcs whose flow can no longer change, skipped by every
  // scan. Null: none fixed.
  const std::uint8_t* fixed = nullptr;  // m2
};

// True when arc e is fixed (its flow is final) and no step may use it.
SLUICE_HD inline bool arc_fixed(const DeviceGraphView& g, std::int32_t e) { return g.fixed != nullptr && g.fixed[e] != 0; }

enum class StepResult : std::int32_t {
  kIdle = 0,  // nothing to do in this phase (not active, or the other phase's work)
  kPushed = 1,
  kRelabeled = 2,
  kNoResidualArc = 3,  // active node without any residual arc: infeasible or corrupted state
  kPriceOverflow = 4,  // the new price would fall below -2^62
  kCutOff = 5,         // max flow: an active node's height reached n (no path to any demand)
};

constexpr std::int64_t kOpsPriceFloor = -(std::int64_t{1} << 62);

// What one scan of v's residual arcs found, from one read of each neighbour's price.
struct ArcScan {
  std::int32_t best_admissible = -1;  // admissible arc with the lowest reduced cost
  std::int64_t best_reduced_cost = 0;
  std::int32_t argmax = -1;  // residual arc maximising p(w) - cost(v,w)
  std::int64_t max_value = 0;
};

// `read_price` gives neighbours' prices (on the host it may be a stale view; on the device
// it is the live array). v's own price is always read from g.price: only v writes it.
SLUICE_HD inline ArcScan scan_arcs(const DeviceGraphView& g, const std::int64_t* read_price, std::int32_t v) {
  ArcScan s;
  const std::int64_t pv = g.price[v];
  for (std::int32_t e = g.first[v]; e < g.first[v + 1]; ++e) {
    if (g.rescap[e] <= 0 || arc_fixed(g, e)) continue;
    const std::int64_t pw = read_price[g.head[e]];
    const std::int64_t val = pw - g.cost[e];
    const std::int64_t rc = pv - val;  // cost + p(v) - p(w)
    if (rc < 0 && (s.best_admissible < 0 || rc < s.best_reduced_cost)) {
      s.best_admissible = e;
      s.best_reduced_cost = rc;
    }
    if (s.argmax < 0 || val > s.max_value) {
      s.argmax = e;
      s.max_value = val;
    }
  }
  return s;
}

// Push min(excess(v), rescap(e)) along e. Only v lowers excess(v) and rescap(e), so the
// amount read is never more than what is there; others only add to them.
template <class Atomics>
SLUICE_HD inline void push_along(const DeviceGraphView& g, std::int32_t v, std::int32_t e) {
  const std::int64_t ex = g.excess[v];
  const std::int64_t cap = g.rescap[e];
  const std::int64_t delta = ex < cap ? ex : cap;
  if (delta <= 0) return;
  Atomics::add(&g.rescap[e], -delta);
  Atomics::add(&g.rescap[g.rev[e]], delta);
  Atomics::add(&g.excess[v], -delta);
  Atomics::add(&g.excess[g.head[e]], delta);
}

// p(v) := max over residual arcs (p(w) - cost(v,w)) - ε, from the scan's reads.
SLUICE_HD inline StepResult apply_relabel(const DeviceGraphView& g, const ArcScan& s, std::int32_t v,
                                          std::int64_t eps) {
  if (s.argmax < 0) return StepResult::kNoResidualArc;
  if (s.max_value < kOpsPriceFloor + eps) return StepResult::kPriceOverflow;
  g.price[v] = s.max_value - eps;
  return StepResult::kRelabeled;
}

// Relabel phase: relabel v if it is active and has no admissible arc.
SLUICE_HD inline StepResult relabel_step(const DeviceGraphView& g, const std::int64_t* read_price, std::int32_t v,
                                         std::int64_t eps) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const ArcScan s = scan_arcs(g, read_price, v);
  if (s.best_admissible >= 0) return StepResult::kIdle;
  return apply_relabel(g, s, v, eps);
}

// Push phase: push along v's admissible arc of lowest reduced cost, if any.
template <class Atomics>
SLUICE_HD inline StepResult push_step(const DeviceGraphView& g, const std::int64_t* read_price, std::int32_t v) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const ArcScan s = scan_arcs(g, read_price, v);
  if (s.best_admissible < 0) return StepResult::kIdle;
  push_along<Atomics>(g, v, s.best_admissible);
  return StepResult::kPushed;
}

// Push phase, all arcs: push along every admissible arc of v, in arc order, until its
// excess is gone. As safe as push_step (prices are fixed in the phase); it moves more flow
// per round, which is what a round-bound device needs (bench/results/gpu_projection/).
template <class Atomics>
SLUICE_HD inline StepResult push_all_step(const DeviceGraphView& g, const std::int64_t* read_price, std::int32_t v) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const std::int64_t pv = g.price[v];
  StepResult r = StepResult::kIdle;
  for (std::int32_t e = g.first[v]; e < g.first[v + 1] && g.excess[v] > 0; ++e) {
    if (g.rescap[e] <= 0 || arc_fixed(g, e)) continue;
    if (g.cost[e] + pv - read_price[g.head[e]] >= 0) continue;
    push_along<Atomics>(g, v, e);
    r = StepResult::kPushed;
  }
  return r;
}

// Combined step (Hong's form): push if an admissible arc exists, else relabel. Correct
// only when the step sees the current state (see the header comment).
template <class Atomics>
SLUICE_HD inline StepResult discharge_step(const DeviceGraphView& g, const std::int64_t* read_price, std::int32_t v,
                                           std::int64_t eps) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const ArcScan s = scan_arcs(g, read_price, v);
  if (s.best_admissible >= 0) {
    push_along<Atomics>(g, v, s.best_admissible);
    return StepResult::kPushed;
  }
  return apply_relabel(g, s, v, eps);
}

// Start of a refine: saturate every residual arc of v with negative reduced cost, so the
// pseudoflow becomes 0-optimal. Prices do not change in this phase, and an arc and its
// reverse cannot both have negative reduced cost, so nodes may run it concurrently.
template <class Atomics>
SLUICE_HD inline void saturate_step(const DeviceGraphView& g, std::int32_t v) {
  const std::int64_t pv = g.price[v];
  for (std::int32_t e = g.first[v]; e < g.first[v + 1]; ++e) {
    const std::int64_t r = g.rescap[e];
    if (r <= 0 || arc_fixed(g, e)) continue;
    const std::int32_t w = g.head[e];
    if (g.cost[e] + pv - g.price[w] >= 0) continue;
    Atomics::add(&g.rescap[e], -r);
    Atomics::add(&g.rescap[g.rev[e]], r);
    Atomics::add(&g.excess[v], -r);
    Atomics::add(&g.excess[w], r);
  }
}

}  // namespace sluice::detail
