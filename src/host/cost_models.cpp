// The five cost models (formulas in cost_models.hpp and docs/allocation.md).
// FGD follows Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
// Fragmentation Gradient Descent" (USENIX ATC'23): a machine's fragmentation for a workload
// type is the free GPU share that type cannot use there (all of it when the type's CPU or
// memory does not fit, or when it needs no GPU); the expected fragmentation weighs types by
// popularity; a placement costs the growth it causes.
#include "cost_models.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace sluice::detail {
namespace {

constexpr std::int64_t kUnit = 1000;

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
    used += d.gpus > 0 ? std::int64_t{d.gpus} * kGpuMilliWhole : d.gpu_milli;
    sum += kUnit * used / cap;
    ++parts;
  }
  return parts == 0 ? 0 : std::clamp<std::int64_t>(sum / parts, 0, kUnit);
}

// Fragmentation of one machine state for the workload; device `changed` (or -1) reads as
// `changed_free` instead of its value in gpu_free.
std::int64_t fragmentation_of(const std::vector<WorkloadType>& workload, std::int64_t cpu, std::int64_t memory,
                              const std::vector<std::int32_t>& gpu_free, std::int32_t changed,
                              std::int32_t changed_free) {
  if (gpu_free.empty()) return 0;
  const auto device = [&](std::size_t g) {
    return static_cast<std::int32_t>(g) == changed ? changed_free : gpu_free[g];
  };
  std::int64_t total = 0;
  std::int64_t whole = 0;
  for (std::size_t g = 0; g < gpu_free.size(); ++g) {
    total += device(g);
    whole += device(g) == kGpuMilliWhole ? 1 : 0;
  }
  std::int64_t f = 0;
  for (const WorkloadType& t : workload) {
    std::int64_t unusable = 0;
    if (!t.demand.wants_gpu() || t.demand.cpu > cpu || t.demand.memory > memory) {
      unusable = total;
    } else if (t.demand.gpus > 0) {
      if (whole < t.demand.gpus) {
        unusable = total;
      } else {
        for (std::size_t g = 0; g < gpu_free.size(); ++g) unusable += device(g) < kGpuMilliWhole ? device(g) : 0;
      }
    } else {
      for (std::size_t g = 0; g < gpu_free.size(); ++g) unusable += device(g) < t.demand.gpu_milli ? device(g) : 0;
    }
    f += t.weight * unusable;
  }
  return f;
}

}  // namespace

CostContext::CostContext(CostModel model, std::vector<std::int32_t> priorities, std::vector<WorkloadType> workload)
    : model_(model), priorities_(std::move(priorities)), workload_(std::move(workload)) {
  std::sort(priorities_.begin(), priorities_.end());
  priorities_.erase(std::unique(priorities_.begin(), priorities_.end()), priorities_.end());
}

std::int64_t CostContext::priority_rank(std::int32_t priority) const {
  return std::lower_bound(priorities_.begin(), priorities_.end(), priority) - priorities_.begin();
}

std::int64_t CostContext::placement(const Demand& d, const Resources& capacity, const Resources& free,
                                    const std::vector<std::int32_t>& models) const {
  const std::int64_t util = utilisation_after(d, capacity, free);
  switch (model_) {
    case CostModel::kLoadSpreading:
      return util;
    case CostModel::kPacking:
      return kUnit - util;
    case CostModel::kQuincy:
      return kUnit + util / 20;
    case CostModel::kPriority:
      return kUnit - util;
    case CostModel::kFgd: {
      const std::int64_t tie = (kUnit - util) / 20;
      if (free.gpu_free.empty()) return tie;
      const std::int64_t before = fragmentation(free, models);
      std::int64_t after = before;
      const std::int64_t cpu = free.cpu - d.cpu;
      const std::int64_t memory = free.memory - d.memory;
      if (d.gpu_milli > 0 && d.gpus == 0) {
        const std::int32_t g = pick_share(d, free, models);
        if (g >= 0) {
          after = fragmentation_of(workload_, cpu, memory, free.gpu_free, g,
                                   free.gpu_free[static_cast<std::size_t>(g)] - d.gpu_milli);
        }
      } else if (d.gpus > 0) {
        // Whole devices: the first free ones, as the packer takes them.
        Resources after_state{cpu, memory, free.gpu_free, {}};
        std::int32_t left = d.gpus;
        for (std::size_t g = 0; g < after_state.gpu_free.size() && left > 0; ++g) {
          if (after_state.gpu_free[g] == kGpuMilliWhole && d.model_ok(models[g])) {
            after_state.gpu_free[g] = 0;
            --left;
          }
        }
        after = fragmentation_of(workload_, cpu, memory, after_state.gpu_free, -1, 0);
      } else {
        after = fragmentation_of(workload_, cpu, memory, free.gpu_free, -1, 0);
      }
      return (after - before) / kUnit + tie;
    }
  }
  return util;
}

std::int64_t CostContext::unscheduled(std::int32_t priority, std::int64_t wait_s) const {
  switch (model_) {
    case CostModel::kQuincy:
      return 5'000 + 100 * std::clamp<std::int64_t>(wait_s / 600, 0, 10'000);
    case CostModel::kPriority:
      return 10'000 * (priority_rank(priority) + 1);
    // Above any placement (at most 1000, plus 750 of load slices): every task that fits
    // is placed. FGD's fragmentation growth reaches ±8 GPUs (8000).
    case CostModel::kFgd:
      return 20'000;
    default:
      return 4'000;
  }
}

std::int64_t CostContext::preemption(std::int32_t priority, std::int64_t wait_s) const {
  return unscheduled(priority, wait_s) + (preempts() ? 5'000 : 1'000'000);
}

std::int64_t CostContext::slot_segment_cost(int k) const { return model_ == CostModel::kLoadSpreading ? 250 * k : 0; }

std::int64_t CostContext::evaluation_weight() const {
  return model_ == CostModel::kFgd ? static_cast<std::int64_t>(std::max<std::size_t>(1, workload_.size())) : 1;
}

std::int32_t CostContext::pick_share(const Demand& d, const Resources& free,
                                     const std::vector<std::int32_t>& models) const {
  if (model_ != CostModel::kFgd) return best_fit_share(d, free, models);
  std::int32_t best = -1;
  std::int64_t best_f = 0;
  const std::int64_t cpu = free.cpu - d.cpu;
  const std::int64_t memory = free.memory - d.memory;
  for (std::size_t g = 0; g < free.gpu_free.size(); ++g) {
    if (free.gpu_free[g] < d.gpu_milli || !d.model_ok(models[g])) continue;
    const std::int64_t f = fragmentation_of(workload_, cpu, memory, free.gpu_free, static_cast<std::int32_t>(g),
                                            free.gpu_free[g] - d.gpu_milli);
    if (best < 0 || f < best_f) {
      best = static_cast<std::int32_t>(g);
      best_f = f;
    }
  }
  return best;
}

std::int64_t CostContext::fragmentation(const Resources& free, const std::vector<std::int32_t>& /*models*/) const {
  return fragmentation_of(workload_, free.cpu, free.memory, free.gpu_free, -1, 0);
}

std::vector<WorkloadType> workload_types(const std::vector<std::pair<const Demand*, std::int64_t>>& demands,
                                         std::size_t k) {
  using Key = std::tuple<std::int64_t, std::int64_t, std::int32_t, std::int32_t>;
  std::map<Key, std::pair<std::int64_t, const Demand*>> counts;
  std::int64_t total = 0;
  for (const auto& [d, n] : demands) {
    auto& slot = counts[Key{d->cpu, d->memory, d->gpus, d->gpu_milli}];
    slot.first += n;
    slot.second = d;
    total += n;
  }
  std::vector<std::pair<std::int64_t, Key>> order;
  order.reserve(counts.size());
  for (const auto& [key, v] : counts) order.emplace_back(v.first, key);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  if (order.size() > k) order.resize(k);
  std::int64_t kept = 0;
  for (const auto& o : order) kept += o.first;
  std::vector<WorkloadType> out;
  for (const auto& [n, key] : order) {
    WorkloadType t;
    t.demand.cpu = std::get<0>(key);
    t.demand.memory = std::get<1>(key);
    t.demand.gpus = std::get<2>(key);
    t.demand.gpu_milli = std::get<3>(key);
    t.weight = kept > 0 ? std::max<std::int64_t>(1, kUnit * n / kept) : 0;
    out.push_back(std::move(t));
  }
  (void)total;
  return out;
}

}  // namespace sluice::detail
