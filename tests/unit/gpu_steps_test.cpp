// The GPU solver's label and compaction steps on their own (kernels/distance_ops.cuh,
// kernels/host_executor/select_host.hpp): frontier compaction returns what
// cub::DeviceSelect::Flagged returns (the flagged indices, stable), and the frontier sweeps
// of the global price update and the max-flow global relabel reach the exact shortest
// distances in every interleaving the executor draws, against a sequential Bellman-Ford.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gpu_algorithm_host.hpp"
#include "residual_graph.hpp"
#include "select_host.hpp"
#include "sluice/network.hpp"
#include "support/random_network.hpp"

namespace sluice {
namespace {

TEST(SelectFlagged, ReturnsTheFlaggedIndicesInOrder) {
  std::mt19937_64 rng(7);
  for (const std::int32_t n : {0, 1, 5, 2047, 2048, 2049, 10000}) {
    for (const std::int32_t tile : {1, 7, 256, 2048}) {
      for (const double density : {0.0, 0.01, 0.5, 1.0}) {
        std::bernoulli_distribution pick(density);
        std::vector<std::uint8_t> flags(static_cast<std::size_t>(n));
        for (auto& f : flags) f = pick(rng) ? static_cast<std::uint8_t>(1 + rng() % 255) : 0;
        std::vector<std::int32_t> want;
        for (std::int32_t i = 0; i < n; ++i) {
          if (flags[static_cast<std::size_t>(i)] != 0) want.push_back(i);
        }
        std::vector<std::int32_t> got(static_cast<std::size_t>(n) + 1, -1);
        detail::SelectWork work;
        const std::int32_t count = detail::select_flagged(flags.data(), n, got.data(), tile, &work);
        got.resize(static_cast<std::size_t>(count));
        EXPECT_EQ(got, want) << "n " << n << ", tile " << tile << ", density " << density;
        if (n > 0) {
          EXPECT_EQ(work.tiles, (n + tile - 1) / tile);
        }
      }
    }
  }
}

// The residual graph of a random network with its supplies as excesses, zero prices, as a
// RoundState.
detail::RoundState state_of(const Network& net) {
  const detail::ResidualGraph g = detail::build_residual_graph(net);
  detail::RoundState s;
  s.first = g.first;
  s.head = g.head;
  s.rev = g.rev;
  s.cost = g.cost;
  s.rescap = g.rescap;
  s.excess = g.excess;
  s.price.assign(g.excess.size(), 0);
  return s;
}

// Sequential Bellman-Ford: distance from every node to the nearest node with negative
// excess over residual arcs, capped at limit; eps > 0: lengths floor(c_p/ε) + 1, else 1.
std::vector<std::int64_t> reference_distances(const detail::RoundState& s, std::int64_t eps, std::int64_t limit) {
  const auto n = static_cast<std::int32_t>(s.excess.size());
  std::vector<std::int64_t> d(static_cast<std::size_t>(n), limit);
  for (std::int32_t v = 0; v < n; ++v) {
    if (s.excess[static_cast<std::size_t>(v)] < 0) d[static_cast<std::size_t>(v)] = 0;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (std::int32_t v = 0; v < n; ++v) {
      for (std::int32_t e = s.first[static_cast<std::size_t>(v)]; e < s.first[static_cast<std::size_t>(v) + 1]; ++e) {
        const auto ez = static_cast<std::size_t>(e);
        if (s.rescap[ez] <= 0) continue;
        const auto w = static_cast<std::size_t>(s.head[ez]);
        if (d[w] >= limit) continue;
        std::int64_t len = 1;
        if (eps > 0) {
          const std::int64_t rc = s.cost[ez] + s.price[static_cast<std::size_t>(v)] - s.price[w];
          len = rc < 0 ? 0 : rc / eps + 1;
        }
        if (d[w] + len < d[static_cast<std::size_t>(v)]) {
          d[static_cast<std::size_t>(v)] = d[w] + len;
          changed = true;
        }
      }
    }
  }
  return d;
}

TEST(FrontierSweeps, ReachExactDistancesInEveryInterleaving) {
  int compared = 0;
  for (std::uint64_t seed = 300; seed < 500; ++seed) {
    const Network net = test::random_network(seed, 40);
    detail::RoundState s = state_of(net);
    const auto n = static_cast<std::int64_t>(s.excess.size());
    std::int64_t max_cost = 1;
    for (const std::int64_t c : s.cost) max_cost = std::max(max_cost, c < 0 ? -c : c);
    // ε above every |cost|: zero prices are ε-optimal, lengths are 0, 1 or 2.
    for (const std::int64_t eps : {std::int64_t{0}, max_cost + 1, (max_cost + 1) / 2 + 1}) {
      if (eps > 0 && eps <= max_cost) continue;
      for (const std::int64_t limit : {n, n + 1, std::int64_t{3}}) {
        const std::vector<std::int64_t> want = reference_distances(s, eps, limit);
        for (const double stale : {0.0, 0.5, 1.0}) {
          detail::GpuHostParams params;
          params.seed = seed * 31 + static_cast<std::uint64_t>(stale * 10);
          params.stale_probability = stale;
          const std::vector<std::int64_t> got = detail::run_distances(s, eps, limit, params);
          ASSERT_EQ(got, want) << "seed " << seed << ", eps " << eps << ", limit " << limit << ", stale " << stale;
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

}  // namespace
}  // namespace sluice
