// Allocation network construction (see allocation_network.hpp for the formulation).
// Cost: O(machines + tasks) to index, O(shapes × evaluated classes) evaluations (fit and
// cost computed once per shape and group of classes with the same resources), O(arcs) to
// emit. Deterministic: every choice follows snapshot order or a total order.
#include "allocation_network.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

namespace sluice::detail {

void trace_step(const char* what, std::chrono::steady_clock::time_point& since) {
  static const bool on = std::getenv("SLUICE_TRACE") != nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (on) std::fprintf(stderr, "[allocate] %s: %.3f s\n", what, std::chrono::duration<double>(now - since).count());
  since = now;
}

namespace {

// Open addressing from key hashes to dense ids (0, 1, 2, ... as keys first appear). The
// caller keeps the keys and says through `equal(id)` whether the key of an id is the one
// looked up, since hashes collide. One flat array: no allocation per key, and nothing to
// free key by key afterwards (a node-based map of a million-task snapshot's keys spent
// more time in malloc, hashing std::strings and freeing than in the grouping itself).
class IdTable {
 public:
  explicit IdTable(std::size_t expected) { rehash(expected); }

  // The id of the key; when it is new, `fresh`, stored now (.second tells which).
  template <typename Equal>
  std::pair<std::int32_t, bool> try_emplace(std::uint64_t hash, std::int32_t fresh, Equal&& equal) {
    const auto tag = static_cast<std::uint32_t>(hash ^ (hash >> 32));
    std::size_t i = tag & mask_;
    for (; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && equal(slots_[i].id)) return {slots_[i].id, false};
    }
    slots_[i] = Slot{tag, fresh};
    if (2 * ++size_ > slots_.size()) rehash(size_);
    return {fresh, true};
  }

  // Starts loading the slot a look-up of `hash` reads first: tables larger than the cache
  // cost a miss per look-up otherwise.
  void prefetch(std::uint64_t hash) const {
    __builtin_prefetch(&slots_[static_cast<std::uint32_t>(hash ^ (hash >> 32)) & mask_]);
  }

  // The id of the key, or -1.
  template <typename Equal>
  [[nodiscard]] std::int32_t find(std::uint64_t hash, Equal&& equal) const {
    const auto tag = static_cast<std::uint32_t>(hash ^ (hash >> 32));
    for (std::size_t i = tag & mask_; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && equal(slots_[i].id)) return slots_[i].id;
    }
    return -1;
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;  // the hash folded to 32 bits; also picks the first slot
    std::int32_t id = -1;   // -1: empty
  };

  void rehash(std::size_t keys) {  // to at least twice `keys` slots: probes stay short
    std::size_t n = 16;
    while (n < 2 * keys + 2) n *= 2;
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(n));
    mask_ = n - 1;
    for (const Slot& slot : old) {
      if (slot.id < 0) continue;
      std::size_t i = slot.tag & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

std::uint64_t hash_bytes(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

// A 64-bit integer key spread over all bits (SplitMix64's finaliser).
std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Keys back to back in one string, the i-th ending at ends[i].
struct KeyArena {
  std::string bytes;
  std::vector<std::size_t> ends;

  [[nodiscard]] std::string_view operator[](std::int32_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[static_cast<std::size_t>(i) - 1];
    return std::string_view(bytes).substr(begin, ends[static_cast<std::size_t>(i)] - begin);
  }
  void push_back(std::string_view key) {
    bytes += key;
    ends.push_back(bytes.size());
  }
};

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

Cluster index_cluster(const Snapshot& snapshot, const AllocateOptions& options) {
  Cluster c;
  c.snapshot = &snapshot;
  const bool by_priority = options.cost_model == CostModel::kPriority;
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
  IdTable class_index(64);
  KeyArena class_keys;
  c.machines.reserve(snapshot.machines.size());
  std::string key;
  std::vector<std::pair<std::int32_t, std::int32_t>> devices;
  for (std::size_t i = 0; i < snapshot.machines.size(); ++i) {
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

    key.clear();
    append_raw(key, m.cpu_milli);
    append_raw(key, m.memory_mib);
    append_raw(key, m.free_cpu_milli);
    append_raw(key, m.free_memory_mib);
    devices.clear();
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
    const auto cls = class_index.try_emplace(hash_bytes(key), static_cast<std::int32_t>(c.class_rep.size()),
                                             [&](std::int32_t j) { return class_keys[j] == key; });
    if (cls.second) {
      class_keys.push_back(key);
      c.class_rep.push_back(static_cast<std::int32_t>(i));
      c.class_members.emplace_back();
    }
    info.machine_class = cls.first;
    c.class_members[static_cast<std::size_t>(info.machine_class)].push_back(static_cast<std::int32_t>(i));
    c.machines.push_back(std::move(info));
  }
  if (side.joinable()) side.join();
  for (const std::string* name : scan.extra_names) c.names.intern_extra(*name);
  if (c.names.extra.size() > machine_extras) {
    for (MachineInfo& m : c.machines) {  // no machine has the resources only tasks name
      m.capacity.extra.resize(c.names.extra.size(), 0);
      m.free.extra.resize(c.names.extra.size(), 0);
    }
  }

  trace_step("index: machines", t);
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
  std::int32_t cls;  // a machine class (or, for rack members and preferred machines, a machine)
  std::int64_t fit;
};

// Cheapest first; ties by class (or machine), so the order is total.
bool cheaper(const Scored& a, const Scored& b) { return a.cost != b.cost ? a.cost < b.cost : a.cls < b.cls; }

// Appends entries of `scored` (reordered) to `out` cheapest first while `wanted()` holds,
// passing each to `took`: the prefix a sort would give. Usually one or two of a hundred
// are wanted, so the cheapest is found by a scan, and only then a heap built.
template <typename Wanted, typename Took>
void take_cheapest(std::vector<Scored>& scored, std::vector<Scored>& out, Wanted&& wanted, Took&& took) {
  if (scored.empty() || !wanted()) return;
  const auto first = std::min_element(scored.begin(), scored.end(), cheaper);
  out.push_back(*first);
  took(*first);
  std::iter_swap(first, scored.end() - 1);
  const auto dearer = [](const Scored& a, const Scored& b) { return cheaper(b, a); };
  auto end = scored.end() - 1;
  if (end == scored.begin() || !wanted()) return;
  std::make_heap(scored.begin(), end, dearer);
  for (; end != scored.begin() && wanted(); --end) {
    std::pop_heap(scored.begin(), end, dearer);
    out.push_back(end[-1]);
    took(end[-1]);
  }
}

// What the parallel pass found for a batch of shapes, flat (a few allocations per batch,
// not per shape: the threads share one malloc arena). Shape i of the batch has
// classes[class_end[i - 1], class_end[i]) and preferred[preferred_end[i - 1], preferred_end[i]).
struct ScoredBatch {
  std::vector<Scored> classes;
  std::vector<std::int32_t> class_end;
  std::vector<Scored> preferred;
  std::vector<std::int32_t> preferred_end;
};

// A worker's reusable memory for the parallel pass.
struct Scratch {
  std::vector<Scored> scored;
  std::vector<std::int32_t> group_shape;  // per resource group: the shape group_score holds it for
  std::vector<Scored> group_score;        // per resource group: fit and cost (fit 0: does not fit)
};

class Builder {
 public:
  Builder(Cluster& c, const CostContext& costs, const AllocateOptions& o) : c_(c), costs_(costs), o_(o) {}

  BuiltNetwork run();

 private:
  static constexpr std::int32_t kBatch = 64;      // shapes per unit of parallel work
  static constexpr std::int32_t kAnyLabels = -1;  // selector_of_: an empty selector
  static constexpr std::int32_t kNoMask = -2;     // selector_of_: ask labels_match

  void find_candidates(std::int32_t shape_id);
  // Fit and cost of a shape on each evaluated class, cheapest first, cut after the classes
  // that could cover the shape; appended to `out`. Reads only shared immutable state: runs
  // on many threads (as does score_preferred).
  void score_classes(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                     std::int64_t& evaluations) const;
  // Preferred machines, then members of preferred racks, where the shape fits, with fit
  // and cost (preferences included), in the order find_candidates adds them (step 3).
  void score_preferred(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                       std::int64_t& evaluations) const;
  // Fit and placement cost (preferences aside) of the shape on class `cls`, computed once
  // per shape and resource group (the scratch holds the current shape's).
  const Scored& class_score(std::int32_t shape_id, std::int32_t cls, Scratch& scratch) const;
  void score_all_shapes();
  void index_selectors();
  void index_resource_groups();
  [[nodiscard]] bool labels_ok(std::int32_t shape_id, std::int32_t cls) const;
  [[nodiscard]] std::int64_t need_of(std::int64_t supply) const;
  std::int32_t machine_node(std::int32_t m);
  std::int32_t unscheduled_node(std::int32_t job);
  std::int64_t preference_discount(const Shape& s, std::int32_t m) const;

  Cluster& c_;
  const CostContext& costs_;
  const AllocateOptions& o_;
  BuiltNetwork out_;
  std::vector<ScoredBatch> scored_;                  // per batch of kBatch shapes
  std::vector<std::int32_t> selector_of_;            // per shape: its row of label_ok_, or kAnyLabels / kNoMask
  std::vector<std::vector<std::uint8_t>> label_ok_;  // per distinct selector, per class: labels match
  // Per machine, MachineInfo's machine_class and rack, flat: read for machines all over
  // the cluster, where each MachineInfo read is a cache miss.
  std::vector<std::int32_t> class_of_;
  std::vector<std::int32_t> rack_of_;
  // Per class: its group of classes with identical resources (classes also differ by
  // labels: in a fresh cluster, hundreds of classes share a handful of machine types).
  std::vector<std::int32_t> group_of_class_;
  std::int32_t n_groups_ = 0;
  std::vector<std::int32_t> class_cursor_;
  // Per machine, what candidate search keeps (together: one cache miss, not three).
  struct Taken {
    double claimed = 0;       // Σ over shapes connected of arc cap / fit
    std::int32_t shape = -1;  // the last shape that took it
    std::int32_t slot = 0;    // its index in that shape's candidates
  };
  std::vector<Taken> taken_;
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
  if (s.preferred_racks.empty()) return w;
  const std::int32_t rack = rack_of_[static_cast<std::size_t>(m)];
  for (const auto& [pr, weight] : s.preferred_racks) w += pr == rack ? weight : 0;
  return w;
}

// Tasks' worth of room a shape's candidates should cover: candidate_slack × supply.
std::int64_t Builder::need_of(std::int64_t supply) const {
  const double need = o_.candidate_slack <= 0 ? 0.0 : std::ceil(o_.candidate_slack * static_cast<double>(supply));
  return static_cast<std::int64_t>(std::min(need, 9e15));
}

// Machines of a class have the same labels (they are part of the class), so a selector
// matches a whole class or none of it: one row per distinct selector, instead of map
// look-ups per evaluation. Rows cost classes × selectors look-ups: skipped when that is more
// than the evaluations themselves (every shape with a selector of its own).
void Builder::index_selectors() {
  selector_of_.assign(c_.shapes.size(), kAnyLabels);
  std::map<std::vector<std::pair<std::string, std::string>>, std::int32_t> rows;
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    const auto& selector = c_.shapes[si].selector;
    if (selector.empty()) continue;
    selector_of_[si] = rows.try_emplace(selector, static_cast<std::int32_t>(rows.size())).first->second;
  }
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  if (static_cast<std::int64_t>(rows.size()) * n_classes > static_cast<std::int64_t>(c_.shapes.size()) * window_) {
    for (std::int32_t& row : selector_of_) row = row == kAnyLabels ? kAnyLabels : kNoMask;
    return;
  }
  std::vector<std::int32_t> shape_of_row(rows.size());  // a shape with the row's selector
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    if (selector_of_[si] >= 0) shape_of_row[static_cast<std::size_t>(selector_of_[si])] = static_cast<std::int32_t>(si);
  }
  label_ok_.assign(rows.size(), std::vector<std::uint8_t>(c_.class_rep.size(), 0));
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const Shape& s = c_.shapes[static_cast<std::size_t>(shape_of_row[row])];
    for (std::size_t cls = 0; cls < c_.class_rep.size(); ++cls)
      label_ok_[row][cls] = labels_match(c_, s, c_.class_rep[cls]) ? 1 : 0;
  }
}

// Fit and cost read a machine's capacity, free resources and devices (as a multiset of
// (model, free share): every use sums or counts over them), never its labels: equal for
// classes of a group.
void Builder::index_resource_groups() {
  std::map<std::string, std::int32_t> groups;
  std::string key;
  std::vector<std::pair<std::int32_t, std::int32_t>> devices;
  group_of_class_.resize(c_.class_rep.size());
  for (std::size_t cls = 0; cls < c_.class_rep.size(); ++cls) {
    const MachineInfo& m = c_.machines[static_cast<std::size_t>(c_.class_rep[cls])];
    key.clear();
    for (const Resources* r : {&m.capacity, &m.free}) {
      append_raw(key, r->cpu);
      append_raw(key, r->memory);
      append_raw(key, r->extra.size());
      for (const std::int64_t e : r->extra) append_raw(key, e);
    }
    devices.clear();
    for (std::size_t g = 0; g < m.gpu_model.size(); ++g) devices.emplace_back(m.gpu_model[g], m.free.gpu_free[g]);
    std::sort(devices.begin(), devices.end());
    append_raw(key, devices.size());
    for (const auto& [model, free] : devices) {
      append_raw(key, model);
      append_raw(key, free);
    }
    group_of_class_[cls] = groups.try_emplace(key, static_cast<std::int32_t>(groups.size())).first->second;
  }
  n_groups_ = static_cast<std::int32_t>(groups.size());
}

const Scored& Builder::class_score(std::int32_t shape_id, std::int32_t cls, Scratch& scratch) const {
  const auto group = static_cast<std::size_t>(group_of_class_[static_cast<std::size_t>(cls)]);
  Scored& score = scratch.group_score[group];
  if (scratch.group_shape[group] != shape_id) {
    scratch.group_shape[group] = shape_id;
    const Demand& d = c_.shapes[static_cast<std::size_t>(shape_id)].demand;
    const MachineInfo& rep = c_.machines[static_cast<std::size_t>(c_.class_rep[static_cast<std::size_t>(cls)])];
    score.fit = fit_count(d, rep.free, rep.gpu_model);
    score.cost = score.fit > 0 ? costs_.placement(d, rep.capacity, rep.free, rep.gpu_model) : 0;
  }
  return score;
}

bool Builder::labels_ok(std::int32_t shape_id, std::int32_t cls) const {
  const std::int32_t row = selector_of_[static_cast<std::size_t>(shape_id)];
  if (row == kAnyLabels) return true;
  if (row == kNoMask) {
    return labels_match(c_, c_.shapes[static_cast<std::size_t>(shape_id)], c_.class_rep[static_cast<std::size_t>(cls)]);
  }
  return label_ok_[static_cast<std::size_t>(row)][static_cast<std::size_t>(cls)] != 0;
}

void Builder::find_candidates(std::int32_t shape_id) {
  Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known) return;

  const auto add = [&](std::int32_t m, std::int64_t fit, std::int64_t cost, std::int64_t fixed) {
    Taken& state = taken_[static_cast<std::size_t>(m)];
    if (state.shape == shape_id) {
      Candidate& existing = s.candidates[static_cast<std::size_t>(state.slot)];
      if (fit > existing.fit) existing = Candidate{m, fit, cost, fixed};
      return;
    }
    state.shape = shape_id;
    state.slot = static_cast<std::int32_t>(s.candidates.size());
    s.candidates.push_back(Candidate{m, fit, cost, fixed});
  };
  const auto running_on = [&](std::int32_t m) {
    return c_.running.empty() ? 0 : static_cast<std::int64_t>(c_.running_on(m).size());
  };

  // 1. Fit and cost per machine class, cheapest first (computed in parallel beforehand).
  const ScoredBatch& found = scored_[static_cast<std::size_t>(shape_id / kBatch)];
  const std::int32_t i = shape_id % kBatch;
  const std::span<const Scored> scored(found.classes.data() + (i == 0 ? 0 : found.class_end[i - 1]),
                                       found.classes.data() + found.class_end[i]);
  const bool all = o_.candidate_slack <= 0;
  const std::int64_t need = need_of(supply);

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
      for (std::int32_t at = cursor; used < size; ++used, at = at + 1 == size ? 0 : at + 1) {
        if (done()) break;
        const std::int32_t m = members[static_cast<std::size_t>(at)];
        Taken& state = taken_[static_cast<std::size_t>(m)];
        if (pass == 0 && state.claimed >= claim_limit) continue;
        if (state.shape == shape_id) continue;  // taken in the first pass
        const std::int64_t arc = std::min(sc.fit, supply);
        add(m, arc, sc.cost - preference_discount(s, m), running_on(m));
        state.claimed += static_cast<double>(arc) / static_cast<double>(sc.fit);
        covered += sc.fit;
        ++taken;
      }
      cursor = static_cast<std::int32_t>((cursor + used) % size);
    }
  }

  // 3. Preferred machines and members of preferred racks, where the shape fits (scored in
  //    parallel beforehand).
  for (auto p = found.preferred.begin() + (i == 0 ? 0 : found.preferred_end[i - 1]),
            end = found.preferred.begin() + found.preferred_end[i];
       p != end; ++p) {
    add(p->cls, std::min(p->fit, supply), p->cost, running_on(p->cls));
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
      if (!labels_ok(shape_id, class_of_[static_cast<std::size_t>(m)])) continue;
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

void Builder::score_classes(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                            std::int64_t& evaluations) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known) return;
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  const std::int64_t count = std::min(n_classes, window_);
  const std::int64_t start = count == n_classes ? 0 : (static_cast<std::int64_t>(shape_id) * count) % n_classes;
  std::vector<Scored>& scored = scratch.scored;
  scored.clear();
  auto cls = static_cast<std::int32_t>(start);
  for (std::int64_t k = 0; k < count; ++k, cls = cls + 1 == n_classes ? 0 : cls + 1) {
    if (!labels_ok(shape_id, cls)) continue;
    const Scored& score = class_score(shape_id, cls, scratch);
    if (score.fit > 0) scored.push_back({score.cost, cls, score.fit});
  }
  evaluations += count;
  if (o_.candidate_slack <= 0) {
    std::sort(scored.begin(), scored.end(), cheaper);
    out.insert(out.end(), scored.begin(), scored.end());
    return;
  }
  // Keep the prefix that could ever be taken: claims (find_candidates) may skip machines,
  // so classes for 4× the need.
  const double need = 4.0 * std::ceil(o_.candidate_slack * static_cast<double>(supply));
  double covered = 0;
  std::int64_t machines = 0;
  take_cheapest(
      scored, out, [&] { return covered < need || machines < o_.min_candidates; },
      [&](const Scored& sc) {
        const auto members = static_cast<std::int64_t>(c_.class_members[static_cast<std::size_t>(sc.cls)].size());
        covered += static_cast<double>(sc.fit) * static_cast<double>(members);
        machines += members;
      });
}

void Builder::score_preferred(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                              std::int64_t& evaluations) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known || (s.preferred_machines.empty() && s.preferred_racks.empty())) return;
  // Fit and cost on machine m, preferences aside, are those of its class: machines of a
  // class have identical capacity, free resources, devices and labels.
  const auto score = [&](std::int32_t m, std::int64_t rack_discount, std::vector<Scored>& to) {
    const std::int32_t cls = class_of_[static_cast<std::size_t>(m)];
    if (!labels_ok(shape_id, cls)) return;
    const Scored& base = class_score(shape_id, cls, scratch);
    ++evaluations;
    if (base.fit <= 0) return;
    std::int64_t discount = rack_discount;
    for (const auto& [pm, weight] : s.preferred_machines) discount += pm == m ? weight : 0;
    to.push_back({base.cost - discount, m, base.fit});
  };
  const auto rack_discount = [&](std::int32_t rack) {  // preference_discount's rack part
    std::int64_t w = 0;
    for (const auto& [pr, weight] : s.preferred_racks) w += pr == rack ? weight : 0;
    return w;
  };
  for (const auto& [m, w] : s.preferred_machines) score(m, rack_discount(rack_of_[static_cast<std::size_t>(m)]), out);
  // Rack members: the cheapest that fit, until they cover the shape like the classes do.
  const bool all = o_.candidate_slack <= 0;
  const std::int64_t need = need_of(supply);
  for (const auto& [rack, w] : s.preferred_racks) {
    const std::int64_t discount = rack_discount(rack);
    std::vector<Scored>& members = scratch.scored;
    members.clear();
    for (const std::int32_t m : c_.rack_members[static_cast<std::size_t>(rack)]) score(m, discount, members);
    std::int64_t rack_covered = 0;
    take_cheapest(
        members, out, [&] { return all || rack_covered < need; }, [&](const Scored& sc) { rack_covered += sc.fit; });
  }
}

void Builder::score_all_shapes() {
  const auto n = static_cast<std::int32_t>(c_.shapes.size());
  scored_.assign(static_cast<std::size_t>((n + kBatch - 1) / kBatch), {});
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const auto threads =
      static_cast<std::int32_t>(std::min<unsigned>(std::min(hw, 8u), static_cast<unsigned>(n / 256 + 1)));
  std::atomic<std::int32_t> next{0};
  std::vector<std::int64_t> evaluations(static_cast<std::size_t>(threads), 0);
  const auto work = [&](std::int32_t worker) {
    std::int64_t done = 0;  // here, not in `evaluations`: workers would share its cache line
    Scratch scratch;
    scratch.group_shape.assign(static_cast<std::size_t>(n_groups_), -1);
    scratch.group_score.resize(static_cast<std::size_t>(n_groups_));
    for (std::int32_t begin = next.fetch_add(kBatch); begin < n; begin = next.fetch_add(kBatch)) {
      ScoredBatch& batch = scored_[static_cast<std::size_t>(begin / kBatch)];
      for (std::int32_t sh = begin; sh < std::min(n, begin + kBatch); ++sh) {
        score_classes(sh, scratch, batch.classes, done);
        batch.class_end.push_back(static_cast<std::int32_t>(batch.classes.size()));
        score_preferred(sh, scratch, batch.preferred, done);
        batch.preferred_end.push_back(static_cast<std::int32_t>(batch.preferred.size()));
      }
    }
    evaluations[static_cast<std::size_t>(worker)] = done;
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
  taken_.assign(c_.machines.size(), Taken{});
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
  class_of_.resize(c_.machines.size());
  rack_of_.resize(c_.machines.size());
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    class_of_[m] = c_.machines[m].machine_class;
    rack_of_[m] = c_.machines[m].rack;
  }
  index_selectors();
  index_resource_groups();
  score_all_shapes();
  trace_step("candidates: scoring classes", t);
  for (std::int32_t s = 0; s < static_cast<std::int32_t>(n_shapes); ++s) find_candidates(s);
  scored_ = {};
  trace_step("candidates: machines", t);

  // 2. Nodes and arcs. Sink first; machine and unscheduled nodes as they are first used.
  //    Runs of a job's tasks, and the number of arcs, first: the network's arrays are
  //    then allocated once.
  Network& net = out_.network;
  sink_ = net.add_node(0);
  std::int64_t total_supply = 0;
  out_.shape_arcs.resize(c_.shapes.size());
  out_.shape_job_runs.resize(c_.shapes.size());
  std::size_t arcs_bound = snap.jobs.size() + c_.machines.size() * static_cast<std::size_t>(costs_.slot_segments());
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
    arcs_bound += s.candidates.size() + runs.size() + (o_.aggregate ? 0 : s.pending.size());
  }
  for (const RunningGroup& g : c_.running_groups) {  // stay, moves, preemption
    arcs_bound += 2 + static_cast<std::size_t>(std::max(o_.migration_candidates, 0)) +
                  (o_.aggregate ? 0 : static_cast<std::size_t>(g.count));
  }
  net.reserve_arcs(arcs_bound);
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    const Shape& s = c_.shapes[si];
    const auto pending = static_cast<std::int64_t>(s.pending.size());
    if (pending == 0) continue;
    const auto& runs = out_.shape_job_runs[si];
    const Job* first_job = &snap.jobs[static_cast<std::size_t>(s.pending.front().job)];
    const std::int64_t u_cost =
        costs_.unscheduled(s.priority, std::max<std::int64_t>(0, snap.time - first_job->submit_time));
    total_supply += pending;
    const auto emit = [&](std::int32_t node, std::int64_t cap_limit, BuiltNetwork::NodeArcs& arcs) {
      arcs.first = net.num_arcs();
      arcs.targets.reserve(s.candidates.size());
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
