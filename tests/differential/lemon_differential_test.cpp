// Differential tests by family at moderate sizes: our CPU solver, LEMON NetworkSimplex and
// LEMON CostScaling on the same seeded instances must report the same status and cost,
// and every optimal answer, ours and LEMON's alike, must pass the optimality certificate
// (flow + potentials), so a disagreement names which side is wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>

#include "sluice/certificate.hpp"
#include "sluice/generators.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice {
namespace {

SolveResult run(const Network& net, Backend backend) {
  SolveOptions o;
  o.backend = backend;
  o.verify = true;
  return solve(net, o);
}

void expect_certified(const Network& net, const SolveResult& r, const char* who) {
  SCOPED_TRACE(who);
  ASSERT_EQ(r.flow.size(), static_cast<std::size_t>(net.num_arcs()));
  ASSERT_EQ(r.potential.size(), static_cast<std::size_t>(net.num_nodes()));
  const Certificate c = check_optimality(net, r.flow, r.potential);
  EXPECT_TRUE(c.valid()) << c.message;
  EXPECT_EQ(c.primal_cost, std::to_string(r.total_cost));
}

void compare_all(const Network& net) {
  ASSERT_TRUE(net.validate().ok()) << net.validate().message;
  const SolveResult cpu = run(net, Backend::kCpu);
  const SolveResult ns = run(net, Backend::kLemonNetworkSimplex);
  const SolveResult cs = run(net, Backend::kLemonCostScaling);
  ASSERT_EQ(to_string(ns.status), to_string(cs.status)) << "LEMON NetworkSimplex and CostScaling disagree";
  ASSERT_EQ(to_string(cpu.status), to_string(ns.status))
      << "cpu: " << cpu.message << " | LEMON: " << ns.message;
  if (cpu.status != Status::kOptimal) return;
  EXPECT_EQ(cpu.total_cost, ns.total_cost) << "cpu vs LEMON NetworkSimplex";
  EXPECT_EQ(cs.total_cost, ns.total_cost) << "LEMON CostScaling vs NetworkSimplex";
  ASSERT_TRUE(cpu.certificate.has_value());
  EXPECT_TRUE(cpu.certificate->valid()) << cpu.certificate->message;
  expect_certified(net, cpu, "cpu");
  expect_certified(net, ns, "LEMON NetworkSimplex");
  expect_certified(net, cs, "LEMON CostScaling");
  // Both of our CPU algorithms, whichever the rule picked above.
  for (const CpuAlgorithm algorithm : {CpuAlgorithm::kCostScaling, CpuAlgorithm::kNetworkSimplex}) {
    SCOPED_TRACE(std::string(to_string(algorithm)));
    SolveOptions o;
    o.backend = Backend::kCpu;
    o.cpu_algorithm = algorithm;
    o.verify = true;
    const SolveResult r = solve(net, o);
    ASSERT_EQ(to_string(r.status), to_string(ns.status)) << r.message;
    EXPECT_EQ(r.total_cost, ns.total_cost);
    expect_certified(net, r, "cpu");
  }
}

std::string sized(const char* family, std::uint64_t seed, std::int64_t size) {
  std::ostringstream s;
  s << "family " << family << " seed " << seed << " size " << size;
  return s.str();
}

TEST(LemonDifferential, Quincy) {
  const std::int32_t machines[] = {200, 500, 1000, 2000};
  std::uint64_t seed = 100;
  for (const std::int32_t m : machines) {
    for (int rep = 0; rep < 4; ++rep, ++seed) {
      QuincyParams p;
      p.machines = m;
      p.tasks = m * (rep % 2 == 0 ? 5 : 9);
      p.slots_per_machine = rep % 2 == 0 ? 12 : 8;
      p.seed = seed;
      SCOPED_TRACE(sized("quincy", seed, m) + " tasks " + std::to_string(p.tasks));
      compare_all(generate_quincy(p));
    }
  }
}

TEST(LemonDifferential, Netgen) {
  const std::int32_t nodes[] = {500, 1000, 2000, 5000};
  std::uint64_t seed = 200;
  for (const std::int32_t n : nodes) {
    for (int rep = 0; rep < 4; ++rep, ++seed) {
      NetgenParams p;
      p.nodes = n;
      p.arcs = n * (rep % 2 == 0 ? 8 : 4);
      p.sources = n / 20;
      p.sinks = n / 20;
      p.total_supply = 50 * n;
      p.min_cost = rep % 2 == 0 ? 1 : -1000;
      p.max_cost = 10000;
      p.min_cap = rep % 2 == 0 ? 1 : 50;
      p.max_cap = 1000;
      p.seed = seed;
      SCOPED_TRACE(sized("netgen", seed, n) + " arcs " + std::to_string(p.arcs));
      compare_all(generate_netgen(p));
    }
  }
}

TEST(LemonDifferential, Grid) {
  const std::int32_t sides[] = {20, 30, 45, 60};
  std::uint64_t seed = 300;
  for (const std::int32_t side : sides) {
    for (int rep = 0; rep < 4; ++rep, ++seed) {
      GridParams p;
      p.rows = side;
      p.cols = rep % 2 == 0 ? side : side / 2 + 1;
      p.supply = 20 * side;
      p.max_cost = rep % 2 == 0 ? 100 : 100000;
      p.max_cap = 100;
      p.seed = seed;
      SCOPED_TRACE(sized("grid", seed, side) + " cols " + std::to_string(p.cols));
      compare_all(generate_grid(p));
    }
  }
}

TEST(LemonDifferential, Assignment) {
  const std::int32_t sizes[] = {200, 500, 1000, 2000};
  std::uint64_t seed = 400;
  for (const std::int32_t n : sizes) {
    for (int rep = 0; rep < 4; ++rep, ++seed) {
      AssignmentParams p;
      p.n = n;
      p.degree = rep % 2 == 0 ? 10 : 4;
      p.max_cost = rep % 2 == 0 ? 1000 : 1'000'000;
      p.seed = seed;
      SCOPED_TRACE(sized("assignment", seed, n) + " degree " + std::to_string(p.degree));
      compare_all(generate_assignment(p));
    }
  }
}

}  // namespace
}  // namespace sluice
