// Snapshot validation: the first offending record is named by its position and id, so a
// master can find it. Everything downstream (network building, repair) relies on these.
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sluice/snapshot.hpp"

namespace sluice {
namespace {

Validation invalid(std::string message) { return {Status::kInvalidInput, std::move(message)}; }

std::string machine_label(std::size_t i, const Machine& m) {
  return "machines[" + std::to_string(i) + "] '" + m.id + "'";
}

std::string task_label(std::size_t j, std::size_t t, const Task& task) {
  return "jobs[" + std::to_string(j) + "].tasks[" + std::to_string(t) + "] '" + task.id + "'";
}

struct MachineInfo {
  std::size_t position = 0;
  const Machine* machine = nullptr;
};

}  // namespace

std::size_t Snapshot::task_count() const {
  std::size_t n = 0;
  for (const Job& job : jobs) n += job.tasks.size();
  return n;
}

Validation validate(const Snapshot& snapshot) { return validate(snapshot, SnapshotLimits{}); }

Validation validate(const Snapshot& snapshot, const SnapshotLimits& limits) {
  const auto too_long = [&](const std::string& s) {
    return static_cast<std::int64_t>(s.size()) > limits.max_string_bytes;
  };
  if (static_cast<std::int64_t>(snapshot.machines.size()) > limits.max_machines) {
    return invalid("snapshot too large: " + std::to_string(snapshot.machines.size()) +
                   " machines (limit " + std::to_string(limits.max_machines) + ")");
  }
  if (static_cast<std::int64_t>(snapshot.task_count()) > limits.max_tasks) {
    return invalid("snapshot too large: " + std::to_string(snapshot.task_count()) + " tasks (limit " +
                   std::to_string(limits.max_tasks) + ")");
  }

  // 1. Machines: unique ids, sane capacities, free within capacity, GPUs well formed.
  std::unordered_map<std::string, MachineInfo> machines;
  std::unordered_set<std::string> racks;
  machines.reserve(snapshot.machines.size());
  for (std::size_t i = 0; i < snapshot.machines.size(); ++i) {
    const Machine& m = snapshot.machines[i];
    const std::string at = machine_label(i, m);
    if (m.id.empty()) return invalid("machines[" + std::to_string(i) + "]: empty id");
    if (too_long(m.id) || too_long(m.rack) || too_long(m.zone)) return invalid(at + ": id, rack or zone too long");
    const auto [it, inserted] = machines.emplace(m.id, MachineInfo{i, &m});
    if (!inserted) {
      return invalid(at + ": duplicate machine id (first at machines[" + std::to_string(it->second.position) + "])");
    }
    racks.insert(m.rack);
    if (m.cpu_milli < 0 || m.memory_mib < 0) return invalid(at + ": negative capacity");
    if (m.free_cpu_milli < 0 || m.free_cpu_milli > m.cpu_milli) {
      return invalid(at + ": free_cpu_milli " + std::to_string(m.free_cpu_milli) + " outside [0, cpu_milli " +
                     std::to_string(m.cpu_milli) + "]");
    }
    if (m.free_memory_mib < 0 || m.free_memory_mib > m.memory_mib) {
      return invalid(at + ": free_memory_mib " + std::to_string(m.free_memory_mib) + " outside [0, memory_mib " +
                     std::to_string(m.memory_mib) + "]");
    }
    if (static_cast<std::int64_t>(m.gpus.size()) > limits.max_gpus_per_machine) {
      return invalid(at + ": " + std::to_string(m.gpus.size()) + " GPUs (limit " +
                     std::to_string(limits.max_gpus_per_machine) + ")");
    }
    std::unordered_set<std::int32_t> indexes;
    for (std::size_t g = 0; g < m.gpus.size(); ++g) {
      const Gpu& gpu = m.gpus[g];
      const std::string gat = at + ".gpus[" + std::to_string(g) + "]";
      if (gpu.index < 0) return invalid(gat + ": negative index " + std::to_string(gpu.index));
      if (!indexes.insert(gpu.index).second) return invalid(gat + ": duplicate GPU index " + std::to_string(gpu.index));
      if (gpu.free_milli < 0 || gpu.free_milli > kGpuMilliWhole) {
        return invalid(gat + ": free_milli " + std::to_string(gpu.free_milli) + " outside [0, 1000]");
      }
      if (too_long(gpu.model)) return invalid(gat + ": model name too long");
    }
    for (const auto& [name, cap] : m.extra_capacity) {
      if (cap < 0) return invalid(at + ": negative capacity of '" + name + "'");
    }
    for (const auto& [name, free] : m.extra_free) {
      const auto cap = m.extra_capacity.find(name);
      if (cap == m.extra_capacity.end()) return invalid(at + ": free amount of '" + name + "' without a capacity");
      if (free < 0 || free > cap->second) {
        return invalid(at + ": free '" + name + "' " + std::to_string(free) + " outside [0, " +
                       std::to_string(cap->second) + "]");
      }
    }
    for (const auto& [key, value] : m.labels) {
      if (too_long(key) || too_long(value)) return invalid(at + ": label too long");
    }
  }

  // 2. Jobs and tasks: unique ids, sane demands, preferences that exist, running tasks
  //    placed on machines and GPUs that exist.
  std::unordered_map<std::string, std::size_t> jobs;
  std::unordered_map<std::string, std::string> tasks;  // id -> where first seen
  jobs.reserve(snapshot.jobs.size());
  tasks.reserve(snapshot.task_count());
  for (std::size_t j = 0; j < snapshot.jobs.size(); ++j) {
    const Job& job = snapshot.jobs[j];
    const std::string jat = "jobs[" + std::to_string(j) + "] '" + job.id + "'";
    if (job.id.empty()) return invalid("jobs[" + std::to_string(j) + "]: empty id");
    if (too_long(job.id)) return invalid(jat + ": id too long");
    if (const auto [it, inserted] = jobs.emplace(job.id, j); !inserted) {
      return invalid(jat + ": duplicate job id (first at jobs[" + std::to_string(it->second) + "])");
    }
    for (std::size_t t = 0; t < job.tasks.size(); ++t) {
      const Task& task = job.tasks[t];
      const std::string at = task_label(j, t, task);
      if (task.id.empty()) return invalid("jobs[" + std::to_string(j) + "].tasks[" + std::to_string(t) + "]: empty id");
      if (too_long(task.id) || too_long(task.machine)) return invalid(at + ": id or machine too long");
      if (const auto [it, inserted] = tasks.emplace(task.id, at); !inserted) {
        return invalid(at + ": duplicate task id (first at " + it->second + ")");
      }
      if (task.cpu_milli < 0 || task.memory_mib < 0) return invalid(at + ": negative demand");
      if (task.gpus < 0 || task.gpus > limits.max_gpus_per_machine) {
        return invalid(at + ": gpus " + std::to_string(task.gpus) + " outside [0, " +
                       std::to_string(limits.max_gpus_per_machine) + "]");
      }
      if (task.gpu_milli < 0 || task.gpu_milli > kGpuMilliWhole) {
        return invalid(at + ": gpu_milli " + std::to_string(task.gpu_milli) + " outside [0, 1000]");
      }
      if (task.gpus > 0 && task.gpu_milli > 0) {
        return invalid(at + ": asks for whole GPUs and a GPU share at once");
      }
      for (const auto& [name, amount] : task.extra) {
        if (amount < 0) return invalid(at + ": negative demand of '" + name + "'");
      }
      for (const auto& model : task.gpu_models) {
        if (too_long(model)) return invalid(at + ": GPU model name too long");
      }
      for (const auto& [key, value] : task.selector) {
        if (too_long(key) || too_long(value)) return invalid(at + ": selector too long");
      }
      for (const Preference& p : task.preferred_machines) {
        if (p.weight < 0) return invalid(at + ": negative preference weight for machine '" + p.target + "'");
        if (!machines.count(p.target)) return invalid(at + ": prefers unknown machine '" + p.target + "'");
      }
      for (const Preference& p : task.preferred_racks) {
        if (p.weight < 0) return invalid(at + ": negative preference weight for rack '" + p.target + "'");
        if (!racks.count(p.target)) return invalid(at + ": prefers unknown rack '" + p.target + "'");
      }
      if (task.state == TaskState::kPending) {
        if (!task.machine.empty() || !task.gpu_indexes.empty()) {
          return invalid(at + ": pending but names a machine or GPU indexes");
        }
        continue;
      }
      const auto placed = machines.find(task.machine);
      if (placed == machines.end()) return invalid(at + ": running on unknown machine '" + task.machine + "'");
      const std::size_t wanted = task.gpus > 0 ? static_cast<std::size_t>(task.gpus) : (task.gpu_milli > 0 ? 1 : 0);
      if (task.gpu_indexes.size() != wanted) {
        return invalid(at + ": holds " + std::to_string(task.gpu_indexes.size()) + " GPU indexes but needs " +
                       std::to_string(wanted));
      }
      std::unordered_set<std::int32_t> held;
      for (const std::int32_t index : task.gpu_indexes) {
        bool exists = false;
        for (const Gpu& gpu : placed->second.machine->gpus) exists = exists || gpu.index == index;
        if (!exists) return invalid(at + ": holds GPU " + std::to_string(index) + " that machine '" + task.machine + "' lacks");
        if (!held.insert(index).second) return invalid(at + ": holds GPU " + std::to_string(index) + " twice");
      }
    }
  }
  return {};
}

}  // namespace sluice
