#include "solution.hpp"

#include <limits>
#include <utility>

namespace sluice::detail {

void read_solution(const Network& network, const ResidualGraph& g, std::vector<std::int64_t> potential,
                   SolveResult& result) {
  result.flow.resize(static_cast<std::size_t>(network.num_arcs()));
  for (ArcId a = 0; a < network.num_arcs(); ++a) result.flow[static_cast<std::size_t>(a)] = g.flow_of(network, a);
  set_total_cost(network, std::move(potential), result);
}

void set_total_cost(const Network& network, std::vector<std::int64_t> potential, SolveResult& result) {
  result.potential = std::move(potential);
  __int128 total = 0;
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    total += static_cast<__int128>(result.flow[static_cast<std::size_t>(a)]) * network.cost(a);
  }
  if (total > std::numeric_limits<std::int64_t>::max() || total < std::numeric_limits<std::int64_t>::min()) {
    result.status = Status::kCostOverflow;
    result.message = "the optimal total cost does not fit in 64 bits";
    return;
  }
  result.total_cost = static_cast<std::int64_t>(total);
}

}  // namespace sluice::detail
