// The network simplex solver (network_simplex.hpp has the method and its references).
//
// Over 700 lines because everything here works on one set of arrays (the arcs, the basis
// tree with its thread, the prices): pricing, the pivot and its re-threading, the warm
// restart and the kept solver's edits read best side by side.
#include "network_simplex.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

namespace sluice::detail {
namespace {

constexpr std::int64_t kMaxArtificialCost = std::int64_t{1} << 60;
// How far the root's price may drift before every price is shifted back (rehang()). With
// it, prices stay below 2^60 + 2^61 in absolute value, so reduced costs cannot overflow.
constexpr std::int64_t kMaxRootDrift = std::int64_t{1} << 60;
// Pricing blocks after a warm start: at least this many times √m arcs (run()).
constexpr double kWarmBlockFactor = 1.0;
// Pricing blocks of at least this many times √m arcs take LEMON's arc order (init()).
constexpr double kLemonOrderFrom = 0.5;
constexpr std::int8_t kUpper = -1;  // non-tree arc at its capacity
constexpr std::int8_t kTree = 0;
constexpr std::int8_t kLower = 1;   // non-tree arc at zero flow
constexpr std::int8_t kUp = 1;      // a node's tree arc points to its parent
constexpr std::int8_t kDown = -1;   // ... or from its parent to it

}  // namespace

// The solver's state: arcs in their internal order followed by one artificial arc per node,
// the basis tree and the prices. It outlives a solve when a KeptSimplex holds it.
class NetworkSimplex {
 public:
  // Straight from the network (no residual graph): supplies after lower bounds, and
  // infinite capacities at `infinite_bound`.
  NetworkSimplex(const Network& network, std::int64_t infinite_bound, double block_factor)
      : n_(network.num_nodes()), m_(network.num_arcs()), root_(network.num_nodes()), block_factor_(block_factor),
        supply_(network.supplies()) {
    for (ArcId a = 0; a < m_; ++a) {
      supply_[static_cast<std::size_t>(network.tail(a))] -= network.lower(a);
      supply_[static_cast<std::size_t>(network.head(a))] += network.lower(a);
      const std::int64_t c = network.cost(a);
      max_abs_cost_ = std::max(max_abs_cost_, c < 0 ? -c : c);
    }
    const __int128 art = (static_cast<__int128>(max_abs_cost_) + 1) * (static_cast<__int128>(n_) + 1);
    if (art > kMaxArtificialCost) {
      overflow_ = "network simplex: max |cost| " + std::to_string(max_abs_cost_) + " times (n+1) exceeds 2^60";
      return;
    }
    artificial_cost_ = static_cast<std::int64_t>(art);
    init(network, infinite_bound);
  }

  // Empty, or why this network is beyond network simplex's cost range (nothing else works then).
  [[nodiscard]] const std::string& overflow() const { return overflow_; }

  // Begins from `basis` instead of the all-artificial tree; false (and the all-artificial
  // tree kept) when it does not describe a spanning tree of this network.
  bool start_from(const SimplexBasis& basis) {
    warm_ = import_basis(basis) && restart();
    if (!warm_) init_tree();
    return warm_;
  }
  [[nodiscard]] bool warm() const { return warm_; }

  // Pivots from the current basis until no arc violates, then settles the status: flow
  // left on artificial arcs means infeasible. On kOptimal the outcome holds the potentials.
  EngineOutcome run(const std::atomic<bool>* cancel, SolverStats& stats) {
    EngineOutcome out;
    if (!overflow_.empty()) {
      out.status = Status::kCostOverflow;
      out.message = overflow_;
      return out;
    }
    if (restart_pending_) {
      restart_pending_ = false;
      refit();
      warm_ = true;
    }
    // After a warm start few arcs violate, and small blocks (the cold default on allocation
    // networks) pivot on whichever comes first: pricing blocks of at least √m there took
    // about half the time after 1% of edits on the 150k-task networks (sluice_bench_warm,
    // 5 reps x 3 networks: 0.24 s against 0.47 s in all; 1M tasks 1.02 against 1.17 s;
    // openb and 0.1% of edits unchanged).
    const double factor = warm_ ? std::max(block_factor_, kWarmBlockFactor) : block_factor_;
    const std::int64_t block = std::max<std::int64_t>(
        10, static_cast<std::int64_t>(factor * std::sqrt(static_cast<double>(std::max(1, m_)))));
    std::int64_t pivots = 0;
    while (true) {
      const std::int32_t entering = find_entering(block);
      if (entering < 0) break;
      pivot(entering);
      ++pivots;
      if ((pivots & 1023) == 0 && cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        stats.pivots += pivots;
        out.status = Status::kCancelled;
        out.message = "cancelled after " + std::to_string(pivots) + " network simplex pivots";
        return out;
      }
    }
    stats.pivots += pivots;
    // Flow left on an artificial arc is supply no real path can deliver: a real one would
    // cost less than the artificial cost, which exceeds every simple path's.
    std::int64_t stranded = 0;
    std::int64_t total = 0;
    std::int32_t example = -1;
    for (std::int32_t v = 0; v < n_; ++v) {
      const std::int64_t supply = supply_[static_cast<std::size_t>(v)];
      if (supply > 0) total += supply;
      const std::int64_t left = flow_[static_cast<std::size_t>(m_ + v)];
      if (left > 0 && supply > 0) {
        stranded += left;
        if (example < 0) example = v;
      }
    }
    if (stranded > 0) {
      out.status = Status::kInfeasible;
      out.message = std::to_string(stranded) + " of " + std::to_string(total) +
                    " units of supply cannot reach any demand within the arc capacities (node " +
                    std::to_string(example) + " is left holding " +
                    std::to_string(flow_[static_cast<std::size_t>(m_ + example)]) + ")";
      return out;
    }
    for (std::int32_t v = 0; v < n_; ++v) {
      if (flow_[static_cast<std::size_t>(m_ + v)] != 0) {
        out.status = Status::kInfeasible;
        out.message = "demand of node " + std::to_string(v) + " cannot be met within the arc capacities";
        return out;
      }
    }
    // Potentials relative to the root's price (which moves when a pivot shifts the side
    // that holds it).
    out.potential.resize(static_cast<std::size_t>(n_));
    const std::int64_t root_price = pi_[static_cast<std::size_t>(root_)];
    for (std::int32_t v = 0; v < n_; ++v) out.potential[static_cast<std::size_t>(v)] = pi_[static_cast<std::size_t>(v)] - root_price;
    return out;
  }

  // Edits (KeptSimplex), in the network's arc ids: the next run recomputes the tree's
  // flows and prices for them and pivots on from the basis it has.
  void set_arc(std::int32_t id, std::int64_t span, std::int64_t cost) {
    const std::size_t a = static_cast<std::size_t>(internal()[static_cast<std::size_t>(id)]);
    const std::int32_t tail = arc_[a].source;
    const std::int32_t head = arc_[a].target;
    if (state_[a] == kUpper) {  // stays at its (new) bound: the flow it moves changes
      const std::int64_t more = span - flow_[a];
      flow_[a] = span;
      imbalance_[static_cast<std::size_t>(tail)] -= more;
      imbalance_[static_cast<std::size_t>(head)] += more;
      seeds_.push_back(tail);
      seeds_.push_back(head);
    } else if (state_[a] == kTree) {  // its flow may no longer fit: refit() checks the node below it
      const bool tail_below = parent_[static_cast<std::size_t>(tail)] == head &&
                              pred_[static_cast<std::size_t>(tail)] == static_cast<std::int32_t>(a);
      seeds_.push_back(tail_below ? tail : head);
      if (cost != arc_[a].cost) tree_cost_edited_ = true;
    }
    cap_[a] = span;
    arc_[a].cost = cost;
    restart_pending_ = true;
  }
  void add_supply(std::int32_t v, std::int64_t delta) {
    supply_[static_cast<std::size_t>(v)] += delta;
    imbalance_[static_cast<std::size_t>(v)] += delta;
    seeds_.push_back(v);
    restart_pending_ = true;
  }
  [[nodiscard]] std::int64_t artificial_cost() const { return artificial_cost_; }
  [[nodiscard]] std::int32_t nodes() const { return n_; }
  [[nodiscard]] std::int32_t arcs() const { return m_; }
  // Adds each network arc's flow (above its lower bound) to flow[id], in one pass over the
  // internal order.
  void add_flows(std::vector<std::int64_t>& flow) const {
    for (std::int32_t a = 0; a < m_; ++a) flow[static_cast<std::size_t>(arc_of_[static_cast<std::size_t>(a)])] += flow_[static_cast<std::size_t>(a)];
  }
  void save(SimplexBasis& basis) const {
    basis.arc_state.assign(static_cast<std::size_t>(m_), kLower);
    for (std::int32_t a = 0; a < m_; ++a) {
      basis.arc_state[static_cast<std::size_t>(arc_of_[static_cast<std::size_t>(a)])] = state_[static_cast<std::size_t>(a)];
    }
    basis.parent.resize(static_cast<std::size_t>(n_));
    basis.tree_arc.resize(static_cast<std::size_t>(n_));
    basis.artificial_up.resize(static_cast<std::size_t>(n_));
    for (std::int32_t v = 0; v < n_; ++v) {
      const std::int32_t p = parent_[static_cast<std::size_t>(v)];
      const std::int32_t a = pred_[static_cast<std::size_t>(v)];
      basis.parent[static_cast<std::size_t>(v)] = p == root_ ? -1 : p;
      basis.tree_arc[static_cast<std::size_t>(v)] = a >= m_ ? -1 : arc_of_[static_cast<std::size_t>(a)];
      basis.artificial_up[static_cast<std::size_t>(v)] = arc_[static_cast<std::size_t>(m_ + v)].source == v;
    }
  }

 private:
  std::int64_t reduced(std::int32_t a) const {
    const Arc& e = arc_[static_cast<std::size_t>(a)];
    return e.cost + pi_[static_cast<std::size_t>(e.source)] - pi_[static_cast<std::size_t>(e.target)];
  }

  // Arcs 0..m-1 are the network's, m..m+n-1 the artificial ones.
  void init(const Network& network, std::int64_t infinite_bound) {
    const std::size_t arcs = static_cast<std::size_t>(m_) + static_cast<std::size_t>(n_);
    arc_.resize(arcs);
    cap_.resize(arcs);
    // Internal arc order: the network's arcs mixed, so that a block of the search samples
    // arcs from all over the network rather than the few nodes whose arcs are stored
    // together. With LEMON's blocks of √m arcs, LEMON's order: network arc k goes to
    // position i_k, i advancing by s = m/n (at least 3) and wrapping to the next start, so
    // that neighbouring positions hold arcs about n apart in the network. With the small
    // blocks of the allocation networks, the inverse: position k holds network arc
    // r + s·t, neighbours s apart (on the 150k-task spread network it took the solve from
    // 0.134 to 0.105 s; LEMON's order there was slower under priority). The first order
    // was an inverted reading of LEMON's; with LEMON's own, solves with √m blocks took
    // 0.45 of the time on Quincy (2,500 machines) and 0.59 on a 128x128 grid, with 60%
    // and 80% of the pivots (bench/results/lemon_arc_order/).
    arc_of_.resize(static_cast<std::size_t>(m_));
    const std::int32_t stride = std::max<std::int32_t>(3, n_ > 0 ? m_ / n_ : 3);
    if (block_factor_ < kLemonOrderFrom) {
      std::int32_t k = 0;
      for (std::int32_t r = 0; r < stride; ++r) {
        for (std::int32_t i = r; i < m_; i += stride) arc_of_[static_cast<std::size_t>(k++)] = i;
      }
    } else {
      std::int32_t i = 0;
      std::int32_t start = 0;
      for (std::int32_t k = 0; k < m_; ++k) {
        arc_of_[static_cast<std::size_t>(i)] = k;
        i += stride;
        if (i >= m_) i = ++start;
      }
    }
    for (std::int32_t a = 0; a < m_; ++a) {
      const ArcId id = arc_of_[static_cast<std::size_t>(a)];
      const std::int64_t capacity = network.capacity(id);
      arc_[static_cast<std::size_t>(a)].source = network.tail(id);
      arc_[static_cast<std::size_t>(a)].target = network.head(id);
      cap_[static_cast<std::size_t>(a)] = capacity == kInfiniteCapacity ? infinite_bound : capacity - network.lower(id);
      arc_[static_cast<std::size_t>(a)].cost = network.cost(id);
    }
    init_tree();
  }

  // The first basis: every node hangs from the root by its artificial arc, threaded in
  // node order, every real arc at zero flow.
  void init_tree() {
    const std::size_t arcs = static_cast<std::size_t>(m_) + static_cast<std::size_t>(n_);
    const std::size_t nodes = static_cast<std::size_t>(n_) + 1;
    flow_.assign(arcs, 0);
    state_.assign(arcs, kLower);
    imbalance_.assign(nodes, 0);
    parent_.assign(nodes, -1);
    pred_.assign(nodes, -1);
    dir_.assign(nodes, kUp);
    thread_.assign(nodes, 0);
    rev_thread_.assign(nodes, 0);
    succ_num_.assign(nodes, 1);
    last_succ_.resize(nodes);
    for (std::int32_t v = 0; v < n_; ++v) last_succ_[static_cast<std::size_t>(v)] = v;
    pi_.assign(nodes, 0);
    constexpr std::int64_t kInf = std::numeric_limits<std::int64_t>::max() / 4;
    for (std::int32_t v = 0; v < n_; ++v) {
      const std::size_t a = static_cast<std::size_t>(m_ + v);
      const std::int64_t supply = supply_[static_cast<std::size_t>(v)];
      cap_[a] = kInf;
      state_[a] = kTree;
      parent_[static_cast<std::size_t>(v)] = root_;
      pred_[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(a);
      if (supply >= 0) {
        arc_[a].source = v;
        arc_[a].target = root_;
        flow_[a] = supply;
        arc_[a].cost = 0;
        dir_[static_cast<std::size_t>(v)] = kUp;
        pi_[static_cast<std::size_t>(v)] = 0;
      } else {
        arc_[a].source = root_;
        arc_[a].target = v;
        flow_[a] = -supply;
        arc_[a].cost = artificial_cost_;
        dir_[static_cast<std::size_t>(v)] = kDown;
        pi_[static_cast<std::size_t>(v)] = artificial_cost_;
      }
    }
    // Thread: root, 0, 1, ..., n-1, back to the root.
    std::int32_t prev = root_;
    for (std::int32_t v = 0; v < n_; ++v) {
      thread_[static_cast<std::size_t>(prev)] = v;
      rev_thread_[static_cast<std::size_t>(v)] = prev;
      prev = v;
    }
    thread_[static_cast<std::size_t>(prev)] = root_;
    rev_thread_[static_cast<std::size_t>(root_)] = prev;
    succ_num_[static_cast<std::size_t>(root_)] = n_ + 1;
    last_succ_[static_cast<std::size_t>(root_)] = n_ > 0 ? n_ - 1 : root_;
    next_arc_ = 0;
  }

  // Block search: scan blocks of arcs from where the last search stopped and return the
  // most violating arc of the first block that has one; -1 when none violates (optimal).
  std::int32_t find_entering(std::int64_t block) {
    std::int64_t best = 0;
    std::int32_t best_arc = -1;
    std::int32_t a = next_arc_;
    std::int64_t left = m_;  // arcs this search has still to look at
    while (left > 0 && best_arc < 0) {
      std::int64_t todo = std::min(block, left);
      left -= todo;
      while (todo > 0) {  // the block, in one or (where it wraps round) two straight runs
        const std::int32_t end = static_cast<std::int32_t>(std::min<std::int64_t>(a + todo, m_));
        for (std::int32_t e = a; e < end; ++e) {
          const std::int64_t violation = state_[static_cast<std::size_t>(e)] * reduced(e);
          if (violation < best) {
            best = violation;
            best_arc = e;
            // The pivot reads its bound and flow first; they are far from the arcs scanned.
            __builtin_prefetch(&cap_[static_cast<std::size_t>(e)]);
            __builtin_prefetch(&flow_[static_cast<std::size_t>(e)]);
          }
        }
        todo -= end - a;
        a = end == m_ ? 0 : end;
      }
    }
    next_arc_ = a;
    return best_arc;
  }

  void pivot(std::int32_t in) {
    // Flow goes round the cycle from `first` across the entering arc to `second`, up the
    // tree to the apex `join`, and down again to `first`.
    const bool forward = state_[static_cast<std::size_t>(in)] == kLower;
    const Arc& entering = arc_[static_cast<std::size_t>(in)];
    const std::int32_t first = forward ? entering.source : entering.target;
    const std::int32_t second = forward ? entering.target : entering.source;
    std::int32_t u = first;
    std::int32_t v = second;
    while (u != v) {
      if (succ_num_[static_cast<std::size_t>(u)] < succ_num_[static_cast<std::size_t>(v)]) u = parent_[static_cast<std::size_t>(u)];
      else v = parent_[static_cast<std::size_t>(v)];
    }
    const std::int32_t join = u;

    // The leaving arc: the smallest room on the cycle; among equals the last one met when
    // walking the cycle in the flow's direction from the apex (strongly feasible trees).
    std::int64_t delta = cap_[static_cast<std::size_t>(in)];
    std::int32_t out_node = -1;  // the node below the leaving tree arc; -1: the entering arc itself
    bool out_on_first = false;
    for (std::int32_t w = first; w != join; w = parent_[static_cast<std::size_t>(w)]) {
      const std::size_t e = static_cast<std::size_t>(pred_[static_cast<std::size_t>(w)]);
      // Walking down from the apex to `first`: with a down arc the flow goes along it.
      const std::int64_t room = dir_[static_cast<std::size_t>(w)] == kDown ? cap_[e] - flow_[e] : flow_[e];
      if (room < delta) {
        delta = room;
        out_node = w;
        out_on_first = true;
      }
    }
    for (std::int32_t w = second; w != join; w = parent_[static_cast<std::size_t>(w)]) {
      const std::size_t e = static_cast<std::size_t>(pred_[static_cast<std::size_t>(w)]);
      const std::int64_t room = dir_[static_cast<std::size_t>(w)] == kUp ? cap_[e] - flow_[e] : flow_[e];
      if (room <= delta) {
        delta = room;
        out_node = w;
        out_on_first = false;
      }
    }

    // Send delta round the cycle.
    if (delta > 0) {
      flow_[static_cast<std::size_t>(in)] += forward ? delta : -delta;
      for (std::int32_t w = first; w != join; w = parent_[static_cast<std::size_t>(w)]) {
        flow_[static_cast<std::size_t>(pred_[static_cast<std::size_t>(w)])] += dir_[static_cast<std::size_t>(w)] == kDown ? delta : -delta;
      }
      for (std::int32_t w = second; w != join; w = parent_[static_cast<std::size_t>(w)]) {
        flow_[static_cast<std::size_t>(pred_[static_cast<std::size_t>(w)])] += dir_[static_cast<std::size_t>(w)] == kUp ? delta : -delta;
      }
    }
    if (out_node < 0) {  // the entering arc went from one bound to the other
      state_[static_cast<std::size_t>(in)] = forward ? kUpper : kLower;
      return;
    }
    const std::int32_t out = pred_[static_cast<std::size_t>(out_node)];
    state_[static_cast<std::size_t>(out)] = flow_[static_cast<std::size_t>(out)] == 0 ? kLower : kUpper;
    state_[static_cast<std::size_t>(in)] = kTree;
    // The subtree under the leaving arc hangs from the entering arc from now on: from the
    // entering arc's end on its side (u_in), whose new parent is the other end (v_in).
    const std::int32_t u_in = out_on_first ? first : second;
    const std::int32_t v_in = out_on_first ? second : first;
    rehang(in, u_in, v_in, out_node, join);
  }

  // Moves the subtree S under the leaving arc (rooted at out_node, between the apex `join`
  // and the entering arc) under v_in, re-rooted at u_in (in S) and joined by the entering
  // arc; shifts S's prices so that the entering arc's reduced cost becomes zero.
  //
  // Only the stem u_in = s_0, s_1 = parent(s_0), ..., s_k = out_node changes shape: each s_i
  // (i >= 1) becomes the child of s_{i-1}. In the old preorder, s_i's subtree is one run
  // holding s_{i-1}'s run, so the new preorder of S is, for i = 0..k: s_i, then the part of
  // its old run before s_{i-1}'s run, then the part after it. Those pieces are spliced by
  // their ends (last_succ), so the work is the stem's length plus the walk that moves S's
  // prices.
  void rehang(std::int32_t in, std::int32_t u_in, std::int32_t v_in, std::int32_t out_node, std::int32_t join) {
    const std::int32_t size = succ_num_[static_cast<std::size_t>(out_node)];
    const std::int32_t old_last = last_succ_[static_cast<std::size_t>(out_node)];
    const std::int32_t before = rev_thread_[static_cast<std::size_t>(out_node)];
    const std::int32_t after = thread_[static_cast<std::size_t>(old_last)];

    // 1. The new run of S, as pieces of the old thread (read before anything changes).
    pieces_.clear();
    stem_.clear();
    for (std::int32_t w = u_in;; w = parent_[static_cast<std::size_t>(w)]) {
      stem_.push_back(w);
      if (w == out_node) break;
    }
    for (std::size_t i = 0; i < stem_.size(); ++i) {
      const std::int32_t x = stem_[i];
      const std::int32_t x_last = last_succ_[static_cast<std::size_t>(x)];
      pieces_.push_back({x, x});
      if (i == 0) {
        if (x_last != x) pieces_.push_back({thread_[static_cast<std::size_t>(x)], x_last});
        continue;
      }
      const std::int32_t inner = stem_[i - 1];  // x's old child on the stem
      const std::int32_t inner_last = last_succ_[static_cast<std::size_t>(inner)];
      if (thread_[static_cast<std::size_t>(x)] != inner) {
        pieces_.push_back({thread_[static_cast<std::size_t>(x)], rev_thread_[static_cast<std::size_t>(inner)]});
      }
      if (inner_last != x_last) pieces_.push_back({thread_[static_cast<std::size_t>(inner_last)], x_last});
    }
    const std::int32_t new_last = pieces_.back().second;

    // 2. S leaves: cut its run out of the thread; its old ancestors below the apex lose its
    //    nodes, and those whose run ended with S now end just before it.
    thread_[static_cast<std::size_t>(before)] = after;
    rev_thread_[static_cast<std::size_t>(after)] = before;
    for (std::int32_t w = parent_[static_cast<std::size_t>(out_node)]; w != join; w = parent_[static_cast<std::size_t>(w)]) {
      succ_num_[static_cast<std::size_t>(w)] -= size;
    }
    for (std::int32_t w = parent_[static_cast<std::size_t>(out_node)];
         w >= 0 && last_succ_[static_cast<std::size_t>(w)] == old_last; w = parent_[static_cast<std::size_t>(w)]) {
      last_succ_[static_cast<std::size_t>(w)] = before;
    }

    // 3. The stem turns round: each node's tree arc becomes its child's; subtree sizes
    //    along it follow (s_0 holds all of S, s_i all but s_{i-1}'s old subtree).
    std::int32_t inner_size = 0;
    std::int32_t child_arc = in;
    std::int32_t new_parent = v_in;
    for (const std::int32_t x : stem_) {
      const std::int32_t old_arc = pred_[static_cast<std::size_t>(x)];
      const std::int32_t old_size = succ_num_[static_cast<std::size_t>(x)];
      parent_[static_cast<std::size_t>(x)] = new_parent;
      pred_[static_cast<std::size_t>(x)] = child_arc;
      dir_[static_cast<std::size_t>(x)] = arc_[static_cast<std::size_t>(child_arc)].source == x ? kUp : kDown;
      succ_num_[static_cast<std::size_t>(x)] = size - inner_size;
      last_succ_[static_cast<std::size_t>(x)] = new_last;
      inner_size = old_size;
      new_parent = x;
      child_arc = old_arc;
    }

    // 4. S joins: its new run goes right after v_in (S is v_in's first child now).
    const std::int32_t next = thread_[static_cast<std::size_t>(v_in)];
    std::int32_t prev = v_in;
    for (const auto& [start, end] : pieces_) {
      thread_[static_cast<std::size_t>(prev)] = start;
      rev_thread_[static_cast<std::size_t>(start)] = prev;
      prev = end;
    }
    thread_[static_cast<std::size_t>(prev)] = next;
    rev_thread_[static_cast<std::size_t>(next)] = prev;
    for (std::int32_t w = v_in; w != join; w = parent_[static_cast<std::size_t>(w)]) {
      succ_num_[static_cast<std::size_t>(w)] += size;
    }
    // v_in's run, and the runs that ended where it did, now end with S (when v_in had no
    // other descendants, S follows everything it held).
    for (std::int32_t w = v_in; w >= 0 && last_succ_[static_cast<std::size_t>(w)] == v_in; w = parent_[static_cast<std::size_t>(w)]) {
      last_succ_[static_cast<std::size_t>(w)] = new_last;
    }

    // 5. Prices: S moves by sigma, which zeroes the entering arc's reduced cost. Only
    //    differences of prices matter, so when S holds most of the tree the rest moves by
    //    -sigma instead: on the allocation networks a few pivots cut off almost the whole
    //    tree (15 of 40 after a warm start on the 150k-task spread network), and cold solves
    //    there took 0.065 s instead of 0.088 s. The rest is the thread's run after S's,
    //    round to the node before u_in.
    const std::int64_t rc = reduced(in);
    const std::int64_t sigma = arc_[static_cast<std::size_t>(in)].source == u_in ? -rc : rc;
    if (sigma == 0) return;
    const std::int32_t rest = n_ + 1 - size;
    if (size <= rest) {
      shift_prices(u_in, new_last, size, sigma);
      return;
    }
    shift_prices(thread_[static_cast<std::size_t>(new_last)], rev_thread_[static_cast<std::size_t>(u_in)], rest, -sigma);
    // The root moved too. Bring it back to 0 before its price drifts far (each such shift
    // moves it by up to 2^61; every price is within 2^61 of the root's).
    if (std::abs(pi_[static_cast<std::size_t>(root_)]) > kMaxRootDrift) {
      const std::int64_t offset = pi_[static_cast<std::size_t>(root_)];
      for (std::int64_t& p : pi_) p -= offset;
    }
  }

  // Adds `delta` to the prices of the `count` nodes of the thread's run from `first` to
  // `last`. The walk is a chain of dependent loads (next node from this one), so it runs
  // from both ends at once, forwards and backwards (rev_thread_), to have two chains in
  // flight. On the 150k- and 1M-task allocation networks solves took 0.75-0.88 of the
  // time of a walk from one end, with the same pivots (bench/results/ns_speedups:
  // 6cf4311 against 195bd93).
  void shift_prices(std::int32_t first, std::int32_t last, std::int32_t count, std::int64_t delta) {
    std::int32_t front = first;
    std::int32_t back = last;
    for (std::int32_t i = count / 2; i > 0; --i) {
      pi_[static_cast<std::size_t>(front)] += delta;
      pi_[static_cast<std::size_t>(back)] += delta;
      front = thread_[static_cast<std::size_t>(front)];
      back = rev_thread_[static_cast<std::size_t>(back)];
    }
    if (count % 2 != 0) pi_[static_cast<std::size_t>(front)] += delta;
  }

  // A kept basis (see KeptSimplex's constructor) as this network's tree; false when it
  // does not describe a spanning tree of it. restart() then fits flows and prices.
  bool import_basis(const SimplexBasis& basis) {
    const std::int32_t kept_nodes = static_cast<std::int32_t>(basis.parent.size());
    if (kept_nodes > n_ || basis.tree_arc.size() != basis.parent.size() ||
        basis.artificial_up.size() != basis.parent.size()) {
      return false;
    }
    const std::vector<std::int32_t>& internal = this->internal();
    const std::int32_t kept_arcs = std::min<std::int32_t>(m_, static_cast<std::int32_t>(basis.arc_state.size()));
    std::fill(flow_.begin(), flow_.end(), 0);
    for (std::int32_t a = 0; a < m_; ++a) state_[static_cast<std::size_t>(a)] = kLower;
    for (std::int32_t id = 0; id < kept_arcs; ++id) {
      const std::size_t a = static_cast<std::size_t>(internal[static_cast<std::size_t>(id)]);
      state_[a] = basis.arc_state[static_cast<std::size_t>(id)];
      if (state_[a] == kUpper) flow_[a] = cap_[a];
    }
    // The tree, as the basis names it; new nodes hang from the root.
    for (std::int32_t v = 0; v < n_; ++v) {
      const std::size_t art = static_cast<std::size_t>(m_ + v);
      state_[art] = kLower;
      if (v >= kept_nodes || basis.tree_arc[static_cast<std::size_t>(v)] < 0) {
        parent_[static_cast<std::size_t>(v)] = root_;
        pred_[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(art);
        state_[art] = kTree;
        set_artificial(v, v < kept_nodes ? basis.artificial_up[static_cast<std::size_t>(v)] != 0
                                         : supply_[static_cast<std::size_t>(v)] >= 0);
        continue;
      }
      const std::int32_t id = basis.tree_arc[static_cast<std::size_t>(v)];
      const std::int32_t p = basis.parent[static_cast<std::size_t>(v)];
      if (id >= m_ || p < 0 || p >= n_) return false;
      const std::int32_t a = internal[static_cast<std::size_t>(id)];
      const bool up = arc_[static_cast<std::size_t>(a)].source == v && arc_[static_cast<std::size_t>(a)].target == p;
      const bool down = arc_[static_cast<std::size_t>(a)].source == p && arc_[static_cast<std::size_t>(a)].target == v;
      if (!(up || down) || state_[static_cast<std::size_t>(a)] != kTree) return false;
      parent_[static_cast<std::size_t>(v)] = p;
      pred_[static_cast<std::size_t>(v)] = a;
      dir_[static_cast<std::size_t>(v)] = up ? kUp : kDown;
    }
    std::int32_t tree_arcs = 0;
    for (std::int32_t a = 0; a < m_; ++a) tree_arcs += state_[static_cast<std::size_t>(a)] == kTree;
    for (std::int32_t v = 0; v < n_; ++v) tree_arcs -= pred_[static_cast<std::size_t>(v)] < m_;
    return tree_arcs == 0;  // else a tree arc no node names: not a basis
  }

  // Fits an imported basis's tree flows to today's bounds and supplies, and its prices to
  // today's costs, keeping the tree where it can; false when the parent pointers are not a
  // tree. Non-tree arcs sit at their bound; the tree flows follow from the supplies and
  // those bounds, leaves first (fit()). Then every price, from the root down.
  bool restart() {
    if (!build_order()) return false;
    std::copy(supply_.begin(), supply_.end(), imbalance_.begin());
    for (std::int32_t a = 0; a < m_ + n_; ++a) {
      const std::int8_t state = state_[static_cast<std::size_t>(a)];
      flow_[static_cast<std::size_t>(a)] = state == kUpper ? cap_[static_cast<std::size_t>(a)] : 0;
      if (state != kUpper) continue;
      const Arc& e = arc_[static_cast<std::size_t>(a)];
      imbalance_[static_cast<std::size_t>(e.source)] -= flow_[static_cast<std::size_t>(a)];
      imbalance_[static_cast<std::size_t>(e.target)] += flow_[static_cast<std::size_t>(a)];
    }
    bool rehung = false;
    // Reverse preorder: the thread walked backwards from the root.
    for (std::int32_t v = rev_thread_[static_cast<std::size_t>(root_)]; v != root_;
         v = rev_thread_[static_cast<std::size_t>(v)]) {
      rehung = fit(v, /*splice=*/false) == Fit::kRehung || rehung;
    }
    imbalance_[static_cast<std::size_t>(root_)] = 0;
    seeds_.clear();
    tree_cost_edited_ = false;
    if (rehung && !build_order()) return false;
    price_from_root();
    return true;
  }

  // After edits to a solved tree, fits its flows and prices again with work in proportion
  // to what the edits reach rather than to n: only the nodes the edits touched (seeds_)
  // and their ancestors can carry a changed flow, so those are fitted, deepest first. A
  // subtree that fit() re-hangs from the root is spliced to the end of the thread, and
  // only the subtrees hanging from the root whose artificial arc changed move their
  // prices (or, when one of them holds most of the tree, the rest moves the other way).
  // Only a changed cost on a tree arc moves prices inside the tree: then every price is
  // worked out again from the root.
  void refit() {
    order_touched();
    price_roots_.clear();
    for (const std::int32_t v : touched_) {
      const Fit fitted = fit(v, /*splice=*/true);
      if (fitted != Fit::kKept) price_roots_.push_back(v);
    }
    imbalance_[static_cast<std::size_t>(root_)] = 0;
    if (tree_cost_edited_) {
      tree_cost_edited_ = false;
      price_from_root();
      return;
    }
    reprice_root_children();
  }

  // touched_: the seeds and their ancestors (the root excluded), each once, deepest first
  // (ties by node id, so that the order does not depend on the edits' order).
  void order_touched() {
    const std::size_t nodes = static_cast<std::size_t>(n_) + 1;
    if (depth_.size() != nodes) depth_.assign(nodes, -1);
    touched_.clear();
    for (const std::int32_t seed : seeds_) {
      path_.clear();
      std::int32_t w = seed;
      while (w != root_ && depth_[static_cast<std::size_t>(w)] < 0) {
        path_.push_back(w);
        w = parent_[static_cast<std::size_t>(w)];
      }
      std::int32_t d = w == root_ ? 0 : depth_[static_cast<std::size_t>(w)];
      for (std::size_t i = path_.size(); i-- > 0;) {
        depth_[static_cast<std::size_t>(path_[i])] = ++d;
        touched_.push_back(path_[i]);
      }
    }
    seeds_.clear();
    std::sort(touched_.begin(), touched_.end(), [&](std::int32_t x, std::int32_t y) {
      const std::int32_t dx = depth_[static_cast<std::size_t>(x)];
      const std::int32_t dy = depth_[static_cast<std::size_t>(y)];
      return dx != dy ? dx > dy : x < y;
    });
    for (const std::int32_t v : touched_) depth_[static_cast<std::size_t>(v)] = -1;
  }

  enum class Fit : std::uint8_t { kKept, kTurned, kRehung };

  // Node v's tree arc after its subtree's balance moved by imbalance_[v] (passed on to its
  // parent): the arc carries the new flow when it can, keeping the tree strongly feasible
  // (an up arc below its capacity, a down arc above zero). Otherwise it goes to the bound
  // nearest that flow and v's subtree hangs from the root by its artificial arc carrying
  // the difference, which the pivots then drive out (kRehung; with `splice`, the subtree's
  // run moves to the end of the thread at once, else the caller rebuilds the thread). An
  // artificial arc takes the subtree's whole balance, turning round when its sign does
  // (kTurned: its cost, so the subtree's prices, changed).
  Fit fit(std::int32_t v, bool splice) {
    const std::int64_t gained = imbalance_[static_cast<std::size_t>(v)];
    imbalance_[static_cast<std::size_t>(v)] = 0;
    const std::size_t a = static_cast<std::size_t>(pred_[static_cast<std::size_t>(v)]);
    const bool up = dir_[static_cast<std::size_t>(v)] == kUp;
    const std::int64_t was_out = up ? flow_[a] : -flow_[a];  // what left the subtree by this arc
    const std::int64_t out_of_subtree = was_out + gained;
    if (a >= static_cast<std::size_t>(m_)) {  // hangs from the root
      const bool now_up = out_of_subtree >= 0;
      set_artificial(v, now_up);
      flow_[a] = now_up ? out_of_subtree : -out_of_subtree;
      return now_up == up ? Fit::kKept : Fit::kTurned;
    }
    const std::int64_t f = up ? out_of_subtree : -out_of_subtree;
    const std::int64_t cap = cap_[a];
    const bool fits = f >= 0 && f <= cap && !(up && f == cap) && !(!up && f == 0);
    const std::int32_t p = parent_[static_cast<std::size_t>(v)];
    if (fits) {
      flow_[a] = f;
      imbalance_[static_cast<std::size_t>(p)] += gained;
      return Fit::kKept;
    }
    const std::int64_t bound = std::clamp<std::int64_t>(f, 0, cap);
    flow_[a] = bound;
    state_[a] = bound == 0 ? kLower : kUpper;
    // The arc now moves `bound` between v and p; the rest leaves by the artificial arc.
    const std::int64_t now_out = up ? bound : -bound;
    imbalance_[static_cast<std::size_t>(p)] += now_out - was_out;
    const std::int64_t rest = out_of_subtree - now_out;
    if (splice) move_to_root(v);
    const std::size_t art = static_cast<std::size_t>(m_ + v);
    parent_[static_cast<std::size_t>(v)] = root_;
    pred_[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(art);
    state_[art] = kTree;
    set_artificial(v, rest >= 0);
    flow_[art] = rest >= 0 ? rest : -rest;
    return Fit::kRehung;
  }

  // Cuts v's run out of the thread and appends it at the thread's end, as the root's last
  // child: its old ancestors lose its nodes, and those whose run ended with it end just
  // before it. (The caller re-points v's parent and tree arc.)
  void move_to_root(std::int32_t v) {
    const std::int32_t size = succ_num_[static_cast<std::size_t>(v)];
    const std::int32_t last = last_succ_[static_cast<std::size_t>(v)];
    const std::int32_t before = rev_thread_[static_cast<std::size_t>(v)];
    const std::int32_t after = thread_[static_cast<std::size_t>(last)];
    thread_[static_cast<std::size_t>(before)] = after;
    rev_thread_[static_cast<std::size_t>(after)] = before;
    for (std::int32_t w = parent_[static_cast<std::size_t>(v)]; w != root_; w = parent_[static_cast<std::size_t>(w)]) {
      succ_num_[static_cast<std::size_t>(w)] -= size;
    }
    for (std::int32_t w = parent_[static_cast<std::size_t>(v)]; w >= 0 && last_succ_[static_cast<std::size_t>(w)] == last;
         w = parent_[static_cast<std::size_t>(w)]) {
      last_succ_[static_cast<std::size_t>(w)] = before;
    }
    const std::int32_t end = rev_thread_[static_cast<std::size_t>(root_)];
    thread_[static_cast<std::size_t>(end)] = v;
    rev_thread_[static_cast<std::size_t>(v)] = end;
    thread_[static_cast<std::size_t>(last)] = root_;
    rev_thread_[static_cast<std::size_t>(root_)] = last;
    last_succ_[static_cast<std::size_t>(root_)] = last;
  }

  // Prices from the root down (preorder: the thread): every tree arc's reduced cost zero.
  void price_from_root() {
    pi_[static_cast<std::size_t>(root_)] = 0;
    for (std::int32_t v = thread_[static_cast<std::size_t>(root_)]; v != root_; v = thread_[static_cast<std::size_t>(v)]) {
      const std::size_t a = static_cast<std::size_t>(pred_[static_cast<std::size_t>(v)]);
      const std::int64_t pp = pi_[static_cast<std::size_t>(parent_[static_cast<std::size_t>(v)])];
      pi_[static_cast<std::size_t>(v)] = dir_[static_cast<std::size_t>(v)] == kUp ? pp - arc_[a].cost : pp + arc_[a].cost;
    }
  }

  // The price a child of the root needs for its artificial arc's reduced cost to be zero.
  std::int64_t root_child_price(std::int32_t v) const {
    const std::size_t art = static_cast<std::size_t>(m_ + v);
    const std::int64_t root_price = pi_[static_cast<std::size_t>(root_)];
    return arc_[art].source == v ? root_price - arc_[art].cost : root_price + arc_[art].cost;
  }

  // Moves the prices of the subtrees in price_roots_ (children of the root whose artificial
  // arc is new or turned) to fit their arcs. When one of them holds more than half the
  // tree, the root moves instead, and with it every other child of the root.
  void reprice_root_children() {
    std::int32_t big = -1;
    for (const std::int32_t r : price_roots_) {
      if (2 * succ_num_[static_cast<std::size_t>(r)] > n_ + 1 && root_child_price(r) != pi_[static_cast<std::size_t>(r)]) big = r;
    }
    if (big < 0) {
      for (const std::int32_t r : price_roots_) {
        const std::int64_t delta = root_child_price(r) - pi_[static_cast<std::size_t>(r)];
        if (delta != 0) shift_prices(r, last_succ_[static_cast<std::size_t>(r)], succ_num_[static_cast<std::size_t>(r)], delta);
      }
      return;
    }
    pi_[static_cast<std::size_t>(root_)] -= root_child_price(big) - pi_[static_cast<std::size_t>(big)];
    for (std::int32_t c = thread_[static_cast<std::size_t>(root_)]; c != root_;
         c = thread_[static_cast<std::size_t>(last_succ_[static_cast<std::size_t>(c)])]) {
      const std::int64_t delta = root_child_price(c) - pi_[static_cast<std::size_t>(c)];
      if (delta != 0) shift_prices(c, last_succ_[static_cast<std::size_t>(c)], succ_num_[static_cast<std::size_t>(c)], delta);
    }
    if (std::abs(pi_[static_cast<std::size_t>(root_)]) > kMaxRootDrift) {
      const std::int64_t offset = pi_[static_cast<std::size_t>(root_)];
      for (std::int64_t& p : pi_) p -= offset;
    }
  }

  // Node v's artificial arc, pointing to the root (cost 0) or from it (the artificial cost).
  void set_artificial(std::int32_t v, bool up) {
    const std::size_t art = static_cast<std::size_t>(m_ + v);
    arc_[art].source = up ? v : root_;
    arc_[art].target = up ? root_ : v;
    arc_[art].cost = up ? 0 : artificial_cost_;
    if (pred_[static_cast<std::size_t>(v)] == static_cast<std::int32_t>(art)) dir_[static_cast<std::size_t>(v)] = up ? kUp : kDown;
  }

  // Preorder, thread, subtree sizes and run ends from the parent pointers; false unless
  // every node is reached from the root (the parents form a tree).
  bool build_order() {
    const std::size_t nodes = static_cast<std::size_t>(n_) + 1;
    std::vector<std::int32_t> first_child(nodes, -1), next_sibling(nodes, -1);
    for (std::int32_t v = n_ - 1; v >= 0; --v) {
      const std::int32_t p = parent_[static_cast<std::size_t>(v)];
      next_sibling[static_cast<std::size_t>(v)] = first_child[static_cast<std::size_t>(p)];
      first_child[static_cast<std::size_t>(p)] = v;
    }
    order_.clear();
    std::vector<std::int32_t> stack{root_};
    while (!stack.empty()) {
      const std::int32_t v = stack.back();
      stack.pop_back();
      order_.push_back(v);
      if (order_.size() > nodes) return false;
      for (std::int32_t c = first_child[static_cast<std::size_t>(v)]; c >= 0; c = next_sibling[static_cast<std::size_t>(c)]) {
        stack.push_back(c);
      }
    }
    if (order_.size() != nodes) return false;
    for (std::size_t i = 0; i < nodes; ++i) {
      const std::int32_t v = order_[i];
      const std::int32_t next = order_[(i + 1) % nodes];
      thread_[static_cast<std::size_t>(v)] = next;
      rev_thread_[static_cast<std::size_t>(next)] = v;
      succ_num_[static_cast<std::size_t>(v)] = 1;
    }
    for (std::size_t i = nodes; i-- > 1;) {
      const std::int32_t v = order_[i];
      succ_num_[static_cast<std::size_t>(parent_[static_cast<std::size_t>(v)])] += succ_num_[static_cast<std::size_t>(v)];
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      const std::int32_t v = order_[i];
      last_succ_[static_cast<std::size_t>(v)] = order_[i + static_cast<std::size_t>(succ_num_[static_cast<std::size_t>(v)]) - 1];
    }
    return true;
  }

  // Network arc id -> internal arc, built when first needed (warm starts and edits).
  const std::vector<std::int32_t>& internal() const {
    if (internal_.size() != static_cast<std::size_t>(m_)) {
      internal_.resize(static_cast<std::size_t>(m_));
      for (std::int32_t a = 0; a < m_; ++a) internal_[static_cast<std::size_t>(arc_of_[static_cast<std::size_t>(a)])] = a;
    }
    return internal_;
  }

  std::int32_t n_;
  std::int32_t m_;
  std::int32_t root_;
  double block_factor_;
  std::string overflow_;  // why the costs are out of range, if they are
  std::int64_t artificial_cost_ = 0;
  std::int64_t max_abs_cost_ = 0;
  std::vector<std::int64_t> supply_;  // per node, after lower bounds (the graph's excess)
  std::int32_t next_arc_ = 0;
  bool warm_ = false;             // the basis came from an earlier solve
  bool restart_pending_ = false;  // edits since the last run: fit flows and prices first
  std::vector<std::int64_t> imbalance_;  // per node and root: what edits did to its balance
  std::vector<std::int32_t> order_;  // preorder from the root (warm start)
  // What edits touched since the last run (refit()): nodes whose balance moved or whose
  // tree arc changed; whether a tree arc's cost changed.
  std::vector<std::int32_t> seeds_;
  bool tree_cost_edited_ = false;
  // Scratch for refit(): the seeds and their ancestors, each one's depth while ordering
  // them (-1 otherwise), one path, and the children of the root whose prices must move.
  std::vector<std::int32_t> touched_, depth_, path_, price_roots_;

  std::vector<std::int32_t> arc_of_;  // internal arc -> network arc
  mutable std::vector<std::int32_t> internal_;  // network arc -> internal arc (internal())
  // Per arc: its ends and cost side by side (pricing reads the three together), its
  // bound and flow.
  struct Arc {
    std::int32_t source;
    std::int32_t target;
    std::int64_t cost;
  };
  std::vector<Arc> arc_;
  std::vector<std::int64_t> cap_, flow_;
  std::vector<std::int8_t> state_;
  // The basis tree: parent and tree arc of each node, the preorder thread (and its reverse),
  // each subtree's size and the last node of its run in the thread.
  std::vector<std::int32_t> parent_, pred_, thread_, rev_thread_, succ_num_, last_succ_;
  std::vector<std::int8_t> dir_;
  std::vector<std::int64_t> pi_;
  // Scratch for rehang(): the stem, and the runs of the old thread S's new run is made of.
  std::vector<std::int32_t> stem_;
  std::vector<std::pair<std::int32_t, std::int32_t>> pieces_;
};

KeptSimplex::KeptSimplex(const Network& network, std::int64_t infinite_bound, double block_factor,
                         const SimplexBasis* start)
    : impl_(std::make_unique<NetworkSimplex>(network, infinite_bound, block_factor)) {
  if (start != nullptr && impl_->overflow().empty()) impl_->start_from(*start);
}
KeptSimplex::~KeptSimplex() = default;

EngineOutcome KeptSimplex::solve(const std::atomic<bool>* cancel, bool progress, SolverStats& stats) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t before = stats.pivots;
  EngineOutcome out = impl_->run(cancel, stats);
  out.warm_start = impl_->warm();
  if (progress) {
    std::fprintf(stderr, "[network-simplex] %s%lld pivots, %.3f s\n", out.warm_start ? "warm start, " : "",
                 static_cast<long long>(stats.pivots - before),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return out;
}

void KeptSimplex::set_arc(std::int32_t arc, std::int64_t span, std::int64_t cost) { impl_->set_arc(arc, span, cost); }
void KeptSimplex::add_supply(std::int32_t node, std::int64_t delta) { impl_->add_supply(node, delta); }
void KeptSimplex::add_flows(std::vector<std::int64_t>& flow) const { impl_->add_flows(flow); }
std::int64_t KeptSimplex::artificial_cost() const { return impl_->artificial_cost(); }
std::int32_t KeptSimplex::nodes() const { return impl_->nodes(); }
std::int32_t KeptSimplex::arcs() const { return impl_->arcs(); }
void KeptSimplex::save(SimplexBasis& basis) const { impl_->save(basis); }

}  // namespace sluice::detail
