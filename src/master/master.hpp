// The thin master's accounting (trace replay and fill experiments): per machine free CPU
// and memory, per device free milli; per pod its state, machine and device positions. Its
// own, independent of the allocator's (src/host/cluster_state.hpp is deliberately not
// used). The invariant it keeps: every machine's free amounts equal its capacity minus the
// demands of the pods running on it, and none is ever negative. Every reply item is checked
// against that accounting before it is applied; an item that would break the invariant is
// refused and counted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/trace_replay.hpp"

namespace sluice::detail {

// part / whole in %, 0 when whole is 0.
inline double percent(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string join_indexes(const std::vector<std::int32_t>& v);


enum class PodState : std::uint8_t { kNotArrived, kPending, kRunning, kGone };

struct PodSlot {
  PodState state = PodState::kNotArrived;
  bool ever_ran = false;
  std::int32_t machine = -1;
  std::vector<std::int32_t> devices;  // positions in the machine's device list
  std::int64_t touched = 0;           // round that last changed it through the reply
};

struct MachineSlot {
  std::int64_t free_cpu = 0;
  std::int64_t free_memory = 0;
  std::vector<std::int32_t> gpu_free;  // per device position
};

class Master {
 public:
  Master(const std::vector<Machine>& machines, const std::vector<TracePod>& pods)
      : machines_(machines), pods_(pods), slots_(pods.size()), state_(machines.size()) {
    machine_by_id_.reserve(machines.size());
    for (std::size_t m = 0; m < machines.size(); ++m) {
      const Machine& src = machines[m];
      machine_by_id_.emplace(src.id, static_cast<std::int32_t>(m));
      MachineSlot& s = state_[m];
      s.free_cpu = src.cpu_milli;
      s.free_memory = src.memory_mib;
      s.gpu_free.assign(src.gpus.size(), kGpuMilliWhole);
      capacity_cpu_ += src.cpu_milli;
      capacity_memory_ += src.memory_mib;
      capacity_gpu_ += static_cast<std::int64_t>(src.gpus.size()) * kGpuMilliWhole;
    }
    pod_by_name_.reserve(pods.size());
    for (std::size_t p = 0; p < pods.size(); ++p) pod_by_name_.emplace(pods[p].name, static_cast<std::int32_t>(p));
  }

  [[nodiscard]] const std::vector<TracePod>& pods() const { return pods_; }
  [[nodiscard]] PodSlot& slot(std::size_t p) { return slots_[p]; }
  [[nodiscard]] const PodSlot& slot(std::size_t p) const { return slots_[p]; }
  [[nodiscard]] std::int64_t capacity_gpu() const { return capacity_gpu_; }
  [[nodiscard]] double gpu_alloc_pct() const { return percent(used_gpu_, capacity_gpu_); }
  [[nodiscard]] double cpu_alloc_pct() const { return percent(used_cpu_, capacity_cpu_); }
  [[nodiscard]] double mem_alloc_pct() const { return percent(used_memory_, capacity_memory_); }
  [[nodiscard]] std::int64_t used_gpu() const { return used_gpu_; }
  [[nodiscard]] std::size_t machine_count() const { return machines_.size(); }
  [[nodiscard]] const MachineSlot& machine_state(std::size_t m) const { return state_[m]; }

  // Pods in the order they arrived (pending or running ones; others are dropped lazily).
  void arrive(std::int32_t p) {
    slots_[p].state = PodState::kPending;
    alive_.push_back(p);
  }

  // The pod leaves the cluster (deletion, or a failed fill pod).
  void remove(std::int32_t p) {
    PodSlot& s = slots_[p];
    if (s.state == PodState::kRunning) give_back(p);
    s.state = PodState::kGone;
  }

  // Drops gone pods from the alive list; returns how many pending ones remain.
  std::int64_t compact() {
    std::erase_if(alive_, [&](std::int32_t p) { return slots_[p].state == PodState::kGone; });
    std::int64_t pending = 0;
    for (const std::int32_t p : alive_) pending += slots_[p].state == PodState::kPending ? 1 : 0;
    return pending;
  }
  [[nodiscard]] const std::vector<std::int32_t>& alive() const { return alive_; }

  // With include_running false, only pending pods: a master whose running pods may not
  // move or stop need not send them (each machine's free amounts already account for them).
  [[nodiscard]] Snapshot snapshot(std::int64_t version, std::int64_t time, bool include_running = true) const {
    Snapshot s;
    s.version = version;
    s.time = time;
    s.machines = machines_;
    for (std::size_t m = 0; m < machines_.size(); ++m) {
      Machine& out = s.machines[m];
      out.free_cpu_milli = state_[m].free_cpu;
      out.free_memory_mib = state_[m].free_memory;
      for (std::size_t g = 0; g < out.gpus.size(); ++g) out.gpus[g].free_milli = state_[m].gpu_free[g];
    }
    s.jobs.reserve(alive_.size());
    for (const std::int32_t p : alive_) {
      const PodSlot& slot = slots_[p];
      if (slot.state != PodState::kPending && (slot.state != PodState::kRunning || !include_running)) continue;
      const TracePod& pod = pods_[p];
      Job& job = s.jobs.emplace_back();
      job.id = pod.name;
      job.priority = pod.priority;
      job.submit_time = pod.creation_time;
      Task& task = job.tasks.emplace_back();
      task.id = pod.name;
      task.cpu_milli = pod.cpu_milli;
      task.memory_mib = pod.memory_mib;
      task.gpus = pod.gpus;
      task.gpu_milli = pod.gpus > 0 ? 0 : pod.gpu_milli;
      task.gpu_models = pod.gpu_models;
      if (slot.state == PodState::kRunning) {
        const Machine& machine = machines_[static_cast<std::size_t>(slot.machine)];
        task.state = TaskState::kRunning;
        task.machine = machine.id;
        for (const std::int32_t d : slot.devices) task.gpu_indexes.push_back(machine.gpus[d].index);
      }
    }
    return s;
  }

  // ---- checks and moves ----

  // Resolves a device index list on machine m to positions and checks that pod p fits there
  // with them; "" when it does, else why not.
  std::string check_fit(std::int32_t p, std::int32_t m, const std::vector<std::int32_t>& indexes,
                        std::vector<std::int32_t>& positions) const {
    const TracePod& pod = pods_[p];
    const Machine& machine = machines_[m];
    const MachineSlot& free = state_[m];
    if (pod.cpu_milli > free.free_cpu) {
      return "needs " + std::to_string(pod.cpu_milli) + " CPU milli on '" + machine.id + "', " +
             std::to_string(free.free_cpu) + " free";
    }
    if (pod.memory_mib > free.free_memory) {
      return "needs " + std::to_string(pod.memory_mib) + " MiB on '" + machine.id + "', " +
             std::to_string(free.free_memory) + " free";
    }
    const std::size_t wanted = pod.gpus > 0 ? static_cast<std::size_t>(pod.gpus) : (pod.gpu_milli > 0 ? 1 : 0);
    if (indexes.size() != wanted) {
      return "needs " + std::to_string(wanted) + " GPU device(s), given " + join_indexes(indexes);
    }
    positions.clear();
    for (const std::int32_t index : indexes) {
      const auto it =
          std::find_if(machine.gpus.begin(), machine.gpus.end(), [&](const Gpu& g) { return g.index == index; });
      if (it == machine.gpus.end()) return "GPU " + std::to_string(index) + " does not exist on '" + machine.id + "'";
      const auto pos = static_cast<std::int32_t>(it - machine.gpus.begin());
      if (std::find(positions.begin(), positions.end(), pos) != positions.end()) {
        return "GPU " + std::to_string(index) + " given twice on '" + machine.id + "'";
      }
      if (!pod.gpu_models.empty() &&
          std::find(pod.gpu_models.begin(), pod.gpu_models.end(), it->model) == pod.gpu_models.end()) {
        return "GPU " + std::to_string(index) + " on '" + machine.id + "' is a " + it->model + ", not an allowed model";
      }
      const std::int32_t need = pod.gpus > 0 ? kGpuMilliWhole : pod.gpu_milli;
      if (need > free.gpu_free[pos]) {
        return "needs " + std::to_string(need) + " milli of GPU " + std::to_string(index) + " on '" + machine.id +
               "', " + std::to_string(free.gpu_free[pos]) + " free";
      }
      positions.push_back(pos);
    }
    return {};
  }

  void take(std::int32_t p, std::int32_t m, std::vector<std::int32_t> positions) {
    const TracePod& pod = pods_[p];
    MachineSlot& free = state_[m];
    free.free_cpu -= pod.cpu_milli;
    free.free_memory -= pod.memory_mib;
    const std::int32_t per_device = pod.gpus > 0 ? kGpuMilliWhole : pod.gpu_milli;
    for (const std::int32_t d : positions) free.gpu_free[d] -= per_device;
    used_cpu_ += pod.cpu_milli;
    used_memory_ += pod.memory_mib;
    used_gpu_ += per_device * static_cast<std::int64_t>(positions.size());
    PodSlot& s = slots_[p];
    s.state = PodState::kRunning;
    s.ever_ran = true;
    s.machine = m;
    s.devices = std::move(positions);
  }

  // A running pod gives its resources back and becomes pending.
  void give_back(std::int32_t p) {
    const TracePod& pod = pods_[p];
    PodSlot& s = slots_[p];
    MachineSlot& free = state_[s.machine];
    free.free_cpu += pod.cpu_milli;
    free.free_memory += pod.memory_mib;
    const std::int32_t per_device = pod.gpus > 0 ? kGpuMilliWhole : pod.gpu_milli;
    for (const std::int32_t d : s.devices) free.gpu_free[d] += per_device;
    used_cpu_ -= pod.cpu_milli;
    used_memory_ -= pod.memory_mib;
    used_gpu_ -= per_device * static_cast<std::int64_t>(s.devices.size());
    s.state = PodState::kPending;
    s.machine = -1;
    s.devices.clear();
  }

  // ---- applying a reply ----

  struct Applied {
    std::int64_t placed = 0;
    std::int64_t migrated = 0;
    std::int64_t preempted = 0;
    std::int64_t rejected = 0;
    std::string first_rejection;
  };

  // Preemptions, then migrations, then placements; every item checked first. `round` marks
  // the pods it touches, so a pod named twice in one reply is refused the second time.
  Applied apply(const Allocation& reply, std::int64_t round) {
    Applied out;
    const auto reject = [&](const std::string& what) {
      ++out.rejected;
      if (out.first_rejection.empty()) out.first_rejection = what;
    };
    // Resolves a reply item to an untouched pod in `state`; -1 (and a rejection) otherwise.
    const auto resolve = [&](std::string_view kind, const std::string& job, const std::string& task,
                             PodState want) -> std::int32_t {
      const auto it = pod_by_name_.find(task);
      if (it == pod_by_name_.end()) {
        reject(std::string(kind) + " of unknown task '" + task + "'");
        return -1;
      }
      const std::int32_t p = it->second;
      if (job != task) {
        reject(std::string(kind) + " of task '" + task + "' names job '" + job + "'");
        return -1;
      }
      PodSlot& s = slots_[p];
      if (s.touched == round) {
        reject(std::string(kind) + " of task '" + task + "', already named in this reply");
        return -1;
      }
      if (s.state != want) {
        reject(std::string(kind) + " of task '" + task + "', which is not " +
               (want == PodState::kPending ? "pending" : "running"));
        return -1;
      }
      return p;
    };
    const auto machine_of = [&](std::string_view kind, const std::string& task, const std::string& id) {
      const auto it = machine_by_id_.find(id);
      if (it == machine_by_id_.end()) {
        reject(std::string(kind) + " of task '" + task + "' to unknown machine '" + id + "'");
        return std::int32_t{-1};
      }
      return it->second;
    };

    // 1. Preemptions: the pod goes back to pending.
    for (const Preemption& item : reply.preemptions) {
      const std::int32_t p = resolve("preemption", item.job, item.task, PodState::kRunning);
      if (p < 0) continue;
      if (machines_[slots_[p].machine].id != item.machine) {
        reject("preemption of task '" + item.task + "' on '" + item.machine + "', but it runs on '" +
               machines_[slots_[p].machine].id + "'");
        continue;
      }
      give_back(p);
      slots_[p].touched = round;
      ++out.preempted;
    }

    // 2. Migrations: every mover leaves first (moves may swap rooms), then each lands if it
    //    fits; one that does not goes back where it was, or to pending if its room is gone.
    struct Move {
      std::int32_t pod;
      std::int32_t from;
      std::vector<std::int32_t> from_devices;
      const Migration* item;
    };
    std::vector<Move> moves;
    for (const Migration& item : reply.migrations) {
      const std::int32_t p = resolve("migration", item.job, item.task, PodState::kRunning);
      if (p < 0) continue;
      const PodSlot& s = slots_[p];
      if (machines_[s.machine].id != item.from_machine) {
        reject("migration of task '" + item.task + "' from '" + item.from_machine + "', but it runs on '" +
               machines_[s.machine].id + "'");
        continue;
      }
      slots_[p].touched = round;
      moves.push_back({p, s.machine, s.devices, &item});
    }
    for (const Move& move : moves) give_back(move.pod);
    std::vector<std::int32_t> positions;
    for (Move& move : moves) {
      const Migration& item = *move.item;
      const std::int32_t m = machine_of("migration", item.task, item.machine);
      if (m >= 0) {
        const std::string why = check_fit(move.pod, m, item.gpu_indexes, positions);
        if (why.empty()) {
          take(move.pod, m, positions);
          ++out.migrated;
          continue;
        }
        reject("migration of task '" + item.task + "' to '" + item.machine + "' " + join_indexes(item.gpu_indexes) +
               ": " + why);
      }
      // Back where it was, when that room is still free.
      std::vector<std::int32_t> indexes;
      for (const std::int32_t d : move.from_devices) indexes.push_back(machines_[move.from].gpus[d].index);
      if (check_fit(move.pod, move.from, indexes, positions).empty()) {
        take(move.pod, move.from, positions);
      } else {
        ++out.preempted;  // its room went to another mover: it waits, pending
      }
    }

    // 3. Placements of pending pods.
    for (const Placement& item : reply.placements) {
      const std::int32_t p = resolve("placement", item.job, item.task, PodState::kPending);
      if (p < 0) continue;
      const std::int32_t m = machine_of("placement", item.task, item.machine);
      if (m < 0) continue;
      const std::string why = check_fit(p, m, item.gpu_indexes, positions);
      if (!why.empty()) {
        reject("placement of task '" + item.task + "' on '" + item.machine + "' " + join_indexes(item.gpu_indexes) +
               ": " + why);
        continue;
      }
      take(p, m, positions);
      slots_[p].touched = round;
      ++out.placed;
    }
    return out;
  }

 private:
  const std::vector<Machine>& machines_;
  const std::vector<TracePod>& pods_;
  std::vector<PodSlot> slots_;
  std::vector<MachineSlot> state_;
  std::unordered_map<std::string_view, std::int32_t> machine_by_id_;
  std::unordered_map<std::string_view, std::int32_t> pod_by_name_;
  std::vector<std::int32_t> alive_;
  std::int64_t capacity_cpu_ = 0;
  std::int64_t capacity_memory_ = 0;
  std::int64_t capacity_gpu_ = 0;
  std::int64_t used_cpu_ = 0;
  std::int64_t used_memory_ = 0;
  std::int64_t used_gpu_ = 0;
};

// Calls the allocator; exceptions become a failed round. A reply for another snapshot
// version is refused as a whole (a real master would otherwise apply a stale decision).
RoundOutcome call_allocator(const RoundAllocator& allocator, const Snapshot& snapshot);

}  // namespace sluice::detail
