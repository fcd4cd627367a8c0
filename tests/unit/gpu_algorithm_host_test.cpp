// The GPU cost-scaling algorithm's per-node steps (kernels/cost_scaling_ops.cuh), run by
// the host executor in randomized interleavings, against our CPU solver (and LEMON when
// built): same status, same optimal cost, and a valid optimality certificate on the
// executor's own flow and potentials. Seeds are in every failure message.
#include "gpu_algorithm_host.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <random>
#include <string>
#include <vector>

#include "cost_scaling.hpp"
#include "support/mcf_datasets.hpp"
#include "support/random_network.hpp"
#include "feasibility.hpp"
#include "residual_graph.hpp"
#include "sluice/certificate.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice {
namespace {

using test::random_network;

using detail::GpuHostParams;
using detail::InterleavingModel;

const char* model_name(InterleavingModel m) {
  switch (m) {
    case InterleavingModel::kSequential:
      return "sequential";
    case InterleavingModel::kTwoPhaseRacy:
      return "two-phase-racy";
    case InterleavingModel::kCombinedRacy:
      return "combined-racy";
  }
  return "?";
}


struct Tally {
  int optimal = 0;
  int infeasible = 0;
  int other = 0;
};

// Solves `net` with the executor under `model` for several interleaving seeds and checks
// each run against the CPU solver's answer (and LEMON's). Returns false after a failure.
bool check_instance(const Network& net, std::uint64_t instance_seed, InterleavingModel model, Tally& tally) {
  SolveOptions cpu_options;
  cpu_options.backend = Backend::kCpu;
  const SolveResult cpu = solve(net, cpu_options);
#ifdef SLUICE_HAVE_LEMON
  SolveOptions lemon_options;
  lemon_options.backend = Backend::kLemonNetworkSimplex;
  const SolveResult lemon = solve(net, lemon_options);
  EXPECT_EQ(lemon.status, cpu.status) << "instance seed " << instance_seed << ": CPU and LEMON disagree";
  if (lemon.status == Status::kOptimal && cpu.status == Status::kOptimal) {
    EXPECT_EQ(lemon.total_cost, cpu.total_cost) << "instance seed " << instance_seed;
  }
#endif
  if (cpu.status == Status::kOptimal)
    ++tally.optimal;
  else if (cpu.status == Status::kInfeasible)
    ++tally.infeasible;
  else
    ++tally.other;

  for (std::uint64_t run = 0; run < 3; ++run) {
    GpuHostParams params;
    params.model = model;
    params.seed = instance_seed * 7919 + run;
    params.stale_probability = run == 2 ? 1.0 : 0.5;  // run 2: every read stale
    params.alpha = run == 1 ? 2 : 16;
    const SolveResult got = detail::solve_gpu_algorithm_on_host(net, params);
    const std::string where = std::string("instance seed ") + std::to_string(instance_seed) + ", model " +
                              model_name(model) + ", interleaving seed " + std::to_string(params.seed) + ", alpha " +
                              std::to_string(params.alpha);
    EXPECT_EQ(got.status, cpu.status) << where << ": " << got.message << " / cpu: " << cpu.message;
    if (got.status != cpu.status) return false;
    if (got.status != Status::kOptimal) continue;
    EXPECT_EQ(got.total_cost, cpu.total_cost) << where;
    const Certificate cert = check_optimality(net, got.flow, got.potential);
    EXPECT_TRUE(cert.valid()) << where << ": " << cert.message;
    if (got.total_cost != cpu.total_cost || !cert.valid()) return false;
  }
  return true;
}

void run_random(InterleavingModel model, std::uint64_t first_seed, int count, std::int64_t max_nodes = 24) {
  Tally tally;
  int failures = 0;
  for (int i = 0; i < count && failures < 5; ++i) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    if (!check_instance(random_network(seed, max_nodes), seed, model, tally)) ++failures;
  }
  // The families must exercise both outcomes, or the test proves little.
  EXPECT_GE(tally.optimal, count / 2);
  EXPECT_GE(tally.infeasible, count / 20);
  std::printf("[gpu-host %s] %d instances of up to %lld nodes: %d optimal, %d infeasible, %d other\n",
              model_name(model), count, static_cast<long long>(max_nodes), tally.optimal, tally.infeasible,
              tally.other);
}

TEST(GpuAlgorithmHost, SequentialInterleavingsMatchCpuSolver) { run_random(InterleavingModel::kSequential, 1000, 600); }

TEST(GpuAlgorithmHost, TwoPhaseRacyInterleavingsMatchCpuSolver) {
  run_random(InterleavingModel::kTwoPhaseRacy, 5000, 1000);
}

TEST(GpuAlgorithmHost, TwoPhaseRacyOnLargerInstances) { run_random(InterleavingModel::kTwoPhaseRacy, 70000, 200, 80); }

TEST(GpuAlgorithmHost, KnownOptimum) {
  // s=0 -> {1, 2} -> t=3; the cheap path has capacity 2, the rest goes the dear way.
  Network net(4);
  net.set_supply(0, 5);
  net.set_supply(3, -5);
  net.add_arc(0, 1, 0, 2, 1);
  net.add_arc(1, 3, 0, 10, 1);
  net.add_arc(0, 2, 0, 10, 5);
  net.add_arc(2, 3, 0, 10, 5);
  for (const auto model : {InterleavingModel::kSequential, InterleavingModel::kTwoPhaseRacy}) {
    GpuHostParams params;
    params.model = model;
    const SolveResult r = detail::solve_gpu_algorithm_on_host(net, params);
    ASSERT_EQ(r.status, Status::kOptimal) << model_name(model) << ": " << r.message;
    EXPECT_EQ(r.total_cost, 2 * 2 + 3 * 10) << model_name(model);
    EXPECT_TRUE(check_optimality(net, r.flow, r.potential).valid()) << model_name(model);
  }
}

TEST(GpuAlgorithmHost, InfeasibleIsReportedNotLooped) {
  Network net(3);
  net.set_supply(0, 5);
  net.set_supply(2, -5);
  net.add_arc(0, 1, 0, 3, 1);
  net.add_arc(1, 2, 0, 10, 1);
  const SolveResult r = detail::solve_gpu_algorithm_on_host(net, GpuHostParams{});
  EXPECT_EQ(r.status, Status::kInfeasible) << r.message;
  Network isolated(2);  // demand with no arc at all
  isolated.set_supply(0, 1);
  isolated.set_supply(1, -1);
  EXPECT_EQ(detail::solve_gpu_algorithm_on_host(isolated, GpuHostParams{}).status, Status::kInfeasible);
}

TEST(GpuAlgorithmHost, CostOverflowIsAStatus) {
  Network net(2);
  net.set_supply(0, 1);
  net.set_supply(1, -1);
  net.add_arc(0, 1, 0, 1, std::int64_t{1} << 60);
  const SolveResult r = detail::solve_gpu_algorithm_on_host(net, GpuHostParams{});
  EXPECT_EQ(r.status, solve(net, SolveOptions{.backend = Backend::kCpu}).status);
}

// Three nodes: 0 has excess and an admissible arc into 1; 1 has excess, no admissible arc
// and no residual arc back to 0, so it relabels far down. A push by 0 decided on 1's old
// price then leaves the reverse arc 1->0 with reduced cost -10 < -ε.
detail::RoundState stale_hazard_state() {
  detail::RoundState s;
  s.first = {0, 1, 3, 4};
  s.head = {1, 0, 2, 1};
  s.rev = {1, 0, 3, 2};
  s.cost = {-1, 1, 10, -10};
  s.rescap = {3, 0, 5, 0};
  s.excess = {3, 1, -4};
  s.price = {0, 0, 0};
  return s;
}

TEST(GpuAlgorithmHost, CombinedStepWithStaleReadsBreaksEpsOptimality) {
  int violations = 0;
  for (std::uint64_t seed = 1; seed <= 32; ++seed) {
    detail::RoundState s = stale_hazard_state();
    GpuHostParams params;
    params.model = InterleavingModel::kCombinedRacy;
    params.stale_probability = 1.0;
    params.seed = seed;
    const std::string violation = detail::run_one_round(s, 1, params);
    if (!violation.empty()) {
      ++violations;
      EXPECT_NE(violation.find("invariant violated"), std::string::npos) << violation;
    }
  }
  // The shuffle puts node 1 first in about half the orders; the check must catch those.
  EXPECT_GT(violations, 0);
}

TEST(GpuAlgorithmHost, TwoPhaseStepsWithStaleReadsKeepEpsOptimality) {
  for (std::uint64_t seed = 1; seed <= 32; ++seed) {
    for (const double stale : {0.0, 0.5, 1.0}) {
      detail::RoundState s = stale_hazard_state();
      GpuHostParams params;
      params.model = InterleavingModel::kTwoPhaseRacy;
      params.stale_probability = stale;
      params.seed = seed;
      EXPECT_EQ(detail::run_one_round(s, 1, params), "") << "seed " << seed << ", stale " << stale;
    }
  }
}

// The unsafe model must never return a wrong "optimal": either the right answer or the
// invariant check's error.
TEST(GpuAlgorithmHost, CombinedRacyNeverReturnsAWrongOptimum) {
  int detected = 0;
  int optimal = 0;
  for (std::uint64_t seed = 9000; seed < 9150; ++seed) {
    const Network net = random_network(seed);
    const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
    GpuHostParams params;
    params.model = InterleavingModel::kCombinedRacy;
    params.seed = seed;
    const SolveResult got = detail::solve_gpu_algorithm_on_host(net, params);
    if (got.status == Status::kBackendError) {
      EXPECT_NE(got.message.find("invariant violated"), std::string::npos) << "seed " << seed << ": " << got.message;
      ++detected;
      continue;
    }
    EXPECT_EQ(got.status, cpu.status) << "seed " << seed << ": " << got.message;
    if (got.status == Status::kOptimal && cpu.status == Status::kOptimal) {
      ++optimal;
      EXPECT_EQ(got.total_cost, cpu.total_cost) << "seed " << seed;
      EXPECT_TRUE(check_optimality(net, got.flow, got.potential).valid()) << "seed " << seed;
    }
  }
  std::printf("[gpu-host combined-racy] 150 instances: %d optimal, %d invariant violations caught\n", optimal,
              detected);
}


// Every step the device runs, switched on and off one at a time (and all off), on random
// instances: feasibility by the device max flow or the CPU's, global price updates, price
// refinement, the early optimality exit and arc fixing. Each combination must give the CPU
// solver's status and cost with a valid certificate.
TEST(GpuAlgorithmHost, EveryStepCombinationMatchesCpuSolver) {
  struct Variant {
    const char* name;
    void (*apply)(GpuHostParams&);
  };
  const Variant variants[] = {
      {"all steps", [](GpuHostParams&) {}},
      {"cpu feasibility", [](GpuHostParams& p) { p.device_max_flow = false; }},
      {"no price updates", [](GpuHostParams& p) { p.global_updates = false; }},
      {"no price refinement", [](GpuHostParams& p) { p.price_refinement = false; }},
      {"no early exit", [](GpuHostParams& p) { p.early_exit = false; }},
      {"no arc fixing", [](GpuHostParams& p) { p.arc_fixing = false; }},
      {"update after every relabel", [](GpuHostParams& p) { p.update_frequency = 0; }},
      {"one tightening sweep", [](GpuHostParams& p) { p.tighten_max_sweeps = 1; }},
      // Far below the theorem's 2nε: arcs are fixed that must move again, so the check at
      // the end of each refine has to find and free them.
      {"reckless arc fixing", [](GpuHostParams& p) { p.fixing_percent = 1; }},
      {"all off",
       [](GpuHostParams& p) {
         p.device_max_flow = p.global_updates = p.price_refinement = p.early_exit = p.arc_fixing = false;
       }},
  };
  std::int64_t freed = 0;
  for (std::uint64_t seed = 40000; seed < 40150; ++seed) {
    const Network net = random_network(seed, 40);
    const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
    for (const Variant& v : variants) {
      GpuHostParams params;
      params.seed = seed;
      v.apply(params);
      detail::GpuHostStats stats;
      const SolveResult got = detail::solve_gpu_algorithm_on_host(net, params, &stats);
      freed += stats.freed_arcs;
      ASSERT_EQ(got.status, cpu.status) << "seed " << seed << ", " << v.name << ": " << got.message;
      if (got.status != Status::kOptimal) continue;
      ASSERT_EQ(got.total_cost, cpu.total_cost) << "seed " << seed << ", " << v.name;
      const Certificate cert = check_optimality(net, got.flow, got.potential);
      ASSERT_TRUE(cert.valid()) << "seed " << seed << ", " << v.name << ": " << cert.message;
    }
  }
  EXPECT_GT(freed, 0) << "no fixed arc was ever freed: the verification after each refine went untested";
}

// Runs the executor (two-phase racy reads, every step on, invariants checked every round
// up to 3,000 nodes)
// on `net` and checks cost and certificate; adds what the steps did to `total`.
void expect_executor_optimal(const Network& net, std::int64_t want_cost, const std::string& what,
                             detail::GpuHostStats& total, std::uint64_t seed) {
  GpuHostParams params;
  params.seed = seed;
  // The per-round invariant check is O(arcs) per round; on the largest instances the
  // certificate of the result is the check (CI time).
  params.check_invariants = net.num_nodes() <= 3000;
  detail::GpuHostStats stats;
  const SolveResult got = detail::solve_gpu_algorithm_on_host(net, params, &stats);
  ASSERT_EQ(got.status, Status::kOptimal) << what << ": " << got.message;
  EXPECT_EQ(got.total_cost, want_cost) << what;
  const Certificate cert = check_optimality(net, got.flow, got.potential);
  EXPECT_TRUE(cert.valid()) << what << ": " << cert.message;
  total.phases += stats.phases;
  total.skipped_phases += stats.skipped_phases;
  total.global_updates += stats.global_updates;
  total.fixed_arcs += stats.fixed_arcs;
  total.max_flow_rounds += stats.max_flow_rounds;
  total.early_exit = total.early_exit || stats.early_exit;
  EXPECT_GT(stats.work.launches(), 0) << what;
  EXPECT_GT(stats.work.bytes(), 0) << what;
}

// The dataset instances (datasets/mcf/EXPECTED.tsv: Firmament graphs, NETGEN, dumped
// allocation networks of every cost model) reach their known optimum. The steps must
// actually have run: phases skipped by refinement, arcs fixed, the early exit taken.
TEST(GpuAlgorithmHost, DatasetInstancesReachTheirKnownOptimum) {
  int instances = 0;
  detail::GpuHostStats total;
  for (const test::McfDataset& d : test::mcf_datasets()) {
    const DimacsReadResult read = read_dimacs_file(d.path);
    ASSERT_TRUE(read.ok) << d.file << ": " << read.error;
    expect_executor_optimal(read.network, d.optimal_cost, d.file, total, 11);
    ++instances;
  }
  EXPECT_GE(instances, 10);
  EXPECT_GT(total.skipped_phases, 0);
  EXPECT_GT(total.fixed_arcs, 0);
  EXPECT_GT(total.global_updates, 0);
  EXPECT_GT(total.max_flow_rounds, 0);
  EXPECT_TRUE(total.early_exit);
}

// Seeded instances of every generator family, against the CPU solver.
TEST(GpuAlgorithmHost, SeededFamiliesMatchCpuSolver) {
  detail::GpuHostStats total;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    std::vector<std::pair<std::string, Network>> nets;
    nets.emplace_back("quincy", generate_quincy(QuincyParams{.machines = 20, .tasks = 150, .seed = seed}));
    nets.emplace_back("netgen", generate_netgen(NetgenParams{.nodes = 64, .arcs = 512, .sources = 6, .sinks = 6,
                                                             .total_supply = 500, .seed = seed}));
    nets.emplace_back("grid", generate_grid(GridParams{.rows = 8, .cols = 8, .supply = 100, .seed = seed}));
    nets.emplace_back("assignment", generate_assignment(AssignmentParams{.n = 40, .degree = 5, .seed = seed}));
    for (const auto& [family, net] : nets) {
      const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
      ASSERT_EQ(cpu.status, Status::kOptimal) << family << " seed " << seed;
      expect_executor_optimal(net, cpu.total_cost, family + " seed " + std::to_string(seed), total, seed);
    }
  }
}

}  // namespace
}  // namespace sluice
