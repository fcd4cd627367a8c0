// A cluster snapshot, as a master sends it each scheduling round: machines with their
// topology, capacities and what is free now, and jobs whose tasks are pending or running.
// Plain data (std types only); encoding lives in snapshot_io.hpp, checks in validate().
//
// Units: CPU in milli-cores, memory in MiB, GPU shares in thousandths of one device
// (1000 = a whole GPU). Free amounts are what remains after the running tasks in this
// snapshot, as the master accounts them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sluice/network.hpp"  // Validation

namespace sluice {

inline constexpr std::int32_t kGpuMilliWhole = 1000;

struct Gpu {
  std::int32_t index = 0;        // device index on its machine, unique there
  std::string model;             // e.g. "V100M16"; matched against Task::gpu_models
  std::int32_t free_milli = kGpuMilliWhole;  // 0..1000 still free on this device
};

struct Machine {
  std::string id;
  std::string rack;  // topology: machines of a rack share a rack aggregator
  std::string zone;
  std::int64_t cpu_milli = 0;        // capacity
  std::int64_t memory_mib = 0;
  std::int64_t free_cpu_milli = 0;   // free now
  std::int64_t free_memory_mib = 0;
  std::vector<Gpu> gpus;
  std::map<std::string, std::int64_t> extra_capacity;  // named resources, e.g. "ssd_gib"
  std::map<std::string, std::int64_t> extra_free;
  std::map<std::string, std::string> labels;
};

struct Preference {
  std::string target;      // a machine id (preferred_machines) or a rack (preferred_racks)
  std::int64_t weight = 0;  // cost reduction when placed there; >= 0, see max_preference_weight
};

enum class TaskState { kPending, kRunning };

struct Task {
  std::string id;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;
  std::int32_t gpus = 0;        // whole GPUs (distinct devices)
  std::int32_t gpu_milli = 0;   // share of one GPU, 1..1000, when gpus == 0
  std::vector<std::string> gpu_models;            // allowed models; empty = any
  std::map<std::string, std::int64_t> extra;      // demand of named resources
  std::map<std::string, std::string> selector;    // hard: machine labels that must match
  std::vector<Preference> preferred_machines;     // soft
  std::vector<Preference> preferred_racks;        // soft
  TaskState state = TaskState::kPending;
  std::string machine;                 // when running
  std::vector<std::int32_t> gpu_indexes;  // when running: the devices it holds
};

struct Job {
  std::string id;
  std::int32_t priority = 0;   // higher wins
  std::int64_t submit_time = 0;  // seconds
  std::vector<Task> tasks;
};

struct Snapshot {
  std::int64_t version = 0;  // the master's snapshot version, echoed in replies
  std::int64_t time = 0;     // the master's clock, seconds
  std::vector<Machine> machines;
  std::vector<Job> jobs;

  [[nodiscard]] std::size_t task_count() const;
};

// Checks a snapshot and names the first offending record: duplicate machine, job or task
// ids; GPU indexes repeated on a machine; negative or out-of-range amounts (free above
// capacity, GPU share outside 0..1000, task GPU share above 1000 or combined with whole
// GPUs, amounts above kMaxResourceAmount, times outside ±kMaxTimeMagnitude); a running task
// on an unknown machine or on GPU indexes its machine lacks; preferences naming unknown
// machines or racks, negative weights, or a task's weights summing past
// max_preference_weight; sizes past limits; a snapshot so large that its network's costs
// would not fit the solver's 64-bit range. Returns kInvalidInput (with the message) or ok.
[[nodiscard]] Validation validate(const Snapshot& snapshot);

// Ranges of the numbers that feed costs (docs/snapshot.md#ranges). They keep the cost
// models' arithmetic (1000 · amount, time differences) inside 64 bits.
inline constexpr std::int64_t kMaxResourceAmount = std::int64_t{1} << 50;  // CPU, memory, named resources
inline constexpr std::int64_t kMaxTimeMagnitude = std::int64_t{1} << 62;   // |time|, |submit_time|
// The most a request's migration_cost may be (the protocol refuses more; docs/protocol.md).
inline constexpr std::int64_t kMaxMigrationCost = 1'000'000;

// Size limits a snapshot must respect (a snapshot past them is refused, not truncated).
struct SnapshotLimits {
  std::int64_t max_machines = 1'000'000;
  std::int64_t max_tasks = 20'000'000;
  std::int64_t max_jobs = 1'000'000;
  std::int64_t max_gpus_per_machine = 1024;
  std::int64_t max_string_bytes = 4096;
  // The sum of one task's preference weights (machines and racks): the most a placement's
  // cost can be lowered, about a thousand times what the cost models' load terms span.
  std::int64_t max_preference_weight = 1'000'000;
};
[[nodiscard]] Validation validate(const Snapshot& snapshot, const SnapshotLimits& limits);
// The same, looking at `cancel` every few thousand machines and tasks: when it is raised the
// result is Status::kCancelled ("cancelled during validation"), for the service's deadlines.
[[nodiscard]] Validation validate(const Snapshot& snapshot, const SnapshotLimits& limits,
                                  const std::atomic<bool>* cancel);

}  // namespace sluice
