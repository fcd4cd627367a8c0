// Property tests for allocate(): thousands of seeded random snapshots, from the snapshot
// generator and from a local generator of edge cases it never makes (zero demands, tasks
// too big for any machine, selectors and GPU models that match nothing, extra resources,
// machines with nothing free, gappy GPU indexes, mixed shapes within a job), under all five
// cost models and varied options. Every answer goes through an invariant checker written
// here from the snapshot alone (nothing from src/ is reused):
//   - every task is reported exactly once, in a list that suits its state (pending tasks
//     placed or unscheduled; running tasks kept, migrated or preempted);
//   - per machine, free resources (CPU, memory, every extra, every GPU's share), after
//     giving back what moved or stopped tasks held and taking what arrives, never go
//     negative; kept tasks stay on their machine and devices; whole-GPU devices are not
//     shared; device counts, indexes, GPU models and label selectors are honoured;
//   - an unscheduled pending task fits on no machine once the allocation is applied (the
//     repair pass ends with first fit over every machine), and its reason agrees with the
//     cluster (no matching machine → constraint, no machine big enough → resource);
//   - the options are honoured (no migrations or preemptions when they are switched off).
// Besides: aggregated and per-task networks have the same optimum, certificates hold,
// LEMON's optimum equals ours, answers are deterministic, invalid snapshots are refused
// with the offending id, the checker rejects tampered answers, and two small hand-built
// cases pin down findings of the random runs. The seed, the cost model and the options
// are in every failure; every random snapshot is rebuilt from what the failure prints.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"
#include "sluice/network.hpp"
#include "sluice/snapshot.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice {
namespace {

constexpr CostModel kModels[] = {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy,
                                 CostModel::kPriority, CostModel::kFgd, CostModel::kAlloc};
// A test stops reporting (and running) after this many failing instances.
constexpr int kMaxReportedFailures = 8;

std::int64_t g_allocate_calls = 0;  // over the whole binary, printed by each test

Allocation counted_allocate(const Snapshot& s, const AllocateOptions& o) {
  ++g_allocate_calls;
  return allocate(s, o);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi] (modulo bias is irrelevant here).
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(in(0, static_cast<std::int64_t>(v.size()) - 1))];
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

std::string describe(const AllocateOptions& o) {
  std::ostringstream s;
  s << "model=" << to_string(o.cost_model) << " aggregate=" << o.aggregate << " migration=" << o.allow_migration
    << " preemption=" << o.allow_preemption << " migration_cost=" << o.migration_cost
    << " migration_candidates=" << o.migration_candidates << " candidate_slack=" << o.candidate_slack
    << " min_candidates=" << o.min_candidates << " max_evaluations=" << o.max_evaluations
    << " backend=" << to_string(o.solve.backend);
  return s.str();
}

std::string describe(const SnapshotGenParams& p) {
  std::ostringstream s;
  s << "generate_snapshot{machines=" << p.machines << " tasks=" << p.tasks
    << " machines_per_rack=" << p.machines_per_rack << " racks_per_zone=" << p.racks_per_zone
    << " gpu_machine_share=" << p.gpu_machine_share << " gpu_task_share=" << p.gpu_task_share
    << " constrained_share=" << p.constrained_share << " preference_share=" << p.preference_share
    << " running_share=" << p.running_share << " seed=" << p.seed << "}";
  return s.str();
}

// ---- the invariant checker: the snapshot's own data, nothing from src/ ------------------

std::int32_t devices_wanted(const Task& t) { return t.gpus > 0 ? t.gpus : (t.gpu_milli > 0 ? 1 : 0); }
std::int64_t per_device(const Task& t) { return t.gpus > 0 ? kGpuMilliWhole : t.gpu_milli; }
bool wants_gpu(const Task& t) { return t.gpus > 0 || t.gpu_milli > 0; }
bool model_allowed(const Task& t, const std::string& model) {
  return t.gpu_models.empty() || std::find(t.gpu_models.begin(), t.gpu_models.end(), model) != t.gpu_models.end();
}
bool selector_holds(const Task& t, const Machine& m) {
  for (const auto& [key, value] : t.selector) {
    const auto it = m.labels.find(key);
    if (it == m.labels.end() || it->second != value) return false;
  }
  return true;
}
std::int64_t amount_in(const std::map<std::string, std::int64_t>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}
std::string indexes_text(const std::vector<std::int32_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(v[i]);
  }
  s += ']';
  return s;
}

// What one machine has free as the allocation is applied.
struct FreeState {
  std::int64_t cpu = 0;
  std::int64_t memory = 0;
  std::map<std::string, std::int64_t> extra;
  std::map<std::int32_t, std::int64_t> gpu;  // device index → free milli-share
};

// True when `t` fits into `f` on `m` right now (labels included).
bool fits_now(const Task& t, const FreeState& f, const Machine& m) {
  if (!selector_holds(t, m) || t.cpu_milli > f.cpu || t.memory_mib > f.memory) return false;
  for (const auto& [name, amount] : t.extra) {
    if (amount > amount_in(f.extra, name)) return false;
  }
  if (t.gpus > 0) {
    std::int32_t whole = 0;
    for (const Gpu& g : m.gpus) whole += f.gpu.at(g.index) == kGpuMilliWhole && model_allowed(t, g.model) ? 1 : 0;
    return whole >= t.gpus;
  }
  if (t.gpu_milli > 0) {
    for (const Gpu& g : m.gpus) {
      if (f.gpu.at(g.index) >= t.gpu_milli && model_allowed(t, g.model)) return true;
    }
    return false;
  }
  return true;
}

// Whether some machine matches `t`'s constraints, and whether one could hold it empty.
std::pair<bool, bool> matches_and_holds(const Snapshot& s, const Task& t) {
  bool matches = false;
  bool holds = false;
  for (const Machine& m : s.machines) {
    if (!selector_holds(t, m)) continue;
    std::int32_t allowed = 0;
    for (const Gpu& g : m.gpus) allowed += model_allowed(t, g.model) ? 1 : 0;
    if (wants_gpu(t) && allowed == 0) continue;
    matches = true;
    bool big = t.cpu_milli <= m.cpu_milli && t.memory_mib <= m.memory_mib && allowed >= t.gpus;
    for (const auto& [name, amount] : t.extra) big = big && amount <= amount_in(m.extra_capacity, name);
    holds = holds || big;
  }
  return {matches, holds};
}

std::vector<std::string> check_allocation(const Snapshot& snap, const Allocation& a, const AllocateOptions& o) {
  std::vector<std::string> errors;
  const auto fail = [&](std::string message) {
    if (errors.size() < 25) errors.push_back(std::move(message));
  };
  if (a.status != Status::kOptimal) {
    fail("status " + std::string(to_string(a.status)) + " (expected optimal): " + a.message);
    return errors;
  }

  // 1. Index machines and tasks; start every machine from its snapshot free amounts.
  std::map<std::string, std::size_t> machine_at;
  std::vector<FreeState> free(snap.machines.size());
  for (std::size_t i = 0; i < snap.machines.size(); ++i) {
    const Machine& m = snap.machines[i];
    machine_at.emplace(m.id, i);
    free[i].cpu = m.free_cpu_milli;
    free[i].memory = m.free_memory_mib;
    free[i].extra = m.extra_free;
    for (const Gpu& g : m.gpus) free[i].gpu[g.index] = g.free_milli;
  }
  struct TaskAt {
    std::size_t job = 0;
    const Task* task = nullptr;
  };
  std::map<std::string, TaskAt> task_at;
  std::int64_t pending = 0;
  std::int64_t running = 0;
  for (std::size_t j = 0; j < snap.jobs.size(); ++j) {
    for (const Task& t : snap.jobs[j].tasks) {
      task_at.emplace(t.id, TaskAt{j, &t});
      (t.state == TaskState::kPending ? pending : running) += 1;
    }
  }

  // 2. Each task at most once, in a list that suits its state.
  std::map<std::string, std::string> seen;  // task → the list it was reported in
  const auto claim = [&](const char* list, const std::string& job, const std::string& task,
                         TaskState expected) -> const Task* {
    const auto it = task_at.find(task);
    if (it == task_at.end()) {
      fail(std::string(list) + ": unknown task '" + task + "'");
      return nullptr;
    }
    const Job& owner = snap.jobs[it->second.job];
    if (owner.id != job)
      fail(std::string(list) + ": task '" + task + "' reported under job '" + job + "', belongs to '" + owner.id + "'");
    const auto [where, fresh] = seen.emplace(task, list);
    if (!fresh) {
      fail("task '" + task + "' reported twice: in " + where->second + " and in " + list);
      return nullptr;
    }
    const Task* t = it->second.task;
    if (t->state != expected) {
      fail(std::string(list) + ": task '" + task + "' is " + (t->state == TaskState::kPending ? "pending" : "running") +
           " in the snapshot");
      return nullptr;
    }
    return t;
  };

  // Device holders after the allocation: (machine, index) → (task, whole GPU?).
  std::map<std::pair<std::size_t, std::int32_t>, std::vector<std::pair<std::string, bool>>> holders;
  const auto release = [&](const Task& t) {  // a running task gives back what it held
    FreeState& f = free[machine_at.at(t.machine)];
    f.cpu += t.cpu_milli;
    f.memory += t.memory_mib;
    for (const auto& [name, amount] : t.extra) f.extra[name] += amount;
    for (const std::int32_t g : t.gpu_indexes) f.gpu[g] += per_device(t);
  };
  const auto acquire = [&](const char* list, const Task& t, const std::string& machine,
                           const std::vector<std::int32_t>& idx) {
    const auto mit = machine_at.find(machine);
    if (mit == machine_at.end()) {
      fail(std::string(list) + ": task '" + t.id + "' on unknown machine '" + machine + "'");
      return;
    }
    const Machine& m = snap.machines[mit->second];
    FreeState& f = free[mit->second];
    if (!selector_holds(t, m))
      fail(std::string(list) + ": task '" + t.id + "' on '" + m.id + "' whose labels break its selector");
    f.cpu -= t.cpu_milli;
    f.memory -= t.memory_mib;
    for (const auto& [name, amount] : t.extra) f.extra[name] -= amount;
    if (static_cast<std::int32_t>(idx.size()) != devices_wanted(t)) {
      fail(std::string(list) + ": task '" + t.id + "' (gpus=" + std::to_string(t.gpus) + ", gpu_milli=" +
           std::to_string(t.gpu_milli) + ") got GPU indexes " + indexes_text(idx) + " on '" + m.id + "'");
    }
    std::set<std::int32_t> distinct;
    for (const std::int32_t g : idx) {
      if (!distinct.insert(g).second)
        fail(std::string(list) + ": task '" + t.id + "' got GPU " + std::to_string(g) + " twice");
      const auto dev = std::find_if(m.gpus.begin(), m.gpus.end(), [&](const Gpu& gpu) { return gpu.index == g; });
      if (dev == m.gpus.end()) {
        fail(std::string(list) + ": task '" + t.id + "' got GPU " + std::to_string(g) + " that '" + m.id + "' lacks");
        continue;
      }
      if (!model_allowed(t, dev->model)) {
        fail(std::string(list) + ": task '" + t.id + "' got GPU " + std::to_string(g) + " of model " + dev->model +
             ", not among its allowed models");
      }
      f.gpu[g] -= per_device(t);
      holders[{mit->second, g}].emplace_back(t.id, t.gpus > 0);
    }
  };

  for (const Placement& p : a.kept) {
    const Task* t = claim("kept", p.job, p.task, TaskState::kRunning);
    if (t == nullptr) continue;
    if (p.machine != t->machine)
      fail("kept: task '" + t->id + "' reported on '" + p.machine + "', runs on '" + t->machine + "'");
    std::vector<std::int32_t> got = p.gpu_indexes;
    std::vector<std::int32_t> had = t->gpu_indexes;
    std::sort(got.begin(), got.end());
    std::sort(had.begin(), had.end());
    if (got != had)
      fail("kept: task '" + t->id + "' reported on GPUs " + indexes_text(p.gpu_indexes) + ", holds " +
           indexes_text(t->gpu_indexes));
    for (const std::int32_t g : t->gpu_indexes)
      holders[{machine_at.at(t->machine), g}].emplace_back(t->id, t->gpus > 0);
  }
  for (const Migration& mg : a.migrations) {
    const Task* t = claim("migrations", mg.job, mg.task, TaskState::kRunning);
    if (t == nullptr) continue;
    if (mg.from_machine != t->machine)
      fail("migrations: task '" + t->id + "' from '" + mg.from_machine + "', runs on '" + t->machine + "'");
    if (mg.machine == t->machine)
      fail("migrations: task '" + t->id + "' migrated onto its own machine '" + mg.machine + "'");
    release(*t);
    acquire("migrations", *t, mg.machine, mg.gpu_indexes);
  }
  for (const Preemption& p : a.preemptions) {
    const Task* t = claim("preemptions", p.job, p.task, TaskState::kRunning);
    if (t == nullptr) continue;
    if (p.machine != t->machine)
      fail("preemptions: task '" + t->id + "' reported on '" + p.machine + "', runs on '" + t->machine + "'");
    if (p.reason.empty()) fail("preemptions: task '" + t->id + "' preempted without a reason");
    release(*t);
  }
  for (const Placement& p : a.placements) {
    const Task* t = claim("placements", p.job, p.task, TaskState::kPending);
    if (t != nullptr) acquire("placements", *t, p.machine, p.gpu_indexes);
  }
  for (const Unscheduled& u : a.unscheduled) {
    if (claim("unscheduled", u.job, u.task, TaskState::kPending) != nullptr && u.message.empty()) {
      fail("unscheduled: task '" + u.task + "' without a message");
    }
  }
  for (const auto& [id, at] : task_at) {
    if (seen.count(id) == 0) {
      fail((at.task->state == TaskState::kRunning ? "running task '" : "pending task '") + id +
           "' is missing from the answer");
    }
  }

  // 3. Nothing overcommitted; whole-GPU devices not shared.
  for (std::size_t i = 0; i < snap.machines.size(); ++i) {
    const FreeState& f = free[i];
    const std::string& id = snap.machines[i].id;
    if (f.cpu < 0) fail("machine '" + id + "': free CPU " + std::to_string(f.cpu) + " after the allocation");
    if (f.memory < 0) fail("machine '" + id + "': free memory " + std::to_string(f.memory) + " after the allocation");
    for (const auto& [name, amount] : f.extra) {
      if (amount < 0)
        fail("machine '" + id + "': free '" + name + "' " + std::to_string(amount) + " after the allocation");
    }
    for (const auto& [g, milli] : f.gpu) {
      if (milli < 0)
        fail("machine '" + id + "': GPU " + std::to_string(g) + " free share " + std::to_string(milli) +
             " after the allocation");
    }
  }
  for (const auto& [device, list] : holders) {
    const bool whole = std::any_of(list.begin(), list.end(), [](const auto& h) { return h.second; });
    if (whole && list.size() > 1) {
      std::string names;
      for (const auto& h : list) names += " '" + h.first + "'";
      fail("machine '" + snap.machines[device.first].id + "': whole GPU " + std::to_string(device.second) +
           " shared by" + names);
    }
  }

  // 4. Options honoured.
  if (!o.allow_migration && !a.migrations.empty())
    fail("allow_migration=false but task '" + a.migrations.front().task + "' migrated");
  if (!o.allow_preemption && !a.preemptions.empty())
    fail("allow_preemption=false but task '" + a.preemptions.front().task + "' preempted");

  // 5. Unscheduled pending tasks: no machine has room for them after the allocation, and
  //    the reason agrees with the cluster.
  for (const Unscheduled& u : a.unscheduled) {
    const auto it = task_at.find(u.task);
    if (it == task_at.end() || it->second.task->state != TaskState::kPending) continue;
    const Task& t = *it->second.task;
    for (std::size_t i = 0; i < snap.machines.size(); ++i) {
      if (fits_now(t, free[i], snap.machines[i])) {
        fail("unscheduled: task '" + t.id + "' (" + std::string(to_string(u.reason)) + ": " + u.message +
             ") fits on machine '" + snap.machines[i].id + "' after the allocation");
        break;
      }
    }
    const auto [matches, holds] = matches_and_holds(snap, t);
    const UnscheduledReason want = !matches ? UnscheduledReason::kConstraintUnsatisfiable
                                   : !holds ? UnscheduledReason::kNoMachineWithResource
                                            : UnscheduledReason::kNoFreeCapacity;
    const bool ok = want == UnscheduledReason::kNoFreeCapacity ? (u.reason == UnscheduledReason::kNoFreeCapacity ||
                                                                  u.reason == UnscheduledReason::kOutbidByPriority)
                                                               : u.reason == want;
    if (!ok) {
      fail("unscheduled: task '" + t.id + "' has reason " + std::string(to_string(u.reason)) + " (" + u.message +
           "), expected " + std::string(to_string(want)));
    }
  }

  // 6. Counts.
  if (a.stats.pending_tasks != pending || a.stats.running_tasks != running) {
    fail("stats count " + std::to_string(a.stats.pending_tasks) + " pending and " +
         std::to_string(a.stats.running_tasks) + " running tasks; the snapshot has " + std::to_string(pending) +
         " and " + std::to_string(running));
  }
  return errors;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string s;
  for (const std::string& e : errors) s += "\n    " + e;
  return s;
}

// ---- inputs ---------------------------------------------------------------------------

SnapshotGenParams generated_params(std::uint64_t seed) {
  Rng r(seed * 0x9E3779B97F4A7C15ULL + 1);
  SnapshotGenParams p;
  p.seed = seed;
  p.machines = static_cast<std::int32_t>(r.in(1, 40));
  p.tasks = r.in(0, 300);
  p.machines_per_rack = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{1, 4, 10, 40}));
  p.racks_per_zone = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{1, 3, 25}));
  p.gpu_machine_share = r.pick(std::vector<double>{0.0, 0.25, 0.6, 1.0});
  p.gpu_task_share = r.pick(std::vector<double>{0.0, 0.3, 0.8});
  p.constrained_share = r.pick(std::vector<double>{0.0, 0.1, 0.5, 1.0});
  p.preference_share = r.pick(std::vector<double>{0.0, 0.3, 0.9});
  p.running_share = std::vector<double>{0.0, 0.3, 0.7}[seed % 3];
  if (seed % 50 == 7) {  // enough machine classes that candidate search samples a window
    p.machines = static_cast<std::int32_t>(r.in(70, 140));
    p.tasks = r.in(100, 400);
  }
  return p;
}

AllocateOptions options_for(std::uint64_t seed, CostModel model) {
  Rng r(seed * 1000003 + static_cast<std::uint64_t>(model) * 7 + 5);
  AllocateOptions o;
  o.cost_model = model;
  o.aggregate = r.chance(0.7);
  o.allow_migration = r.chance(0.6);
  o.allow_preemption = r.chance(0.6);
  o.candidate_slack = r.chance(0.35) ? 0.0 : r.pick(std::vector<double>{2.0, 2.0, 0.5});
  o.min_candidates = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{8, 8, 1}));
  o.migration_cost = r.pick(std::vector<std::int64_t>{300, 300, 0, 2000});
  o.migration_candidates = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{2, 2, 0, 1, 5}));
  if (seed % 50 == 7) o.max_evaluations = 1;  // the sampled-window path
  return o;
}

// A snapshot the generator would not make: see the file comment. Always valid, and its
// free amounts are consistent (capacity minus running tasks minus some background use).
Snapshot edge_snapshot(std::uint64_t seed, double running_share) {
  Rng r(seed * 0xD1B54A32D192ED03ULL + 11);
  Snapshot s;
  s.version = static_cast<std::int64_t>(seed);
  s.time = 100'000;
  const std::vector<std::string> models = {"V100", "A100", "T4"};
  const auto n_machines = static_cast<std::int32_t>(r.chance(0.04) ? 0 : r.in(1, 12));
  const auto n_racks = std::max<std::int32_t>(1, n_machines / 3);

  // 1. Machines: capacities from zero up, gappy shuffled GPU indexes, extras, labels, and
  //    some background use (a few machines with nothing free at all).
  for (std::int32_t i = 0; i < n_machines; ++i) {
    Machine m;
    m.id = "node-" + std::to_string(i);
    m.rack = "rack-" + std::to_string(i % n_racks);
    m.zone = "z" + std::to_string(i % 2);
    m.cpu_milli = r.pick(std::vector<std::int64_t>{0, 1000, 4000, 16000, 64000});
    m.memory_mib = r.pick(std::vector<std::int64_t>{0, 1024, 8192, 65536});
    if (r.chance(0.5)) {
      const std::int64_t n = r.in(1, 8);
      const std::int64_t start = r.in(0, 3);
      const std::int64_t step = r.in(1, 3);
      std::vector<std::int32_t> idx;
      for (std::int64_t k = 0; k < n; ++k) idx.push_back(static_cast<std::int32_t>(start + k * step));
      std::shuffle(idx.begin(), idx.end(), r.engine());
      const bool mixed = r.chance(0.2);
      const std::string model = r.pick(models);
      for (const std::int32_t g : idx) m.gpus.push_back(Gpu{g, mixed ? r.pick(models) : model, kGpuMilliWhole});
    }
    if (r.chance(0.4)) {
      m.extra_capacity["ssd_gib"] = r.pick(std::vector<std::int64_t>{0, 500, 2000});
      m.labels["ssd"] = "true";
    }
    if (r.chance(0.2)) m.extra_capacity["fpga"] = r.in(0, 4);
    m.extra_free = m.extra_capacity;
    m.labels["kind"] = m.gpus.empty() ? "cpu" : "gpu";
    m.labels["zone"] = m.zone;
    if (r.chance(0.3)) m.labels["team"] = r.chance(0.5) ? "a" : "b";
    m.free_cpu_milli = m.cpu_milli;
    m.free_memory_mib = m.memory_mib;
    const std::int64_t background = r.in(0, 9);
    if (background == 0) {  // nothing free
      m.free_cpu_milli = 0;
      m.free_memory_mib = 0;
      for (auto& [name, amount] : m.extra_free) amount = 0;
      for (Gpu& g : m.gpus) g.free_milli = 0;
    } else if (background <= 2) {  // partly used
      m.free_cpu_milli = r.in(0, m.cpu_milli);
      m.free_memory_mib = r.in(0, m.memory_mib);
      for (auto& [name, amount] : m.extra_free) amount = r.in(0, amount);
      for (Gpu& g : m.gpus)
        g.free_milli = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{0, 250, 500, 999, 1000}));
    }
    s.machines.push_back(std::move(m));
  }

  // 2. A pool of task shapes, shared by jobs (so identical shapes recur across jobs of
  //    different priorities).
  const auto small = [&](Task& t) {
    t.cpu_milli = r.pick(std::vector<std::int64_t>{0, 100, 500, 1000, 2000, 8000});
    t.memory_mib = r.pick(std::vector<std::int64_t>{0, 128, 512, 2048, 16384});
  };
  std::vector<Task> pool;
  const std::int64_t n_shapes = r.in(1, 6);
  for (std::int64_t k = 0; k < n_shapes; ++k) {
    Task t;
    switch (r.in(0, 9)) {
      case 0:
        break;  // demands nothing at all
      case 1:   // too big for any machine
        small(t);
        switch (r.in(0, 3)) {
          case 0:
            t.cpu_milli = 10'000'000;
            break;
          case 1:
            t.memory_mib = 10'000'000;
            break;
          case 2:
            t.gpus = 16;
            break;
          default:
            t.extra["fpga"] = 100;
            break;
        }
        break;
      case 2:
      case 3:
        small(t);
        t.gpu_milli =
            static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{1, 100, 250, 333, 500, 750, 999, 1000}));
        break;
      case 4:
      case 5:
        small(t);
        t.gpus = static_cast<std::int32_t>(r.pick(std::vector<std::int64_t>{1, 1, 2, 3, 4, 8}));
        break;
      case 6:
        small(t);
        t.extra["ssd_gib"] = r.pick(std::vector<std::int64_t>{0, 100, 600, 2500});
        if (r.chance(0.5)) t.selector["ssd"] = "true";
        break;
      default:
        small(t);
        break;
    }
    if (r.chance(0.1)) t.extra["fpga"] = r.in(0, 2);
    if (r.chance(0.05)) t.extra["ghost"] = r.in(0, 1);  // a resource no machine has
    if (r.chance(0.25)) {
      const std::vector<std::pair<std::string, std::string>> selectors = {
          {"kind", "gpu"}, {"kind", "cpu"}, {"team", "a"}, {"ssd", "true"}, {"nothere", "x"}, {"zone", "z1"}};
      const std::int64_t keys = r.chance(0.2) ? 2 : 1;
      for (std::int64_t q = 0; q < keys; ++q) {
        const auto& [key, value] = r.pick(selectors);
        t.selector[key] = value;
      }
    }
    if (wants_gpu(t) && r.chance(0.35)) {  // allowed models: existing, missing, repeated
      const std::int64_t n = r.in(1, 3);
      for (std::int64_t q = 0; q < n; ++q)
        t.gpu_models.push_back(r.pick(std::vector<std::string>{"V100", "A100", "T4", "H100"}));
    }
    if (n_machines > 0 && r.chance(0.2)) {
      const std::int64_t n = r.in(1, 2);
      for (std::int64_t q = 0; q < n; ++q) {
        const std::string target = "node-" + std::to_string(r.in(0, n_machines - 1));
        const bool seen = std::any_of(t.preferred_machines.begin(), t.preferred_machines.end(),
                                      [&](const Preference& p) { return p.target == target; });
        if (!seen) t.preferred_machines.push_back({target, r.in(0, 500)});
      }
      if (r.chance(0.5)) t.preferred_racks.push_back({"rack-" + std::to_string(r.in(0, n_racks - 1)), r.in(0, 200)});
    }
    pool.push_back(std::move(t));
  }

  // 3. Jobs: mostly small, a few with many tasks of one shape, some mixing shapes.
  const std::int64_t n_jobs = r.in(0, 8);
  for (std::int64_t j = 0; j < n_jobs; ++j) {
    Job job;
    job.id = "job-" + std::to_string(j);
    job.priority = static_cast<std::int32_t>(r.in(-3, 5));
    job.submit_time = r.in(0, 100'000);
    const Task& main_shape = r.pick(pool);
    const std::int64_t size = r.chance(0.1) ? r.in(40, 120) : r.in(0, 12);
    const bool mixing = r.chance(0.3);
    for (std::int64_t k = 0; k < size; ++k) {
      Task t = mixing && r.chance(0.3) ? r.pick(pool) : main_shape;
      t.id = "job" + std::to_string(j);  // (a one-letter prefix trips GCC 12's -Wrestrict)
      t.id += "-t" + std::to_string(k);
      job.tasks.push_back(std::move(t));
    }
    s.jobs.push_back(std::move(job));
  }

  // 4. Running tasks: first fit from a random machine, taking specific devices and keeping
  //    the free amounts consistent. A few run where their selector no longer holds.
  if (running_share > 0 && n_machines > 0) {
    for (Job& job : s.jobs) {
      for (Task& t : job.tasks) {
        if (!r.chance(running_share)) continue;
        const bool ignore_selector = r.chance(0.1);
        const std::int64_t start = r.in(0, n_machines - 1);
        for (std::int64_t k = 0; k < n_machines; ++k) {
          Machine& m = s.machines[static_cast<std::size_t>((start + k) % n_machines)];
          if (t.cpu_milli > m.free_cpu_milli || t.memory_mib > m.free_memory_mib) continue;
          if (!ignore_selector && !selector_holds(t, m)) continue;
          bool extras = true;
          for (const auto& [name, amount] : t.extra) extras = extras && amount <= amount_in(m.extra_free, name);
          if (!extras) continue;
          std::vector<std::size_t> order(m.gpus.size());
          for (std::size_t g = 0; g < order.size(); ++g) order[g] = g;
          std::shuffle(order.begin(), order.end(), r.engine());
          std::vector<std::size_t> chosen;
          for (const std::size_t g : order) {
            if (static_cast<std::int32_t>(chosen.size()) >= devices_wanted(t)) break;
            if (m.gpus[g].free_milli >= per_device(t) && model_allowed(t, m.gpus[g].model)) chosen.push_back(g);
          }
          if (static_cast<std::int32_t>(chosen.size()) < devices_wanted(t)) continue;
          m.free_cpu_milli -= t.cpu_milli;
          m.free_memory_mib -= t.memory_mib;
          for (const auto& [name, amount] : t.extra) {
            if (amount > 0) m.extra_free[name] -= amount;
          }
          for (const std::size_t g : chosen) {
            m.gpus[g].free_milli -= static_cast<std::int32_t>(per_device(t));
            t.gpu_indexes.push_back(m.gpus[g].index);
          }
          t.state = TaskState::kRunning;
          t.machine = m.id;
          break;
        }
      }
    }
  }
  return s;
}

AllocateOptions edge_options(std::uint64_t seed, CostModel model) {
  AllocateOptions o = options_for(seed + 7'000'000, model);
  o.max_evaluations = AllocateOptions{}.max_evaluations;
  return o;
}

// What the random instances exercised, so a generator that stops producing (say)
// migrations shows up in the output rather than silently weakening the test.
struct Coverage {
  std::int64_t placements = 0, gpu_placements = 0, kept = 0, migrations = 0, preemptions = 0;
  std::map<UnscheduledReason, std::int64_t> unscheduled;
  void add(const Allocation& a) {
    placements += static_cast<std::int64_t>(a.placements.size());
    for (const Placement& p : a.placements) gpu_placements += p.gpu_indexes.empty() ? 0 : 1;
    kept += static_cast<std::int64_t>(a.kept.size());
    migrations += static_cast<std::int64_t>(a.migrations.size());
    preemptions += static_cast<std::int64_t>(a.preemptions.size());
    for (const Unscheduled& u : a.unscheduled) ++unscheduled[u.reason];
  }
  void print(const char* what) const {
    std::printf("[ %s ] placements %lld (with GPUs %lld), kept %lld, migrations %lld, preemptions %lld, unscheduled:",
                what, static_cast<long long>(placements), static_cast<long long>(gpu_placements),
                static_cast<long long>(kept), static_cast<long long>(migrations), static_cast<long long>(preemptions));
    for (const auto& [reason, n] : unscheduled)
      std::printf(" %s %lld", std::string(to_string(reason)).c_str(), static_cast<long long>(n));
    std::printf("\n");
  }
};

// Runs allocate and the checker; returns false (after reporting) on a violation.
bool allocate_and_check(const Snapshot& s, const AllocateOptions& o, const std::string& what, int& failures,
                        Allocation* out = nullptr, Coverage* coverage = nullptr) {
  Allocation a = counted_allocate(s, o);
  const std::vector<std::string> errors = check_allocation(s, a, o);
  if (coverage != nullptr) coverage->add(a);
  if (out != nullptr) *out = std::move(a);
  if (errors.empty()) return true;
  ++failures;
  ADD_FAILURE() << what << "\n  options: " << describe(o) << "\n  violations:" << joined(errors);
  return false;
}

void print_calls(const char* test) {
  std::printf("[ %s ] allocate() calls so far in this binary: %lld\n", test, static_cast<long long>(g_allocate_calls));
}

// ---- 1. invariants on generated snapshots -----------------------------------------------

TEST(AllocateProperty, GeneratedSnapshotsKeepEveryInvariant) {
  constexpr std::uint64_t kSeeds = 1500;
  int failures = 0;
  Coverage coverage;
  for (std::uint64_t seed = 0; seed < kSeeds && failures < kMaxReportedFailures; ++seed) {
    const SnapshotGenParams p = generated_params(seed);
    const Snapshot snap = generate_snapshot(p);
    ASSERT_TRUE(validate(snap).ok()) << describe(p) << ": " << validate(snap).message;
    for (const CostModel model : kModels) {
      const AllocateOptions o = options_for(seed, model);
      SCOPED_TRACE("seed " + std::to_string(seed) + ", model " + std::string(to_string(model)));
      allocate_and_check(snap, o, "generated snapshot " + describe(p), failures, nullptr, &coverage);
    }
  }
  print_calls("generated");
  coverage.print("generated");
  EXPECT_GT(coverage.migrations, 0);
  EXPECT_GT(coverage.preemptions, 0);
  EXPECT_GT(coverage.gpu_placements, 0);
}

// ---- 2. invariants on hand-randomized edge-case snapshots -------------------------------

TEST(AllocateProperty, EdgeCaseSnapshotsKeepEveryInvariant) {
  constexpr std::uint64_t kSeeds = 2000;
  int failures = 0;
  Coverage coverage;
  for (std::uint64_t seed = 0; seed < kSeeds && failures < kMaxReportedFailures; ++seed) {
    const double running_share = std::vector<double>{0.0, 0.3, 0.7}[seed % 3];
    const Snapshot snap = edge_snapshot(seed, running_share);
    ASSERT_TRUE(validate(snap).ok()) << "edge snapshot seed " << seed << ": " << validate(snap).message;
    for (const CostModel model : kModels) {
      const AllocateOptions o = edge_options(seed, model);
      SCOPED_TRACE("edge seed " + std::to_string(seed) + ", model " + std::string(to_string(model)));
      allocate_and_check(
          snap, o,
          "edge_snapshot(seed=" + std::to_string(seed) + ", running_share=" + std::to_string(running_share) + ")",
          failures, nullptr, &coverage);
    }
  }
  print_calls("edge");
  coverage.print("edge");
  for (const UnscheduledReason r : {UnscheduledReason::kNoMachineWithResource,
                                    UnscheduledReason::kConstraintUnsatisfiable, UnscheduledReason::kNoFreeCapacity}) {
    EXPECT_GT(coverage.unscheduled[r], 0) << "no edge snapshot left a task unscheduled for " << to_string(r);
  }
}

// Every option combination on a few snapshots with running tasks (the generator's and ours).
TEST(AllocateProperty, EveryOptionCombinationKeepsEveryInvariant) {
  int failures = 0;
  for (std::uint64_t seed = 0; seed < 10 && failures < kMaxReportedFailures; ++seed) {
    SnapshotGenParams p = generated_params(seed * 3 + 1);  // running_share 0.3
    p.running_share = 0.7;
    p.gpu_machine_share = 0.5;
    p.gpu_task_share = 0.5;
    const Snapshot generated = generate_snapshot(p);
    const Snapshot edge = edge_snapshot(seed + 1000, 0.7);
    for (const CostModel model : kModels) {
      for (int bits = 0; bits < 16; ++bits) {
        AllocateOptions o;
        o.cost_model = model;
        o.aggregate = (bits & 1) != 0;
        o.allow_migration = (bits & 2) != 0;
        o.allow_preemption = (bits & 4) != 0;
        o.candidate_slack = (bits & 8) != 0 ? 0.0 : 2.0;
        o.migration_cost = seed % 2 == 0 ? 0 : 300;
        SCOPED_TRACE("combination seed " + std::to_string(seed) + ", model " + std::string(to_string(model)));
        allocate_and_check(generated, o, "generated snapshot " + describe(p), failures);
        allocate_and_check(edge, o, "edge_snapshot(seed=" + std::to_string(seed + 1000) + ", running_share=0.7)",
                           failures);
      }
    }
  }
  print_calls("combinations");
}

// ---- 3. aggregated vs per-task networks -------------------------------------------------

TEST(AllocateProperty, AggregationKeepsTheOptimum) {
  int failures = 0;
  for (std::uint64_t seed = 0; seed < 150 && failures < kMaxReportedFailures; ++seed) {
    const bool edge = seed % 2 == 1;
    const SnapshotGenParams p = generated_params(seed + 5000);
    const Snapshot snap =
        edge ? edge_snapshot(seed + 5000, std::vector<double>{0.0, 0.3, 0.7}[seed % 3]) : generate_snapshot(p);
    const std::string what = edge ? "edge_snapshot(seed=" + std::to_string(seed + 5000) + ")" : describe(p);
    std::int64_t pending = 0;
    std::int64_t running = 0;
    for (const Job& j : snap.jobs) {
      for (const Task& t : j.tasks) (t.state == TaskState::kPending ? pending : running) += 1;
    }
    for (const CostModel model : kModels) {
      AllocateOptions on = options_for(seed + 5000, model);
      on.aggregate = true;
      AllocateOptions off = on;
      off.aggregate = false;
      SCOPED_TRACE("aggregation seed " + std::to_string(seed) + ", " + what + ", " + describe(on));
      Allocation a_on;
      Allocation a_off;
      const bool ok_on = allocate_and_check(snap, on, what, failures, &a_on);
      const bool ok_off = allocate_and_check(snap, off, what, failures, &a_off);
      if (!ok_on || !ok_off) continue;
      EXPECT_EQ(a_on.objective, a_off.objective) << "aggregated and per-task networks differ in optimum";
      if (a_on.objective != a_off.objective) ++failures;

      const std::optional<Network> n_on = allocation_network(snap, on);
      const std::optional<Network> n_off = allocation_network(snap, off);
      ASSERT_TRUE(n_on.has_value() && n_off.has_value());
      const std::int64_t extra_nodes = n_off->num_nodes() - n_on->num_nodes();
      // One node (and one arc) per pending task, and per running task that has a choice.
      EXPECT_GE(extra_nodes, pending);
      EXPECT_LE(extra_nodes, pending + running);
      EXPECT_EQ(static_cast<std::int64_t>(n_off->num_arcs()) - n_on->num_arcs(), extra_nodes);
      if (pending >= 2) {
        EXPECT_GT(n_off->num_nodes(), n_on->num_nodes());
      }
      std::int64_t supply_on = 0;
      std::int64_t supply_off = 0;
      for (const std::int64_t b : n_on->supplies()) supply_on += b > 0 ? b : 0;
      for (const std::int64_t b : n_off->supplies()) supply_off += b > 0 ? b : 0;
      EXPECT_EQ(supply_on, supply_off);
      EXPECT_EQ(a_on.stats.nodes, n_on->num_nodes());
      EXPECT_EQ(a_off.stats.nodes, n_off->num_nodes());
    }
  }
  print_calls("aggregation");
}

// ---- 4. certificates and the LEMON reference ------------------------------------------

TEST(AllocateProperty, VerifiedAllocationsCarryAValidCertificate) {
  int failures = 0;
  for (std::uint64_t seed = 0; seed < 80 && failures < kMaxReportedFailures; ++seed) {
    const bool edge = seed % 2 == 1;
    const SnapshotGenParams p = generated_params(seed + 9000);
    const Snapshot snap = edge ? edge_snapshot(seed + 9000, 0.3) : generate_snapshot(p);
    const std::string what = edge ? "edge_snapshot(seed=" + std::to_string(seed + 9000) + ", 0.3)" : describe(p);
    for (const CostModel model : kModels) {
      AllocateOptions o = options_for(seed + 9000, model);
      o.solve.verify = true;
      SCOPED_TRACE("certificate seed " + std::to_string(seed) + ", " + what + ", " + describe(o));
      Allocation a;
      if (!allocate_and_check(snap, o, what, failures, &a)) continue;
      ASSERT_TRUE(a.certificate.has_value());
      EXPECT_TRUE(a.certificate->valid()) << a.certificate->message;
      EXPECT_EQ(a.certificate->primal_cost, std::to_string(a.objective));
    }
  }
  print_calls("certificate");
}

TEST(AllocateProperty, LemonBackendsReachTheSameOptimum) {
  int failures = 0;
  int unavailable = 0;
  for (std::uint64_t seed = 0; seed < 80 && failures < kMaxReportedFailures && unavailable == 0; ++seed) {
    const bool edge = seed % 2 == 0;
    const SnapshotGenParams p = generated_params(seed + 12000);
    const Snapshot snap = edge ? edge_snapshot(seed + 12000, 0.7) : generate_snapshot(p);
    const std::string what = edge ? "edge_snapshot(seed=" + std::to_string(seed + 12000) + ", 0.7)" : describe(p);
    for (const CostModel model : kModels) {
      AllocateOptions cpu = options_for(seed + 12000, model);
      cpu.solve.backend = Backend::kCpu;
      SCOPED_TRACE("lemon seed " + std::to_string(seed) + ", " + what + ", " + describe(cpu));
      Allocation ours;
      if (!allocate_and_check(snap, cpu, what, failures, &ours)) continue;
      for (const Backend backend : {Backend::kLemonNetworkSimplex, Backend::kLemonCostScaling}) {
        AllocateOptions lemon = cpu;
        lemon.solve.backend = backend;
        const Allocation theirs = counted_allocate(snap, lemon);
        if (theirs.status == Status::kBackendUnavailable) {
          ++unavailable;
          break;
        }
        const std::vector<std::string> errors = check_allocation(snap, theirs, lemon);
        if (!errors.empty()) {
          ++failures;
          ADD_FAILURE() << what << "\n  options: " << describe(lemon) << "\n  violations:" << joined(errors);
          continue;
        }
        EXPECT_EQ(theirs.objective, ours.objective) << to_string(backend) << " vs cpu";
      }
      if (unavailable > 0) break;
    }
  }
  print_calls("lemon");
  if (unavailable > 0) GTEST_SKIP() << "LEMON backends are not in this build (allocate returned backend-unavailable)";
}

// ---- 5. determinism -----------------------------------------------------------------

std::string stable_json(Allocation a) {
  a.timings = AllocationTimings{};
  return allocation_to_json(a);
}

TEST(AllocateProperty, SameInputSameAnswer) {
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    const bool edge = seed % 2 == 1;
    const SnapshotGenParams p = generated_params(seed + 15000);
    const Snapshot snap = edge ? edge_snapshot(seed + 15000, 0.3) : generate_snapshot(p);
    const Snapshot copy = snap;
    for (const CostModel model : kModels) {
      const AllocateOptions o = options_for(seed + 15000, model);
      SCOPED_TRACE("determinism seed " + std::to_string(seed) + (edge ? " (edge)" : " (generated)") + ", " +
                   describe(o));
      const Allocation first = counted_allocate(snap, o);
      const Allocation second = counted_allocate(copy, o);
      ASSERT_EQ(first.status, Status::kOptimal) << first.message;
      EXPECT_EQ(stable_json(first), stable_json(second));
      EXPECT_EQ(first.objective, second.objective);
    }
  }
  print_calls("determinism");
}

// ---- 6. invalid input ---------------------------------------------------------------

Snapshot small_valid_snapshot() {
  Snapshot s;
  s.version = 3;
  Machine m;
  m.id = "alpha";
  m.rack = "r0";
  m.cpu_milli = m.free_cpu_milli = 8000;
  m.memory_mib = m.free_memory_mib = 16384;
  m.gpus = {Gpu{0, "V100", 1000}, Gpu{1, "V100", 1000}};
  s.machines.push_back(m);
  m.id = "beta";
  m.gpus.clear();
  s.machines.push_back(m);
  Job j;
  j.id = "job-a";
  Task t;
  t.id = "task-a0";
  t.cpu_milli = 1000;
  t.memory_mib = 1024;
  j.tasks.push_back(t);
  t.id = "task-a1";
  t.gpu_milli = 500;
  j.tasks.push_back(t);
  s.jobs.push_back(j);
  return s;
}

void expect_invalid(const Snapshot& s, const std::string& offending, const char* what) {
  SCOPED_TRACE(what);
  for (const CostModel model : kModels) {
    AllocateOptions o;
    o.cost_model = model;
    const Allocation a = counted_allocate(s, o);
    EXPECT_EQ(a.status, Status::kInvalidInput) << to_string(model) << ": " << a.message;
    EXPECT_NE(a.message.find(offending), std::string::npos)
        << to_string(model) << ": message does not name '" << offending << "': " << a.message;
    EXPECT_TRUE(a.placements.empty() && a.kept.empty() && a.unscheduled.empty());
    EXPECT_FALSE(allocation_network(s, o).has_value());
  }
}

TEST(AllocateProperty, InvalidSnapshotsAreRefusedNamingTheOffender) {
  {
    const Snapshot s = small_valid_snapshot();
    int failures = 0;
    for (const CostModel model : kModels) {
      AllocateOptions o;
      o.cost_model = model;
      SCOPED_TRACE(std::string("small valid snapshot, model ") + std::string(to_string(model)));
      allocate_and_check(s, o, "small valid snapshot", failures);
    }
  }
  {
    Snapshot s = small_valid_snapshot();
    Job j;
    j.id = "job-b";
    Task t;
    t.id = "task-a1";  // already in job-a
    t.cpu_milli = 10;
    j.tasks.push_back(t);
    s.jobs.push_back(j);
    expect_invalid(s, "task-a1", "duplicate task id across jobs");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks.push_back(s.jobs[0].tasks[0]);  // same id twice in one job
    expect_invalid(s, "task-a0", "duplicate task id within a job");
  }
  {
    Snapshot s = small_valid_snapshot();
    Task& t = s.jobs[0].tasks[0];
    t.id = "stray-task";
    t.state = TaskState::kRunning;
    t.machine = "ghost-machine";
    expect_invalid(s, "stray-task", "running task on an unknown machine");
    expect_invalid(s, "ghost-machine", "running task on an unknown machine (machine named)");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks[0].id = "neg-cpu";
    s.jobs[0].tasks[0].cpu_milli = -1;
    expect_invalid(s, "neg-cpu", "negative CPU demand");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks[0].id = "neg-mem";
    s.jobs[0].tasks[0].memory_mib = -5;
    expect_invalid(s, "neg-mem", "negative memory demand");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks[0].id = "neg-extra";
    s.jobs[0].tasks[0].extra["ssd_gib"] = -1;
    expect_invalid(s, "neg-extra", "negative extra demand");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks[1].id = "greedy-share";
    s.jobs[0].tasks[1].gpu_milli = 1001;
    expect_invalid(s, "greedy-share", "GPU share above 1000");
  }
  {
    Snapshot s = small_valid_snapshot();
    s.jobs[0].tasks[1].id = "both-kinds";
    s.jobs[0].tasks[1].gpus = 1;  // and gpu_milli = 500
    expect_invalid(s, "both-kinds", "whole GPUs and a share at once");
  }
  {
    Snapshot s = small_valid_snapshot();
    Task& t = s.jobs[0].tasks[1];
    t.id = "wrong-device";
    t.state = TaskState::kRunning;
    t.machine = "alpha";
    t.gpu_indexes = {7};
    expect_invalid(s, "wrong-device", "running task on a GPU index its machine lacks");
  }
  print_calls("invalid");
}

// ---- the checker itself ---------------------------------------------------------------

// The checker must reject answers that break each invariant: a real answer, tampered.
TEST(AllocateProperty, CheckerCatchesTamperedAnswers) {
  Snapshot s = small_valid_snapshot();
  s.machines[0].labels["gpu"] = "yes";
  Task& running = s.jobs[0].tasks[1];  // a GPU share, running on alpha's device 1
  running.state = TaskState::kRunning;
  running.machine = "alpha";
  running.gpu_indexes = {1};
  s.machines[0].free_cpu_milli -= running.cpu_milli;
  s.machines[0].free_memory_mib -= running.memory_mib;
  s.machines[0].gpus[1].free_milli -= running.gpu_milli;
  Job g{"job-g", 1, 0, {}};
  Task whole;
  whole.id = "whole-0";
  whole.cpu_milli = 100;
  whole.gpus = 1;
  whole.selector["gpu"] = "yes";
  g.tasks.push_back(whole);
  s.jobs.push_back(g);
  ASSERT_TRUE(validate(s).ok()) << validate(s).message;
  AllocateOptions o;
  o.allow_migration = false;
  const Allocation good = counted_allocate(s, o);
  ASSERT_TRUE(check_allocation(s, good, o).empty()) << joined(check_allocation(s, good, o));
  ASSERT_EQ(good.kept.size(), 1u);
  ASSERT_EQ(good.placements.size(), 2u);
  const auto placement_of = [](Allocation& a, const std::string& task) -> Placement& {
    for (Placement& p : a.placements) {
      if (p.task == task) return p;
    }
    throw std::runtime_error("no placement of " + task);
  };
  const auto expect_caught = [&](const char* what, const std::function<void(Allocation&)>& tamper) {
    Allocation bad = good;
    tamper(bad);
    EXPECT_FALSE(check_allocation(s, bad, o).empty()) << "the checker missed: " << what;
  };
  expect_caught("a task placed twice", [&](Allocation& a) { a.placements.push_back(a.placements.front()); });
  expect_caught("a running task dropped", [&](Allocation& a) { a.kept.clear(); });
  expect_caught("a pending task dropped", [&](Allocation& a) { a.placements.pop_back(); });
  expect_caught("an unknown task", [&](Allocation& a) { a.unscheduled.push_back({"job-a", "nobody", {}, "x"}); });
  expect_caught("a running task placed as new", [&](Allocation& a) {
    a.placements.push_back(a.kept.front());
    a.kept.clear();
  });
  expect_caught("a kept task on other devices", [&](Allocation& a) { a.kept.front().gpu_indexes = {0}; });
  expect_caught("a kept task on another machine", [&](Allocation& a) { a.kept.front().machine = "beta"; });
  expect_caught("a whole GPU that does not exist",
                [&](Allocation& a) { placement_of(a, "whole-0").gpu_indexes = {9}; });
  expect_caught("a whole GPU shared with a share",
                [&](Allocation& a) { placement_of(a, "whole-0").gpu_indexes = {1}; });
  expect_caught("a whole-GPU task without its GPU",
                [&](Allocation& a) { placement_of(a, "whole-0").gpu_indexes.clear(); });
  expect_caught("a CPU task given a GPU", [&](Allocation& a) { placement_of(a, "task-a0").gpu_indexes = {0}; });
  expect_caught("a selector broken", [&](Allocation& a) {
    placement_of(a, "whole-0").machine = "beta";
    placement_of(a, "whole-0").gpu_indexes.clear();
  });
  expect_caught("a migration when migration is off", [&](Allocation& a) {
    const Placement k = a.kept.front();
    a.kept.clear();
    a.migrations.push_back({k.job, k.task, "alpha", "beta", {}});
  });
  expect_caught("a status that is not optimal", [&](Allocation& a) { a.status = Status::kInfeasible; });
  expect_caught("an unscheduled task that fits", [&](Allocation& a) {
    const Placement p = placement_of(a, "task-a0");
    a.placements.erase(
        std::find_if(a.placements.begin(), a.placements.end(), [](const Placement& q) { return q.task == "task-a0"; }));
    a.unscheduled.push_back({p.job, p.task, UnscheduledReason::kNoFreeCapacity, "full"});
  });
  // Overcommitted CPU: ten tasks of one core moved onto a machine with eight free.
  Snapshot crowded = small_valid_snapshot();
  crowded.jobs[0].tasks.resize(1);
  for (int k = 1; k < 10; ++k) {
    Task t = crowded.jobs[0].tasks[0];
    t.id = "crowd-" + std::to_string(k);
    crowded.jobs[0].tasks.push_back(t);
  }
  Allocation over = counted_allocate(crowded, o);
  ASSERT_TRUE(check_allocation(crowded, over, o).empty()) << joined(check_allocation(crowded, over, o));
  ASSERT_EQ(over.placements.size(), 10u);
  for (Placement& p : over.placements) p.machine = "alpha";
  EXPECT_FALSE(check_allocation(crowded, over, o).empty()) << "the checker missed an overcommitted machine";
}

// ---- targeted cases --------------------------------------------------------------------

Machine plain_machine(const std::string& id, std::int64_t cpu, std::int64_t memory) {
  Machine m;
  m.id = id;
  m.rack = "r0";
  m.cpu_milli = m.free_cpu_milli = cpu;
  m.memory_mib = m.free_memory_mib = memory;
  return m;
}

// Under the priority model, a high-priority task may displace a low-priority running task
// whose own migration (chosen by the flow) has not been packed yet. When that migration is
// then packed, the task's old room must not be given back a second time.
TEST(AllocateProperty, DisplacingAMigratingTaskFreesItsRoomOnce) {
  Snapshot s;
  s.version = 1;
  Machine m1 = plain_machine("m1", 4000, 1000);
  m1.labels["only"] = "m1";
  m1.free_cpu_milli = 0;  // all of it held by `low` below
  Machine m2 = plain_machine("m2", 8000, 1000);
  m2.free_cpu_milli = 4000;
  m2.free_memory_mib = 0;  // background use: a full machine is the cheapest to pack
  s.machines = {m1, m2};
  Job low{"low", 0, 0, {}};
  Task l;
  l.id = "low-0";
  l.cpu_milli = 4000;
  l.state = TaskState::kRunning;
  l.machine = "m1";
  low.tasks.push_back(l);
  Job high{"high", 9, 0, {}};
  Task h;
  h.id = "high-0";
  h.cpu_milli = 4000;
  h.selector["only"] = "m1";
  high.tasks.push_back(h);
  Job mid{"mid", 0, 0, {}};
  Task p = h;
  p.id = "mid-0";
  mid.tasks.push_back(p);
  s.jobs = {low, high, mid};
  ASSERT_TRUE(validate(s).ok()) << validate(s).message;
  int failures = 0;
  for (const std::int64_t migration_cost : {0, 300}) {
    for (const bool aggregate : {true, false}) {
      AllocateOptions o;
      o.cost_model = CostModel::kPriority;
      o.migration_cost = migration_cost;
      o.aggregate = aggregate;
      allocate_and_check(s, o, "displacement of a migrating task", failures);
    }
  }
}

// A task that wants no GPU is not constrained by its list of GPU models: one that names
// only a model no machine has must be placed like one that names a model that exists.
TEST(AllocateProperty, GpuModelsDoNotConstrainTasksWithoutGpus) {
  Snapshot s;
  s.version = 1;
  Machine m = plain_machine("solo", 8000, 8192);
  m.gpus = {Gpu{0, "V100", 1000}};
  s.machines = {m};
  Job j{"cpu-job", 1, 0, {}};
  Task known;
  known.id = "names-existing-model";
  known.cpu_milli = 1000;
  known.gpu_models = {"V100"};
  Task unknown = known;
  unknown.id = "names-missing-model";
  unknown.gpu_models = {"H100"};
  j.tasks = {known, unknown};
  s.jobs = {j};
  ASSERT_TRUE(validate(s).ok()) << validate(s).message;
  int failures = 0;
  for (const CostModel model : kModels) {
    AllocateOptions o;
    o.cost_model = model;
    SCOPED_TRACE(std::string("model ") + std::string(to_string(model)));
    Allocation a;
    allocate_and_check(s, o, "CPU-only tasks naming GPU models", failures, &a);
    EXPECT_EQ(a.placements.size(), 2u) << "unscheduled: "
                                       << (a.unscheduled.empty()
                                               ? std::string()
                                               : a.unscheduled[0].task + " (" + a.unscheduled[0].message + ")");
  }
}

}  // namespace
}  // namespace sluice
