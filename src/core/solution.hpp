// Reading a solved flow back into a SolveResult: the flow of every network arc
// in its own order, the total cost, and the potentials that prove the flow optimal. Every
// backend that works on a ResidualGraph ends this way.
#pragma once

#include <cstdint>
#include <vector>

#include "residual_graph.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice::detail {

// Fills result.flow, result.total_cost and result.potential; sets kCostOverflow (with a
// message) when the total does not fit in 64 bits, and leaves the status alone otherwise.
void read_solution(const Network& network, const ResidualGraph& g, std::vector<std::int64_t> potential,
                   SolveResult& result);

// The same from result.flow, already in the network's arc order (a solver that keeps its
// own arrays, such as the kept network simplex).
void set_total_cost(const Network& network, std::vector<std::int64_t> potential, SolveResult& result);

}  // namespace sluice::detail
