// The re-solve rounds, step by step (white-box: src/host's steps driven as allocate.cpp
// drives them). For seeded snapshots of the generator and every cost model, each round's
// network is built twice from the same leftover state, aggregated and one node per task,
// and both optima must be equal; the aggregated flow is then packed and the next round
// built from what packing left. Every round's packing is checked against the machines'
// free resources, and the whole allocation against the snapshot (allocate_property_test
// checks the rest of the invariants on the final answers).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cluster_index.hpp"
#include "cost_models.hpp"
#include "network_builder.hpp"
#include "repair.hpp"
#include "sluice/allocate.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/solver.hpp"

namespace sluice {
namespace {

using namespace detail;

constexpr CostModel kModels[] = {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy,
                                 CostModel::kPriority,      CostModel::kFgd,     CostModel::kAlloc};

std::int64_t solve_cost(const Network& n, const std::string& what) {
  SolveOptions o;
  o.backend = Backend::kCpu;
  o.verify = true;
  const SolveResult r = solve(n, o);
  EXPECT_EQ(r.status, Status::kOptimal) << what << ": " << r.message;
  EXPECT_TRUE(r.certificate && r.certificate->valid()) << what;
  return r.total_cost;
}

// No machine's free amount of anything is negative.
void expect_nothing_negative(const std::vector<Resources>& free, const std::string& what) {
  for (std::size_t m = 0; m < free.size(); ++m) {
    const Resources& r = free[m];
    ASSERT_GE(r.cpu, 0) << what << ": machine " << m;
    ASSERT_GE(r.memory, 0) << what << ": machine " << m;
    for (const std::int32_t g : r.gpu_free) ASSERT_GE(g, 0) << what << ": machine " << m;
    for (const std::int64_t e : r.extra) ASSERT_GE(e, 0) << what << ": machine " << m;
  }
}

TEST(ResolveRounds, AggregatedAndPerTaskNetworksAgreeInEveryRound) {
  std::int64_t rounds_checked = 0;
  for (std::uint64_t seed = 0; seed < 24; ++seed) {
    SnapshotGenParams p;
    p.machines = 20 + static_cast<std::int32_t>(seed % 5) * 10;
    p.tasks = 150 + static_cast<std::int64_t>(seed % 7) * 60;
    p.running_share = std::vector<double>{0.0, 0.3}[seed % 2];
    p.gpu_machine_share = 0.5;
    p.shape_catalogue = seed % 3 == 0 ? 0 : 12;  // few shapes: many tasks per shape, so aggregation matters
    p.seed = seed + 100;
    const Snapshot snap = generate_snapshot(p);
    ASSERT_TRUE(validate(snap).ok()) << validate(snap).message;
    for (const CostModel model : kModels) {
      AllocateOptions o;
      o.cost_model = model;
      o.solve.backend = Backend::kCpu;
      const std::string what = "seed " + std::to_string(seed) + ", " + std::string(to_string(model));
      SCOPED_TRACE(what);
      Cluster cluster = index_cluster(snap, o);
      const CostContext costs = make_cost_context(cluster, snap, o);
      std::int64_t pending = 0;
      for (const Shape& s : cluster.shapes) pending += static_cast<std::int64_t>(s.pending.size());
      const AllocateOptions on = resolve_auto_options(o, costs, pending);
      AllocateOptions off = on;
      off.aggregate = false;

      // Round 0: the first solve.
      Cluster copy = cluster;
      const BuiltNetwork first = build_network(cluster, costs, on);
      const BuiltNetwork first_off = build_network(copy, costs, off);
      ASSERT_EQ(solve_cost(first.network, what), solve_cost(first_off.network, what)) << "round 0";
      SolveOptions so;
      so.backend = Backend::kCpu;
      const SolveResult solved = solve(first.network, so);
      ASSERT_EQ(solved.status, Status::kOptimal);
      Repairer repair(cluster, costs, on);
      std::vector<Move> left = repair.apply_first(read_flow(cluster, first, solved.flow, on));
      expect_nothing_negative(repair.free(), what + ", round 0");
      ++rounds_checked;

      // Re-solves from the same leftover state, both ways.
      for (int round = 1; round <= 32 && !left.empty(); ++round) {
        Cluster residual = residual_cluster(cluster, repair.free(), by_shape(cluster, left));
        Cluster residual_copy = residual;
        const BuiltNetwork again = build_network(residual, costs, on);
        const BuiltNetwork again_off = build_network(residual_copy, costs, off);
        ASSERT_EQ(solve_cost(again.network, what), solve_cost(again_off.network, what)) << "round " << round;
        const SolveResult r = solve(again.network, so);
        ASSERT_EQ(r.status, Status::kOptimal);
        const std::size_t before = left.size();
        left = repair.apply_resolve(residual, read_flow(residual, again, r.flow, on));
        expect_nothing_negative(repair.free(), what + ", round " + std::to_string(round));
        ++rounds_checked;
        if (left.size() == before) break;
      }
    }
  }
  std::printf("[ rounds ] %lld rounds compared\n", static_cast<long long>(rounds_checked));
  EXPECT_GT(rounds_checked, 24 * 6 * 2);  // re-solves happened, not only first solves
}

}  // namespace
}  // namespace sluice
