// allocate(): validate → index → build → solve → fit-and-repair → extract.
//
// Fit-and-repair is what makes the answer safe whatever the flow says. The flow counts
// tasks, not resource vectors, so it may put more on a machine than its free CPU, memory,
// extras or GPU devices hold. Repair replays the decisions against each machine's real
// free resources, in priority order, choosing GPU devices as it goes:
//   1. running tasks the flow moves or stops give their resources back;
//   2. flow placements (new tasks and migrations), highest priority first, are packed on
//      their machine; under the priority model a task that does not fit may displace
//      lower-priority running tasks there;
//   3. stopped or moved running tasks whose move failed go back where they were when their
//      exact devices are still free (a preemption that bought nothing is undone);
//   4. what is left tries the shape's candidates, then every machine (first fit);
//   5. whatever still has no machine is unscheduled, with the reason.
// Invariant after every step: no machine's free amount of any resource or any GPU's free
// share is negative; whole-GPU tasks hold distinct devices that were entirely free.
#include "sluice/allocate.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "allocation_network.hpp"
#include "cost_models.hpp"

namespace sluice {

std::string_view to_string(CostModel m) {
  switch (m) {
    case CostModel::kLoadSpreading:
      return "spread";
    case CostModel::kPacking:
      return "pack";
    case CostModel::kQuincy:
      return "quincy";
    case CostModel::kPriority:
      return "priority";
    case CostModel::kFgd:
      return "fgd";
  }
  return "unknown";
}

std::optional<CostModel> parse_cost_model(std::string_view name) {
  if (name == "spread" || name == "load-spreading") return CostModel::kLoadSpreading;
  if (name == "pack" || name == "packing") return CostModel::kPacking;
  if (name == "quincy") return CostModel::kQuincy;
  if (name == "priority") return CostModel::kPriority;
  if (name == "fgd") return CostModel::kFgd;
  return std::nullopt;
}

std::string_view to_string(UnscheduledReason r) {
  switch (r) {
    case UnscheduledReason::kNoMachineWithResource:
      return "no-machine-with-resource";
    case UnscheduledReason::kConstraintUnsatisfiable:
      return "constraint-unsatisfiable";
    case UnscheduledReason::kNoFreeCapacity:
      return "no-free-capacity";
    case UnscheduledReason::kOutbidByPriority:
      return "outbid-by-priority";
  }
  return "unknown";
}

std::optional<UnscheduledReason> parse_unscheduled_reason(std::string_view name) {
  for (const UnscheduledReason r :
       {UnscheduledReason::kNoMachineWithResource, UnscheduledReason::kConstraintUnsatisfiable,
        UnscheduledReason::kNoFreeCapacity, UnscheduledReason::kOutbidByPriority}) {
    if (to_string(r) == name) return r;
  }
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

using namespace detail;

// One task to pack during repair.
struct Move {
  std::int32_t priority = 0;
  std::int32_t shape = 0;
  TaskRef ref;
  std::int32_t running = -1;  // index into Cluster::running, or -1 for a pending task
  std::int32_t machine = -1;  // where the flow put it
  std::int32_t order = 0;     // snapshot order, for determinism
};

// First fit over the machines: a max-tree of free CPU, memory, largest free GPU share,
// count of whole free GPUs, and three "balanced" keys max_m min(cpu_m·r, memory_m) for
// r = 1, 4, 16 MiB per milli-core. Every key is a necessary condition for a fit, so a
// query descends only into subtrees that may hold a machine with room; the balanced keys
// prune subtrees where one machine has the CPU and another the memory.
class FirstFitIndex {
 public:
  void build(const std::vector<Resources>& free) {
    n_ = free.size();
    size_ = 1;
    while (size_ < n_) size_ <<= 1;
    tree_.assign(2 * size_, Key{});
    for (std::size_t m = 0; m < n_; ++m) tree_[size_ + m] = key_of(free[m]);
    for (std::size_t v = size_ - 1; v >= 1; --v) tree_[v] = merge(tree_[2 * v], tree_[2 * v + 1]);
  }
  void update(std::size_t m, const Resources& r) {
    std::size_t v = size_ + m;
    tree_[v] = key_of(r);
    for (v >>= 1; v >= 1; v >>= 1) tree_[v] = merge(tree_[2 * v], tree_[2 * v + 1]);
  }
  // The first machine at or after `from` whose keys reach `d`'s demand, or n.
  [[nodiscard]] std::size_t first(std::size_t from, const Demand& d) const {
    if (from >= n_) return n_;
    Key need{{d.cpu, d.memory, d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli, d.gpus, 0, 0, 0}};
    for (std::size_t i = 0; i < kRatios.size(); ++i) need.k[4 + i] = std::min(d.cpu * kRatios[i], d.memory);
    return descend(1, 0, size_, from, need);
  }

 private:
  static constexpr std::array<std::int64_t, 3> kRatios{1, 4, 16};
  struct Key {
    std::array<std::int64_t, 7> k{-1, -1, -1, -1, -1, -1, -1};
  };
  static Key key_of(const Resources& r) {
    Key key{{r.cpu, r.memory, 0, 0, 0, 0, 0}};
    for (const std::int32_t f : r.gpu_free) {
      key.k[2] = std::max<std::int64_t>(key.k[2], f);
      key.k[3] += f == kGpuMilliWhole ? 1 : 0;
    }
    for (std::size_t i = 0; i < kRatios.size(); ++i) key.k[4 + i] = std::min(r.cpu * kRatios[i], r.memory);
    return key;
  }
  static Key merge(const Key& a, const Key& b) {
    Key out;
    for (std::size_t i = 0; i < out.k.size(); ++i) out.k[i] = std::max(a.k[i], b.k[i]);
    return out;
  }
  static bool reaches(const Key& key, const Key& need) {
    for (std::size_t i = 0; i < key.k.size(); ++i) {
      if (key.k[i] < need.k[i]) return false;
    }
    return true;
  }
  std::size_t descend(std::size_t v, std::size_t lo, std::size_t hi, std::size_t from, const Key& need) const {
    if (hi <= from || !reaches(tree_[v], need)) return n_;
    if (hi - lo == 1) return lo < n_ ? lo : n_;
    const std::size_t mid = (lo + hi) / 2;
    const std::size_t left = descend(2 * v, lo, mid, from, need);
    return left < n_ ? left : descend(2 * v + 1, mid, hi, from, need);
  }

  std::size_t n_ = 0;
  std::size_t size_ = 1;
  std::vector<Key> tree_;
};

enum class Fate : std::uint8_t { kUndecided, kKept, kPlaced, kMigrated, kPreempted, kUnscheduled };

struct TaskOutcome {
  Fate fate = Fate::kUndecided;
  std::int32_t machine = -1;
  std::vector<std::int32_t> devices;  // positions
  std::string why;                    // for preemptions
};

std::string constraint_signature(const Shape& s);
bool covers(const Demand& d, const Demand& f);

class Repairer {
 public:
  Repairer(const Cluster& c, const CostContext& costs, const AllocateOptions& o)
      : c_(c), costs_(costs), o_(o), free_(c.machines.size()) {
    for (std::size_t m = 0; m < c.machines.size(); ++m) free_[m] = c.machines[m].free;
    pending_.resize(c.shapes.size());
    for (std::size_t s = 0; s < c.shapes.size(); ++s) pending_[s].resize(c.shapes[s].pending.size());
    running_.resize(c.running.size());
    scan_cursor_.assign(c.shapes.size(), 0);
    candidate_cursor_.assign(c.shapes.size(), 0);
    exhausted_.assign(c.shapes.size(), 0);
    signature_.assign(c.shapes.size(), -1);
    failures_seen_.assign(c.shapes.size(), 0);
    std::unordered_map<std::string, std::int32_t> kinds;
    std::string key;
    kind_of_.resize(c.machines.size());
    for (std::size_t m = 0; m < c.machines.size(); ++m) {
      const MachineInfo& info = c.machines[m];
      const Machine& machine = c.snapshot->machines[m];
      key = std::to_string(info.capacity.cpu) + ',' + std::to_string(info.capacity.memory) + ',';
      std::vector<std::int32_t> models = info.gpu_model;
      std::sort(models.begin(), models.end());
      for (const std::int32_t g : models) key += std::to_string(g) + ',';
      key += '|';
      for (const std::int64_t e : info.capacity.extra) key += std::to_string(e) + ',';
      for (const auto& [k, v] : machine.labels) key += k + '=' + v + ';';
      const auto [it, fresh] = kinds.try_emplace(key, static_cast<std::int32_t>(kind_rep_.size()));
      if (fresh) {
        kind_rep_.push_back(static_cast<std::int32_t>(m));
        kind_size_.push_back(0);
        kind_placed_priority_.push_back(kNone);
      }
      kind_of_[m] = it->second;
      ++kind_size_[static_cast<std::size_t>(it->second)];
    }
  }

  std::int64_t run(const FlowDecision& flow);
  Allocation extract(Allocation out) const;
  [[nodiscard]] const std::vector<Resources>& free() const { return free_; }

 private:
  static constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::min();

  bool pack(const Move& mv, std::int32_t m, bool may_displace);
  bool restore(std::int32_t running_id);
  bool place_anywhere(const Move& mv);
  TaskOutcome& outcome(const Move& mv) {
    return mv.running >= 0 ? running_[static_cast<std::size_t>(mv.running)]
                           : pending_[static_cast<std::size_t>(mv.shape)][static_cast<std::size_t>(mv.order)];
  }
  [[nodiscard]] std::pair<UnscheduledReason, std::string> reason(std::int32_t shape, std::int32_t priority) const;

  const Cluster& c_;
  const CostContext& costs_;
  const AllocateOptions& o_;
  std::vector<Resources> free_;
  std::vector<std::vector<TaskOutcome>> pending_;  // [shape][i]
  std::vector<TaskOutcome> running_;
  FirstFitIndex first_fit_;  // live during step 4
  bool first_fit_live_ = false;
  std::vector<std::size_t> scan_cursor_;                           // per shape: machines before it cannot fit it
  std::vector<std::size_t> candidate_cursor_;                      // per shape: likewise for its candidates
  std::vector<std::uint8_t> exhausted_;                            // per shape: no machine can take it any more
  std::unordered_map<std::string, std::int32_t> signature_index_;  // constraints → group
  std::vector<std::vector<const Demand*>> failed_demands_;         // per group: shapes that found nothing
  std::vector<std::int32_t> signature_;                            // per shape: its group, or -1
  std::vector<std::size_t> failures_seen_;                         // per shape
  // Machines with the same capacity, devices and labels ("kinds"): unscheduled reasons are
  // decided per kind, not per machine.
  std::vector<std::int32_t> kind_of_;
  std::vector<std::int32_t> kind_rep_;
  std::vector<std::int64_t> kind_size_;
  std::vector<std::int32_t> kind_placed_priority_;
};

// The constraints of a shape other than amounts: selector, allowed models, extra names.
std::string constraint_signature(const Shape& s) {
  std::string key;
  for (const auto& [k, v] : s.selector) key += k + '=' + v + ';';
  key += '|';
  for (const std::uint8_t a : s.demand.model_allowed) key += static_cast<char>('0' + a);
  key += '|';
  for (const auto& [res, amount] : s.demand.extra) key += std::to_string(res) + ',';
  return key;
}

// True when every machine that lacks room for `f` also lacks room for `d` (same
// constraints): d needs at least as much of everything.
bool covers(const Demand& d, const Demand& f) {
  if (d.cpu < f.cpu || d.memory < f.memory || d.extra.size() != f.extra.size()) return false;
  for (std::size_t i = 0; i < d.extra.size(); ++i) {
    if (d.extra[i].first != f.extra[i].first || d.extra[i].second < f.extra[i].second) return false;
  }
  if (f.gpus > 0) return d.gpus >= f.gpus;
  if (f.gpu_milli > 0) return d.gpus > 0 || d.gpu_milli >= f.gpu_milli;
  return true;
}

bool Repairer::pack(const Move& mv, std::int32_t m, bool may_displace) {
  const Demand& d = c_.shapes[static_cast<std::size_t>(mv.shape)].demand;
  const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
  if (!labels_match(c_, c_.shapes[static_cast<std::size_t>(mv.shape)], m)) return false;
  Resources& r = free_[static_cast<std::size_t>(m)];
  std::vector<std::int32_t> devices;
  const auto pick = [this](const Demand& dd, const Resources& rr, const std::vector<std::int32_t>& models) {
    return costs_.pick_share(dd, rr, models);
  };
  bool ok = take(d, r, info.gpu_model, devices, pick);
  if (!ok && may_displace) {
    // Displace running tasks of lower priority on m, lowest first, if that makes room.
    std::vector<std::int32_t> victims;
    for (const std::int32_t id : c_.running_on(m)) {
      const TaskOutcome& o = running_[static_cast<std::size_t>(id)];
      if (o.fate == Fate::kKept && c_.running[static_cast<std::size_t>(id)].priority < mv.priority)
        victims.push_back(id);
    }
    std::stable_sort(victims.begin(), victims.end(), [&](std::int32_t a, std::int32_t b) {
      return c_.running[static_cast<std::size_t>(a)].priority < c_.running[static_cast<std::size_t>(b)].priority;
    });
    Resources trial = r;
    std::size_t used = 0;
    for (; used < victims.size(); ++used) {
      const RunningTask& v = c_.running[static_cast<std::size_t>(victims[used])];
      give_back(c_.shapes[static_cast<std::size_t>(v.shape)].demand, trial, c_.devices(v));
      if (fit_count(d, trial, info.gpu_model) > 0) break;
    }
    if (used < victims.size()) {
      for (std::size_t k = 0; k <= used; ++k) {
        const RunningTask& v = c_.running[static_cast<std::size_t>(victims[k])];
        give_back(c_.shapes[static_cast<std::size_t>(v.shape)].demand, r, c_.devices(v));
        TaskOutcome& o = running_[static_cast<std::size_t>(victims[k])];
        o.fate = Fate::kPreempted;
        const Job& job = c_.snapshot->jobs[static_cast<std::size_t>(mv.ref.job)];
        o.why = "displaced by higher-priority task " + job.tasks[static_cast<std::size_t>(mv.ref.task)].id +
                " (priority " + std::to_string(job.priority) + ")";
      }
      ok = take(d, r, info.gpu_model, devices, pick);
    }
  }
  if (!ok) return false;
  if (first_fit_live_) first_fit_.update(static_cast<std::size_t>(m), r);
  TaskOutcome& o = outcome(mv);
  o.machine = m;
  o.devices = std::move(devices);
  if (mv.running >= 0) {
    o.fate = m == c_.running[static_cast<std::size_t>(mv.running)].machine ? Fate::kKept : Fate::kMigrated;
  } else {
    o.fate = Fate::kPlaced;
  }
  std::int32_t& placed = kind_placed_priority_[static_cast<std::size_t>(kind_of_[static_cast<std::size_t>(m)])];
  placed = std::max(placed, mv.priority);
  return true;
}

// Puts a running task back on its own machine and devices, if they are still free.
bool Repairer::restore(std::int32_t running_id) {
  const RunningTask& t = c_.running[static_cast<std::size_t>(running_id)];
  const Demand& d = c_.shapes[static_cast<std::size_t>(t.shape)].demand;
  Resources& r = free_[static_cast<std::size_t>(t.machine)];
  if (d.cpu > r.cpu || d.memory > r.memory) return false;
  for (const auto& [res, amount] : d.extra) {
    if (amount > r.extra[static_cast<std::size_t>(res)]) return false;
  }
  const std::int32_t per_device = d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli;
  for (const std::int32_t g : c_.devices(t)) {
    if (r.gpu_free[static_cast<std::size_t>(g)] < per_device) return false;
  }
  r.cpu -= d.cpu;
  r.memory -= d.memory;
  for (const auto& [res, amount] : d.extra) r.extra[static_cast<std::size_t>(res)] -= amount;
  for (const std::int32_t g : c_.devices(t)) r.gpu_free[static_cast<std::size_t>(g)] -= per_device;
  TaskOutcome& o = running_[static_cast<std::size_t>(running_id)];
  o.fate = Fate::kKept;
  o.machine = t.machine;
  o.devices.assign(c_.devices(t).begin(), c_.devices(t).end());
  o.why.clear();
  return true;
}

bool Repairer::place_anywhere(const Move& mv) {
  // Free resources only shrink from here on, so a machine that could not take a shape once
  // never will: candidate and machine scans resume where the last one stopped, and a shape
  // whose demand covers one that found no machine at all is refused without a scan.
  const auto shape = static_cast<std::size_t>(mv.shape);
  const Shape& s = c_.shapes[shape];
  if (exhausted_[shape] != 0) return false;
  if (signature_[shape] < 0) {  // the shape's constraint group, looked up once
    const auto [it, fresh] =
        signature_index_.try_emplace(constraint_signature(s), static_cast<std::int32_t>(failed_demands_.size()));
    if (fresh) failed_demands_.emplace_back();
    signature_[shape] = it->second;
  }
  auto& failures = failed_demands_[static_cast<std::size_t>(signature_[shape])];
  // Only failures recorded since this shape last looked can be new to it.
  for (std::size_t& f = failures_seen_[shape]; f < failures.size(); ++f) {
    if (covers(s.demand, *failures[f])) {
      exhausted_[shape] = 1;
      return false;
    }
  }
  for (std::size_t& k = candidate_cursor_[shape]; k < s.candidates.size(); ++k) {
    if (pack(mv, s.candidates[k].machine, false)) return true;
  }
  for (std::size_t& m = scan_cursor_[shape]; (m = first_fit_.first(m, s.demand)) < c_.machines.size(); ++m) {
    if (pack(mv, static_cast<std::int32_t>(m), false)) return true;
  }
  exhausted_[shape] = 1;
  failures.push_back(&s.demand);
  return false;
}

std::int64_t Repairer::run(const FlowDecision& flow) {
  std::int64_t repaired = 0;
  const Snapshot& snap = *c_.snapshot;
  std::vector<Move> moves;
  std::vector<Move> leftovers;
  std::vector<std::int32_t> to_restore;

  // 1. Running tasks: stay as they are, or release what they hold.
  for (std::size_t id = 0; id < c_.running.size(); ++id) {
    const RunningTask& t = c_.running[id];
    TaskOutcome& o = running_[id];
    const std::int32_t target = flow.running_machine[id];
    Move mv{t.priority, t.shape, t.ref, static_cast<std::int32_t>(id), target, static_cast<std::int32_t>(id)};
    if (target == t.machine) {
      o.fate = Fate::kKept;
      o.machine = t.machine;
      o.devices.assign(c_.devices(t).begin(), c_.devices(t).end());
      continue;
    }
    // A task the flow moves keeps what it holds until its new place is packed.
    o.fate = Fate::kKept;
    o.machine = t.machine;
    o.devices.assign(c_.devices(t).begin(), c_.devices(t).end());
    if (target >= 0) {
      moves.push_back(mv);
      continue;
    }
    give_back(c_.shapes[static_cast<std::size_t>(t.shape)].demand, free_[static_cast<std::size_t>(t.machine)],
              c_.devices(t));
    o.fate = Fate::kPreempted;
    o.why = "its resources were worth more to higher-priority tasks";
    to_restore.push_back(static_cast<std::int32_t>(id));
  }
  for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
    const Shape& shape = c_.shapes[s];
    for (std::size_t i = 0; i < shape.pending.size(); ++i) {
      const TaskRef ref = shape.pending[i];
      Move mv{snap.jobs[static_cast<std::size_t>(ref.job)].priority,
              static_cast<std::int32_t>(s),
              ref,
              -1,
              flow.pending_machine[s][i],
              static_cast<std::int32_t>(i)};
      (mv.machine >= 0 ? moves : leftovers).push_back(mv);
    }
  }
  const auto by_priority = [](const Move& a, const Move& b) { return a.priority > b.priority; };

  auto t = std::chrono::steady_clock::now();
  // 2. Flow placements, highest priority first.
  std::stable_sort(moves.begin(), moves.end(), by_priority);
  const bool displace = costs_.preempts() && o_.allow_preemption;
  std::vector<Move> failed;
  for (const Move& mv : moves) {
    // A moving task displaced by a higher-priority one before its own move was packed has
    // already given its room back: it must not be given back twice.
    const bool still_holds = mv.running < 0 || running_[static_cast<std::size_t>(mv.running)].fate == Fate::kKept;
    if (pack(mv, mv.machine, displace)) {
      if (mv.running >= 0 && still_holds) {  // moved: what it held is free now
        const RunningTask& t = c_.running[static_cast<std::size_t>(mv.running)];
        give_back(c_.shapes[static_cast<std::size_t>(t.shape)].demand, free_[static_cast<std::size_t>(t.machine)],
                  c_.devices(t));
      }
      continue;
    }
    ++repaired;
    if (mv.running < 0) failed.push_back(mv);  // a move that does not fit: the task stays
  }

  trace_step("repair: flow placements", t);
  // 3. Undo stops and moves that bought nothing.
  std::stable_sort(to_restore.begin(), to_restore.end(), [&](std::int32_t a, std::int32_t b) {
    return c_.running[static_cast<std::size_t>(a)].priority > c_.running[static_cast<std::size_t>(b)].priority;
  });
  for (const std::int32_t id : to_restore) (void)restore(id);

  // 4. Pending tasks without a machine yet: candidates, then first fit anywhere.
  failed.insert(failed.end(), leftovers.begin(), leftovers.end());
  std::stable_sort(failed.begin(), failed.end(), by_priority);
  first_fit_.build(free_);
  first_fit_live_ = true;
  for (const Move& mv : failed) {
    if (!place_anywhere(mv)) outcome(mv).fate = Fate::kUnscheduled;
  }
  trace_step("repair: the rest", t);
  return repaired;
}

std::pair<UnscheduledReason, std::string> Repairer::reason(std::int32_t shape_id, std::int32_t priority) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  if (!d.any_model_known) {
    return {UnscheduledReason::kConstraintUnsatisfiable, "no machine has a GPU of an allowed model"};
  }
  bool matches = false;
  bool outbid = false;
  std::int64_t could_hold = 0;  // machines that could hold it if they were empty
  std::int64_t max_cpu = 0, max_memory = 0, max_whole = 0;
  for (std::size_t k = 0; k < kind_rep_.size(); ++k) {
    const std::int32_t rep = kind_rep_[k];
    const MachineInfo& info = c_.machines[static_cast<std::size_t>(rep)];
    if (!labels_match(c_, s, rep)) continue;
    std::int64_t allowed = 0;
    for (const std::int32_t g : info.gpu_model) allowed += d.model_ok(g) ? 1 : 0;
    if (d.wants_gpu() && allowed == 0) continue;
    matches = true;
    max_cpu = std::max(max_cpu, info.capacity.cpu);
    max_memory = std::max(max_memory, info.capacity.memory);
    max_whole = std::max(max_whole, allowed);
    if (fit_count(d, info.capacity, info.gpu_model) <= 0) continue;
    could_hold += kind_size_[k];
    outbid = outbid || (kind_placed_priority_[k] != kNone && kind_placed_priority_[k] > priority);
  }
  if (!matches) {
    std::string what;
    for (const auto& [k, v] : s.selector) what += (what.empty() ? "" : ", ") + k + "=" + v;
    if (d.wants_gpu()) what += std::string(what.empty() ? "" : " and ") + "an allowed GPU model";
    return {UnscheduledReason::kConstraintUnsatisfiable,
            "no machine matches " + (what.empty() ? std::string("its constraints") : what)};
  }
  if (could_hold == 0) {
    if (d.cpu > max_cpu)
      return {UnscheduledReason::kNoMachineWithResource,
              "no machine has " + std::to_string(d.cpu) + " milli-CPU (largest: " + std::to_string(max_cpu) + ")"};
    if (d.memory > max_memory)
      return {UnscheduledReason::kNoMachineWithResource, "no machine has " + std::to_string(d.memory) +
                                                             " MiB of memory (largest: " + std::to_string(max_memory) +
                                                             ")"};
    if (d.gpus > max_whole)
      return {UnscheduledReason::kNoMachineWithResource,
              "no machine has " + std::to_string(d.gpus) +
                  " GPUs of an allowed model (most: " + std::to_string(max_whole) + ")"};
    return {UnscheduledReason::kNoMachineWithResource,
            "no single machine has all of its CPU, memory, GPU and extra resources"};
  }
  if (outbid) {
    return {UnscheduledReason::kOutbidByPriority, "the room it needed on " + std::to_string(could_hold) +
                                                      " machines that could hold it went to higher-priority tasks"};
  }
  return {UnscheduledReason::kNoFreeCapacity,
          "none of the " + std::to_string(could_hold) + " machines that could hold it has room left"};
}

Allocation Repairer::extract(Allocation out) const {
  const Snapshot& snap = *c_.snapshot;
  const auto indexes = [&](std::int32_t m, const std::vector<std::int32_t>& devices) {
    std::vector<std::int32_t> idx;
    idx.reserve(devices.size());
    for (const std::int32_t g : devices)
      idx.push_back(c_.machines[static_cast<std::size_t>(m)].gpu_index[static_cast<std::size_t>(g)]);
    return idx;
  };
  const auto& machine_id = [&](std::int32_t m) -> const std::string& {
    return snap.machines[static_cast<std::size_t>(m)].id;
  };
  std::map<std::pair<std::int32_t, std::int32_t>, std::pair<UnscheduledReason, std::string>> reasons;
  const auto pending_part = [&] {
    // Pending tasks, in snapshot order: where each task sits among its shape's.
    std::vector<std::size_t> job_offset(snap.jobs.size() + 1, 0);
    for (std::size_t j = 0; j < snap.jobs.size(); ++j) job_offset[j + 1] = job_offset[j] + snap.jobs[j].tasks.size();
    std::vector<std::pair<std::int32_t, std::int32_t>> slot(job_offset.back(), {-1, -1});  // (shape, i)
    std::size_t placed = 0;
    std::size_t unplaced = 0;
    for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
      for (std::size_t i = 0; i < c_.shapes[s].pending.size(); ++i) {
        const TaskRef ref = c_.shapes[s].pending[i];
        slot[job_offset[static_cast<std::size_t>(ref.job)] + static_cast<std::size_t>(ref.task)] = {
            static_cast<std::int32_t>(s), static_cast<std::int32_t>(i)};
        (pending_[s][i].fate == Fate::kPlaced ? placed : unplaced) += 1;
      }
    }
    out.placements.reserve(placed);
    out.unscheduled.reserve(unplaced);
    for (std::size_t j = 0; j < snap.jobs.size(); ++j) {
      const Job& job = snap.jobs[j];
      for (std::size_t ti = 0; ti < job.tasks.size(); ++ti) {
        const auto [shape, i] = slot[job_offset[j] + ti];
        if (shape < 0) continue;  // running
        const TaskOutcome& o = pending_[static_cast<std::size_t>(shape)][static_cast<std::size_t>(i)];
        const Task& t = job.tasks[ti];
        if (o.fate == Fate::kPlaced) {
          out.placements.push_back(Placement{job.id, t.id, machine_id(o.machine), indexes(o.machine, o.devices)});
          continue;
        }
        const auto key = std::make_pair(shape, job.priority);
        auto it = reasons.find(key);
        if (it == reasons.end()) it = reasons.emplace(key, reason(shape, job.priority)).first;
        out.unscheduled.push_back(Unscheduled{job.id, t.id, it->second.first, it->second.second});
      }
    }
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
        case Fate::kKept:
          out.kept.push_back(Placement{job.id, t.id, machine_id(o.machine), indexes(o.machine, o.devices)});
          break;
        case Fate::kMigrated:
          out.migrations.push_back(
              Migration{job.id, t.id, machine_id(rt.machine), machine_id(o.machine), indexes(o.machine, o.devices)});
          break;
        default:
          out.preemptions.push_back(Preemption{job.id, t.id, machine_id(rt.machine), o.why});
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
  pending_part();
  if (helper.joinable()) helper.join();
  return out;
}

std::vector<std::int32_t> all_priorities(const Snapshot& s) {
  std::vector<std::int32_t> p;
  p.reserve(s.jobs.size());
  for (const Job& j : s.jobs) p.push_back(j.priority);
  return p;
}

}  // namespace

namespace {

CostContext cost_context(const Cluster& cluster, const Snapshot& snapshot, const AllocateOptions& options) {
  std::vector<WorkloadType> workload;
  if (options.cost_model == CostModel::kFgd) {
    std::vector<std::pair<const Demand*, std::int64_t>> demands;
    for (const Shape& s : cluster.shapes)
      demands.emplace_back(&s.demand, static_cast<std::int64_t>(s.pending.size()) + s.running);
    workload = workload_types(demands, 16);
  }
  return CostContext(options.cost_model, all_priorities(snapshot), std::move(workload));
}

}  // namespace

std::optional<Network> allocation_network(const Snapshot& snapshot, const AllocateOptions& options) {
  if (options.validate && !validate(snapshot).ok()) return std::nullopt;
  Cluster cluster = index_cluster(snapshot, options);
  const CostContext costs = cost_context(cluster, snapshot, options);
  return std::move(build_network(cluster, costs, options).network);
}

Allocation allocate(const Snapshot& snapshot, const AllocateOptions& options) {
  const auto t0 = Clock::now();
  Allocation out;
  out.snapshot_version = snapshot.version;
  out.cost_model = options.cost_model;
  // 1. Validate.
  const Validation v = options.validate ? validate(snapshot, options.limits) : Validation{};
  out.timings.validate_s = seconds_since(t0);
  if (!v.ok()) {
    out.status = v.status;
    out.message = v.message;
    out.timings.total_s = seconds_since(t0);
    return out;
  }

  // 2. Index and build.
  auto t = Clock::now();
  Cluster cluster = index_cluster(snapshot, options);
  auto step = Clock::now();
  trace_step("index", t);
  const CostContext costs = cost_context(cluster, snapshot, options);
  BuiltNetwork built = build_network(cluster, costs, options);
  out.timings.build_s = seconds_since(t0) - out.timings.validate_s;
  out.stats.shapes = 0;
  for (const Shape& s : cluster.shapes) {
    out.stats.pending_tasks += static_cast<std::int64_t>(s.pending.size());
    out.stats.running_tasks += s.running;
    out.stats.shapes += s.pending.empty() ? 0 : 1;
  }
  out.stats.running_groups = static_cast<std::int64_t>(cluster.running_groups.size());
  out.stats.machine_classes = static_cast<std::int64_t>(cluster.class_rep.size());
  out.stats.nodes = built.network.num_nodes();
  out.stats.arcs = built.network.num_arcs();
  out.stats.cost_evaluations = built.cost_evaluations;

  // 3. Solve (unless the caller gave up while the network was built).
  if (options.solve.cancel != nullptr && options.solve.cancel->load(std::memory_order_relaxed)) {
    out.status = Status::kCancelled;
    out.message = "cancelled before the solve";
    out.timings.total_s = seconds_since(t0);
    return out;
  }
  t = Clock::now();
  SolveOptions solve_options = options.solve;
  // Allocation networks (few nodes of large supply, many unscheduled tasks) solve fastest
  // with a smaller scaling factor than generic networks: α = 4 took 0.55–0.85× the time of
  // α = 16 on every network of bench/results/allocate_* (openb to 1M tasks).
  if (solve_options.scale_factor == 0) solve_options.scale_factor = 4;
  SolveResult solved = solve(built.network, solve_options);
  out.timings.solve_s = seconds_since(t);
  out.backend = solved.backend;
  out.algorithm = solved.algorithm;
  out.fell_back = solved.fell_back;
  out.fallback_reason = solved.fallback_reason;
  out.certificate = std::move(solved.certificate);
  if (solved.status != Status::kOptimal) {
    out.status = solved.status;
    out.message = "solving the allocation network failed: " + solved.message;
    out.timings.total_s = seconds_since(t0);
    return out;
  }
  out.objective = solved.total_cost;

  // 4. Fit and repair.
  t = Clock::now();
  const FlowDecision decision = read_flow(cluster, built, solved.flow, options);
  step = Clock::now();
  // The network, flow and potentials are freed when this function returns, after the
  // timings: freeing a million small blocks costs a measurable part of repair otherwise.
  Repairer repair(cluster, costs, options);
  trace_step("read flow, repair set-up", step);
  out.stats.repaired = repair.run(decision);
  out.timings.repair_s = seconds_since(t);

  // 5. Extract.
  t = Clock::now();
  out = repair.extract(std::move(out));
  out.timings.extract_s = seconds_since(t);
  out.status = Status::kOptimal;
  out.timings.total_s = seconds_since(t0);
  return out;
}

}  // namespace sluice
