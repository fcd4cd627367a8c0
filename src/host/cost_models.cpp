// The five cost models (formulas in cost_models.hpp and docs/allocation.md).
// FGD follows Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
// Fragmentation Gradient Descent" (USENIX ATC'23): a machine's fragmentation for a workload
// type is the free GPU share that type cannot use there (all of it when the type's CPU or
// memory does not fit, or when it needs no GPU); the expected fragmentation weighs types by
// popularity; a placement costs the growth it causes.
#include "cost_models.hpp"

#include "cluster_index.hpp"

#include <algorithm>
#include <map>
#include <cmath>

namespace sluice::detail {
namespace {

constexpr std::int64_t kUnit = 1000;

// FGD's score of a placement that takes a machine's fragmentation from `before` to `after`:
// 100·σ((before − after)/1000), truncated to an integer (0..100, 50 = no change).
std::int64_t fgd_score(double before, double after) {
  return static_cast<std::int64_t>(100.0 / (1.0 + std::exp(-(before - after) / 1000.0)));
}

// 1000 × mean utilisation over CPU, memory and (if any) GPUs after adding `d`.
std::int64_t utilisation_after(const Demand& d, const Resources& capacity, const Resources& free) {
  std::int64_t sum = 0;
  std::int64_t parts = 0;
  if (capacity.cpu > 0) {
    sum += kUnit * (capacity.cpu - free.cpu + d.cpu) / capacity.cpu;
    ++parts;
  }
  if (capacity.memory > 0) {
    sum += kUnit * (capacity.memory - free.memory + d.memory) / capacity.memory;
    ++parts;
  }
  if (!capacity.gpu_free.empty()) {
    const auto cap = static_cast<std::int64_t>(capacity.gpu_free.size()) * kGpuMilliWhole;
    std::int64_t used = cap;
    for (const std::int32_t f : free.gpu_free) used -= f;
    used += d.gpu_milli_total();
    sum += kUnit * used / cap;
    ++parts;
  }
  return parts == 0 ? 0 : std::clamp<std::int64_t>(sum / parts, 0, kUnit);
}

bool has_free_gpu(const Resources& free) {
  return std::any_of(free.gpu_free.begin(), free.gpu_free.end(), [](std::int32_t f) { return f > 0; });
}

}  // namespace

CostContext::CostContext(CostModel model, std::vector<std::int32_t> priorities, FragmentationMeasure fragmentation,
                         std::vector<std::int64_t> tie)
    : model_(model), priorities_(std::move(priorities)), fragmentation_(std::move(fragmentation)), tie_(std::move(tie)) {
  std::sort(priorities_.begin(), priorities_.end());
  priorities_.erase(std::unique(priorities_.begin(), priorities_.end()), priorities_.end());
}

std::int64_t CostContext::priority_rank(std::int32_t priority) const {
  return std::lower_bound(priorities_.begin(), priorities_.end(), priority) - priorities_.begin();
}

// Priority in U (spread, pack, fgd, alloc): each priority class up (rank among the
// snapshot's distinct priorities) makes leaving a task out cost `step` more. Without it the
// flow chose among the tasks it could not all place by placement cost alone, which in pack
// and fgd favours large tasks (they fill a machine more, or fragment it less): at 12,500
// machines / 150k tasks pack left 824 priority-9 tasks out for want of room while placing
// more priority-0 to -7 tasks than first fit by priority did, and 0.5% fewer tasks in all.
std::int64_t CostContext::priority_step(std::int32_t priority, std::int64_t step) const {
  return step * priority_class(priority_rank(priority), static_cast<std::int64_t>(priorities_.size()));
}

std::int64_t CostContext::placement(const Demand& d, const Resources& capacity, const Resources& free,
                                    const std::vector<std::int32_t>& models) const {
  const std::int64_t util = utilisation_after(d, capacity, free);
  const std::int64_t reserve = gpu_reserve(d, free);
  switch (model_) {
    case CostModel::kLoadSpreading:
      return util + reserve;
    case CostModel::kPacking:
      return kUnit - util + reserve;
    case CostModel::kQuincy:
      return kUnit + util / 20 + reserve;
    case CostModel::kPriority:
      return kUnit - util + reserve;
    case CostModel::kFgd:
    case CostModel::kAlloc: {
      // FGD's score of ΔF (milli-GPUs; the device a share would get is the one FGD picks):
      // 100·σ(−ΔF/1000) truncated, as FGD scores machines. The truncation makes close
      // placements equal, and the tie-break then packs them onto the same machines.
      if (free.gpu_free.empty()) return 0;
      const double before = fragmentation(free, models);
      Resources after = free;
      after.cpu -= d.cpu;
      after.memory -= d.memory;
      if (d.gpus > 0) {  // the first free devices, as the packer takes them
        std::int32_t left = d.gpus;
        for (std::size_t g = 0; g < after.gpu_free.size() && left > 0; ++g) {
          if (after.gpu_free[g] == kGpuMilliWhole && d.model_ok(models[g])) {
            after.gpu_free[g] = 0;
            --left;
          }
        }
      } else if (d.gpu_milli > 0) {
        const std::int32_t g = pick_share(d, free, models);
        if (g >= 0) after.gpu_free[static_cast<std::size_t>(g)] -= d.gpu_milli;
      }
      return (100 - fgd_score(before, fragmentation(after, models))) * kTieUnits;
    }
  }
  return util;
}

// GPU reserve (load models): a task that needs no GPU pays more than any load difference
// on a machine with a free GPU, so it goes there only when machines without one are full.
// Without it every load model put CPU-only tasks on the GPU machines (their CPU is larger,
// so their utilisation lower: 1,040 of openb's 1,088 CPU-only pods) and left GPUs that no
// GPU task could use for want of CPU, while the CPU-only machines stayed 18k cores idle.
// fgd and alloc measure that loss themselves (fragmentation counts such GPUs).
std::int64_t CostContext::gpu_reserve(const Demand& d, const Resources& free) const {
  return !cost_wanders() && !d.wants_gpu() && has_free_gpu(free) ? kGpuReserveCost : 0;
}

std::int64_t CostContext::staying(const Demand& d, const Resources& capacity, const Resources& free,
                                  const std::vector<std::int32_t>& models) const {
  return placement(d, capacity, free, models) - gpu_reserve(d, free);
}

std::int64_t CostContext::unscheduled(const Demand& d, std::int32_t priority, std::int64_t wait_s) const {
  switch (model_) {
    case CostModel::kQuincy:
      return 5'000 + 100 * std::clamp<std::int64_t>(wait_s / 600, 0, 10'000);
    case CostModel::kPriority:
      return 10'000 * (priority_rank(priority) + 1);
    // Above any placement (at most 1000, plus 750 of load slices): every task that fits
    // is placed. FGD's fragmentation growth reaches ±(a machine's GPUs × 1000).
    case CostModel::kFgd:
      return kFgdScoreRange + priority_step(priority, kPriorityStepScore * kTieUnits);
    // A task left out costs more than any placement, plus its GPU share, each milli-GPU
    // worth more than the whole range of placement costs: when room is short the flow keeps
    // the most GPU placed, and fragmentation decides only among equal shares. Shares above
    // kAllocMaxValuedMilli count as that much (the cost range stays within what validate()
    // guarantees; only tasks larger still compare as equals).
    case CostModel::kAlloc:
      return 2 * kFgdScoreRange +
             kFgdScoreRange * std::min<std::int64_t>(kAllocMaxValuedMilli, d.gpu_milli_total()) +
             priority_step(priority, kPriorityStepScore * kTieUnits);
    default:  // spread, pack
      return 4'000 + priority_step(priority, kPriorityStepLoad);
  }
}

std::int64_t CostContext::preemption(const Demand& d, std::int32_t priority, std::int64_t wait_s) const {
  return unscheduled(d, priority, wait_s) + (preempts() ? 5'000 : 1'000'000);
}

std::int64_t CostContext::slot_segment_cost(int k) const { return model_ == CostModel::kLoadSpreading ? 250 * k : 0; }

std::int64_t CostContext::evaluation_weight() const {
  return model_ == CostModel::kFgd || model_ == CostModel::kAlloc
             ? std::max<std::int64_t>(1, static_cast<std::int64_t>(fragmentation_.size()) / 8)
             : 1;
}

std::int32_t CostContext::pick_share(const Demand& d, const Resources& free,
                                     const std::vector<std::int32_t>& models) const {
  if (fragmentation_.empty()) return best_fit_share(d, free, models);
  // FGD's choice: the device with the best score (F after the placement, scored as
  // placement() scores it); the first such device on ties.
  std::int32_t best = -1;
  std::int64_t best_score = 0;
  const double before = fragmentation(free, models);
  std::vector<std::int32_t> after = free.gpu_free;
  for (std::size_t g = 0; g < free.gpu_free.size(); ++g) {
    if (free.gpu_free[g] < d.gpu_milli || !d.model_ok(models[g])) continue;
    after[g] -= d.gpu_milli;
    const std::int64_t score = fgd_score(before, fragmentation_(free.cpu - d.cpu, free.memory - d.memory, after, models));
    after[g] += d.gpu_milli;
    if (best < 0 || score > best_score) {
      best = static_cast<std::int32_t>(g);
      best_score = score;
    }
  }
  return best;
}

double CostContext::fragmentation(const Resources& free, const std::vector<std::int32_t>& models) const {
  return fragmentation_(free.cpu, free.memory, free.gpu_free, models);
}

namespace {

// FGD's target workload: the caller's, or the snapshot's own tasks (typical_workload).
std::vector<WorkloadSpec> fgd_workload(const Cluster& cluster, const Snapshot& snapshot,
                                       const AllocateOptions& options) {
  if (!options.workload.empty()) return options.workload;
  std::vector<TaskRef> rep(cluster.shapes.size(), TaskRef{-1, -1});  // a task of each shape
  for (std::size_t s = 0; s < cluster.shapes.size(); ++s) {
    if (!cluster.shapes[s].pending.empty()) rep[s] = cluster.shapes[s].pending.front();
  }
  for (const RunningTask& r : cluster.running) {
    if (rep[static_cast<std::size_t>(r.shape)].job < 0) rep[static_cast<std::size_t>(r.shape)] = r.ref;
  }
  std::vector<std::pair<WorkloadSpec, std::int64_t>> counted;
  for (std::size_t s = 0; s < cluster.shapes.size(); ++s) {
    if (rep[s].job < 0) continue;
    const Task& t = snapshot.jobs[static_cast<std::size_t>(rep[s].job)].tasks[static_cast<std::size_t>(rep[s].task)];
    WorkloadSpec w;
    w.cpu_milli = t.cpu_milli;
    w.gpus = t.gpus;
    w.gpu_milli = t.gpus > 0 ? 0 : t.gpu_milli;
    w.gpu_models = t.gpu_models;
    counted.emplace_back(std::move(w),
                         static_cast<std::int64_t>(cluster.shapes[s].pending.size()) + cluster.shapes[s].running);
  }
  // A cluster of very varied tasks has hundreds of specs covering 95% (397 in the 1M-task
  // synthetic snapshot); each costs every FGD evaluation a pass over the devices.
  return typical_workload(counted, 0.95, kMaxSnapshotWorkloadSpecs);
}

}  // namespace

CostContext make_cost_context(const Cluster& cluster, const Snapshot& snapshot, const AllocateOptions& options) {
  FragmentationMeasure fragmentation;
  std::vector<std::int64_t> tie;
  if (options.cost_model == CostModel::kFgd || options.cost_model == CostModel::kAlloc) {
    const std::vector<std::int32_t> rank = machine_tie_ranks(snapshot.machines, options.tie_seed);
    const auto scale = std::max<std::int64_t>(static_cast<std::int64_t>(rank.size()), kTieUnits);
    tie.reserve(rank.size());
    for (const std::int32_t r : rank) tie.push_back(std::int64_t{r} * kTieUnits / scale);
    std::vector<std::string> model_names(cluster.names.gpu_model.size());
    for (const auto& [name, id] : cluster.names.gpu_model) model_names[static_cast<std::size_t>(id)] = name;
    fragmentation = FragmentationMeasure(fgd_workload(cluster, snapshot, options), model_names);
  }
  return CostContext(options.cost_model, cluster.priorities, std::move(fragmentation), std::move(tie));
}


AllocateOptions resolve_auto_options(const AllocateOptions& options, const CostContext& costs, std::int64_t pending) {
  AllocateOptions resolved = options;
  if (resolved.new_tasks_per_machine == 0) {
    resolved.new_tasks_per_machine = costs.cost_wanders() && pending <= kExactRoundsTasks ? 1 : -1;
  }
  return resolved;
}

}  // namespace sluice::detail
