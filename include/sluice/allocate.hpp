// The allocation engine's entry point: a cluster snapshot in, placements out.
//   allocate(snapshot, options) -> Allocation
// Steps: validate → build a min-cost-flow network (Quincy/Firmament formulation, identical
// tasks aggregated) under the chosen cost model → solve (any Backend) → fit-and-repair
// (per-machine packing with GPU device indexes, so nothing ever exceeds a machine's free
// resources) → extract per-task results. docs/allocation.md gives every cost formula.
// Nothing here throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/snapshot.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice {

enum class CostModel {
  kLoadSpreading,  // least allocated: prefer emptier machines, convex in load
  kPacking,        // best fit: prefer fuller machines (consolidation)
  kQuincy,         // locality preferences, unscheduled cost growing with wait time
  kPriority,       // priority classes; higher priority preempts lower
  kFgd,            // GPU-fragmentation aware (FGD, ATC'23): cost = fragmentation growth
};

std::string_view to_string(CostModel m);
// Parses "spread", "pack", "quincy", "priority", "fgd" (and the long names
// "load-spreading", "packing").
std::optional<CostModel> parse_cost_model(std::string_view name);

struct AllocateOptions {
  CostModel cost_model = CostModel::kLoadSpreading;
  SolveOptions solve;                     // backend, verify, heuristics
  bool aggregate = true;                  // one flow node per group of identical tasks; false: per task
  bool allow_migration = true;            // running tasks may move when that is cheaper
  bool allow_preemption = true;           // running tasks may be stopped (priority model only pays)
  std::int64_t migration_cost = 300;      // added to the cost of moving a running task
  std::int32_t migration_candidates = 2;  // cheapest other machines a running group may move to
  bool validate = true;                   // false only when the caller has validated (decode_snapshot does)
  SnapshotLimits limits;                  // what validate() enforces
  // Candidate machines per task shape: enough to hold `candidate_slack` × the shape's
  // tasks, at least `min_candidates`; 0 for `candidate_slack` = every fitting machine.
  double candidate_slack = 2.0;
  std::int32_t min_candidates = 8;
  // Cost evaluations (shape × machine class) before candidate search samples a window of
  // machine classes per shape instead of all of them; 0 = 16 per machine and task of the
  // snapshot, at most 8 million (measured: beyond that, build time outgrows solve time).
  std::int64_t max_evaluations = 0;
};

enum class UnscheduledReason {
  kNoMachineWithResource,    // no machine in the cluster has enough of some resource at all
  kConstraintUnsatisfiable,  // no machine matches the selector / GPU models
  kNoFreeCapacity,           // machines could hold it, but none has it free now
  kOutbidByPriority,         // the room it needed went to higher-priority tasks
};
std::string_view to_string(UnscheduledReason r);
std::optional<UnscheduledReason> parse_unscheduled_reason(std::string_view name);

struct Placement {
  std::string job;
  std::string task;
  std::string machine;
  std::vector<std::int32_t> gpu_indexes;  // devices it gets (whole GPUs or the one share)
};

struct Migration {
  std::string job;
  std::string task;
  std::string from_machine;
  std::string machine;
  std::vector<std::int32_t> gpu_indexes;
};

struct Preemption {
  std::string job;
  std::string task;
  std::string machine;  // where it was running
  std::string reason;
};

struct Unscheduled {
  std::string job;
  std::string task;
  UnscheduledReason reason = UnscheduledReason::kNoFreeCapacity;
  std::string message;  // names the resource or constraint
};

struct AllocationTimings {
  double decode_s = 0;  // filled by callers that decode (CLI, service)
  double validate_s = 0;
  double build_s = 0;  // shapes, candidate search, costs, network
  double solve_s = 0;
  double repair_s = 0;   // per-machine packing and GPU indexes
  double extract_s = 0;  // per-task results
  double total_s = 0;
};

struct AllocationStats {
  std::int64_t pending_tasks = 0;
  std::int64_t running_tasks = 0;
  std::int64_t shapes = 0;           // aggregated pending task groups
  std::int64_t running_groups = 0;   // aggregated running task groups (shape, machine)
  std::int64_t machine_classes = 0;  // machines with identical free state and labels
  std::int64_t nodes = 0;
  std::int64_t arcs = 0;
  std::int64_t cost_evaluations = 0;
  std::int64_t repaired = 0;  // tasks the flow placed that packing moved or dropped
};

struct Allocation {
  Status status = Status::kInvalidInput;  // optimal when the placement is complete
  std::string message;
  std::int64_t snapshot_version = 0;
  CostModel cost_model = CostModel::kLoadSpreading;
  std::string backend;  // the solver backend that ran
  std::string algorithm;
  bool fell_back = false;
  std::string fallback_reason;
  std::int64_t objective = 0;           // the min-cost-flow optimum of the built network
  std::vector<Placement> placements;    // pending tasks newly placed
  std::vector<Placement> kept;          // running tasks that stay where they are
  std::vector<Migration> migrations;    // running tasks moved
  std::vector<Preemption> preemptions;  // running tasks stopped
  std::vector<Unscheduled> unscheduled;
  AllocationTimings timings;
  AllocationStats stats;
  std::optional<Certificate> certificate;  // when options.solve.verify
};

[[nodiscard]] Allocation allocate(const Snapshot& snapshot, const AllocateOptions& options = {});

// The min-cost-flow network allocate() would solve for this snapshot (for benchmarks and
// for inspecting a model); nullopt when the snapshot is invalid (validate() says why).
[[nodiscard]] std::optional<Network> allocation_network(const Snapshot& snapshot, const AllocateOptions& options = {});

// Writes an allocation as JSON (the `sluice allocate` output and the service reply body).
[[nodiscard]] std::string allocation_to_json(const Allocation& allocation);

}  // namespace sluice
