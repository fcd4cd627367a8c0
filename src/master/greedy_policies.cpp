// The FGD simulator's one-pod-at-a-time policies (include/sluice/fill_experiment.hpp), with
// its integer scores, its device choices and its tie-break, so that their means over seeds
// match the published figures (docs/fill_experiment.md). For each pod in arrival order:
//   1. filter: CPU and memory fit; a GPU pod needs a device of an allowed model with room
//      for its share, or that many entirely free devices of allowed models;
//   2. score every machine that passed (one that passed alone is taken without scoring);
//   3. take the highest score, the lowest tie rank on ties; choose the devices;
//   4. no machine: the pod fails and is dropped.
// FGD's scores are cached per machine state within a pod's turn: machines in the same state
// (early on, most of a type) score once. Cost: O(machines × devices × workload specs) per
// pod in the worst case.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "master.hpp"
#include "sluice/fill_experiment.hpp"
#include "sluice/fragmentation.hpp"

namespace sluice {
namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMaxScore = 100;

// A pod's GPU demand as the simulator reads it: `count` devices with `milli` each.
struct GpuAsk {
  std::int32_t count = 0;
  std::int32_t milli = 0;
  [[nodiscard]] bool share() const { return count == 1 && milli < kGpuMilliWhole; }
};
GpuAsk ask_of(const TracePod& p) {
  if (p.gpus > 0) return {p.gpus, kGpuMilliWhole};
  if (p.gpu_milli > 0) return {1, p.gpu_milli};
  return {};
}

class Greedy {
 public:
  Greedy(const Atc23Input& input, GreedyPolicy policy, const std::vector<WorkloadSpec>& workload)
      : input_(input), policy_(policy), master_(input.machines, input.pods) {
    std::unordered_map<std::string, std::int32_t> ids;
    for (const Machine& m : input.machines) {
      std::vector<std::int32_t>& models = model_.emplace_back();
      for (const Gpu& g : m.gpus) {
        const auto [it, fresh] = ids.try_emplace(g.model, static_cast<std::int32_t>(model_names_.size()));
        if (fresh) model_names_.push_back(g.model);
        models.push_back(it->second);
      }
    }
    if (policy == GreedyPolicy::kFgd) fragmentation_ = FragmentationMeasure(workload, model_names_);
    f_before_.assign(input.machines.size(), std::nullopt);
  }

  // Places pod p, or returns false when it fits nowhere.
  bool place(std::int32_t p) {
    const TracePod& pod = master_.pods()[static_cast<std::size_t>(p)];
    master_.arrive(p);
    memo_.clear();
    feasible_.clear();
    for (std::size_t m = 0; m < input_.machines.size(); ++m) {
      if (fits(pod, static_cast<std::int32_t>(m))) feasible_.push_back(static_cast<std::int32_t>(m));
    }
    if (feasible_.empty()) {
      master_.remove(p);
      return false;
    }
    std::int32_t chosen = feasible_.front();
    std::vector<std::int32_t> devices;
    if (feasible_.size() == 1) {
      devices = pick_devices(pod, chosen, score(pod, chosen).device);
    } else {
      scores_.clear();
      for (const std::int32_t m : feasible_) scores_.push_back(score(pod, m));
      if (policy_ == GreedyPolicy::kBestFit) normalise();
      std::size_t best = 0;
      for (std::size_t i = 1; i < feasible_.size(); ++i) {
        const bool higher = scores_[i].value > scores_[best].value;
        const bool tie_won = scores_[i].value == scores_[best].value &&
                             input_.tie_rank[static_cast<std::size_t>(feasible_[i])] <
                                 input_.tie_rank[static_cast<std::size_t>(feasible_[best])];
        if (higher || tie_won) best = i;
      }
      chosen = feasible_[best];
      devices = pick_devices(pod, chosen, scores_[best].device);
    }
    master_.take(p, chosen, devices);
    f_before_[static_cast<std::size_t>(chosen)].reset();
    return true;
  }

  [[nodiscard]] const Master& master() const { return master_; }

 private:
  struct Score {
    std::int64_t value = 0;
    std::int32_t device = -1;  // FGD: the device its score was computed for (a share)
  };

  [[nodiscard]] bool allowed(const TracePod& pod, std::int32_t m, std::size_t g) const {
    if (pod.gpu_models.empty()) return true;
    const std::string& model = input_.machines[static_cast<std::size_t>(m)].gpus[g].model;
    return std::find(pod.gpu_models.begin(), pod.gpu_models.end(), model) != pod.gpu_models.end();
  }

  [[nodiscard]] bool fits(const TracePod& pod, std::int32_t m) const {
    const MachineSlot& s = master_.machine_state(static_cast<std::size_t>(m));
    if (pod.cpu_milli > s.free_cpu || pod.memory_mib > s.free_memory) return false;
    const GpuAsk ask = ask_of(pod);
    if (ask.count == 0) return true;
    std::int32_t hosts = 0;
    for (std::size_t g = 0; g < s.gpu_free.size(); ++g) hosts += allowed(pod, m, g) && s.gpu_free[g] >= ask.milli ? 1 : 0;
    return hosts >= ask.count;
  }

  // The lowest-indexed entirely free devices of allowed models (the simulator's
  // AllocateExclusiveGpuId), or for a share the device `scored` (FGD) or the best fit.
  [[nodiscard]] std::vector<std::int32_t> pick_devices(const TracePod& pod, std::int32_t m,
                                                       std::int32_t scored) const {
    const MachineSlot& s = master_.machine_state(static_cast<std::size_t>(m));
    const GpuAsk ask = ask_of(pod);
    std::vector<std::int32_t> out;
    if (ask.count == 0) return out;
    if (ask.share()) {
      if (policy_ == GreedyPolicy::kFgd) return {scored};
      std::int32_t best = -1;
      for (std::size_t g = 0; g < s.gpu_free.size(); ++g) {
        if (!allowed(pod, m, g) || s.gpu_free[g] < ask.milli) continue;
        if (best < 0 || s.gpu_free[g] < s.gpu_free[static_cast<std::size_t>(best)]) best = static_cast<std::int32_t>(g);
      }
      return {best};
    }
    for (std::size_t g = 0; g < s.gpu_free.size() && static_cast<std::int32_t>(out.size()) < ask.count; ++g) {
      if (allowed(pod, m, g) && s.gpu_free[g] == kGpuMilliWhole) out.push_back(static_cast<std::int32_t>(g));
    }
    return out;
  }

  [[nodiscard]] Score score(const TracePod& pod, std::int32_t m) {
    switch (policy_) {
      case GreedyPolicy::kFgd:
        return fgd_score(pod, m);
      case GreedyPolicy::kBestFit:
        return {best_fit_score(pod, m), -1};
      case GreedyPolicy::kGpuPacking:
        return {gpu_packing_score(pod, m), -1};
    }
    return {};
  }

  double fragmentation(std::int64_t cpu, std::int64_t memory, const std::vector<std::int32_t>& gpu_free,
                       std::int32_t m) const {
    return fragmentation_(cpu, memory, gpu_free, model_[static_cast<std::size_t>(m)]);
  }

  static std::int64_t fgd_value(double before, double after) {
    const double x = (before - after) / 1000.0;
    return static_cast<std::int64_t>(100.0 / (1.0 + std::exp(-x)));  // truncated, as the simulator does
  }

  // FGD: 100·sigmoid((F_before − F_after)/1000), truncated. A share is tried on every device
  // with room (the first device with the highest score wins); other pods take the devices
  // with the least room that fits, lowest index first (the simulator's Sub).
  Score fgd_score(const TracePod& pod, std::int32_t m) {
    const MachineSlot& s = master_.machine_state(static_cast<std::size_t>(m));
    std::string key;  // the machine's state: machines in the same state score alike
    key.reserve(24 + 4 * s.gpu_free.size());
    const auto put = [&key](const auto& v) { key.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
    put(s.free_cpu);
    put(s.free_memory);
    for (std::size_t g = 0; g < s.gpu_free.size(); ++g) {
      put(s.gpu_free[g]);
      put(model_[static_cast<std::size_t>(m)][g]);
    }
    if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
    std::optional<double>& cached = f_before_[static_cast<std::size_t>(m)];
    if (!cached) cached = fragmentation(s.free_cpu, s.free_memory, s.gpu_free, m);
    const double before = *cached;
    const GpuAsk ask = ask_of(pod);
    std::vector<std::int32_t> after = s.gpu_free;
    Score out;
    if (ask.share()) {
      for (std::size_t g = 0; g < after.size(); ++g) {
        if (!allowed(pod, m, g) || after[g] < ask.milli) continue;
        after[g] -= ask.milli;
        const std::int64_t v =
            fgd_value(before, fragmentation(s.free_cpu - pod.cpu_milli, s.free_memory - pod.memory_mib, after, m));
        after[g] += ask.milli;
        if (out.device < 0 || v > out.value) out = {v, static_cast<std::int32_t>(g)};
      }
    } else {
      if (ask.count > 0) {
        std::vector<std::size_t> order(after.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return after[a] < after[b]; });
        std::int32_t left = ask.count;
        for (const std::size_t g : order) {
          if (left == 0) break;
          if (allowed(pod, m, g) && after[g] >= ask.milli) {
            after[g] -= ask.milli;
            --left;
          }
        }
      }
      out.value = fgd_value(before, fragmentation(s.free_cpu - pod.cpu_milli, s.free_memory - pod.memory_mib, after, m));
    }
    memo_.emplace(std::move(key), out);
    return out;
  }

  // BestFit: (1 − Σ_r 0.5 · (free_r − ask_r) / max_r) · 100 over CPU (max 128 cores) and the
  // machine's free GPU milli (max 8 GPUs), truncated; normalise() then rescales.
  [[nodiscard]] std::int64_t best_fit_score(const TracePod& pod, std::int32_t m) const {
    const MachineSlot& s = master_.machine_state(static_cast<std::size_t>(m));
    std::int64_t gpu_left = 0;
    for (const std::int32_t f : s.gpu_free) gpu_left += f;
    const double left = static_cast<double>(s.free_cpu - pod.cpu_milli) / 128000.0 * 0.5 +
                        static_cast<double>(gpu_left - pod.gpu_demand_milli()) / 8000.0 * 0.5;
    return static_cast<std::int64_t>((1.0 - left) * 100.0);
  }

  // The simulator's min-max normalisation (integer), which merges close scores into ties.
  void normalise() {
    std::int64_t hi = scores_.front().value;
    std::int64_t lo = hi;
    for (const Score& s : scores_) {
      hi = std::max(hi, s.value);
      lo = std::min(lo, s.value);
    }
    for (Score& s : scores_) s.value = hi == lo ? 0 : (s.value - lo) * kMaxScore / (hi - lo);
  }

  // GpuPacking: partly used devices first (50..100, higher the less room they keep), then
  // free devices of a used machine (33..49), then an idle machine (25..32). CPU-only pods: 0.
  [[nodiscard]] std::int64_t gpu_packing_score(const TracePod& pod, std::int32_t m) const {
    const GpuAsk ask = ask_of(pod);
    if (ask.count == 0) return 0;
    const MachineSlot& s = master_.machine_state(static_cast<std::size_t>(m));
    const auto devices = static_cast<std::int64_t>(s.gpu_free.size());
    std::int64_t idle = 0;
    for (const std::int32_t f : s.gpu_free) idle += f == kGpuMilliWhole ? 1 : 0;
    if (idle == devices) return std::max<std::int64_t>(kMaxScore / 3 - idle, idle);
    std::vector<std::size_t> order(s.gpu_free.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return s.gpu_free[a] < s.gpu_free[b]; });
    std::int64_t idle_used = 0;
    std::int64_t free_ratio = 0;  // Σ over the devices it would use of their free %, integer
    std::int32_t taken = 0;
    for (const std::size_t g : order) {
      if (taken == ask.count) break;
      if (s.gpu_free[g] < ask.milli) continue;
      ++taken;
      idle_used += s.gpu_free[g] == kGpuMilliWhole ? 1 : 0;
      free_ratio += std::int64_t{s.gpu_free[g]} * 100 / kGpuMilliWhole;
    }
    if (idle_used > 0) return std::max<std::int64_t>(kMaxScore / 2 - idle_used, kMaxScore / 3);
    return std::max<std::int64_t>(kMaxScore - free_ratio / 10, kMaxScore / 2);
  }

  const Atc23Input& input_;
  GreedyPolicy policy_;
  Master master_;
  std::vector<std::vector<std::int32_t>> model_;  // per machine, per device: model id
  std::vector<std::string> model_names_;
  FragmentationMeasure fragmentation_;
  std::vector<std::optional<double>> f_before_;  // per machine, while its state holds
  std::vector<std::int32_t> feasible_;
  std::vector<Score> scores_;
  std::unordered_map<std::string, Score> memo_;  // this pod's scores per machine state
};

}  // namespace

std::string_view to_string(GreedyPolicy p) {
  switch (p) {
    case GreedyPolicy::kFgd:
      return "fgd-greedy";
    case GreedyPolicy::kBestFit:
      return "best-fit";
    case GreedyPolicy::kGpuPacking:
      return "gpu-packing";
  }
  return "unknown";
}

std::optional<GreedyPolicy> parse_greedy_policy(std::string_view name) {
  for (const GreedyPolicy p : {GreedyPolicy::kFgd, GreedyPolicy::kBestFit, GreedyPolicy::kGpuPacking}) {
    if (to_string(p) == name) return p;
  }
  return std::nullopt;
}

FillRun run_greedy_fill(const Atc23Input& input, GreedyPolicy policy, const std::vector<WorkloadSpec>& workload,
                        const ReplayProgress& progress) {
  const auto t0 = Clock::now();
  FillRun run;
  run.policy = std::string(to_string(policy));
  run.batch = 1;
  if (std::string why = check_trace(Trace{input.machines, input.pods}); !why.empty()) {
    run.error = "invalid input: " + why;
    return run;
  }
  Greedy greedy(input, policy, workload);
  std::vector<FillEvent> events;
  events.reserve(input.pods.size());
  FillEvent e;
  for (std::size_t p = 0; p < input.pods.size(); ++p) {
    const std::int64_t demand = input.pods[p].gpu_demand_milli();
    e.arrived_milli += demand;
    if (greedy.place(static_cast<std::int32_t>(p))) {
      e.allocated_milli += demand;
      ++e.placed;
    } else {
      ++e.failed;
    }
    events.push_back(e);
    if (progress && (p % 256 == 255 || p + 1 == input.pods.size())) progress(p + 1, input.pods.size());
  }
  run.ok = true;
  measure_fill(run, events, input.capacity_gpu_milli);
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return run;
}

}  // namespace sluice
