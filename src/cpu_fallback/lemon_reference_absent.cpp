// Builds without LEMON: the reference backend reports itself unavailable.
#include "lemon_reference.hpp"

namespace sluice::detail {

bool lemon_available() { return false; }

SolveResult solve_with_lemon(const Network&, bool network_simplex) {
  SolveResult result;
  result.status = Status::kBackendUnavailable;
  result.backend = network_simplex ? Backend::kLemonNetworkSimplex : Backend::kLemonCostScaling;
  result.algorithm = network_simplex ? "LEMON NetworkSimplex" : "LEMON CostScaling";
  result.message = "this build has no LEMON (install liblemon-dev and reconfigure)";
  return result;
}

}  // namespace sluice::detail
