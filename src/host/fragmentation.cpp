// FGD's fragmentation measure (include/sluice/fragmentation.hpp).
#include "sluice/fragmentation.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "sluice/snapshot.hpp"

namespace sluice {

FragmentationMeasure::FragmentationMeasure(const std::vector<WorkloadSpec>& workload,
                                           const std::vector<std::string>& model_names) {
  specs_.reserve(workload.size());
  for (const WorkloadSpec& w : workload) {
    Spec s;
    s.cpu = w.cpu_milli;
    s.memory = w.memory_mib;
    s.devices = w.gpus > 0 ? w.gpus : (w.gpu_milli > 0 ? 1 : 0);
    s.need = w.gpus > 0 ? kGpuMilliWhole : w.gpu_milli;
    if (!w.gpu_models.empty()) {
      s.allowed.assign(model_names.size(), 0);
      for (std::size_t id = 0; id < model_names.size(); ++id) {
        for (const std::string& name : w.gpu_models) s.allowed[id] |= name == model_names[id] ? 1 : 0;
      }
    }
    s.weight = w.weight;
    specs_.push_back(std::move(s));
  }
}

double FragmentationMeasure::operator()(std::int64_t cpu_free, std::int64_t memory_free,
                                        std::span<const std::int32_t> gpu_free,
                                        std::span<const std::int32_t> gpu_model) const {
  std::int64_t total = 0;
  for (const std::int32_t f : gpu_free) total += f;
  if (total == 0) return 0;
  double sum = 0;
  for (const Spec& s : specs_) {
    std::int64_t unusable = total;
    if (s.devices > 0 && s.cpu <= cpu_free && (s.memory == 0 || s.memory <= memory_free)) {
      std::int32_t hosts = 0;  // allowed devices with room for the spec's share
      std::int64_t stranded = 0;
      for (std::size_t g = 0; g < gpu_free.size(); ++g) {
        const bool allowed = s.allowed.empty() || s.allowed[static_cast<std::size_t>(gpu_model[g])] != 0;
        if (allowed && gpu_free[g] >= s.need) {
          ++hosts;
        } else {
          stranded += gpu_free[g];
        }
      }
      if (hosts >= s.devices) unusable = stranded;
    }
    sum += s.weight * static_cast<double>(unusable);
  }
  return sum;
}

namespace {

std::uint64_t tie_key(std::string_view machine_id, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL ^ (seed * 0x9e3779b97f4a7c15ULL);  // FNV-1a
  for (const char c : machine_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;  // SplitMix64's finaliser: every bit mixed
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

std::vector<std::int32_t> machine_tie_ranks(const std::vector<Machine>& machines, std::uint64_t seed) {
  std::vector<std::pair<std::uint64_t, std::int32_t>> keys(machines.size());
  for (std::size_t m = 0; m < machines.size(); ++m) keys[m] = {tie_key(machines[m].id, seed), static_cast<std::int32_t>(m)};
  std::sort(keys.begin(), keys.end());  // a key shared by two ids: the first in the list first
  std::vector<std::int32_t> rank(machines.size());
  for (std::size_t r = 0; r < keys.size(); ++r) rank[static_cast<std::size_t>(keys[r].second)] = static_cast<std::int32_t>(r);
  return rank;
}

std::vector<WorkloadSpec> typical_workload(const std::vector<std::pair<WorkloadSpec, std::int64_t>>& counted,
                                           double coverage, std::size_t max_specs) {
  // FGD's key: CPU, the GPU milli of each device, the number of devices, the models.
  using Key = std::tuple<std::int64_t, std::int32_t, std::int32_t, std::vector<std::string>>;
  std::map<Key, std::int64_t> counts;
  std::int64_t total = 0;
  for (const auto& [spec, n] : counted) {
    if (n <= 0) continue;
    std::vector<std::string> models = spec.wants_gpu() ? spec.gpu_models : std::vector<std::string>{};
    std::sort(models.begin(), models.end());
    const std::int32_t per_device = spec.gpus > 0 ? kGpuMilliWhole : spec.gpu_milli;
    const std::int32_t devices = spec.gpus > 0 ? spec.gpus : (spec.gpu_milli > 0 ? 1 : 0);
    counts[Key{spec.cpu_milli, per_device, devices, std::move(models)}] += n;
    total += n;
  }
  std::vector<std::pair<std::int64_t, const Key*>> order;
  order.reserve(counts.size());
  for (const auto& [key, n] : counts) order.emplace_back(n, &key);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *b.second < *a.second;
  });
  std::vector<WorkloadSpec> out;
  std::int64_t covered = 0;
  for (const auto& [n, key] : order) {
    if (static_cast<double>(covered) >= coverage * static_cast<double>(total)) break;
    if (max_specs > 0 && out.size() == max_specs) break;
    WorkloadSpec w;
    w.cpu_milli = std::get<0>(*key);
    const std::int32_t per_device = std::get<1>(*key);
    const std::int32_t devices = std::get<2>(*key);
    w.gpus = per_device == kGpuMilliWhole ? devices : 0;
    w.gpu_milli = per_device == kGpuMilliWhole ? 0 : per_device;
    w.gpu_models = std::get<3>(*key);
    w.weight = static_cast<double>(n);
    covered += n;
    out.push_back(std::move(w));
  }
  for (WorkloadSpec& w : out) w.weight /= static_cast<double>(covered);
  return out;
}

}  // namespace sluice
