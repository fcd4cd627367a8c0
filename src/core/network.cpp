// Network validation: names the first problem found, so a caller can fix its input.
#include <string>

#include "sluice/network.hpp"

namespace sluice {
namespace {

std::string arc_label(const Network& n, ArcId a) {
  return "arc " + std::to_string(a) + " (" + std::to_string(n.tail(a)) + " -> " +
         std::to_string(n.head(a)) + ")";
}

}  // namespace

Validation Network::validate() const {
  Validation v;
  const std::int64_t nodes = static_cast<std::int64_t>(supply_.size());
  const std::int64_t arcs = static_cast<std::int64_t>(tail_.size());
  if (nodes > kMaxNodes) {
    return {Status::kInvalidInput, "too many nodes: " + std::to_string(nodes) + " (limit " +
                                       std::to_string(kMaxNodes) + ")"};
  }
  if (arcs > kMaxArcs) {
    return {Status::kInvalidInput, "too many arcs: " + std::to_string(arcs) + " (limit " +
                                       std::to_string(kMaxArcs) + ")"};
  }
  if (head_.size() != tail_.size() || lower_.size() != tail_.size() ||
      capacity_.size() != tail_.size() || cost_.size() != tail_.size()) {
    return {Status::kInvalidInput, "arc arrays have different lengths"};
  }
  // 128-bit running sums: neither supplies nor finite capacities may add up past 64 bits,
  // since excesses and flows are held in 64-bit integers.
  __int128 finite_capacity_sum = 0;
  for (ArcId a = 0; a < arcs; ++a) {
    const NodeId t = tail_[static_cast<std::size_t>(a)];
    const NodeId h = head_[static_cast<std::size_t>(a)];
    if (t < 0 || t >= nodes) {
      return {Status::kInvalidInput, arc_label(*this, a) + ": tail node out of range [0, " +
                                         std::to_string(nodes) + ")"};
    }
    if (h < 0 || h >= nodes) {
      return {Status::kInvalidInput, arc_label(*this, a) + ": head node out of range [0, " +
                                         std::to_string(nodes) + ")"};
    }
    const std::int64_t lo = lower_[static_cast<std::size_t>(a)];
    const std::int64_t cap = capacity_[static_cast<std::size_t>(a)];
    if (cap < 0) {
      return {Status::kInvalidInput,
              arc_label(*this, a) + ": negative capacity " + std::to_string(cap)};
    }
    if (lo > cap) {
      return {Status::kInvalidInput, arc_label(*this, a) + ": lower bound " + std::to_string(lo) +
                                         " exceeds capacity " + std::to_string(cap)};
    }
    if (lo == kInfiniteCapacity || lo < -kInfiniteCapacity) {
      return {Status::kInvalidInput,
              arc_label(*this, a) + ": lower bound " + std::to_string(lo) + " is not finite"};
    }
    if (cost_[static_cast<std::size_t>(a)] == std::numeric_limits<std::int64_t>::min()) {
      return {Status::kCostOverflow, arc_label(*this, a) + ": cost -2^63 cannot be negated"};
    }
    if (cap != kInfiniteCapacity) finite_capacity_sum += cap;
    finite_capacity_sum += lo < 0 ? -static_cast<__int128>(lo) : lo;
  }
  __int128 supply_sum = 0;
  __int128 positive_supply = 0;
  for (std::int64_t i = 0; i < nodes; ++i) {
    const std::int64_t b = supply_[static_cast<std::size_t>(i)];
    if (b == std::numeric_limits<std::int64_t>::min()) {
      return {Status::kInvalidInput, "node " + std::to_string(i) + ": supply out of range"};
    }
    supply_sum += b;
    if (b > 0) positive_supply += b;
  }
  constexpr __int128 kLimit = std::numeric_limits<std::int64_t>::max();
  if (positive_supply + finite_capacity_sum > kLimit) {
    return {Status::kCapacityOverflow,
            "total supply plus finite capacities exceeds 2^63-1; flows could overflow 64 bits"};
  }
  if (supply_sum != 0) {
    return {Status::kUnbalanced, "supplies sum to " + std::to_string(static_cast<std::int64_t>(supply_sum)) +
                                     ", not 0 (total supply must equal total demand)"};
  }
  return v;
}

std::size_t Network::memory_bytes() const {
  return supply_.capacity() * sizeof(std::int64_t) + tail_.capacity() * sizeof(NodeId) +
         head_.capacity() * sizeof(NodeId) +
         (lower_.capacity() + capacity_.capacity() + cost_.capacity()) * sizeof(std::int64_t);
}

}  // namespace sluice
