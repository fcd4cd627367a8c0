// Extraction: the repaired outcome of every task, as the Allocation's lists (in snapshot
// order, in parallel over ranges of jobs) or as their indexed columns, with the reason each
// unscheduled task got.
#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "parallel.hpp"
#include "repair.hpp"

namespace sluice::detail {

using Clock = std::chrono::steady_clock;

Verdict Repairer::verdict(std::int32_t shape_id, const std::vector<std::int32_t>& kind_placed_priority) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  Verdict v;
  if (!d.any_model_known) {
    v.reason = UnscheduledReason::kConstraintUnsatisfiable;
    v.message = "no machine has a GPU of an allowed model";
    return v;
  }
  bool matches = false;
  std::int64_t could_hold = 0;  // machines that could hold it if they were empty
  std::int64_t max_cpu = 0, max_memory = 0, max_whole = 0;
  // Without GPUs or extras, a kind could hold the task when its CPU and memory do.
  const bool cpu_and_memory_only = !d.wants_gpu() && d.extra.empty();
  for (std::size_t k = 0; k < kind_rep_.size(); ++k) {
    const std::int32_t rep = kind_rep_[k];
    if (!s.selector.empty() && !labels_match(c_, s, rep)) continue;
    if (cpu_and_memory_only) {
      matches = true;
      max_cpu = std::max(max_cpu, kind_cpu_[k]);
      max_memory = std::max(max_memory, kind_memory_[k]);
      if (kind_cpu_[k] < d.cpu || kind_memory_[k] < d.memory) continue;
      could_hold += kind_size_[k];
      v.highest_placed = std::max(v.highest_placed, kind_placed_priority[k]);
      continue;
    }
    const MachineInfo& info = c_.machines[static_cast<std::size_t>(rep)];
    std::int64_t allowed = 0;
    for (const std::int32_t g : info.gpu_model) allowed += d.model_ok(g) ? 1 : 0;
    if (d.wants_gpu() && allowed == 0) continue;
    matches = true;
    max_cpu = std::max(max_cpu, info.capacity.cpu);
    max_memory = std::max(max_memory, info.capacity.memory);
    max_whole = std::max(max_whole, allowed);
    if (fit_count(d, info.capacity, info.gpu_model) <= 0) continue;
    could_hold += kind_size_[k];
    v.highest_placed = std::max(v.highest_placed, kind_placed_priority[k]);
  }
  if (!matches) {
    std::string what;
    for (const auto& [k, value] : s.selector) what += (what.empty() ? "" : ", ") + k + "=" + value;
    if (d.wants_gpu()) what += std::string(what.empty() ? "" : " and ") + "an allowed GPU model";
    v.reason = UnscheduledReason::kConstraintUnsatisfiable;
    v.message = "no machine matches " + (what.empty() ? std::string("its constraints") : what);
    v.highest_placed = kNone;
    return v;
  }
  if (could_hold == 0) {
    v.reason = UnscheduledReason::kNoMachineWithResource;
    v.highest_placed = kNone;
    if (d.cpu > max_cpu) {
      v.message = "no machine has " + std::to_string(d.cpu) + " milli-CPU (largest: " + std::to_string(max_cpu) + ")";
    } else if (d.memory > max_memory) {
      v.message = "no machine has " + std::to_string(d.memory) + " MiB of memory (largest: " +
                  std::to_string(max_memory) + ")";
    } else if (d.gpus > max_whole) {
      v.message = "no machine has " + std::to_string(d.gpus) +
                  " GPUs of an allowed model (most: " + std::to_string(max_whole) + ")";
    } else {
      v.message = "no single machine has all of its CPU, memory, GPU and extra resources";
    }
    return v;
  }
  v.reason = UnscheduledReason::kNoFreeCapacity;
  v.message = "none of the " + std::to_string(could_hold) + " machines that could hold it has room left";
  v.outbid_message = "the room it needed on " + std::to_string(could_hold) +
                     " machines that could hold it went to higher-priority tasks";
  return v;
}

Allocation Repairer::extract(Allocation out) const {
  const Snapshot& snap = *c_.snapshot;
  const auto& machine_id = [&](std::int32_t m) -> const std::string& {
    return snap.machines[static_cast<std::size_t>(m)].id;
  };

  // The running tasks' lists are independent of the pending ones: a second thread fills
  // them when there are many.
  const auto running_part = [&] {
    out.kept.reserve(c_.running.size());
    for (std::size_t id = 0; id < c_.running.size(); ++id) {
      const RunningTask& rt = c_.running[id];
      const TaskOutcome& o = running_[id];
      const Job& job = snap.jobs[static_cast<std::size_t>(rt.ref.job)];
      const Task& t = job.tasks[static_cast<std::size_t>(rt.ref.task)];
      switch (o.fate) {
        case Fate::kKept: {
          Placement& p = out.kept.emplace_back();
          p.job = job.id;
          p.task = t.id;
          p.machine = machine_id(o.machine);
          device_indexes(o.machine, o, p.gpu_indexes);
          break;
        }
        case Fate::kMigrated: {
          Migration& mg = out.migrations.emplace_back();
          mg.job = job.id;
          mg.task = t.id;
          mg.from_machine = machine_id(rt.machine);
          mg.machine = machine_id(o.machine);
          device_indexes(o.machine, o, mg.gpu_indexes);
          break;
        }
        default:
          out.preemptions.push_back(Preemption{job.id, t.id, machine_id(rt.machine), running_why_[id]});
          break;
      }
    }
  };
  std::thread helper;
  if (c_.running.size() >= 10'000 && std::thread::hardware_concurrency() > 1) {
    helper = std::thread(running_part);
  } else {
    running_part();
  }

  auto step = Clock::now();
  // Pending tasks, in snapshot order: jobs cut into ranges of about equal task counts,
  // counted, then filled in parallel at the offsets counted.
  const auto n_tasks = static_cast<std::size_t>(task_offset_.back());
  const std::size_t chunks = threads_for(n_tasks);
  std::vector<std::size_t> bounds(chunks + 1, snap.jobs.size());
  bounds[0] = 0;
  for (std::size_t k = 1, j = 0; k < chunks; ++k) {
    while (j < snap.jobs.size() && static_cast<std::size_t>(task_offset_[j]) < n_tasks * k / chunks) ++j;
    bounds[k] = j;
  }
  std::vector<std::size_t> placed_at(chunks + 1, 0);
  std::vector<std::size_t> unscheduled_at(chunks + 1, 0);
  for_chunks(chunks, bounds, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    std::size_t placed = 0;
    std::size_t unplaced = 0;
    if (stop_.raised()) return;
    for (auto i = static_cast<std::size_t>(task_offset_[begin]); i < static_cast<std::size_t>(task_offset_[end]);
         ++i) {
      const TaskOutcome& o = tasks_[i];
      if (o.shape >= 0) (o.fate == Fate::kPlaced ? placed : unplaced) += 1;  // shape < 0: running
    }
    placed_at[chunk + 1] = placed;
    unscheduled_at[chunk + 1] = unplaced;
  });
  for (std::size_t k = 0; k < chunks; ++k) {
    placed_at[k + 1] += placed_at[k];
    unscheduled_at[k + 1] += unscheduled_at[k];
  }
  stop_.check("extract");
  const std::vector<Verdict> verdicts = this->verdicts();
  stop_.check("extract");
  trace_step(c_.trace, "extract: count, verdicts", step);
  out.placements.resize(placed_at[chunks]);
  out.unscheduled.resize(unscheduled_at[chunks]);
  trace_step(c_.trace, "extract: size", step);
  for_chunks(chunks, bounds, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    Placement* placement = out.placements.data() + placed_at[chunk];
    Unscheduled* unscheduled = out.unscheduled.data() + unscheduled_at[chunk];
    for (std::size_t j = begin; j < end; ++j) {
      if (j % 4096 == 0 && stop_.raised()) return;  // extract() reports it after the join
      const Job& job = snap.jobs[j];
      const TaskOutcome* outcomes = tasks_.data() + task_offset_[j];
      for (std::size_t ti = 0; ti < job.tasks.size(); ++ti) {
        const TaskOutcome& o = outcomes[ti];
        if (o.shape < 0) continue;  // running
        const Task& t = job.tasks[ti];
        if (o.fate == Fate::kPlaced) {
          Placement& p = *placement++;
          p.job = job.id;
          p.task = t.id;
          p.machine = machine_id(o.machine);
          device_indexes(o.machine, o, p.gpu_indexes);
          continue;
        }
        const Verdict& v = verdicts[static_cast<std::size_t>(o.shape)];
        const bool outbid = v.highest_placed != kNone && v.highest_placed > job.priority;
        Unscheduled& u = *unscheduled++;
        u.job = job.id;
        u.task = t.id;
        u.reason = outbid ? UnscheduledReason::kOutbidByPriority : v.reason;
        u.message = outbid ? v.outbid_message : v.message;
      }
    }
  });
  trace_step(c_.trace, "extract: fill", step);
  if (helper.joinable()) helper.join();
  stop_.check("extract");
  return out;
}

std::vector<Verdict> Repairer::verdicts() const {
  std::vector<std::uint8_t> has_unscheduled(c_.shapes.size(), 0);
  for (const TaskOutcome& o : tasks_) {
    if (o.shape >= 0 && o.fate != Fate::kPlaced) has_unscheduled[static_cast<std::size_t>(o.shape)] = 1;
  }
  std::vector<std::int32_t> shapes;
  for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
    if (has_unscheduled[s] != 0) shapes.push_back(static_cast<std::int32_t>(s));
  }
  std::vector<Verdict> out(c_.shapes.size());
  if (shapes.empty()) return out;
  ensure_kinds();
  std::vector<std::int32_t> kind_placed_priority(kind_rep_.size(), kNone);  // the highest placed on a kind
  for (std::size_t m = 0; m < placed_priority_.size(); ++m) {
    std::int32_t& p = kind_placed_priority[static_cast<std::size_t>(kind_of_[m])];
    p = std::max(p, placed_priority_[m]);
  }
  const std::size_t work = shapes.size() * std::max<std::size_t>(1, kind_rep_.size() / 64);
  const std::size_t chunks = std::min(threads_for(work), std::max<std::size_t>(1, shapes.size()));
  std::vector<std::size_t> bounds(chunks + 1);
  for (std::size_t k = 0; k <= chunks; ++k) bounds[k] = shapes.size() * k / chunks;
  for_chunks(chunks, bounds, [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) out[static_cast<std::size_t>(shapes[k])] = verdict(shapes[k], kind_placed_priority);
  });
  return out;
}

void Repairer::extract_indexed(IndexedAllocation& out) const {
  std::unordered_map<std::string, std::uint32_t> message_ids;
  const auto message = [&](const std::string& text) {
    const auto [it, fresh] = message_ids.try_emplace(text, static_cast<std::uint32_t>(out.messages.size()));
    if (fresh) out.messages.push_back(text);
    return it->second;
  };
  std::vector<std::int32_t> gpus;
  const auto at = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };

  for (std::size_t id = 0; id < c_.running.size(); ++id) {
    const RunningTask& rt = c_.running[id];
    const TaskOutcome& o = running_[id];
    const std::uint32_t task = at(static_cast<std::int64_t>(task_index(rt.ref)));
    switch (o.fate) {
      case Fate::kKept:
        device_indexes(o.machine, o, gpus);
        out.kept.add(task, at(o.machine), gpus);
        break;
      case Fate::kMigrated:
        device_indexes(o.machine, o, gpus);
        out.migrations.add(task, at(o.machine), gpus);
        out.migrated_from.push_back(at(rt.machine));
        break;
      default:
        out.preempted_task.push_back(task);
        out.preempted_machine.push_back(at(rt.machine));
        out.preempted_reason.push_back(message(running_why_[id]));
        break;
    }
  }

  const std::vector<Verdict> verdicts = this->verdicts();
  std::vector<std::int64_t> message_of(2 * c_.shapes.size(), -1);  // per shape: plain, outbid
  const Snapshot& snap = *c_.snapshot;
  for (std::size_t j = 0; j < snap.jobs.size(); ++j) {
    const std::int32_t priority = snap.jobs[j].priority;
    for (auto i = static_cast<std::size_t>(task_offset_[j]); i < static_cast<std::size_t>(task_offset_[j + 1]); ++i) {
      const TaskOutcome& o = tasks_[i];
      if (o.shape < 0) continue;  // running
      if (o.fate == Fate::kPlaced) {
        device_indexes(o.machine, o, gpus);
        out.placements.add(at(static_cast<std::int64_t>(i)), at(o.machine), gpus);
        continue;
      }
      const Verdict& v = verdicts[static_cast<std::size_t>(o.shape)];
      const bool outbid = v.highest_placed != kNone && v.highest_placed > priority;
      std::int64_t& id = message_of[2 * static_cast<std::size_t>(o.shape) + (outbid ? 1 : 0)];
      if (id < 0) id = message(outbid ? v.outbid_message : v.message);
      out.unscheduled_task.push_back(at(static_cast<std::int64_t>(i)));
      out.unscheduled_reason.push_back(outbid ? UnscheduledReason::kOutbidByPriority : v.reason);
      out.unscheduled_message.push_back(at(id));
    }
  }
}

}  // namespace sluice::detail
