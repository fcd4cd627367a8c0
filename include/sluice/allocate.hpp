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
#include <span>
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
  kAlloc,          // allocated GPU share first (a task is worth its GPUs), fragmentation growth next
};

std::string_view to_string(CostModel m);
// Parses "spread", "pack", "quincy", "priority", "fgd", "alloc" (and the long names
// "load-spreading", "packing").
std::optional<CostModel> parse_cost_model(std::string_view name);

// One task spec of a target workload (the `fgd` cost model's, and FGD's): what a task asks
// for, as in Task (`gpus` whole devices, or a `gpu_milli` share of one device when gpus is
// 0), and how popular it is (weights are normalised to sum to 1).
struct WorkloadSpec {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;  // 0: memory is not considered (FGD's own model ignores it)
  std::int32_t gpus = 0;
  std::int32_t gpu_milli = 0;
  std::vector<std::string> gpu_models;  // allowed models; empty = any
  double weight = 0;

  [[nodiscard]] bool wants_gpu() const { return gpus > 0 || gpu_milli > 0; }
};

// Up to this many pending tasks, new_tasks_per_machine's auto rule solves with one new task
// per machine (measured: at 1M tasks that took 32 rounds and 2× the time, docs/allocation.md).
inline constexpr std::int64_t kExactRoundsTasks = 100'000;

struct AllocateOptions {
  CostModel cost_model = CostModel::kLoadSpreading;
  SolveOptions solve;                     // backend, verify, heuristics
  bool aggregate = true;                  // one flow node per group of identical tasks; false: per task
  bool allow_migration = true;            // running tasks may move when that is cheaper
  bool allow_preemption = true;           // running tasks may be stopped (priority model only pays)
  std::int64_t migration_cost = 300;      // added to the cost of moving a running task
  std::int32_t migration_candidates = 2;  // cheapest other machines a running group may move to
  bool validate = true;                   // false only when the caller has validated (decode_snapshot does)
  // Each step's time, each re-solve's tally and who decided on stderr, and each solve's
  // phases (solve.progress); the sluice tool sets it when SLUICE_TRACE is in its environment.
  bool trace = false;
  SnapshotLimits limits;                  // what validate() enforces
  // Candidate machines per task shape: enough to hold `candidate_slack` × the shape's
  // tasks, at least `min_candidates`; 0 for `candidate_slack` = every fitting machine.
  double candidate_slack = 2.0;
  std::int32_t min_candidates = 8;
  // Cost evaluations (shape × machine class) before candidate search samples a window of
  // machine classes per shape instead of all of them; 0 = 16 per machine and task of the
  // snapshot, at most 8 million (measured: beyond that, build time outgrows solve time).
  std::int64_t max_evaluations = 0;
  // Re-solves after the first solve, for the pending tasks still without a machine, on the
  // cluster as packing left it; each round stops the loop when it places nothing. 0: the
  // first solve only (then candidates and first fit place the rest).
  std::int32_t max_resolves = 32;
  // New tasks a machine may take in one solve. Costs are those of a machine's next task, so
  // they are exact for the first; where a model's cost per task wanders as a machine fills
  // (fgd, alloc), one per solve keeps every decision exact and the re-solves stack more.
  // 0 = auto: 1 for those models when the snapshot has at most kExactRoundsTasks pending
  // tasks (rounds are cheap there), else no limit; -1 = no limit.
  std::int32_t new_tasks_per_machine = 0;
  // fgd and alloc: seeds the fixed pseudo-random machine order that decides between machines
  // of equal score (machine_tie_key, fragmentation.hpp).
  std::uint64_t tie_seed = 0;
  // The target workload of the `fgd` and `alloc` cost models. Empty: the snapshot's own
  // tasks (pending and running), FGD's way: specs by CPU, GPUs and allowed models, most
  // frequent first, covering 95% of the tasks, at most 64 (docs/allocation.md).
  std::vector<WorkloadSpec> workload;
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
  std::int64_t resolves = 0;  // solves after the first
  // Who chose the machine of each newly placed pending task: the first solve (the task
  // ended where it put it), a re-solve, or the fallback (the shape's candidates, first fit).
  std::int64_t placed_by_flow = 0;
  std::int64_t placed_by_resolve = 0;
  std::int64_t placed_by_fallback = 0;
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

// The same result with tasks and machines as positions in the snapshot instead of ids: a
// task is its index in snapshot order (the tasks of jobs[0], then those of jobs[1], ...), a
// machine its index in snapshot.machines. What a master that keeps its snapshot wants over
// the wire (docs/protocol.md, "Indexed replies"): 9 bytes or so a task instead of its three
// ids, and nothing to look up on either side. Lists are columns, in the order allocate()
// lists them.
struct IndexedPlacements {
  std::vector<std::uint32_t> task;
  std::vector<std::uint32_t> machine;
  std::vector<std::uint32_t> gpu_begin{0};  // entry i's GPU indexes: gpu_indexes[gpu_begin[i], gpu_begin[i + 1])
  std::vector<std::int32_t> gpu_indexes;

  [[nodiscard]] std::size_t size() const { return task.size(); }
  void add(std::uint32_t t, std::uint32_t m, std::span<const std::int32_t> gpus) {
    task.push_back(t);
    machine.push_back(m);
    gpu_indexes.insert(gpu_indexes.end(), gpus.begin(), gpus.end());
    gpu_begin.push_back(static_cast<std::uint32_t>(gpu_indexes.size()));
  }
};

struct IndexedAllocation {
  Allocation summary;             // everything but the five lists, which stay empty
  IndexedPlacements placements;   // pending tasks newly placed
  IndexedPlacements kept;         // running tasks that stay
  IndexedPlacements migrations;   // running tasks moved: machine is the new one
  std::vector<std::uint32_t> migrated_from;
  std::vector<std::uint32_t> preempted_task;
  std::vector<std::uint32_t> preempted_machine;  // where it was running
  std::vector<std::uint32_t> preempted_reason;   // into messages
  std::vector<std::uint32_t> unscheduled_task;
  std::vector<UnscheduledReason> unscheduled_reason;
  std::vector<std::uint32_t> unscheduled_message;  // into messages
  std::vector<std::string> messages;               // each distinct text once
};

[[nodiscard]] IndexedAllocation allocate_indexed(const Snapshot& snapshot, const AllocateOptions& options = {});

// The Allocation an indexed one stands for, with ids from the snapshot it was computed
// for. Positions out of range give kInvalidInput with a message (a reply for another
// snapshot), never a crash.
[[nodiscard]] Allocation expand(const IndexedAllocation& indexed, const Snapshot& snapshot);

// The min-cost-flow network allocate() would solve for this snapshot (for benchmarks and
// for inspecting a model); nullopt when the snapshot is invalid (validate() says why).
[[nodiscard]] std::optional<Network> allocation_network(const Snapshot& snapshot, const AllocateOptions& options = {});


}  // namespace sluice
