#include "lemon_reference.hpp"

#include <lemon/cost_scaling.h>
#include <lemon/network_simplex.h>
#include <lemon/static_graph.h>

#include <chrono>
#include <utility>
#include <vector>

#include "seconds_since.hpp"

namespace sluice::detail {
namespace {

template <typename Algo>
void run_lemon(const Network& network, const lemon::StaticDigraph& graph,
               const std::vector<lemon::StaticDigraph::Arc>& arc_of, SolveResult& result,
               Clock::time_point t0) {
  using Graph = lemon::StaticDigraph;
  Graph::ArcMap<std::int64_t> lower(graph), upper(graph), cost(graph);
  Graph::NodeMap<std::int64_t> supply(graph);
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    const auto arc = arc_of[static_cast<std::size_t>(a)];
    lower[arc] = network.lower(a);
    upper[arc] = network.capacity(a);
    cost[arc] = network.cost(a);
  }
  for (NodeId v = 0; v < network.num_nodes(); ++v) supply[graph.node(v)] = network.supply(v);
  Algo algo(graph);
  algo.lowerMap(lower).upperMap(upper).costMap(cost).supplyMap(supply);
  result.timings.setup_s = seconds_since(t0);
  const auto t1 = Clock::now();
  const auto status = algo.run();
  result.timings.solve_s = seconds_since(t1);
  if (status == Algo::INFEASIBLE) {
    result.status = Status::kInfeasible;
    result.message = "LEMON: no feasible flow";
    return;
  }
  if (status == Algo::UNBOUNDED) {
    result.status = Status::kUnbounded;
    result.message = "LEMON: a negative cycle of infinite capacity";
    return;
  }
  result.status = Status::kOptimal;
  result.flow.resize(static_cast<std::size_t>(network.num_arcs()));
  __int128 total = 0;
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    const std::int64_t f = algo.flow(arc_of[static_cast<std::size_t>(a)]);
    result.flow[static_cast<std::size_t>(a)] = f;
    total += static_cast<__int128>(f) * network.cost(a);
  }
  result.total_cost = static_cast<std::int64_t>(total);
  // LEMON's optimality condition is cost(uv) + pi(u) - pi(v) >= 0 for residual arcs, the
  // same sign convention as ours.
  result.potential.resize(static_cast<std::size_t>(network.num_nodes()));
  for (NodeId v = 0; v < network.num_nodes(); ++v) {
    result.potential[static_cast<std::size_t>(v)] = algo.potential(graph.node(v));
  }
}

}  // namespace

bool lemon_available() { return true; }

SolveResult solve_with_lemon(const Network& network, bool network_simplex) {
  SolveResult result;
  result.backend = network_simplex ? Backend::kLemonNetworkSimplex : Backend::kLemonCostScaling;
  result.algorithm = network_simplex ? "LEMON NetworkSimplex" : "LEMON CostScaling";
  const auto t0 = Clock::now();
  // StaticDigraph::build wants arcs sorted by source; keep the permutation.
  std::vector<std::pair<int, int>> arcs(static_cast<std::size_t>(network.num_arcs()));
  std::vector<ArcId> order(static_cast<std::size_t>(network.num_arcs()));
  {
    std::vector<std::int32_t> count(static_cast<std::size_t>(network.num_nodes()) + 1, 0);
    for (ArcId a = 0; a < network.num_arcs(); ++a) ++count[static_cast<std::size_t>(network.tail(a)) + 1];
    for (NodeId v = 0; v < network.num_nodes(); ++v) count[static_cast<std::size_t>(v) + 1] += count[static_cast<std::size_t>(v)];
    for (ArcId a = 0; a < network.num_arcs(); ++a) {
      const auto pos = static_cast<std::size_t>(count[static_cast<std::size_t>(network.tail(a))]++);
      arcs[pos] = {network.tail(a), network.head(a)};
      order[pos] = a;
    }
  }
  lemon::StaticDigraph graph;
  graph.build(network.num_nodes(), arcs.begin(), arcs.end());
  std::vector<lemon::StaticDigraph::Arc> arc_of(static_cast<std::size_t>(network.num_arcs()));
  for (std::size_t i = 0; i < order.size(); ++i) arc_of[static_cast<std::size_t>(order[i])] = graph.arc(static_cast<int>(i));
  arcs.clear();
  arcs.shrink_to_fit();
  if (network_simplex) {
    run_lemon<lemon::NetworkSimplex<lemon::StaticDigraph, std::int64_t, std::int64_t>>(
        network, graph, arc_of, result, t0);
  } else {
    run_lemon<lemon::CostScaling<lemon::StaticDigraph, std::int64_t, std::int64_t>>(
        network, graph, arc_of, result, t0);
  }
  return result;
}

}  // namespace sluice::detail
