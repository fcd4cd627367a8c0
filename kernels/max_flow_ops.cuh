// Per-node steps of the GPU solver's first stage, feasibility by push-relabel maximum flow
// run directly on supplies, as src/cpu_fallback/feasibility.hpp does on the CPU: excess
// starts at the supply nodes, nodes with negative excess absorb it, and a node's height is
// a lower bound on its residual hop distance to the nearest node still short of flow.
// Written once for the kernels and the host executor. Plain C++ outside nvcc.
//
// Invariant (valid labelling): h(v) <= h(w) + 1 on every residual arc. A node with
// negative excess was never active, so its height is 0 (or its exact distance, 0, after a
// global relabel); hence h(v) >= n proves v cannot reach any demand, and since a feasible
// flow would give every active node such a path (decompose f* - f), the instance is
// infeasible: kCutOff.
//
// Concurrency: two barrier-separated launches per round, as in cost scaling. RELABEL:
// every active node without an admissible arc (h(v) = h(w) + 1) sets h(v) to the lowest
// neighbour height it read, plus one. Heights only rise, so a stale read is a lower bound
// and the new label stays valid; a relabel that reads too low leaves h(v) as it was (the
// next round reads again). PUSH: heights are fixed, so every read is current; v pushes
// along its admissible arcs until its excess is gone. An arc and its reverse are never
// both admissible, and only v lowers excess(v) and rescap of v's arcs.
// Complexity per step O(deg v); rounds O(n^2) in theory, a few times the longest
// supply-to-demand path with global relabels (distance_ops.cuh, HopLength).
// Follows: Goldberg & Tarjan 1988; Hong 2008 (lock-free push-relabel).
#pragma once

#include <cstdint>

#include "cost_scaling_ops.cuh"

namespace sluice::detail {

// Relabel phase: v active, no admissible arc in what it read -> h(v) = min h(w) + 1.
SLUICE_HD inline StepResult max_flow_relabel_step(const DeviceGraphView& g, const std::int64_t* read_height,
                                                  std::int64_t* height, std::int32_t v, std::int64_t n) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const std::int64_t hv = height[v];
  if (hv >= n) return StepResult::kCutOff;
  std::int64_t lowest = -1;
  for (std::int32_t e = g.first[v]; e < g.first[v + 1]; ++e) {
    if (g.rescap[e] <= 0) continue;
    const std::int64_t hw = read_height[g.head[e]];
    if (hw + 1 <= hv) return StepResult::kIdle;  // admissible (or read too low): push phase decides
    if (lowest < 0 || hw < lowest) lowest = hw;
  }
  if (lowest < 0) return StepResult::kNoResidualArc;
  const std::int64_t nh = lowest + 1 < n ? lowest + 1 : n;
  height[v] = nh;
  return nh >= n ? StepResult::kCutOff : StepResult::kRelabeled;
}

// Push phase: v pushes along every admissible arc, in arc order, until its excess is gone.
template <class Atomics>
SLUICE_HD inline StepResult max_flow_push_step(const DeviceGraphView& g, const std::int64_t* height, std::int32_t v) {
  if (g.excess[v] <= 0) return StepResult::kIdle;
  const std::int64_t hv = height[v];
  StepResult r = StepResult::kIdle;
  for (std::int32_t e = g.first[v]; e < g.first[v + 1] && g.excess[v] > 0; ++e) {
    if (g.rescap[e] <= 0 || height[g.head[e]] + 1 != hv) continue;
    push_along<Atomics>(g, v, e);
    r = StepResult::kPushed;
  }
  return r;
}

}  // namespace sluice::detail
