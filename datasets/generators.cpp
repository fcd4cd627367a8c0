// Seeded min-cost-flow instance generators: Quincy/Firmament scheduling networks (the key
// benchmark family), NETGEN-like random networks, grids and assignment problems.
//
// Why hand-written distributions: std::uniform_int_distribution and std::shuffle are
// implementation-defined, so the same seed would give different instances with libstdc++
// and libc++. Here every draw comes from std::mt19937_64 (fully specified by the standard)
// through Lemire's multiply-shift with rejection, so an instance is a pure function of its
// parameters on every platform. For the same reason no call takes two draws as arguments:
// argument evaluation order is unspecified, and GCC and Clang evaluate in opposite orders.
//
// Every generator is feasible by construction (documented per family) and runs in
// O(nodes + arcs) time after reserving its arrays, so the 50,000-machine / 500,000-task
// Quincy instance (~556k nodes, ~5.2M arcs) is built in well under a second.
//
// Parameter handling: sizes are clamped, never rejected, so every call returns a valid,
// non-empty network. Counts below 1 become 1, per-item fan-outs are clamped to what exists
// (e.g. preferred_machines to [0, machines]), swapped ranges are swapped back, negative
// supplies become 0. The clamps are listed at each generator.
#include "sluice/generators.hpp"

#include "random.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace sluice {
namespace detail {
namespace {

// Draws k distinct values from [0, n) with Floyd's algorithm: exactly k draws, no
// rejection, O(k) per call. Membership uses generation stamps so the O(n) marker array is
// cleared once, not per call.
class DistinctSampler {
 public:
  explicit DistinctSampler(std::int32_t n)
      : stamp_(static_cast<std::size_t>(std::max(n, 0)), 0), n_(n) {}

  // Appends k (<= n) distinct values to out.
  void sample(Rng& rng, std::int32_t k, std::vector<std::int32_t>& out) {
    if (++generation_ == 0) {  // wrapped: clear and restart the stamps
      std::fill(stamp_.begin(), stamp_.end(), 0);
      generation_ = 1;
    }
    for (std::int32_t j = n_ - k; j < n_; ++j) {
      std::int32_t t = rng.index(std::int64_t{j} + 1);
      if (stamp_[static_cast<std::size_t>(t)] == generation_) t = j;
      stamp_[static_cast<std::size_t>(t)] = generation_;
      out.push_back(t);
    }
  }

 private:
  std::vector<std::uint32_t> stamp_;
  std::int32_t n_;
  std::uint32_t generation_ = 0;
};

// Splits `total` (>= 0) into `parts` non-negative shares, each >= 1 when total >= parts,
// with random weights. The result sums to exactly `total`.
std::vector<std::int64_t> random_split(Rng& rng, std::int64_t total, std::int32_t parts) {
  std::vector<std::int64_t> share(static_cast<std::size_t>(parts), 0);
  if (total <= 0) return share;
  if (total < parts) {  // too few units for everyone: 1 each to `total` random parts
    DistinctSampler sampler(parts);
    std::vector<std::int32_t> chosen;
    sampler.sample(rng, static_cast<std::int32_t>(total), chosen);
    for (std::int32_t p : chosen) share[static_cast<std::size_t>(p)] = 1;
    return share;
  }
  std::vector<std::int64_t> weight(static_cast<std::size_t>(parts));
  std::int64_t weight_sum = 0;
  for (auto& w : weight) {
    w = rng.range(1, 1000);
    weight_sum += w;
  }
  const std::int64_t extra = total - parts;  // distributed in proportion to the weights
  std::int64_t given = 0;
  for (std::size_t i = 0; i < share.size(); ++i) {
    const auto part =
        static_cast<std::int64_t>(static_cast<Uint128>(extra) * static_cast<Uint128>(weight[i]) /
                                  static_cast<Uint128>(weight_sum));
    share[i] = 1 + part;
    given += share[i];
  }
  share[static_cast<std::size_t>(rng.index(parts))] += total - given;  // rounding remainder
  return share;
}

std::int32_t at_least_one(std::int32_t v) { return std::max<std::int32_t>(v, 1); }

}  // namespace
}  // namespace detail

// ---- Quincy / Firmament ---------------------------------------------------------------
//
// Node order: T tasks, J unscheduled aggregators U_j, cluster aggregator X, R racks,
// M machines, sink, with R = ceil(M / machines_per_rack):
//   nodes = T + J + R + M + 2
// Arcs, per task (emitted task by task): task->U_j, task->X, P task->machine and
// Q task->rack (P = preferred_machines, Q = preferred_racks, after clamping); then
// X->rack for every rack, rack->machine for every machine, two machine->sink arcs per
// machine and U_j->sink per job:
//   arcs = T * (2 + P + Q) + R + 3 * M + J
// At the defaults with M = 12,500 and T = 150,000: 164,315 nodes and 1,539,313 arcs.
//
// Costs follow Quincy's shape: a preferred (data-local) machine is cheap (0..600), a
// preferred rack a little dearer (100..900), any machine via X dearer still (300..1500),
// and waiting (U_j) dearest: 1000..5000 scaled by the job's waiting factor 1.0..3.0.
// Machine->sink arcs give the first floor(S/2) slots cost 0..50 and the remaining
// S - floor(S/2) slots that cost plus 100..300, so load spreads across machines (with
// S = 1 the first arc has capacity 0 and is still emitted, keeping the count formula).
// Jobs are contiguous task blocks cut at J-1 distinct random points, so sizes vary.
// Feasible by construction: every task can always go task->U_j->sink (capacity = job size).
//
// Clamps: machines, tasks, machines_per_rack, slots_per_machine >= 1; jobs 0 (or < 0)
// means max(1, tasks / 100) and jobs is at most tasks; preferred_machines in [0, M],
// preferred_racks in [0, R].
Network generate_quincy(const QuincyParams& params) {
  using detail::at_least_one;
  detail::Rng rng(params.seed);

  // 1. Clamp the parameters and lay out node ids.
  const std::int32_t machines = at_least_one(params.machines);
  const std::int32_t tasks = at_least_one(params.tasks);
  std::int32_t jobs = params.jobs > 0 ? params.jobs : std::max(1, tasks / 100);
  jobs = std::min(jobs, tasks);
  const std::int32_t per_rack = at_least_one(params.machines_per_rack);
  const std::int64_t slots = at_least_one(params.slots_per_machine);
  const std::int32_t racks = (machines + per_rack - 1) / per_rack;
  const std::int32_t pref_machines = std::clamp(params.preferred_machines, 0, machines);
  const std::int32_t pref_racks = std::clamp(params.preferred_racks, 0, racks);

  const NodeId first_unsched = tasks;
  const NodeId cluster = first_unsched + jobs;
  const NodeId first_rack = cluster + 1;
  const NodeId first_machine = first_rack + racks;
  const NodeId sink = first_machine + machines;

  Network net(sink + 1);
  for (NodeId t = 0; t < tasks; ++t) net.set_supply(t, 1);
  net.set_supply(sink, -std::int64_t{tasks});
  net.reserve_arcs(static_cast<std::size_t>(tasks) *
                       static_cast<std::size_t>(2 + pref_machines + pref_racks) +
                   static_cast<std::size_t>(racks) + 3 * static_cast<std::size_t>(machines) +
                   static_cast<std::size_t>(jobs));

  // 2. Cut the tasks into contiguous jobs at J-1 distinct points in [1, T-1]; give each
  //    job a waiting factor in tenths (10..30 = 1.0x..3.0x).
  std::vector<std::int32_t> job_start;
  job_start.reserve(static_cast<std::size_t>(jobs) + 1);
  job_start.push_back(0);
  if (jobs > 1) {
    detail::DistinctSampler cut_sampler(tasks - 1);
    cut_sampler.sample(rng, jobs - 1, job_start);
    for (std::size_t i = 1; i < job_start.size(); ++i) job_start[i] += 1;
    std::sort(job_start.begin() + 1, job_start.end());
  }
  job_start.push_back(tasks);
  std::vector<std::int64_t> wait_factor(static_cast<std::size_t>(jobs));
  for (auto& w : wait_factor) w = rng.range(10, 30);

  // 3. Task arcs: wait, cluster, preferred machines, preferred racks.
  detail::DistinctSampler machine_sampler(machines);
  detail::DistinctSampler rack_sampler(racks);
  std::vector<std::int32_t> picked;
  picked.reserve(static_cast<std::size_t>(std::max(pref_machines, pref_racks)));
  for (std::int32_t j = 0; j < jobs; ++j) {
    const std::int64_t factor = wait_factor[static_cast<std::size_t>(j)];
    for (NodeId t = job_start[static_cast<std::size_t>(j)];
         t < job_start[static_cast<std::size_t>(j) + 1]; ++t) {
      net.add_arc(t, first_unsched + j, 0, 1, rng.range(1000, 5000) * factor / 10);
      net.add_arc(t, cluster, 0, 1, rng.range(300, 1500));
      picked.clear();
      machine_sampler.sample(rng, pref_machines, picked);
      for (std::int32_t m : picked) net.add_arc(t, first_machine + m, 0, 1, rng.range(0, 600));
      picked.clear();
      rack_sampler.sample(rng, pref_racks, picked);
      for (std::int32_t r : picked) net.add_arc(t, first_rack + r, 0, 1, rng.range(100, 900));
    }
  }

  // 4. Topology: X -> racks, racks -> machines, machines -> sink (two rising-cost arcs).
  for (std::int32_t r = 0; r < racks; ++r) {
    const std::int64_t in_rack = std::min(per_rack, machines - r * per_rack);
    net.add_arc(cluster, first_rack + r, 0, in_rack * slots, 0);
  }
  for (std::int32_t m = 0; m < machines; ++m) {
    net.add_arc(first_rack + m / per_rack, first_machine + m, 0, slots, 0);
  }
  for (std::int32_t m = 0; m < machines; ++m) {
    const std::int64_t low_cost = rng.range(0, 50);
    const std::int64_t high_cost = low_cost + rng.range(100, 300);
    net.add_arc(first_machine + m, sink, 0, slots / 2, low_cost);
    net.add_arc(first_machine + m, sink, 0, slots - slots / 2, high_cost);
  }

  // 5. Unscheduled aggregators drain to the sink: the feasibility backstop.
  for (std::int32_t j = 0; j < jobs; ++j) {
    net.add_arc(first_unsched + j, sink, 0,
                job_start[static_cast<std::size_t>(j) + 1] - job_start[static_cast<std::size_t>(j)],
                0);
  }
  return net;
}

// ---- NETGEN-like ----------------------------------------------------------------------
//
// Node order: sources, transshipment nodes, sinks (as in NETGEN). Sources and sinks split
// total_supply at random, each >= 1 when total_supply is at least their count.
//
// Feasibility skeleton: the transshipment nodes are dealt at random into one chain per
// source (source -> t1 -> ... -> tk); a north-west-corner transport plan pairs sources
// with sinks (at most sources + sinks - 1 pairs), and each chain's last node gets an arc
// to every sink its source ships to. Chains are node-disjoint, so each skeleton arc's
// load is known exactly and its capacity is max(random capacity, load): the plan is a
// feasible flow. Random arcs (tail not a sink, head not a source, no self loops; parallel
// arcs allowed) then bring the total to `arcs`. All costs are uniform in
// [min_cost, max_cost] and capacities in [min_cap, max_cap] except where the skeleton
// raises a capacity.
//
// Clamps: nodes >= 2; sources, sinks >= 1 with sources + sinks <= nodes (sources keep
// priority); total_supply, min_cap >= 0; swapped cost / capacity ranges are swapped back;
// if `arcs` is below the skeleton size, the network has just the skeleton.
Network generate_netgen(const NetgenParams& params) {
  detail::Rng rng(params.seed);

  // 1. Clamp.
  const std::int32_t nodes = std::max<std::int32_t>(params.nodes, 2);
  const std::int32_t sources = std::clamp<std::int32_t>(params.sources, 1, nodes - 1);
  const std::int32_t sinks = std::clamp<std::int32_t>(params.sinks, 1, nodes - sources);
  const std::int32_t transship = nodes - sources - sinks;
  const std::int64_t total = std::max<std::int64_t>(params.total_supply, 0);
  const std::int64_t min_cost = std::min(params.min_cost, params.max_cost);
  const std::int64_t max_cost = std::max(params.min_cost, params.max_cost);
  const std::int64_t min_cap = std::max<std::int64_t>(std::min(params.min_cap, params.max_cap), 0);
  const std::int64_t max_cap = std::max<std::int64_t>(std::max(params.min_cap, params.max_cap), 0);
  const NodeId first_transship = sources;
  const NodeId first_sink = sources + transship;

  // 2. Supplies.
  Network net(nodes);
  const std::vector<std::int64_t> supply = detail::random_split(rng, total, sources);
  const std::vector<std::int64_t> demand = detail::random_split(rng, total, sinks);
  for (std::int32_t s = 0; s < sources; ++s) net.set_supply(s, supply[static_cast<std::size_t>(s)]);
  for (std::int32_t k = 0; k < sinks; ++k)
    net.set_supply(first_sink + k, -demand[static_cast<std::size_t>(k)]);
  net.reserve_arcs(static_cast<std::size_t>(std::max<std::int64_t>(params.arcs, 0)) +
                   static_cast<std::size_t>(nodes) * 2);

  // Adds an arc with a random capacity raised to at least `load`, and a random cost. The
  // draws are separate statements: argument evaluation order is unspecified (GCC and
  // Clang differ), and the instance must not depend on the compiler.
  auto add_random_arc = [&](NodeId tail, NodeId head, std::int64_t load) {
    const std::int64_t cap = std::max(rng.range(min_cap, max_cap), load);
    const std::int64_t cost = rng.range(min_cost, max_cost);
    net.add_arc(tail, head, 0, cap, cost);
  };

  // 3. Deal the transshipment nodes into chains: a random permutation (hand-rolled
  //    Fisher-Yates) cut by random chain owners.
  std::vector<NodeId> order(static_cast<std::size_t>(transship));
  for (std::int32_t i = 0; i < transship; ++i)
    order[static_cast<std::size_t>(i)] = first_transship + i;
  for (std::int32_t i = transship - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(rng.index(std::int64_t{i} + 1))]);
  }
  std::vector<std::int32_t> owner(static_cast<std::size_t>(transship));
  for (auto& o : owner) o = rng.index(sources);
  std::vector<NodeId> chain_end(static_cast<std::size_t>(sources));
  for (std::int32_t s = 0; s < sources; ++s) chain_end[static_cast<std::size_t>(s)] = s;
  for (std::int32_t i = 0; i < transship; ++i) {
    const auto s = static_cast<std::size_t>(owner[static_cast<std::size_t>(i)]);
    const NodeId next = order[static_cast<std::size_t>(i)];
    add_random_arc(chain_end[s], next, supply[s]);
    chain_end[s] = next;
  }

  // 4. North-west-corner plan: chain ends to sinks.
  {
    std::int32_t s = 0;
    std::int32_t k = 0;
    std::int64_t left_s = supply.empty() ? 0 : supply[0];
    std::int64_t left_k = demand.empty() ? 0 : demand[0];
    while (s < sources && k < sinks) {
      if (left_s == 0) {
        if (++s < sources) left_s = supply[static_cast<std::size_t>(s)];
        continue;
      }
      if (left_k == 0) {
        if (++k < sinks) left_k = demand[static_cast<std::size_t>(k)];
        continue;
      }
      const std::int64_t amount = std::min(left_s, left_k);
      add_random_arc(chain_end[static_cast<std::size_t>(s)], first_sink + k, amount);
      left_s -= amount;
      left_k -= amount;
    }
  }

  // 5. Random arcs up to the requested total: tails among sources and transshipment
  //    nodes, heads among transshipment nodes and sinks.
  const std::int32_t tail_pool = sources + transship;
  const std::int32_t head_pool = transship + sinks;
  while (net.num_arcs() < params.arcs) {
    const NodeId tail = rng.index(tail_pool);
    NodeId head = first_transship + rng.index(head_pool);
    if (head == tail) {  // only for a transshipment node, so head_pool >= 2: redraw
      head = first_transship + rng.index(head_pool - 1);
      if (head >= tail) ++head;
    }
    add_random_arc(tail, head, 0);
  }
  return net;
}

// ---- Grid -----------------------------------------------------------------------------
//
// Node order: rows * cols grid nodes (id = r * cols + c), then the super source, then the
// super sink:  nodes = rows * cols + 2
// Arcs: both directions between 4-neighbours (cost 1..max_cost, capacity 1..max_cap),
// source -> every left-column node and every right-column node -> sink (capacity =
// supply, cost 0), then one direct source -> sink bypass arc (capacity = supply):
//   arcs = 2 * (rows * (cols - 1) + cols * (rows - 1)) + 2 * rows + 1
// The bypass makes the instance feasible whatever the random grid capacities are; its
// cost, max_cost * rows * cols + 1 (capped at 2^40), exceeds any simple path through the
// grid, so an optimal flow uses it only for what the grid cannot carry.
//
// Clamps: rows, cols, max_cost, max_cap >= 1; supply >= 0.
Network generate_grid(const GridParams& params) {
  using detail::at_least_one;
  detail::Rng rng(params.seed);
  const std::int32_t rows = at_least_one(params.rows);
  const std::int32_t cols = at_least_one(params.cols);
  const std::int64_t supply = std::max<std::int64_t>(params.supply, 0);
  const std::int64_t max_cost = std::max<std::int64_t>(params.max_cost, 1);
  const std::int64_t max_cap = std::max<std::int64_t>(params.max_cap, 1);

  const std::int64_t cells = std::int64_t{rows} * cols;
  const auto source = static_cast<NodeId>(cells);
  const NodeId sink = source + 1;
  Network net(sink + 1);
  net.set_supply(source, supply);
  net.set_supply(sink, -supply);
  net.reserve_arcs(static_cast<std::size_t>(
      2 * (std::int64_t{rows} * (cols - 1) + std::int64_t{cols} * (rows - 1)) + 2 * rows + 1));

  auto id = [cols](std::int32_t r, std::int32_t c) {
    return static_cast<NodeId>(std::int64_t{r} * cols + c);
  };
  // Capacity then cost, as separate statements so the draw order is the same on every
  // compiler (argument evaluation order is unspecified).
  auto add_grid_arc = [&](NodeId u, NodeId v) {
    const std::int64_t cap = rng.range(1, max_cap);
    const std::int64_t cost = rng.range(1, max_cost);
    net.add_arc(u, v, 0, cap, cost);
  };
  for (std::int32_t r = 0; r < rows; ++r) {
    for (std::int32_t c = 0; c < cols; ++c) {
      if (c + 1 < cols) {
        add_grid_arc(id(r, c), id(r, c + 1));
        add_grid_arc(id(r, c + 1), id(r, c));
      }
      if (r + 1 < rows) {
        add_grid_arc(id(r, c), id(r + 1, c));
        add_grid_arc(id(r + 1, c), id(r, c));
      }
    }
  }
  for (std::int32_t r = 0; r < rows; ++r) net.add_arc(source, id(r, 0), 0, supply, 0);
  for (std::int32_t r = 0; r < rows; ++r) net.add_arc(id(r, cols - 1), sink, 0, supply, 0);

  constexpr std::int64_t kBypassCostCap = std::int64_t{1} << 40;
  const std::int64_t bypass_cost =
      max_cost >= kBypassCostCap / cells ? kBypassCostCap : max_cost * cells + 1;
  net.add_arc(source, sink, 0, supply, bypass_cost);
  return net;
}

// ---- Assignment -----------------------------------------------------------------------
//
// Node order: n workers (supply 1), then n jobs (supply -1):  nodes = 2n.
// Worker i gets an arc to job i (so the identity is a perfect matching) followed by
// `degree` distinct other jobs; capacity 1, cost uniform in [0, max_cost]:
//   arcs = n * (degree + 1)
// Clamps: n >= 1; degree in [0, n - 1]; max_cost >= 0.
Network generate_assignment(const AssignmentParams& params) {
  detail::Rng rng(params.seed);
  const std::int32_t n = detail::at_least_one(params.n);
  const std::int32_t degree = std::clamp<std::int32_t>(params.degree, 0, n - 1);
  const std::int64_t max_cost = std::max<std::int64_t>(params.max_cost, 0);

  Network net(2 * n);
  for (std::int32_t i = 0; i < n; ++i) {
    net.set_supply(i, 1);
    net.set_supply(n + i, -1);
  }
  net.reserve_arcs(static_cast<std::size_t>(n) * static_cast<std::size_t>(degree + 1));

  detail::DistinctSampler sampler(n - 1);  // other jobs, with i's own job skipped over
  std::vector<std::int32_t> picked;
  picked.reserve(static_cast<std::size_t>(degree));
  for (std::int32_t i = 0; i < n; ++i) {
    net.add_arc(i, n + i, 0, 1, rng.range(0, max_cost));
    picked.clear();
    sampler.sample(rng, degree, picked);
    for (std::int32_t j : picked)
      net.add_arc(i, n + (j >= i ? j + 1 : j), 0, 1, rng.range(0, max_cost));
  }
  return net;
}

// ---- Family names ---------------------------------------------------------------------

std::string_view to_string(Family f) {
  switch (f) {
    case Family::kQuincy:
      return "quincy";
    case Family::kNetgen:
      return "netgen";
    case Family::kGrid:
      return "grid";
    case Family::kAssignment:
      return "assignment";
  }
  return "unknown";
}

// Exact, lower-case names only (the spellings to_string produces).
std::optional<Family> parse_family(std::string_view name) {
  for (Family f : {Family::kQuincy, Family::kNetgen, Family::kGrid, Family::kAssignment}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

}  // namespace sluice
