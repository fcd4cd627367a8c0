// Property tests: thousands of seeded random instances, each solved by our CPU solver and
// by LEMON's NetworkSimplex (the reference). For every instance:
//   - the statuses agree (unbalanced supplies, decided here by summing them, must be
//     reported as kUnbalanced by both, since solve() validates before any backend);
//   - when optimal, the total costs agree and our certificate is valid (feasibility,
//     complementary slackness, primal = dual), and LEMON's flow and potentials pass the
//     same certificate (so the checker is exercised on a second, independent answer);
//   - on a subset, LEMON's CostScaling and our solver with other options agree too.
// The seed and family are in every failure message (SCOPED_TRACE), and the instance
// itself, in DIMACS, is printed once when an instance fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/certificate.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "sluice/status.hpp"

namespace sluice {
namespace {

constexpr std::int64_t kInf = kInfiniteCapacity;
// A test stops after this many failing instances, each printed in full.
constexpr int kMaxReportedFailures = 10;

// --- a small local generator ------------------------------------------------------------

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi] (modulo bias is irrelevant here).
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(span == 0 ? engine_() : engine_() % span);
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

enum class SupplyMode {
  kFromFlow,     // supplies are the divergence of a random flow within bounds: feasible
  kRandom,       // random balanced supplies: often infeasible
  kUnbalanced,   // from a flow, then one node perturbed
};

struct Shape {
  std::int64_t min_nodes = 2;
  std::int64_t max_nodes = 60;
};

struct RandomInstance {
  Network net;
  std::string description;
  bool may_be_unbounded = false;  // negative-cost infinite arcs present
};

RandomInstance random_instance(std::uint64_t seed, const Shape& shape) {
  Rng rng(seed);
  RandomInstance out;
  const auto n = static_cast<NodeId>(rng.in(shape.min_nodes, shape.max_nodes));
  const std::int64_t m = rng.in(0, 4 * static_cast<std::int64_t>(n));
  const std::int64_t cost_range = std::vector<std::int64_t>{3, 100, 10'000, 1'000'000}[rng.in(0, 3)];
  const std::int64_t cap_range = std::vector<std::int64_t>{1, 10, 1000}[rng.in(0, 2)];
  const double p_self = rng.chance(0.5) ? 0.05 : 0.0;
  const double p_parallel = rng.chance(0.5) ? 0.15 : 0.0;
  const double p_zero = rng.chance(0.5) ? 0.08 : 0.0;
  const double p_inf = std::vector<double>{0.0, 0.1, 0.4}[rng.in(0, 2)];
  const double p_lower = rng.chance(0.4) ? 0.2 : 0.0;
  const double p_negative_cost = std::vector<double>{0.0, 0.2, 0.5}[rng.in(0, 2)];
  const SupplyMode mode = rng.chance(0.6)   ? SupplyMode::kFromFlow
                          : rng.chance(0.8) ? SupplyMode::kRandom
                                            : SupplyMode::kUnbalanced;
  // Negative infinite arcs only where the instance is feasible by construction, so that
  // "infeasible and unbounded at once" (where solvers may legitimately differ) never arises.
  const bool negative_infinite = mode == SupplyMode::kFromFlow && rng.chance(0.3);

  out.net.resize_nodes(n);
  std::vector<std::int64_t> flow;
  for (std::int64_t i = 0; i < m; ++i) {
    NodeId t = static_cast<NodeId>(rng.in(0, n - 1));
    NodeId h = static_cast<NodeId>(rng.in(0, n - 1));
    if (out.net.num_arcs() > 0 && rng.chance(p_parallel)) {
      const auto prev = static_cast<ArcId>(rng.in(0, out.net.num_arcs() - 1));
      t = out.net.tail(prev);
      h = out.net.head(prev);
    } else if (rng.chance(p_self)) {
      h = t;
    } else if (t == h) {
      h = static_cast<NodeId>((h + 1) % n);
    }
    std::int64_t cost = rng.in(0, cost_range);
    if (rng.chance(p_negative_cost)) cost = -cost;
    std::int64_t cap = rng.chance(p_zero) ? 0 : rng.in(1, cap_range);
    std::int64_t lower = 0;
    if (rng.chance(p_lower)) lower = rng.chance(0.3) ? -rng.in(0, cap_range) : rng.in(0, cap);
    std::int64_t f = 0;
    if (rng.chance(p_inf)) {
      if (cost < 0 && !negative_infinite) cost = -cost;
      if (cost < 0) out.may_be_unbounded = true;
      f = lower + rng.in(0, cap_range);
      cap = kInf;
    } else {
      lower = std::min(lower, cap);
      f = rng.in(lower, cap);
    }
    out.net.add_arc(t, h, lower, cap, cost);
    flow.push_back(f);
  }

  std::vector<std::int64_t> supply(static_cast<std::size_t>(n), 0);
  if (mode == SupplyMode::kRandom) {
    const std::int64_t pairs = rng.in(1, std::max<std::int64_t>(1, n / 3));
    for (std::int64_t i = 0; i < pairs; ++i) {
      const std::int64_t amount = rng.in(0, cap_range * 2);
      supply[static_cast<std::size_t>(rng.in(0, n - 1))] += amount;
      supply[static_cast<std::size_t>(rng.in(0, n - 1))] -= amount;
    }
  } else {
    for (ArcId a = 0; a < out.net.num_arcs(); ++a) {
      supply[static_cast<std::size_t>(out.net.tail(a))] += flow[static_cast<std::size_t>(a)];
      supply[static_cast<std::size_t>(out.net.head(a))] -= flow[static_cast<std::size_t>(a)];
    }
    if (mode == SupplyMode::kUnbalanced) {
      const std::int64_t delta = rng.chance(0.5) ? rng.in(1, 5) : -rng.in(1, 5);
      supply[static_cast<std::size_t>(rng.in(0, n - 1))] += delta;
    }
  }
  for (NodeId v = 0; v < n; ++v) out.net.set_supply(v, supply[static_cast<std::size_t>(v)]);

  std::ostringstream d;
  d << "n=" << n << " m=" << m << " C=" << cost_range << " U=" << cap_range
    << " mode=" << static_cast<int>(mode) << " neg_inf=" << negative_infinite;
  out.description = d.str();
  return out;
}

// --- the comparison ---------------------------------------------------------------------

std::string dimacs_text(const Network& net) {
  std::ostringstream out;
  write_dimacs(out, net);
  std::string s = out.str();
  if (s.size() > 20000) s = s.substr(0, 20000) + "\n... (truncated)\n";
  return s;
}

bool supplies_balanced(const Network& net) {
  __int128 sum = 0;
  for (const std::int64_t b : net.supplies()) sum += b;
  return sum == 0;
}

bool has_infinite_arc(const Network& net) {
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    if (net.capacity(a) == kInf) return true;
  }
  return false;
}

SolveResult run(const Network& net, Backend backend) {
  SolveOptions o;
  o.backend = backend;
  o.verify = true;
  return solve(net, o);
}

// Our CPU backend with one algorithm (and, for network simplex, a pricing block factor).
SolveResult run_cpu(const Network& net, CpuAlgorithm algorithm, double block_factor = 0) {
  SolveOptions o;
  o.backend = Backend::kCpu;
  o.cpu_algorithm = algorithm;
  o.ns_block_factor = block_factor;
  o.verify = true;
  return solve(net, o);
}

// Our result against a reference result on the same network.
void expect_same(const Network& net, const SolveResult& ours, const SolveResult& ref,
                 const char* what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(to_string(ours.status), to_string(ref.status))
      << "ours: " << ours.message << " | reference: " << ref.message;
  if (ours.status != Status::kOptimal) return;
  EXPECT_EQ(ours.total_cost, ref.total_cost);
  ASSERT_TRUE(ours.certificate.has_value());
  EXPECT_TRUE(ours.certificate->valid()) << ours.certificate->message;
  // The reference's own answer must pass our certificate as well.
  const Certificate ref_cert = check_optimality(net, ref.flow, ref.potential);
  EXPECT_TRUE(ref_cert.valid()) << "reference flow/potentials: " << ref_cert.message;
}

// Failures recorded so far in the running test (successful assertions record nothing).
int failed_parts() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

struct Counters {
  int instances = 0;
  int optimal = 0;
  int infeasible = 0;
  int unbounded = 0;
  int unbalanced = 0;
  int failures = 0;
};

// Checks one instance; `extra` selects the subset compared against LEMON CostScaling and
// against our solver run with non-default options.
void check_instance(const Network& net, std::uint64_t seed, bool extra, Counters& counts) {
  const int parts_before = failed_parts();
  ++counts.instances;
  const SolveResult ours = run_cpu(net, CpuAlgorithm::kCostScaling);
  // Network simplex on every instance too, its pricing blocks varied by seed (tiny blocks,
  // the rule's choice, LEMON's √m, large).
  const double block_factor = std::vector<double>{0.01, 0, 1.0, 4.0}[static_cast<std::size_t>(seed % 4)];
  const SolveResult simplex = run_cpu(net, CpuAlgorithm::kNetworkSimplex, block_factor);
  if (!supplies_balanced(net)) {
    EXPECT_EQ(simplex.status, Status::kUnbalanced) << simplex.message;
    ++counts.unbalanced;
    EXPECT_EQ(ours.status, Status::kUnbalanced) << ours.message;
    EXPECT_FALSE(ours.message.empty());
    EXPECT_EQ(run(net, Backend::kLemonNetworkSimplex).status, Status::kUnbalanced);
  } else {
    const SolveResult ns = run(net, Backend::kLemonNetworkSimplex);
    expect_same(net, ours, ns, "cpu vs LEMON NetworkSimplex");
    {
      SCOPED_TRACE("block factor " + std::to_string(block_factor));
      expect_same(net, simplex, ns, "cpu network simplex vs LEMON NetworkSimplex");
    }
    if (ours.status == Status::kOptimal) ++counts.optimal;
    if (ours.status == Status::kInfeasible) {
      ++counts.infeasible;
      EXPECT_FALSE(ours.message.empty());
    }
    if (ours.status == Status::kUnbounded) ++counts.unbounded;
    if (extra) {
      // LEMON's CostScaling reports UNBOUNDED for any negative-cost arc of infinite
      // capacity, cycle or not (a documented limitation), and with infinite arcs it was
      // seen to return flows that fail the certificate (seed 1591732 of random-tiny: a
      // self loop below its lower bound), so it is compared only without infinite arcs.
      if (!has_infinite_arc(net)) {
        expect_same(net, ours, run(net, Backend::kLemonCostScaling), "cpu vs LEMON CostScaling");
      }
      // Our solver with other knobs must find the same optimum.
      SolveOptions o;
      o.backend = Backend::kCpu;
      o.cpu_algorithm = CpuAlgorithm::kCostScaling;
      o.verify = true;
      // 0-2: other scaling factors; 3: no price refinement; 4: push/relabel discharge
      // without look-ahead; 5: no global updates; 6: push/relabel with look-ahead;
      // 7: no early exit.
      const int variant = static_cast<int>(seed % 8);
      o.scale_factor = std::vector<int>{2, 3, 7, 0, 0, 0, 0, 0}[static_cast<std::size_t>(variant)];
      o.price_refinement = variant != 3;
      o.partial_augment = variant != 4 && variant != 6;
      o.push_lookahead = variant != 4;
      o.global_updates = variant != 5;
      o.early_exit = variant != 7;
      SCOPED_TRACE("cpu option variant " + std::to_string(variant));
      expect_same(net, solve(net, o), ns, "cpu(variant) vs LEMON NetworkSimplex");
    }
  }
  if (failed_parts() > parts_before) {
    ++counts.failures;
    ADD_FAILURE() << "failing instance (seed " << seed << "):\n" << dimacs_text(net);
  }
}

void report(const char* family, const Counters& c) {
  std::printf("[ %-10s ] %d instances: %d optimal, %d infeasible, %d unbounded, %d unbalanced\n",
              family, c.instances, c.optimal, c.infeasible, c.unbounded, c.unbalanced);
}

// --- random instances -------------------------------------------------------------------

TEST(SolverProperty, RandomSmall) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 10000 && counts.failures < kMaxReportedFailures; ++seed) {
    const RandomInstance inst = random_instance(seed, Shape{2, 60});
    SCOPED_TRACE("family random-small seed " + std::to_string(seed) + " " + inst.description);
    check_instance(inst.net, seed, seed % 4 == 0, counts);
  }
  report("random", counts);
  // The generator must actually produce every outcome, or the test proves little
  // (checked only when the loop ran to the end).
  if (counts.failures == 0) {
    EXPECT_GT(counts.optimal, 3000);
    EXPECT_GT(counts.infeasible, 300);
    EXPECT_GT(counts.unbounded, 50);
    EXPECT_GT(counts.unbalanced, 300);
  }
}

TEST(SolverProperty, RandomTiny) {
  // 1-4 nodes: dense in self loops, parallel arcs and degenerate shapes.
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 5000 && counts.failures < kMaxReportedFailures; ++seed) {
    const RandomInstance inst = random_instance(seed * 7919 + 13, Shape{1, 4});
    SCOPED_TRACE("family random-tiny seed " + std::to_string(seed * 7919 + 13) + " " +
                 inst.description);
    check_instance(inst.net, seed * 7919 + 13, seed % 3 == 0, counts);
  }
  report("tiny", counts);
}

TEST(SolverProperty, RandomMedium) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 400 && counts.failures < kMaxReportedFailures; ++seed) {
    const std::uint64_t s = 1'000'000 + seed;
    const RandomInstance inst = random_instance(s, Shape{100, 400});
    SCOPED_TRACE("family random-medium seed " + std::to_string(s) + " " + inst.description);
    check_instance(inst.net, s, seed % 4 == 0, counts);
  }
  report("medium", counts);
}

// --- the library generators, random small parameters ---------------------------------------

TEST(SolverProperty, Quincy) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 1000 && counts.failures < kMaxReportedFailures; ++seed) {
    Rng rng(seed * 31 + 1);
    QuincyParams p;
    p.machines = static_cast<std::int32_t>(rng.in(1, 40));
    p.tasks = static_cast<std::int32_t>(rng.in(1, 200));
    p.jobs = static_cast<std::int32_t>(rng.in(0, 6));
    p.machines_per_rack = static_cast<std::int32_t>(rng.in(1, 12));
    p.slots_per_machine = static_cast<std::int32_t>(rng.in(1, 5));
    p.preferred_machines = static_cast<std::int32_t>(rng.in(0, 5));
    p.preferred_racks = static_cast<std::int32_t>(rng.in(0, 3));
    p.seed = seed;
    std::ostringstream d;
    d << "family quincy seed " << seed << " machines=" << p.machines << " tasks=" << p.tasks
      << " jobs=" << p.jobs << " per_rack=" << p.machines_per_rack
      << " slots=" << p.slots_per_machine << " pref=" << p.preferred_machines << "/"
      << p.preferred_racks;
    SCOPED_TRACE(d.str());
    check_instance(generate_quincy(p), seed, seed % 3 == 0, counts);
  }
  report("quincy", counts);
}

TEST(SolverProperty, Netgen) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 1000 && counts.failures < kMaxReportedFailures; ++seed) {
    Rng rng(seed * 37 + 2);
    NetgenParams p;
    p.nodes = static_cast<std::int32_t>(rng.in(2, 150));
    p.arcs = static_cast<std::int32_t>(rng.in(0, 8 * p.nodes));
    p.sources = static_cast<std::int32_t>(rng.in(1, 12));
    p.sinks = static_cast<std::int32_t>(rng.in(1, 12));
    p.total_supply = rng.in(0, 2000);
    p.min_cost = rng.in(-100, 10);
    p.max_cost = rng.in(p.min_cost, 10'000);
    p.min_cap = rng.in(0, 10);
    p.max_cap = rng.in(p.min_cap, 500);
    p.seed = seed;
    std::ostringstream d;
    d << "family netgen seed " << seed << " nodes=" << p.nodes << " arcs=" << p.arcs
      << " sources=" << p.sources << " sinks=" << p.sinks << " supply=" << p.total_supply
      << " cost=[" << p.min_cost << "," << p.max_cost << "] cap=[" << p.min_cap << ","
      << p.max_cap << "]";
    SCOPED_TRACE(d.str());
    check_instance(generate_netgen(p), seed, seed % 3 == 0, counts);
  }
  report("netgen", counts);
}

TEST(SolverProperty, Grid) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 1000 && counts.failures < kMaxReportedFailures; ++seed) {
    Rng rng(seed * 41 + 3);
    GridParams p;
    p.rows = static_cast<std::int32_t>(rng.in(1, 12));
    p.cols = static_cast<std::int32_t>(rng.in(1, 12));
    p.supply = rng.in(0, 600);
    p.max_cost = rng.in(1, 1000);
    p.max_cap = rng.in(1, 200);
    p.seed = seed;
    std::ostringstream d;
    d << "family grid seed " << seed << " rows=" << p.rows << " cols=" << p.cols
      << " supply=" << p.supply << " max_cost=" << p.max_cost << " max_cap=" << p.max_cap;
    SCOPED_TRACE(d.str());
    check_instance(generate_grid(p), seed, seed % 3 == 0, counts);
  }
  report("grid", counts);
}

TEST(SolverProperty, Assignment) {
  Counters counts;
  for (std::uint64_t seed = 1; seed <= 1000 && counts.failures < kMaxReportedFailures; ++seed) {
    Rng rng(seed * 43 + 4);
    AssignmentParams p;
    p.n = static_cast<std::int32_t>(rng.in(1, 80));
    p.degree = static_cast<std::int32_t>(rng.in(0, 12));
    p.max_cost = rng.in(0, 100'000);
    p.seed = seed;
    std::ostringstream d;
    d << "family assignment seed " << seed << " n=" << p.n << " degree=" << p.degree
      << " max_cost=" << p.max_cost;
    SCOPED_TRACE(d.str());
    check_instance(generate_assignment(p), seed, seed % 3 == 0, counts);
  }
  report("assignment", counts);
}

}  // namespace
}  // namespace sluice
