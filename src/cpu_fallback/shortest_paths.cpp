#include "shortest_paths.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

namespace sluice::detail {
namespace {

// Path costs and prices are kept within these bounds so that reduced costs and distances
// never overflow; outside them the search hands over to cost scaling, which reports it.
constexpr std::int64_t kMaxPathCost = std::int64_t{1} << 60;
constexpr std::int64_t kPriceBound = std::int64_t{1} << 61;
constexpr std::int64_t kUnreached = std::numeric_limits<std::int64_t>::max();

class ShortestPaths {
 public:
  ShortestPaths(ResidualGraph& g, std::vector<std::int64_t>& potential, const ShortestPathParams& params,
                SolverStats& stats)
      : g_(g), p_(potential), params_(params), stats_(stats), n_(g.n), budget_(params.arc_budget) {
    dist_.assign(static_cast<std::size_t>(n_), kUnreached);
    state_.assign(static_cast<std::size_t>(n_), 0);
    current_.assign(static_cast<std::size_t>(n_), 0);
    level_.assign(static_cast<std::size_t>(n_), -1);
    pred_.assign(static_cast<std::size_t>(n_), -1);
  }

  ShortestPathEnd run() {
    // Any simple path then costs at most 2^60 in absolute value, so every tentative
    // distance (a path's cost plus a difference of two prices) fits in 64 bits.
    if (static_cast<__int128>(g_.max_abs_cost) * (static_cast<__int128>(n_) + 1) > kMaxPathCost) {
      return ShortestPathEnd::kBudgetExhausted;
    }
    for (const std::int64_t price : p_) {
      if (price < -kPriceBound || price > kPriceBound) return ShortestPathEnd::kBudgetExhausted;
    }
    saturate_negative_arcs();
    std::vector<std::int32_t> sources;
    while (true) {
      sources.clear();
      for (std::int32_t v = 0; v < n_; ++v) {
        if (g_.excess[static_cast<std::size_t>(v)] > 0) sources.push_back(v);
      }
      if (sources.empty()) return ShortestPathEnd::kOptimal;
      if (params_.cancel != nullptr && params_.cancel->load(std::memory_order_relaxed)) {
        return ShortestPathEnd::kCancelled;
      }
      ++stats_.phases;
      const ShortestPathEnd step = dijkstra(sources);
      if (step != ShortestPathEnd::kOptimal) return step;
      // The tree's paths first (cheap: no search), then whatever else the arcs of zero
      // reduced cost can carry. Measured by hand on the 150k-task networks after 0.1% of
      // edits: tree and blocking flow took 0.12-0.18 of a cold solve, blocking flow alone
      // 0.15-0.24, the tree alone 0.28-0.38.
      augment_tree();
      if (!blocking_flow(sources)) return ShortestPathEnd::kBudgetExhausted;
    }
  }

 private:
  std::int64_t reduced(std::int32_t v, std::int32_t e) const {
    return g_.cost[static_cast<std::size_t>(e)] + p_[static_cast<std::size_t>(v)] -
           p_[static_cast<std::size_t>(g_.head[static_cast<std::size_t>(e)])];
  }

  bool spend(std::int64_t arcs) {
    visited_ += arcs;
    if (budget_ < 0) return true;
    budget_ -= arcs;
    return budget_ >= 0;
  }

  void move_flow(std::int32_t e, std::int64_t delta) {
    g_.rescap[static_cast<std::size_t>(e)] -= delta;
    g_.rescap[static_cast<std::size_t>(g_.rev[static_cast<std::size_t>(e)])] += delta;
  }

  // Edits can leave residual arcs with negative reduced cost (a cost lowered, an arc or a
  // node added); saturating them restores c_p >= 0 and turns them into imbalance.
  void saturate_negative_arcs() {
    for (std::int32_t v = 0; v < n_; ++v) {
      for (std::int32_t e = g_.first[static_cast<std::size_t>(v)]; e < g_.first[static_cast<std::size_t>(v) + 1]; ++e) {
        const std::int64_t r = g_.rescap[static_cast<std::size_t>(e)];
        if (r > 0 && reduced(v, e) < 0) {
          move_flow(e, r);
          g_.excess[static_cast<std::size_t>(v)] -= r;
          g_.excess[static_cast<std::size_t>(g_.head[static_cast<std::size_t>(e)])] += r;
        }
      }
    }
  }

  // Dijkstra from every excess node over reduced costs, to the nearest deficit at D; then
  // p(v) += d(v) - D on the settled nodes. kOptimal here means "prices moved, go on".
  ShortestPathEnd dijkstra(const std::vector<std::int32_t>& sources) {
    using Entry = std::pair<std::int64_t, std::int32_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    touched_.clear();
    settled_.clear();
    deficits_.clear();
    for (const std::int32_t s : sources) {
      dist_[static_cast<std::size_t>(s)] = 0;
      state_[static_cast<std::size_t>(s)] = 1;
      touched_.push_back(s);
      heap.emplace(0, s);
    }
    std::int64_t reach = -1;
    __int128 total_excess = 0;
    for (const std::int32_t s : sources) total_excess += g_.excess[static_cast<std::size_t>(s)];
    __int128 deficit_reached = 0;
    bool budget_out = false;
    ShortestPathEnd end = ShortestPathEnd::kStuck;
    while (!heap.empty()) {
      const auto [d, u] = heap.top();
      heap.pop();
      if (state_[static_cast<std::size_t>(u)] == 2 || d != dist_[static_cast<std::size_t>(u)]) continue;
      state_[static_cast<std::size_t>(u)] = 2;
      settled_.push_back(u);
      reach = d;  // settled in order: the largest distance so far
      if (g_.excess[static_cast<std::size_t>(u)] < 0) {
        end = ShortestPathEnd::kOptimal;
        deficits_.push_back(u);
        // Enough demand within reach for every unit of excess: the prices beyond need not
        // move yet (p(v) += d(v) - D below keeps c_p >= 0 at the frontier).
        deficit_reached += -g_.excess[static_cast<std::size_t>(u)];
        if (deficit_reached >= total_excess) break;
      }
      const std::int32_t begin = g_.first[static_cast<std::size_t>(u)];
      const std::int32_t stop = g_.first[static_cast<std::size_t>(u) + 1];
      dijkstra_visits_ += stop - begin;
      if (!spend(stop - begin)) {
        budget_out = true;
        break;
      }
      for (std::int32_t e = begin; e < stop; ++e) {
        if (g_.rescap[static_cast<std::size_t>(e)] <= 0) continue;
        const std::int32_t w = g_.head[static_cast<std::size_t>(e)];
        if (state_[static_cast<std::size_t>(w)] == 2) continue;
        const std::int64_t nd = d + reduced(u, e);
        if (nd < dist_[static_cast<std::size_t>(w)]) {
          if (state_[static_cast<std::size_t>(w)] == 0) touched_.push_back(w);
          dist_[static_cast<std::size_t>(w)] = nd;
          pred_[static_cast<std::size_t>(w)] = e;
          state_[static_cast<std::size_t>(w)] = 1;
          heap.emplace(nd, w);
        }
      }
    }
    if (budget_out) end = ShortestPathEnd::kBudgetExhausted;
    if (end == ShortestPathEnd::kOptimal) {
      // Prices only fall (d(v) <= D); stop before one leaves the bound, with none changed.
      for (const std::int32_t v : settled_) {
        if (p_[static_cast<std::size_t>(v)] - (reach - dist_[static_cast<std::size_t>(v)]) < -kPriceBound) {
          end = ShortestPathEnd::kBudgetExhausted;
          break;
        }
      }
    }
    if (end == ShortestPathEnd::kOptimal) {
      for (const std::int32_t v : settled_) p_[static_cast<std::size_t>(v)] += dist_[static_cast<std::size_t>(v)] - reach;
    }
    for (const std::int32_t v : touched_) {
      dist_[static_cast<std::size_t>(v)] = kUnreached;
      state_[static_cast<std::size_t>(v)] = 0;
    }
    if (end != ShortestPathEnd::kOptimal) {
      for (const std::int32_t v : touched_) pred_[static_cast<std::size_t>(v)] = -1;
    }
    return end;
  }

  // Augments along the last Dijkstra's shortest-path tree, whose arcs now all have zero
  // reduced cost: from each deficit it reached back to the source its branch grew from,
  // as much as that source holds and the path carries. Then forgets the tree.
  void augment_tree() {
    for (const std::int32_t t : deficits_) {
      while (g_.excess[static_cast<std::size_t>(t)] < 0) {
        std::int64_t delta = -g_.excess[static_cast<std::size_t>(t)];
        std::int32_t v = t;
        std::int64_t length = 0;
        while (pred_[static_cast<std::size_t>(v)] >= 0) {
          const std::int32_t e = pred_[static_cast<std::size_t>(v)];
          delta = std::min(delta, g_.rescap[static_cast<std::size_t>(e)]);
          v = g_.head[static_cast<std::size_t>(g_.rev[static_cast<std::size_t>(e)])];
          ++length;
        }
        delta = std::min(delta, g_.excess[static_cast<std::size_t>(v)]);
        if (delta <= 0) break;
        for (std::int32_t w = t; pred_[static_cast<std::size_t>(w)] >= 0;) {
          const std::int32_t e = pred_[static_cast<std::size_t>(w)];
          move_flow(e, delta);
          w = g_.head[static_cast<std::size_t>(g_.rev[static_cast<std::size_t>(e)])];
        }
        g_.excess[static_cast<std::size_t>(v)] -= delta;
        g_.excess[static_cast<std::size_t>(t)] += delta;
        stats_.pushes += length;
        visited_ += length;
      }
    }
    for (const std::int32_t v : touched_) pred_[static_cast<std::size_t>(v)] = -1;
  }

  bool zero_cost(std::int32_t v, std::int32_t e) const {
    return g_.rescap[static_cast<std::size_t>(e)] > 0 && reduced(v, e) == 0;
  }

  // Levels for Dinic's algorithm on the arcs of zero reduced cost: breadth-first from every
  // excess node, to the end of the first level that holds a deficit. False when no
  // deficit is reachable (or the budget ran out, then budget_out_ is set).
  bool level_graph(const std::vector<std::int32_t>& sources) {
    for (const std::int32_t v : leveled_) level_[static_cast<std::size_t>(v)] = -1;
    leveled_.clear();
    for (const std::int32_t s : sources) {
      if (g_.excess[static_cast<std::size_t>(s)] <= 0) continue;
      level_[static_cast<std::size_t>(s)] = 0;
      leveled_.push_back(s);
    }
    std::int32_t found_at = -1;
    for (std::size_t i = 0; i < leveled_.size(); ++i) {
      const std::int32_t u = leveled_[i];
      const std::int32_t lu = level_[static_cast<std::size_t>(u)];
      if (found_at >= 0 && lu >= found_at) break;
      if (g_.excess[static_cast<std::size_t>(u)] < 0) {
        found_at = lu;
        continue;
      }
      const std::int32_t begin = g_.first[static_cast<std::size_t>(u)];
      const std::int32_t stop = g_.first[static_cast<std::size_t>(u) + 1];
      if (!spend(stop - begin)) {
        budget_out_ = true;
        return false;
      }
      for (std::int32_t e = begin; e < stop; ++e) {
        const std::int32_t w = g_.head[static_cast<std::size_t>(e)];
        if (level_[static_cast<std::size_t>(w)] >= 0 || !zero_cost(u, e)) continue;
        level_[static_cast<std::size_t>(w)] = lu + 1;
        leveled_.push_back(w);
      }
    }
    return found_at >= 0;
  }

  // Augments from every source along arcs of zero reduced cost until none leads from an
  // excess to a deficit: Dinic phases (level graph, then a blocking flow by depth-first
  // search with current arcs) until the level graph reaches no deficit. False when the
  // budget ran out.
  bool blocking_flow(const std::vector<std::int32_t>& sources) {
    while (level_graph(sources)) {
      for (const std::int32_t v : leveled_) current_[static_cast<std::size_t>(v)] = g_.first[static_cast<std::size_t>(v)];
      for (const std::int32_t s : sources) {
        if (level_[static_cast<std::size_t>(s)] != 0) continue;
        while (g_.excess[static_cast<std::size_t>(s)] > 0) {
          path_.clear();
          std::int32_t tip = s;
          bool reached = false;
          while (true) {
            const std::int32_t stop = g_.first[static_cast<std::size_t>(tip) + 1];
            const std::int32_t next_level = level_[static_cast<std::size_t>(tip)] + 1;
            std::int32_t e = current_[static_cast<std::size_t>(tip)];
            const std::int32_t from = e;
            for (; e < stop; ++e) {
              if (level_[static_cast<std::size_t>(g_.head[static_cast<std::size_t>(e)])] == next_level && zero_cost(tip, e)) break;
            }
            if (!spend(e - from + 1)) return false;
            current_[static_cast<std::size_t>(tip)] = e;
            if (e < stop) {
              path_.push_back(e);
              tip = g_.head[static_cast<std::size_t>(e)];
              if (g_.excess[static_cast<std::size_t>(tip)] < 0) {
                reached = true;
                break;
              }
              continue;
            }
            // A dead end: nothing from here reaches a deficit in this level graph.
            level_[static_cast<std::size_t>(tip)] = -2;
            if (path_.empty()) break;
            path_.pop_back();
            tip = path_.empty() ? s : g_.head[static_cast<std::size_t>(path_.back())];
            ++current_[static_cast<std::size_t>(tip)];
          }
          if (!reached) break;
          std::int64_t delta = std::min(g_.excess[static_cast<std::size_t>(s)], -g_.excess[static_cast<std::size_t>(tip)]);
          for (const std::int32_t e : path_) delta = std::min(delta, g_.rescap[static_cast<std::size_t>(e)]);
          for (const std::int32_t e : path_) move_flow(e, delta);
          g_.excess[static_cast<std::size_t>(s)] -= delta;
          g_.excess[static_cast<std::size_t>(tip)] += delta;
          stats_.pushes += static_cast<std::int64_t>(path_.size());
        }
      }
    }
    return !budget_out_;
  }

  ResidualGraph& g_;
  std::vector<std::int64_t>& p_;
  ShortestPathParams params_;
  SolverStats& stats_;
  std::int32_t n_;
  std::int64_t budget_;

 public:
  std::int64_t visited_ = 0;  // arc visits, for the progress line
  std::int64_t dijkstra_visits_ = 0;  // of which by the Dijkstra searches

 private:
  std::vector<std::int64_t> dist_;
  std::vector<std::uint8_t> state_;  // 0 unseen, 1 in the heap, 2 settled
  std::vector<std::int32_t> touched_;
  std::vector<std::int32_t> settled_;
  std::vector<std::int32_t> deficits_;  // settled nodes with demand, in the order found
  std::vector<std::int32_t> pred_;      // the arc into each reached node on its shortest path
  std::vector<std::int32_t> current_;
  std::vector<std::int32_t> level_;    // Dinic levels; -1 unreached, -2 a dead end
  std::vector<std::int32_t> leveled_;  // the nodes with a level, to reset them
  std::vector<std::int32_t> path_;
  bool budget_out_ = false;
};

}  // namespace

ShortestPathEnd reoptimize_shortest_paths(ResidualGraph& g, std::vector<std::int64_t>& potential,
                                          const ShortestPathParams& params, SolverStats& stats) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t phases_before = stats.phases;
  ShortestPaths search(g, potential, params, stats);
  const ShortestPathEnd end = search.run();
  if (params.progress) {
    static const char* const kNames[] = {"optimal", "stuck (infeasible)", "out of budget", "cancelled"};
    std::fprintf(stderr, "[shortest-paths] %s after %lld iterations, %lld arc visits (%lld by Dijkstra), %.3f s\n",
                 kNames[static_cast<int>(end)], static_cast<long long>(stats.phases - phases_before),
                 static_cast<long long>(search.visited_), static_cast<long long>(search.dijkstra_visits_),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return end;
}

}  // namespace sluice::detail
