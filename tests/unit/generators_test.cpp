// Tests for the seeded instance generators: determinism, validity, the documented
// node/arc count formulas, structural promises (distinct preferences, no self loops) and
// feasibility by construction, checked with a small max-flow (Dinic) written here so the
// test does not depend on any solver under test.
#include "sluice/generators.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

#include "sluice/network.hpp"

namespace sluice {
namespace {

bool same_network(const Network& a, const Network& b) {
  return a.supplies() == b.supplies() && a.tails() == b.tails() && a.heads() == b.heads() &&
         a.lowers() == b.lowers() && a.capacities() == b.capacities() && a.costs() == b.costs();
}

std::int64_t supply_sum(const Network& net) {
  return std::accumulate(net.supplies().begin(), net.supplies().end(), std::int64_t{0});
}

// Feasibility oracle: Dinic's max flow from a super source (to every supply node) to a
// super sink (from every demand node); feasible iff it saturates all supplies. Assumes
// zero lower bounds, which every generator uses.
bool feasible(const Network& net) {
  struct Edge {
    std::int32_t to;
    std::int64_t cap;
  };
  const std::int32_t n = net.num_nodes() + 2;
  const std::int32_t s = n - 2;
  const std::int32_t t = n - 1;
  std::vector<Edge> edges;
  std::vector<std::vector<std::int32_t>> adj(static_cast<std::size_t>(n));
  auto add = [&](std::int32_t u, std::int32_t v, std::int64_t cap) {
    adj[static_cast<std::size_t>(u)].push_back(static_cast<std::int32_t>(edges.size()));
    edges.push_back({v, cap});
    adj[static_cast<std::size_t>(v)].push_back(static_cast<std::int32_t>(edges.size()));
    edges.push_back({u, 0});
  };
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    if (net.lower(a) != 0) return false;
    add(net.tail(a), net.head(a), net.capacity(a));
  }
  std::int64_t need = 0;
  for (NodeId v = 0; v < net.num_nodes(); ++v) {
    if (net.supply(v) > 0) {
      add(s, v, net.supply(v));
      need += net.supply(v);
    } else if (net.supply(v) < 0) {
      add(v, t, -net.supply(v));
    }
  }
  std::vector<std::int32_t> level(static_cast<std::size_t>(n));
  std::vector<std::size_t> next(static_cast<std::size_t>(n));
  auto bfs = [&] {
    std::fill(level.begin(), level.end(), -1);
    std::vector<std::int32_t> queue{s};
    level[static_cast<std::size_t>(s)] = 0;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      const std::int32_t u = queue[i];
      for (std::int32_t e : adj[static_cast<std::size_t>(u)]) {
        const Edge& ed = edges[static_cast<std::size_t>(e)];
        if (ed.cap > 0 && level[static_cast<std::size_t>(ed.to)] < 0) {
          level[static_cast<std::size_t>(ed.to)] = level[static_cast<std::size_t>(u)] + 1;
          queue.push_back(ed.to);
        }
      }
    }
    return level[static_cast<std::size_t>(t)] >= 0;
  };
  auto dfs = [&](auto&& self, std::int32_t u, std::int64_t pushed) -> std::int64_t {
    if (u == t) return pushed;
    auto& i = next[static_cast<std::size_t>(u)];
    for (; i < adj[static_cast<std::size_t>(u)].size(); ++i) {
      const std::int32_t e = adj[static_cast<std::size_t>(u)][i];
      Edge& ed = edges[static_cast<std::size_t>(e)];
      if (ed.cap <= 0 ||
          level[static_cast<std::size_t>(ed.to)] != level[static_cast<std::size_t>(u)] + 1)
        continue;
      const std::int64_t got = self(self, ed.to, std::min(pushed, ed.cap));
      if (got > 0) {
        ed.cap -= got;
        edges[static_cast<std::size_t>(e ^ 1)].cap += got;
        return got;
      }
    }
    return 0;
  };
  std::int64_t flow = 0;
  while (bfs()) {
    std::fill(next.begin(), next.end(), 0);
    while (std::int64_t f = dfs(dfs, s, std::numeric_limits<std::int64_t>::max())) flow += f;
  }
  return flow == need;
}

// Node and arc counts documented in datasets/generators.cpp for generate_quincy.
struct QuincyCounts {
  std::int64_t nodes;
  std::int64_t arcs;
};
QuincyCounts quincy_counts(std::int64_t machines, std::int64_t tasks, std::int64_t jobs,
                           std::int64_t per_rack, std::int64_t pref_machines,
                           std::int64_t pref_racks) {
  const std::int64_t racks = (machines + per_rack - 1) / per_rack;
  return {tasks + jobs + racks + machines + 2,
          tasks * (2 + pref_machines + pref_racks) + racks + 3 * machines + jobs};
}

std::vector<Network> one_of_each(std::uint64_t seed, int scale) {
  QuincyParams q;
  q.machines = 20 * scale;
  q.tasks = 150 * scale;
  q.seed = seed;
  NetgenParams g;
  g.nodes = 64 * scale;
  g.arcs = 512 * scale;
  g.seed = seed;
  GridParams r;
  r.rows = 4 * scale;
  r.cols = 6 * scale;
  r.seed = seed;
  AssignmentParams a;
  a.n = 30 * scale;
  a.degree = 5;
  a.seed = seed;
  return {generate_quincy(q), generate_netgen(g), generate_grid(r), generate_assignment(a)};
}

TEST(Generators, SameSeedGivesIdenticalNetworks) {
  const auto first = one_of_each(42, 2);
  const auto second = one_of_each(42, 2);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_TRUE(same_network(first[i], second[i])) << "family " << i;
  }
}

// FNV-1a over supplies and every arc field, byte by byte.
std::uint64_t fingerprint(const Network& net) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::int64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (static_cast<std::uint64_t>(v) >> (8 * i)) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  for (std::int64_t s : net.supplies()) mix(s);
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    mix(net.tail(a));
    mix(net.head(a));
    mix(net.lower(a));
    mix(net.capacity(a));
    mix(net.cost(a));
  }
  return h;
}

// Pins the exact output at default parameters, so benchmark instances stay the same
// across compilers and standard libraries (checked with GCC and Clang). A deliberate
// change to a generator must update these values and say so.
TEST(Generators, DefaultInstancesMatchGoldenFingerprints) {
  EXPECT_EQ(fingerprint(generate_quincy(QuincyParams{})), 0x7b5c8c01538b12afull);
  EXPECT_EQ(fingerprint(generate_netgen(NetgenParams{})), 0x65b5c3eace94a4b3ull);
  EXPECT_EQ(fingerprint(generate_grid(GridParams{})), 0xe42f73b68e53901aull);
  EXPECT_EQ(fingerprint(generate_assignment(AssignmentParams{})), 0xb2122eda84a61ac2ull);
}

TEST(Generators, DifferentSeedsGiveDifferentNetworks) {
  const auto a = one_of_each(1, 2);
  const auto b = one_of_each(2, 2);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_FALSE(same_network(a[i], b[i])) << "family " << i;
  }
}

TEST(Generators, EveryFamilyValidatesBalancesAndIsFeasible) {
  for (std::uint64_t seed : {1u, 2u, 3u, 17u, 12345u}) {
    for (int scale : {1, 2, 5}) {
      const auto nets = one_of_each(seed, scale);
      for (std::size_t i = 0; i < nets.size(); ++i) {
        const Network& net = nets[i];
        SCOPED_TRACE(testing::Message()
                     << "seed " << seed << " scale " << scale << " family " << i);
        const Validation v = net.validate();
        EXPECT_TRUE(v.ok()) << v.message;
        EXPECT_GT(net.num_nodes(), 0);
        EXPECT_EQ(supply_sum(net), 0);
        for (ArcId a = 0; a < net.num_arcs(); ++a) {
          ASSERT_NE(net.tail(a), net.head(a)) << "self loop at arc " << a;
          ASSERT_GE(net.capacity(a), 0);
          ASSERT_EQ(net.lower(a), 0);
        }
        EXPECT_TRUE(feasible(net));
      }
    }
  }
}

TEST(Generators, DegenerateParametersAreClampedToValidNetworks) {
  QuincyParams q;
  q.machines = 0;
  q.tasks = -5;
  q.jobs = 100;  // more jobs than tasks
  q.machines_per_rack = 0;
  q.slots_per_machine = 0;
  q.preferred_machines = 50;
  q.preferred_racks = -1;
  NetgenParams g;
  g.nodes = 0;
  g.arcs = 0;
  g.sources = 0;
  g.sinks = 99;
  g.total_supply = -3;
  g.min_cost = 10;
  g.max_cost = 1;  // swapped range
  GridParams r;
  r.rows = 0;
  r.cols = -1;
  r.supply = 5;
  r.max_cost = 0;
  r.max_cap = 0;
  AssignmentParams a;
  a.n = 0;
  a.degree = 10;
  for (const Network& net :
       {generate_quincy(q), generate_netgen(g), generate_grid(r), generate_assignment(a)}) {
    const Validation v = net.validate();
    EXPECT_TRUE(v.ok()) << v.message;
    EXPECT_GT(net.num_nodes(), 0);
    EXPECT_EQ(supply_sum(net), 0);
    EXPECT_TRUE(feasible(net));
  }
  // Quincy clamps: 1 machine, 1 task, 1 job, 1 rack, preferences 1 machine and 0 racks.
  const Network qn = generate_quincy(q);
  const QuincyCounts c = quincy_counts(1, 1, 1, 1, 1, 0);
  EXPECT_EQ(qn.num_nodes(), c.nodes);
  EXPECT_EQ(qn.num_arcs(), c.arcs);
}

TEST(Quincy, CountsMatchTheDocumentedFormula) {
  struct Case {
    std::int32_t machines, tasks, jobs, per_rack, pref_machines, pref_racks;
  };
  for (const Case& k :
       {Case{100, 1000, 0, 40, 6, 2}, Case{41, 333, 7, 40, 6, 2}, Case{5, 50, 3, 2, 9, 9},
        Case{1, 1, 0, 1, 0, 0}, Case{300, 2500, 1, 16, 3, 1}}) {
    QuincyParams p;
    p.machines = k.machines;
    p.tasks = k.tasks;
    p.jobs = k.jobs;
    p.machines_per_rack = k.per_rack;
    p.preferred_machines = k.pref_machines;
    p.preferred_racks = k.pref_racks;
    const Network net = generate_quincy(p);
    const std::int64_t jobs = k.jobs > 0 ? std::min(k.jobs, k.tasks) : std::max(1, k.tasks / 100);
    const std::int64_t racks = (k.machines + k.per_rack - 1) / k.per_rack;
    const QuincyCounts c =
        quincy_counts(k.machines, k.tasks, jobs, k.per_rack, std::min(k.pref_machines, k.machines),
                      std::min<std::int64_t>(k.pref_racks, racks));
    EXPECT_EQ(net.num_nodes(), c.nodes) << k.machines << " machines";
    EXPECT_EQ(net.num_arcs(), c.arcs) << k.machines << " machines";
  }
}

TEST(Quincy, StructureSuppliesAndDistinctPreferences) {
  QuincyParams p;
  p.machines = 97;
  p.tasks = 2000;
  p.jobs = 13;
  p.machines_per_rack = 10;
  p.slots_per_machine = 7;
  p.seed = 9;
  const Network net = generate_quincy(p);
  const NodeId first_unsched = p.tasks;
  const NodeId cluster = first_unsched + p.jobs;
  const NodeId first_rack = cluster + 1;
  const std::int32_t racks = 10;
  const NodeId first_machine = first_rack + racks;
  const NodeId sink = first_machine + p.machines;
  ASSERT_EQ(net.num_nodes(), sink + 1);
  for (NodeId t = 0; t < p.tasks; ++t) EXPECT_EQ(net.supply(t), 1);
  EXPECT_EQ(net.supply(sink), -p.tasks);
  for (NodeId v = p.tasks; v < sink; ++v) EXPECT_EQ(net.supply(v), 0);

  // Per task: one wait arc, one X arc, 6 distinct machines, 2 distinct racks.
  std::vector<std::set<NodeId>> machines(static_cast<std::size_t>(p.tasks)),
      rack_set(static_cast<std::size_t>(p.tasks));
  std::vector<int> wait(static_cast<std::size_t>(p.tasks)), to_x(static_cast<std::size_t>(p.tasks));
  std::vector<std::int64_t> job_size(static_cast<std::size_t>(p.jobs));
  std::vector<std::int64_t> unsched_cap(static_cast<std::size_t>(p.jobs));
  std::int64_t machine_sink_cap = 0;
  std::vector<NodeId> task_job(static_cast<std::size_t>(p.tasks), -1);
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    const NodeId u = net.tail(a);
    const NodeId v = net.head(a);
    if (u < p.tasks) {
      const auto t = static_cast<std::size_t>(u);
      EXPECT_EQ(net.capacity(a), 1);
      if (v >= first_unsched && v < cluster) {
        ++wait[t];
        task_job[t] = v - first_unsched;
        ++job_size[static_cast<std::size_t>(v - first_unsched)];
      } else if (v == cluster) {
        ++to_x[t];
      } else if (v >= first_machine && v < sink) {
        EXPECT_TRUE(machines[t].insert(v).second) << "task " << u << " repeats machine " << v;
      } else {
        ASSERT_GE(v, first_rack);
        ASSERT_LT(v, first_machine);
        EXPECT_TRUE(rack_set[t].insert(v).second) << "task " << u << " repeats rack " << v;
      }
    } else if (u >= first_unsched && u < cluster) {
      EXPECT_EQ(v, sink);
      unsched_cap[static_cast<std::size_t>(u - first_unsched)] += net.capacity(a);
    } else if (u >= first_machine && u < sink) {
      EXPECT_EQ(v, sink);
      machine_sink_cap += net.capacity(a);
    }
  }
  for (std::size_t t = 0; t < static_cast<std::size_t>(p.tasks); ++t) {
    EXPECT_EQ(wait[t], 1);
    EXPECT_EQ(to_x[t], 1);
    EXPECT_EQ(machines[t].size(), 6u);
    EXPECT_EQ(rack_set[t].size(), 2u);
  }
  // Jobs are contiguous blocks; each U_j drains exactly its job's tasks.
  for (std::size_t t = 1; t < task_job.size(); ++t) EXPECT_GE(task_job[t], task_job[t - 1]);
  for (std::size_t j = 0; j < job_size.size(); ++j) {
    EXPECT_GT(job_size[j], 0);
    EXPECT_EQ(unsched_cap[j], job_size[j]);
  }
  EXPECT_EQ(machine_sink_cap, std::int64_t{p.machines} * p.slots_per_machine);
}

// The headline size: about 166k nodes and 1.5M arcs (within 10%).
TEST(Quincy, PaperScaleInstanceHasExpectedSize) {
  QuincyParams p;
  p.machines = 12500;
  p.tasks = 150000;
  const Network net = generate_quincy(p);
  EXPECT_NEAR(static_cast<double>(net.num_nodes()), 166000.0, 16600.0);
  EXPECT_NEAR(static_cast<double>(net.num_arcs()), 1.5e6, 1.5e5);
  const Validation v = net.validate();
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(supply_sum(net), 0);
}

TEST(Assignment, OwnJobPlusDistinctOthers) {
  AssignmentParams p;
  p.n = 50;
  p.degree = 49;  // everyone to everyone: the distinct sampler's hardest case
  p.max_cost = 7;
  const Network net = generate_assignment(p);
  ASSERT_EQ(net.num_nodes(), 100);
  ASSERT_EQ(net.num_arcs(), 50 * 50);
  std::vector<std::set<NodeId>> jobs(50);
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    const NodeId w = net.tail(a);
    ASSERT_LT(w, 50);
    ASSERT_GE(net.head(a), 50);
    EXPECT_TRUE(jobs[static_cast<std::size_t>(w)].insert(net.head(a)).second);
    EXPECT_GE(net.cost(a), 0);
    EXPECT_LE(net.cost(a), 7);
  }
  for (NodeId w = 0; w < 50; ++w) {
    EXPECT_EQ(jobs[static_cast<std::size_t>(w)].size(), 50u);
    EXPECT_TRUE(jobs[static_cast<std::size_t>(w)].count(50 + w));
  }
}

TEST(Grid, CountsAndRanges) {
  GridParams p;
  p.rows = 7;
  p.cols = 11;
  p.max_cost = 9;
  p.max_cap = 4;
  const Network net = generate_grid(p);
  EXPECT_EQ(net.num_nodes(), 7 * 11 + 2);
  EXPECT_EQ(net.num_arcs(), 2 * (7 * 10 + 11 * 6) + 2 * 7 + 1);
  const NodeId source = 77;
  const NodeId sink = 78;
  EXPECT_EQ(net.supply(source), p.supply);
  EXPECT_EQ(net.supply(sink), -p.supply);
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    if (net.tail(a) < source && net.head(a) < source) {
      EXPECT_GE(net.cost(a), 1);
      EXPECT_LE(net.cost(a), 9);
      EXPECT_GE(net.capacity(a), 1);
      EXPECT_LE(net.capacity(a), 4);
    }
  }
}

TEST(Netgen, SuppliesAndRanges) {
  NetgenParams p;
  p.nodes = 200;
  p.arcs = 3000;
  p.sources = 10;
  p.sinks = 12;
  p.total_supply = 5000;
  p.min_cost = -5;
  p.max_cost = 20;
  p.min_cap = 3;
  p.max_cap = 40;
  p.seed = 77;
  const Network net = generate_netgen(p);
  EXPECT_EQ(net.num_nodes(), 200);
  EXPECT_EQ(net.num_arcs(), 3000);
  std::int64_t out = 0;
  for (NodeId v = 0; v < 10; ++v) {
    EXPECT_GE(net.supply(v), 1);
    out += net.supply(v);
  }
  EXPECT_EQ(out, 5000);
  for (NodeId v = 200 - 12; v < 200; ++v) EXPECT_LE(net.supply(v), -1);
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    EXPECT_GE(net.cost(a), -5);
    EXPECT_LE(net.cost(a), 20);
    EXPECT_GE(net.capacity(a), 3);  // skeleton arcs may exceed max_cap, never go below min
  }
  EXPECT_TRUE(feasible(net));
}

TEST(Family, NamesRoundTrip) {
  for (Family f : {Family::kQuincy, Family::kNetgen, Family::kGrid, Family::kAssignment}) {
    const auto parsed = parse_family(to_string(f));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_EQ(to_string(Family::kQuincy), "quincy");
  EXPECT_EQ(parse_family("assignment"), Family::kAssignment);
  EXPECT_FALSE(parse_family("").has_value());
  EXPECT_FALSE(parse_family("dimacs").has_value());
}

}  // namespace
}  // namespace sluice
