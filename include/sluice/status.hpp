// Outcomes of every Sluice operation, as data. Exceptions never cross the public API.
#pragma once

#include <optional>
#include <string_view>

namespace sluice {

enum class Status {
  kOptimal,             // flow and potentials returned, optimality provable
  kInfeasible,          // no flow meets the supplies within the bounds
  kUnbounded,           // a negative-cost cycle of infinite capacity exists
  kUnbalanced,          // supplies do not sum to zero
  kCostOverflow,        // scaled costs or potentials would not fit in 64 bits
  kCapacityOverflow,    // supplies or capacities sum past what 64 bits hold
  kInvalidInput,        // malformed network (bad node id, lower > upper, ...)
  kBackendUnavailable,  // the requested backend is not present in this build or machine
  kBackendError,        // the backend failed (e.g. a CUDA error) and no fallback ran
  kCancelled,           // the caller's cancel flag was raised (a deadline passed)
};

constexpr std::string_view to_string(Status s) {
  switch (s) {
    case Status::kOptimal: return "optimal";
    case Status::kInfeasible: return "infeasible";
    case Status::kUnbounded: return "unbounded";
    case Status::kUnbalanced: return "unbalanced";
    case Status::kCostOverflow: return "cost-overflow";
    case Status::kCapacityOverflow: return "capacity-overflow";
    case Status::kInvalidInput: return "invalid-input";
    case Status::kBackendUnavailable: return "backend-unavailable";
    case Status::kBackendError: return "backend-error";
    case Status::kCancelled: return "cancelled";
  }
  return "unknown";
}

constexpr std::optional<Status> parse_status(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Status::kCancelled); ++i) {
    if (to_string(static_cast<Status>(i)) == name) return static_cast<Status>(i);
  }
  return std::nullopt;
}

}  // namespace sluice
