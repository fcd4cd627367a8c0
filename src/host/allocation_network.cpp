// Allocation network construction (see allocation_network.hpp for the formulation).
// Cost: O(machines + tasks) to index, O(shapes × evaluated classes) fit/cost evaluations,
// O(arcs) to emit. Deterministic: every choice follows snapshot order or a total order.
#include "allocation_network.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unordered_map>

namespace sluice::detail {

void trace_step(const char* what, std::chrono::steady_clock::time_point& since) {
  static const bool on = std::getenv("SLUICE_TRACE") != nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (on) std::fprintf(stderr, "[allocate] %s: %.3f s\n", what, std::chrono::duration<double>(now - since).count());
  since = now;
}

namespace {

template <typename T>
void append_raw(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
void append_str(std::string& key, const std::string& s) {
  append_raw(key, s.size());
  key += s;
}

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

}  // namespace

bool labels_match(const Cluster& c, const Shape& s, std::int32_t m) {
  const auto& labels = c.snapshot->machines[static_cast<std::size_t>(m)].labels;
  for (const auto& [key, value] : s.selector) {
    const auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

Cluster index_cluster(const Snapshot& snapshot, const AllocateOptions& options) {
  Cluster c;
  c.snapshot = &snapshot;
  const bool by_priority = options.cost_model == CostModel::kPriority;
  const bool by_wait = options.cost_model == CostModel::kQuincy;

  // 1. Names: GPU models and extra resources of machines, then of task demands.
  for (const Machine& m : snapshot.machines) {
    for (const Gpu& g : m.gpus) c.names.intern_model(g.model);
    for (const auto& [name, amount] : m.extra_capacity) c.names.intern_extra(name);
    for (const auto& [name, amount] : m.extra_free) c.names.intern_extra(name);
  }
  for (const Job& j : snapshot.jobs) {
    for (const Task& t : j.tasks) {
      for (const auto& [name, amount] : t.extra) c.names.intern_extra(name);
    }
  }

  auto t = std::chrono::steady_clock::now();
  // 2. Machines, racks and machine classes.
  std::unordered_map<std::string, std::int32_t> machine_index;
  std::unordered_map<std::string, std::int32_t> rack_index;
  std::unordered_map<std::string, std::int32_t> class_index;
  machine_index.reserve(snapshot.machines.size());
  c.machines.reserve(snapshot.machines.size());
  std::string key;
  for (std::size_t i = 0; i < snapshot.machines.size(); ++i) {
    const Machine& m = snapshot.machines[i];
    machine_index.emplace(m.id, static_cast<std::int32_t>(i));
    MachineInfo info;
    const auto rack = rack_index.try_emplace(m.rack, static_cast<std::int32_t>(c.racks.size()));
    if (rack.second) {
      c.racks.push_back(m.rack);
      c.rack_members.emplace_back();
    }
    info.rack = rack.first->second;
    c.rack_members[static_cast<std::size_t>(info.rack)].push_back(static_cast<std::int32_t>(i));
    for (const Gpu& g : m.gpus) {
      info.gpu_model.push_back(c.names.gpu_model.at(g.model));
      info.gpu_index.push_back(g.index);
    }
    info.capacity = resources_of(m.cpu_milli, m.memory_mib, m.gpus, false, m.extra_capacity, c.names);
    info.free = resources_of(m.free_cpu_milli, m.free_memory_mib, m.gpus, true, m.extra_free, c.names);

    key.clear();
    append_raw(key, m.cpu_milli);
    append_raw(key, m.memory_mib);
    append_raw(key, m.free_cpu_milli);
    append_raw(key, m.free_memory_mib);
    std::vector<std::pair<std::int32_t, std::int32_t>> devices;
    for (std::size_t g = 0; g < m.gpus.size(); ++g) devices.emplace_back(info.gpu_model[g], m.gpus[g].free_milli);
    std::sort(devices.begin(), devices.end());
    append_raw(key, devices.size());
    for (const auto& d : devices) append_raw(key, d);
    for (std::size_t e = 0; e < info.capacity.extra.size(); ++e) {
      append_raw(key, info.capacity.extra[e]);
      append_raw(key, info.free.extra[e]);
    }
    for (const auto& [k, v] : m.labels) {
      append_str(key, k);
      append_str(key, v);
    }
    const auto cls = class_index.try_emplace(key, static_cast<std::int32_t>(c.class_rep.size()));
    if (cls.second) {
      c.class_rep.push_back(static_cast<std::int32_t>(i));
      c.class_members.emplace_back();
    }
    info.machine_class = cls.first->second;
    c.class_members[static_cast<std::size_t>(info.machine_class)].push_back(static_cast<std::int32_t>(i));
    c.machines.push_back(std::move(info));
  }

  trace_step("index: machines", t);
  // 3. Shapes: tasks with the same demand, constraints, preferences and cost class.
  std::unordered_map<std::string, std::int32_t> shape_index;
  std::unordered_map<std::uint64_t, std::int32_t> group_index;  // (shape, machine) → group
  const std::string no_machine;
  const std::string* last_machine_id = &no_machine;
  std::int32_t last_machine = -1;
  std::size_t running_count = 0;
  for (const Job& j : snapshot.jobs) {
    for (const Task& t : j.tasks) running_count += t.state == TaskState::kRunning ? 1 : 0;
  }
  c.running.reserve(running_count);
  std::vector<std::int32_t> group_of;  // per running task
  group_of.reserve(running_count);
  group_index.reserve(running_count);
  for (std::size_t j = 0; j < snapshot.jobs.size(); ++j) {
    const Job& job = snapshot.jobs[j];
    const std::int64_t wait = std::max<std::int64_t>(0, snapshot.time - job.submit_time);
    std::int32_t previous_shape = -1;
    for (std::size_t ti = 0; ti < job.tasks.size(); ++ti) {
      const Task& t = job.tasks[ti];
      // Tasks of a job are usually identical: reuse the previous task's shape then.
      const bool same_as_previous = ti > 0 && same_shape(t, job.tasks[ti - 1]);
      std::int32_t shape = previous_shape;
      if (!same_as_previous) {
        key.clear();
        append_raw(key, t.cpu_milli);
        append_raw(key, t.memory_mib);
        append_raw(key, t.gpus);
        append_raw(key, t.gpus > 0 ? 0 : t.gpu_milli);
        std::vector<std::string> models = t.gpu_models;
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
        std::vector<std::pair<std::int32_t, std::int64_t>> pm;
        std::vector<std::pair<std::int32_t, std::int64_t>> pr;
        for (const Preference& p : t.preferred_machines) pm.emplace_back(machine_index.at(p.target), p.weight);
        for (const Preference& p : t.preferred_racks) {
          const auto it = rack_index.find(p.target);
          if (it != rack_index.end()) pr.emplace_back(it->second, p.weight);
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
        if (by_wait) append_raw(key, std::min<std::int64_t>(wait / 600, 10'000));

        const auto [it, fresh] = shape_index.try_emplace(key, static_cast<std::int32_t>(c.shapes.size()));
        if (fresh) {
          Shape s;
          s.demand = demand_of(t, c.names);
          s.selector.assign(t.selector.begin(), t.selector.end());
          s.preferred_machines = std::move(pm);
          s.preferred_racks = std::move(pr);
          s.priority = job.priority;
          s.wait_s = wait;
          c.shapes.push_back(std::move(s));
        }
        shape = it->second;
      }
      previous_shape = shape;
      Shape& s = c.shapes[static_cast<std::size_t>(shape)];
      const TaskRef ref{static_cast<std::int32_t>(j), static_cast<std::int32_t>(ti)};
      if (t.state == TaskState::kPending) {
        s.pending.push_back(ref);
        continue;
      }
      ++s.running;
      RunningTask r;
      r.ref = ref;
      r.shape = shape;
      // Tasks of a job often run side by side: skip the lookup when the machine repeats.
      if (t.machine != *last_machine_id) {
        last_machine = machine_index.at(t.machine);
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
      const auto [git, gfresh] = group_index.try_emplace(gkey, static_cast<std::int32_t>(c.running_groups.size()));
      if (gfresh) c.running_groups.push_back(RunningGroup{shape, r.machine, 0, 0});
      ++c.running_groups[static_cast<std::size_t>(git->second)].count;
      group_of.push_back(git->second);
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

namespace {

// Resources of machine `m` with every running task of priority below `priority` gone.
Resources without_lower_priority(const Cluster& c, std::int32_t m, std::int32_t priority, std::int64_t& displaceable) {
  const MachineInfo& info = c.machines[static_cast<std::size_t>(m)];
  Resources r = info.free;
  displaceable = 0;
  for (const std::int32_t id : c.running_on(m)) {
    const RunningTask& t = c.running[static_cast<std::size_t>(id)];
    if (t.priority >= priority) continue;
    give_back(c.shapes[static_cast<std::size_t>(t.shape)].demand, r, c.devices(t));
    ++displaceable;
  }
  return r;
}

struct Scored {
  std::int64_t cost;
  std::int32_t cls;  // a machine class (or, for rack members, a machine)
  std::int64_t fit;
};

class Builder {
 public:
  Builder(Cluster& c, const CostContext& costs, const AllocateOptions& o) : c_(c), costs_(costs), o_(o) {}

  BuiltNetwork run();

 private:
  void find_candidates(std::int32_t shape_id);
  // Fit and cost of a shape on each evaluated class, cheapest first, cut after the classes
  // that could cover the shape. Reads only shared immutable state: runs on many threads.
  std::vector<Scored> score_classes(std::int32_t shape_id, std::int64_t& evaluations) const;
  void score_all_shapes();
  std::int32_t machine_node(std::int32_t m);
  std::int32_t unscheduled_node(std::int32_t job);
  std::int64_t preference_discount(const Shape& s, std::int32_t m) const;

  Cluster& c_;
  const CostContext& costs_;
  const AllocateOptions& o_;
  BuiltNetwork out_;
  std::vector<std::vector<Scored>> scored_;  // per shape
  std::vector<std::int32_t> class_cursor_;
  std::vector<double> claimed_;  // per machine: Σ over shapes connected of arc cap / fit
  std::vector<std::int32_t> stamp_;       // per machine: last shape that took it
  std::vector<std::int32_t> stamp_slot_;  // per machine: its index in that shape's candidates
  std::vector<std::int32_t> machine_node_;
  std::vector<std::int64_t> sink_sum_;    // per machine: Σ over shapes of (fit + fixed running)
  std::vector<std::int64_t> sink_count_;  // per machine: shapes connected
  std::vector<std::int32_t> u_node_;
  std::vector<std::int32_t> by_min_running_priority_;  // machines with running tasks
  std::int64_t window_ = 0;
  std::int32_t sink_ = 0;
};

std::int64_t Builder::preference_discount(const Shape& s, std::int32_t m) const {
  std::int64_t w = 0;
  for (const auto& [pm, weight] : s.preferred_machines) w += pm == m ? weight : 0;
  const std::int32_t rack = c_.machines[static_cast<std::size_t>(m)].rack;
  for (const auto& [pr, weight] : s.preferred_racks) w += pr == rack ? weight : 0;
  return w;
}

void Builder::find_candidates(std::int32_t shape_id) {
  Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known) return;

  const auto add = [&](std::int32_t m, std::int64_t fit, std::int64_t cost, std::int64_t fixed) {
    if (stamp_[static_cast<std::size_t>(m)] == shape_id) {
      Candidate& existing = s.candidates[static_cast<std::size_t>(stamp_slot_[static_cast<std::size_t>(m)])];
      if (fit > existing.fit) existing = Candidate{m, fit, cost, fixed};
      return;
    }
    stamp_[static_cast<std::size_t>(m)] = shape_id;
    stamp_slot_[static_cast<std::size_t>(m)] = static_cast<std::int32_t>(s.candidates.size());
    s.candidates.push_back(Candidate{m, fit, cost, fixed});
  };
  const auto running_on = [&](std::int32_t m) { return static_cast<std::int64_t>(c_.running_on(m).size()); };

  // 1. Fit and cost per machine class, cheapest first (computed in parallel beforehand).
  const std::vector<Scored>& scored = scored_[static_cast<std::size_t>(shape_id)];
  const bool all = o_.candidate_slack <= 0;
  const double need_d = all ? 0.0 : std::ceil(o_.candidate_slack * static_cast<double>(supply));
  const std::int64_t need = static_cast<std::int64_t>(std::min(need_d, 9e15));

  // 2. Machines of the cheapest classes until the shape is covered with slack. A machine
  //    already claimed by earlier shapes for `candidate_slack` times what it holds is
  //    skipped in a first pass, so that when demand exceeds the cheapest classes the
  //    candidates spread over the cluster instead of piling onto the same machines (the
  //    flow can only use machines it is connected to). A second pass ignores the claims
  //    when the first could not cover the shape.
  std::int64_t covered = 0;
  std::int64_t taken = 0;
  const auto done = [&] { return !all && covered >= need && taken >= o_.min_candidates; };
  const double claim_limit = all ? 0.0 : o_.candidate_slack;
  for (int pass = all ? 1 : 0; pass < 2 && !done(); ++pass) {
    for (const Scored& sc : scored) {
      if (done()) break;
      const auto& members = c_.class_members[static_cast<std::size_t>(sc.cls)];
      std::int32_t& cursor = class_cursor_[static_cast<std::size_t>(sc.cls)];
      const auto size = static_cast<std::int32_t>(members.size());
      std::int32_t used = 0;
      for (; used < size; ++used) {
        if (done()) break;
        const std::int32_t m = members[static_cast<std::size_t>((cursor + used) % size)];
        double& claimed = claimed_[static_cast<std::size_t>(m)];
        if (pass == 0 && claimed >= claim_limit) continue;
        if (stamp_[static_cast<std::size_t>(m)] == shape_id) continue;  // taken in the first pass
        const std::int64_t arc = std::min(sc.fit, supply);
        add(m, arc, sc.cost - preference_discount(s, m), running_on(m));
        claimed += static_cast<double>(arc) / static_cast<double>(sc.fit);
        covered += sc.fit;
        ++taken;
      }
      cursor = static_cast<std::int32_t>((cursor + used) % size);
    }
  }

  // 3. Preferred machines and members of preferred racks, where the shape fits.
  const auto consider = [&](std::int32_t m) {
    if (!labels_match(c_, s, m)) return;
    const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
    const std::int64_t fit = fit_count(d, info.free, info.gpu_model);
    ++out_.cost_evaluations;
    if (fit <= 0) return;
    add(m, std::min(fit, supply),
        costs_.placement(d, info.capacity, info.free, info.gpu_model) - preference_discount(s, m), running_on(m));
  };
  for (const auto& [m, w] : s.preferred_machines) consider(m);
  // Rack members: the cheapest that fit, until they cover the shape like the classes do.
  for (const auto& [rack, w] : s.preferred_racks) {
    std::vector<Scored> members;
    for (const std::int32_t m : c_.rack_members[static_cast<std::size_t>(rack)]) {
      if (!labels_match(c_, s, m)) continue;
      const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
      const std::int64_t fit = fit_count(d, info.free, info.gpu_model);
      ++out_.cost_evaluations;
      if (fit > 0)
        members.push_back(
            {costs_.placement(d, info.capacity, info.free, info.gpu_model) - preference_discount(s, m), m, fit});
    }
    std::sort(members.begin(), members.end(),
              [](const Scored& a, const Scored& b) { return a.cost != b.cost ? a.cost < b.cost : a.cls < b.cls; });
    std::int64_t rack_covered = 0;
    for (const Scored& sc : members) {  // .cls holds the machine here
      if (!all && rack_covered >= need) break;
      add(sc.cls, std::min(sc.fit, supply), sc.cost, running_on(sc.cls));
      rack_covered += sc.fit;
    }
  }

  // 4. Priority model: machines whose lower-priority running tasks could make room.
  const auto pending = static_cast<std::int64_t>(s.pending.size());
  if (costs_.preempts() && o_.allow_preemption && pending > 0) {
    std::int64_t free_room = 0;
    for (const Candidate& cand : s.candidates) free_room += cand.fit;
    const std::int64_t want = all ? kUnlimitedFit : std::max<std::int64_t>(need, pending);
    for (const std::int32_t m : by_min_running_priority_) {
      if (free_room >= want) break;
      const auto& on = c_.running_on(m);
      std::int32_t lowest = c_.running[static_cast<std::size_t>(on.front())].priority;
      for (const std::int32_t id : on) lowest = std::min(lowest, c_.running[static_cast<std::size_t>(id)].priority);
      if (lowest >= s.priority) break;  // sorted: no later machine has lower priority
      if (!labels_match(c_, s, m)) continue;
      std::int64_t displaceable = 0;
      const Resources room = without_lower_priority(c_, m, s.priority, displaceable);
      const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
      const std::int64_t fit = fit_count(d, room, info.gpu_model);
      ++out_.cost_evaluations;
      if (fit <= 0) continue;
      free_room += fit;
      add(m, std::min(fit, supply),
          costs_.placement(d, info.capacity, room, info.gpu_model) - preference_discount(s, m),
          running_on(m) - displaceable);
    }
  }
  std::sort(s.candidates.begin(), s.candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.machine < b.machine;
  });
}

std::vector<Scored> Builder::score_classes(std::int32_t shape_id, std::int64_t& evaluations) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  std::vector<Scored> scored;
  if (supply == 0 || !d.any_model_known) return scored;
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  const std::int64_t count = std::min(n_classes, window_);
  const std::int64_t start = count == n_classes ? 0 : (static_cast<std::int64_t>(shape_id) * count) % n_classes;
  for (std::int64_t k = 0; k < count; ++k) {
    const auto cls = static_cast<std::int32_t>((start + k) % n_classes);
    const std::int32_t rep = c_.class_rep[static_cast<std::size_t>(cls)];
    if (!labels_match(c_, s, rep)) continue;
    const MachineInfo& m = c_.machines[static_cast<std::size_t>(rep)];
    const std::int64_t fit = fit_count(d, m.free, m.gpu_model);
    if (fit <= 0) continue;
    scored.push_back({costs_.placement(d, m.capacity, m.free, m.gpu_model), cls, fit});
  }
  evaluations += count;
  std::sort(scored.begin(), scored.end(),
            [](const Scored& a, const Scored& b) { return a.cost != b.cost ? a.cost < b.cost : a.cls < b.cls; });
  if (o_.candidate_slack > 0) {  // keep the prefix that could ever be taken
    // Claims (find_candidates) may skip machines: keep classes for 4× the need.
    const double need = 4.0 * std::ceil(o_.candidate_slack * static_cast<double>(supply));
    double covered = 0;
    std::int64_t machines = 0;
    std::size_t keep = 0;
    while (keep < scored.size() && (covered < need || machines < o_.min_candidates)) {
      const auto members =
          static_cast<std::int64_t>(c_.class_members[static_cast<std::size_t>(scored[keep].cls)].size());
      covered += static_cast<double>(scored[keep].fit) * static_cast<double>(members);
      machines += members;
      ++keep;
    }
    scored.resize(keep);
    scored.shrink_to_fit();
  }
  return scored;
}

void Builder::score_all_shapes() {
  const auto n = static_cast<std::int32_t>(c_.shapes.size());
  scored_.assign(c_.shapes.size(), {});
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const auto threads =
      static_cast<std::int32_t>(std::min<unsigned>(std::min(hw, 8u), static_cast<unsigned>(n / 256 + 1)));
  std::atomic<std::int32_t> next{0};
  std::vector<std::int64_t> evaluations(static_cast<std::size_t>(threads), 0);
  const auto work = [&](std::int32_t worker) {
    constexpr std::int32_t kChunk = 64;
    for (std::int32_t begin = next.fetch_add(kChunk); begin < n; begin = next.fetch_add(kChunk)) {
      for (std::int32_t sh = begin; sh < std::min(n, begin + kChunk); ++sh) {
        scored_[static_cast<std::size_t>(sh)] = score_classes(sh, evaluations[static_cast<std::size_t>(worker)]);
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::int32_t w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  for (const std::int64_t e : evaluations) out_.cost_evaluations += e;
}

std::int32_t Builder::machine_node(std::int32_t m) {
  std::int32_t& node = machine_node_[static_cast<std::size_t>(m)];
  if (node < 0) node = out_.network.add_node(0);
  return node;
}

std::int32_t Builder::unscheduled_node(std::int32_t job) {
  std::int32_t& node = u_node_[static_cast<std::size_t>(job)];
  if (node < 0) {
    node = out_.network.add_node(0);
    out_.network.add_arc(node, sink_, 0, kInfiniteCapacity, 0);
  }
  return node;
}

BuiltNetwork Builder::run() {
  const Snapshot& snap = *c_.snapshot;
  const auto n_shapes = static_cast<std::int64_t>(c_.shapes.size());
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  class_cursor_.assign(c_.class_rep.size(), 0);
  claimed_.assign(c_.machines.size(), 0.0);
  stamp_.assign(c_.machines.size(), -1);
  stamp_slot_.assign(c_.machines.size(), 0);
  machine_node_.assign(c_.machines.size(), -1);
  sink_sum_.assign(c_.machines.size(), 0);
  sink_count_.assign(c_.machines.size(), 0);
  u_node_.assign(snap.jobs.size(), -1);
  std::int64_t evaluations = o_.max_evaluations;
  if (evaluations <= 0) {
    std::int64_t tasks = 0;
    for (const Job& j : snap.jobs) tasks += static_cast<std::int64_t>(j.tasks.size());
    evaluations = std::min<std::int64_t>(8'000'000, 16 * (tasks + static_cast<std::int64_t>(c_.machines.size())));
  }
  const std::int64_t budget = std::max<std::int64_t>(1, evaluations / costs_.evaluation_weight());
  window_ = n_shapes * n_classes <= budget ? n_classes
                                           : std::max<std::int64_t>(64, budget / std::max<std::int64_t>(1, n_shapes));

  if (costs_.preempts() && o_.allow_preemption) {
    std::vector<std::pair<std::int32_t, std::int32_t>> order;  // (lowest running priority, machine)
    for (std::size_t m = 0; m < c_.machines.size(); ++m) {
      if (c_.running_on(static_cast<std::int32_t>(m)).empty()) continue;
      std::int32_t lowest =
          c_.running[static_cast<std::size_t>(c_.running_on(static_cast<std::int32_t>(m)).front())].priority;
      for (const std::int32_t id : c_.running_on(static_cast<std::int32_t>(m)))
        lowest = std::min(lowest, c_.running[static_cast<std::size_t>(id)].priority);
      order.emplace_back(lowest, static_cast<std::int32_t>(m));
    }
    std::sort(order.begin(), order.end());
    for (const auto& o : order) by_min_running_priority_.push_back(o.second);
  }

  // 1. Candidates per shape.
  auto t = std::chrono::steady_clock::now();
  score_all_shapes();
  trace_step("candidates: scoring classes", t);
  for (std::int32_t s = 0; s < static_cast<std::int32_t>(n_shapes); ++s) find_candidates(s);
  scored_ = {};
  trace_step("candidates: machines", t);

  // 2. Nodes and arcs. Sink first; machine and unscheduled nodes as they are first used.
  Network& net = out_.network;
  sink_ = net.add_node(0);
  std::int64_t total_supply = 0;
  out_.shape_arcs.resize(c_.shapes.size());
  out_.shape_job_runs.resize(c_.shapes.size());
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    const Shape& s = c_.shapes[si];
    const auto pending = static_cast<std::int64_t>(s.pending.size());
    for (const Candidate& cand : s.candidates) {  // room: see step 4
      sink_sum_[static_cast<std::size_t>(cand.machine)] +=
          std::min(cand.fit, std::max<std::int64_t>(pending, 1)) + cand.fixed_running;
      ++sink_count_[static_cast<std::size_t>(cand.machine)];
    }
    if (pending == 0) continue;
    auto& runs = out_.shape_job_runs[si];
    for (std::size_t i = 1; i <= s.pending.size(); ++i) {
      if (i == s.pending.size() || s.pending[i].job != s.pending[i - 1].job)
        runs.push_back(static_cast<std::int32_t>(i));
    }
    const Job* first_job = &snap.jobs[static_cast<std::size_t>(s.pending.front().job)];
    const std::int64_t u_cost =
        costs_.unscheduled(s.priority, std::max<std::int64_t>(0, snap.time - first_job->submit_time));
    total_supply += pending;
    const auto emit = [&](std::int32_t node, std::int64_t cap_limit, BuiltNetwork::NodeArcs& arcs) {
      arcs.first = net.num_arcs();
      for (const Candidate& cand : s.candidates) {
        net.add_arc(node, machine_node(cand.machine), 0, std::min(cand.fit, cap_limit), cand.cost);
        arcs.targets.push_back(cand.machine);
      }
      arcs.count = static_cast<std::int32_t>(arcs.targets.size());
    };
    // Not aggregated: one node per task, each feeding the shape's node (Firmament's task
    // equivalence class), which then carries no supply of its own.
    std::int32_t run_begin = 0;
    for (const std::int32_t end : runs) {  // before any arc: read_flow finds U arcs by position
      (void)unscheduled_node(s.pending[static_cast<std::size_t>(run_begin)].job);
      run_begin = end;
    }
    const NodeId node = net.add_node(o_.aggregate ? pending : 0);
    if (!o_.aggregate) {
      for (std::int64_t i = 0; i < pending; ++i) net.add_arc(net.add_node(1), node, 0, 1, 0);
    }
    emit(node, pending, out_.shape_arcs[si]);
    std::int32_t begin = 0;
    for (const std::int32_t end : runs) {
      const std::int32_t job = s.pending[static_cast<std::size_t>(begin)].job;
      net.add_arc(node, unscheduled_node(job), 0, end - begin, u_cost);
      begin = end;
    }
  }

  // 3. Running tasks: stay, migrate to the shape's cheapest candidates, or be preempted.
  const bool preempt_arcs = costs_.preempts() && o_.allow_preemption;
  //    A group that can only stay (no cheaper place, no preemption arc) is not a choice:
  //    it leaves the network and takes its room off its machine's sink arc.
  std::vector<std::int64_t> fixed_on(c_.machines.size(), 0);
  out_.group_arcs.resize(c_.running_groups.size());
  for (std::size_t gi = 0; gi < c_.running_groups.size(); ++gi) {
    const RunningGroup& g = c_.running_groups[gi];
    const auto k = static_cast<std::int64_t>(g.count);
    const Shape& s = c_.shapes[static_cast<std::size_t>(g.shape)];
    const RunningTask& first = c_.running[static_cast<std::size_t>(c_.members(g).front())];
    const MachineInfo& here = c_.machines[static_cast<std::size_t>(g.machine)];
    Resources as_if_new = here.free;
    give_back(s.demand, as_if_new, c_.devices(first));
    const std::int64_t stay =
        costs_.placement(s.demand, here.capacity, as_if_new, here.gpu_model) - preference_discount(s, g.machine);
    ++out_.cost_evaluations;
    std::vector<const Candidate*> moves;
    if (o_.allow_migration) {
      for (const Candidate& cand : s.candidates) {
        if (static_cast<std::int32_t>(moves.size()) >= o_.migration_candidates) break;
        if (cand.cost + o_.migration_cost >= stay) break;  // sorted: no later one is cheaper
        if (cand.machine == g.machine ||
            cand.fixed_running < static_cast<std::int64_t>(c_.running_on(cand.machine).size()))
          continue;
        moves.push_back(&cand);
      }
    }
    BuiltNetwork::NodeArcs& arcs = out_.group_arcs[gi];
    if (moves.empty() && !preempt_arcs) {
      arcs.fixed = true;
      fixed_on[static_cast<std::size_t>(g.machine)] += k;
      continue;
    }
    total_supply += k;
    const NodeId node = net.add_node(o_.aggregate ? k : 0);
    if (!o_.aggregate) {
      for (std::int64_t i = 0; i < k; ++i) net.add_arc(net.add_node(1), node, 0, 1, 0);
    }
    arcs.first = net.num_arcs();
    net.add_arc(node, machine_node(g.machine), 0, k, stay);
    arcs.targets.push_back(g.machine);
    for (const Candidate* cand : moves) {
      net.add_arc(node, machine_node(cand->machine), 0, std::min(cand->fit, k), cand->cost + o_.migration_cost);
      arcs.targets.push_back(cand->machine);
    }
    arcs.count = static_cast<std::int32_t>(arcs.targets.size());
    if (preempt_arcs) {
      const Job& job = snap.jobs[static_cast<std::size_t>(first.ref.job)];
      net.add_arc(node, unscheduled_node(first.ref.job), 0, k,
                  costs_.preemption(job.priority, std::max<std::int64_t>(0, snap.time - job.submit_time)));
    }
  }

  // 4. Machine → sink, in tasks: the mean over connected shapes of (fit + running tasks it
  //    cannot displace), rounded up. A machine holds fit(s) tasks of one shape, but fewer of
  //    a mix; the maximum over shapes let the flow overfill machines with mixes (measured:
  //    12% of tasks needed repair at 1M tasks), the mean keeps that under 0.5%. Convex
  //    slices for models that price load.
  const int segments = costs_.slot_segments();
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    const std::int32_t node = machine_node_[m];
    if (node < 0) continue;
    const auto all_running = static_cast<std::int64_t>(c_.running_on(static_cast<std::int32_t>(m)).size());
    const std::int64_t running = all_running - fixed_on[m];
    const std::int64_t count = sink_count_[m];
    const std::int64_t mean = count > 0 ? (sink_sum_[m] + count - 1) / count : 0;
    const std::int64_t cap = std::max(mean, all_running) - fixed_on[m];
    const std::int64_t fresh = cap - running;
    for (int k = 0; k < segments; ++k) {
      const std::int64_t slice = fresh / segments + (k < fresh % segments ? 1 : 0) + (k == 0 ? running : 0);
      if (slice > 0) net.add_arc(node, sink_, 0, slice, costs_.slot_segment_cost(k));
    }
  }
  net.set_supply(sink_, -total_supply);
  trace_step("network", t);
  return std::move(out_);
}

}  // namespace

BuiltNetwork build_network(Cluster& cluster, const CostContext& costs, const AllocateOptions& options) {
  return Builder(cluster, costs, options).run();
}

FlowDecision read_flow(const Cluster& c, const BuiltNetwork& built, const std::vector<std::int64_t>& flow,
                       const AllocateOptions& /*options*/) {
  FlowDecision out;
  out.pending_machine.resize(c.shapes.size());
  const auto f = [&](std::int32_t arc) { return flow[static_cast<std::size_t>(arc)]; };
  for (std::size_t si = 0; si < c.shapes.size(); ++si) {
    const Shape& s = c.shapes[si];
    auto& machine = out.pending_machine[si];
    machine.assign(s.pending.size(), -1);
    if (s.pending.empty()) continue;
    // The last f_j tasks of each job's run stay unscheduled; the rest are dealt to the
    // machine arcs in arc order.
    const auto& arcs = built.shape_arcs[si];
    const auto& runs = built.shape_job_runs[si];
    std::vector<std::uint8_t> unscheduled(s.pending.size(), 0);
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const std::int64_t u = f(arcs.first + arcs.count + static_cast<std::int32_t>(r));
      for (std::int64_t k = 0; k < u; ++k) unscheduled[static_cast<std::size_t>(runs[r] - 1 - k)] = 1;
    }
    std::size_t next = 0;
    for (std::int32_t a = 0; a < arcs.count; ++a) {
      for (std::int64_t k = f(arcs.first + a); k > 0; --k) {
        while (next < s.pending.size() && unscheduled[next] != 0) ++next;
        if (next == s.pending.size()) break;
        machine[next++] = arcs.targets[static_cast<std::size_t>(a)];
      }
    }
  }

  out.running_machine.assign(c.running.size(), -1);
  for (std::size_t gi = 0; gi < c.running_groups.size(); ++gi) {
    const RunningGroup& g = c.running_groups[gi];
    const auto& arcs = built.group_arcs[gi];
    if (arcs.fixed) {
      for (const std::int32_t id : c.members(g)) out.running_machine[static_cast<std::size_t>(id)] = g.machine;
      continue;
    }
    std::size_t next = 0;
    for (std::int32_t a = 0; a < arcs.count; ++a) {
      for (std::int64_t k = f(arcs.first + a); k > 0 && next < c.members(g).size(); --k) {
        out.running_machine[static_cast<std::size_t>(c.members(g)[next++])] = arcs.targets[static_cast<std::size_t>(a)];
      }
    }
  }
  return out;
}

}  // namespace sluice::detail
