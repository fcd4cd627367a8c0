// Seeded synthetic cluster snapshots, from 10 machines to 100,000 machines and millions of
// tasks: heterogeneous machines (CPU-only and GPU machines of several models) in racks
// and zones, jobs with a heavy-tailed size distribution whose tasks share one shape,
// priorities, a share of tasks with hard constraints (label selectors, GPU models) and soft
// preferences (machines, racks), and optionally tasks already running.
// The same parameters and seed always give the same snapshot, on every standard library.
#pragma once

#include <cstdint>

#include "sluice/snapshot.hpp"

namespace sluice {

struct SnapshotGenParams {
  std::int32_t machines = 100;
  std::int64_t tasks = 1000;           // total over all jobs (the last job is cut to fit)
  std::int32_t machines_per_rack = 40;
  std::int32_t racks_per_zone = 25;
  double gpu_machine_share = 0.25;     // share of machines that carry GPUs
  double gpu_task_share = 0.3;         // share of jobs whose tasks want GPUs
  double constrained_share = 0.1;      // share of jobs with a label selector or GPU model list
  double preference_share = 0.3;       // share of jobs whose tasks prefer machines/racks
  double running_share = 0.0;          // share of tasks placed as running (first fit)
  std::int32_t shape_catalogue = 0;    // > 0: jobs pick one of this many shapes (with their
                                       // constraints and preferences); 0: each job draws its own
  std::uint64_t seed = 1;
};

// Always returns a snapshot that passes validate().
[[nodiscard]] Snapshot generate_snapshot(const SnapshotGenParams& params);

}  // namespace sluice
