// The five cost models: what placing one task of a shape on a machine costs, what leaving
// it unscheduled costs, what stopping a running task costs. Formulas (all integers; one
// unit ≈ 0.1% of a machine's utilisation) are in docs/allocation.md; in short:
//   util(m, d)  = 1000 · mean over the machine's resources r of (cap_r − free_r + d_r) / cap_r
//   spread      = util(m, d), plus convex per-slot costs on machine → sink
//   pack        = 1000 − util(m, d)
//   quincy      = 1000 + util(m, d)/20;  unscheduled grows with the job's wait time
//   priority    = pack;  unscheduled = 10000 · (priority rank + 1), preemption = that + 5000
//   fgd         = ΔF(m, d) + pack/20, F = Σ_t w_t · GPU share unusable by workload type t
// Every model subtracts the task's preference weights for the machine and its rack.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster_state.hpp"
#include "sluice/allocate.hpp"

namespace sluice::detail {

// One workload type of the FGD fragmentation measure, with its popularity (weights sum
// to 1000).
struct WorkloadType {
  Demand demand;
  std::int64_t weight = 0;
};

class CostContext {
 public:
  CostContext(CostModel model, std::vector<std::int32_t> priorities, std::vector<WorkloadType> workload);

  [[nodiscard]] CostModel model() const { return model_; }

  // Cost of one more task with demand `d` on a machine with `capacity`, `free` now.
  [[nodiscard]] std::int64_t placement(const Demand& d, const Resources& capacity, const Resources& free,
                                       const std::vector<std::int32_t>& models) const;
  [[nodiscard]] std::int64_t unscheduled(std::int32_t priority, std::int64_t wait_s) const;
  // Cost of stopping a running task (only the priority model makes it ever pay).
  [[nodiscard]] std::int64_t preemption(std::int32_t priority, std::int64_t wait_s) const;
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

  // Σ_t w_t · (free GPU milli-shares that workload type t could not use), in milli-GPU ×
  // 1000 (weights sum to 1000).
  [[nodiscard]] std::int64_t fragmentation(const Resources& free, const std::vector<std::int32_t>& models) const;

 private:
  [[nodiscard]] std::int64_t priority_rank(std::int32_t priority) const;

  CostModel model_;
  std::vector<std::int32_t> priorities_;  // distinct, ascending
  std::vector<WorkloadType> workload_;
};

// The k most common task demands of the snapshot (pending and running), as FGD's target
// workload.
[[nodiscard]] std::vector<WorkloadType> workload_types(
    const std::vector<std::pair<const Demand*, std::int64_t>>& demands, std::size_t k);

}  // namespace sluice::detail
