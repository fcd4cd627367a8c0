// Snapshot validation: the first offending record is named by its position and id, so a
// master can find it. Everything downstream (network building, repair) relies on these.
#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "sluice/snapshot.hpp"

namespace sluice {
namespace {

Validation invalid(std::string message) { return {Status::kInvalidInput, std::move(message)}; }

// Why an amount (CPU, memory, a named resource; capacity or demand) is out of range, or
// nullptr. The cost models compute 1000 · (capacity − free + demand), which fits 64 bits
// for amounts up to 2^50 (2^50 milli-cores is 10^12 cores; 2^50 MiB, an exbibyte).
const char* above_amount_range(std::int64_t amount) {
  return amount > kMaxResourceAmount ? " is above 2^50 (kMaxResourceAmount), the most any amount may be" : nullptr;
}

// Why a time is out of range, or nullptr: the wait time (time − submit_time) must fit 64 bits.
const char* out_of_time_range(std::int64_t t) {
  return t > kMaxTimeMagnitude || t < -kMaxTimeMagnitude ? " is outside ±2^62 (kMaxTimeMagnitude)" : nullptr;
}

std::string machine_label(std::size_t i, const Machine& m) {
  return "machines[" + std::to_string(i) + "] '" + m.id + "'";
}

std::string task_label(std::size_t j, std::size_t t, const Task& task) {
  return "jobs[" + std::to_string(j) + "].tasks[" + std::to_string(t) + "] '" + task.id + "'";
}

struct MachineInfo {
  std::size_t position = 0;
  const Machine* machine = nullptr;
  std::vector<std::int32_t> gpu_indexes;  // sorted: running tasks' devices are looked up here
};

// Open-addressing set of ids (string views into the snapshot) with a payload: one flat
// array, no node per entry. At 1M tasks std::unordered_map spent about 0.3 s allocating
// nodes; this takes a few tens of milliseconds.
template <class Payload>
class IdTable {
 public:
  explicit IdTable(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n + 1) cap <<= 1;
    slots_.resize(cap);
    mask_ = cap - 1;
  }
  // Inserts id; returns the payload of an existing equal id, or nullptr when it was new.
  const Payload* insert(std::string_view id, Payload payload) {
    const std::size_t h = std::hash<std::string_view>{}(id);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (!slot.used) {
        slot = Slot{true, h, id, payload};
        return nullptr;
      }
      if (slot.hash == h && slot.id == id) return &slot.payload;
    }
  }

 private:
  struct Slot {
    bool used = false;
    std::size_t hash = 0;
    std::string_view id;
    Payload payload{};
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

// Labels are built only when a record is refused: at 1M tasks, building one string per
// task cost more than every check together.
struct TaskPosition {
  std::uint32_t job = 0;
  std::uint32_t task = 0;
};

}  // namespace

std::size_t Snapshot::task_count() const {
  std::size_t n = 0;
  for (const Job& job : jobs) n += job.tasks.size();
  return n;
}

Validation validate(const Snapshot& snapshot) { return validate(snapshot, SnapshotLimits{}); }

Validation validate(const Snapshot& snapshot, const SnapshotLimits& limits) {
  return validate(snapshot, limits, nullptr);
}

Validation validate(const Snapshot& snapshot, const SnapshotLimits& limits, const std::atomic<bool>* cancel) {
  // Checked every 4096 machines and tasks: a raised flag ends validation at once.
  std::size_t records = 0;
  const auto cancelled = [&] {
    return (++records & 4095) == 0 && cancel != nullptr && cancel->load(std::memory_order_relaxed);
  };
  const Validation stopped{Status::kCancelled, "cancelled during validation"};
  // What is wrong with a string, or nullptr. No string may hold a NUL byte: the JSON writer
  // cuts map keys at one and the JSON reader cuts strings at one, so such a snapshot would
  // not survive its JSON form (found by fuzz/snapshot_binary_fuzz).
  const auto bad_text = [&](const std::string& s) -> const char* {
    if (static_cast<std::int64_t>(s.size()) > limits.max_string_bytes) return " too long";
    if (s.find('\0') != std::string::npos) return " holds a NUL byte";
    return nullptr;
  };
  const auto first_bad = [&](std::initializer_list<const std::string*> list) -> const char* {
    for (const std::string* s : list) {
      if (const char* why = bad_text(*s)) return why;
    }
    return nullptr;
  };
  if (static_cast<std::int64_t>(snapshot.machines.size()) > limits.max_machines) {
    return invalid("snapshot too large: " + std::to_string(snapshot.machines.size()) +
                   " machines (limit " + std::to_string(limits.max_machines) + ")");
  }
  if (static_cast<std::int64_t>(snapshot.task_count()) > limits.max_tasks) {
    return invalid("snapshot too large: " + std::to_string(snapshot.task_count()) + " tasks (limit " +
                   std::to_string(limits.max_tasks) + ")");
  }
  if (static_cast<std::int64_t>(snapshot.jobs.size()) > limits.max_jobs) {
    return invalid("snapshot too large: " + std::to_string(snapshot.jobs.size()) + " jobs (limit " +
                   std::to_string(limits.max_jobs) + ")");
  }
  if (const char* why = out_of_time_range(snapshot.time)) return invalid("time " + std::to_string(snapshot.time) + why);
  std::int64_t most_preference_weight = 0;  // of one task, its weights together

  // 1. Machines: unique ids, sane capacities, free within capacity, GPUs well formed.
  std::unordered_map<std::string_view, MachineInfo> machines;
  std::unordered_set<std::string_view> racks;
  machines.reserve(snapshot.machines.size());
  for (std::size_t i = 0; i < snapshot.machines.size(); ++i) {
    const Machine& m = snapshot.machines[i];
    if (cancelled()) return stopped;
    const auto label = [&] { return machine_label(i, m); };
    if (m.id.empty()) return invalid("machines[" + std::to_string(i) + "]: empty id");
    if (const char* why = first_bad({&m.id, &m.rack, &m.zone})) return invalid(label() + ": id, rack or zone" + why);
    const auto [it, inserted] = machines.emplace(m.id, MachineInfo{i, &m, {}});
    if (!inserted) {
      return invalid(label() + ": duplicate machine id (first at machines[" + std::to_string(it->second.position) + "])");
    }
    racks.insert(m.rack);
    if (m.cpu_milli < 0 || m.memory_mib < 0) return invalid(label() + ": negative capacity");
    if (const char* why = above_amount_range(m.cpu_milli)) return invalid(label() + ": cpu_milli " + std::to_string(m.cpu_milli) + why);
    if (const char* why = above_amount_range(m.memory_mib)) {
      return invalid(label() + ": memory_mib " + std::to_string(m.memory_mib) + why);
    }
    if (m.free_cpu_milli < 0 || m.free_cpu_milli > m.cpu_milli) {
      return invalid(label() + ": free_cpu_milli " + std::to_string(m.free_cpu_milli) + " outside [0, cpu_milli " +
                     std::to_string(m.cpu_milli) + "]");
    }
    if (m.free_memory_mib < 0 || m.free_memory_mib > m.memory_mib) {
      return invalid(label() + ": free_memory_mib " + std::to_string(m.free_memory_mib) + " outside [0, memory_mib " +
                     std::to_string(m.memory_mib) + "]");
    }
    if (static_cast<std::int64_t>(m.gpus.size()) > limits.max_gpus_per_machine) {
      return invalid(label() + ": " + std::to_string(m.gpus.size()) + " GPUs (limit " +
                     std::to_string(limits.max_gpus_per_machine) + ")");
    }
    std::vector<std::int32_t>& indexes = it->second.gpu_indexes;
    for (const Gpu& gpu : m.gpus) indexes.push_back(gpu.index);
    std::sort(indexes.begin(), indexes.end());
    const bool repeated = std::adjacent_find(indexes.begin(), indexes.end()) != indexes.end();
    for (std::size_t g = 0; g < m.gpus.size(); ++g) {
      const Gpu& gpu = m.gpus[g];
      const auto gat = [&] { return label() + ".gpus[" + std::to_string(g) + "]"; };
      if (gpu.index < 0) return invalid(gat() + ": negative index " + std::to_string(gpu.index));
      if (repeated) {  // name the first repeat (rare: only then the quadratic search)
        for (std::size_t h = 0; h < g; ++h) {
          if (m.gpus[h].index == gpu.index) return invalid(gat() + ": duplicate GPU index " + std::to_string(gpu.index));
        }
      }
      if (gpu.free_milli < 0 || gpu.free_milli > kGpuMilliWhole) {
        return invalid(gat() + ": free_milli " + std::to_string(gpu.free_milli) + " outside [0, 1000]");
      }
      if (const char* why = bad_text(gpu.model)) return invalid(gat() + ": model name" + why);
    }
    for (const auto& [name, cap] : m.extra_capacity) {
      if (const char* why = bad_text(name)) return invalid(label() + ": resource name" + why);
      if (cap < 0) return invalid(label() + ": negative capacity of '" + name + "'");
      if (const char* why = above_amount_range(cap)) {
        return invalid(label() + ": capacity of '" + name + "' " + std::to_string(cap) + why);
      }
    }
    for (const auto& [name, free] : m.extra_free) {
      const auto cap = m.extra_capacity.find(name);
      if (cap == m.extra_capacity.end()) return invalid(label() + ": free amount of '" + name + "' without a capacity");
      if (free < 0 || free > cap->second) {
        return invalid(label() + ": free '" + name + "' " + std::to_string(free) + " outside [0, " +
                       std::to_string(cap->second) + "]");
      }
    }
    for (const auto& [key, value] : m.labels) {
      if (const char* why = first_bad({&key, &value})) return invalid(label() + ": label" + why);
    }
  }

  // 2. Jobs and tasks: unique ids, sane demands, preferences that exist, running tasks
  //    placed on machines and GPUs that exist.
  std::unordered_map<std::string_view, std::size_t> jobs;
  IdTable<TaskPosition> tasks(snapshot.task_count());  // id -> where first seen
  jobs.reserve(snapshot.jobs.size());
  std::vector<std::int32_t> held;
  std::vector<std::int32_t> priorities;
  priorities.reserve(snapshot.jobs.size());
  for (std::size_t j = 0; j < snapshot.jobs.size(); ++j) {
    const Job& job = snapshot.jobs[j];
    const auto jat = [&] { return "jobs[" + std::to_string(j) + "] '" + job.id + "'"; };
    if (job.id.empty()) return invalid("jobs[" + std::to_string(j) + "]: empty id");
    if (const char* why = bad_text(job.id)) return invalid(jat() + ": id" + why);
    if (const auto [it, inserted] = jobs.emplace(job.id, j); !inserted) {
      return invalid(jat() + ": duplicate job id (first at jobs[" + std::to_string(it->second) + "])");
    }
    if (const char* why = out_of_time_range(job.submit_time)) {
      return invalid(jat() + ": submit_time " + std::to_string(job.submit_time) + why);
    }
    priorities.push_back(job.priority);
    for (std::size_t t = 0; t < job.tasks.size(); ++t) {
      const Task& task = job.tasks[t];
      if (cancelled()) return stopped;
      const auto at = [&] { return task_label(j, t, task); };
      if (task.id.empty()) return invalid("jobs[" + std::to_string(j) + "].tasks[" + std::to_string(t) + "]: empty id");
      if (const char* why = first_bad({&task.id, &task.machine})) return invalid(at() + ": id or machine" + why);
      if (const TaskPosition* seen =
              tasks.insert(task.id, TaskPosition{static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(t)})) {
        const TaskPosition first = *seen;
        return invalid(at() + ": duplicate task id (first at " +
                       task_label(first.job, first.task, snapshot.jobs[first.job].tasks[first.task]) + ")");
      }
      if (task.cpu_milli < 0 || task.memory_mib < 0) return invalid(at() + ": negative demand");
      if (const char* why = above_amount_range(task.cpu_milli)) {
        return invalid(at() + ": cpu_milli " + std::to_string(task.cpu_milli) + why);
      }
      if (const char* why = above_amount_range(task.memory_mib)) {
        return invalid(at() + ": memory_mib " + std::to_string(task.memory_mib) + why);
      }
      if (task.gpus < 0 || task.gpus > limits.max_gpus_per_machine) {
        return invalid(at() + ": gpus " + std::to_string(task.gpus) + " outside [0, " +
                       std::to_string(limits.max_gpus_per_machine) + "]");
      }
      if (task.gpu_milli < 0 || task.gpu_milli > kGpuMilliWhole) {
        return invalid(at() + ": gpu_milli " + std::to_string(task.gpu_milli) + " outside [0, 1000]");
      }
      if (task.gpus > 0 && task.gpu_milli > 0) {
        return invalid(at() + ": asks for whole GPUs and a GPU share at once");
      }
      for (const auto& [name, amount] : task.extra) {
        if (const char* why = bad_text(name)) return invalid(at() + ": resource name" + why);
        if (amount < 0) return invalid(at() + ": negative demand of '" + name + "'");
        if (const char* why = above_amount_range(amount)) {
          return invalid(at() + ": demand of '" + name + "' " + std::to_string(amount) + why);
        }
      }
      for (const auto& model : task.gpu_models) {
        if (const char* why = bad_text(model)) return invalid(at() + ": GPU model name" + why);
      }
      for (const auto& [key, value] : task.selector) {
        if (const char* why = first_bad({&key, &value})) return invalid(at() + ": selector" + why);
      }
      // A placement's cost is lowered by the weights of every preference it meets, so the
      // task's weights together are held to max_preference_weight (step 3 relies on it).
      std::int64_t weights = 0;
      const auto weigh = [&](const Preference& p, const char* kind) -> std::string {
        if (p.weight < 0) return ": negative preference weight for " + std::string(kind) + " '" + p.target + "'";
        if (p.weight > limits.max_preference_weight - weights) {
          return ": preference weight " + std::to_string(p.weight) + " for " + kind + " '" + p.target +
                 "' brings the task's weights past max_preference_weight (" +
                 std::to_string(limits.max_preference_weight) + ")";
        }
        weights += p.weight;
        return {};
      };
      for (const Preference& p : task.preferred_machines) {
        if (std::string why = weigh(p, "machine"); !why.empty()) return invalid(at() + why);
        if (!machines.count(p.target)) return invalid(at() + ": prefers unknown machine '" + p.target + "'");
      }
      for (const Preference& p : task.preferred_racks) {
        if (std::string why = weigh(p, "rack"); !why.empty()) return invalid(at() + why);
        if (!racks.count(p.target)) return invalid(at() + ": prefers unknown rack '" + p.target + "'");
      }
      most_preference_weight = std::max(most_preference_weight, weights);
      if (task.state == TaskState::kPending) {
        if (!task.machine.empty() || !task.gpu_indexes.empty()) {
          return invalid(at() + ": pending but names a machine or GPU indexes");
        }
        continue;
      }
      const auto placed = machines.find(task.machine);
      if (placed == machines.end()) return invalid(at() + ": running on unknown machine '" + task.machine + "'");
      const std::size_t wanted = task.gpus > 0 ? static_cast<std::size_t>(task.gpus) : (task.gpu_milli > 0 ? 1 : 0);
      if (task.gpu_indexes.size() != wanted) {
        return invalid(at() + ": holds " + std::to_string(task.gpu_indexes.size()) + " GPU indexes but needs " +
                       std::to_string(wanted));
      }
      const std::vector<std::int32_t>& present = placed->second.gpu_indexes;
      held.assign(task.gpu_indexes.begin(), task.gpu_indexes.end());
      std::sort(held.begin(), held.end());
      const bool twice = std::adjacent_find(held.begin(), held.end()) != held.end();
      for (std::size_t k = 0; k < task.gpu_indexes.size(); ++k) {
        const std::int32_t index = task.gpu_indexes[k];
        if (!std::binary_search(present.begin(), present.end(), index)) {
          return invalid(at() + ": holds GPU " + std::to_string(index) + " that machine '" + task.machine + "' lacks");
        }
        if (twice && std::find(task.gpu_indexes.begin(), task.gpu_indexes.begin() + static_cast<std::ptrdiff_t>(k),
                               index) != task.gpu_indexes.begin() + static_cast<std::ptrdiff_t>(k)) {
          return invalid(at() + ": holds GPU " + std::to_string(index) + " twice");
        }
      }
    }
  }

  // 3. The network's costs fit the solver by construction. An arc of the allocation
  //    network (network_builder.cpp, cost_models.hpp) costs, in absolute value, at most:
  //      placement    413,696           fgd and alloc: (100 − FGD's score) · 4,096 plus a
  //                                     0..4,095 tie-break; the other models price 0..1,750
  //      − preference ≤ W               a task's weights together (max_preference_weight)
  //      + migration  ≤ kMaxMigrationCost
  //      unscheduled  ≤ max(1,005,000, 10,000·(P + 1), 13,239,508,992)   quincy's wait term
  //                                     (capped at 10,000 steps); the priority model's rank
  //                                     among P distinct job priorities; alloc's worth of a
  //                                     task: 413,696 per milli-GPU up to 32 GPUs, plus 827,392,
  //                                     plus at most 409,600 for its priority (10 steps of
  //                                     40,960; spread's, pack's and fgd's are below 1,005,000)
  //      preemption   ≤ unscheduled + 1,000,000
  //    so max|cost| ≤ C = 413,696 + W + kMaxMigrationCost + max(…) + 1,000,000. The network
  //    has n ≤ 2·machines + jobs + 2·tasks + 2 nodes (the sink; machines; one node per shape
  //    or running group and, unaggregated, one per task; jobs and the second machine term
  //    are slack kept from earlier formulations). The CPU solver scales costs by n + 1 and
  //    refuses when max|cost|·(n + 1) > 2^61; this asks for 2^60, leaving the prices room
  //    to move during scaling.
  //    At the default limits (W = 10^6, P ≤ 10^6 jobs, 10^6 machines, 2·10^7 tasks):
  //    C ≤ 1.43·10^10 and n + 1 ≤ 4.3·10^7, so C·(n + 1) ≤ 6.2·10^17 < 2^60
  //    (1.15·10^18): every snapshot within the default limits passes; only raised limits
  //    can trip this check, and then it names the figures instead of the solver failing.
  std::sort(priorities.begin(), priorities.end());
  const auto distinct_priorities =
      static_cast<std::int64_t>(std::unique(priorities.begin(), priorities.end()) - priorities.begin());
  const __int128 unscheduled =
      std::max({__int128{1'005'000}, __int128{10'000} * (distinct_priorities + 1), __int128{13'239'508'992}});
  const __int128 max_cost =
      __int128{413'696} + most_preference_weight + kMaxMigrationCost + unscheduled + 1'000'000;
  const __int128 nodes = 2 * static_cast<__int128>(snapshot.machines.size()) +
                         static_cast<__int128>(snapshot.jobs.size()) +
                         2 * static_cast<__int128>(snapshot.task_count()) + 2;
  if (max_cost * (nodes + 1) > (__int128{1} << 60)) {
    return invalid("snapshot too large for the solver's 64-bit costs: " + std::to_string(snapshot.machines.size()) +
                   " machines, " + std::to_string(snapshot.jobs.size()) + " jobs with " +
                   std::to_string(distinct_priorities) + " distinct priorities, " +
                   std::to_string(snapshot.task_count()) + " tasks and preference weights up to " + std::to_string(most_preference_weight) +
                   " per task give arc costs up to " + std::to_string(static_cast<std::int64_t>(max_cost)) +
                   " on up to " + std::to_string(static_cast<std::int64_t>(nodes)) +
                   " nodes, past 2^60 once scaled; use fewer jobs, distinct priorities or tasks");
  }
  return {};
}

}  // namespace sluice
