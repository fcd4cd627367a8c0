// A directed flow network: nodes with supplies, arcs with lower bounds, capacities and
// 64-bit costs. Stored as parallel arrays in arc-insertion order; solvers build their own
// residual (forward-star) representation from it.
//
// Conventions: node ids are 0-based; supply(v) > 0 means v is a source of that many
// units, < 0 a sink. A feasible flow f satisfies lower(a) <= f(a) <= capacity(a) and, at
// every node, outflow - inflow = supply(v). capacity == kInfiniteCapacity means unbounded.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sluice/status.hpp"

namespace sluice {

using NodeId = std::int32_t;
using ArcId = std::int32_t;

inline constexpr std::int64_t kInfiniteCapacity = std::numeric_limits<std::int64_t>::max();

// Networks up to this many arcs are accepted; solvers index residual arcs (2 per arc)
// with 32-bit integers.
inline constexpr std::int64_t kMaxArcs = (std::int64_t{1} << 30) - 1;
inline constexpr std::int64_t kMaxNodes = (std::int64_t{1} << 31) - 2;

struct Validation {
  Status status = Status::kOptimal;  // kOptimal here means "valid"
  std::string message;
  [[nodiscard]] bool ok() const { return status == Status::kOptimal; }
};

class Network {
 public:
  Network() = default;
  explicit Network(NodeId num_nodes) { resize_nodes(num_nodes); }

  // Adds a node and returns its id.
  NodeId add_node(std::int64_t supply = 0) {
    supply_.push_back(supply);
    return static_cast<NodeId>(supply_.size() - 1);
  }
  void resize_nodes(NodeId num_nodes) { supply_.resize(static_cast<std::size_t>(num_nodes), 0); }
  void set_supply(NodeId v, std::int64_t supply) { supply_[static_cast<std::size_t>(v)] = supply; }

  // Adds an arc and returns its id. Ids are not range-checked here: validate() does it.
  ArcId add_arc(NodeId tail, NodeId head, std::int64_t lower, std::int64_t capacity,
                std::int64_t cost) {
    tail_.push_back(tail);
    head_.push_back(head);
    lower_.push_back(lower);
    capacity_.push_back(capacity);
    cost_.push_back(cost);
    return static_cast<ArcId>(tail_.size() - 1);
  }
  // Change an arc in place (WarmSolver's edits). Ids are not range-checked here either.
  void set_bounds(ArcId a, std::int64_t lower, std::int64_t capacity) {
    lower_[static_cast<std::size_t>(a)] = lower;
    capacity_[static_cast<std::size_t>(a)] = capacity;
  }
  void set_cost(ArcId a, std::int64_t cost) { cost_[static_cast<std::size_t>(a)] = cost; }
  void reserve_arcs(std::size_t m) {
    tail_.reserve(m);
    head_.reserve(m);
    lower_.reserve(m);
    capacity_.reserve(m);
    cost_.reserve(m);
  }

  [[nodiscard]] NodeId num_nodes() const { return static_cast<NodeId>(supply_.size()); }
  [[nodiscard]] ArcId num_arcs() const { return static_cast<ArcId>(tail_.size()); }

  [[nodiscard]] std::int64_t supply(NodeId v) const { return supply_[static_cast<std::size_t>(v)]; }
  [[nodiscard]] NodeId tail(ArcId a) const { return tail_[static_cast<std::size_t>(a)]; }
  [[nodiscard]] NodeId head(ArcId a) const { return head_[static_cast<std::size_t>(a)]; }
  [[nodiscard]] std::int64_t lower(ArcId a) const { return lower_[static_cast<std::size_t>(a)]; }
  [[nodiscard]] std::int64_t capacity(ArcId a) const { return capacity_[static_cast<std::size_t>(a)]; }
  [[nodiscard]] std::int64_t cost(ArcId a) const { return cost_[static_cast<std::size_t>(a)]; }

  [[nodiscard]] const std::vector<std::int64_t>& supplies() const { return supply_; }
  [[nodiscard]] const std::vector<NodeId>& tails() const { return tail_; }
  [[nodiscard]] const std::vector<NodeId>& heads() const { return head_; }
  [[nodiscard]] const std::vector<std::int64_t>& lowers() const { return lower_; }
  [[nodiscard]] const std::vector<std::int64_t>& capacities() const { return capacity_; }
  [[nodiscard]] const std::vector<std::int64_t>& costs() const { return cost_; }

  // Checks the network and names the first problem found: size limits, node ids out of
  // range, negative capacity, lower > capacity, supplies that do not sum to zero, sums
  // that overflow 64 bits. Returns kInvalidInput, kUnbalanced or kCapacityOverflow.
  [[nodiscard]] Validation validate() const;

  // Bytes held by the arrays (for memory reports).
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  std::vector<std::int64_t> supply_;
  std::vector<NodeId> tail_;
  std::vector<NodeId> head_;
  std::vector<std::int64_t> lower_;
  std::vector<std::int64_t> capacity_;
  std::vector<std::int64_t> cost_;
};

}  // namespace sluice
