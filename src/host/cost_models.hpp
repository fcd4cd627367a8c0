// The five cost models: what placing one task of a shape on a machine costs, what leaving
// it unscheduled costs, what stopping a running task costs. Formulas (all integers; one
// unit ≈ 0.1% of a machine's utilisation) are in docs/allocation.md; in short:
//   util(m, d)  = 1000 · mean over the machine's resources r of (cap_r − free_r + d_r) / cap_r
//   spread      = util(m, d), plus convex per-slot costs on machine → sink
//   pack        = 1000 − util(m, d)
//   quincy      = 1000 + util(m, d)/20;  unscheduled grows with the job's wait time
//   priority    = pack;  unscheduled = 10000 · (priority rank + 1), preemption = that + 5000
//   (each of those four + 1000, the GPU reserve, when the task needs no GPU and the machine
//   has a free one)
//   fgd         = FGD's score of the placement: 100 − ⌊100·σ(−ΔF/1000)⌋, F its fragmentation for the
//                 target workload (fragmentation.hpp); ties to a fixed pseudo-random machine order
//   alloc       = fgd's placement cost; a task left out costs its GPU share (the allocated share first)
// Every model subtracts the task's preference weights for the machine and its rack.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster_state.hpp"
#include "sluice/allocate.hpp"
#include "sluice/fragmentation.hpp"

namespace sluice::detail {

class CostContext {
 public:
  // `tie`: per machine, the tie-break added to its placement costs (empty: none).
  CostContext(CostModel model, std::vector<std::int32_t> priorities, FragmentationMeasure fragmentation,
              std::vector<std::int64_t> tie = {});

  [[nodiscard]] CostModel model() const { return model_; }

  // Cost of one more task with demand `d` on a machine with `capacity`, `free` now.
  [[nodiscard]] std::int64_t placement(const Demand& d, const Resources& capacity, const Resources& free,
                                       const std::vector<std::int32_t>& models) const;
  // Cost of a running task staying where it is (`free` counts its own demand as free): the
  // placement cost without the GPU reserve, which steers new tasks and does not evict
  // running ones (moving them would pay the migration cost for no GPU task's benefit yet).
  [[nodiscard]] std::int64_t staying(const Demand& d, const Resources& capacity, const Resources& free,
                                     const std::vector<std::int32_t>& models) const;
  [[nodiscard]] std::int64_t unscheduled(const Demand& d, std::int32_t priority, std::int64_t wait_s) const;
  // Cost of stopping a running task (only the priority model makes it ever pay).
  [[nodiscard]] std::int64_t preemption(const Demand& d, std::int32_t priority, std::int64_t wait_s) const;
  // Added to every placement cost on machine m: among machines of equal score, a fixed
  // pseudo-random machine order decides (FGD's models; 0 for the others).
  [[nodiscard]] std::int64_t tie(std::int32_t m) const {
    return tie_.empty() ? 0 : tie_[static_cast<std::size_t>(m)];
  }
  [[nodiscard]] bool has_tie() const { return !tie_.empty(); }
  // Whether the cost of a machine's next task wanders as the machine fills (FGD's score: a
  // share can make the next placement much better or much worse), so that only its first new
  // task in a solve is priced right. Where it rises (spread, quincy) the convex machine →
  // sink slices price the later tasks; where it falls (pack, priority) pricing them all at
  // the first's cost is the closest convex approximation and still fills the best machine
  // first.
  [[nodiscard]] bool cost_wanders() const { return model_ == CostModel::kFgd || model_ == CostModel::kAlloc; }
  // Whether this model lets higher priority displace running tasks.
  [[nodiscard]] bool preempts() const { return model_ == CostModel::kPriority; }
  // Machine → sink: the cost per task of the k-th of `segments` equal slices of the
  // machine's new capacity (convex for spreading, 0 otherwise).
  [[nodiscard]] std::int64_t slot_segment_cost(int k) const;
  [[nodiscard]] int slot_segments() const { return model_ == CostModel::kLoadSpreading ? 4 : 1; }
  // Relative price of one cost evaluation (FGD simulates placements).
  [[nodiscard]] std::int64_t evaluation_weight() const;

  // The device for a GPU share: the one that grows fragmentation least (FGD), else best fit.
  [[nodiscard]] std::int32_t pick_share(const Demand& d, const Resources& free,
                                        const std::vector<std::int32_t>& models) const;

  // FGD's fragmentation of a machine state, in milli-GPUs.
  [[nodiscard]] double fragmentation(const Resources& free, const std::vector<std::int32_t>& models) const;

 private:
  [[nodiscard]] std::int64_t priority_rank(std::int32_t priority) const;
  // `step` × the rank of `priority` among the snapshot's distinct priorities (0 for the
  // lowest), at most kPriorityStepsMax steps.
  [[nodiscard]] std::int64_t priority_step(std::int32_t priority, std::int64_t step) const;
  // kGpuReserveCost where the model has the reserve and it applies to `d` on `free`, else 0.
  [[nodiscard]] std::int64_t gpu_reserve(const Demand& d, const Resources& free) const;

  CostModel model_;
  std::vector<std::int32_t> priorities_;  // distinct, ascending
  FragmentationMeasure fragmentation_;
  std::vector<std::int64_t> tie_;
};

// Units of FGD's score in the fgd and alloc costs: a machine's tie-break (below one unit)
// never outweighs a point of score.
inline constexpr std::int64_t kTieUnits = kTieKeyUnits;
// Above every fgd and alloc placement cost: (100 − score) · kTieUnits + tie-break.
inline constexpr std::int64_t kFgdScoreRange = 101 * kTieUnits;
// FGD's workload taken from a snapshot keeps at most this many specs (the FGD paper's traces
// need 35 to 74: give those as AllocateOptions::workload).
inline constexpr std::size_t kMaxSnapshotWorkloadSpecs = 64;
// What a task that needs no GPU pays on a machine with a free GPU under the load models
// (spread, pack, quincy, priority): more than their whole range of placement costs, less
// than leaving the task out.
inline constexpr std::int64_t kGpuReserveCost = 1000;
// What one priority class up adds to U: a tenth of the load models' placement range (1000)
// in spread and pack, a tenth of FGD's score range (10 of 100 points) in fgd and alloc.
// Priority then decides who gets the room when it is short, unless another task's placement
// is cheaper by more; U still exceeds every placement cost, so every task that fits is placed.
inline constexpr std::int64_t kPriorityStepLoad = 100;
inline constexpr std::int64_t kPriorityStepScore = 10;
// The most steps the top priority gets (more distinct priorities share them evenly).
inline constexpr std::int64_t kPriorityStepsMax = 10;
// The steps of the priority of rank `rank` among `distinct` ones under spread, pack, fgd and
// alloc: its rank, or with more than kPriorityStepsMax + 1 priorities its share of
// kPriorityStepsMax. Tasks of one class cost the same to leave out, so they may share a shape.
inline std::int64_t priority_class(std::int64_t rank, std::int64_t distinct) {
  return distinct - 1 <= kPriorityStepsMax ? rank : kPriorityStepsMax * rank / (distinct - 1);
}
// Whether the model's U depends on priority classes (priority_class); the priority model's
// depends on the priority itself, quincy's on none.
inline bool priority_classes_in_unscheduled(CostModel m) {
  return m == CostModel::kLoadSpreading || m == CostModel::kPacking || m == CostModel::kFgd || m == CostModel::kAlloc;
}
// alloc values a task's GPU share up to this much (32 GPUs).
inline constexpr std::int64_t kAllocMaxValuedMilli = 32'000;


struct Cluster;

// The cost context of an allocation: the model, the snapshot's priorities and, for fgd and
// alloc, FGD's target workload (the options', or the snapshot's own tasks: typical_workload)
// and the machines' tie-break (machine_tie_ranks with options.tie_seed).
[[nodiscard]] CostContext make_cost_context(const Cluster& cluster, const Snapshot& snapshot,
                                            const AllocateOptions& options);

// The options with their auto rules decided for this allocation (every round uses the
// same): new_tasks_per_machine 0 becomes 1 or -1 (allocate.hpp).
[[nodiscard]] AllocateOptions resolve_auto_options(const AllocateOptions& options, const CostContext& costs,
                                                   std::int64_t pending_tasks);

}  // namespace sluice::detail
