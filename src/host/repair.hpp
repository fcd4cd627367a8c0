// Fit-and-repair: what makes the answer safe whatever the flow says. The flow counts
// tasks, not resource vectors, so it may put more on a machine than its free CPU, memory,
// extras or GPU devices hold. The Repairer replays the decisions against each machine's
// real free resources, in priority order, choosing GPU devices as it goes:
//   1. running tasks the flow moves or stops give their resources back;
//   2. flow placements (new tasks and migrations), highest priority first, are packed on
//      their machine; under the priority model a task that does not fit may displace
//      lower-priority running tasks there;
//   3. stopped or moved running tasks whose move failed go back where they were when their
//      exact devices are still free (a preemption that bought nothing is undone);
//   4. what is left tries the shape's candidates, then every machine its constraints allow
//      (first fit, without the cost model: on large snapshots this places more tasks than
//      the flow does, see docs/allocation.md "Known limitation");
//   5. whatever still has no machine is unscheduled, with the reason (extract.cpp).
// Invariant after every step: no machine's free amount of any resource or any GPU's free
// share is negative; whole-GPU tasks hold distinct devices that were entirely free.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster_index.hpp"
#include "cost_models.hpp"
#include "first_fit_index.hpp"
#include "interrupt.hpp"
#include "network_builder.hpp"
#include "sluice/allocate.hpp"

namespace sluice::detail {

// One task to pack during repair.
struct Move {
  std::int32_t priority = 0;
  std::int32_t shape = 0;
  TaskRef ref;
  std::int32_t running = -1;  // index into Cluster::running, or -1 for a pending task
  std::int32_t machine = -1;  // where the flow put it
  std::int32_t order = 0;     // snapshot order, for determinism
};

enum class Fate : std::uint8_t { kUndecided, kKept, kPlaced, kMigrated, kPreempted, kUnscheduled };

// Who chose a placed pending task's machine: the first solve, a re-solve, or the fallback
// (the shape's candidates, then first fit).
enum class Decider : std::uint8_t { kFlow, kResolve, kFallback };

struct TaskOutcome {
  Fate fate = Fate::kUndecided;
  Decider decided_by = Decider::kFallback;
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

// The pending tasks of `left` grouped by shape (shapes in index order, tasks in snapshot
// order within each), as residual_cluster takes them.
[[nodiscard]] std::vector<std::pair<std::int32_t, std::vector<TaskRef>>> by_shape(const Cluster& cluster,
                                                                                const std::vector<Move>& left);

class Repairer {
 public:
  Repairer(const Cluster& c, const CostContext& costs, const AllocateOptions& o)
      : c_(c), costs_(costs), o_(o), stop_(o.solve.cancel), free_(c.machines.size()) {
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
    placed_priority_.assign(c.machines.size(), kNone);
  }

  // Steps 1–3 for the first solve's decisions. Returns the pending tasks still without a
  // machine (the flow left them out, or packing refused them), highest priority first.
  [[nodiscard]] std::vector<Move> apply_first(const FlowDecision& flow);
  // Packs a re-solve's placements (`flow` is of `residual`, whose shapes map back through
  // shape_origin). Returns the residual's tasks still without a machine, highest priority first.
  [[nodiscard]] std::vector<Move> apply_resolve(const Cluster& residual, const FlowDecision& flow);
  // Up to `want` machines where a task of `shape` fits now (its constraint group's machines
  // in first-fit order, from where its scans left off): candidates a re-solve's sampled
  // search may have missed.
  void fitting_machines(std::int32_t shape, std::size_t want, std::vector<std::int32_t>& out);
  // Steps 4–5 for what no solve placed: the shape's candidates, then first fit; the rest
  // are unscheduled.
  void fallback(const std::vector<Move>& left);
  // Adds the placed pending tasks to stats.placed_by_{flow,resolve,fallback}.
  void count_deciders(AllocationStats& stats) const {
    for (const TaskOutcome& o : tasks_) {
      if (o.shape < 0 || o.fate != Fate::kPlaced) continue;
      (o.decided_by == Decider::kFlow      ? stats.placed_by_flow
       : o.decided_by == Decider::kResolve ? stats.placed_by_resolve
                                           : stats.placed_by_fallback) += 1;
    }
  }
  // Flow placements (of every solve) that packing refused.
  [[nodiscard]] std::int64_t repaired() const { return repaired_; }
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
    std::size_t hint_next = 0;          // fitting_machines: where the next answer starts
  };
  struct Membership {  // machine m is at `pos` of group `group`'s index; next: m's next one
    std::int32_t group = 0;
    std::int32_t pos = 0;
    std::int32_t next = -1;
  };

  // The order solved placements are packed in: higher priority first, then the larger
  // demand (GPU, CPU, memory), as first-fit decreasing does: where the flow overfilled a
  // machine, the tasks it refuses are the small ones, which the next round places easily.
  [[nodiscard]] bool packs_before(const Move& a, const Move& b) const;
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
  [[nodiscard]] Verdict verdict(std::int32_t shape, const std::vector<std::int32_t>& kind_placed_priority) const;
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
  Interrupt stop_;
  std::vector<Resources> free_;
  std::int64_t repaired_ = 0;
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
  // Built when first needed (a fallback scan or a verdict): most rounds of a small snapshot
  // need neither, and building them was a fifth of a one-pod round.
  void ensure_kinds() const;
  mutable bool kinds_built_ = false;
  mutable std::vector<std::int32_t> kind_of_;
  mutable std::vector<std::int32_t> kind_rep_;
  mutable std::vector<std::int64_t> kind_cpu_;  // capacity
  mutable std::vector<std::int64_t> kind_memory_;
  mutable std::vector<std::int64_t> kind_size_;
  std::vector<std::int32_t> placed_priority_;  // per machine: the highest priority placed on it
};

}  // namespace sluice::detail
