// The re-solve rounds of one allocation (allocate.cpp, step 5) as edits to one kept network.
//
// Each round builds its network afresh over the residual cluster: the same sink and
// machines, the shapes still without a machine, candidate arcs chosen again. Solved from
// nothing, the first rounds cost about as much as the first solve. Yet most of a round's
// network is the last round's: its nodes are found in the kept network by what they stand
// for (BuiltNetwork::node_keys), its arcs by their two ends and their order among parallel
// arcs (a machine's sink slices). The round then becomes edits to the kept network
// (supplies, bounds and costs that changed, arcs it adds, arcs it no longer has closed) and
// the warm solver (sluice/warm_solver.hpp) starts from the last round's optimum.
//
// The kept network only grows (a closed arc keeps its id), over at most max_resolves rounds.
// Results are given per node and arc of the round's own network, with the same optimal cost:
// the kept network is that network plus closed arcs and nodes without supply or open arcs.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "network_builder.hpp"
#include "sluice/solver.hpp"
#include "sluice/warm_solver.hpp"

namespace sluice::detail {

class WarmRounds {
 public:
  explicit WarmRounds(const SolveOptions& options);

  // Solves a round's network (node_keys set): the first call from nothing, later ones from
  // the last optimum. A warm solve that does not end optimal (a cancel aside) is repeated
  // cold on the round's network, and the next round starts afresh from it.
  [[nodiscard]] SolveResult solve(const BuiltNetwork& built);

  // Rounds solved warm so far (for the allocation's trace).
  [[nodiscard]] std::int32_t warm_rounds() const { return warm_rounds_; }

 private:
  struct ArcKey {
    std::uint64_t tail = 0;
    std::uint64_t head = 0;
    std::uint32_t ordinal = 0;  // among consecutive arcs with the same ends
    bool operator==(const ArcKey&) const = default;
  };
  struct ArcKeyHash {
    std::size_t operator()(const ArcKey& k) const noexcept;
  };

  void start(const BuiltNetwork& built);
  // Edits the kept network into the round's; fills node_map_ and arc_map_.
  void edit_to(const BuiltNetwork& built);
  [[nodiscard]] SolveResult in_round_terms(SolveResult kept) const;

  SolveOptions options_;
  WarmSolver solver_;
  bool started_ = false;
  std::int32_t warm_rounds_ = 0;
  std::uint32_t round_ = 0;
  std::unordered_map<std::uint64_t, NodeId> node_of_;  // key → kept node
  std::unordered_map<ArcKey, ArcId, ArcKeyHash> arc_of_;
  std::vector<std::uint32_t> node_round_;  // per kept node: the last round that used it
  std::vector<std::uint32_t> arc_round_;   // per kept arc: the last round that used it
  std::vector<NodeId> node_map_;           // per node of the round: its kept node
  std::vector<ArcId> arc_map_;             // per arc of the round: its kept arc
};

}  // namespace sluice::detail
