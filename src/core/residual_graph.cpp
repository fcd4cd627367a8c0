#include "residual_graph.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <vector>

namespace sluice::detail {

std::size_t ResidualGraph::memory_bytes() const {
  return first.capacity() * 4 + head.capacity() * 4 + rev.capacity() * 4 + cost.capacity() * 8 +
         rescap.capacity() * 8 + fwd.capacity() * 4 + excess.capacity() * 8;
}

bool has_negative_infinite_cycle(const Network& network) {
  // Queue-based Bellman-Ford from a virtual source joined to every node by a 0-cost arc,
  // over infinite-capacity arcs only. A shortest path of n or more arcs repeats a node, so
  // it contains a negative cycle. (Counting relaxations instead is wrong: parallel arcs
  // and several paths can improve one node n times with no cycle at all.)
  const NodeId n = network.num_nodes();
  std::vector<std::int32_t> out_first(static_cast<std::size_t>(n) + 1, 0);
  std::vector<ArcId> out_arcs;
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    if (network.capacity(a) == kInfiniteCapacity) ++out_first[static_cast<std::size_t>(network.tail(a)) + 1];
  }
  for (NodeId v = 0; v < n; ++v) out_first[static_cast<std::size_t>(v) + 1] += out_first[static_cast<std::size_t>(v)];
  if (out_first.back() == 0) return false;
  out_arcs.resize(static_cast<std::size_t>(out_first.back()));
  {
    std::vector<std::int32_t> next(out_first.begin(), out_first.end() - 1);
    for (ArcId a = 0; a < network.num_arcs(); ++a) {
      if (network.capacity(a) == kInfiniteCapacity) {
        if (network.tail(a) == network.head(a) && network.cost(a) < 0) return true;
        out_arcs[static_cast<std::size_t>(next[static_cast<std::size_t>(network.tail(a))]++)] = a;
      }
    }
  }
  std::vector<__int128> dist(static_cast<std::size_t>(n), 0);
  std::vector<std::int32_t> hops(static_cast<std::size_t>(n), 0);
  std::vector<char> queued(static_cast<std::size_t>(n), 1);
  std::deque<NodeId> queue;
  for (NodeId v = 0; v < n; ++v) queue.push_back(v);
  while (!queue.empty()) {
    const NodeId u = queue.front();
    queue.pop_front();
    queued[static_cast<std::size_t>(u)] = 0;
    for (std::int32_t i = out_first[static_cast<std::size_t>(u)]; i < out_first[static_cast<std::size_t>(u) + 1]; ++i) {
      const ArcId a = out_arcs[static_cast<std::size_t>(i)];
      const NodeId w = network.head(a);
      const __int128 d = dist[static_cast<std::size_t>(u)] + network.cost(a);
      if (d < dist[static_cast<std::size_t>(w)]) {
        dist[static_cast<std::size_t>(w)] = d;
        hops[static_cast<std::size_t>(w)] = hops[static_cast<std::size_t>(u)] + 1;
        if (hops[static_cast<std::size_t>(w)] >= n) return true;
        if (!queued[static_cast<std::size_t>(w)]) {
          queued[static_cast<std::size_t>(w)] = 1;
          queue.push_back(w);
        }
      }
    }
  }
  return false;
}

std::int64_t infinite_capacity_bound(const Network& network) {
  // Total supply after lower-bound shifts plus all finite capacities: no optimal flow puts
  // more on one arc (it is paths from sources plus cycles through finite arcs). validate()
  // guaranteed it fits in 64 bits.
  const std::vector<std::int64_t>& caps = network.capacities();
  if (std::find(caps.begin(), caps.end(), kInfiniteCapacity) == caps.end()) return 0;
  __int128 bound = 1;
  std::vector<std::int64_t> excess(network.supplies().begin(), network.supplies().end());
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    const std::int64_t lo = network.lower(a);
    const std::int64_t cap = network.capacity(a);
    if (cap == kInfiniteCapacity) {
      bound += lo < 0 ? -static_cast<__int128>(lo) : lo;
    } else {
      bound += static_cast<__int128>(cap) - lo;
    }
    excess[static_cast<std::size_t>(network.tail(a))] -= lo;
    excess[static_cast<std::size_t>(network.head(a))] += lo;
  }
  for (const std::int64_t b : excess) {
    if (b > 0) bound += b;
  }
  return static_cast<std::int64_t>(std::min<__int128>(bound, std::numeric_limits<std::int64_t>::max() / 2));
}

ResidualGraph build_residual_graph(const Network& network) {
  ResidualGraph g;
  const NodeId n = network.num_nodes();
  const ArcId m = network.num_arcs();
  g.n = n;
  g.m2 = 2 * m;
  g.excess.assign(network.supplies().begin(), network.supplies().end());

  for (ArcId a = 0; a < m; ++a) {
    g.excess[static_cast<std::size_t>(network.tail(a))] -= network.lower(a);
    g.excess[static_cast<std::size_t>(network.head(a))] += network.lower(a);
  }
  const std::int64_t infinite_bound = infinite_capacity_bound(network);
  const bool any_infinite = infinite_bound > 0;
  g.infinite_bound = infinite_bound;
  if (any_infinite) g.has_negative_infinite_cycle = has_negative_infinite_cycle(network);

  // Counting sort of the 2m residual arcs by tail.
  g.first.assign(static_cast<std::size_t>(n) + 1, 0);
  const NodeId* tails = network.tails().data();
  const NodeId* heads = network.heads().data();
  for (ArcId a = 0; a < m; ++a) {
    ++g.first[static_cast<std::size_t>(tails[a]) + 1];
    ++g.first[static_cast<std::size_t>(heads[a]) + 1];
  }
  for (NodeId v = 0; v < n; ++v) g.first[static_cast<std::size_t>(v) + 1] += g.first[static_cast<std::size_t>(v)];
  g.head.resize(static_cast<std::size_t>(g.m2));
  g.rev.resize(static_cast<std::size_t>(g.m2));
  g.cost.resize(static_cast<std::size_t>(g.m2));
  g.rescap.resize(static_cast<std::size_t>(g.m2));
  g.fwd.resize(static_cast<std::size_t>(m));
  std::vector<std::int32_t> next(g.first.begin(), g.first.end() - 1);
  std::int64_t max_abs_cost = 0;
  for (ArcId a = 0; a < m; ++a) {
    const NodeId t = tails[a];
    const NodeId h = heads[a];
    const std::int32_t ef = next[static_cast<std::size_t>(t)]++;
    const std::int32_t er = next[static_cast<std::size_t>(h)]++;
    const std::int64_t c = network.cost(a);
    const std::int64_t cap = network.capacity(a);
    g.head[static_cast<std::size_t>(ef)] = h;
    g.head[static_cast<std::size_t>(er)] = t;
    g.rev[static_cast<std::size_t>(ef)] = er;
    g.rev[static_cast<std::size_t>(er)] = ef;
    g.cost[static_cast<std::size_t>(ef)] = c;
    g.cost[static_cast<std::size_t>(er)] = -c;
    g.rescap[static_cast<std::size_t>(ef)] =
        cap == kInfiniteCapacity ? infinite_bound : cap - network.lower(a);
    g.rescap[static_cast<std::size_t>(er)] = 0;
    g.fwd[static_cast<std::size_t>(a)] = ef;
    const std::int64_t abs_c = c < 0 ? -c : c;
    if (abs_c > max_abs_cost) max_abs_cost = abs_c;
  }
  g.max_abs_cost = max_abs_cost;
  return g;
}

}  // namespace sluice::detail
