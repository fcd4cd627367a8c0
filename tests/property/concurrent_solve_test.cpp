// solve() keeps no shared state: independent problems solved on several threads at once
// (as the service's worker pool will do, one request per core) give exactly the results
// of solving them one after another, each with a valid certificate.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "sluice/generators.hpp"
#include "sluice/solver.hpp"

namespace {

TEST(ConcurrentSolve, ThreadsGiveTheSequentialResults) {
  std::vector<sluice::Network> networks;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    sluice::QuincyParams q;
    q.machines = 200 + static_cast<std::int32_t>(seed) * 20;
    q.tasks = 2000 + static_cast<std::int32_t>(seed) * 100;
    q.seed = seed;
    networks.push_back(sluice::generate_quincy(q));
    sluice::NetgenParams g;
    g.nodes = 800;
    g.arcs = 8000;
    g.seed = seed;
    networks.push_back(sluice::generate_netgen(g));
  }
  sluice::SolveOptions options;
  options.backend = sluice::Backend::kCpu;
  options.verify = true;
  std::vector<sluice::SolveResult> sequential;
  for (const auto& net : networks) sequential.push_back(sluice::solve(net, options));

  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<sluice::SolveResult> parallel(networks.size());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t i = t; i < networks.size(); i += threads) parallel[i] = sluice::solve(networks[i], options);
    });
  }
  for (auto& th : pool) th.join();

  for (std::size_t i = 0; i < networks.size(); ++i) {
    SCOPED_TRACE("instance " + std::to_string(i));
    ASSERT_EQ(sequential[i].status, sluice::Status::kOptimal) << sequential[i].message;
    EXPECT_EQ(parallel[i].status, sequential[i].status);
    EXPECT_EQ(parallel[i].total_cost, sequential[i].total_cost);
    EXPECT_EQ(parallel[i].flow, sequential[i].flow);  // the solver is deterministic
    ASSERT_TRUE(parallel[i].certificate.has_value());
    EXPECT_TRUE(parallel[i].certificate->valid()) << parallel[i].certificate->message;
  }
}

}  // namespace
