#include "solution.hpp"

#include <limits>
#include <utility>

namespace sluice::detail {

void read_solution(const Network& network, const ResidualGraph& g, std::vector<std::int64_t> potential,
                   SolveResult& result) {
  result.potential = std::move(potential);
  result.flow.resize(static_cast<std::size_t>(network.num_arcs()));
  __int128 total = 0;
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    const std::int64_t f = g.flow_of(network, a);
    result.flow[static_cast<std::size_t>(a)] = f;
    total += static_cast<__int128>(f) * network.cost(a);
  }
  if (total > std::numeric_limits<std::int64_t>::max() || total < std::numeric_limits<std::int64_t>::min()) {
    result.status = Status::kCostOverflow;
    result.message = "the optimal total cost does not fit in 64 bits";
    return;
  }
  result.total_cost = static_cast<std::int64_t>(total);
}

}  // namespace sluice::detail
