// Indexing a snapshot (see cluster_index.hpp). Cost: O(machines + tasks), with one hash
// look-up per machine, per distinct task key and per running task. Deterministic: ids
// follow snapshot order.
#include "cluster_index.hpp"

#include "cost_models.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

#include "id_table.hpp"
#include "interrupt.hpp"

namespace sluice::detail {

void trace_step(bool on, const char* what, std::chrono::steady_clock::time_point& since) {
  const auto now = std::chrono::steady_clock::now();
  if (on) std::fprintf(stderr, "[allocate] %s: %.3f s\n", what, std::chrono::duration<double>(now - since).count());
  since = now;
}

void trace_note(bool on, const std::string& what) {
  if (on) std::fprintf(stderr, "[allocate] %s\n", what.c_str());
}

namespace {

Resources resources_of(std::int64_t cpu, std::int64_t memory, const std::vector<Gpu>& gpus, bool free_side,
                       const std::map<std::string, std::int64_t>& extra, Names& names) {
  Resources r;
  r.cpu = cpu;
  r.memory = memory;
  r.gpu_free.reserve(gpus.size());
  for (const Gpu& g : gpus) r.gpu_free.push_back(free_side ? g.free_milli : kGpuMilliWhole);
  r.extra.assign(names.extra.size(), 0);
  for (const auto& [name, amount] : extra) r.extra[static_cast<std::size_t>(names.intern_extra(name))] = amount;
  return r;
}

// Same demand, constraints and preferences (the job, so its cost class, is the same).
bool same_shape(const Task& a, const Task& b) {
  const auto same_prefs = [](const std::vector<Preference>& x, const std::vector<Preference>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].target != y[i].target || x[i].weight != y[i].weight) return false;
    }
    return true;
  };
  return a.cpu_milli == b.cpu_milli && a.memory_mib == b.memory_mib && a.gpus == b.gpus && a.gpu_milli == b.gpu_milli &&
         a.gpu_models == b.gpu_models && a.extra == b.extra && a.selector == b.selector &&
         same_prefs(a.preferred_machines, b.preferred_machines) && same_prefs(a.preferred_racks, b.preferred_racks);
}

Demand demand_of(const Task& t, Names& names) {
  Demand d;
  d.cpu = t.cpu_milli;
  d.memory = t.memory_mib;
  d.gpus = t.gpus;
  d.gpu_milli = t.gpus > 0 ? 0 : t.gpu_milli;
  if (!t.gpu_models.empty() && (d.gpus > 0 || d.gpu_milli > 0)) {  // models matter only to GPU tasks
    d.model_allowed.assign(names.gpu_model.size(), 0);
    bool any = false;
    for (const std::string& model : t.gpu_models) {
      const auto it = names.gpu_model.find(model);
      if (it == names.gpu_model.end()) continue;
      d.model_allowed[static_cast<std::size_t>(it->second)] = 1;
      any = true;
    }
    d.any_model_known = any;
  }
  for (const auto& [name, amount] : t.extra) d.extra.emplace_back(names.extra.at(name), amount);
  return d;
}

// Below this many tasks, the second thread of index_cluster saves less than it costs.
constexpr std::size_t kTasksForSideThread = 50'000;

// A first pass over the tasks, which needs nothing indexed yet (it runs beside the
// machine indexing): per task, whether it runs and whether it has the shape of the task
// before it in its job; the extra-resource names tasks use, in order of first use.
struct TaskScan {
  static constexpr std::uint8_t kSameAsPrevious = 1;
  static constexpr std::uint8_t kRunning = 2;
  std::vector<std::uint8_t> flags;  // per task, in snapshot order
  std::vector<const std::string*> extra_names;
  std::size_t running = 0;
};

TaskScan scan_tasks(const Snapshot& snapshot) {
  TaskScan scan;
  std::size_t tasks = 0;
  for (const Job& j : snapshot.jobs) tasks += j.tasks.size();
  scan.flags.resize(tasks);
  std::unordered_set<std::string_view> seen;
  std::size_t i = 0;
  for (const Job& job : snapshot.jobs) {
    for (std::size_t ti = 0; ti < job.tasks.size(); ++ti, ++i) {
      const Task& t = job.tasks[ti];
      std::uint8_t flags = 0;
      if (ti > 0 && same_shape(t, job.tasks[ti - 1])) {
        flags |= TaskScan::kSameAsPrevious;  // its extra resources too
      } else {
        for (const auto& [name, amount] : t.extra) {
          if (seen.insert(name).second) scan.extra_names.push_back(&name);
        }
      }
      if (t.state == TaskState::kRunning) {
        flags |= TaskScan::kRunning;
        ++scan.running;
      }
      scan.flags[i] = flags;
    }
  }
  return scan;
}

// Machine ids → positions in the snapshot.
IdTable index_machine_ids(const Snapshot& snapshot) {
  const auto& machines = snapshot.machines;
  IdTable index(machines.size());
  std::vector<std::uint64_t> hashes(machines.size());
  for (std::size_t i = 0; i < machines.size(); ++i) hashes[i] = hash_bytes(machines[i].id);
  constexpr std::size_t kAhead = 16;  // inserts in flight
  for (std::size_t i = 0; i < machines.size(); ++i) {
    if (i + kAhead < machines.size()) index.prefetch(hashes[i + kAhead]);
    index.try_emplace(hashes[i], static_cast<std::int32_t>(i),
                      [&](std::int32_t j) { return machines[static_cast<std::size_t>(j)].id == machines[i].id; });
  }
  return index;
}

}  // namespace

bool labels_match(const Cluster& c, const Shape& s, std::int32_t m) {
  const auto& labels = c.snapshot->machines[static_cast<std::size_t>(m)].labels;
  for (const auto& [key, value] : s.selector) {
    const auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

void classify_machines(Cluster& c, const std::vector<std::uint8_t>* open) {
  c.class_rep.clear();
  c.class_members.clear();
  IdTable class_index(64);
  KeyArena class_keys;
  std::string key;
  std::vector<std::pair<std::int32_t, std::int32_t>> devices;
  std::int32_t closed = -1;
  for (std::size_t i = 0; i < c.machines.size(); ++i) {
    MachineInfo& info = c.machines[i];
    const auto join = [&](std::int32_t cls) {
      info.machine_class = cls;
      c.class_members[static_cast<std::size_t>(cls)].push_back(static_cast<std::int32_t>(i));
    };
    if (open != nullptr && (*open)[i] == 0) {
      if (closed < 0) {  // every closed machine in one class: none fits any shape
        closed = static_cast<std::int32_t>(c.class_rep.size());
        c.class_rep.push_back(static_cast<std::int32_t>(i));
        c.class_members.emplace_back();
        // Class ids index class_keys: the closed class holds the empty key, which no open
        // machine's key (capacities first) can equal.
        class_keys.push_back({});
      }
      join(closed);
      continue;
    }
    key.clear();
    append_raw(key, info.capacity.cpu);
    append_raw(key, info.capacity.memory);
    append_raw(key, info.free.cpu);
    append_raw(key, info.free.memory);
    devices.clear();
    for (std::size_t g = 0; g < info.gpu_model.size(); ++g) devices.emplace_back(info.gpu_model[g], info.free.gpu_free[g]);
    std::sort(devices.begin(), devices.end());
    append_raw(key, devices.size());
    for (const auto& d : devices) append_raw(key, d);
    for (std::size_t e = 0; e < info.capacity.extra.size(); ++e) {
      append_raw(key, info.capacity.extra[e]);
      append_raw(key, info.free.extra[e]);
    }
    for (const auto& [k, v] : c.snapshot->machines[i].labels) {
      append_str(key, k);
      append_str(key, v);
    }
    const auto cls = class_index.try_emplace(hash_bytes(key), static_cast<std::int32_t>(c.class_rep.size()),
                                             [&](std::int32_t j) { return class_keys[j] == key; });
    if (cls.second) {
      class_keys.push_back(key);
      c.class_rep.push_back(static_cast<std::int32_t>(i));
      c.class_members.emplace_back();
    }
    join(cls.first);
  }
}

Cluster index_cluster(const Snapshot& snapshot, const AllocateOptions& options) {
  Cluster c;
  c.snapshot = &snapshot;
  c.trace = options.trace;
  // Tasks whose U differs are different shapes: under the priority model by priority, under
  // the models with priority classes in U by class (at most kPriorityStepsMax + 1 of them).
  const bool by_priority = options.cost_model == CostModel::kPriority;
  const bool by_priority_class = priority_classes_in_unscheduled(options.cost_model);
  std::vector<std::int32_t>& priorities = c.priorities;  // the cost models rank priorities in it too
  priorities.reserve(snapshot.jobs.size());
  for (const Job& j : snapshot.jobs) priorities.push_back(j.priority);
  std::sort(priorities.begin(), priorities.end());
  priorities.erase(std::unique(priorities.begin(), priorities.end()), priorities.end());
  priorities.shrink_to_fit();
  const bool by_wait = options.cost_model == CostModel::kQuincy;

  auto t = std::chrono::steady_clock::now();
  // 1. Names: GPU models and extra resources of machines, then of task demands. While this
  //    thread does step 2, a second one indexes machine ids and scans the tasks (their
  //    names are interned after the machines' all the same).
  for (const Machine& m : snapshot.machines) {
    for (const Gpu& g : m.gpus) c.names.intern_model(g.model);
    for (const auto& [name, amount] : m.extra_capacity) c.names.intern_extra(name);
    for (const auto& [name, amount] : m.extra_free) c.names.intern_extra(name);
  }
  const std::size_t machine_extras = c.names.extra.size();
  IdTable machine_index(0);
  TaskScan scan;
  const auto side_work = [&] {
    machine_index = index_machine_ids(snapshot);
    scan = scan_tasks(snapshot);
  };
  std::jthread side;  // joins on the way out, exceptions included
  if (snapshot.task_count() >= kTasksForSideThread) {
    side = std::jthread(side_work);
  } else {
    side_work();
  }

  // 2. Machines, racks and machine classes.
  const auto find_machine = [&](const std::string& id) {
    const std::int32_t m = machine_index.find(
        hash_bytes(id), [&](std::int32_t i) { return snapshot.machines[static_cast<std::size_t>(i)].id == id; });
    if (m < 0) throw std::out_of_range("unknown machine " + id);
    return m;
  };
  IdTable rack_index(64);
  const auto rack_equal = [&](const std::string& rack) {
    return [&](std::int32_t i) { return c.racks[static_cast<std::size_t>(i)] == rack; };
  };
  c.machines.reserve(snapshot.machines.size());
  std::string key;
  const Interrupt stop(options.solve.cancel);
  for (std::size_t i = 0; i < snapshot.machines.size(); ++i) {
    stop.every(i, "index");
    const Machine& m = snapshot.machines[i];
    MachineInfo info;
    // Machines of a rack usually come together: the previous machine's rack first.
    if (i > 0 && m.rack == snapshot.machines[i - 1].rack) {
      info.rack = c.machines.back().rack;
    } else {
      const auto rack =
          rack_index.try_emplace(hash_bytes(m.rack), static_cast<std::int32_t>(c.racks.size()), rack_equal(m.rack));
      if (rack.second) {
        c.racks.push_back(m.rack);
        c.rack_members.emplace_back();
      }
      info.rack = rack.first;
    }
    c.rack_members[static_cast<std::size_t>(info.rack)].push_back(static_cast<std::int32_t>(i));
    info.gpu_model.reserve(m.gpus.size());
    info.gpu_index.reserve(m.gpus.size());
    for (const Gpu& g : m.gpus) {
      info.gpu_model.push_back(c.names.gpu_model.at(g.model));
      info.gpu_index.push_back(g.index);
    }
    info.capacity = resources_of(m.cpu_milli, m.memory_mib, m.gpus, false, m.extra_capacity, c.names);
    info.free = resources_of(m.free_cpu_milli, m.free_memory_mib, m.gpus, true, m.extra_free, c.names);
    c.machines.push_back(std::move(info));
  }
  classify_machines(c);
  if (side.joinable()) side.join();
  for (const std::string* name : scan.extra_names) c.names.intern_extra(*name);
  if (c.names.extra.size() > machine_extras) {
    for (MachineInfo& m : c.machines) {  // no machine has the resources only tasks name
      m.capacity.extra.resize(c.names.extra.size(), 0);
      m.free.extra.resize(c.names.extra.size(), 0);
    }
  }

  trace_step(c.trace, "index: machines", t);
  // 3. Shapes: tasks with the same demand, constraints, preferences and cost class.
  IdTable shape_index(snapshot.jobs.size());
  KeyArena shape_keys;
  const std::size_t running_count = scan.running;
  IdTable group_index(running_count);  // (shape, machine) → group
  const std::string no_machine;
  const std::string* last_machine_id = &no_machine;
  std::int32_t last_machine = -1;
  c.running.reserve(running_count);
  std::vector<std::int32_t> group_of;  // per running task
  group_of.reserve(running_count);
  std::vector<std::string> models;
  std::vector<std::pair<std::int32_t, std::int64_t>> pm;
  std::vector<std::pair<std::int32_t, std::int64_t>> pr;
  std::size_t task_number = 0;
  for (std::size_t j = 0; j < snapshot.jobs.size(); ++j) {
    const Job& job = snapshot.jobs[j];
    // A job's first task is read for its key: start loading a later job's while this one's
    // is worked on (a job is a jump in memory, past the tasks of the one before).
    if (j + 4 < snapshot.jobs.size() && !snapshot.jobs[j + 4].tasks.empty()) {
      const auto* first = reinterpret_cast<const char*>(snapshot.jobs[j + 4].tasks.data());
      for (std::size_t at = 0; at < sizeof(Task); at += 64) __builtin_prefetch(first + at);
    }
    const std::int64_t wait = std::max<std::int64_t>(0, snapshot.time - job.submit_time);
    std::int32_t previous_shape = -1;
    for (std::size_t ti = 0; ti < job.tasks.size(); ++ti) {
      stop.every(task_number, "index");
      const std::uint8_t flags = scan.flags[task_number++];
      const Task& t = job.tasks[ti];
      // Tasks of a job are usually identical: reuse the previous task's shape then.
      std::int32_t shape = previous_shape;
      if ((flags & TaskScan::kSameAsPrevious) == 0) {
        key.clear();
        append_raw(key, t.cpu_milli);
        append_raw(key, t.memory_mib);
        append_raw(key, t.gpus);
        append_raw(key, t.gpus > 0 ? 0 : t.gpu_milli);
        models.assign(t.gpu_models.begin(), t.gpu_models.end());
        std::sort(models.begin(), models.end());
        models.erase(std::unique(models.begin(), models.end()), models.end());
        append_raw(key, models.size());
        for (const auto& s : models) append_str(key, s);
        for (const auto& [k, v] : t.extra) {
          append_str(key, k);
          append_raw(key, v);
        }
        append_raw(key, t.selector.size());
        for (const auto& [k, v] : t.selector) {
          append_str(key, k);
          append_str(key, v);
        }
        pm.clear();
        pr.clear();
        for (const Preference& p : t.preferred_machines) pm.emplace_back(find_machine(p.target), p.weight);
        for (const Preference& p : t.preferred_racks) {
          const std::int32_t rack = rack_index.find(hash_bytes(p.target), rack_equal(p.target));
          if (rack >= 0) pr.emplace_back(rack, p.weight);
        }
        std::sort(pm.begin(), pm.end());
        std::sort(pr.begin(), pr.end());
        append_raw(key, pm.size());
        for (const auto& [target, weight] : pm) {  // field by field: a pair has padding bytes
          append_raw(key, target);
          append_raw(key, weight);
        }
        append_raw(key, pr.size());
        for (const auto& [target, weight] : pr) {
          append_raw(key, target);
          append_raw(key, weight);
        }
        if (by_priority) append_raw(key, job.priority);
        if (by_priority_class) {
          const auto rank = std::lower_bound(priorities.begin(), priorities.end(), job.priority) - priorities.begin();
          append_raw(key, priority_class(rank, static_cast<std::int64_t>(priorities.size())));
        }
        if (by_wait) append_raw(key, std::min<std::int64_t>(wait / 600, 10'000));

        const auto found = shape_index.try_emplace(hash_bytes(key), static_cast<std::int32_t>(c.shapes.size()),
                                                   [&](std::int32_t i) { return shape_keys[i] == key; });
        if (found.second) {
          shape_keys.push_back(key);
          Shape s;
          s.demand = demand_of(t, c.names);
          s.selector.assign(t.selector.begin(), t.selector.end());
          s.preferred_machines = pm;
          s.preferred_racks = pr;
          s.priority = job.priority;
          s.wait_s = wait;
          c.shapes.push_back(std::move(s));
        }
        shape = found.first;
      }
      previous_shape = shape;
      Shape& s = c.shapes[static_cast<std::size_t>(shape)];
      const TaskRef ref{static_cast<std::int32_t>(j), static_cast<std::int32_t>(ti)};
      if ((flags & TaskScan::kRunning) == 0) {
        s.pending.push_back(ref);
        continue;
      }
      ++s.running;
      RunningTask r;
      r.ref = ref;
      r.shape = shape;
      // Tasks of a job often run side by side: skip the lookup when the machine repeats.
      if (t.machine != *last_machine_id) {
        last_machine = find_machine(t.machine);
        last_machine_id = &t.machine;
      }
      r.machine = last_machine;
      r.priority = job.priority;
      const MachineInfo& m = c.machines[static_cast<std::size_t>(r.machine)];
      r.device_begin = static_cast<std::int32_t>(c.running_devices.size());
      for (const std::int32_t index : t.gpu_indexes) {
        const auto pos = std::find(m.gpu_index.begin(), m.gpu_index.end(), index) - m.gpu_index.begin();
        c.running_devices.push_back(static_cast<std::int32_t>(pos));
      }
      r.device_count = static_cast<std::int32_t>(t.gpu_indexes.size());
      const std::uint64_t gkey = (static_cast<std::uint64_t>(shape) << 32) | static_cast<std::uint32_t>(r.machine);
      const auto group =
          group_index.try_emplace(mix64(gkey), static_cast<std::int32_t>(c.running_groups.size()), [&](std::int32_t g) {
            const RunningGroup& existing = c.running_groups[static_cast<std::size_t>(g)];
            return existing.shape == shape && existing.machine == r.machine;
          });
      if (group.second) c.running_groups.push_back(RunningGroup{shape, r.machine, 0, 0});
      ++c.running_groups[static_cast<std::size_t>(group.first)].count;
      group_of.push_back(group.first);
      c.running.push_back(r);
    }
  }

  // 4. Flat lists: each group's tasks and each machine's running tasks, in snapshot order.
  std::int32_t offset = 0;
  for (RunningGroup& g : c.running_groups) {
    g.begin = offset;
    offset += g.count;
    g.count = 0;
  }
  c.group_tasks.resize(c.running.size());
  c.running_on_begin.assign(c.machines.size() + 1, 0);
  for (std::size_t id = 0; id < c.running.size(); ++id) {
    RunningGroup& g = c.running_groups[static_cast<std::size_t>(group_of[id])];
    c.group_tasks[static_cast<std::size_t>(g.begin + g.count++)] = static_cast<std::int32_t>(id);
    ++c.running_on_begin[static_cast<std::size_t>(c.running[id].machine) + 1];
  }
  for (std::size_t m = 0; m < c.machines.size(); ++m) c.running_on_begin[m + 1] += c.running_on_begin[m];
  c.running_on_ids.resize(c.running.size());
  std::vector<std::int32_t> fill(c.running_on_begin.begin(), c.running_on_begin.end() - 1);
  for (std::size_t id = 0; id < c.running.size(); ++id) {
    c.running_on_ids[static_cast<std::size_t>(fill[static_cast<std::size_t>(c.running[id].machine)]++)] =
        static_cast<std::int32_t>(id);
  }
  return c;
}

Cluster residual_cluster(const Cluster& c, const std::vector<Resources>& free,
                         const std::vector<std::pair<std::int32_t, std::vector<TaskRef>>>& pending,
                         const std::atomic<bool>* cancel) {
  Cluster r;
  r.snapshot = c.snapshot;
  r.priorities = c.priorities;
  r.trace = c.trace;
  r.names = c.names;
  r.racks = c.racks;
  r.rack_members = c.rack_members;
  r.machines = c.machines;
  for (std::size_t m = 0; m < r.machines.size(); ++m) r.machines[m].free = free[m];
  // The smallest demand in every resource over the shapes: a machine without it fits none.
  std::int64_t min_cpu = std::numeric_limits<std::int64_t>::max();
  std::int64_t min_memory = min_cpu;
  std::int32_t min_gpu = kGpuMilliWhole;  // per device, when every shape wants a GPU
  bool all_want_gpu = true;
  r.shapes.reserve(pending.size());
  for (const auto& [origin, tasks] : pending) {
    const Shape& from = c.shapes[static_cast<std::size_t>(origin)];
    Shape& s = r.shapes.emplace_back();
    s.demand = from.demand;
    s.selector = from.selector;
    s.preferred_machines = from.preferred_machines;
    s.preferred_racks = from.preferred_racks;
    s.priority = from.priority;
    s.wait_s = from.wait_s;
    s.pending = tasks;
    r.shape_origin.push_back(origin);
    min_cpu = std::min(min_cpu, s.demand.cpu);
    min_memory = std::min(min_memory, s.demand.memory);
    if (!s.demand.wants_gpu()) all_want_gpu = false;
    if (s.demand.gpu_milli > 0) min_gpu = std::min(min_gpu, s.demand.gpu_milli);
  }
  std::vector<std::uint8_t> open(r.machines.size(), 0);
  const Interrupt stop(cancel);
  for (std::size_t m = 0; m < r.machines.size(); ++m) {
    stop.every(m, "re-solve");
    const Resources& f = r.machines[m].free;
    bool ok = f.cpu >= min_cpu && f.memory >= min_memory;
    if (ok && all_want_gpu) {
      ok = std::any_of(f.gpu_free.begin(), f.gpu_free.end(), [&](std::int32_t g) { return g >= min_gpu; });
    }
    open[m] = ok ? 1 : 0;
  }
  classify_machines(r, &open);
  r.running_on_begin.assign(r.machines.size() + 1, 0);
  return r;
}

}  // namespace sluice::detail
