// allocate(): validate → index → build → solve → fit-and-repair → extract.
// The steps live in their own files, in the order data flows: cluster_index.cpp (index),
// network_builder.cpp and cost_models.cpp (build), solve.cpp (solve), repair.cpp (fit and
// repair), extract.cpp (per-task results). allocate_indexed() runs the same steps and writes
// the per-task lists as positions.
#include "sluice/allocate.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "cluster_index.hpp"
#include "cost_models.hpp"
#include "network_builder.hpp"
#include "interrupt.hpp"
#include "repair.hpp"
#include "seconds_since.hpp"

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
    case CostModel::kAlloc:
      return "alloc";
  }
  return "unknown";
}

std::optional<CostModel> parse_cost_model(std::string_view name) {
  if (name == "spread" || name == "load-spreading") return CostModel::kLoadSpreading;
  if (name == "pack" || name == "packing") return CostModel::kPacking;
  if (name == "quincy") return CostModel::kQuincy;
  if (name == "priority") return CostModel::kPriority;
  if (name == "fgd") return CostModel::kFgd;
  if (name == "alloc") return CostModel::kAlloc;
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

using namespace detail;

std::size_t kept_tasks(const std::vector<std::pair<std::int32_t, std::vector<TaskRef>>>& groups) {
  std::size_t n = 0;
  for (const auto& g : groups) n += g.second.size();
  return n;
}

// Machines first fit offers each shape of a re-solve (allocate.cpp's rounds).
constexpr std::size_t kFitHintsPerShape = 4;

bool cancelled(const AllocateOptions& o) {
  return o.solve.cancel != nullptr && o.solve.cancel->load(std::memory_order_relaxed);
}

std::int64_t pending_tasks_of(const Cluster& cluster) {
  std::int64_t n = 0;
  for (const Shape& s : cluster.shapes) n += static_cast<std::int64_t>(s.pending.size());
  return n;
}

}  // namespace

std::optional<Network> allocation_network(const Snapshot& snapshot, const AllocateOptions& options) {
  if (options.validate && !validate(snapshot).ok()) return std::nullopt;
  Cluster cluster = index_cluster(snapshot, options);
  const CostContext costs = make_cost_context(cluster, snapshot, options);
  return std::move(
      build_network(cluster, costs, resolve_auto_options(options, costs, pending_tasks_of(cluster))).network);
}

namespace {

// allocate() and allocate_indexed(): the same steps, but for how the per-task lists are
// written (`extract(repairer, out)`).
template <typename Extract>
Allocation run_steps(const Snapshot& snapshot, const AllocateOptions& options, Extract&& extract);

// A deadline or drain met inside a step (interrupt.hpp) ends the allocation there.
template <typename Extract>
Allocation run_allocation(const Snapshot& snapshot, const AllocateOptions& options, Extract&& extract) {
  const auto t0 = Clock::now();
  try {
    return run_steps(snapshot, options, extract);
  } catch (const Cancelled& c) {
    Allocation out;
    out.snapshot_version = snapshot.version;
    out.cost_model = options.cost_model;
    out.status = Status::kCancelled;
    out.message = std::string("cancelled during ") + c.step;
    out.timings.total_s = seconds_since(t0);
    return out;
  }
}

template <typename Extract>
Allocation run_steps(const Snapshot& snapshot, const AllocateOptions& options, Extract&& extract) {
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
  trace_step(options.trace, "index", t);
  const CostContext costs = make_cost_context(cluster, snapshot, options);
  const std::int64_t pending_tasks = pending_tasks_of(cluster);
  const AllocateOptions resolved = resolve_auto_options(options, costs, pending_tasks);  // once, for every round
  BuiltNetwork built = build_network(cluster, costs, resolved);
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
  if (cancelled(options)) throw Cancelled{"build"};
  t = Clock::now();
  SolveOptions solve_options = options.solve;
  solve_options.progress = solve_options.progress || options.trace;  // a traced allocation traces its solves
  // Allocation networks (few nodes of large supply, many unscheduled tasks) solve fastest
  // with a smaller scaling factor than generic networks: α = 4 took 0.55–0.85× the time of
  // α = 16 on every network of bench/results/allocate_* (openb to 1M tasks).
  if (solve_options.scale_factor == 0) solve_options.scale_factor = 4;
  SolveResult solved = solve(built.network, solve_options);
  out.timings.solve_s = seconds_since(t);
  trace_step(options.trace, "solve", t);
  out.backend = solved.backend ? std::string(to_string(*solved.backend)) : std::string();
  out.algorithm = solved.algorithm;
  out.fell_back = solved.fell_back;
  out.fallback_reason = solved.fallback_reason;
  out.certificate = std::move(solved.certificate);
  if (solved.status == Status::kCancelled) throw Cancelled{"solve"};
  if (solved.status != Status::kOptimal) {
    out.status = solved.status;
    out.message = "solving the allocation network failed: " + solved.message;
    out.timings.total_s = seconds_since(t0);
    return out;
  }
  out.objective = solved.total_cost;

  // 4. Fit and repair the first solve's decisions.
  t = Clock::now();
  const FlowDecision decision = read_flow(cluster, built, solved.flow, options);
  step = Clock::now();
  // The flow's large arrays go back to the heap now, for repair and extract to reuse.
  std::vector<std::int64_t>().swap(solved.flow);
  std::vector<std::int64_t>().swap(solved.potential);
  built = BuiltNetwork{};
  Repairer repair(cluster, costs, options);
  trace_step(options.trace, "read flow, repair set-up", step);
  std::vector<Move> left = repair.apply_first(decision);
  out.timings.repair_s = seconds_since(t);

  // 5. Re-solve for what is left, on the cluster as repair left it, while that places more:
  //    the first network's machine capacities count tasks of a mix of shapes, which a
  //    machine may hold more or fewer of; the next network sees its real free resources.
  std::vector<Move> unplaceable;  // tasks of shapes that fit on no machine any more
  for (std::int32_t round = 1; round <= options.max_resolves && !left.empty(); ++round) {
    if (cancelled(options)) break;
    t = Clock::now();
    // A few machines first fit knows each shape fits on, besides the sampled candidate search
    // (a shape whose few fitting machines the sample missed still gets a choice). A shape
    // with none fits nowhere, and never will (free resources only shrink): its tasks skip
    // the remaining rounds.
    std::vector<std::pair<std::int32_t, std::vector<TaskRef>>> groups = by_shape(cluster, left);
    std::vector<std::vector<std::int32_t>> hints;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      std::vector<std::int32_t> found;
      repair.fitting_machines(groups[i].first, kFitHintsPerShape, found);
      if (found.empty()) {
        for (const TaskRef ref : groups[i].second) unplaceable.push_back(Move{0, groups[i].first, ref, -1, -1, 0});
        continue;
      }
      hints.push_back(std::move(found));
      if (kept != i) groups[kept] = std::move(groups[i]);
      ++kept;
    }
    groups.resize(kept);
    if (groups.empty()) {
      left.clear();
      break;
    }
    trace_step(options.trace, "re-solve: first-fit hints", t);
    Cluster residual = residual_cluster(cluster, repair.free(), groups, options.solve.cancel);
    trace_step(options.trace, "re-solve: residual cluster", t);
    BuiltNetwork again = build_network(residual, costs, resolved, &hints);
    out.timings.build_s += seconds_since(t);
    t = Clock::now();
    trace_step(options.trace, "re-solve: build", t);
    SolveResult solved_again = solve(again.network, solve_options);
    out.timings.solve_s += seconds_since(t);
    trace_step(options.trace, "re-solve: solve", t);
    ++out.stats.resolves;
    if (solved_again.certificate.has_value() && !solved_again.certificate->valid()) {
      out.certificate = solved_again.certificate;
    }
    if (solved_again.status == Status::kCancelled) throw Cancelled{"re-solve"};
    if (solved_again.status != Status::kOptimal) break;  // what is left goes to the fallback
    t = Clock::now();
    const FlowDecision more = read_flow(residual, again, solved_again.flow, options);
    const std::size_t before = kept_tasks(groups);
    left = repair.apply_resolve(residual, more);
    out.timings.repair_s += seconds_since(t);
    trace_step(options.trace, "re-solve: pack", t);
    trace_note(options.trace, "re-solve " + std::to_string(round) + ": " + std::to_string(before) + " tasks without a machine, " +
               std::to_string(again.network.num_nodes()) + " nodes, " + std::to_string(again.network.num_arcs()) +
               " arcs; placed " + std::to_string(before - left.size()));
    // A round that places nothing ends the loop: free resources only shrink, and the next
    // network would be the same.
    if (left.size() == before) break;
  }
  if (cancelled(options)) throw Cancelled{"re-solve"};

  // 6. What no solve placed: candidates, then first fit.
  t = Clock::now();
  left.insert(left.end(), unplaceable.begin(), unplaceable.end());
  for (Move& mv : left) {  // the fallback goes by priority (moves of unplaceable shapes had none)
    mv.priority = snapshot.jobs[static_cast<std::size_t>(mv.ref.job)].priority;
  }
  std::stable_sort(left.begin(), left.end(), [](const Move& a, const Move& b) { return a.priority > b.priority; });
  repair.fallback(left);
  out.timings.repair_s += seconds_since(t);
  out.stats.repaired = repair.repaired();
  repair.count_deciders(out.stats);

  // 7. Extract.
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
  if (result.summary.status != Status::kOptimal) {  // cancelled in extract: no half-filled columns
    Allocation summary = std::move(result.summary);
    result = IndexedAllocation{};
    result.summary = std::move(summary);
  }
  return result;
}

}  // namespace sluice
