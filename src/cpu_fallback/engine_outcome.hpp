// What every CPU min-cost-flow engine returns after solving a residual graph in place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/status.hpp"

namespace sluice::detail {

struct EngineOutcome {
  Status status = Status::kOptimal;
  std::string message;                  // why, for every status but optimal
  std::vector<std::int64_t> potential;  // exact, in original costs (when optimal)
  bool warm_start = false;              // began from a kept state (network simplex's basis)
};

}  // namespace sluice::detail
