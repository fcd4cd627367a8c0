// WarmRounds: a round's network found in the kept one, and solved from the last optimum.
#include "warm_rounds.hpp"

#include <utility>

namespace sluice::detail {

std::size_t WarmRounds::ArcKeyHash::operator()(const ArcKey& k) const noexcept {
  // Keys are structured (kind in the top byte, small ids below): mix before combining.
  auto mix = [](std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
  };
  return static_cast<std::size_t>(mix(k.tail) ^ (mix(k.head + 0x9e3779b97f4a7c15ULL) << 1) ^ k.ordinal);
}

WarmRounds::WarmRounds(const SolveOptions& options) : options_(options), solver_(options) {
  // Every round is warm when there is an optimum to start from: a round edits a large share
  // of the arcs (each one's capacities and candidates), past what WarmMethod::kAuto would
  // still start warm from, yet starting from the kept basis is what pays here
  // (bench/results/allocate_warm_rounds/).
  solver_.set_method(WarmMethod::kNetworkSimplex);
}

SolveResult WarmRounds::solve(const BuiltNetwork& built) {
  ++round_;
  if (!started_) {
    start(built);
    SolveResult first = solver_.solve();
    if (first.status == Status::kOptimal) started_ = true;
    return first;
  }
  edit_to(built);
  SolveResult kept = solver_.solve();
  if (kept.status == Status::kOptimal) {
    ++warm_rounds_;
    return in_round_terms(std::move(kept));
  }
  if (kept.status == Status::kCancelled) return kept;
  // A kept network edited into this round's is this round's problem, so a warm solve can
  // fail only where a cold one would (or by a fault of the warm path): the round is solved
  // on its own network, and the next round starts from it.
  started_ = false;
  return solve(built);
}

void WarmRounds::start(const BuiltNetwork& built) {
  const Network& net = built.network;
  solver_.reset(net);
  node_of_.clear();
  arc_of_.clear();
  node_of_.reserve(static_cast<std::size_t>(net.num_nodes()));
  arc_of_.reserve(static_cast<std::size_t>(net.num_arcs()));
  node_round_.assign(static_cast<std::size_t>(net.num_nodes()), round_);
  arc_round_.assign(static_cast<std::size_t>(net.num_arcs()), round_);
  for (NodeId v = 0; v < net.num_nodes(); ++v) node_of_.emplace(built.node_keys[static_cast<std::size_t>(v)], v);
  ArcKey last;
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    ArcKey key{built.node_keys[static_cast<std::size_t>(net.tail(a))],
               built.node_keys[static_cast<std::size_t>(net.head(a))], 0};
    if (a > 0 && key.tail == last.tail && key.head == last.head) key.ordinal = last.ordinal + 1;
    arc_of_.emplace(key, a);  // a key seen twice keeps its first arc: the second is still solved, just not found
    last = key;
  }
}

void WarmRounds::edit_to(const BuiltNetwork& built) {
  const Network& net = built.network;
  node_map_.assign(static_cast<std::size_t>(net.num_nodes()), -1);
  arc_map_.assign(static_cast<std::size_t>(net.num_arcs()), -1);
  for (NodeId v = 0; v < net.num_nodes(); ++v) {
    const std::uint64_t key = built.node_keys[static_cast<std::size_t>(v)];
    const auto found = node_of_.find(key);
    NodeId kept = -1;
    if (found != node_of_.end() && node_round_[static_cast<std::size_t>(found->second)] != round_) {
      kept = found->second;
      if (solver_.network().supply(kept) != net.supply(v)) (void)solver_.set_supply(kept, net.supply(v));
    } else {
      kept = solver_.add_node(net.supply(v));
      node_round_.push_back(0);
      if (found == node_of_.end()) node_of_.emplace(key, kept);
    }
    node_round_[static_cast<std::size_t>(kept)] = round_;
    node_map_[static_cast<std::size_t>(v)] = kept;
  }
  const auto kept_nodes = static_cast<NodeId>(node_round_.size());
  for (NodeId u = 0; u < kept_nodes; ++u) {
    if (node_round_[static_cast<std::size_t>(u)] != round_ && solver_.network().supply(u) != 0) {
      (void)solver_.set_supply(u, 0);
    }
  }
  ArcKey last;
  for (ArcId a = 0; a < net.num_arcs(); ++a) {
    ArcKey key{built.node_keys[static_cast<std::size_t>(net.tail(a))],
               built.node_keys[static_cast<std::size_t>(net.head(a))], 0};
    if (a > 0 && key.tail == last.tail && key.head == last.head) key.ordinal = last.ordinal + 1;
    last = key;
    const auto found = arc_of_.find(key);
    ArcId kept = -1;
    if (found != arc_of_.end() && arc_round_[static_cast<std::size_t>(found->second)] != round_) {
      kept = found->second;
      const Network& k = solver_.network();
      if (k.lower(kept) != net.lower(a) || k.capacity(kept) != net.capacity(a)) {
        (void)solver_.set_bounds(kept, net.lower(a), net.capacity(a));
      }
      if (k.cost(kept) != net.cost(a)) (void)solver_.set_cost(kept, net.cost(a));
    } else {
      kept = solver_.add_arc(node_map_[static_cast<std::size_t>(net.tail(a))],
                             node_map_[static_cast<std::size_t>(net.head(a))], net.lower(a), net.capacity(a),
                             net.cost(a));
      arc_round_.push_back(0);
      if (found == arc_of_.end()) arc_of_.emplace(key, kept);
    }
    arc_round_[static_cast<std::size_t>(kept)] = round_;
    arc_map_[static_cast<std::size_t>(a)] = kept;
  }
  const auto kept_arcs = static_cast<ArcId>(arc_round_.size());
  for (ArcId b = 0; b < kept_arcs; ++b) {
    const Network& k = solver_.network();
    if (arc_round_[static_cast<std::size_t>(b)] != round_ && (k.capacity(b) != 0 || k.lower(b) != 0)) {
      (void)solver_.remove_arc(b);
    }
  }
}

SolveResult WarmRounds::in_round_terms(SolveResult kept) const {
  SolveResult out = std::move(kept);
  std::vector<std::int64_t> flow(arc_map_.size());
  for (std::size_t a = 0; a < arc_map_.size(); ++a) flow[a] = out.flow[static_cast<std::size_t>(arc_map_[a])];
  out.flow = std::move(flow);
  if (!out.potential.empty()) {
    std::vector<std::int64_t> potential(node_map_.size());
    for (std::size_t v = 0; v < node_map_.size(); ++v) {
      potential[v] = out.potential[static_cast<std::size_t>(node_map_[v])];
    }
    out.potential = std::move(potential);
  }
  return out;
}

}  // namespace sluice::detail
