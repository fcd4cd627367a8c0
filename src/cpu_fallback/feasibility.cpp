#include "feasibility.hpp"

#include <algorithm>
#include <vector>

namespace sluice::detail {
namespace {

// Reverse BFS from every node with demand; returns the number of relabelled nodes.
void global_relabel(const ResidualGraph& g, std::vector<std::int32_t>& label,
                    std::vector<std::int32_t>& bfs) {
  const std::int32_t n = g.n;
  std::fill(label.begin(), label.end(), n);
  bfs.clear();
  for (std::int32_t v = 0; v < n; ++v) {
    if (g.excess[static_cast<std::size_t>(v)] < 0) {
      label[static_cast<std::size_t>(v)] = 0;
      bfs.push_back(v);
    }
  }
  const std::int32_t* first = g.first.data();
  const std::int32_t* head = g.head.data();
  const std::int32_t* rev = g.rev.data();
  const std::int64_t* rescap = g.rescap.data();
  for (std::size_t i = 0; i < bfs.size(); ++i) {
    const std::int32_t w = bfs[i];
    const std::int32_t next_label = label[static_cast<std::size_t>(w)] + 1;
    for (std::int32_t e = first[w]; e < first[w + 1]; ++e) {
      const std::int32_t u = head[e];
      // The arc u -> w is rev[e]; it must have residual capacity.
      if (label[static_cast<std::size_t>(u)] == n && rescap[rev[e]] > 0) {
        label[static_cast<std::size_t>(u)] = next_label;
        bfs.push_back(u);
      }
    }
  }
}

}  // namespace

FeasibilityResult find_feasible_flow(ResidualGraph& g) {
  FeasibilityResult result;
  const std::int32_t n = g.n;
  std::vector<std::int32_t> label(static_cast<std::size_t>(n));
  std::vector<std::int32_t> current(g.first.begin(), g.first.end() - 1);
  std::vector<std::int32_t> queue;
  std::vector<char> in_queue(static_cast<std::size_t>(n), 0);
  queue.reserve(static_cast<std::size_t>(n));

  std::int64_t total_supply = 0;
  for (std::int32_t v = 0; v < n; ++v) total_supply += std::max<std::int64_t>(0, g.excess[static_cast<std::size_t>(v)]);
  if (total_supply == 0) {
    result.feasible = true;
    return result;
  }

  global_relabel(g, label, queue);
  queue.clear();
  for (std::int32_t v = 0; v < n; ++v) {
    if (g.excess[static_cast<std::size_t>(v)] > 0 && label[static_cast<std::size_t>(v)] < n) {
      queue.push_back(v);
      in_queue[static_cast<std::size_t>(v)] = 1;
    }
  }

  const std::int32_t* first = g.first.data();
  const std::int32_t* head = g.head.data();
  const std::int32_t* rev = g.rev.data();
  std::int64_t* rescap = g.rescap.data();
  std::int64_t* excess = g.excess.data();
  std::int32_t* lab = label.data();
  std::int64_t relabels_since_update = 0;
  std::vector<std::int32_t> bfs;
  std::size_t qhead = 0;
  std::vector<std::int32_t> next_queue;

  while (qhead < queue.size()) {
    const std::int32_t v = queue[qhead++];
    in_queue[static_cast<std::size_t>(v)] = 0;
    // Discharge v.
    while (excess[v] > 0 && lab[v] < n) {
      std::int32_t e = current[static_cast<std::size_t>(v)];
      const std::int32_t end = first[v + 1];
      const std::int32_t want = lab[v] - 1;
      for (; e < end; ++e) {
        if (rescap[e] > 0 && lab[head[e]] == want) {
          const std::int32_t w = head[e];
          const std::int64_t delta = std::min(excess[v], rescap[e]);
          rescap[e] -= delta;
          rescap[rev[e]] += delta;
          excess[v] -= delta;
          excess[w] += delta;
          ++result.pushes;
          if (excess[w] > 0 && !in_queue[static_cast<std::size_t>(w)]) {
            in_queue[static_cast<std::size_t>(w)] = 1;
            queue.push_back(w);
          }
          if (excess[v] == 0) break;
        }
      }
      current[static_cast<std::size_t>(v)] = e < end ? e : end;
      if (excess[v] == 0) break;
      // Relabel: one more than the lowest residual neighbour.
      std::int32_t best = n;
      for (std::int32_t f = first[v]; f < end; ++f) {
        if (rescap[f] > 0 && lab[head[f]] + 1 < best) best = lab[head[f]] + 1;
      }
      lab[v] = best;
      current[static_cast<std::size_t>(v)] = first[v];
      ++result.relabels;
      if (++relabels_since_update >= n) {
        relabels_since_update = 0;
        global_relabel(g, label, bfs);
      }
    }
    // Compact the queue now and then so it does not grow without bound.
    if (qhead > static_cast<std::size_t>(n) && qhead * 2 > queue.size()) {
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(qhead));
      qhead = 0;
    }
  }

  std::int64_t stranded = 0;
  std::int32_t example = -1;
  for (std::int32_t v = 0; v < n; ++v) {
    if (excess[v] > 0) {
      stranded += excess[v];
      if (example < 0) example = v;
    }
  }
  if (stranded == 0) {
    result.feasible = true;
    return result;
  }
  result.reason = std::to_string(stranded) + " of " + std::to_string(total_supply) +
                  " units of supply cannot reach any demand within the arc capacities (node " +
                  std::to_string(example) + " is left holding " +
                  std::to_string(excess[example]) + ")";
  return result;
}

}  // namespace sluice::detail
