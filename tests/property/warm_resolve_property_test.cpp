// Warm re-solves after seeded random edit sequences: small networks of every generator
// family, the sample datasets and dumped allocation networks, thousands of steps in all.
// After every step the warm solve (each WarmMethod in turn) must agree with a cold solve
// of the same network by the reference (LEMON NetworkSimplex when built with LEMON, else
// our cold solve): same status, same optimal cost, and a valid certificate (feasibility,
// complementary slackness, primal = dual). Steps that make the problem infeasible or
// unbounded must say so, and the solver must go on warm afterwards (such steps are undone
// and the next step solves warm from the optimum kept before them).
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"
#include "sluice/warm_solver.hpp"
#include "support/mcf_datasets.hpp"

namespace sluice {
namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % (static_cast<std::uint64_t>(hi - lo) + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 engine_;
};

// A cold solve by our CPU solver, its cost checked against LEMON's NetworkSimplex when
// that is built in. (Statuses come from ours: on a network both infeasible and holding a
// negative cycle of infinite arcs, LEMON says unbounded and we say infeasible.)
SolveResult reference(const Network& net) {
  SolveOptions o;
  o.backend = Backend::kCpu;
  SolveResult ours = solve(net, o);
  o.backend = Backend::kLemonNetworkSimplex;
  const SolveResult lemon = solve(net, o);
  if (lemon.status != Status::kBackendUnavailable) {
    EXPECT_EQ(ours.status == Status::kOptimal, lemon.status == Status::kOptimal) << ours.message << " | " << lemon.message;
    if (ours.status == Status::kOptimal && lemon.status == Status::kOptimal) {
      EXPECT_EQ(ours.total_cost, lemon.total_cost);
    }
  }
  return ours;
}

// One random edit to the solver's network; pushes what undoes it. `in_place` keeps to the
// edits a kept network simplex takes in place (no new arcs or nodes, finite capacities).
void random_edit(WarmSolver& solver, Rng& rng, std::int64_t max_cost, bool in_place,
                 std::vector<std::function<void()>>& undo) {
  const Network& net = solver.network();
  const ArcId m = net.num_arcs();
  const NodeId n = net.num_nodes();
  std::int64_t kind = rng.in(0, 99);
  if (in_place && kind >= 75 && kind < 97) kind = rng.in(0, 34);
  if (kind < 35 && m > 0) {  // capacity (sometimes below the current flow, sometimes 0), at times the lower bound
    const ArcId a = static_cast<ArcId>(rng.in(0, m - 1));
    const std::int64_t lower = net.lower(a), cap = net.capacity(a);
    const std::int64_t base = cap == kInfiniteCapacity ? 100 : cap;
    const std::int64_t new_cap =
        !in_place && rng.chance(0.05) ? kInfiniteCapacity : rng.in(std::max<std::int64_t>(lower, 0), 2 * base + 2);
    const std::int64_t new_lower = rng.chance(0.2) ? rng.in(0, std::min<std::int64_t>(new_cap, 3)) : lower;
    ASSERT_TRUE(solver.set_bounds(a, new_lower, new_cap).ok());
    undo.push_back([&solver, a, lower, cap] { ASSERT_TRUE(solver.set_bounds(a, lower, cap).ok()); });
  } else if (kind < 55 && m > 0) {  // cost, negative ones included
    const ArcId a = static_cast<ArcId>(rng.in(0, m - 1));
    const std::int64_t old = net.cost(a);
    ASSERT_TRUE(solver.set_cost(a, rng.in(-max_cost / 4, max_cost)).ok());
    undo.push_back([&solver, a, old] { ASSERT_TRUE(solver.set_cost(a, old).ok()); });
  } else if (kind < 75 && n > 1) {  // supply moved from one node to another
    const NodeId v = static_cast<NodeId>(rng.in(0, n - 1));
    const NodeId w = static_cast<NodeId>(rng.in(0, n - 1));
    const std::int64_t sv = net.supply(v), sw = net.supply(w);
    const std::int64_t delta = rng.in(-5, 5);
    ASSERT_TRUE(solver.set_supply(v, sv + delta).ok());
    ASSERT_TRUE(solver.set_supply(w, solver.network().supply(w) - delta).ok());
    undo.push_back([&solver, v, w, sv, sw] {
      ASSERT_TRUE(solver.set_supply(w, sw).ok());
      ASSERT_TRUE(solver.set_supply(v, sv).ok());
    });
  } else if (kind < 85 && n > 0) {  // a new arc
    const NodeId v = static_cast<NodeId>(rng.in(0, n - 1));
    const NodeId w = static_cast<NodeId>(rng.in(0, n - 1));
    const std::int64_t cap = rng.chance(0.1) ? kInfiniteCapacity : rng.in(0, 50);
    const ArcId a = solver.add_arc(v, w, rng.chance(0.1) ? 1 : 0, std::max<std::int64_t>(cap, 1),
                                   rng.in(-max_cost / 4, max_cost));
    ASSERT_GE(a, 0);
    undo.push_back([&solver, a] { ASSERT_TRUE(solver.remove_arc(a).ok()); });
  } else if (kind < 93 && m > 0) {  // an arc removed
    const ArcId a = static_cast<ArcId>(rng.in(0, m - 1));
    const std::int64_t lower = net.lower(a), cap = net.capacity(a);
    ASSERT_TRUE(solver.remove_arc(a).ok());
    undo.push_back([&solver, a, lower, cap] { ASSERT_TRUE(solver.set_bounds(a, lower, cap).ok()); });
  } else if (kind < 97 && n > 0) {  // a node joins with an arc each way
    const NodeId u = solver.add_node();
    const NodeId v = static_cast<NodeId>(rng.in(0, n - 1));
    const ArcId in = solver.add_arc(v, u, 0, rng.in(1, 30), rng.in(0, max_cost));
    const ArcId out = solver.add_arc(u, v, 0, rng.in(1, 30), rng.in(0, max_cost));
    ASSERT_GE(in, 0);
    ASSERT_GE(out, 0);
    undo.push_back([&solver, u] { ASSERT_TRUE(solver.retire_node(u).ok()); });
  } else if (n > 0) {  // a node retired (its supply goes to node 0 to stay balanced)
    const NodeId v = static_cast<NodeId>(rng.in(0, n - 1));
    const std::int64_t sv = net.supply(v), s0 = net.supply(0);
    std::vector<std::pair<ArcId, std::pair<std::int64_t, std::int64_t>>> arcs;
    for (ArcId a = 0; a < m; ++a) {
      if (net.tail(a) == v || net.head(a) == v) arcs.push_back({a, {net.lower(a), net.capacity(a)}});
    }
    ASSERT_TRUE(solver.retire_node(v).ok());
    if (v != 0) {
      ASSERT_TRUE(solver.set_supply(0, solver.network().supply(0) + sv).ok());
    }
    undo.push_back([&solver, v, sv, s0, arcs] {
      for (const auto& [a, bounds] : arcs) ASSERT_TRUE(solver.set_bounds(a, bounds.first, bounds.second).ok());
      ASSERT_TRUE(solver.set_supply(0, s0).ok());
      ASSERT_TRUE(solver.set_supply(v, sv).ok());
    });
  }
}

struct Counts {
  int steps = 0;
  int optimal = 0;
  int not_optimal = 0;
  int handed_over = 0;  // shortest paths ran out of budget and cost scaling finished
  int simplex_warm = 0;  // network simplex started from a basis it kept
  int in_place = 0;      // ... on the kept solver itself, nothing rebuilt
};

// `steps` rounds of 1-4 edits on `start`, each followed by a warm solve checked against a
// cold reference.
void run_sequence(const Network& start, std::uint64_t seed, int steps, std::int64_t max_cost, Counts& counts,
                  bool in_place_only = false) {
  Rng rng(seed);
  SolveOptions options;
  options.backend = Backend::kCpu;
  options.verify = true;
  WarmSolver solver(options);
  solver.reset(start);
  const SolveResult first = solver.solve();
  const SolveResult first_ref = reference(start);
  ASSERT_EQ(to_string(first.status), to_string(first_ref.status)) << first.message;
  if (first.status == Status::kOptimal) {
    ASSERT_EQ(first.total_cost, first_ref.total_cost);
  }
  // The methods in turn; the fourth is shortest paths with a budget too small to finish,
  // so that cost scaling takes over from a half-done search. Network simplex twice in a
  // row, so that it starts from a basis it left itself.
  const WarmMethod methods[] = {WarmMethod::kShortestPaths, WarmMethod::kCostScaling, WarmMethod::kAuto,
                                WarmMethod::kShortestPaths, WarmMethod::kNetworkSimplex,
                                WarmMethod::kNetworkSimplex};
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::vector<std::function<void()>> undo;
    const std::int64_t edits = rng.in(1, 4);
    for (std::int64_t i = 0; i < edits; ++i) {
      random_edit(solver, rng, max_cost, in_place_only, undo);
      if (::testing::Test::HasFatalFailure()) return;
    }
    const std::size_t turn = static_cast<std::size_t>(step) % std::size(methods);
    const WarmMethod method = in_place_only ? WarmMethod::kNetworkSimplex : methods[turn];
    solver.set_method(method);
    solver.set_shortest_path_budget(turn == 3 ? 0.3 : 0);
    SCOPED_TRACE(std::string("method ") + std::string(to_string(method)) + (turn == 3 ? ", tiny budget" : ""));
    const bool in_place = method == WarmMethod::kNetworkSimplex && solver.in_place();
    const SolveResult warm = solver.solve();
    const SolveResult cold = reference(solver.network());
    ++counts.steps;
    counts.in_place += in_place;
    ASSERT_EQ(to_string(warm.status), to_string(cold.status)) << warm.message << " | " << cold.message;
    if (warm.status == Status::kOptimal) {
      ++counts.optimal;
      if (warm.algorithm.find("then cost scaling") != std::string::npos) ++counts.handed_over;
      if (warm.algorithm == "network simplex, warm start") ++counts.simplex_warm;
      ASSERT_EQ(warm.total_cost, cold.total_cost) << warm.algorithm;
      ASSERT_TRUE(warm.certificate.has_value());
      ASSERT_TRUE(warm.certificate->valid()) << warm.certificate->message;
    } else {
      ++counts.not_optimal;
      EXPECT_FALSE(warm.message.empty());
      for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
    }
  }
}

// Small seeded instances of the Quincy and NETGEN families.
Network small_quincy(std::uint64_t seed) {
  QuincyParams q;
  q.machines = 12;
  q.tasks = 80;
  q.seed = seed;
  return generate_quincy(q);
}

Network small_netgen(std::uint64_t seed) {
  NetgenParams ng;
  ng.nodes = 40;
  ng.arcs = 240;
  ng.sources = 4;
  ng.sinks = 4;
  ng.total_supply = 200;
  ng.max_cost = 100;
  ng.max_cap = 40;
  ng.seed = seed;
  return generate_netgen(ng);
}

TEST(WarmResolveProperty, GeneratorFamilies) {
  Counts counts;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    GridParams gr;
    gr.rows = 6;
    gr.cols = 6;
    gr.supply = 60;
    gr.seed = seed;
    AssignmentParams as;
    as.n = 20;
    as.degree = 4;
    as.max_cost = 100;
    as.seed = seed;
    const std::pair<const char*, Network> nets[] = {{"quincy", small_quincy(seed)},
                                                    {"netgen", small_netgen(seed)},
                                                    {"grid", generate_grid(gr)},
                                                    {"assignment", generate_assignment(as)}};
    for (const auto& [family, net] : nets) {
      SCOPED_TRACE(family);
      run_sequence(net, seed * 7919, 120, 100, counts);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_EQ(counts.steps, 2400);
  // The edits must exercise both outcomes, or the test proves less than it claims.
  EXPECT_GT(counts.optimal, 1500);
  EXPECT_GT(counts.not_optimal, 100);
  EXPECT_GT(counts.handed_over, 50);
  EXPECT_GT(counts.simplex_warm, 200);
}

TEST(WarmResolveProperty, DatasetsAndAllocationNetworks) {
  Counts counts;
  int files = 0;
  for (const test::McfDataset& d : test::mcf_datasets()) {
    SCOPED_TRACE(d.file);
    const DimacsReadResult r = read_dimacs_file(d.path);
    ASSERT_TRUE(r.ok) << r.error;
    std::int64_t max_cost = 1;
    for (const std::int64_t c : r.network.costs()) max_cost = std::max(max_cost, c < 0 ? -c : c);
    // Large networks get fewer steps: the reference solve dominates.
    const int steps = r.network.num_arcs() > 5000 ? 25 : 100;
    run_sequence(r.network, 4242 + static_cast<std::uint64_t>(files), steps, max_cost, counts);
    if (HasFatalFailure()) return;
    ++files;
  }
  EXPECT_GE(files, 10);
  EXPECT_GT(counts.optimal, counts.steps / 2);
}

// Network simplex kept between solves and edited in place (bounds, lower bounds included,
// costs, supplies, removed arcs, retired nodes), every solve from the kept solver: on the
// generator families and the dumped allocation networks.
TEST(WarmResolveProperty, KeptNetworkSimplexEditedInPlace) {
  Counts counts;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_sequence(small_quincy(seed), seed * 31, 150, 100, counts, /*in_place_only=*/true);
    if (HasFatalFailure()) return;
    run_sequence(small_netgen(seed), seed * 37, 150, 100, counts, /*in_place_only=*/true);
    if (HasFatalFailure()) return;
  }
  for (const test::McfDataset& d : test::mcf_datasets()) {
    if (d.file.rfind("alloc_", 0) != 0) continue;
    SCOPED_TRACE(d.file);
    const DimacsReadResult r = read_dimacs_file(d.path);
    ASSERT_TRUE(r.ok) << r.error;
    run_sequence(r.network, 977, r.network.num_arcs() > 5000 ? 30 : 100, 1000, counts, /*in_place_only=*/true);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(counts.optimal, counts.steps / 2);
  EXPECT_GT(counts.not_optimal, 20);
  // Most solves ran in place (the rest follow a failed step's undo or a cost past the
  // kept solver's range, and rebuild).
  EXPECT_GT(counts.in_place, counts.steps * 3 / 4);
}

}  // namespace
}  // namespace sluice
