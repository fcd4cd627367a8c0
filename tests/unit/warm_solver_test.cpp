// WarmSolver on hand-made cases: a warm solve after each kind of edit equals a cold solve
// and carries a valid certificate; bad edits are refused with the id named; infeasible,
// unbounded and overflowing edits come back as statuses and the solver is still usable
// (and still warm) once the edit is undone.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sluice/status.hpp"

#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "sluice/warm_solver.hpp"

namespace sluice {
namespace {

constexpr std::int64_t kInf = kInfiniteCapacity;

SolveOptions verified() {
  SolveOptions o;
  o.backend = Backend::kCpu;
  o.verify = true;
  return o;
}

// Two sources, two machines with a sink each side, an expensive overflow arc: a
// scheduling network in miniature.
Network small_network() {
  Network net(6);
  net.set_supply(0, 5);   // shape A
  net.set_supply(1, 3);   // shape B
  net.set_supply(5, -8);  // sink
  net.add_arc(0, 2, 0, 4, 1);     // 0: A -> machine 2
  net.add_arc(0, 3, 0, 4, 3);     // 1: A -> machine 3
  net.add_arc(1, 2, 0, 4, 2);     // 2: B -> machine 2
  net.add_arc(1, 3, 0, 4, 1);     // 3: B -> machine 3
  net.add_arc(2, 5, 0, 4, 0);     // 4: machine 2 -> sink
  net.add_arc(3, 5, 0, 4, 0);     // 5: machine 3 -> sink
  net.add_arc(0, 4, 0, kInf, 10);  // 6: A unscheduled
  net.add_arc(1, 4, 0, kInf, 10);  // 7: B unscheduled
  net.add_arc(4, 5, 0, kInf, 0);   // 8: unscheduled -> sink
  return net;
}

// The warm solve equals a cold solve of the same network, with a valid certificate.
void expect_matches_cold(WarmSolver& solver) {
  const SolveResult warm = solver.solve();
  const SolveResult cold = solve(solver.network(), verified());
  ASSERT_EQ(to_string(warm.status), to_string(cold.status)) << warm.message << " / " << cold.message;
  if (cold.status != Status::kOptimal) return;
  EXPECT_EQ(warm.total_cost, cold.total_cost);
  ASSERT_TRUE(warm.certificate.has_value());
  EXPECT_TRUE(warm.certificate->valid()) << warm.certificate->message;
}

TEST(WarmSolver, FirstSolveIsColdThenWarm) {
  WarmSolver solver(verified());
  solver.set_method(WarmMethod::kShortestPaths);
  solver.reset(small_network());
  EXPECT_FALSE(solver.warm());
  const SolveResult first = solver.solve();
  ASSERT_EQ(first.status, Status::kOptimal) << first.message;
  EXPECT_EQ(first.algorithm.find("warm"), std::string::npos);
  EXPECT_TRUE(solver.warm());
  const SolveResult again = solver.solve();
  ASSERT_EQ(again.status, Status::kOptimal) << again.message;
  EXPECT_NE(again.algorithm.find("warm"), std::string::npos);
  EXPECT_EQ(again.total_cost, first.total_cost);
  // Nothing changed: the kept flow is optimal as loaded, so no unit moves.
  EXPECT_EQ(again.stats.pushes, 0);
}

class WarmMethods : public ::testing::TestWithParam<WarmMethod> {};

TEST_P(WarmMethods, EachKindOfEditMatchesAColdSolve) {
  WarmSolver solver(verified());
  solver.set_method(GetParam());
  solver.reset(small_network());
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  {
    SCOPED_TRACE("capacity down below the flow");
    ASSERT_TRUE(solver.set_capacity(0, 1).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("capacity up");
    ASSERT_TRUE(solver.set_capacity(5, 9).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("cost change that reverses a preference");
    ASSERT_TRUE(solver.set_cost(1, -4).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("lower bound");
    ASSERT_TRUE(solver.set_bounds(2, 2, 4).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("supply moved between sources");
    ASSERT_TRUE(solver.set_supply(0, 2).ok());
    ASSERT_TRUE(solver.set_supply(1, 6).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("new node and arcs (a machine joins)");
    const NodeId m = solver.add_node();
    ASSERT_GE(solver.add_arc(0, m, 0, 3, 0), 0);
    ASSERT_GE(solver.add_arc(1, m, 0, 3, 0), 0);
    ASSERT_GE(solver.add_arc(m, 5, 0, 3, 0), 0);
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("arc removed");
    ASSERT_TRUE(solver.remove_arc(3).ok());
    expect_matches_cold(solver);
  }
  {
    SCOPED_TRACE("node retired (a machine leaves)");
    ASSERT_TRUE(solver.retire_node(2).ok());
    expect_matches_cold(solver);
  }
}

INSTANTIATE_TEST_SUITE_P(AllMethods, WarmMethods,
                         ::testing::Values(WarmMethod::kAuto, WarmMethod::kShortestPaths, WarmMethod::kCostScaling,
                                           WarmMethod::kNetworkSimplex, WarmMethod::kCold),
                         [](const ::testing::TestParamInfo<WarmMethod>& info) {
                           std::string name(to_string(info.param));
                           std::erase(name, '-');
                           return name;
                         });

TEST(WarmSolver, BadEditsNameTheIdAndChangeNothing) {
  WarmSolver solver(verified());
  solver.reset(small_network());
  const Validation arc = solver.set_capacity(99, 1);
  EXPECT_EQ(arc.status, Status::kInvalidInput);
  EXPECT_NE(arc.message.find("arc 99"), std::string::npos) << arc.message;
  const Validation node = solver.set_supply(-1, 1);
  EXPECT_NE(node.message.find("node -1"), std::string::npos) << node.message;
  const Validation bounds = solver.set_bounds(0, 5, 2);
  EXPECT_NE(bounds.message.find("lower <= capacity"), std::string::npos) << bounds.message;
  EXPECT_EQ(solver.network().lower(0), 0);
  EXPECT_EQ(solver.network().capacity(0), 4);
  EXPECT_EQ(solver.add_arc(0, 6, 0, 1, 1), -1);
  EXPECT_EQ(solver.network().num_arcs(), 9);
  EXPECT_FALSE(solver.retire_node(6).ok());
}

TEST_P(WarmMethods, InfeasibleEditIsAStatusAndTheSolverStaysWarm) {
  WarmSolver solver(verified());
  solver.set_method(GetParam());
  solver.reset(small_network());
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  ASSERT_TRUE(solver.set_capacity(8, 0).ok());  // nothing can wait unscheduled
  ASSERT_TRUE(solver.set_capacity(4, 1).ok());  // and the machines hold 5 < 8
  const SolveResult bad = solver.solve();
  EXPECT_EQ(bad.status, Status::kInfeasible);
  EXPECT_FALSE(bad.message.empty());
  EXPECT_TRUE(solver.warm());
  ASSERT_TRUE(solver.set_capacity(8, kInf).ok());
  const SolveResult good = solver.solve();
  ASSERT_EQ(good.status, Status::kOptimal) << good.message;
  if (GetParam() == WarmMethod::kShortestPaths || GetParam() == WarmMethod::kCostScaling ||
      GetParam() == WarmMethod::kNetworkSimplex) {
    EXPECT_NE(good.algorithm.find("warm"), std::string::npos) << good.algorithm;
  }
  expect_matches_cold(solver);
}

TEST_P(WarmMethods, UnbalancedAndUnboundedEditsAreStatuses) {
  WarmSolver solver(verified());
  solver.set_method(GetParam());
  solver.reset(small_network());
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  ASSERT_TRUE(solver.set_supply(0, 6).ok());
  EXPECT_EQ(solver.solve().status, Status::kUnbalanced);
  ASSERT_TRUE(solver.set_supply(0, 5).ok());
  // A negative cycle of infinite arcs: unscheduled -> A costs -20, A -> unscheduled 10.
  const ArcId back = solver.add_arc(4, 0, 0, kInf, -20);
  EXPECT_EQ(solver.solve().status, Status::kUnbounded);
  ASSERT_TRUE(solver.remove_arc(back).ok());
  expect_matches_cold(solver);
}

TEST_P(WarmMethods, CostOverflowIsAStatus) {
  WarmSolver solver(verified());
  solver.set_method(GetParam());
  solver.reset(small_network());
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  ASSERT_TRUE(solver.set_cost(0, std::int64_t{1} << 62).ok());
  EXPECT_EQ(solver.solve().status, Status::kCostOverflow);
  ASSERT_TRUE(solver.set_cost(0, 1).ok());
  expect_matches_cold(solver);
}

TEST(WarmSolver, OtherBackendsAreReportedAsAFallback) {
  SolveOptions o = verified();
  o.backend = Backend::kGpu;
  WarmSolver solver(o);
  solver.reset(small_network());
  const SolveResult first = solver.solve();
  ASSERT_EQ(first.status, Status::kOptimal);
  EXPECT_EQ(first.backend, Backend::kCpu);
  EXPECT_TRUE(first.fell_back);
  solver.set_method(WarmMethod::kCostScaling);
  const SolveResult warm = solver.solve();
  EXPECT_NE(warm.algorithm.find("warm"), std::string::npos) << warm.algorithm;
  EXPECT_TRUE(warm.fell_back);
  EXPECT_FALSE(warm.fallback_reason.empty());
}

TEST(WarmSolver, AutoPicksByTheShareOfArcsEdited) {
  // 1000 parallel arcs of rising cost; one edit is 0.1% of them, 150 edits are 15% (past
  // the 10% up to which the kept network simplex goes on warm).
  Network net(2);
  net.set_supply(0, 500);
  net.set_supply(1, -500);
  for (int i = 0; i < 1000; ++i) net.add_arc(0, 1, 0, 1, i);
  WarmSolver solver(verified());
  solver.reset(net);
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  ASSERT_TRUE(solver.set_cost(999, -1).ok());
  const SolveResult few = solver.solve();
  ASSERT_EQ(few.status, Status::kOptimal);
  // The first solve ran network simplex (one source of supply 500), so its basis is kept.
  EXPECT_EQ(few.algorithm, "network simplex, warm start");
  for (ArcId a = 0; a < 150; ++a) ASSERT_TRUE(solver.set_cost(a, 2000 + a).ok());
  const SolveResult many = solver.solve();
  ASSERT_EQ(many.status, Status::kOptimal);
  EXPECT_EQ(many.algorithm.find("warm"), std::string::npos) << many.algorithm;
  EXPECT_EQ(many.total_cost, solve(solver.network(), verified()).total_cost);
}

TEST(WarmSolver, ResetForgetsTheOptimum) {
  WarmSolver solver(verified());
  solver.reset(small_network());
  ASSERT_EQ(solver.solve().status, Status::kOptimal);
  Network other(2);
  other.set_supply(0, 1);
  other.set_supply(1, -1);
  other.add_arc(0, 1, 0, 1, 7);
  solver.reset(other);
  EXPECT_FALSE(solver.warm());
  const SolveResult r = solver.solve();
  ASSERT_EQ(r.status, Status::kOptimal);
  EXPECT_EQ(r.total_cost, 7);
}

}  // namespace
}  // namespace sluice
