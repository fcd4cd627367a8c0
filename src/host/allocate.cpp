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
//   4. what is left tries the shape's candidates, then every machine its constraints allow
//      (first fit, without the cost model: on large snapshots this places more tasks than
//      the flow does, see docs/allocation.md "Known limitation");
//   5. whatever still has no machine is unscheduled, with the reason.
// allocate_indexed() runs the same steps and writes the per-task lists as positions.
// Invariant after every step: no machine's free amount of any resource or any GPU's free
// share is negative; whole-GPU tasks hold distinct devices that were entirely free.
#include "sluice/allocate.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <span>
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

// Runs fn(chunk, begin, end) over [0, n) cut into `chunks` contiguous ranges, one thread
// per range (the calling thread takes the first).
template <typename Fn>
void for_chunks(std::size_t chunks, const std::vector<std::size_t>& bounds, Fn&& fn) {
  std::vector<std::thread> pool;
  for (std::size_t k = 1; k < chunks; ++k) pool.emplace_back([&, k] { fn(k, bounds[k], bounds[k + 1]); });
  fn(0, bounds[0], bounds[1]);
  for (std::thread& t : pool) t.join();
}

// Threads for a pass over `work` items: one per 50,000, at most what the machine has (and 8).
std::size_t threads_for(std::size_t work) {
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<std::size_t>(work / 50'000, 1, std::min<std::size_t>(hw, 8));
}

// First fit over a list of machines (ascending ids): a max-tree of free CPU, memory,
// largest free GPU share, count of whole free GPUs, "balanced" keys max_m min(a·x_m, b·y_m)
// for pairs of those (CPU and memory at three ratios, each of them with the GPU share and
// with the whole-GPU count), and the free amount of up to two extra resources. The GPU keys count only devices of the models the list's
// shapes allow; the extra keys are the resources they name. Every key is a necessary condition
// for a fit, so a query descends only into subtrees that may hold a machine with room; the
// balanced keys prune subtrees where one machine has the CPU and another the memory.
class FirstFitIndex {
 public:
  void build(std::vector<std::int32_t> members, const std::vector<Resources>& free,
             const std::vector<MachineInfo>& machines, std::vector<std::uint8_t> allowed,
             const std::vector<std::pair<std::int32_t, std::int64_t>>& extra) {
    members_ = std::move(members);
    allowed_ = std::move(allowed);
    extra_.clear();
    for (std::size_t i = 0; i < extra.size() && i < kExtraKeys; ++i) extra_.push_back(extra[i].first);
    n_ = members_.size();
    size_ = 1;
    while (size_ < n_) size_ <<= 1;
    Key none;
    none.k.fill(-1);
    tree_.assign(2 * size_, none);
    for (std::size_t pos = 0; pos < n_; ++pos) {
      const auto m = static_cast<std::size_t>(members_[pos]);
      tree_[size_ + pos] = key_of(free[m], machines[m].gpu_model);
    }
    for (std::size_t v = size_ - 1; v >= 1; --v) tree_[v] = merge(tree_[2 * v], tree_[2 * v + 1]);
  }
  // The climb stops at the first ancestor whose key does not change: none above it can.
  void update(std::size_t pos, const Resources& r, const std::vector<std::int32_t>& models) {
    std::size_t v = size_ + pos;
    tree_[v] = key_of(r, models);
    for (v >>= 1; v >= 1; v >>= 1) {
      const Key merged = merge(tree_[2 * v], tree_[2 * v + 1]);
      if (merged.k == tree_[v].k) break;
      tree_[v] = merged;
    }
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] std::int32_t machine(std::size_t pos) const { return members_[pos]; }
  // The first position at or after `from` whose keys reach `d`'s demand, or size().
  [[nodiscard]] std::size_t first(std::size_t from, const Demand& d) const {
    if (from >= n_) return n_;
    const Key need = key_of_amounts(d.cpu, d.memory, d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli, d.gpus, [&](std::size_t i) {
      // the group's shapes name the same extras, in the same order
      return i < d.extra.size() && d.extra[i].first == extra_[i] ? d.extra[i].second : 0;
    });
    return descend(1, 0, size_, from, need);
  }

 private:
  static constexpr std::size_t kExtraKeys = 2;
  static constexpr std::size_t kKeys = 11 + kExtraKeys;
  struct Key {  // 32 bits: amounts are clamped, which keeps every key monotone
    std::array<std::int32_t, kKeys> k{};
  };
  // The keys of a machine with these free amounts, or of a demand for them. Each is
  // monotone in every amount, so a machine fits only if its keys reach the demand's.
  template <typename Extra>
  static Key key_of_amounts(std::int64_t cpu, std::int64_t memory, std::int64_t share, std::int64_t whole,
                            Extra&& extra) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
    const auto c = [kMax](std::int64_t v) { return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, -1, kMax)); };
    cpu = std::min(cpu, kMax);  // so that the products below cannot overflow
    memory = std::min(memory, kMax);
    share = std::min(share, kMax);
    whole = std::min(whole, kMax);
    Key key;
    key.k = {{c(cpu), c(memory), c(share), c(whole),
             // memory (MiB) against CPU (milli-cores) at 1, 4 and 16 MiB per milli-core
             c(std::min(cpu, memory)), c(std::min(cpu * 4, memory)), c(std::min(cpu * 16, memory)),
             // CPU and memory against the largest GPU share (milli) and the whole GPUs
             c(std::min(cpu, share * 16)), c(std::min(memory, share * 64)), c(std::min(cpu, whole * 8'000)),
             c(std::min(memory, whole * 32'768)), c(extra(0)), c(extra(1))}};
    return key;
  }
  [[nodiscard]] Key key_of(const Resources& r, const std::vector<std::int32_t>& models) const {
    std::int64_t share = 0;
    std::int64_t whole = 0;
    for (std::size_t g = 0; g < r.gpu_free.size(); ++g) {
      if (!allowed_.empty() && allowed_[static_cast<std::size_t>(models[g])] == 0) continue;
      share = std::max<std::int64_t>(share, r.gpu_free[g]);
      whole += r.gpu_free[g] == kGpuMilliWhole ? 1 : 0;
    }
    return key_of_amounts(r.cpu, r.memory, share, whole, [&](std::size_t i) -> std::int64_t {
      if (i >= extra_.size()) return 0;
      const auto e = static_cast<std::size_t>(extra_[i]);
      return e < r.extra.size() ? r.extra[e] : 0;
    });
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

  std::vector<std::int32_t> members_;
  std::vector<std::uint8_t> allowed_;  // per interned model; empty = any
  std::vector<std::int32_t> extra_;     // interned extra resources with a key
  std::size_t n_ = 0;
  std::size_t size_ = 1;
  std::vector<Key> tree_;
};

enum class Fate : std::uint8_t { kUndecided, kKept, kPlaced, kMigrated, kPreempted, kUnscheduled };

struct TaskOutcome {
  Fate fate = Fate::kUndecided;
  std::int32_t machine = -1;
  std::int32_t device_begin = 0;  // its device positions: Repairer::device_pool_
  std::int32_t device_count = 0;
  std::int32_t shape = -1;  // of a pending task; -1 for a running one
};

// Why the tasks of one shape found no machine. Only "outbid" depends on the task's own
// priority: it applies when a task of higher priority than its job got a machine of a kind
// that could have held it.
struct Verdict {
  UnscheduledReason reason = UnscheduledReason::kNoFreeCapacity;
  std::string message;
  std::int32_t highest_placed = std::numeric_limits<std::int32_t>::min();  // on kinds that could hold it
  std::string outbid_message;
};

std::string constraint_signature(const Shape& s);
bool covers(const Demand& d, const Demand& f);

class Repairer {
 public:
  Repairer(const Cluster& c, const CostContext& costs, const AllocateOptions& o)
      : c_(c), costs_(costs), o_(o), free_(c.machines.size()) {
    for (std::size_t m = 0; m < c.machines.size(); ++m) free_[m] = c.machines[m].free;
    const Snapshot& snap = *c.snapshot;
    task_offset_.resize(snap.jobs.size() + 1, 0);
    for (std::size_t j = 0; j < snap.jobs.size(); ++j)
      task_offset_[j + 1] = task_offset_[j] + static_cast<std::int64_t>(snap.jobs[j].tasks.size());
    tasks_.resize(static_cast<std::size_t>(task_offset_.back()));
    for (std::size_t s = 0; s < c.shapes.size(); ++s) {
      for (const TaskRef ref : c.shapes[s].pending) tasks_[task_index(ref)].shape = static_cast<std::int32_t>(s);
      pending_count_ += c.shapes[s].pending.size();
    }
    running_.resize(c.running.size());
    running_why_.resize(c.running.size());
    scan_cursor_.assign(c.shapes.size(), 0);
    candidate_cursor_.assign(c.shapes.size(), 0);
    exhausted_.assign(c.shapes.size(), 0);
    group_.assign(c.shapes.size(), -1);
    failures_seen_.assign(c.shapes.size(), 0);
    member_head_.assign(c.machines.size(), -1);
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
        kind_cpu_.push_back(info.capacity.cpu);
        kind_memory_.push_back(info.capacity.memory);
        kind_size_.push_back(0);
        kind_placed_priority_.push_back(kNone);
      }
      kind_of_[m] = it->second;
      ++kind_size_[static_cast<std::size_t>(it->second)];
    }
  }

  std::int64_t run(const FlowDecision& flow);
  Allocation extract(Allocation out) const;
  void extract_indexed(IndexedAllocation& out) const;
  [[nodiscard]] const std::vector<Resources>& free() const { return free_; }

 private:
  static constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::min();

  // Shapes with the same constraints other than amounts (selector, allowed models, extra
  // names) scan the same machines for first fit: those whose labels match and, when models
  // are restricted, that hold an allowed device. Built when a shape of the group first
  // scans, kept up to date from then on.
  struct ScanGroup {
    FirstFitIndex index;
    bool built = false;
    std::vector<const Demand*> failed;  // demands of its shapes that found no machine at all
  };
  struct Membership {  // machine m is at `pos` of group `group`'s index; next: m's next one
    std::int32_t group = 0;
    std::int32_t pos = 0;
    std::int32_t next = -1;
  };

  // labels_known: m is a member of the shape's scan group, whose labels were matched.
  bool pack(const Move& mv, std::int32_t m, bool may_displace, bool labels_known = false);
  bool restore(std::int32_t running_id);
  bool place_anywhere(const Move& mv);
  void build_group(std::int32_t group, const Shape& s);
  void touched(std::int32_t m);  // m's free resources changed: update the scan indexes
  TaskOutcome& outcome(const Move& mv) {
    return mv.running >= 0 ? running_[static_cast<std::size_t>(mv.running)] : tasks_[task_index(mv.ref)];
  }
  [[nodiscard]] std::size_t task_index(TaskRef ref) const {
    return static_cast<std::size_t>(task_offset_[static_cast<std::size_t>(ref.job)] + ref.task);
  }
  void set_devices(TaskOutcome& o, std::span<const std::int32_t> devices) {
    o.device_begin = static_cast<std::int32_t>(device_pool_.size());
    o.device_count = static_cast<std::int32_t>(devices.size());
    device_pool_.insert(device_pool_.end(), devices.begin(), devices.end());
  }
  [[nodiscard]] std::span<const std::int32_t> devices(const TaskOutcome& o) const {
    return {device_pool_.data() + o.device_begin, static_cast<std::size_t>(o.device_count)};
  }
  [[nodiscard]] Verdict verdict(std::int32_t shape) const;
  // Per shape: the verdict when it has unscheduled tasks (computed in parallel).
  [[nodiscard]] std::vector<Verdict> verdicts() const;
  // The snapshot's device indexes of an outcome's devices.
  void device_indexes(std::int32_t m, const TaskOutcome& o, std::vector<std::int32_t>& out) const {
    out.clear();
    out.reserve(static_cast<std::size_t>(o.device_count));
    for (const std::int32_t g : devices(o))
      out.push_back(c_.machines[static_cast<std::size_t>(m)].gpu_index[static_cast<std::size_t>(g)]);
  }

  const Cluster& c_;
  const CostContext& costs_;
  const AllocateOptions& o_;
  std::vector<Resources> free_;
  std::vector<std::int64_t> task_offset_;  // per job: its first task's index in tasks_
  std::vector<TaskOutcome> tasks_;         // pending tasks' outcomes, in snapshot order
  std::size_t pending_count_ = 0;
  std::vector<TaskOutcome> running_;
  std::vector<std::string> running_why_;  // per running task: why it was preempted
  std::vector<std::int32_t> device_pool_;
  std::vector<std::int32_t> scratch_devices_;
  std::vector<std::size_t> scan_cursor_;       // per shape: positions before it in its group cannot fit it
  std::vector<std::size_t> candidate_cursor_;  // per shape: likewise for its candidates
  std::vector<std::uint8_t> exhausted_;        // per shape: no machine can take it any more
  std::unordered_map<std::string, std::int32_t> group_index_;  // constraint signature → group
  std::vector<ScanGroup> groups_;
  std::vector<std::int32_t> group_;           // per shape: its group, or -1 before its first scan
  std::vector<std::size_t> failures_seen_;    // per shape
  std::size_t placed_on_candidates_ = 0;       // step 4's placements, for SLUICE_TRACE
  std::size_t placed_by_scan_ = 0;
  std::vector<std::int32_t> member_head_;     // per machine: first of its memberships, or -1
  std::vector<Membership> memberships_;
  // Machines with the same capacity, devices and labels ("kinds"): unscheduled reasons are
  // decided per kind, not per machine.
  std::vector<std::int32_t> kind_of_;
  std::vector<std::int32_t> kind_rep_;
  std::vector<std::int64_t> kind_cpu_;  // capacity
  std::vector<std::int64_t> kind_memory_;
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

void Repairer::touched(std::int32_t m) {
  const Resources& r = free_[static_cast<std::size_t>(m)];
  const std::vector<std::int32_t>& models = c_.machines[static_cast<std::size_t>(m)].gpu_model;
  for (std::int32_t e = member_head_[static_cast<std::size_t>(m)]; e >= 0;) {
    const Membership& ms = memberships_[static_cast<std::size_t>(e)];
    groups_[static_cast<std::size_t>(ms.group)].index.update(static_cast<std::size_t>(ms.pos), r, models);
    e = ms.next;
  }
}

void Repairer::build_group(std::int32_t group, const Shape& s) {
  // Labels and device models are the same on every machine of a kind.
  const std::vector<std::uint8_t>& allowed = s.demand.model_allowed;
  std::vector<std::uint8_t> kind_ok(kind_rep_.size(), 0);
  for (std::size_t k = 0; k < kind_rep_.size(); ++k) {
    const std::int32_t rep = kind_rep_[k];
    if (!labels_match(c_, s, rep)) continue;
    if (!allowed.empty()) {
      const std::vector<std::int32_t>& models = c_.machines[static_cast<std::size_t>(rep)].gpu_model;
      if (std::none_of(models.begin(), models.end(),
                       [&](std::int32_t g) { return allowed[static_cast<std::size_t>(g)] != 0; }))
        continue;
    }
    kind_ok[k] = 1;
  }
  std::vector<std::int32_t> members;
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    if (kind_ok[static_cast<std::size_t>(kind_of_[m])] == 0) continue;
    const auto pos = static_cast<std::int32_t>(members.size());
    memberships_.push_back(Membership{group, pos, member_head_[m]});
    member_head_[m] = static_cast<std::int32_t>(memberships_.size() - 1);
    members.push_back(static_cast<std::int32_t>(m));
  }
  ScanGroup& g = groups_[static_cast<std::size_t>(group)];
  g.index.build(std::move(members), free_, c_.machines, allowed, s.demand.extra);
  g.built = true;
}

bool Repairer::pack(const Move& mv, std::int32_t m, bool may_displace, bool labels_known) {
  const Demand& d = c_.shapes[static_cast<std::size_t>(mv.shape)].demand;
  const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
  if (!labels_known && !labels_match(c_, c_.shapes[static_cast<std::size_t>(mv.shape)], m)) return false;
  Resources& r = free_[static_cast<std::size_t>(m)];
  const auto pick = [this](const Demand& dd, const Resources& rr, const std::vector<std::int32_t>& models) {
    return costs_.pick_share(dd, rr, models);
  };
  bool ok = take(d, r, info.gpu_model, scratch_devices_, pick);
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
        running_[static_cast<std::size_t>(victims[k])].fate = Fate::kPreempted;
        const Job& job = c_.snapshot->jobs[static_cast<std::size_t>(mv.ref.job)];
        running_why_[static_cast<std::size_t>(victims[k])] =
            "displaced by higher-priority task " + job.tasks[static_cast<std::size_t>(mv.ref.task)].id +
            " (priority " + std::to_string(job.priority) + ")";
      }
      ok = take(d, r, info.gpu_model, scratch_devices_, pick);
    }
  }
  if (!ok) return false;
  touched(m);
  TaskOutcome& o = outcome(mv);
  o.machine = m;
  set_devices(o, scratch_devices_);
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
  touched(t.machine);
  TaskOutcome& o = running_[static_cast<std::size_t>(running_id)];
  o.fate = Fate::kKept;
  o.machine = t.machine;
  set_devices(o, c_.devices(t));
  running_why_[static_cast<std::size_t>(running_id)].clear();
  return true;
}

bool Repairer::place_anywhere(const Move& mv) {
  // Free resources only shrink from here on, so a machine that could not take a shape once
  // never will: candidate and machine scans resume where the last one stopped, and a shape
  // whose demand covers one that found no machine at all is refused without a scan.
  const auto shape = static_cast<std::size_t>(mv.shape);
  const Shape& s = c_.shapes[shape];
  if (exhausted_[shape] != 0) return false;
  if (group_[shape] < 0) {  // the shape's constraint group, looked up once
    const auto [it, fresh] =
        group_index_.try_emplace(constraint_signature(s), static_cast<std::int32_t>(groups_.size()));
    if (fresh) groups_.emplace_back();
    group_[shape] = it->second;
  }
  const std::int32_t group = group_[shape];
  // Only failures recorded since this shape last looked can be new to it.
  for (std::size_t& f = failures_seen_[shape]; f < groups_[static_cast<std::size_t>(group)].failed.size(); ++f) {
    if (covers(s.demand, *groups_[static_cast<std::size_t>(group)].failed[f])) {
      exhausted_[shape] = 1;
      return false;
    }
  }
  for (std::size_t& k = candidate_cursor_[shape]; k < s.candidates.size(); ++k) {
    if (pack(mv, s.candidates[k].machine, false)) {
      ++placed_on_candidates_;
      return true;
    }
  }
  if (!groups_[static_cast<std::size_t>(group)].built) build_group(group, s);
  const FirstFitIndex& index = groups_[static_cast<std::size_t>(group)].index;
  std::size_t& pos = scan_cursor_[shape];
  // The machine the last task of this shape went to usually takes the next one too.
  if (pos < index.size() && pack(mv, index.machine(pos), false, true)) {
    ++placed_by_scan_;
    return true;
  }
  for (++pos; (pos = index.first(pos, s.demand)) < index.size(); ++pos) {
    if (pack(mv, index.machine(pos), false, true)) {
      ++placed_by_scan_;
      return true;
    }
  }
  exhausted_[shape] = 1;
  groups_[static_cast<std::size_t>(group)].failed.push_back(&s.demand);
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
    // A task the flow moves keeps what it holds until its new place is packed.
    o.fate = Fate::kKept;
    o.machine = t.machine;
    set_devices(o, c_.devices(t));
    if (target == t.machine) continue;
    if (target >= 0) {
      moves.push_back(mv);
      continue;
    }
    give_back(c_.shapes[static_cast<std::size_t>(t.shape)].demand, free_[static_cast<std::size_t>(t.machine)],
              c_.devices(t));
    o.fate = Fate::kPreempted;
    running_why_[id] = "its resources were worth more to higher-priority tasks";
    to_restore.push_back(static_cast<std::int32_t>(id));
  }
  std::size_t placed_by_flow = 0;
  for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
    for (const std::int32_t m : flow.pending_machine[s]) placed_by_flow += m >= 0 ? 1 : 0;
  }
  moves.reserve(moves.size() + placed_by_flow);
  leftovers.reserve(pending_count_ - placed_by_flow);
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
        const RunningTask& rt = c_.running[static_cast<std::size_t>(mv.running)];
        give_back(c_.shapes[static_cast<std::size_t>(rt.shape)].demand, free_[static_cast<std::size_t>(rt.machine)],
                  c_.devices(rt));
        touched(rt.machine);
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

  // 4. Pending tasks without a machine yet: candidates, then first fit over the machines
  //    of their constraint group.
  failed.insert(failed.end(), leftovers.begin(), leftovers.end());
  std::stable_sort(failed.begin(), failed.end(), by_priority);
  for (const Move& mv : failed) {
    if (!place_anywhere(mv)) outcome(mv).fate = Fate::kUnscheduled;
  }
  trace_step("repair: the rest", t);
  if (std::getenv("SLUICE_TRACE") != nullptr) {  // how much of the answer the flow decided
    std::fprintf(stderr,
                 "[allocate] repair: placed after the flow (it left them out or packing refused them): %zu on "
                 "their shape's candidates (cheapest first), %zu by first fit over their constraint group\n",
                 placed_on_candidates_, placed_by_scan_);
  }
  return repaired;
}

Verdict Repairer::verdict(std::int32_t shape_id) const {
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
      v.highest_placed = std::max(v.highest_placed, kind_placed_priority_[k]);
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
    v.highest_placed = std::max(v.highest_placed, kind_placed_priority_[k]);
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
  const std::vector<Verdict> verdicts = this->verdicts();
  trace_step("extract: count, verdicts", step);
  out.placements.resize(placed_at[chunks]);
  out.unscheduled.resize(unscheduled_at[chunks]);
  trace_step("extract: size", step);
  for_chunks(chunks, bounds, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    Placement* placement = out.placements.data() + placed_at[chunk];
    Unscheduled* unscheduled = out.unscheduled.data() + unscheduled_at[chunk];
    for (std::size_t j = begin; j < end; ++j) {
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
  trace_step("extract: fill", step);
  if (helper.joinable()) helper.join();
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
  const std::size_t work = shapes.size() * std::max<std::size_t>(1, kind_rep_.size() / 64);
  const std::size_t chunks = std::min(threads_for(work), std::max<std::size_t>(1, shapes.size()));
  std::vector<std::size_t> bounds(chunks + 1);
  for (std::size_t k = 0; k <= chunks; ++k) bounds[k] = shapes.size() * k / chunks;
  for_chunks(chunks, bounds, [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) out[static_cast<std::size_t>(shapes[k])] = verdict(shapes[k]);
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

namespace {

// allocate() and allocate_indexed(): the same steps, but for how the per-task lists are
// written (`extract(repairer, out)`).
template <typename Extract>
Allocation run_allocation(const Snapshot& snapshot, const AllocateOptions& options, Extract&& extract) {
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
  // The flow's large arrays go back to the heap now, for repair and extract to reuse.
  std::vector<std::int64_t>().swap(solved.flow);
  std::vector<std::int64_t>().swap(solved.potential);
  built.network = Network{};
  Repairer repair(cluster, costs, options);
  trace_step("read flow, repair set-up", step);
  out.stats.repaired = repair.run(decision);
  out.timings.repair_s = seconds_since(t);

  // 5. Extract.
  t = Clock::now();
  extract(repair, out);
  out.timings.extract_s = seconds_since(t);
  out.status = Status::kOptimal;
  out.timings.total_s = seconds_since(t0);
  return out;
}

}  // namespace

Allocation allocate(const Snapshot& snapshot, const AllocateOptions& options) {
  return run_allocation(snapshot, options, [](const Repairer& repair, Allocation& out) {
    out = repair.extract(std::move(out));
  });
}

IndexedAllocation allocate_indexed(const Snapshot& snapshot, const AllocateOptions& options) {
  IndexedAllocation result;
  result.summary = run_allocation(snapshot, options, [&](const Repairer& repair, Allocation& /*summary*/) {
    repair.extract_indexed(result);
  });
  return result;
}

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
