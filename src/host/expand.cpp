// expand(): an indexed allocation back to ids, checked against the snapshot it names.
#include <algorithm>
#include <string>

#include "sluice/allocate.hpp"

namespace sluice {

Allocation expand(const IndexedAllocation& indexed, const Snapshot& snapshot) {
  Allocation out = indexed.summary;
  std::vector<std::size_t> job_offset(snapshot.jobs.size() + 1, 0);
  for (std::size_t j = 0; j < snapshot.jobs.size(); ++j)
    job_offset[j + 1] = job_offset[j] + snapshot.jobs[j].tasks.size();
  std::string error;
  const auto fail = [&](std::string what) {
    if (error.empty()) error = std::move(what);
  };
  // (job, task) of a task position; nullptr when out of range.
  const auto task_at = [&](std::uint32_t index) -> std::pair<const Job*, const Task*> {
    if (index >= job_offset.back()) {
      fail("task position " + std::to_string(index) + " is beyond the snapshot's " +
           std::to_string(job_offset.back()) + " tasks");
      return {nullptr, nullptr};
    }
    const auto j = static_cast<std::size_t>(std::upper_bound(job_offset.begin(), job_offset.end(), index) -
                                            job_offset.begin() - 1);
    const Job& job = snapshot.jobs[j];
    return {&job, &job.tasks[index - job_offset[j]]};
  };
  const auto machine_at = [&](std::uint32_t index) -> const std::string* {
    if (index >= snapshot.machines.size()) {
      fail("machine position " + std::to_string(index) + " is beyond the snapshot's " +
           std::to_string(snapshot.machines.size()) + " machines");
      return nullptr;
    }
    return &snapshot.machines[index].id;
  };
  const auto message_at = [&](std::uint32_t index) -> const std::string* {
    if (index >= indexed.messages.size()) {
      fail("message " + std::to_string(index) + " is beyond the reply's " + std::to_string(indexed.messages.size()));
      return nullptr;
    }
    return &indexed.messages[index];
  };
  const auto gpus_of = [](const IndexedPlacements& list, std::size_t i) {
    return std::vector<std::int32_t>(list.gpu_indexes.begin() + list.gpu_begin[i],
                                     list.gpu_indexes.begin() + list.gpu_begin[i + 1]);
  };
  const auto placements = [&](const IndexedPlacements& list, std::vector<Placement>& to) {
    to.reserve(list.size());
    for (std::size_t i = 0; i < list.size() && error.empty(); ++i) {
      const auto [job, task] = task_at(list.task[i]);
      const std::string* machine = machine_at(list.machine[i]);
      if (job == nullptr || machine == nullptr) break;
      to.push_back(Placement{job->id, task->id, *machine, gpus_of(list, i)});
    }
  };
  const auto well_formed = [](const IndexedPlacements& list) {
    if (list.machine.size() != list.task.size() || list.gpu_begin.size() != list.task.size() + 1) return false;
    if (list.gpu_begin.front() != 0 || list.gpu_begin.back() != list.gpu_indexes.size()) return false;
    return std::is_sorted(list.gpu_begin.begin(), list.gpu_begin.end());
  };
  if (!well_formed(indexed.placements) || !well_formed(indexed.kept) || !well_formed(indexed.migrations) ||
      indexed.migrated_from.size() != indexed.migrations.size() ||
      indexed.preempted_machine.size() != indexed.preempted_task.size() ||
      indexed.preempted_reason.size() != indexed.preempted_task.size() ||
      indexed.unscheduled_reason.size() != indexed.unscheduled_task.size() ||
      indexed.unscheduled_message.size() != indexed.unscheduled_task.size()) {
    fail("the indexed allocation's columns differ in length");
  }
  if (error.empty()) placements(indexed.placements, out.placements);
  if (error.empty()) placements(indexed.kept, out.kept);
  for (std::size_t i = 0; i < indexed.migrations.size() && error.empty(); ++i) {
    const auto [job, task] = task_at(indexed.migrations.task[i]);
    const std::string* from = machine_at(indexed.migrated_from[i]);
    const std::string* to = machine_at(indexed.migrations.machine[i]);
    if (job == nullptr || from == nullptr || to == nullptr) break;
    out.migrations.push_back(Migration{job->id, task->id, *from, *to, gpus_of(indexed.migrations, i)});
  }
  for (std::size_t i = 0; i < indexed.preempted_task.size() && error.empty(); ++i) {
    const auto [job, task] = task_at(indexed.preempted_task[i]);
    const std::string* machine = machine_at(indexed.preempted_machine[i]);
    const std::string* reason = message_at(indexed.preempted_reason[i]);
    if (job == nullptr || machine == nullptr || reason == nullptr) break;
    out.preemptions.push_back(Preemption{job->id, task->id, *machine, *reason});
  }
  for (std::size_t i = 0; i < indexed.unscheduled_task.size() && error.empty(); ++i) {
    const auto [job, task] = task_at(indexed.unscheduled_task[i]);
    const std::string* message = message_at(indexed.unscheduled_message[i]);
    if (job == nullptr || message == nullptr) break;
    out.unscheduled.push_back(Unscheduled{job->id, task->id, indexed.unscheduled_reason[i], *message});
  }
  if (!error.empty()) {
    Allocation bad;
    bad.status = Status::kInvalidInput;
    bad.message = "the indexed allocation does not fit this snapshot: " + error;
    bad.snapshot_version = indexed.summary.snapshot_version;
    return bad;
  }
  return out;
}

}  // namespace sluice
