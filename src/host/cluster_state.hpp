// The snapshot in the form the allocator computes with: names interned to small integers,
// each machine's free resources as flat numbers, each task's demand as a Demand. Holds the
// one definition of "a task fits on a machine" and of taking/returning resources, shared
// by the network builder (fit counts → arc capacities) and the repair pass (packing).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/snapshot.hpp"

namespace sluice::detail {

inline constexpr std::int64_t kUnlimitedFit = std::int64_t{1} << 40;

// Interning of GPU model and extra-resource names over the whole snapshot.
struct Names {
  std::unordered_map<std::string, std::int32_t> gpu_model;
  std::unordered_map<std::string, std::int32_t> extra;
  std::int32_t intern_model(const std::string& name) {
    return gpu_model.try_emplace(name, static_cast<std::int32_t>(gpu_model.size())).first->second;
  }
  std::int32_t intern_extra(const std::string& name) {
    return extra.try_emplace(name, static_cast<std::int32_t>(extra.size())).first->second;
  }
};

// Free (or capacity) resources of one machine.
struct Resources {
  std::int64_t cpu = 0;
  std::int64_t memory = 0;
  std::vector<std::int32_t> gpu_free;  // per device, in the machine's device order
  std::vector<std::int64_t> extra;     // per interned extra resource
};

struct MachineInfo {
  std::int32_t rack = 0;                // interned rack
  std::vector<std::int32_t> gpu_model;  // per device
  std::vector<std::int32_t> gpu_index;  // per device: the snapshot's device index
  Resources capacity;
  Resources free;
  std::int32_t machine_class = 0;  // machines with identical capacity, free and labels
};

// What one task needs; identical for every task of a shape.
struct Demand {
  std::int64_t cpu = 0;
  std::int64_t memory = 0;
  std::int32_t gpus = 0;                                     // whole devices
  std::int32_t gpu_milli = 0;                                // share of one device
  std::vector<std::uint8_t> model_allowed;                   // per interned model; empty = any model
  std::vector<std::pair<std::int32_t, std::int64_t>> extra;  // (interned resource, amount)
  bool any_model_known = true;                               // false when the task lists only models no machine has

  [[nodiscard]] bool wants_gpu() const { return gpus > 0 || gpu_milli > 0; }
  // All the GPU it takes, in milli-GPUs: whole devices or one device's share.
  [[nodiscard]] std::int64_t gpu_milli_total() const {
    return gpus > 0 ? std::int64_t{gpus} * kGpuMilliWhole : gpu_milli;
  }
  [[nodiscard]] bool model_ok(std::int32_t model) const {
    return model_allowed.empty() || model_allowed[static_cast<std::size_t>(model)] != 0;
  }
};

// How many tasks of `d` fit into `r` on a machine with devices of models `models`
// (labels are checked by the caller). Never more than kUnlimitedFit.
inline std::int64_t fit_count(const Demand& d, const Resources& r, const std::vector<std::int32_t>& models) {
  if (!d.any_model_known) return 0;
  std::int64_t k = kUnlimitedFit;
  if (d.cpu > 0) k = std::min(k, r.cpu / d.cpu);
  if (d.memory > 0) k = std::min(k, r.memory / d.memory);
  for (const auto& [res, amount] : d.extra) {
    if (amount <= 0) continue;
    const std::int64_t have =
        static_cast<std::size_t>(res) < r.extra.size() ? r.extra[static_cast<std::size_t>(res)] : 0;
    k = std::min(k, have / amount);
  }
  if (k <= 0) return 0;
  if (d.gpus > 0) {
    std::int64_t whole = 0;
    for (std::size_t g = 0; g < r.gpu_free.size(); ++g) {
      if (r.gpu_free[g] == kGpuMilliWhole && d.model_ok(models[g])) ++whole;
    }
    k = std::min<std::int64_t>(k, whole / d.gpus);
  } else if (d.gpu_milli > 0) {
    std::int64_t shares = 0;
    for (std::size_t g = 0; g < r.gpu_free.size(); ++g) {
      if (d.model_ok(models[g])) shares += r.gpu_free[g] / d.gpu_milli;
    }
    k = std::min(k, shares);
  }
  return std::max<std::int64_t>(k, 0);
}

// Takes one task's resources, choosing devices; `pick_share` chooses the device for a GPU
// share among those that fit (returns a position in r.gpu_free). Returns false (and
// changes nothing) when it does not fit. Device positions go to `devices`.
template <typename PickShare>
bool take(const Demand& d, Resources& r, const std::vector<std::int32_t>& models, std::vector<std::int32_t>& devices,
          PickShare&& pick_share) {
  devices.clear();
  if (!d.any_model_known || d.cpu > r.cpu || d.memory > r.memory) return false;
  for (const auto& [res, amount] : d.extra) {
    const std::int64_t have =
        static_cast<std::size_t>(res) < r.extra.size() ? r.extra[static_cast<std::size_t>(res)] : 0;
    if (amount > have) return false;
  }
  if (d.gpus > 0) {
    for (std::size_t g = 0; g < r.gpu_free.size() && static_cast<std::int32_t>(devices.size()) < d.gpus; ++g) {
      if (r.gpu_free[g] == kGpuMilliWhole && d.model_ok(models[g])) devices.push_back(static_cast<std::int32_t>(g));
    }
    if (static_cast<std::int32_t>(devices.size()) < d.gpus) {
      devices.clear();
      return false;
    }
  } else if (d.gpu_milli > 0) {
    const std::int32_t g = pick_share(d, r, models);
    if (g < 0) return false;
    devices.push_back(g);
  }
  r.cpu -= d.cpu;
  r.memory -= d.memory;
  for (const auto& [res, amount] : d.extra) r.extra[static_cast<std::size_t>(res)] -= amount;
  for (const std::int32_t g : devices)
    r.gpu_free[static_cast<std::size_t>(g)] -= d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli;
  return true;
}

// Best fit for a GPU share: the allowed device with the least free share that still fits.
inline std::int32_t best_fit_share(const Demand& d, const Resources& r, const std::vector<std::int32_t>& models) {
  std::int32_t best = -1;
  for (std::size_t g = 0; g < r.gpu_free.size(); ++g) {
    if (r.gpu_free[g] < d.gpu_milli || !d.model_ok(models[g])) continue;
    if (best < 0 || r.gpu_free[g] < r.gpu_free[static_cast<std::size_t>(best)]) best = static_cast<std::int32_t>(g);
  }
  return best;
}

// Gives back what `take` took (device positions as `take` returned them).
inline void give_back(const Demand& d, Resources& r, std::span<const std::int32_t> devices) {
  r.cpu += d.cpu;
  r.memory += d.memory;
  for (const auto& [res, amount] : d.extra) r.extra[static_cast<std::size_t>(res)] += amount;
  for (const std::int32_t g : devices)
    r.gpu_free[static_cast<std::size_t>(g)] += d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli;
}

}  // namespace sluice::detail
