// GPU fragmentation as FGD measures it (Weng et al., "Beware of Fragmentation: Scheduling
// GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC'23, §4): for a
// target workload of task specs with popularities w_t (Σ w_t = 1), a machine's expected
// fragmentation is F = Σ_t w_t · f_t, where f_t is the free GPU share (in milli-GPUs) that
// spec t could not use there:
//   * all of it, when t asks for no GPU, or its CPU (or memory, when the spec names
//     memory) does not fit, or fewer devices of an allowed model than t needs have room
//     for it;
//   * otherwise the free share of the devices that cannot hold t's share (a device of a
//     model t does not allow counts whole).
// FGD places a task where F grows least. The cost model `fgd` (cost_models.cpp) and the
// fill experiment's one-pod-at-a-time FGD (src/master/greedy_policies.cpp) both use this
// one measure. Cost: O(specs × devices) per machine state.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice {

class FragmentationMeasure {
 public:
  FragmentationMeasure() = default;
  // `model_names[i]` is the name of the caller's GPU model id i (the ids `gpu_model`
  // carries below); a spec's allowed models are matched by name.
  FragmentationMeasure(const std::vector<WorkloadSpec>& workload, const std::vector<std::string>& model_names);

  [[nodiscard]] bool empty() const { return specs_.empty(); }
  [[nodiscard]] std::size_t size() const { return specs_.size(); }

  // F of a machine with these free amounts; gpu_free and gpu_model are per device.
  [[nodiscard]] double operator()(std::int64_t cpu_free, std::int64_t memory_free, std::span<const std::int32_t> gpu_free,
                                  std::span<const std::int32_t> gpu_model) const;

 private:
  struct Spec {
    std::int64_t cpu = 0;
    std::int64_t memory = 0;  // 0: not checked
    std::int32_t devices = 0;  // devices needed (0: no GPU)
    std::int32_t need = 0;     // free milli each of them needs
    std::vector<std::uint8_t> allowed;  // per model id; empty = any
    double weight = 0;
  };
  std::vector<Spec> specs_;
};

// FGD's tie-break between machines of equal score: a fixed pseudo-random machine order (the
// simulator's node-name prefixes), drawn with `seed` from the machine ids, uncorrelated
// with machine types or list order. Per machine, its rank in that order (0 first).
[[nodiscard]] std::vector<std::int32_t> machine_tie_ranks(const std::vector<Machine>& machines, std::uint64_t seed);
// The fgd and alloc cost models add rank · kTieKeyUnits / max(machines, kTieKeyUnits) to a
// machine's costs: the exact order up to kTieKeyUnits machines, that order in buckets above.
inline constexpr std::int64_t kTieKeyUnits = 4096;

// FGD's target workload ("typical pods") from task specs with their counts: specs with the
// same CPU, GPUs and allowed models are merged (memory is dropped, as FGD does), then taken
// most frequent first (ties: the larger spec first) until they cover `coverage` of the
// tasks, with weights renormalised to sum to 1.
// At most `max_specs` are kept (0: no limit).
[[nodiscard]] std::vector<WorkloadSpec> typical_workload(const std::vector<std::pair<WorkloadSpec, std::int64_t>>& counted,
                                                         double coverage = 0.95, std::size_t max_specs = 0);

}  // namespace sluice
