// Building the allocation network from a snapshot (Quincy/Firmament formulation with
// identical tasks aggregated), and reading its flow back as per-task decisions.
//
//   pending shape s (supply k) ──cost c(s,m), cap fit(s,m)──▶ machine m ──▶ sink
//        │                                                     ▲
//        └──U(job), cap = the job's tasks in s──▶ unscheduled aggregator of the job ──▶ sink
//   running group (shape, m) ──stay──▶ m;  ──migrate (+migration cost)──▶ m';  ──preempt──▶ U
//
// Tasks are grouped into shapes (same demand, constraints, preferences and cost class);
// machines into classes (same capacity, free resources, devices and labels). For each
// shape the builder evaluates fit and cost per machine class (or a window of classes when
// shapes × classes is too large), and connects the shape to machines of the cheapest
// classes until their fit capacity covers the shape with slack, plus every preferred
// machine and rack member that fits. Quincy's cluster and rack aggregators are replaced by
// these per-shape arcs: an aggregator that is not shape-aware would send a task to a
// machine it does not fit on, and one per shape is the same number of arcs.
//
// Capacities count tasks, not resource vectors, so the flow is a relaxation: the repair
// pass (repair.cpp) packs each machine for real and moves what does not fit.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster_index.hpp"
#include "cost_models.hpp"
#include "sluice/allocate.hpp"
#include "sluice/network.hpp"

namespace sluice::detail {

// Per-task outcome of the flow.
struct FlowDecision {
  std::vector<std::vector<std::int32_t>> pending_machine;  // [shape][i]: machine or -1
  std::vector<std::int32_t> running_machine;               // [running]: machine or -1 (preempt)
};

struct BuiltNetwork {
  Network network;
  // Arc bookkeeping for reading the flow back.
  struct NodeArcs {
    std::int32_t first = 0;             // first arc id
    std::int32_t count = 0;             // arcs to machines; the unscheduled / preemption arcs follow
    std::vector<std::int32_t> targets;  // machine per arc (machine arcs only)
    bool fixed = false;                 // a running group with no choice: not in the network, stays
  };
  std::vector<NodeArcs> shape_arcs;                       // per shape
  std::vector<NodeArcs> group_arcs;                       // per running group (stay is first)
  std::int64_t cost_evaluations = 0;
};

// Candidate search and network construction.
// `hints`, per shape: machines to connect besides those the candidate search picks (a
// re-solve passes machines first fit knows the shape fits on).
[[nodiscard]] BuiltNetwork build_network(Cluster& cluster, const CostContext& costs, const AllocateOptions& options,
                                         const std::vector<std::vector<std::int32_t>>* hints = nullptr);

// Reads the flow back into per-task decisions (deterministic: snapshot order).
[[nodiscard]] FlowDecision read_flow(const Cluster& cluster, const BuiltNetwork& built,
                                     const std::vector<std::int64_t>& flow, const AllocateOptions& options);

}  // namespace sluice::detail
