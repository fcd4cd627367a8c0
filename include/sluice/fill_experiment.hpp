// The FGD paper's fill experiment, as its authors' simulator runs it (`sluice replay --fill
// --protocol atc23`): Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing
// Workloads with Fragmentation Gradient Descent", USENIX ATC'23, §6 and figure 7, with the
// simulator's rules (hkust-adsl/kubernetes-scheduler-simulator; docs/fill_experiment.md
// lists each rule and where it comes from):
//
//   cluster   the trace's nodes that have GPUs, in file order, empty;
//   workload  the pod list sorted by name, shuffled with the seed, then tuned to `ratio` ×
//             the cluster's GPU capacity: random copies of random original pods appended
//             (named NAME-tuned-K), or random pods removed; pods never leave;
//   policies  the simulator's one-pod-at-a-time scores (fgd-greedy, best-fit,
//             gpu-packing), or any allocator fed `batch` pods at a time (the snapshot holds
//             the pods placed so far, running, and the batch, pending); a pod that fits
//             nowhere fails and is dropped;
//   metric    one event per pod, in arrival order (a batch's pods are recorded in order
//             once the batch is decided): arrived = GPU milli asked by all pods so far,
//             failed ones included, and allocated = GPU milli placed, both ÷ capacity in %;
//             the figure at 100% is the mean allocation over the events whose arrived %
//             rounds (half to even) to 100, or to 99..101 when none does; "unallocated" is
//             100 − that.
// Our shuffle and random draws are not Go's, so single seeds differ from the simulator's;
// means over seeds compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/trace_replay.hpp"

namespace sluice {

// The simulator's target workload for FGD ("typical pods") from a pod list: typical_workload
// (fragmentation.hpp) over the pods' CPU, GPUs and allowed models, covering 95%.
[[nodiscard]] std::vector<WorkloadSpec> trace_workload(const std::vector<TracePod>& pods, double coverage = 0.95);

// One seed's input.
struct Atc23Input {
  std::vector<Machine> machines;  // the trace's machines with GPUs, in file order
  std::vector<TracePod> pods;     // in arrival order
  // Per machine: its rank in the simulator's tie-break (a seeded permutation; the lowest
  // rank wins among equal scores).
  std::vector<std::int32_t> tie_rank;
  std::int64_t original_pods = 0;  // pods of the trace before tuning
  std::int64_t capacity_gpu_milli = 0;
};

// Builds the cluster, the shuffled and tuned pod list and the tie-break ranks for a seed.
// Pods keep their fields; creation times are dropped (all pods arrive in list order).
[[nodiscard]] Atc23Input atc23_input(const Trace& trace, std::uint64_t seed, double tune_ratio = 1.3);

// The simulator's one-pod-at-a-time policies.
enum class GreedyPolicy {
  kFgd,         // the least growth of fragmentation, scored 100·sigmoid(−ΔF/1000) truncated
  kBestFit,     // the least CPU and GPU left (0.5/0.5 over 128 cores and 8 GPUs), min-max normalised
  kGpuPacking,  // partly used GPUs first, then free GPUs of used machines, then idle machines
};
[[nodiscard]] std::string_view to_string(GreedyPolicy p);  // "fgd-greedy", "best-fit", "gpu-packing"
[[nodiscard]] std::optional<GreedyPolicy> parse_greedy_policy(std::string_view name);

// After each pod, in arrival order.
struct FillEvent {
  std::int64_t arrived_milli = 0;    // GPU milli asked by the pods so far
  std::int64_t allocated_milli = 0;  // GPU milli placed
  std::int64_t placed = 0;
  std::int64_t failed = 0;
};

// One policy, batch and seed.
struct FillRun {
  std::string policy;
  std::int64_t batch = 1;  // 0: the whole list as one snapshot
  std::uint64_t seed = 0;
  bool ok = false;
  std::string error;
  double arrived_gpu_pct = 0;      // where the figure is read: 100, or the fallback window
  double unallocated_gpu_pct = 0;  // 100 − the mean allocation there
  std::int64_t placed = 0;         // by the last event of that window
  std::int64_t failed = 0;
  std::int64_t placed_total = 0;   // over the whole list
  std::int64_t failed_total = 0;
  double final_allocated_gpu_pct = 0;
  // The simulator's discretisation: per integer arrived % (0..130), the mean allocated %
  // of the events that round to it (or to ±1 when none does); absent levels are skipped.
  std::vector<std::pair<std::int32_t, double>> curve;
  std::int64_t rejected = 0;  // reply items the master refused (a correct allocator: 0)
  double seconds = 0;
};

// The metric over a run's events (arrived, curve, unallocated, placed/failed at the point).
void measure_fill(FillRun& run, const std::vector<FillEvent>& events, std::int64_t capacity_milli);

// A greedy policy over the input. `workload` is FGD's target workload (kFgd only).
[[nodiscard]] FillRun run_greedy_fill(const Atc23Input& input, GreedyPolicy policy,
                                      const std::vector<WorkloadSpec>& workload, const ReplayProgress& progress = {});

// An allocator fed `batch` pods at a time (0: all of them at once).
[[nodiscard]] FillRun run_batch_fill(const Atc23Input& input, std::int64_t batch, const RoundAllocator& allocator,
                                     std::string policy, const ReplayProgress& progress = {});

// fill_summary.csv: policy,batch,seed,arrived_gpu_pct,unallocated_gpu_pct,placed,failed,
// placed_total,failed_total,final_allocated_gpu_pct,rejected,seconds (one row per run);
// fill.csv: policy,batch,seed,arrived_gpu_pct,unallocated_gpu_pct,placed,failed (one row
// per run and curve level; placed and failed as of the summary's point).
[[nodiscard]] bool write_fill_summary_csv(const std::vector<FillRun>& runs, const std::string& path, std::string* error);
[[nodiscard]] bool write_fill_curve_csv(const std::vector<FillRun>& runs, const std::string& path, std::string* error);

}  // namespace sluice
