// Synthetic snapshots for tests and benchmarks (see include/sluice/snapshot_generator.hpp).
//
// Machines come in four kinds, drawn with fixed weights: CPU-small (32 cores, 128 GiB),
// CPU-large (96 cores, 384 GiB), GPU "V100" (8 devices, 64 cores, 368 GiB) and GPU "A100"
// (8 devices, 128 cores, 1 TiB); GPU machines make up gpu_machine_share. Labels: "kind",
// "zone", and "ssd"="true" on one machine in three (with an "ssd_gib" extra resource).
// With shape_catalogue > 0, jobs pick from a fixed menu of that many shapes (as clusters
// with standard container sizes do), so identical tasks recur across jobs.
// Job sizes follow a truncated power law (P(size >= s) ~ 1/s, 1..5000 tasks), so most jobs
// are small and a few are very large, as in production traces. All tasks of a job share
// one shape, constraints and preferences, so identical tasks can be aggregated.
// Running tasks are placed first fit from a random machine, consuming free resources and
// specific GPU devices, so the snapshot's free amounts stay consistent.
#include "sluice/snapshot_generator.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "random.hpp"

namespace sluice {
namespace {

using detail::Rng;

struct MachineKind {
  const char* name;
  std::int64_t cpu_milli;
  std::int64_t memory_mib;
  std::int32_t gpus;
  const char* gpu_model;
};

constexpr MachineKind kCpuSmall{"cpu-small", 32000, 131072, 0, ""};
constexpr MachineKind kCpuLarge{"cpu-large", 96000, 393216, 0, ""};
constexpr MachineKind kGpuV100{"gpu-v100", 64000, 376832, 8, "V100"};
constexpr MachineKind kGpuA100{"gpu-a100", 128000, 1048576, 8, "A100"};

bool chance(Rng& rng, double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return static_cast<double>(rng.below(1'000'000)) < p * 1'000'000.0;
}

std::string padded(const char* prefix, std::int64_t i, int width) {
  std::string digits = std::to_string(i);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  return prefix + digits;
}

// P(size >= s) ~ 1/s on [1, max]: inverse transform of a uniform draw.
std::int64_t job_size(Rng& rng, std::int64_t max_size) {
  const double u = (static_cast<double>(rng.below(1'000'000)) + 1.0) / 1'000'001.0;
  const auto s = static_cast<std::int64_t>(1.0 / u);
  return std::clamp<std::int64_t>(s, 1, max_size);
}

// Tries to place `task` on machine m (first fit of GPUs); on success records the
// placement and consumes the resources.
bool try_place(Task& task, Machine& m) {
  if (task.cpu_milli > m.free_cpu_milli || task.memory_mib > m.free_memory_mib) return false;
  for (const auto& [key, value] : task.selector) {
    const auto label = m.labels.find(key);
    if (label == m.labels.end() || label->second != value) return false;
  }
  const auto model_ok = [&](const Gpu& gpu) {
    return task.gpu_models.empty() ||
           std::find(task.gpu_models.begin(), task.gpu_models.end(), gpu.model) != task.gpu_models.end();
  };
  std::vector<std::size_t> chosen;
  if (task.gpus > 0) {
    for (std::size_t g = 0; g < m.gpus.size() && static_cast<std::int32_t>(chosen.size()) < task.gpus; ++g) {
      if (m.gpus[g].free_milli == kGpuMilliWhole && model_ok(m.gpus[g])) chosen.push_back(g);
    }
    if (static_cast<std::int32_t>(chosen.size()) < task.gpus) return false;
  } else if (task.gpu_milli > 0) {
    for (std::size_t g = 0; g < m.gpus.size(); ++g) {
      if (m.gpus[g].free_milli >= task.gpu_milli && model_ok(m.gpus[g])) {
        chosen.push_back(g);
        break;
      }
    }
    if (chosen.empty()) return false;
  }
  for (const auto& [name, amount] : task.extra) {
    const auto free = m.extra_free.find(name);
    if (free == m.extra_free.end() || free->second < amount) return false;
  }
  m.free_cpu_milli -= task.cpu_milli;
  m.free_memory_mib -= task.memory_mib;
  for (const auto& [name, amount] : task.extra) m.extra_free[name] -= amount;
  for (const std::size_t g : chosen) {
    m.gpus[g].free_milli -= task.gpus > 0 ? kGpuMilliWhole : task.gpu_milli;
    task.gpu_indexes.push_back(m.gpus[g].index);
  }
  task.state = TaskState::kRunning;
  task.machine = m.id;
  return true;
}

}  // namespace

Snapshot generate_snapshot(const SnapshotGenParams& params) {
  Rng rng(params.seed);
  Snapshot s;
  s.version = 1;
  s.time = 0;
  const std::int32_t n_machines = std::max(1, params.machines);
  const std::int32_t per_rack = std::max(1, params.machines_per_rack);
  const std::int32_t racks_per_zone = std::max(1, params.racks_per_zone);

  // 1. Machines.
  s.machines.reserve(static_cast<std::size_t>(n_machines));
  for (std::int32_t i = 0; i < n_machines; ++i) {
    const std::int32_t rack = i / per_rack;
    const bool gpu = chance(rng, params.gpu_machine_share);
    const MachineKind& kind = gpu ? (rng.below(2) == 0 ? kGpuV100 : kGpuA100)
                                  : (rng.below(3) == 0 ? kCpuLarge : kCpuSmall);
    Machine m;
    m.id = padded("m", i, 6);
    m.rack = padded("rack-", rack, 4);
    m.zone = padded("zone-", rack / racks_per_zone, 2);
    m.cpu_milli = m.free_cpu_milli = kind.cpu_milli;
    m.memory_mib = m.free_memory_mib = kind.memory_mib;
    for (std::int32_t g = 0; g < kind.gpus; ++g) m.gpus.push_back(Gpu{g, kind.gpu_model, kGpuMilliWhole});
    m.labels["kind"] = kind.name;
    m.labels["zone"] = m.zone;
    if (i % 3 == 0) {
      m.labels["ssd"] = "true";
      m.extra_capacity["ssd_gib"] = m.extra_free["ssd_gib"] = 1800;
    }
    s.machines.push_back(std::move(m));
  }
  const std::int32_t n_racks = (n_machines + per_rack - 1) / per_rack;

  const auto draw_shape = [&] {
    Task shape;
    shape.cpu_milli = 250 * rng.range(1, 32);     // 0.25 .. 8 cores
    shape.memory_mib = 512 * rng.range(1, 64);    // 0.5 .. 32 GiB
    if (chance(rng, params.gpu_task_share)) {
      if (rng.below(2) == 0) {
        shape.gpu_milli = static_cast<std::int32_t>(50 * rng.range(1, 19));  // a share of one GPU
      } else {
        shape.gpus = static_cast<std::int32_t>(std::int64_t{1} << rng.below(4));  // 1, 2, 4 or 8
      }
    }
    if (chance(rng, params.constrained_share)) {
      if (shape.gpus > 0 || shape.gpu_milli > 0) {
        shape.gpu_models = {rng.below(2) == 0 ? "V100" : "A100"};
      } else {
        shape.selector["ssd"] = "true";
        shape.extra["ssd_gib"] = 100 * rng.range(1, 4);
      }
    }
    if (chance(rng, params.preference_share)) {
      const std::int64_t machine_prefs = rng.range(1, 3);
      for (std::int64_t k = 0; k < machine_prefs; ++k) {
        const std::string target = s.machines[static_cast<std::size_t>(rng.index(n_machines))].id;
        bool seen = false;
        for (const auto& p : shape.preferred_machines) seen = seen || p.target == target;
        if (!seen) shape.preferred_machines.push_back({target, rng.range(10, 500)});
      }
      shape.preferred_racks.push_back({padded("rack-", rng.index(n_racks), 4), rng.range(5, 200)});
    }
    return shape;
  };
  std::vector<Task> catalogue;  // a fixed menu of shapes, when asked for one
  for (std::int32_t k = 0; k < params.shape_catalogue; ++k) catalogue.push_back(draw_shape());

  // 2. Jobs of identical tasks, until the task budget is spent.
  const std::int64_t total = std::max<std::int64_t>(0, params.tasks);
  std::int64_t made = 0;
  for (std::int64_t j = 0; made < total; ++j) {
    Job job;
    job.id = padded("job-", j, 7);
    job.priority = static_cast<std::int32_t>(rng.below(10));
    job.submit_time = rng.range(0, 86400);
    const std::int64_t size = std::min(job_size(rng, 5000), total - made);

    const Task shape = params.shape_catalogue > 0
                           ? catalogue[static_cast<std::size_t>(rng.index(static_cast<std::int32_t>(catalogue.size())))]
                           : draw_shape();
    job.tasks.reserve(static_cast<std::size_t>(size));
    for (std::int64_t t = 0; t < size; ++t) {
      Task task = shape;
      task.id = job.id + "-" + std::to_string(t);
      job.tasks.push_back(std::move(task));
    }
    made += size;
    s.jobs.push_back(std::move(job));
  }

  // 3. A share of the tasks already running: first fit from a random machine.
  if (params.running_share > 0) {
    for (Job& job : s.jobs) {
      for (Task& task : job.tasks) {
        if (!chance(rng, params.running_share)) continue;
        const std::int32_t start = rng.index(n_machines);
        for (std::int32_t k = 0; k < std::min(n_machines, 64); ++k) {
          Machine& m = s.machines[static_cast<std::size_t>((start + k) % n_machines)];
          if (try_place(task, m)) break;
        }
      }
    }
  }
  return s;
}

}  // namespace sluice
